/**
 * The scheduler, in the client's process: it listens for workers (loopback unless `host` says otherwise),
 * authenticates each with the cluster's token (transport/server.ts: mutual HMAC, handshake-size frames and
 * a deadline before that), keeps the live workers (a closed connection is a lost worker at once, a silent
 * one after the heartbeat timeout), and drives every compute (cluster-run.ts) and submitted call on them:
 * it hands out batches as workers have room, sends plans once per worker and hash, pushes input chunks,
 * collects outputs, and on a lost worker recovers each run by lineage (recovery.ts).
 */
import { ClusterError } from "../errors.js";
import { resolveInterface } from "../comm/rendezvous.js";
import { serializePlan, planHash } from "../plan/hash.js";
import { TaskGraph } from "../plan/task-graph.js";
import type { BoundPlan } from "../scheduler/inputs.js";
import type { RunObserver } from "../scheduler/observe.js";
import { BATCHES_IN_FLIGHT } from "../scheduler/pool.js";
import { defaultLimits, type TransportLimits } from "../transport/limits.js";
import type { Link } from "../transport/link.js";
import { PeerServer } from "../transport/server.js";
import { ClusterRun, type RunCallbacks, type WorkerView } from "./cluster-run.js";
import { Parts, SCHEDULER_JOB, WORKER_RANK, decodeMessage, send, sendParts, type ToSchedulerMsg, type ToWorkerMsg } from "./messages.js";
import { FETCH_RETRY_MS, FetchFailures } from "./fetch-failures.js";
import { recoverFromLoss } from "./recovery.js";
import { WorkerRegistry, type WorkerEvent, type WorkerInfo } from "./worker-registry.js";
import { newToken } from "./token.js";
import { SchedulerCalls } from "./scheduler-calls.js";
import type { WorkerConn } from "./worker-conn.js";
import { Handoffs } from "./handoffs.js";
import { RunWatches } from "./run-watches.js";
import { workerStates, type WorkerState } from "./worker-states.js";

export interface SchedulerOptions {
  /** interface name or address to listen on (default 127.0.0.1: only this machine's workers reach it) */
  host?: string;
  /** port (default 0: any free port) */
  port?: number;
  /** the cluster's token (default: a fresh random one) */
  token?: string;
  /** ping interval and the silence after which a worker is lost, ms (else TESSERA_HEARTBEAT_MS / TESSERA_PEER_TIMEOUT_MS, 1000 / 5000) */
  heartbeatMs?: number;
  peerTimeoutMs?: number;
  /** where the scheduler writes what it has to say (default: stderr) */
  log?: (line: string) => void;
}

export interface RunHandle {
  id: number;
  cancel(): void;
}

/** A worker that is silent this long while a compute waits for one gets a line on the log. */
const WAIT_REPORT_MS = 5000;

export class Scheduler {
  readonly token: string;
  readonly host: string;
  readonly port: number;
  private readonly server: PeerServer;
  private readonly limits: TransportLimits;
  private readonly log: (line: string) => void;
  private readonly workers = new WorkerRegistry<WorkerConn>();
  private readonly runs = new Map<number, ClusterRun>();
  /** submitted calls: their queue, lineage, and values kept on the workers */
  private readonly callService: SchedulerCalls;
  private readonly parts = new Parts();
  private nextWorker = 1;
  private nextRun = 1;
  private nextBatch = 1;
  /** retiring workers' chunks handed off to the others */
  private readonly handoffs: Handoffs;
  private readonly fetchFailures = new FetchFailures();
  private closed = false;
  /** what watches the runs (the dashboard) */
  private readonly watches = new RunWatches();
  /** what happened so far: workers lost, tasks recomputed by lineage, chunks handed off by retiring workers */
  readonly stats = { workersLost: 0, tasksRecomputed: 0, chunksHandedOff: 0, callsRecomputed: 0, valueBytesToScheduler: 0 };

  private constructor(server: PeerServer, token: string, limits: TransportLimits, log: (line: string) => void) {
    this.server = server;
    this.token = token;
    this.limits = limits;
    this.log = log;
    this.host = server.host;
    this.port = server.port;
    this.handoffs = new Handoffs({
      workers: this.workers,
      runs: this.runs,
      toWorker: (w, msg) => this.toWorker(w, msg),
      beginOn: (w, run) => this.beginOn(w, run),
      stats: this.stats,
      log,
    });
    this.callService = new SchedulerCalls({
      workers: this.workers,
      toWorker: (w, msg, payload) => this.toWorker(w, msg, payload),
      settle: () => this.settle(),
      lost: (w, why) => this.lost(w, why),
      fetchFailed: (w, from, message) => this.fetchFailed(w, from, message),
      parts: this.parts,
      stats: this.stats,
      log,
    });
  }

  static async start(opts: SchedulerOptions = {}): Promise<Scheduler> {
    const token = opts.token ?? newToken();
    const host = opts.host ? resolveInterface(opts.host) : "127.0.0.1";
    const limits = defaultLimits(1024, { heartbeatMs: opts.heartbeatMs, peerTimeoutMs: opts.peerTimeoutMs, maxConnections: 4096 });
    const log = opts.log ?? ((l: string) => process.stderr.write(l + "\n"));
    let self: Scheduler | null = null;
    const early: [Link][] = [];
    const server = await PeerServer.listen({
      host, port: opts.port ?? 0, token: () => token, rank: 0, size: 0, job: SCHEDULER_JOB, limits, log,
      precheck: (h) => (h.job !== SCHEDULER_JOB || h.size !== 0 || h.rank !== WORKER_RANK ? "it is not a tessera cluster worker" : undefined),
      onPeer: (_h, link) => {
        if (self) self.accept(link);
        else early.push([link]);
        return undefined;
      },
    }).catch((e: Error) => {
      throw new ClusterError("INVALID_ARGUMENT", `the scheduler could not listen on ${host}:${opts.port ?? 0}: ${e.message}`);
    });
    self = new Scheduler(server, token, limits, log);
    for (const [l] of early) self.accept(l);
    return self;
  }

  /** ws://host:port: what workers are given (--scheduler). */
  get address(): string {
    return `ws://${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Connections refused for a wrong token (or no proof in time). */
  get authFailures(): number {
    return this.server.authFailures;
  }

  get workerList(): WorkerInfo[] {
    return this.workers.list();
  }

  /**
   * What is waiting and who is idle (adaptive scaling): tasks and calls ready with no worker to run
   * them yet, and the workers that run nothing and hold nothing of a compute still going.
   */
  load(): { queued: number; workers: number; idle: number[] } {
    let queued = this.callService.waiting;
    for (const run of this.runs.values()) queued += run.readyCount();
    const idle = [...this.workers.values()].filter((w) => w.inflight === 0 && [...w.runs].every((r) => !this.runs.has(r))).map((w) => w.id);
    return { queued, workers: this.workers.size, idle };
  }

  /** Calls `cb("join" | "leave", worker, why)` as workers come and go; returns an unsubscribe function. */
  onWorkers(cb: WorkerEvent): () => void {
    return this.workers.watch(cb);
  }

  /** Resolves once at least `n` workers are in (rejects with TIMEOUT after `timeoutMs`, or CLUSTER_CLOSED). */
  waitForWorkers(n: number, timeoutMs = 60_000): Promise<void> {
    return this.workers.waitFor(n, timeoutMs, this.address);
  }

  private accept(link: Link): void {
    if (this.closed) {
      link.terminate();
      return;
    }
    let conn: WorkerConn | null = null;
    link.start(
      (frags) => {
        let m: ToSchedulerMsg;
        let payload: Uint8Array;
        try {
          ({ msg: m, payload } = decodeMessage<ToSchedulerMsg>(frags));
        } catch (e) {
          this.log(`tessera scheduler: a bad message from ${conn ? `worker ${conn.id}` : "a worker"}: ${(e as Error).message}`);
          link.terminate();
          return;
        }
        if (!conn) {
          if (m.kind !== "register") {
            link.terminate();
            return;
          }
          conn = this.register(link, m);
          return;
        }
        this.onMessage(conn, m, payload);
      },
      (info) => {
        if (conn) this.lost(conn, info.reason);
      },
    );
  }

  private register(link: Link, m: Extract<ToSchedulerMsg, { kind: "register" }>): WorkerConn {
    const id = this.nextWorker++;
    const info: WorkerInfo = { id, name: m.name || `worker-${id}`, host: m.host, pid: m.pid, threads: m.threads, memory: m.memory };
    const conn: WorkerConn = {
      id, threads: Math.max(1, m.threads), host: m.host, listenHost: m.listenHost, listenPort: m.listenPort,
      info, link, inflight: 0, calls: 0, exclusive: false, plans: new Set(), runs: new Set(), retiring: null, handoffs: -1,
    };
    this.workers.join(conn);
    void send(link, { kind: "welcome", id }).catch(() => {});
    this.pump();
    return conn;
  }

  private toWorker(w: WorkerConn, msg: ToWorkerMsg, payload?: Uint8Array): void {
    if (w.link.open) void send(w.link, msg, payload).catch(() => {});
  }

  private onMessage(w: WorkerConn, m: ToSchedulerMsg, payload: Uint8Array): void {
    switch (m.kind) {
      case "register":
        return;
      case "done": {
        const run = this.runs.get(m.run);
        this.watches.done(run, m.batch, w.id);
        this.batchEnded(w, run, m.batch);
        run?.batchDone(m.batch);
        break;
      }
      case "failed": {
        const run = this.runs.get(m.run);
        this.watches.failed(run, m.batch, m.task, w.id, m.message);
        this.batchEnded(w, run, m.batch);
        run?.batchFailed(m.batch, m.task, m.code, m.message, m.stack);
        run?.batches.delete(m.batch);
        break;
      }
      case "fetchFailed": {
        const run = this.runs.get(m.run);
        this.batchEnded(w, run, m.batch);
        const b = run?.takeBatch(m.batch);
        if (m.from > 0) this.fetchFailed(w, m.from, m.message);
        else {
          // should not happen (what the scheduler thinks is there, is not): drop the worker, recompute its chunks
          this.log(`tessera scheduler: internal error: ${m.message}; worker ${w.id} is dropped and its chunks recomputed`);
          w.link.terminate();
          this.lost(w, m.message);
        }
        if (run && b) {
          // its tasks wait a moment: a holder that died is noticed meanwhile (its socket closes), and
          // its chunks are recomputed rather than fetched from it again
          const again = () => {
            run.requeue(b, m.have ?? []);
            this.settle();
          };
          if (this.workers.has(m.from)) setTimeout(again, FETCH_RETRY_MS).unref();
          else again();
        }
        break;
      }
      case "missing":
        // should not happen: what the scheduler thinks the worker holds, it does not. Its chunks are
        // recomputed elsewhere (the worker is dropped: a LocalCluster starts another) rather than waited for
        this.log(`tessera scheduler: internal error: worker ${w.id} does not hold chunks ${m.chunks.join(", ")} of compute ${m.run}; it is dropped and its chunks recomputed`);
        w.link.terminate();
        this.lost(w, "it did not hold chunks it was asked for");
        return;
      case "chunk": {
        const run = this.runs.get(m.run);
        if (!run) return;
        const whole = this.parts.add(`${m.run}:${m.chunk}`, m.offset, m.total, payload);
        if (whole) run.outputArrived(m.chunk, whole);
        break;
      }
      case "retiring":
        w.retiring = m.reason || "retiring";
        break;
      case "replicated":
        this.handoffs.replicated(w, m);
        break;
      case "callDone":
      case "callFailed":
      case "value":
        this.callService.onMessage(w, m, payload);
        break;
    }
    this.settle();
  }

  /** Worker w could not fetch chunks from worker `from`: the holder or the fetcher may be dropped (fetch-failures.ts). */
  private fetchFailed(w: WorkerConn, from: number, message: string): void {
    const verdict = this.fetchFailures.record(w.id, from, (id) => this.workers.has(id));
    const holder = this.workers.get(from);
    if (verdict?.drop === "holder" && holder) {
      this.log(`tessera scheduler: workers ${verdict.by.join(", ")} could not fetch chunks from worker ${from} (${message}): it is dropped, its chunks recomputed`);
      holder.link.terminate();
      this.lost(holder, `other workers could not fetch from it: ${message}`);
    } else if (verdict?.drop === "fetcher") {
      this.log(`tessera scheduler: worker ${w.id} could not fetch chunks from workers ${verdict.from.join(", ")} (${message}): it is dropped (can it reach the others? check --interface)`);
      w.link.terminate();
      this.lost(w, `it could not fetch from other workers: ${message}`);
    }
  }

  private batchEnded(w: WorkerConn, run: ClusterRun | undefined, batch: number): void {
    const b = run?.batches.get(batch);
    if (!b || b.worker !== w.id) return;
    w.inflight--;
    if (b.exclusive) w.exclusive = false;
  }

  /** After any event: finished runs end, outboxes go out, workers with room get work, retiring ones hand off. */
  private settle(): void {
    for (const run of [...this.runs.values()]) {
      this.flush(run);
      if (run.over) this.endRun(run);
    }
    this.pump();
    this.callService.sendDrops();
    for (const w of [...this.workers.values()]) if (w.retiring !== null) this.handoffs.start(w);
  }

  private flush(run: ClusterRun): void {
    for (const [wid, box] of run.outbox) {
      const w = this.workers.get(wid);
      if (w && w.runs.has(run.id)) {
        if (box.release.length) this.toWorker(w, { kind: "release", run: run.id, chunks: box.release });
        if (box.send.length) this.toWorker(w, { kind: "send", run: run.id, chunks: box.send });
      }
    }
    run.outbox.clear();
  }

  private endRun(run: ClusterRun): void {
    this.runs.delete(run.id);
    this.parts.drop(`${run.id}:`);
    for (const wid of run.begun) {
      const w = this.workers.get(wid);
      if (!w) continue;
      for (const b of run.batches.values()) if (b.worker === wid) {
        w.inflight--;
        if (b.exclusive) w.exclusive = false;
      }
      w.runs.delete(run.id);
      this.toWorker(w, { kind: "end", run: run.id });
    }
    run.batches.clear();
  }

  private capacity(w: WorkerConn): boolean {
    return !w.exclusive && w.retiring === null && w.inflight < w.threads * BATCHES_IN_FLIGHT;
  }

  private pump(): void {
    if (this.closed || this.workers.size === 0) return;
    let totalThreads = 0;
    for (const w of this.workers.values()) totalThreads += w.threads;
    let progress = true;
    while (progress) {
      progress = false;
      for (const w of this.workers.values()) {
        if (!this.capacity(w)) continue;
        if (this.callService.assign(w)) {
          progress = true;
          continue;
        }
        // half its kernel memory for chunks (the rest: mapBlocks arenas, staging), as a local run keeps
        let room = w.info.memory / 2;
        for (const run of this.runs.values()) room -= run.heldBytes.get(w.id) ?? 0;
        for (const run of this.runs.values()) {
          const a = run.nextBatch(w, w.inflight === 0, totalThreads, () => this.nextBatch++, room);
          if (!a) continue;
          this.dispatch(w, run, a);
          progress = true;
          break;
        }
      }
    }
    for (const run of this.runs.values()) this.flush(run);
  }

  private dispatch(w: WorkerConn, run: ClusterRun, a: ReturnType<ClusterRun["nextBatch"]> & object): void {
    w.inflight++;
    if (a.batch.exclusive) w.exclusive = true;
    this.beginOn(w, run);
    for (const c of a.push) {
      let bytes: Uint8Array;
      try {
        bytes = run.data.inputChunk(c);
      } catch (e) {
        run.fail(e as Error);
        return;
      }
      if (w.link.open) void sendParts(w.link, bytes, this.limits.maxPayload, (offset, total) => ({ kind: "data", run: run.id, chunk: c, offset, total })).catch(() => {});
    }
    const fetch = a.fetch.map((f) => {
      const h = this.workers.get(f.from)!;
      return { from: f.from, host: h.listenHost, port: h.listenPort, chunks: f.chunks, ...(f.src ? { src: f.src } : {}) };
    });
    const b = a.batch;
    this.watches.assigned(run, b.layer, b.start, b.end, w.id, a.push.length > 0 || fetch.some((f) => f.from !== w.id));
    this.toWorker(w, { kind: "assign", run: run.id, batch: b.id, layer: b.layer, start: b.start, end: b.end, fetch });
  }

  /** Worker w learns of the run (its plan once per hash, then `begin`) before its first batch or hand-off of it. */
  private beginOn(w: WorkerConn, run: ClusterRun): void {
    if (w.runs.has(run.id)) return;
    if (!w.plans.has(run.hash)) {
      this.toWorker(w, { kind: "plan", hash: run.hash }, new TextEncoder().encode(run.planText));
      w.plans.add(run.hash);
    }
    this.toWorker(w, { kind: "begin", run: run.id, hash: run.hash });
    w.runs.add(run.id);
  }

  /** Sees every compute started from now on (the dashboard); returns the function that stops it. */
  observe(o: RunObserver): () => void {
    return this.watches.observe(o);
  }

  /** What the dashboard shows of each live worker (worker-states.ts). */
  workerStates(): WorkerState[] {
    return workerStates(this.workers.values(), this.runs.values());
  }

  /** A worker is gone: its runs recover by lineage, its calls go to others (or fail after ALLOWED_FAILURES). */
  private lost(w: WorkerConn, why: string): void {
    if (!this.workers.leave(w, why, this.closed)) return;
    if (w.retiring === null) this.stats.workersLost++;
    const what = `worker ${w.id} (pid ${w.info.pid} on ${w.info.host}): ${why}`;
    for (const run of [...this.runs.values()]) {
      if (!w.runs.has(run.id) && ![...run.batches.values()].some((b) => b.worker === w.id)) continue;
      this.stats.tasksRecomputed += recoverFromLoss(run, w.id, what);
    }
    this.stats.callsRecomputed += this.callService.lost(w.id, what);
    this.settle();
  }

  /**
   * Starts a compute: resolves through `callbacks` once its results are in. It waits, pending, while no
   * worker is in (with a line on the log after a few seconds).
   */
  startRun(bound: BoundPlan, callbacks: RunCallbacks): RunHandle {
    if (this.closed) throw new ClusterError("CLUSTER_CLOSED", "the cluster is closed");
    const planText = serializePlan(bound.plan);
    const id = this.nextRun++;
    let timer: NodeJS.Timeout | null = null;
    const clear = () => {
      if (timer) clearTimeout(timer);
      timer = null;
    };
    const graph = new TaskGraph(bound.plan);
    this.watches.begin(id, graph);
    const ended = (e: Error | null) => this.watches.ended(id, e);
    const run = new ClusterRun(id, graph, planHash(bound.plan), planText, bound.bindings, {
      onDone: (r) => {
        clear();
        ended(null);
        callbacks.onDone(r);
      },
      onError: (e) => {
        clear();
        ended(e);
        callbacks.onError(e);
      },
      onProgress: callbacks.onProgress,
    });
    this.runs.set(id, run);
    if (this.workers.size === 0) {
      timer = setTimeout(() => {
        if (!run.over && this.workers.size === 0) this.log(`tessera scheduler: a compute has waited ${WAIT_REPORT_MS / 1000} s and no worker has joined the scheduler at ${this.address} yet`);
      }, WAIT_REPORT_MS);
      timer.unref();
    }
    this.settle();
    return {
      id,
      cancel: () => {
        clear();
        if (run.over) return;
        run.fail(new ClusterError("CANCELLED", "the compute was cancelled"));
        this.settle();
      },
    };
  }

  /**
   * Runs a function (source text) on a worker with serialized arguments; those in `deps` are the values
   * of other calls (scheduler-calls.ts). `onDone` gets the size of the value, which stays on its worker.
   */
  submitCall(fn: string, args: Uint8Array, deps: { arg: number; call: number }[], onDone: (bytes: number) => void, onError: (e: Error) => void): RunHandle {
    if (this.closed) throw new ClusterError("CLUSTER_CLOSED", "the cluster is closed");
    return this.callService.submit(fn, args, deps, onDone, onError);
  }

  /** The value of a finished call (serialized), from the worker keeping it; computed again first if it was lost. */
  callValue(id: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new ClusterError("CLUSTER_CLOSED", "the cluster is closed"));
    return this.callService.value(id);
  }

  /** No future refers to call `id` any more: its value is dropped on its worker once no call waits for it. */
  releaseCall(id: number): void {
    this.callService.release(id);
  }

  /** Values of calls kept on the workers (or on one worker): how many, and their bytes. */
  keptValues(worker?: number): { calls: number; bytes: number } {
    return this.callService.kept(worker);
  }

  /** Releases a resident run (an array persisted on the cluster): its chunks are freed on the workers. */
  release(id: number): void {
    const run = this.runs.get(id);
    if (!run) return;
    run.stop();
    this.settle();
  }

  /**
   * Retires a worker gracefully: it gets no new work, finishes what it runs, hands off the chunks only it
   * holds that are still needed (as a worker reaching its lifetime does), then is told to stop.
   */
  retire(id: number, reason = "retired"): void {
    const w = this.workers.get(id);
    if (!w || w.retiring !== null) return;
    w.retiring = reason;
    this.settle();
  }

  /** Stops: every run and call still going fails with CLUSTER_CLOSED, workers are told to stop. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const run of [...this.runs.values()]) run.fail(new ClusterError("CLUSTER_CLOSED", "the cluster closed before the compute finished"));
    this.runs.clear();
    this.callService.close();
    const ws = [...this.workers.values()];
    for (const w of ws) this.toWorker(w, { kind: "shutdown", reason: "the cluster is closing" });
    await Promise.all(ws.map((w) => w.link.close(1000, "cluster closing", 1000)));
    this.workers.close();
    await this.server.close(500);
  }
}
