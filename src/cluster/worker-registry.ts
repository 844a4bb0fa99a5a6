/**
 * The scheduler's live workers: by id, with join and leave events for whoever watches (clusters,
 * adaptive scaling, tests) and waits for a number of them (`waitForWorkers`), which a closing scheduler
 * ends with CLUSTER_CLOSED. Map-like, so the scheduler reads it as the map it is.
 */
import { ClusterError } from "../errors.js";

/** A live worker, as `cluster.workers` lists it. */
export interface WorkerInfo {
  id: number;
  name: string;
  host: string;
  pid: number;
  threads: number;
  /** kernel memory limit, bytes */
  memory: number;
}

export type WorkerEvent = (event: "join" | "leave", w: WorkerInfo, why?: string) => void;

export class WorkerRegistry<W extends { id: number; info: WorkerInfo }> {
  private readonly byId = new Map<number, W>();
  private readonly listeners = new Set<WorkerEvent>();
  private readonly waiters = new Set<() => void>();

  get size(): number {
    return this.byId.size;
  }
  get(id: number): W | undefined {
    return this.byId.get(id);
  }
  has(id: number): boolean {
    return this.byId.has(id);
  }
  values(): IterableIterator<W> {
    return this.byId.values();
  }
  /** The live workers' descriptions (copies). */
  list(): WorkerInfo[] {
    return [...this.byId.values()].map((w) => ({ ...w.info }));
  }

  /** A worker joined: it is in, and watchers hear of it. */
  join(w: W): void {
    this.byId.set(w.id, w);
    this.emit("join", w.info);
  }

  /** A worker left: false if it was not in; watchers hear of it unless `quiet` (the scheduler is closing). */
  leave(w: W, why: string, quiet = false): boolean {
    if (!this.byId.delete(w.id)) return false;
    if (!quiet) this.emit("leave", w.info, why);
    return true;
  }

  /** Calls `cb("join" | "leave", worker, why)` as workers come and go; returns an unsubscribe function. */
  watch(cb: WorkerEvent): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private emit(event: "join" | "leave", w: WorkerInfo, why?: string): void {
    for (const cb of [...this.listeners]) cb(event, w, why);
  }

  /** Resolves once at least `n` workers are in (rejects with TIMEOUT after `timeoutMs`, or CLUSTER_CLOSED at close()). */
  waitFor(n: number, timeoutMs: number, address: string): Promise<void> {
    if (this.byId.size >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new ClusterError("TIMEOUT", `${this.byId.size} of ${n} workers joined the scheduler at ${address} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const closed = () => {
        clearTimeout(timer);
        off();
        reject(new ClusterError("CLUSTER_CLOSED", "the cluster closed while waiting for workers"));
      };
      this.waiters.add(closed);
      const stop = this.watch(() => {
        if (this.byId.size < n) return;
        clearTimeout(timer);
        off();
        resolve();
      });
      const off = () => {
        stop();
        this.waiters.delete(closed);
      };
    });
  }

  /** The scheduler closes: waits end with CLUSTER_CLOSED, every worker is out. */
  close(): void {
    for (const cb of [...this.waiters]) cb();
    this.byId.clear();
  }
}
