/**
 * A cluster worker process (`node dist/worker.js --scheduler ws://host:port`): dials the scheduler,
 * authenticates with the cluster's token, registers (its pid, host, threads, kernel memory, and where
 * other workers reach it) and then does what the scheduler says (messages.ts): keeps plans by hash,
 * runs assigned batches on its engine (worker-run.ts), fetches input chunks from the workers holding
 * them, serves its own chunks to them, sends outputs to the scheduler, runs submitted functions in its
 * call threads (calls.ts).
 *
 * It gives up, exiting non-zero with the address it tried, when it cannot reach the scheduler within the
 * death timeout (at start, or after losing it); a wrong token ends it at once (AUTH_FAILED).
 */
import { hostname } from "node:os";
import { ClusterError, TesseraError } from "../errors.js";
import { parseHostPort } from "../comm/discover.js";
import { resolveInterface } from "../comm/rendezvous.js";
import { deserializePlan } from "../plan/hash.js";
import { TaskGraph } from "../plan/task-graph.js";
import { Engine } from "../scheduler/engine.js";
import { ConnectError, connectPeer } from "../transport/client.js";
import { defaultLimits, type TransportLimits } from "../transport/limits.js";
import type { Link } from "../transport/link.js";
import { PeerServer } from "../transport/server.js";
import { CallThreads } from "./calls.js";
import { PEER_JOB, Parts, SCHEDULER_JOB, WORKER_RANK, decodeMessage, send, sendParts, type FetchFrom, type PeerMsg, type ToWorkerMsg } from "./messages.js";
import { BatchError, SlotWaiter, WorkerRun } from "./worker-run.js";
import { KeptValues } from "./worker-values.js";

export interface WorkerOptions {
  /** ws://host:port (or host:port) of the scheduler */
  scheduler: string;
  token: string;
  /** threads of its pool (and call threads) */
  threads: number;
  /** how long to try to reach the scheduler (at start, or after losing it), ms */
  deathTimeoutMs: number;
  /** the worker threads' entry module (the array layer's: it makes NDArrays for mapBlocks) */
  entry: URL;
  name?: string;
  /** network interface (name or address) other workers reach this one on (default: the one that reaches the scheduler) */
  interface?: string;
  log?: (line: string) => void;
  limits?: Partial<TransportLimits>;
  /**
   * retire after this long (ms), plus or minus a random part of `lifetimeStaggerMs` (so that workers
   * started together do not all leave at once): before a batch job's walltime, its chunks still needed
   * handed off to other workers first
   */
  lifetimeMs?: number;
  lifetimeStaggerMs?: number;
}

/** Parses ws://host:port, host:port or [v6]:port. */
export function parseSchedulerAddress(s: string): { host: string; port: number } {
  const bare = s.trim().replace(/^wss?:\/\//, "").replace(/\/+$/, "");
  return parseHostPort(bare, "scheduler address");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a worker until it is shut down (resolves 0) or gives up (rejects with a ClusterError). */
export async function runWorker(opts: WorkerOptions): Promise<number> {
  const node = new WorkerNode(opts);
  return node.run();
}

class WorkerNode {
  private readonly log: (line: string) => void;
  private readonly limits: TransportLimits;
  private readonly where: string;
  private readonly addr: { host: string; port: number };
  private engine: Engine | null = null;
  private slots: SlotWaiter | null = null;
  private calls: CallThreads | null = null;
  private server: PeerServer | null = null;
  private link: Link | null = null;
  private id = 0;
  private readonly plans = new Map<string, TaskGraph>();
  private readonly runs = new Map<number, WorkerRun>();
  private readonly parts = new Parts();
  private readonly peers = new Map<number, Promise<Link>>();
  /** fetches in flight: the source chunks still to come, and where each goes in the run */
  private readonly fetches = new Map<number, { left: Set<number>; dest: Map<number, number>; run: WorkerRun; link: Link; resolve: () => void; reject: (e: Error) => void }>();
  private nextReq = 1;
  /** the values of the calls it ran, kept until the scheduler drops them */
  private values: KeptValues;
  private nextLayer = 1;
  private shutdown: string | null = null;
  /** why it asked to leave (its lifetime), or null */
  private retiring: string | null = null;

  constructor(private readonly opts: WorkerOptions) {
    this.log = opts.log ?? ((l) => process.stderr.write(l + "\n"));
    // every other worker may fetch from this one at once: room for a big cluster's peers
    this.limits = defaultLimits(64, { maxConnections: 4096, ...opts.limits });
    this.addr = parseSchedulerAddress(opts.scheduler);
    this.where = `ws://${this.addr.host.includes(":") ? `[${this.addr.host}]` : this.addr.host}:${this.addr.port}`;
    this.values = this.newValues();
  }

  private newValues(): KeptValues {
    return new KeptValues(() => this.id, () => this.nextReq++, this.limits.maxPayload);
  }

  async run(): Promise<number> {
    this.engine = new Engine(this.opts.entry, this.opts.threads);
    this.slots = new SlotWaiter(this.engine);
    this.calls = new CallThreads(this.opts.threads);
    let lifetime: NodeJS.Timeout | null = null;
    if (this.opts.lifetimeMs !== undefined) {
      const stagger = this.opts.lifetimeStaggerMs ?? 0;
      const ms = Math.max(0, this.opts.lifetimeMs + (Math.random() * 2 - 1) * stagger);
      lifetime = setTimeout(() => {
        this.retiring = `its lifetime (${(ms / 1000).toFixed(1)} s) is over`;
        this.toScheduler({ kind: "retiring", reason: this.retiring });
      }, ms);
      lifetime.unref();
    }
    try {
      for (;;) {
        const closed = await this.session();
        if (this.shutdown !== null || this.retiring !== null) return 0;
        this.log(`tessera worker ${this.id}: lost the scheduler at ${this.where} (${closed}); trying again for ${this.opts.deathTimeoutMs / 1000} s`);
        await this.reset();
      }
    } finally {
      if (lifetime) clearTimeout(lifetime);
      await this.reset();
      await this.calls.close();
      await this.engine.close();
    }
  }

  /** One connection to the scheduler, from dialing to its close: resolves with why it closed. */
  private async session(): Promise<string> {
    const c = await this.connect();
    this.link = c.link;
    const listenHost = this.opts.interface ? resolveInterface(this.opts.interface) : c.localAddress || "127.0.0.1";
    this.server = await PeerServer.listen({
      host: listenHost, port: 0, token: () => this.opts.token, rank: 0, size: 0, job: PEER_JOB, limits: this.limits,
      log: this.log,
      onPeer: (_hello, link) => {
        link.start((f) => this.onPeerMessage(link, f), () => {});
        return undefined;
      },
    });
    return new Promise<string>((resolve) => {
      c.link.start(
        (frags) => this.onSchedulerMessage(frags),
        (info) => resolve(info.reason),
      );
      void send(c.link, {
        kind: "register", pid: process.pid, host: hostname(), threads: this.opts.threads, memory: this.engine!.heap.limit,
        listenHost: this.server!.host, listenPort: this.server!.port, name: this.opts.name ?? "",
      }).catch(() => {});
    });
  }

  /** Dials the scheduler until the death timeout; a refused token ends it at once. */
  private async connect(): Promise<{ link: Link; localAddress: string }> {
    const deadline = Date.now() + this.opts.deathTimeoutMs;
    let last = "";
    for (let attempt = 0; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ClusterError("WORKER_LOST", `could not reach the scheduler at ${this.where} within ${this.opts.deathTimeoutMs / 1000} s (--death-timeout): ${last || "no answer"}`);
      }
      try {
        return await connectPeer(this.addr.host, this.addr.port, { token: this.opts.token, rank: WORKER_RANK, size: 0, job: SCHEDULER_JOB, host: "", port: 0, expect: 0 }, this.limits, Math.min(5000, left));
      } catch (e) {
        const ce = e as ConnectError;
        if (ce.impostor || /code 1008/.test(ce.message)) {
          throw new ClusterError("AUTH_FAILED", `the scheduler at ${this.where} refused this worker (wrong token?): ${ce.message}`);
        }
        last = ce.message;
      }
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5), Math.max(0, deadline - Date.now())));
    }
  }

  /** Forgets every run, plan and peer (the scheduler is gone: nothing it assigned stands). */
  private async reset(): Promise<void> {
    const runs = [...this.runs.values()];
    this.runs.clear();
    this.plans.clear();
    for (const f of this.fetches.values()) f.reject(new Error("the worker lost its scheduler"));
    this.fetches.clear();
    // a new session is a new worker to the scheduler: what this one kept is recomputed there if needed
    this.values = this.newValues();
    for (const p of this.peers.values()) void p.then((l) => l.terminate(), () => {});
    this.peers.clear();
    await Promise.all(runs.map((r) => r.close()));
    const s = this.server;
    this.server = null;
    await s?.close(100);
    this.link?.terminate();
    this.link = null;
  }

  private toScheduler(msg: Parameters<typeof send>[1], payload?: Uint8Array): void {
    const l = this.link;
    if (l?.open) void send(l, msg, payload).catch(() => {});
  }

  private onSchedulerMessage(frags: Uint8Array[]): void {
    let m: ToWorkerMsg;
    let payload: Uint8Array;
    try {
      ({ msg: m, payload } = decodeMessage<ToWorkerMsg>(frags));
    } catch (e) {
      this.log(`tessera worker ${this.id}: a bad message from the scheduler: ${(e as Error).message}`);
      this.link?.terminate();
      return;
    }
    switch (m.kind) {
      case "welcome":
        this.id = m.id;
        return;
      case "plan": {
        const whole = this.parts.add(`plan:${m.hash}`, 0, payload.length, payload);
        if (whole) this.plans.set(m.hash, new TaskGraph(deserializePlan(new TextDecoder().decode(whole))));
        return;
      }
      case "begin": {
        const graph = this.plans.get(m.hash);
        if (!graph) return this.log(`tessera worker ${this.id}: run ${m.run} of an unknown plan ${m.hash.slice(0, 12)}`);
        this.runs.set(m.run, new WorkerRun(m.run, graph, this.engine!, () => this.nextLayer++, this.slots!));
        return;
      }
      case "data": {
        const whole = this.parts.add(`${m.run}:d${m.chunk}`, m.offset, m.total, payload);
        if (whole) this.runs.get(m.run)?.put(m.chunk, whole);
        return;
      }
      case "assign":
        void this.assign(m);
        return;
      case "release":
        this.runs.get(m.run)?.release(m.chunks);
        return;
      case "send": {
        const r = this.runs.get(m.run);
        if (!r) return;
        const missing = m.chunks.filter((c) => !r.has(c));
        if (missing.length) this.toScheduler({ kind: "missing", run: m.run, chunks: missing });
        for (const c of m.chunks) {
          if (!r.has(c)) continue;
          void sendParts(this.link!, r.copyOut(c), this.limits.maxPayload, (offset, total) => ({ kind: "chunk", run: m.run, chunk: c, offset, total })).catch(() => {});
        }
        return;
      }
      case "end": {
        const r = this.runs.get(m.run);
        this.runs.delete(m.run);
        this.parts.drop(`${m.run}:`);
        void r?.close();
        return;
      }
      case "replicate": {
        const r = this.runs.get(m.run);
        const chunks = m.fetch.flatMap((f) => f.chunks);
        const handoff = m.handoff;
        if (!r) return this.toScheduler({ kind: "replicated", handoff, run: m.run, chunks, ok: false, message: `no run ${m.run} here` });
        void Promise.all(m.fetch.map((f) => this.fetch(r, f))).then(
          () => this.toScheduler({ kind: "replicated", handoff, run: m.run, chunks, ok: true, message: "" }),
          (e: Error) => this.toScheduler({ kind: "replicated", handoff, run: m.run, chunks, ok: false, message: e.message }),
        );
        return;
      }
      case "call":
        void this.call(m, payload.slice());
        return;
      case "sendValue": {
        const v = this.values.get(m.call);
        const l = this.link;
        if (!v) this.toScheduler({ kind: "value", call: m.call, offset: 0, total: 0, missing: true });
        else if (l?.open) void sendParts(l, v, this.limits.maxPayload, (offset, total) => ({ kind: "value", call: m.call, offset, total })).catch(() => {});
        return;
      }
      case "dropValues":
        this.values.drop(m.calls);
        return;
      case "shutdown":
        this.shutdown = m.reason;
        void this.link?.close(1000, "shutdown", 500);
        return;
    }
  }

  /** Runs a submitted call (its arguments that are other calls' values fetched first) and keeps its value. */
  private async call(m: Extract<ToWorkerMsg, { kind: "call" }>, args: Uint8Array): Promise<void> {
    const values = this.values;
    let deps: { arg: number; value: Uint8Array }[] = [];
    try {
      if (m.deps?.length) deps = await values.gather(m.deps, (d) => this.peer(d));
    } catch (e) {
      const from = (e as { from?: number }).from ?? -1;
      this.toScheduler({ kind: "callFailed", call: m.call, code: "WORKER_LOST", message: `an argument could not be fetched from worker ${from}: ${(e as Error).message}`, from });
      return;
    }
    const r = await this.calls!.run({ call: m.call, fn: m.fn, args, deps });
    if (!r.ok) return this.toScheduler({ kind: "callFailed", call: r.call, code: r.code, message: r.message, stack: r.stack });
    if (values !== this.values) return; // the scheduler was lost meanwhile
    values.keep(r.call, r.value);
    this.toScheduler({ kind: "callDone", call: r.call, bytes: r.value.length });
  }

  private async assign(m: Extract<ToWorkerMsg, { kind: "assign" }>): Promise<void> {
    const r = this.runs.get(m.run);
    if (!r) return;
    const reads = (): number[] => {
      const g = r.graph;
      const out = new Set<number>();
      for (let t = m.start; t < m.end; t++) {
        const i = g.layerBase[m.layer]! + t;
        for (let x = g.readStart[i]!; x < g.readStart[i + 1]!; x++) out.add(g.reads[x]!);
      }
      return [...out];
    };
    try {
      await Promise.all(m.fetch.map((f) => this.fetch(r, f)));
      // every input must be here (written here, received, fetched) before a kernel reads its memory
      const g = r.graph;
      const written = new Set<number>();
      for (let t = m.start; t < m.end; t++) {
        const i = g.layerBase[m.layer]! + t;
        for (let x = g.writeStart[i]!; x < g.writeStart[i + 1]!; x++) written.add(g.writes[x]!);
      }
      const absent = reads().filter((c) => !r.has(c) && !written.has(c));
      if (absent.length) throw Object.assign(new Error(`input chunks ${absent.join(", ")} are not on worker ${this.id}`), { from: -1 });
    } catch (e) {
      const from = (e as { from?: number }).from ?? -1;
      this.toScheduler({ kind: "fetchFailed", run: m.run, batch: m.batch, from, message: (e as Error).message, have: reads().filter((c) => r.has(c)) });
      return;
    }
    try {
      await r.run(m.layer, m.start, m.end);
      this.toScheduler({ kind: "done", run: m.run, batch: m.batch });
    } catch (e) {
      const b = e instanceof BatchError ? e : new BatchError(m.start, e instanceof TesseraError ? e.code : "TASK_FAILED", (e as Error).message);
      this.toScheduler({ kind: "failed", run: m.run, batch: m.batch, task: b.task, code: b.code, message: b.message, stack: b.workerStack });
    }
  }

  /**
   * Gets chunks from the worker holding them (those on their way already are waited for); chunks of a
   * resident run (an array persisted on the cluster) come from it, here or on another worker.
   */
  private async fetch(r: WorkerRun, f: FetchFrom): Promise<void> {
    const fail = (e: unknown) => Object.assign(e instanceof Error ? e : new Error(String(e)), { from: f.from });
    const srcOf = new Map<number, number>(); // chunk here -> chunk of the source run
    f.chunks.forEach((c, i) => srcOf.set(c, f.src ? f.src.chunks[i]! : c));
    const want: number[] = [];
    const waits: Promise<void>[] = [];
    for (const c of f.chunks) {
      const on = r.arriving(c);
      if (on) waits.push(on);
      else if (!r.has(c)) want.push(c);
    }
    if (want.length && f.src && f.from === this.id) {
      // a copy between two runs of this worker
      const src = this.runs.get(f.src.run);
      for (const c of want) {
        const s = srcOf.get(c)!;
        await src?.arriving(s);
        if (!src?.has(s)) throw fail(new Error(`worker ${this.id} does not hold chunk ${s} of run ${f.src.run}`));
        r.put(c, src.copyOut(s));
      }
    } else if (want.length) {
      let link: Link;
      try {
        link = await this.peer(f);
      } catch (e) {
        throw fail(e);
      }
      const req = this.nextReq++;
      const dest = new Map(want.map((c) => [srcOf.get(c)!, c]));
      const done = new Promise<void>((resolve, reject) => this.fetches.set(req, { left: new Set(dest.keys()), dest, run: r, link, resolve, reject }));
      for (const c of want) r.expect(c, done);
      send(link, { kind: "fetch", req, run: f.src?.run ?? r.id, chunks: [...dest.keys()] }).catch((e) => this.fetches.get(req)?.reject(e as Error));
      waits.push(done.catch((e) => Promise.reject(fail(e))));
    }
    await Promise.all(waits);
  }

  /** The link to worker `f.from` (opened on first use, kept while both live). */
  private peer(f: { from: number; host: string; port: number }): Promise<Link> {
    let p = this.peers.get(f.from);
    if (!p) {
      p = connectPeer(f.host, f.port, { token: this.opts.token, rank: this.id, size: 0, job: PEER_JOB, host: "", port: 0, expect: 0 }, this.limits, 10_000).then(({ link }) => {
        link.start(
          (frags) => this.onPeerMessage(link, frags),
          (info) => {
            this.peers.delete(f.from);
            this.values.linkClosed(link, info.reason);
            for (const [req, x] of this.fetches) {
              if (x.link !== link) continue;
              this.fetches.delete(req);
              x.reject(new Error(`the link to worker ${f.from} closed: ${info.reason}`));
            }
          },
        );
        return link;
      });
      p.catch(() => this.peers.delete(f.from));
      this.peers.set(f.from, p);
    }
    return p;
  }

  private onPeerMessage(link: Link, frags: Uint8Array[]): void {
    let m: PeerMsg;
    let payload: Uint8Array;
    try {
      ({ msg: m, payload } = decodeMessage<PeerMsg>(frags));
    } catch (e) {
      this.log(`tessera worker ${this.id}: a bad message from a peer: ${(e as Error).message}`);
      link.terminate();
      return;
    }
    if (this.values.onPeerMessage(link, m, payload)) return;
    switch (m.kind) {
      case "fetch":
        void this.serve(link, m);
        return;
      case "chunk": {
        const f = this.fetches.get(m.req);
        if (!f) return;
        const whole = this.parts.add(`${m.run}:f${m.req}:${m.chunk}`, m.offset, m.total, payload);
        if (!whole) return;
        try {
          f.run.put(f.dest.get(m.chunk) ?? m.chunk, whole);
        } catch (e) {
          this.fetches.delete(m.req);
          return f.reject(e as Error);
        }
        f.left.delete(m.chunk);
        return;
      }
      case "fetched": {
        const f = this.fetches.get(m.req);
        if (!f) return;
        this.fetches.delete(m.req);
        if (f.left.size) f.reject(new Error(`a peer answered without chunks ${[...f.left].join(", ")}`));
        else f.resolve();
        return;
      }
      case "fetchError": {
        const f = this.fetches.get(m.req);
        this.fetches.delete(m.req);
        f?.reject(new Error(m.message));
        return;
      }
    }
  }

  /** Another worker asks for chunks of a run: send each (waiting for those still on their way here). */
  private async serve(link: Link, m: Extract<PeerMsg, { kind: "fetch" }>): Promise<void> {
    const r = this.runs.get(m.run);
    try {
      if (!r) throw new Error(`worker ${this.id} has no run ${m.run}`);
      for (const c of m.chunks) {
        const on = r.arriving(c);
        if (on) await on;
        if (!r.has(c)) throw new Error(`worker ${this.id} does not hold chunk ${c} of run ${m.run}`);
        await sendParts(link, r.copyOut(c), this.limits.maxPayload, (offset, total) => ({ kind: "chunk", req: m.req, run: m.run, chunk: c, offset, total }));
      }
      await send(link, { kind: "fetched", req: m.req });
    } catch (e) {
      await send(link, { kind: "fetchError", req: m.req, message: (e as Error).message }).catch(() => {});
    }
  }
}
