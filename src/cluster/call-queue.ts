/**
 * The scheduler's submitted calls (client.submit): queued in order, handed to workers with a free call
 * thread, answered once. A call running on a worker that dies goes back to the front of the queue and
 * counts the death against it: one that was running on ALLOWED_FAILURES workers that died fails with
 * KILLED_WORKER (as tasks do, recovery.ts), and a suspected call runs alone on a worker.
 */
import { ClusterError } from "../errors.js";
import { ALLOWED_FAILURES } from "./cluster-run.js";

export interface CallTask {
  id: number;
  fn: string;
  args: Uint8Array;
  /** the worker running it (0: queued) */
  worker: number;
  suspicious: number;
  onDone(value: Uint8Array): void;
  onError(e: Error): void;
}

export class CallQueue {
  private readonly calls = new Map<number, CallTask>();
  private queue: number[] = [];
  private nextId = 1;

  /** Calls waiting for a worker. */
  get waiting(): number {
    return this.queue.length;
  }

  add(fn: string, args: Uint8Array, onDone: (value: Uint8Array) => void, onError: (e: Error) => void): CallTask {
    const c: CallTask = { id: this.nextId++, fn, args, worker: 0, suspicious: 0, onDone, onError };
    this.calls.set(c.id, c);
    this.queue.push(c.id);
    return c;
  }

  /** The next call for worker w (`idle`: it runs nothing; a suspected call runs only on an idle worker), now running there. */
  next(w: number, idle: boolean): CallTask | null {
    for (let q = 0; q < this.queue.length; q++) {
      const c = this.calls.get(this.queue[q]!);
      if (!c) {
        this.queue.splice(q--, 1);
        continue;
      }
      if (c.suspicious > 0 && !idle) continue;
      this.queue.splice(q, 1);
      c.worker = w;
      return c;
    }
    return null;
  }

  /** Worker w answered call `id`: the call, if it still is w's (it may have been cancelled meanwhile). */
  answered(id: number, w: number): CallTask | null {
    const c = this.calls.get(id);
    if (!c || c.worker !== w) return null;
    this.calls.delete(id);
    return c;
  }

  /** Cancels a call: it is forgotten (a worker running it runs it to its end, unheard); returns it. */
  cancel(id: number): CallTask | null {
    const c = this.calls.get(id);
    if (!c) return null;
    this.calls.delete(id);
    c.onError(new ClusterError("CANCELLED", "the call was cancelled"));
    return c;
  }

  /** Worker w is lost (`what`: which, and how): its calls go back to the queue, or fail after ALLOWED_FAILURES. */
  lost(w: number, what: string): void {
    for (const c of [...this.calls.values()]) {
      if (c.worker !== w) continue;
      c.worker = 0;
      if (++c.suspicious >= ALLOWED_FAILURES) {
        this.calls.delete(c.id);
        c.onError(new ClusterError("KILLED_WORKER", `call ${c.id} was running on ${ALLOWED_FAILURES} workers that died (the last: ${what}): it is taken to kill its worker (dask's allowed-failures)`));
      } else this.queue.unshift(c.id);
    }
  }

  /** Fails every call (the cluster closes). */
  failAll(e: Error): void {
    const all = [...this.calls.values()];
    this.calls.clear();
    this.queue = [];
    for (const c of all) c.onError(e);
  }
}
