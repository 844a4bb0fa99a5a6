/**
 * The scheduler's submitted calls (client.submit), as dask keeps them: a call waits for the calls its
 * arguments are the values of, is handed to a worker with a free call thread (preferably one keeping
 * those values), and its value stays on that worker; the client gets it only when it asks
 * (`future.result()`), and a call that takes it as an argument fetches it from that worker directly.
 *
 * Lineage: the scheduler keeps every call's function and arguments while its value is wanted (a future
 * refers to it, or a call still to run takes it). A worker that dies loses the values it kept: those
 * still wanted are computed again (and the calls they came from, recursively, as tasks are in
 * recovery.ts); a call running on a worker that dies goes back to the queue, and one that was running on
 * ALLOWED_FAILURES workers that died fails with KILLED_WORKER. A suspected call runs alone on a worker.
 * Values no longer wanted are dropped on their worker.
 */
import { ClusterError } from "../errors.js";
import { ALLOWED_FAILURES } from "./cluster-run.js";

/** waiting for arguments' values; queued for a worker; running; done (its value kept on `worker`); dropped (value gone, lineage kept); failed */
export type CallState = "waiting" | "queued" | "running" | "done" | "dropped" | "failed";

export interface CallTask {
  id: number;
  fn: string;
  args: Uint8Array;
  /** arguments that are other calls' values: position and call */
  deps: { arg: number; call: number }[];
  state: CallState;
  /** the worker running it, or keeping its value once done (0: none) */
  worker: number;
  /** bytes of its value (serialized), once done */
  bytes: number;
  suspicious: number;
  /** a client future refers to it */
  wanted: boolean;
  /** calls not done yet that take its value */
  dependents: Set<number>;
  /** calls kept (for their lineage) that take its value: it is kept as long as they are */
  users: number;
  /** it finished once (its future settled): later runs are recomputations */
  answered: boolean;
  onDone(bytes: number): void;
  onError(e: Error): void;
  /** the client asked for its value and waits (it is sent once the call is done, on a worker) */
  valueWanted: boolean;
}

export class CallQueue {
  private readonly calls = new Map<number, CallTask>();
  private queue: number[] = [];
  private nextId = 1;

  /** Calls waiting for a worker. */
  get waiting(): number {
    return this.queue.length;
  }

  get(id: number): CallTask | undefined {
    return this.calls.get(id);
  }

  /** Calls whose values `worker` keeps (their count, and bytes) for the dashboard and tests. */
  kept(worker?: number): { calls: number; bytes: number } {
    let calls = 0;
    let bytes = 0;
    for (const c of this.calls.values()) {
      if (c.state !== "done" || (worker !== undefined && c.worker !== worker)) continue;
      calls++;
      bytes += c.bytes;
    }
    return { calls, bytes };
  }

  add(fn: string, args: Uint8Array, deps: { arg: number; call: number }[], onDone: (bytes: number) => void, onError: (e: Error) => void): CallTask {
    const c: CallTask = {
      id: this.nextId++, fn, args, deps, state: "waiting", worker: 0, bytes: 0, suspicious: 0, wanted: true,
      dependents: new Set(), users: 0, answered: false, onDone, onError, valueWanted: false,
    };
    for (const d of deps) {
      const dep = this.calls.get(d.call);
      if (!dep || dep.state === "failed") {
        c.state = "failed";
        queueMicrotask(() => onError(new ClusterError("RELEASED", `argument ${d.arg} is the value of a call that ${dep ? "failed" : "was released"}`)));
        return c;
      }
    }
    for (const d of deps) {
      const dep = this.calls.get(d.call)!;
      dep.dependents.add(c.id);
      dep.users++;
    }
    this.calls.set(c.id, c);
    this.ready(c);
    return c;
  }

  /**
   * A waiting call whose arguments' values are all kept somewhere goes to the queue; arguments whose
   * values were dropped (or lost) are computed again first.
   */
  private ready(c: CallTask): void {
    if (c.state !== "waiting") return;
    let all = true;
    for (const d of c.deps) {
      const dep = this.calls.get(d.call)!;
      if (dep.state === "done") continue;
      all = false;
      dep.dependents.add(c.id);
      if (dep.state === "dropped") {
        dep.state = "waiting";
        this.ready(dep);
      }
    }
    if (all) {
      c.state = "queued";
      this.queue.push(c.id);
    }
  }

  /** Where each value-argument of call c is kept. */
  holders(c: CallTask): { arg: number; call: number; from: number }[] {
    return c.deps.map((d) => ({ ...d, from: this.calls.get(d.call)!.worker }));
  }

  /**
   * The next call for worker w (`idle`: it runs nothing; a suspected call runs only on an idle worker),
   * now running there: among the first queued, one whose arguments w keeps, else the first.
   */
  next(w: number, idle: boolean): CallTask | null {
    let pick = -1;
    for (let q = 0; q < this.queue.length && q < 64; q++) {
      const c = this.calls.get(this.queue[q]!);
      if (!c || c.state !== "queued") {
        this.queue.splice(q--, 1);
        continue;
      }
      if (c.suspicious > 0 && !idle) continue;
      if (pick < 0) pick = q;
      if (c.deps.length && c.deps.some((d) => this.calls.get(d.call)?.worker === w)) {
        pick = q;
        break;
      }
    }
    if (pick < 0) return null;
    const c = this.calls.get(this.queue.splice(pick, 1)[0]!)!;
    c.state = "running";
    c.worker = w;
    return c;
  }

  /** Worker w finished call `id` and keeps its value: the call, if it still is w's (it may have been cancelled meanwhile). */
  done(id: number, w: number, bytes: number): CallTask | null {
    const c = this.calls.get(id);
    if (!c || c.state !== "running" || c.worker !== w) return null;
    c.state = "done";
    c.bytes = bytes;
    for (const d of c.deps) this.noLongerNeededBy(d.call, c.id);
    // a value no one wants any more (its future was released while it ran) is dropped at once
    this.dropIfUnwanted(c);
    for (const id2 of c.dependents) {
      const dep = this.calls.get(id2);
      if (dep) this.ready(dep);
    }
    return c;
  }

  /** Call `id` failed on worker w (its function threw): it and every call waiting for its value fail. */
  failed(id: number, w: number, e: Error): CallTask | null {
    const c = this.calls.get(id);
    if (!c || c.state !== "running" || c.worker !== w) return null;
    this.fail(c, e);
    return c;
  }

  /** Call `id` could not get an argument's value on worker w: it waits (see requeue) while the holder's loss is noticed. */
  retry(id: number, w: number): CallTask | null {
    const c = this.calls.get(id);
    if (!c || c.state !== "running" || c.worker !== w) return null;
    c.state = "waiting";
    c.worker = 0;
    return c;
  }

  /** A waiting call goes to the queue once its arguments' values are kept somewhere (computed again if lost). */
  requeue(id: number): void {
    const c = this.calls.get(id);
    if (c) this.ready(c);
  }

  private fail(c: CallTask, e: Error): void {
    c.state = "failed";
    c.worker = 0;
    for (const d of c.deps) this.noLongerNeededBy(d.call, c.id);
    c.onError(e);
    for (const id of c.dependents) {
      const dep = this.calls.get(id);
      if (dep && dep.state !== "done" && dep.state !== "failed") this.fail(dep, new ClusterError(e instanceof ClusterError ? e.code : "TASK_FAILED", `an argument of call ${dep.id} failed: ${e.message}`));
    }
    c.dependents.clear();
    this.forget(c);
  }

  private drops: [number, number][] = [];

  /** Call `dependent` no longer waits for call `id`'s value: the value is dropped if nothing else wants it. */
  private noLongerNeededBy(id: number, dependent: number): void {
    const c = this.calls.get(id);
    if (!c) return;
    c.dependents.delete(dependent);
    this.dropIfUnwanted(c);
  }

  /** A value no future wants and no call waits for is dropped on its worker (its lineage stays while calls kept use it). */
  private dropIfUnwanted(c: CallTask): void {
    if (c.wanted || c.dependents.size > 0 || c.state !== "done") return;
    if (c.worker > 0) this.drops.push([c.worker, c.id]);
    c.worker = 0;
    c.state = "dropped";
    this.forget(c);
  }

  /** Forgets a call nothing wants, whose lineage no kept call needs; then, perhaps, its arguments' calls. */
  private forget(c: CallTask): void {
    if (c.wanted || c.users > 0 || c.dependents.size > 0 || (c.state !== "dropped" && c.state !== "failed")) return;
    if (!this.calls.delete(c.id)) return;
    for (const d of c.deps) {
      const dep = this.calls.get(d.call);
      if (!dep) continue;
      dep.users--;
      this.forget(dep);
    }
  }

  /** The values to drop since the last call, per worker (the scheduler sends dropValues). */
  takeDrops(): Map<number, number[]> {
    const by = new Map<number, number[]>();
    for (const [w, id] of this.drops) {
      let list = by.get(w);
      if (!list) by.set(w, (list = []));
      list.push(id);
    }
    this.drops = [];
    return by;
  }

  /** No future refers to call `id` any more (released, or its client closed): its value is dropped once nothing waits for it. */
  release(id: number): void {
    const c = this.calls.get(id);
    if (!c) return;
    c.wanted = false;
    c.valueWanted = false;
    this.dropIfUnwanted(c);
    this.forget(c);
  }

  /** Cancels a call that has not finished: it is forgotten (a worker running it runs it to its end, unheard); returns it. */
  cancel(id: number): CallTask | null {
    const c = this.calls.get(id);
    if (!c || c.state === "done" || c.state === "dropped" || c.state === "failed") return null;
    const worker = c.state === "running" ? c.worker : 0;
    c.wanted = false;
    this.fail(c, new ClusterError("CANCELLED", "the call was cancelled"));
    return { ...c, worker };
  }

  /**
   * Worker w is lost (`what`: which, and how): its running calls go back to the queue (or fail after
   * ALLOWED_FAILURES); the values it kept that are still wanted are computed again.
   */
  lost(w: number, what: string): number {
    const again: CallTask[] = [];
    for (const c of [...this.calls.values()]) {
      if (c.worker !== w || (c.state !== "running" && c.state !== "done")) continue;
      const running = c.state === "running";
      c.worker = 0;
      c.state = "dropped";
      if (running && ++c.suspicious >= ALLOWED_FAILURES) {
        this.fail(c, new ClusterError("KILLED_WORKER", `call ${c.id} was running on ${ALLOWED_FAILURES} workers that died (the last: ${what}): it is taken to kill its worker (dask's allowed-failures)`));
        continue;
      }
      // computed again if a future wants its value or a call waits for it; else its lineage alone stays
      if (running || c.wanted || c.dependents.size > 0) again.push(c);
      else this.forget(c);
    }
    // calls queued whose arguments were lost wait for them again
    for (const c of this.calls.values()) {
      if (c.state === "queued" && c.deps.some((d) => this.calls.get(d.call)?.state !== "done")) c.state = "waiting";
    }
    this.queue = this.queue.filter((id) => this.calls.get(id)?.state === "queued");
    for (const c of again) {
      if (c.state !== "dropped") continue;
      c.state = "waiting";
      this.ready(c);
    }
    for (const c of this.calls.values()) if (c.state === "waiting") this.ready(c);
    return again.filter((c) => c.answered).length;
  }

  /** Fails every call (the cluster closes). */
  failAll(e: Error): void {
    const all = [...this.calls.values()];
    this.calls.clear();
    this.queue = [];
    for (const c of all) if (c.state !== "done" && c.state !== "dropped" && c.state !== "failed" && !c.answered) c.onError(e);
  }
}
