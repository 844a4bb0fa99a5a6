/**
 * A world of several ranks over WebSocket links (one per peer: a full mesh made at start-up in small
 * worlds, else links made on demand, peer-links.ts): message delivery keyed by
 * (collective sequence, step, source) or (source, tag) for point-to-point, reassembly of payloads split
 * over several frames, and failure. A lost peer (closed connection, missed heartbeats, or an Abort from
 * another rank) fails every pending and later operation with RANK_LOST naming it; collectives that cannot
 * match (COLLECTIVE_MISMATCH, call-check.ts) and waits past the collective timeout (COMM_TIMEOUT,
 * collective-timeout.ts) fail every rank's world the same way, with the same message. The news of a
 * failure floods: a rank that breaks tells every peer it has a link to, and each passes it on to its own,
 * so it reaches every rank of a world whose links span it (the start-up tree does) in a few hops.
 */
import {
  CollOp, DType, ReduceOp, decodeFragments, encode, type AddressTableMsg, type CollectiveMsg, type Msg, type PointToPointMsg,
} from "../protocol/messages.js";
import type { Frame, Link, LinkClosed } from "../transport/link.js";
import { PeerLinks, type Dial } from "./peer-links.js";
import { Reassembly, splitFrames, type Piece } from "./framing.js";
import { compareFingerprints } from "./fingerprint.js";
import type { TransportLimits } from "../transport/limits.js";
import { CLOSE_TAG, CallLedger, FINGERPRINT, describeCall, type CallSig } from "./call-check.js";
import { DEFAULT_COLLECTIVE_TIMEOUT_MS, formatWait } from "./collective-timeout.js";
import * as coll from "./collectives.js";
import * as gathers from "./gathers.js";
import { CommError, checkRank, commError, type CommErrorCode } from "./errors.js";
import { Mailbox } from "./mailbox.js";
import { AddressTableWait } from "./address-table.js";
import { EMPTY_PAYLOAD, bytesOf, fromPayload, reduceOpCode, toPayload, typedDtype, type BuiltinOp, type Payload, type Typed } from "./payload.js";
import { InPlaceReduction } from "./shm-reduce.js";
import { checkBcastOut, checkGatherOut, checkOut, withCheckedOut, type AllgatherOptions, type BcastOptions, type GatherOptions, type ReduceOptions } from "./out-buffer.js";
import { WorldFailure, type RankLostHandler, type WorldFailureHandler } from "./world-failure.js";
import { ShmNumbers, allreduceNumber, barrierNumbers } from "./shm-numbers.js";
import { SlotBoard, sigWord } from "./shm-slots.js";
import type { LocalMessage, ShmExchange } from "./shm-exchange.js";
import type { HostTopology } from "./topology.js";
import type { ReduceFn, World } from "./world.js";

export type { RankLostHandler, WorldFailureHandler };

/** The codes a world can break with besides RANK_LOST: every rank fails with the same. */
const WORLD_CODES: ReadonlySet<string> = new Set<CommErrorCode>(["COLLECTIVE_MISMATCH", "COMM_TIMEOUT"]);

export interface WsWorldOptions {
  limits: TransportLimits;
  /** a wait for one message longer than this fails the world with COMM_TIMEOUT (default 10 min; 0: never) */
  collectiveTimeoutMs?: number;
}

export class WsWorld implements World, coll.Comm {
  readonly rank: number;
  readonly size: number;
  private readonly limits: TransportLimits;
  private readonly links = new PeerLinks((link) => this.started(link));
  private readonly mailbox: Mailbox;
  private readonly pieces = new Reassembly();
  private readonly departed = new Set<number>();
  private readonly p2pSeq = new Map<number, number>();
  private readonly ledger: CallLedger;
  private closing = false;
  /** how this world breaks: the error, the Abort told to the peers, the failure handlers */
  private readonly fail: WorldFailure;
  private readonly tableWait = new AddressTableWait();
  /** rank 0's address table, when it arrived (non-zero ranks) */
  get table(): AddressTableMsg | null { return this.tableWait.table; }
  /** the shared-memory exchange with the ranks of this host (shm-setup.ts), if any */
  private local: ShmExchange | null = null;
  /** which ranks share a host, in a world of several hosts (set by shm-setup.ts; collectives go node-locally first) */
  topology: HostTopology | null = null;
  /** collectives of one number without the event loop, when every rank shares this one's memory */
  private numbers: ShmNumbers | null = null;
  /** allreduce of a number through the segment's slots, when every rank (at most DIRECT_MAX) shares it */
  private slots: SlotBoard | null = null;
  /** called once when the world closes (server, rendezvous file) */
  onClose: (() => Promise<void>) | null = null;
  /** called by holdProcess for what the world holds besides its links (the server) */
  onHoldProcess: ((hold: boolean) => void) | null = null;

  constructor(rank: number, size: number, opts: WsWorldOptions) {
    this.rank = rank;
    this.size = size;
    this.fail = new WorldFailure({
      rank,
      closing: () => this.closing,
      failPending: (err) => {
        this.mailbox.rejectWaits(err);
        this.links.rejectAll(err);
        this.local?.fail(err);
        this.tableWait.fail(err);
      },
      tell: (frame, except) => Promise.all(this.links.entries().filter(([q, l]) => q !== except && l.open).map(([, l]) => l.send(frame).catch(() => {}))).then(() => {}),
    });
    this.limits = opts.limits;
    this.ledger = new CallLedger(rank);
    const timeoutMs = opts.collectiveTimeoutMs ?? DEFAULT_COLLECTIVE_TIMEOUT_MS;
    this.mailbox = new Mailbox(timeoutMs, (what) => {
      this.failWorld(
        "COMM_TIMEOUT",
        `rank ${rank} waited more than ${formatWait(timeoutMs)} in ${what}; if a rank may work this long while another ` +
          "waits, raise --collective-timeout (TESSERA_COLLECTIVE_TIMEOUT_MS)",
      );
    });
  }

  // ---- links -------------------------------------------------------------------------------------------

  /** The choice of transport is made (its collectives are not the user's); ranks of `make`'s exchange share memory. */
  endSetup(make: ((deliver: (src: number, m: LocalMessage) => void, busy: () => boolean) => ShmExchange) | null): void {
    this.ledger.endSetup();
    if (make) this.local = make((src, m) => this.accept(src, m), () => this.mailbox.waiting > 0);
    if (this.local) this.numbers = new ShmNumbers(this, this.local, this.mailbox);
    if (this.local && this.allLocal && this.size <= coll.DIRECT_MAX) {
      const slots = (this.slots = new SlotBoard(this, this.local));
      this.local.setPoller(() => slots.poll());
    }
  }

  // ---- the number slots (SlotBoard's SlotWorld) ----------------------------------------------------------

  waitSlots(call: coll.Call, missing: () => number[]): Promise<unknown> {
    const gone = missing().find((q) => this.departed.has(q));
    if (gone !== undefined) return Promise.reject(commError("RANK_LOST", `rank ${gone} has closed its world`));
    const what = () => `${describeCall(call)} ${this.ledger.label(call.seq)} for the number of rank(s) ${missing().join(", ")}`;
    return this.wait(`s:${call.seq}`, this.rank, what, false);
  }

  slotsDone(call: coll.Call): void {
    this.mailbox.deliver(`s:${call.seq}`, EMPTY_PAYLOAD);
  }

  slotsLost(call: coll.Call, q: number): void {
    this.mailbox.rejectKey(`s:${call.seq}`, commError("RANK_LOST", `rank ${q} closed its world while this rank waited for it`));
  }

  slotMismatch(q: number, call: coll.Call, theirs: CallSig, notNumber: boolean): CommError {
    const other = notNumber ? null : this.ledger.arrived(q, call.seq, theirs);
    return this.failWorld("COLLECTIVE_MISMATCH", other ?? (
      `rank ${q} passed a value other than a number, or a function op, to ${describeCall(call)} ${this.ledger.label(call.seq)}, while rank ${this.rank} ` +
        "passed a number: every rank must pass the same kind of value and the same op"
    ));
  }

  hasLink(rank: number): boolean {
    return this.links.has(rank);
  }

  /** Whether this rank is connecting to `rank` on demand right now (mesh.ts settles crossing dials with it). */
  isDialing(rank: number): boolean {
    return this.links.isDialing(rank);
  }

  /** Makes links on demand with `dial` (null: every link is made at start-up, a full mesh). */
  connectOnDemand(dial: Dial | null): void {
    this.links.dial = dial;
  }

  /**
   * Whether the world's connections keep the process running. initWorld turns it off once the world is
   * met, so that a rank whose script has returned reaches 'beforeExit' (and leaves the world there, see
   * index.ts); close() turns it on again until the goodbyes are through.
   */
  holdProcess(hold: boolean): void {
    this.links.holdProcess(hold);
    this.onHoldProcess?.(hold);
  }

  /** Connects to `rank` now (the start-up tree); rejects with why it could not. */
  async connect(rank: number): Promise<void> {
    if (this.broken) throw this.broken;
    await this.links.ensure(rank);
    if (!this.links.has(rank)) throw this.broken ?? commError("RENDEZVOUS_FAILED", `rank ${this.rank} has no link to rank ${rank}`);
  }

  /** Operations waiting for a peer (messages, links, the address table): while any waits, this rank is not idle. */
  get pendingOperations(): number {
    return this.links.waiting + (this.tableWait.waiting ? 1 : 0) + this.mailbox.waiting;
  }

  get connectedRanks(): number[] {
    return this.links.ranks();
  }

  /** Takes over an authenticated link to `link.peer` (not when there is one to it already: false). */
  attach(link: Link): boolean {
    return this.links.attach(link);
  }

  private started(link: Link): void {
    const peer = link.peer;
    link.start(
      (fragments) => this.onFrame(peer, fragments),
      (info) => {
        if (this.links.isCurrent(peer, link)) this.onLinkClosed(peer, info);
      },
    );
    // a peer that connects to a broken rank (it needs it in a collective) learns why at once
    if (this.fail.abortFrame) link.send(this.fail.abortFrame).catch(() => {});
  }

  /** Resolves when links to all `ranks` exist; rejects at `deadline` (with `describe(missing)`) or on a loss. */
  waitLinks(ranks: number[], deadline: number, describe: (missing: number[]) => string): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    return this.links.waitFor(ranks, deadline, describe);
  }

  waitTable(deadline: number, what: string): Promise<AddressTableMsg> {
    return this.tableWait.wait(deadline, what);
  }

  // ---- failure -----------------------------------------------------------------------------------------

  /** Registers a callback for the first lost rank (called at once if one was lost already). */
  onRankLost(cb: RankLostHandler): () => void {
    return this.fail.onRankLost(cb);
  }

  /** Registers a callback for the failure that breaks this world, whatever its code (called at once if it broke already). */
  onFailure(cb: WorldFailureHandler): () => void {
    return this.fail.onFailure(cb);
  }

  /** The error that broke this world, if one did. */
  get failure(): CommError | null { return this.fail.broken; }

  private get broken(): CommError | null { return this.fail.broken; }

  /**
   * Settles once the other ranks were sent why this world broke (at most `ms` later): a process that exits
   * on a failure waits for this, or its peers would see only a closed connection (RANK_LOST), not the cause.
   */
  failureSent(ms = 1000): Promise<void> {
    return this.fail.sent(ms);
  }

  /** Declares `rank` lost: fails every pending and later operation, tells the peers it has links to (unless told). */
  markLost(rank: number, reason: string, tellOthers = true, unresponsive = false): void {
    this.fail.markLost(rank, reason, tellOthers, unresponsive);
  }

  /** Fails every rank's world with `code` (COLLECTIVE_MISMATCH, COMM_TIMEOUT) and `message`; returns the error. */
  failWorld(code: "COLLECTIVE_MISMATCH" | "COMM_TIMEOUT", message: string, tellOthers = true): CommError {
    return this.fail.failWorld(code, message, tellOthers);
  }

  /** Tells every rank this one gives up (they fail with RANK_LOST naming this rank), then fails locally. */
  abort(reason: string): void {
    this.markLost(this.rank, reason, true);
  }

  private onLinkClosed(peer: number, info: LinkClosed): void {
    if (this.closing || this.departed.has(peer)) return;
    this.markLost(peer, info.reason, true, info.dead);
  }

  // ---- incoming ----------------------------------------------------------------------------------------

  private onFrame(src: number, fragments: Uint8Array[]): void {
    this.local?.progress(); // what a local peer wrote before it sent this (a Goodbye, an Abort) comes first
    let m: Msg;
    try {
      m = decodeFragments(fragments);
    } catch (e) {
      this.markLost(src, `it sent a malformed frame (${(e as Error).message})`);
      return;
    }
    switch (m.kind) {
      case "collective":
      case "p2p":
        return this.accept(src, m);
      case "abort":
        // passed on to this rank's own peers: the ranks that sent it may not have links to them
        if (m.code && WORLD_CODES.has(m.code)) this.failWorld(m.code as "COLLECTIVE_MISMATCH" | "COMM_TIMEOUT", m.reason);
        else if (m.rank === src) this.markLost(m.rank, `it aborted: ${m.reason}`);
        else this.markLost(m.rank, relayed(m.reason) ? m.reason : `${m.reason} (reported by rank ${src})`);
        return;
      case "goodbye":
        this.departed.add(src);
        this.mailbox.rejectWaits(commError("RANK_LOST", `rank ${src} closed its world while this rank waited for it`), src);
        this.slots?.peerLeft(src);
        return;
      case "addresses":
        if (src === 0) {
          this.tableWait.arrived(m);
        }
        return;
      case "fingerprint":
        if (!this.checkCall(src, m.seq, { op: FINGERPRINT, root: 0, reduce: ReduceOp.None, tag: 0 })) return;
        this.mailbox.deliver(`f:${m.seq}:${src}`, { dtype: DType.Value, shape: [], bytes: new TextEncoder().encode(m.fingerprint) });
        return;
      default:
        return; // hello, heartbeat: nothing to do
    }
  }

  /** A collective's or point-to-point message (or piece of one), from a WebSocket link or shared memory. */
  private accept(src: number, m: CollectiveMsg | PointToPointMsg): void {
    if (m.kind === "collective") {
      if (!this.checkCall(src, m.seq, m)) return;
      if (m.total > m.payload.length) this.assemble(`c:${m.seq}:${m.step}:${src}`, src, m, m.offset, m.total);
      else this.mailbox.deliver(`c:${m.seq}:${m.step}:${src}`, { dtype: m.dtype, shape: m.shape, bytes: m.payload, parts: m.parts });
    } else if (m.total > m.payload.length) this.assemble(`p:${src}:${m.tag}`, src, m, m.offset, m.total);
    else this.mailbox.deliver(`p:${src}:${m.tag}`, { dtype: m.dtype, shape: m.shape, bytes: m.payload });
  }

  /** Checks a peer's message of its call `seq` against this rank's calls; false (the world broken) on a mismatch. */
  private checkCall(src: number, seq: number, sig: CallSig): boolean {
    const mismatch = this.ledger.arrived(src, seq, sig);
    if (mismatch === null) return true;
    this.failWorld("COLLECTIVE_MISMATCH", mismatch);
    return false;
  }

  private assemble(key: string, src: number, m: Piece, offset: number, total: number): void {
    const got = this.pieces.add(key, m, offset, total);
    if (typeof got === "string") this.markLost(src, got);
    else if (got) this.mailbox.deliver(key, got);
    else this.mailbox.progress(key); // the wait for it starts again
  }

  /** `spin`: whether a local peer's message is spun for first (ShmNumbers.takeValue spun already). */
  private wait(key: string, src: number, what: () => string, spin = true): Promise<Payload> {
    if (this.broken) return Promise.reject(this.broken);
    const local = this.local;
    // a local peer's message: spin for it a moment, then let the exchange's watcher sleep for it
    if (local?.isLocal(src) && !(spin && local.spinUntil(() => this.mailbox.has(key)))) queueMicrotask(() => void local.watch());
    return this.mailbox.wait(key, src, what, () => {
      if (this.departed.has(src)) return commError("RANK_LOST", `rank ${src} has closed its world`);
      if (this.closing) return commError("WORLD_CLOSED", "the world is closed");
      return null;
    });
  }

  // ---- outgoing ----------------------------------------------------------------------------------------

  /** The link to `dest`, connecting to it first when there is none yet (on demand). */
  private async linkFor(dest: number): Promise<Link> {
    if (this.broken) throw this.broken;
    if (this.closing) throw commError("WORLD_CLOSED", "the world is closed");
    if (!this.links.has(dest) && !this.departed.has(dest)) {
      try {
        await this.links.ensure(dest);
      } catch (e) {
        // a peer this rank cannot reach is lost to it: every rank learns so, as for a closed link. But it
        // may have left because the world broke elsewhere: the news of that, on another link, goes first.
        await new Promise((r) => setTimeout(r, 1000));
        this.markLost(dest, `rank ${this.rank} could not connect to it: ${(e as Error).message}`);
        throw this.broken ?? e;
      }
    }
    return this.linkTo(dest);
  }

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
  async sendFrame(dest: number, frame: Uint8Array): Promise<void> {
    return (await this.linkFor(dest)).send(frame);
  }

  private readonly frames = (make: (bytes: Uint8Array, offset: number, total: number) => CollectiveMsg | PointToPointMsg, bytes: Uint8Array, inPlace: boolean): Frame[] =>
    splitFrames(make, bytes, inPlace, this.limits.maxPayload);

  async post(dests: number[], h: coll.Header, p: Payload): Promise<void> {
    let queued: Promise<unknown> | null = null;
    if (this.local) {
      if (this.broken) throw this.broken;
      ({ remote: dests, queued } = this.local.postCollective(dests, h, p));
    }
    if (queued) await queued;
    if (dests.length === 0) return;
    const links = await Promise.all(dests.map((d) => this.linkFor(d)));
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

  take(src: number, call: coll.Call, step: number, spin = true): Promise<Payload> {
    return this.wait(`c:${call.seq}:${step}:${src}`, src, () => `${describeCall(call)} ${this.ledger.label(call.seq)} for rank ${src} (step ${step})`, spin);
  }

  get allLocal(): boolean {
    return this.local !== null && this.local.ranks.length === this.size;
  }

  /** coll.Comm's reduceSegments: an InPlaceReduction over the rings (shm-reduce.ts), when every rank shares memory; it settles through the mailbox. */
  reduceSegments(call: coll.Call, step: number, mine: Typed, out: Typed, op: BuiltinOp, n: number): Promise<void> | null {
    if (!this.local || !this.allLocal || this.broken) return null;
    const key = `r:${call.seq}:${step}`;
    const came = (q: number) => this.mailbox.has(`c:${call.seq}:${step}:${q}`);
    const started = InPlaceReduction.start(this.local, { call, step, mine, out, op, n }, this.rank, this.size, came, (err) => {
      if (err) this.failWorld("COLLECTIVE_MISMATCH", err.message);
      else this.mailbox.deliver(key, EMPTY_PAYLOAD);
    });
    if (!started) return null;
    return this.wait(key, this.rank === 0 ? 1 : 0, () => `${describeCall(call)} ${this.ledger.label(call.seq)} for the other ranks' copies of this rank's segment (step ${step})`).then(() => {});
  }

  /** take() into `into` when the message comes over shared memory (ShmExchange.receiveInto). */
  takeInto(src: number, call: coll.Call, step: number, into: Typed): Promise<Payload> {
    const withdraw = this.local?.isLocal(src) ? this.local.receiveInto(src, call.seq, step, bytesOf(into), typedDtype(into)) : null;
    const p = this.take(src, call, step);
    return withdraw ? p.finally(withdraw) : p;
  }

  begin(op: CollOp, root = 0, reduce = ReduceOp.None, tag = 0): coll.Call {
    return { op, root, reduce, tag, seq: this.beginCall({ op, root, reduce, tag }) };
  }

  /** Starts this rank's next collective: its sequence number; a mismatch with a peer's call of it fails the world. */
  private beginCall(sig: CallSig): number {
    if (this.broken) throw this.broken;
    if (this.closing) throw commError("WORLD_CLOSED", "the world is closed");
    const { seq, mismatch } = this.ledger.begin(sig);
    if (mismatch !== null) throw this.failWorld("COLLECTIVE_MISMATCH", mismatch);
    // for the peers' slot waits (shm-slots.ts): a collective that only waits sends them nothing to match
    if (this.slots) this.local!.segment.setBegun((seq + 1) | 0, sigWord(sig));
    return seq;
  }

  // ---- World -------------------------------------------------------------------------------------------

  // not async (nor allreduce): an async function returning the path's promise adds two microtask turns
  barrier(): Promise<void> {
    if (this.numbers?.usable()) return barrierNumbers(this.numbers); // without the event loop, as allreduce of a number
    return coll.barrier(this);
  }
  async bcast<T>(value: T, root = 0, options?: BcastOptions<T>): Promise<T> {
    checkRank(root, this.size, "root");
    return withCheckedOut(() => checkBcastOut(value, options, this.rank === root), (out) => coll.bcast(this, value, root, out));
  }
  async reduce<T>(value: T, op: ReduceFn<T> = "sum", root = 0, options?: ReduceOptions<T>): Promise<T | undefined> {
    checkRank(root, this.size, "root");
    return withCheckedOut(() => checkOut(value, options, "reduce"), (out) => coll.reduce(this, value, op, root, out));
  }
  allreduce<T>(value: T, op: ReduceFn<T> = "sum", options?: ReduceOptions<T>): Promise<T> {
    const slots = this.slots;
    if (slots) {
      // a number, through the slots, in one round; any other value on the usual path, in the slots' order
      if (typeof value === "number" && typeof op === "string") {
        if (options === undefined) return slots.allreduce(value, op as BuiltinOp) as Promise<T>;
        return withCheckedOut(() => checkOut(value, options, "allreduce"), () => slots.allreduce(value, op as BuiltinOp)) as Promise<T>;
      }
      let call: coll.Call;
      try {
        call = this.begin(CollOp.Allreduce, 0, reduceOpCode(op as ReduceFn<unknown>));
      } catch (e) {
        return Promise.reject(e);
      }
      return slots.serial(call, () => withCheckedOut(() => checkOut(value, options, "allreduce"), (out) => coll.allreduce(this, value, op, out, call)));
    }
    // a number between ranks that all share memory, when nothing else is in flight: without the event loop
    if (options === undefined && typeof value === "number" && typeof op === "string" && this.numbers?.usable()) return allreduceNumber(this.numbers, value, op as BuiltinOp) as Promise<T>;
    return withCheckedOut(() => checkOut(value, options, "allreduce"), (out) => coll.allreduce(this, value, op, out)); // a promise either way, as from the async methods
  }
  async gather<T>(value: T, root = 0, options?: GatherOptions<T>): Promise<T[] | undefined> {
    checkRank(root, this.size, "root");
    return withCheckedOut(() => checkGatherOut(value, options, root, this.rank, this.size), (out) => gathers.gather(this, value, root, out));
  }
  async allgather<T>(value: T, options?: AllgatherOptions<T>): Promise<T[]> {
    return withCheckedOut(() => checkGatherOut(value, options, this.rank, this.rank, this.size, "allgather"), (out) => gathers.allgather(this, value, out));
  }
  /** Every rank's bytes in rank order, e.g. reduction partials; `tag` separates independent streams. */
  async allgatherBytes(bytes: Uint8Array, tag = 0): Promise<Uint8Array[]> {
    return gathers.allgatherBytes(this, bytes, tag);
  }

  async send(value: unknown, dest: number, tag = 0): Promise<void> {
    checkRank(dest, this.size, "destination");
    if (dest === this.rank) throw commError("INVALID_ARGUMENT", `send to itself (rank ${dest}) is not supported`);
    if (!Number.isInteger(tag) || tag < 0 || tag > 0x7fffffff) throw commError("INVALID_ARGUMENT", `tag ${tag} is not an integer in [0, 2^31)`);
    const p = toPayload(value);
    if (this.local?.isLocal(dest)) return this.broken ? Promise.reject(this.broken) : (this.local.send(dest, p, tag) ?? undefined);
    const seq = this.p2pSeq.get(dest) ?? 0;
    this.p2pSeq.set(dest, seq + 1);
    const frames = this.frames(
      (bytes, offset, total) => ({ kind: "p2p", src: this.rank, dst: dest, tag, seq, dtype: p.dtype, shape: p.shape, offset, total, payload: bytes }),
      p.bytes,
      false, // send() copies the value at the call: the caller may change it before the send resolves
    );
    const link = await this.linkFor(dest);
    try {
      await link.send(frames);
    } catch (e) {
      throw this.broken ?? commError("RANK_LOST", (e as Error).message, e);
    }
  }

  async recv<T = unknown>(source: number, tag = 0): Promise<T> {
    checkRank(source, this.size, "source");
    if (source === this.rank) throw commError("INVALID_ARGUMENT", `recv from itself (rank ${source}) would wait forever`);
    return fromPayload(await this.wait(`p:${source}:${tag}`, source, () => {
      const other = this.mailbox.unreceivedFrom(source);
      return `recv from rank ${source} with tag ${tag}` + (other ? ` (messages from rank ${source} that no recv took: ${other})` : "");
    })) as T;
  }

  /**
   * Checks that every rank has the same fingerprint (e.g. of the graph it is about to compute); throws
   * COLLECTIVE_MISMATCH naming the ranks that differ from rank 0.
   */
  async checkFingerprint(fingerprint: string, what = "graph"): Promise<void> {
    const seq = this.beginCall({ op: FINGERPRINT, root: 0, reduce: ReduceOp.None, tag: 0 });
    await compareFingerprints({
      rank: this.rank,
      size: this.size,
      send: async (q, text) => (await this.linkFor(q)).send(encode({ kind: "fingerprint", rank: this.rank, seq, fingerprint: text })),
      take: async (q) => new TextDecoder().decode((await this.wait(`f:${seq}:${q}`, q, () => `a graph fingerprint check ${this.ledger.label(seq)} for rank ${q}`)).bytes),
    }, fingerprint, what);
  }

  /**
   * Closes the world: a barrier (so no rank leaves while others still need it; skipped when the world is
   * broken), a Goodbye to every peer, then the links, the server and (rank 0) the rendezvous file.
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.closing) return;
    this.holdProcess(true); // the barrier's waits are untimed below: the links keep the process until the goodbyes
    if (!this.broken) {
      this.mailbox.untimed(); // bounded here, not by the collective timeout (a mismatch still fails it at once)
      try {
        await Promise.race([
          coll.barrier(this, CLOSE_TAG),
          new Promise((_, rej) => setTimeout(() => rej(new Error("timeout")), Math.max(graceMs, 10_000)).unref()),
        ]);
      } catch {
        /* closing anyway */
      }
    }
    this.closing = true;
    const bye = encode({ kind: "goodbye", rank: this.rank });
    await Promise.all(
      this.links.entries().map(async ([, l]) => {
        if (l.open) await l.send(bye).catch(() => {});
        await l.close(1000, "goodbye", graceMs);
      }),
    );
    this.mailbox.rejectWaits(commError("WORLD_CLOSED", "the world was closed"));
    this.local?.fail(commError("WORLD_CLOSED", "the world was closed"));
    await this.onClose?.();
  }
}

/** A reason passed on from rank to rank says once which rank reported it. */
const relayed = (reason: string) => /\(reported by rank \d+\)$|^it aborted: /.test(reason);

export { ReduceOp };
