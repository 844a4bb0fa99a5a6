/**
 * A world of several ranks over WebSocket links (one per peer, a full mesh): message delivery keyed by
 * (collective sequence, step, source) or (source, tag) for point-to-point, reassembly of payloads split
 * over several frames, and failure: a lost peer (closed connection, missed heartbeats, or an Abort from
 * another rank) fails every pending and later operation with RANK_LOST naming it.
 */
import {
  CollOp, DType, ReduceOp, decodeFragments, encode, encodeHead, type AddressTableMsg, type CollectiveMsg, type Msg, type PointToPointMsg,
} from "../protocol/messages.js";
import type { Frame, Link, LinkClosed } from "../transport/link.js";
import type { TransportLimits } from "../transport/limits.js";
import * as coll from "./collectives.js";
import { CommError, commError } from "./errors.js";
import { fromPayload, toPayload, type Payload } from "./payload.js";
import type { ReduceFn, World } from "./world.js";

/** Payloads at least this large are sent from where they lie (a head fragment, then the payload), not copied. */
const ZERO_COPY_BYTES = 64 * 1024;

export type RankLostHandler = (rank: number, reason: string) => void;

interface Waiter {
  src: number;
  op: CollOp | -1;
  resolve: (p: Payload) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

interface Incoming {
  op: CollOp | -1;
  p: Payload;
}

interface Assembly {
  bytes: Uint8Array;
  got: number;
  first: Incoming;
}

export interface WsWorldOptions {
  limits: TransportLimits;
  /** a wait for a message longer than this rejects with COMM_TIMEOUT (default: none; lost peers are detected by heartbeats) */
  opTimeoutMs?: number;
}

function checkRank(r: unknown, size: number, what: string): asserts r is number {
  if (typeof r !== "number" || !Number.isInteger(r) || r < 0 || r >= size) {
    throw commError("INVALID_ARGUMENT", `${what} ${String(r)} is not a rank of a world of size ${size}`);
  }
}

export class WsWorld implements World, coll.Comm {
  readonly rank: number;
  readonly size: number;
  private readonly limits: TransportLimits;
  private readonly opTimeoutMs: number;
  private readonly links = new Map<number, Link>();
  private readonly queues = new Map<string, Incoming[]>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly assembling = new Map<string, Assembly>();
  private readonly departed = new Set<number>();
  private readonly lostHandlers: RankLostHandler[] = [];
  private readonly linkWaiters: { need: () => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly p2pSeq = new Map<number, number>();
  private seq = 0;
  private broken: CommError | null = null;
  private closing = false;
  /** rank 0's address table, when it arrives (non-zero ranks) */
  table: AddressTableMsg | null = null;
  private tableWaiter: ((t: AddressTableMsg) => void) | null = null;
  /** called once when the world closes (server, rendezvous file) */
  onClose: (() => Promise<void>) | null = null;

  constructor(rank: number, size: number, opts: WsWorldOptions) {
    this.rank = rank;
    this.size = size;
    this.limits = opts.limits;
    this.opTimeoutMs = opts.opTimeoutMs ?? 0;
  }

  // ---- links -------------------------------------------------------------------------------------------

  hasLink(rank: number): boolean {
    return this.links.has(rank);
  }

  /** Operations waiting for a peer (messages, links, the address table): while any waits, this rank is not idle. */
  get pendingOperations(): number {
    let n = this.linkWaiters.length + (this.tableWaiter ? 1 : 0);
    for (const list of this.waiters.values()) n += list.length;
    return n;
  }

  get connectedRanks(): number[] {
    return [...this.links.keys()].sort((a, b) => a - b);
  }

  /** Takes over an authenticated link to `link.peer`. */
  attach(link: Link): void {
    const peer = link.peer;
    this.links.set(peer, link);
    link.start(
      (fragments) => this.onFrame(peer, fragments),
      (info) => this.onLinkClosed(peer, info),
    );
    for (const w of this.linkWaiters.slice()) if (!w.need()) this.settleLinkWaiter(w, null);
  }

  private settleLinkWaiter(w: (typeof this.linkWaiters)[number], err: Error | null): void {
    const i = this.linkWaiters.indexOf(w);
    if (i >= 0) this.linkWaiters.splice(i, 1);
    if (err) w.reject(err);
    else w.resolve();
  }

  /** Resolves when links to all `ranks` exist; rejects at `deadline` (with `describe(missing)`) or on a loss. */
  waitLinks(ranks: number[], deadline: number, describe: (missing: number[]) => string): Promise<void> {
    const missing = () => ranks.filter((q) => !this.links.has(q));
    return new Promise((resolve, reject) => {
      if (this.broken) return reject(this.broken);
      if (missing().length === 0) return resolve();
      const w = { need: () => missing().length > 0, resolve, reject };
      this.linkWaiters.push(w);
      const t = setTimeout(() => this.settleLinkWaiter(w, commError("RENDEZVOUS_FAILED", describe(missing()))), Math.max(0, deadline - Date.now()));
      const done = () => clearTimeout(t);
      const orig = { resolve: w.resolve, reject: w.reject };
      w.resolve = () => (done(), orig.resolve());
      w.reject = (e) => (done(), orig.reject(e));
    });
  }

  waitTable(deadline: number, what: string): Promise<AddressTableMsg> {
    if (this.table) return Promise.resolve(this.table);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.tableWaiter = null;
        reject(commError("RENDEZVOUS_FAILED", what));
      }, Math.max(0, deadline - Date.now()));
      this.tableWaiter = (tab) => {
        clearTimeout(t);
        resolve(tab);
      };
      this.lostHandlers.push(() => {
        if (this.tableWaiter) {
          clearTimeout(t);
          this.tableWaiter = null;
          reject(this.broken!);
        }
      });
    });
  }

  // ---- failure -----------------------------------------------------------------------------------------

  /** Registers a callback for the first lost rank (called at once if one was lost already). */
  onRankLost(cb: RankLostHandler): () => void {
    this.lostHandlers.push(cb);
    if (this.broken) queueMicrotask(() => cb(this.lostRank, this.lostReason));
    return () => {
      const i = this.lostHandlers.indexOf(cb);
      if (i >= 0) this.lostHandlers.splice(i, 1);
    };
  }

  private lostRank = -1;
  private lostReason = "";

  /** The error that broke this world, if one did. */
  get failure(): CommError | null {
    return this.broken;
  }

  /** Declares `rank` lost: fails every pending and later operation, tells the other ranks (unless told). */
  markLost(rank: number, reason: string, tellOthers = true): void {
    if (this.broken || this.closing) return;
    this.lostRank = rank;
    this.lostReason = reason;
    this.broken = commError("RANK_LOST", rank === this.rank ? `this rank aborted: ${reason}` : `rank ${rank} was lost: ${reason}`);
    const err = this.broken;
    for (const [key, ws] of this.waiters) {
      for (const w of ws) {
        clearTimeout(w.timer);
        w.reject(err);
      }
      this.waiters.delete(key);
    }
    for (const w of this.linkWaiters.slice()) this.settleLinkWaiter(w, err);
    if (tellOthers) {
      const frame = encode({ kind: "abort", rank, reason });
      for (const [q, link] of this.links) if (q !== rank && link.open) link.send(frame).catch(() => {});
    }
    for (const cb of this.lostHandlers.slice()) {
      try {
        cb(rank, reason);
      } catch (e) {
        process.stderr.write(`tessera: an onRankLost callback threw: ${(e as Error).stack ?? e}\n`);
      }
    }
  }

  /** Tells every rank this one gives up (they fail with RANK_LOST naming this rank), then fails locally. */
  abort(reason: string): void {
    if (this.broken) return;
    const frame = encode({ kind: "abort", rank: this.rank, reason });
    for (const link of this.links.values()) if (link.open) link.send(frame).catch(() => {});
    this.markLost(this.rank, reason, false);
  }

  private onLinkClosed(peer: number, info: LinkClosed): void {
    if (this.closing || this.departed.has(peer)) return;
    this.markLost(peer, info.reason);
  }

  // ---- incoming ----------------------------------------------------------------------------------------

  private onFrame(src: number, fragments: Uint8Array[]): void {
    let m: Msg;
    try {
      m = decodeFragments(fragments);
    } catch (e) {
      this.markLost(src, `it sent a malformed frame (${(e as Error).message})`);
      return;
    }
    switch (m.kind) {
      case "collective":
        if (m.total > m.payload.length) {
          this.assemble(`c:${m.seq}:${m.step}:${src}`, src, m.op, m, m.offset, m.total);
        } else {
          this.deliver(`c:${m.seq}:${m.step}:${src}`, src, { op: m.op, p: { dtype: m.dtype, shape: m.shape, bytes: m.payload, parts: m.parts } });
        }
        return;
      case "p2p":
        if (m.total > m.payload.length) this.assemble(`p:${src}:${m.tag}`, src, -1, m, m.offset, m.total);
        else this.deliver(`p:${src}:${m.tag}`, src, { op: -1, p: { dtype: m.dtype, shape: m.shape, bytes: m.payload } });
        return;
      case "abort":
        this.markLost(m.rank, m.rank === src ? `it aborted: ${m.reason}` : `${m.reason} (reported by rank ${src})`, m.rank !== src);
        return;
      case "goodbye":
        this.departed.add(src);
        for (const [key, ws] of this.waiters) {
          const left = ws.filter((w) => {
            if (w.src !== src) return true;
            clearTimeout(w.timer);
            w.reject(commError("RANK_LOST", `rank ${src} closed its world while this rank waited for it`));
            return false;
          });
          if (left.length) this.waiters.set(key, left);
          else this.waiters.delete(key);
        }
        return;
      case "addresses":
        if (src === 0) {
          this.table = m;
          this.tableWaiter?.(m);
          this.tableWaiter = null;
        }
        return;
      case "fingerprint":
        this.deliver(`f:${m.seq}:${src}`, src, { op: -1, p: { dtype: DType.Value, shape: [], bytes: new TextEncoder().encode(m.fingerprint) } });
        return;
      default:
        return; // hello, heartbeat: nothing to do
    }
  }

  private assemble(
    key: string,
    src: number,
    op: CollOp | -1,
    m: { dtype: DType; shape: number[]; payload: Uint8Array; parts?: { rank: number; dtype: DType; offset: number; length: number }[] },
    offset: number,
    total: number,
  ): void {
    let a = this.assembling.get(key);
    if (!a) {
      if (total > 2 ** 32) {
        this.markLost(src, `it announced a payload of ${total} bytes (over 4 GiB)`);
        return;
      }
      a = { bytes: new Uint8Array(total), got: 0, first: { op, p: { dtype: m.dtype, shape: m.shape, bytes: new Uint8Array(0), parts: m.parts } } };
      this.assembling.set(key, a);
    }
    if (offset + m.payload.length > total) {
      this.markLost(src, `it sent bytes ${offset}..${offset + m.payload.length} of a ${total}-byte payload`);
      return;
    }
    a.bytes.set(m.payload, offset);
    a.got += m.payload.length;
    if (a.got >= total) {
      this.assembling.delete(key);
      a.first.p.bytes = a.bytes;
      this.deliver(key, src, a.first);
    }
  }

  private deliver(key: string, src: number, item: Incoming): void {
    const ws = this.waiters.get(key);
    if (ws && ws.length) {
      const w = ws.shift()!;
      if (ws.length === 0) this.waiters.delete(key);
      clearTimeout(w.timer);
      if (w.op !== -1 && item.op !== w.op) {
        w.reject(commError("COLLECTIVE_MISMATCH", `rank ${src} called ${CollOp[item.op as CollOp]} where this rank called ${CollOp[w.op]} (collectives must be called in the same order on every rank)`));
        return;
      }
      w.resolve(item.p);
      return;
    }
    const q = this.queues.get(key);
    if (q) q.push(item);
    else this.queues.set(key, [item]);
  }

  private wait(key: string, src: number, op: CollOp | -1, what: string): Promise<Payload> {
    if (this.broken) return Promise.reject(this.broken);
    const q = this.queues.get(key);
    if (q && q.length) {
      const item = q.shift()!;
      if (q.length === 0) this.queues.delete(key);
      if (op !== -1 && item.op !== op) {
        return Promise.reject(commError("COLLECTIVE_MISMATCH", `rank ${src} called ${CollOp[item.op as CollOp]} where this rank called ${CollOp[op]} (collectives must be called in the same order on every rank)`));
      }
      return Promise.resolve(item.p);
    }
    if (this.departed.has(src)) return Promise.reject(commError("RANK_LOST", `rank ${src} has closed its world`));
    if (this.closing) return Promise.reject(commError("WORLD_CLOSED", "the world is closed"));
    return new Promise((resolve, reject) => {
      const w: Waiter = { src, op, resolve, reject };
      if (this.opTimeoutMs > 0) {
        w.timer = setTimeout(() => {
          const list = this.waiters.get(key);
          const i = list?.indexOf(w) ?? -1;
          if (list && i >= 0) list.splice(i, 1);
          reject(commError("COMM_TIMEOUT", `rank ${this.rank} waited more than ${this.opTimeoutMs} ms for ${what} from rank ${src}`));
        }, this.opTimeoutMs);
      }
      const list = this.waiters.get(key);
      if (list) list.push(w);
      else this.waiters.set(key, [w]);
    });
  }

  // ---- outgoing ----------------------------------------------------------------------------------------

  private linkTo(dest: number): Link {
    if (this.broken) throw this.broken;
    if (this.closing) throw commError("WORLD_CLOSED", "the world is closed");
    const link = this.links.get(dest);
    if (!link || !link.open) {
      if (this.departed.has(dest)) throw commError("RANK_LOST", `rank ${dest} has closed its world`);
      throw commError("RANK_LOST", `no connection to rank ${dest}`);
    }
    return link;
  }

  /** Sends one encoded frame to `dest` (rendezvous messages). */
  sendFrame(dest: number, frame: Uint8Array): Promise<void> {
    return this.linkTo(dest).send(frame);
  }

  /**
   * Splits a payload into frames under the frame limit (8-byte aligned pieces). With `inPlace` (the caller
   * keeps the bytes unchanged until the send resolves, as collectives do), a large piece is not copied into
   * its frame: the frame is sent as a head and the piece itself, two fragments of one message.
   */
  private frames(make: (bytes: Uint8Array, offset: number, total: number) => CollectiveMsg | PointToPointMsg, bytes: Uint8Array, inPlace: boolean): Frame[] {
    const max = Math.max(8, (this.limits.maxPayload - 4096) & ~7);
    const frame = (piece: Uint8Array, off: number): Frame => {
      const m = make(piece, off, bytes.length);
      return !inPlace || piece.length < ZERO_COPY_BYTES ? encode(m) : { fragments: [encodeHead(m), piece] };
    };
    if (bytes.length <= max) return [frame(bytes, 0)];
    const out: Frame[] = [];
    for (let off = 0; off < bytes.length; off += max) out.push(frame(bytes.subarray(off, off + max), off));
    return out;
  }

  async post(dests: number[], h: coll.Header, p: Payload): Promise<void> {
    const links = dests.map((d) => this.linkTo(d));
    const frames = this.frames(
      (bytes, offset, total) => ({
        kind: "collective", op: h.op, tag: h.tag, seq: h.seq, root: h.root, step: h.step, src: this.rank, reduce: h.reduce,
        dtype: p.dtype, shape: p.shape, offset, total, parts: p.parts ?? [], payload: bytes,
      }),
      p.bytes,
      true, // collectives read their inputs until they resolve, and await their sends
    );
    try {
      await Promise.all(links.map((l) => l.send(frames)));
    } catch (e) {
      throw this.broken ?? (e instanceof CommError ? e : commError("RANK_LOST", (e as Error).message, e));
    }
  }

  take(src: number, seq: number, step: number, op: CollOp): Promise<Payload> {
    return this.wait(`c:${seq}:${step}:${src}`, src, op, `step ${step} of collective #${seq} (${CollOp[op]})`);
  }

  nextSeq(): number {
    if (this.broken) throw this.broken;
    if (this.closing) throw commError("WORLD_CLOSED", "the world is closed");
    return this.seq++;
  }

  // ---- World -------------------------------------------------------------------------------------------

  async barrier(): Promise<void> {
    return coll.barrier(this);
  }
  async bcast<T>(value: T, root = 0): Promise<T> {
    checkRank(root, this.size, "root");
    return coll.bcast(this, value, root);
  }
  async reduce<T>(value: T, op: ReduceFn<T> = "sum", root = 0): Promise<T | undefined> {
    checkRank(root, this.size, "root");
    return coll.reduce(this, value, op, root);
  }
  async allreduce<T>(value: T, op: ReduceFn<T> = "sum"): Promise<T> {
    return coll.allreduce(this, value, op);
  }
  async gather<T>(value: T, root = 0): Promise<T[] | undefined> {
    checkRank(root, this.size, "root");
    return coll.gather(this, value, root);
  }
  async allgather<T>(value: T): Promise<T[]> {
    return coll.allgather(this, value);
  }
  /** Every rank's bytes in rank order, e.g. reduction partials; `tag` separates independent streams. */
  async allgatherBytes(bytes: Uint8Array, tag = 0): Promise<Uint8Array[]> {
    return coll.allgatherBytes(this, bytes, tag);
  }

  async send(value: unknown, dest: number, tag = 0): Promise<void> {
    checkRank(dest, this.size, "destination");
    if (dest === this.rank) throw commError("INVALID_ARGUMENT", `send to itself (rank ${dest}) is not supported`);
    if (!Number.isInteger(tag) || tag < 0 || tag > 0x7fffffff) throw commError("INVALID_ARGUMENT", `tag ${tag} is not an integer in [0, 2^31)`);
    const link = this.linkTo(dest);
    const p = toPayload(value);
    const seq = this.p2pSeq.get(dest) ?? 0;
    this.p2pSeq.set(dest, seq + 1);
    const frames = this.frames(
      (bytes, offset, total) => ({ kind: "p2p", src: this.rank, dst: dest, tag, seq, dtype: p.dtype, shape: p.shape, offset, total, payload: bytes }),
      p.bytes,
      false, // send() copies the value at the call: the caller may change it before the send resolves
    );
    try {
      await link.send(frames);
    } catch (e) {
      throw this.broken ?? commError("RANK_LOST", (e as Error).message, e);
    }
  }

  async recv<T = unknown>(source: number, tag = 0): Promise<T> {
    checkRank(source, this.size, "source");
    if (source === this.rank) throw commError("INVALID_ARGUMENT", `recv from itself (rank ${source}) would wait forever`);
    return fromPayload(await this.wait(`p:${source}:${tag}`, source, -1, `a message with tag ${tag}`)) as T;
  }

  /**
   * Checks that every rank has the same fingerprint (e.g. of the graph it is about to compute); throws
   * COLLECTIVE_MISMATCH naming the ranks that differ from rank 0.
   */
  async checkFingerprint(fingerprint: string, what = "graph"): Promise<void> {
    const seq = this.nextSeq();
    const frame = encode({ kind: "fingerprint", rank: this.rank, seq, fingerprint });
    const others = Array.from({ length: this.size }, (_, q) => q).filter((q) => q !== this.rank);
    const all: string[] = new Array(this.size);
    all[this.rank] = fingerprint;
    await Promise.all([
      ...others.map((q) => this.linkTo(q).send(frame)),
      ...others.map(async (q) => {
        const p = await this.wait(`f:${seq}:${q}`, q, -1, `the ${what} fingerprint`);
        all[q] = new TextDecoder().decode(p.bytes);
      }),
    ]);
    const differ = all.map((f, q) => (f !== all[0] ? q : -1)).filter((q) => q >= 0);
    if (differ.length) {
      throw commError("COLLECTIVE_MISMATCH", `ranks ${differ.join(", ")} built a different ${what} than rank 0 (fingerprints ${all[differ[0]!]} vs ${all[0]}): every rank must build the same ${what}`);
    }
  }

  /**
   * Closes the world: a barrier (so no rank leaves while others still need it; skipped when the world is
   * broken), a Goodbye to every peer, then the links, the server and (rank 0) the rendezvous file.
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.closing) return;
    if (!this.broken) {
      try {
        await Promise.race([
          this.barrier(),
          new Promise((_, rej) => setTimeout(() => rej(new Error("timeout")), Math.max(graceMs, 10_000)).unref()),
        ]);
      } catch {
        /* closing anyway */
      }
    }
    this.closing = true;
    const bye = encode({ kind: "goodbye", rank: this.rank });
    await Promise.all(
      [...this.links.values()].map(async (l) => {
        if (l.open) await l.send(bye).catch(() => {});
        await l.close(1000, "goodbye", graceMs);
      }),
    );
    for (const [, ws] of this.waiters) for (const w of ws) w.reject(commError("WORLD_CLOSED", "the world was closed"));
    this.waiters.clear();
    await this.onClose?.();
  }
}

export { ReduceOp };
