/**
 * The scheduler's side of submitted calls (client.submit): handing queued calls to workers with a free
 * call thread (with where each value-argument is kept), their answers, the values the client asks for,
 * and the values to drop. The calls' queue and lineage are call-queue.ts; the workers keep the values
 * (worker-values.ts).
 */
import { ClusterError } from "../errors.js";
import { CallQueue } from "./call-queue.js";
import { FETCH_RETRY_MS } from "./fetch-failures.js";
import type { Parts, ToSchedulerMsg, ToWorkerMsg } from "./messages.js";
import type { WorkerConn } from "./worker-conn.js";
import type { WorkerRegistry } from "./worker-registry.js";

/** What the calls need of the scheduler. */
export interface CallsHost {
  workers: WorkerRegistry<WorkerConn>;
  toWorker(w: WorkerConn, msg: ToWorkerMsg, payload?: Uint8Array): void;
  settle(): void;
  lost(w: WorkerConn, why: string): void;
  fetchFailed(w: WorkerConn, from: number, message: string): void;
  parts: Parts;
  stats: { valueBytesToScheduler: number };
  log(line: string): void;
}

type CallMsg = Extract<ToSchedulerMsg, { kind: "callDone" | "callFailed" | "value" }>;

export class SchedulerCalls {
  private readonly calls = new CallQueue();
  /** the client's requests for call values, answered by the worker keeping each */
  private readonly valueWaiters = new Map<number, { resolve: (v: Uint8Array) => void; reject: (e: Error) => void }[]>();

  constructor(private readonly host: CallsHost) {}

  /** Calls waiting for a worker. */
  get waiting(): number {
    return this.calls.waiting;
  }

  submit(fn: string, args: Uint8Array, deps: { arg: number; call: number }[], onDone: (bytes: number) => void, onError: (e: Error) => void): { id: number; cancel(): void } {
    const id = this.calls.add(fn, args, deps, onDone, onError).id;
    this.host.settle();
    return {
      id,
      cancel: () => {
        const c = this.calls.cancel(id);
        const w = c?.worker ? this.host.workers.get(c.worker) : undefined;
        // it runs to its end there, unheard: its thread is counted free again
        if (w) this.ended(w);
        this.host.settle();
      },
    };
  }

  value(id: number): Promise<Uint8Array> {
    const c = this.calls.get(id);
    if (!c || c.state === "failed") return Promise.reject(new ClusterError("RELEASED", `the value of call ${id} was released`));
    return new Promise((resolve, reject) => {
      let list = this.valueWaiters.get(id);
      if (!list) this.valueWaiters.set(id, (list = []));
      list.push({ resolve, reject });
      if (c.valueWanted) return;
      c.valueWanted = true;
      if (c.state === "done") this.host.toWorker(this.host.workers.get(c.worker)!, { kind: "sendValue", call: id });
      else this.host.settle(); // a dropped value is computed again
    });
  }

  release(id: number): void {
    this.calls.release(id);
    this.host.settle();
  }

  kept(worker?: number): { calls: number; bytes: number } {
    return this.calls.kept(worker);
  }

  /** Worker w is lost: its calls run again elsewhere, its values are computed again if wanted; how many were. */
  lost(w: number, what: string): number {
    return this.calls.lost(w, what);
  }

  private ended(w: WorkerConn): void {
    w.inflight--;
    w.calls--;
    w.exclusive = false;
  }

  /** Hands worker w (with room) a call, with where its value-arguments are kept; false: none for it. */
  assign(w: WorkerConn): boolean {
    if (w.calls >= w.threads) return false;
    const c = this.calls.next(w.id, w.inflight === 0);
    if (!c) return false;
    w.inflight++;
    w.calls++;
    if (c.suspicious > 0) w.exclusive = true;
    const deps = this.calls.holders(c).map((d) => {
      const h = this.host.workers.get(d.from)!;
      return { arg: d.arg, call: d.call, from: d.from, host: h.listenHost, port: h.listenPort };
    });
    this.host.toWorker(w, { kind: "call", call: c.id, fn: c.fn, ...(deps.length ? { deps } : {}) }, c.args);
    return true;
  }

  /** Tells each worker the values it may drop. */
  sendDrops(): void {
    for (const [wid, calls] of this.calls.takeDrops()) {
      const w = this.host.workers.get(wid);
      if (w) this.host.toWorker(w, { kind: "dropValues", calls });
    }
  }

  onMessage(w: WorkerConn, m: CallMsg, payload: Uint8Array): void {
    switch (m.kind) {
      case "callDone": {
        const c = this.calls.done(m.call, w.id, m.bytes);
        if (!c) return;
        this.ended(w);
        if (!c.answered) {
          c.answered = true;
          c.onDone(m.bytes);
          // the future is settled: the record keeps no reference to it (so that it can be garbage, and released)
          c.onDone = c.onError = () => {};
        }
        if (c.valueWanted && c.state === "done") this.host.toWorker(w, { kind: "sendValue", call: c.id });
        return;
      }
      case "callFailed": {
        if (m.from !== undefined) {
          // an argument's value could not be fetched: the call waits, and runs again once the holder's loss is noticed
          const c = this.calls.retry(m.call, w.id);
          if (!c) return;
          this.ended(w);
          if (m.from > 0) this.host.fetchFailed(w, m.from, m.message);
          const again = () => {
            this.calls.requeue(c.id);
            this.host.settle();
          };
          if (this.host.workers.has(m.from)) setTimeout(again, FETCH_RETRY_MS).unref();
          else again();
          return;
        }
        const err = new ClusterError(m.code === "TASK_FAILED" ? "TASK_FAILED" : (m.code as ClusterError["code"]), `the submitted function failed on worker ${w.id}: ${m.message}`);
        if (m.stack) err.stack = `${err.name}: ${err.message}\n--- on worker ${w.id} ---\n${m.stack}`;
        if (this.calls.failed(m.call, w.id, err)) this.ended(w);
        return;
      }
      case "value": {
        if (m.missing) {
          this.host.log(`tessera scheduler: internal error: worker ${w.id} does not keep the value of call ${m.call}; it is dropped and its values computed again`);
          w.link.terminate();
          this.host.lost(w, "it did not keep a value it was asked for");
          return;
        }
        const whole = this.host.parts.add(`v:${m.call}`, m.offset, m.total, payload);
        if (!whole) return;
        const c = this.calls.get(m.call);
        if (c) c.valueWanted = false;
        const waiters = this.valueWaiters.get(m.call);
        this.valueWaiters.delete(m.call);
        this.host.stats.valueBytesToScheduler += whole.length;
        const bytes = whole.slice();
        for (const x of waiters ?? []) x.resolve(bytes);
        return;
      }
    }
  }

  /** The cluster closes: every call and value request still open fails with CLUSTER_CLOSED. */
  close(): void {
    this.calls.failAll(new ClusterError("CLUSTER_CLOSED", "the cluster closed before the call finished"));
    for (const list of this.valueWaiters.values()) for (const x of list) x.reject(new ClusterError("CLUSTER_CLOSED", "the cluster closed before the value came"));
    this.valueWaiters.clear();
  }
}
