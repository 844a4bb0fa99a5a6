/**
 * The Client (dask's distributed.Client): what a script holds to compute on a cluster. It holds its own
 * state (its futures, its scheduler): several clients may be open at once. `Client.connect(cluster)`
 * uses a cluster's scheduler (LocalCluster; SlurmCluster later); `Client.connect({ host, port, token })`
 * starts a scheduler in this process for workers started by hand (`tessera worker --scheduler ...`), and
 * closes it when the client closes.
 */
import { ChunkedArray } from "../array/chunked.js";
import { defaultBackend, type ComputeBackend } from "../array/backend.js";
import { checkComputeOptions } from "../array/compute.js";
import { NDArray, fromRawResult } from "../array/ndarray.js";
import { progressBar } from "../scheduler/progress-bar.js";
import { ClusterError, invalid, show } from "../errors.js";
import { lower, type OutputRequest } from "../graph/lower.js";
import { newId, type Chunks, type Node, type StoredNode } from "../graph/nodes.js";
import type { ClusterStore } from "./cluster-store.js";
import type { ProgressEvent } from "../scheduler/run-on-pool.js";
import type { RawArray, RunResult } from "../scheduler/results.js";
import { Future } from "./future.js";
import { Scheduler, type SchedulerOptions } from "./scheduler.js";
import type { WorkerInfo } from "./worker-registry.js";
import { decodeValue, encodeValue } from "./values.js";

/** Anything with a scheduler: LocalCluster (and SlurmCluster). */
export interface ClusterLike {
  readonly scheduler: Scheduler;
}

export interface ClusterComputeOptions {
  /** true: a live bar on stderr when it is a TTY; a function: receives every progress event */
  progress?: boolean | ((e: ProgressEvent) => void);
  /** aborting it cancels the compute */
  signal?: AbortSignal;
}

export type ComputedValue = number | boolean | NDArray;

const wrap = (r: RunResult): ComputedValue => (typeof r === "object" ? fromRawResult(r as RawArray) : (r as number | boolean));

/** The source of a function given to submit/map (as mapBlocks: rebuilt in a worker, it must not capture variables). */
function functionSource(fn: unknown, what: string): string {
  const src = typeof fn === "string" ? fn : typeof fn === "function" ? fn.toString() : null;
  if (src === null) throw invalid("INVALID_ARGUMENT", `${what} takes a function (or its source text), got ${show(fn)}`);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) throw invalid("INVALID_ARGUMENT", `${what} cannot send a native or bound function to a worker`);
  try {
    const f = new Function(`"use strict"; return (${src});`)();
    if (typeof f !== "function") throw new Error();
  } catch {
    throw invalid("INVALID_ARGUMENT", `${what}: ${show(src.slice(0, 60))} cannot be rebuilt from its source; use an arrow function or a function expression`);
  }
  return src;
}

export class Client implements ComputeBackend {
  readonly scheduler: Scheduler;
  private readonly owned: boolean;
  private readonly pending = new Set<Future>();
  private nextKey = 1;
  private closing: Promise<void> | null = null;
  /** resident runs holding this client's persisted arrays */
  private readonly resident = new Set<number>();
  /** the call behind each of this client's submit futures */
  private readonly callOf = new WeakMap<Future, Promise<number | null>>();
  /** calls whose values are kept on the workers for this client's futures */
  private readonly calls = new Set<number>();
  private readonly releasedCalls = new FinalizationRegistry<number>((id) => {
    if (this.calls.delete(id)) this.scheduler.releaseCall(id);
  });
  private readonly released = new FinalizationRegistry<number>((id) => {
    if (!this.resident.delete(id)) return;
    this.scheduler.release(id);
  });

  private constructor(scheduler: Scheduler, owned: boolean) {
    this.scheduler = scheduler;
    this.owned = owned;
  }

  /**
   * A client on a cluster's scheduler, or on a scheduler of its own (options: host, port, token...). As in
   * dask, it becomes the default at once (a plain `x.compute()` runs on its cluster until it closes) unless
   * `{ asDefault: false }`; `compute({ scheduler: "threads" })` still runs in this process.
   */
  static async connect(target: ClusterLike | SchedulerOptions = {}, opts: { asDefault?: boolean } = {}): Promise<Client> {
    if (opts === null || typeof opts !== "object" || Object.keys(opts).some((k) => k !== "asDefault") || (opts.asDefault !== undefined && typeof opts.asDefault !== "boolean")) {
      throw invalid("INVALID_ARGUMENT", `Client.connect options ${show(opts)} take only asDefault (a boolean)`);
    }
    let client: Client;
    if (target && typeof target === "object" && "scheduler" in target && target.scheduler instanceof Scheduler) client = new Client(target.scheduler, false);
    else if (target === null || typeof target !== "object") throw invalid("INVALID_ARGUMENT", `Client.connect takes a cluster or scheduler options, got ${show(target)}`);
    else client = new Client(await Scheduler.start(target as SchedulerOptions), true);
    if (opts.asDefault !== false) client.asDefault();
    return client;
  }

  /** ws://host:port of the scheduler (what workers are given). */
  get address(): string {
    return this.scheduler.address;
  }

  get workers(): WorkerInfo[] {
    return this.scheduler.workerList;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  private check(what: string): void {
    if (this.closing) throw new ClusterError("CLIENT_CLOSED", `${what} on a closed client`);
  }

  private track<T>(f: Future<T>): Future<T> {
    this.pending.add(f as Future);
    void f.settled().then(() => this.pending.delete(f as Future));
    return f;
  }

  /** Resolves once `n` workers are in (TIMEOUT after `timeoutMs`). */
  waitForWorkers(n = 1, timeoutMs = 60_000): Promise<void> {
    return this.scheduler.waitForWorkers(n, timeoutMs);
  }

  /** Computes an array (a Future) or several in one plan, shared intermediates once (one Future each). */
  compute(x: ChunkedArray, opts?: ClusterComputeOptions): Future<ComputedValue>;
  compute(xs: ChunkedArray[], opts?: ClusterComputeOptions): Future<ComputedValue>[];
  compute(x: ChunkedArray | ChunkedArray[], opts: ClusterComputeOptions = {}): Future<ComputedValue> | Future<ComputedValue>[] {
    this.check("compute");
    const list = Array.isArray(x) ? x : [x];
    list.forEach((a, i) => {
      if (!(a instanceof ChunkedArray)) throw invalid("INVALID_ARGUMENT", `client.compute takes ChunkedArrays, got ${show(a)}${Array.isArray(x) ? ` at ${i}` : ""}`);
    });
    const o = checkComputeOptions(opts);
    const key = `compute-${this.nextKey++}`;
    const futures: Future<ComputedValue>[] = [];
    let left = list.length;
    const bar = o.progress === true ? progressBar(process.stderr) : null;
    const handle = this.startOutputs(
      list.map((a) => ({ node: a.node, chunks: a.chunks })),
      {
        signal: o.signal,
        onProgress: typeof o.progress === "function" ? o.progress : bar?.update,
        done: (results) => {
          bar?.done();
          results.forEach((r, i) => futures[i]!.settle("finished", wrap(r as RunResult)));
        },
        error: (e) => {
          bar?.done();
          for (const f of futures) f.fail(e);
        },
      },
    );
    list.forEach((_, i) => {
      futures.push(
        this.track(
          new Future<ComputedValue>(list.length > 1 ? `${key}:${i}` : key, () => {
            if (--left === 0) handle.cancel(); // the last of the run's futures cancelled: stop the run
          }),
        ),
      );
    });
    return Array.isArray(x) ? futures : futures[0]!;
  }

  private startOutputs(
    outputs: OutputRequest[],
    o: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void; done: (r: (RunResult | ClusterStore)[]) => void; error: (e: Error) => void },
  ): { id: number; cancel(): void } {
    let bound;
    try {
      bound = lower(outputs, { hashInputs: false });
    } catch (e) {
      queueMicrotask(() => o.error(e as Error));
      return { id: 0, cancel: () => {} };
    }
    let onAbort: (() => void) | null = null;
    const off = () => {
      if (onAbort) o.signal?.removeEventListener("abort", onAbort);
    };
    let h: { id: number; cancel(): void };
    try {
      h = this.scheduler.startRun(bound, {
        onDone: (r) => {
          off();
          o.done(r);
        },
        onError: (e) => {
          off();
          o.error(e);
        },
        onProgress: o.onProgress,
      });
    } catch (e) {
      // a closed cluster, a released persisted input: the future fails (compute() itself does not throw)
      queueMicrotask(() => o.error(e as Error));
      return { id: 0, cancel: () => {} };
    }
    if (o.signal) {
      onAbort = () => h.cancel();
      if (o.signal.aborted) h.cancel();
      else o.signal.addEventListener("abort", onAbort, { once: true });
    }
    return h;
  }

  /**
   * Computes an array and keeps its chunks on the workers (dask's persist): the array it resolves to
   * is read there by later computes of this client (tasks go where its chunks are), and a chunk lost
   * with a worker is recomputed from its lineage. Its chunks are freed when nothing refers to the array
   * any more, or when the client closes.
   */
  async persist(x: ChunkedArray, opts: ClusterComputeOptions = {}): Promise<ChunkedArray> {
    if (!(x instanceof ChunkedArray)) throw invalid("INVALID_ARGUMENT", `client.persist takes a ChunkedArray, got ${show(x)}`);
    const node = await this.persistOutput(x.node, x.chunks, opts);
    return new ChunkedArray(node, x.chunks);
  }

  /** The array layer's hook (array/backend.ts): persist() on this client's cluster while it is the default. */
  persistOutput(node: Node, chunks: Chunks, opts: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void } = {}): Promise<StoredNode> {
    this.check("persist");
    return new Promise((resolve, reject) => {
      let runId = 0;
      const f = this.track(new Future<StoredNode>(`persist-${this.nextKey++}`, () => h.cancel()));
      const h = this.startOutputs([{ node, chunks, persist: true }], {
        ...opts,
        done: (r) => {
          const store = r[0] as ClusterStore;
          const stored: StoredNode = { kind: "stored", id: newId(), shape: [...store.shape], dtype: store.dtype, chunks: store.chunks, store, fingerprint: store.fingerprint };
          // freed when the array is garbage, or when the client closes
          this.resident.add(runId);
          this.released.register(stored, runId);
          f.settle("finished", stored);
        },
        error: (e) => f.fail(e),
      });
      runId = h.id;
      f.result().then(resolve, reject);
    });
  }

  /** The array layer's hook (array/backend.ts): compute() on this client's cluster while it is the default. */
  computeOutputs(outputs: OutputRequest[], opts: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void }): Promise<RunResult[]> {
    this.check("compute");
    return new Promise((resolve, reject) => {
      const f = this.track(new Future<RunResult[]>(`compute-${this.nextKey++}`, () => h.cancel()));
      const h = this.startOutputs(outputs, {
        ...opts,
        done: (r) => f.settle("finished", r as RunResult[]),
        error: (e) => f.fail(e),
      });
      f.result().then(resolve, reject);
    });
  }

  /**
   * Runs fn(...args) on a worker (fn: a function that captures nothing, or its source text). Arguments
   * go by value; a Future among them is waited for and its value passed (its failure fails this one).
   */
  submit<T = unknown>(fn: ((...args: never[]) => T | Promise<T>) | string, ...args: unknown[]): Future<T> {
    this.check("submit");
    const src = functionSource(fn, "submit");
    let handle: { cancel(): void } | null = null;
    let cancelled = false;
    const f = this.track(
      new Future<T>(`submit-${this.nextKey++}`, () => {
        cancelled = true;
        handle?.cancel();
      }),
    );
    // futures of this client's calls are passed as where their values are (the worker running this call
    // fetches them from the workers keeping them); other futures (computes) are waited for here
    let setId: (id: number | null) => void = () => {};
    this.callOf.set(f as Future, new Promise<number | null>((r) => (setId = r)));
    void (async () => {
      const callDeps: { arg: number; call: number }[] = [];
      let values: unknown[];
      try {
        values = await Promise.all(
          args.map(async (a, i) => {
            if (!(a instanceof Future)) return a;
            const call = this.callOf.get(a);
            // a compute's future, or a call that failed already: its value (or error) here
            if (!call || a.status === "error" || a.status === "cancelled" || a.status === "lost") return a.result();
            const id = await call;
            if (id === null) await a.result(); // its submit failed: so does this one, with its error
            callDeps.push({ arg: i, call: id! });
            return null;
          }),
        );
      } catch (e) {
        const err = e as Error;
        setId(null);
        return f.settle("error", undefined, new ClusterError((err as ClusterError).code ?? "TASK_FAILED", `an argument of ${f.key} failed: ${err.message}`));
      }
      let bytes: Uint8Array;
      try {
        if (cancelled || f.done()) throw new ClusterError("CANCELLED", `${f.key} was cancelled`);
        bytes = encodeValue(values, "an argument of submit");
        if (this.closing) throw new ClusterError("CLIENT_CLOSED", "the client closed");
      } catch (e) {
        setId(null);
        return f.fail(e as Error);
      }
      try {
        const h = this.scheduler.submitCall(
          src,
          bytes,
          callDeps,
          () => f.settleRemote(async () => decodeValue(await this.scheduler.callValue(h.id)) as T),
          (e) => f.fail(e),
        );
        handle = h;
        setId(h.id);
        // the value stays on its worker while this future is referenced (or a call still to run takes it)
        this.calls.add(h.id);
        this.releasedCalls.register(f, h.id);
      } catch (e) {
        setId(null);
        f.fail(e as Error);
      }
    })();
    return f;
  }

  /** submit(fn, item) for every item. */
  map<T = unknown>(fn: ((item: never) => T | Promise<T>) | string, items: Iterable<unknown>): Future<T>[] {
    this.check("map");
    if (items === null || typeof (items as Iterable<unknown>)?.[Symbol.iterator] !== "function") throw invalid("INVALID_ARGUMENT", `map takes an iterable of items, got ${show(items)}`);
    const src = functionSource(fn, "map");
    return [...items].map((item) => this.submit<T>(src, item));
  }

  /**
   * The values of futures (one, or an array in order). errors "raise" (default): rejects with the first
   * failure; "skip": leaves failed (and cancelled, lost) futures out.
   */
  gather<T>(futures: Future<T>, opts?: { errors?: "raise" | "skip" }): Promise<T>;
  gather<T>(futures: Future<T>[], opts?: { errors?: "raise" | "skip" }): Promise<T[]>;
  async gather<T>(futures: Future<T> | Future<T>[], opts: { errors?: "raise" | "skip" } = {}): Promise<T | T[]> {
    const errors = opts.errors ?? "raise";
    if (errors !== "raise" && errors !== "skip") throw invalid("INVALID_ARGUMENT", `gather errors ${show(errors)} must be "raise" or "skip"`);
    if (futures instanceof Future) return futures.result();
    if (!Array.isArray(futures) || futures.some((f) => !(f instanceof Future))) throw invalid("INVALID_ARGUMENT", `gather takes a Future or an array of Futures, got ${show(futures)}`);
    if (errors === "raise") return Promise.all(futures.map((f) => f.result()));
    await Promise.all(futures.map((f) => f.settled()));
    const out: T[] = [];
    for (const f of futures) if (f.status === "finished") out.push(await f.result());
    return out;
  }

  /** Makes plain `x.compute()` run on this client's cluster until the client closes (or another client takes its place). */
  asDefault(): this {
    this.check("asDefault");
    defaultBackend.set(this);
    return this;
  }

  /** Cancels what is pending, stops being the default, and (a client with its own scheduler) stops it. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      defaultBackend.clear(this);
      for (const f of [...this.pending]) f.abort(new ClusterError("CLIENT_CLOSED", `${f.key}: the client closed before it finished`));
      for (const id of this.resident) this.scheduler.release(id);
      for (const id of this.calls) this.scheduler.releaseCall(id);
      this.calls.clear();
      this.resident.clear();
      if (this.owned) await this.scheduler.close();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
