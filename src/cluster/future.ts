/**
 * Futures (dask's distributed.Future): the result of work given to a cluster, with a status,
 *
 *   pending    the work is queued or running (or waits for a worker to join)
 *   finished   the value is here: result() resolves to it
 *   error      the work failed (a user function threw, a task killed its workers): result() rejects with it
 *   cancelled  cancel() was called, or the client closed first
 *   lost       the cluster closed (or its scheduler stopped) before the work was done
 *
 * and wait() / asCompleted() over several of them. A Future is made by a Client. A compute's value comes
 * to the client's process when it is done; a submitted call's value stays on the worker that computed it
 * (as in dask) and comes here on the first result() (then it is kept here too).
 */
import { ClusterError, TesseraError, invalid, show } from "../errors.js";

export type FutureStatus = "pending" | "finished" | "error" | "cancelled" | "lost";

export class Future<T = unknown> {
  #status: FutureStatus = "pending";
  #value: T | undefined;
  #error: Error | null = null;
  /** where a finished future's value is (a worker keeps it): fetched on the first result() */
  #fetch: (() => Promise<T>) | null = null;
  #fetching: Promise<T> | null = null;
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => {};
  readonly #cancel: () => void;
  /** a name for messages: "compute-3:0", "submit-5" */
  readonly key: string;

  /** @internal futures come from a Client */
  constructor(key: string, cancel: () => void) {
    this.key = key;
    this.#cancel = cancel;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  get status(): FutureStatus {
    return this.#status;
  }

  /** True once the future is not pending any more. */
  done(): boolean {
    return this.#status !== "pending";
  }

  /** Settles (never rejects) when the future is no longer pending. */
  settled(): Promise<void> {
    return this.#done;
  }

  /**
   * The value, once finished; rejects with the error (status error), CANCELLED, or WORKER_LOST / CLUSTER_CLOSED
   * (status lost). With `timeout` (ms): rejects with TIMEOUT if the future is still pending by then (it stays pending).
   */
  async result(opts: { timeout?: number } = {}): Promise<T> {
    if (opts.timeout !== undefined) {
      if (typeof opts.timeout !== "number" || !(opts.timeout >= 0)) throw invalid("INVALID_ARGUMENT", `timeout ${show(opts.timeout)} must be a number of milliseconds >= 0`);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), opts.timeout)));
      const got = await Promise.race([this.#done, late]);
      clearTimeout(timer);
      if (got === "late") throw new ClusterError("TIMEOUT", `${this.key} was still ${this.#status} after ${opts.timeout} ms`);
    } else await this.#done;
    if (this.#status === "finished") {
      if (!this.#fetch) return this.#value as T;
      this.#fetching ??= this.#fetch().then((v) => {
        this.#value = v;
        this.#fetch = null;
        return v;
      });
      // a failed fetch (the cluster closed) may be tried again
      this.#fetching.catch(() => (this.#fetching = null));
      return this.#fetching;
    }
    throw this.#error!;
  }

  /** The error of a future in status error, cancelled or lost (null otherwise). */
  exception(): Error | null {
    return this.#error;
  }

  /** Cancels the work if it is still pending (a finished future keeps its value). */
  cancel(): void {
    if (this.#status !== "pending") return;
    this.settle("cancelled", undefined, new ClusterError("CANCELLED", `${this.key} was cancelled`));
    this.#cancel();
  }

  /** @internal cancels the work with another reason than cancel() (the client closed) */
  abort(e: Error): void {
    if (this.#status !== "pending") return;
    this.fail(e);
    this.#cancel();
  }

  /** @internal the Client settles it (once: later calls are ignored) */
  settle(status: Exclude<FutureStatus, "pending">, value: T | undefined, error: Error | null = null): void {
    if (this.#status !== "pending") return;
    this.#status = status;
    this.#value = value;
    this.#error = error;
    this.#resolveDone();
  }

  /** @internal finished, its value kept elsewhere: `fetch` brings it on the first result() */
  settleRemote(fetch: () => Promise<T>): void {
    if (this.#status !== "pending") return;
    this.#fetch = fetch;
    this.settle("finished", undefined);
  }

  /** @internal settles from a failure: lost for a closed cluster, cancelled for a cancel, error otherwise */
  fail(e: Error): void {
    const code = e instanceof TesseraError ? e.code : "";
    this.settle(code === "CLUSTER_CLOSED" || code === "WORKER_LOST" ? "lost" : code === "CANCELLED" || code === "CLIENT_CLOSED" ? "cancelled" : "error", undefined, e);
  }

  toString(): string {
    return `Future<${this.key}: ${this.#status}>`;
  }
}

export type ReturnWhen = "ALL_COMPLETED" | "FIRST_COMPLETED" | "FIRST_EXCEPTION";

function checkFutures(futures: unknown, what: string): Future[] {
  const list = futures instanceof Future ? [futures] : futures;
  if (!Array.isArray(list) || list.some((f) => !(f instanceof Future))) throw invalid("INVALID_ARGUMENT", `${what} takes a Future or an array of Futures, got ${show(futures)}`);
  return list as Future[];
}

/**
 * Waits until all the futures are done (returnWhen "ALL_COMPLETED", the default), any one is
 * ("FIRST_COMPLETED"), or any one fails or all are done ("FIRST_EXCEPTION"): `{ done, notDone }`. With
 * `timeout` (ms), rejects with TIMEOUT if that has not happened by then.
 */
export async function wait(futures: Future | Future[], opts: { timeout?: number; returnWhen?: ReturnWhen } = {}): Promise<{ done: Future[]; notDone: Future[] }> {
  const list = checkFutures(futures, "wait");
  const when = opts.returnWhen ?? "ALL_COMPLETED";
  if (!["ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"].includes(when)) {
    throw invalid("INVALID_ARGUMENT", `returnWhen ${show(when)} must be "ALL_COMPLETED", "FIRST_COMPLETED" or "FIRST_EXCEPTION"`);
  }
  if (opts.timeout !== undefined && !(typeof opts.timeout === "number" && opts.timeout >= 0)) throw invalid("INVALID_ARGUMENT", `timeout ${show(opts.timeout)} must be a number of milliseconds >= 0`);
  const split = () => ({ done: list.filter((f) => f.done()), notDone: list.filter((f) => !f.done()) });
  const reached = () => {
    const d = list.filter((f) => f.done());
    if (when === "FIRST_COMPLETED") return d.length > 0 || list.length === 0;
    if (when === "FIRST_EXCEPTION" && d.some((f) => f.status === "error")) return true;
    return d.length === list.length;
  };
  let timer: NodeJS.Timeout | undefined;
  const late = opts.timeout === undefined ? null : new Promise<"late">((r) => (timer = setTimeout(() => r("late"), opts.timeout)));
  try {
    while (!reached()) {
      const next = Promise.race(list.filter((f) => !f.done()).map((f) => f.settled()));
      if ((await (late ? Promise.race([next, late]) : next)) === "late") {
        const s = split();
        throw new ClusterError("TIMEOUT", `wait: ${s.notDone.length} of ${list.length} futures were still pending after ${opts.timeout} ms`);
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return split();
}

/** The futures in the order they finish (an async iterator; those already done come first). */
export async function* asCompleted<T>(futures: Future<T> | Future<T>[]): AsyncGenerator<Future<T>, void, undefined> {
  const list = checkFutures(futures, "asCompleted") as Future<T>[];
  const queue: Future<T>[] = [];
  let wake: (() => void) | null = null;
  for (const f of list) {
    void f.settled().then(() => {
      queue.push(f);
      wake?.();
    });
  }
  for (let n = 0; n < list.length; n++) {
    while (!queue.length) await new Promise<void>((r) => (wake = r));
    wake = null;
    yield queue.shift()!;
  }
}
