/**
 * allreduce of one JS number between ranks that all share memory (at most DIRECT_MAX of them) in a single
 * round and without messages: each rank writes its number into one of its two slots in the segment
 * (ShmSegment.writeSlot: the value, the call's signature, then the stamp that publishes them), waits until
 * every peer's slot carries the call's stamp, reads their numbers and combines all of them in the
 * canonical order (canonical.ts). Same operands, same tree, same operations as every other path: the same
 * bits. The ring-based recursive doubling it replaces needed log2(P) dependent rounds of a record written,
 * found and freed each; with more ranks than cores every round is a chance to wait for a descheduled peer.
 *
 * The slot of a call is chosen by a count of this rank's allreduce calls (every rank makes the same calls
 * in the same order, so the same count), alternating between two. A slot is written again only once every
 * peer has finished the allreduce that used it before (each rank publishes how many it has finished, and
 * finishes them in order: one that arrives while an earlier one of this rank still waits is chained
 * behind it, SlotBoard.serial). In step, that holds at once: a rank that finished call c - 1 saw every
 * peer's slot of it, written after the peer had finished c - 2.
 *
 * Every allreduce of such a world takes its turn, whatever path it takes: a rank whose value is not a
 * number (or whose op is a function) writes a marker instead of a number, and takes the usual path. A rank
 * waiting on the slots sees the marker, or a signature of another op, or that a peer began another
 * collective under this call's sequence number (each rank publishes the collective it began last:
 * ShmSegment.setBegun), and fails the world with COLLECTIVE_MISMATCH naming both ranks' calls.
 *
 * A rank waits by spinning on its doorbell (slot writers ring it) for the exchange's spin budget, then
 * asynchronously through its world's mailbox, as for a message (the collective timeout, a lost rank and a
 * broken world end that wait the same way): the exchange's watcher polls the slots (SlotBoard.poll) as it
 * drains the rings, and delivers the wait's key when they are complete.
 */
import { CollOp } from "../protocol/messages.js";
import type { ShmSegment } from "../transport/shm-segment.js";
import type { Call } from "./call-header.js";
import type { CallSig } from "./call-check.js";
import { canonicalReduce } from "./canonical.js";
import { reduceOpCode, type BuiltinOp } from "./payload.js";
import type { ShmExchange } from "./shm-exchange.js";

/** A call's signature as one word (the slots' and ShmSegment.setBegun's, 24 bits): op, reduction, tag (8 bits). */
export const sigWord = (s: CallSig) => (s.op & 0xff) | ((s.reduce & 0xff) << 8) | ((s.tag & 0xff) << 16);
const unSigWord = (w: number): CallSig => ({ op: w & 0xff, reduce: (w >> 8) & 0xff, root: 0, tag: (w >> 16) & 0xff });
/** a slot's marker: its rank passed something other than a number (or a function op) */
const NOT_A_NUMBER = 1 << 30;

/** What the slots need of their world (WsWorld). */
export interface SlotWorld {
  readonly rank: number;
  readonly size: number;
  begin(op: CollOp, root?: number, reduce?: number, tag?: number): Call;
  /** waits, through the mailbox, until slotsDone(call); refused at once when one of `missing()` has left the world */
  waitSlots(call: Call, missing: () => number[]): Promise<unknown>;
  slotsDone(call: Call): void;
  /** ends waitSlots(call) with RANK_LOST: rank `q` (whose slot it lacks) left the world */
  slotsLost(call: Call, q: number): void;
  /**
   * Fails the world with COLLECTIVE_MISMATCH: rank `q` called `theirs` where this rank called allreduce
   * `call` with a number (`notNumber`: its allreduce had another value or a function op); returns the error.
   */
  slotMismatch(q: number, call: Call, theirs: CallSig, notNumber: boolean): Error;
}

interface Waiting {
  call: Call;
  /** the call's index among this rank's allreduces */
  c: number;
  stamp: number;
  sig: number;
  /** its slot is written (else it waits for the slot to be free) */
  written: boolean;
  value: number;
}

export class SlotBoard {
  /** allreduce calls begun on this rank: call c uses slot c & 1 */
  private count = 0;
  /** the last of this rank's allreduce calls that has not finished (the next waits for it), or null */
  private tail: Promise<unknown> | null = null;
  /** the call whose slots the watcher polls for */
  private waiting: Waiting | null = null;
  /** the error of a mismatch seen in the slots (the world is failed with it) */
  private mismatch: Error | null = null;
  /**
   * Whether this rank's previous allreduce succeeded: then every peer contributed to it, so had finished
   * the one before, and the next slot is free without looking (in step, the peers' lines stay unread).
   */
  private previousOk = true;
  private readonly wake: (i: number) => void;
  private readonly seg: ShmSegment;
  /** this rank, the world's size, and the local index of each rank (every rank of the world is local) */
  private readonly me: number;
  private readonly P: number;
  private readonly local: number[];

  constructor(private readonly world: SlotWorld, private readonly x: ShmExchange) {
    this.seg = x.segment;
    this.me = world.rank;
    this.P = world.size;
    this.local = Array.from({ length: this.P }, (_, r) => x.localIndex(r));
    this.wake = (i) => x.wakeRank(i);
  }

  /** allreduce of `value` with `op` over the slots. */
  allreduce(value: number, op: BuiltinOp): Promise<number> {
    let call: Call;
    try {
      call = this.world.begin(CollOp.Allreduce, 0, reduceOpCode(op));
    } catch (e) {
      return Promise.reject(e);
    }
    const c = this.count++;
    const go = (): number | Promise<number> => {
      const turn = this.x.loopTurn();
      return turn ? turn.then(() => this.start(call, c, value, op)) : this.start(call, c, value, op);
    };
    if (this.tail) return this.track(this.tail.then(go, go), c);
    try {
      const r = go();
      if (typeof r !== "number") return this.track(r, c);
      this.finish(c, true);
      return Promise.resolve(r);
    } catch (e) {
      this.finish(c, false);
      return Promise.reject(e);
    }
  }

  private finish(c: number, ok: boolean): void {
    this.seg.setFinished(c + 1);
    this.previousOk = ok;
  }

  /**
   * Runs `usual` (allreduce `call`, begun already, on another path) in this rank's order of allreduces,
   * having marked the call's slot as not a number (see the file's comment).
   */
  serial<T>(call: Call, usual: () => Promise<T>): Promise<T> {
    const c = this.count++;
    const go = () => {
      // only when the slot is free (it is, in step): a peer waiting on it would be a mismatch anyway
      if (this.free(c)) this.seg.writeSlot(c & 1, (call.seq + 1) | 0, sigWord(call) | NOT_A_NUMBER, 0, this.wake);
      return usual();
    };
    return this.track(this.tail ? this.tail.then(go, go) : go(), c);
  }

  /** The watcher's look at the slots (ShmExchange.progress): whether the awaited call moved on. */
  poll(): boolean {
    const w = this.waiting;
    if (!w) return false;
    if (!w.written) {
      if (!this.free(w.c)) return false;
      this.write(w);
    }
    if (this.missing(w.call, w.c & 1, w.stamp, w.sig, true) >= 0) return false;
    this.waiting = null;
    if (!this.mismatch) this.world.slotsDone(w.call); // else the failed world rejected the wait
    return true;
  }

  /** Rank `q` left the world: a wait that lacks its slot cannot end. */
  peerLeft(q: number): void {
    const w = this.waiting;
    if (w && q !== this.me && this.seg.slotStamp(this.local[q]!, w.c & 1) !== w.stamp) {
      this.waiting = null;
      this.world.slotsLost(w.call, q);
    }
  }

  /** Counts call c finished when `p` settles (before any later call, chained after it, starts). */
  private track<T>(p: Promise<T>, c: number): Promise<T> {
    this.tail = p;
    const done = (ok: boolean) => {
      this.finish(c, ok);
      if (this.tail === p) this.tail = null;
    };
    p.then(() => done(true), () => done(false));
    return p;
  }

  /**
   * Whether slot c & 1 is free: every peer has finished call c - 2, its previous use (finished count >=
   * c - 1). Known without looking when call c - 1 succeeded here (see previousOk).
   */
  private free(c: number): boolean {
    if (this.previousOk) return true;
    for (let q = 0; q < this.P; q++) if (q !== this.me && ((this.seg.finished(this.local[q]!) - (c - 1)) | 0) < 0) return false;
    return true;
  }

  private write(w: Waiting): void {
    this.seg.writeSlot(w.c & 1, w.stamp, w.sig, w.value, this.wake);
    w.written = true;
  }

  /** Writes this rank's slot of `call`, then waits for the peers': the result, or a promise of it. */
  private start(call: Call, c: number, value: number, op: BuiltinOp): number | Promise<number> {
    const w: Waiting = { call, c, stamp: (call.seq + 1) | 0, sig: sigWord(call), written: false, value };
    const ready = () => {
      if (!w.written) {
        if (!this.free(c)) return false;
        this.write(w);
      }
      return this.missing(call, c & 1, w.stamp, w.sig, false) < 0;
    };
    if (this.x.spinOnBell(ready)) return this.result(c & 1, value, op);
    this.waiting = w;
    const missing = () => {
      const out: number[] = [];
      for (let q = 0; q < this.P; q++) if (q !== this.me && this.seg.slotStamp(this.local[q]!, c & 1) !== w.stamp) out.push(q);
      return out;
    };
    const done = () => {
      if (this.waiting === w) this.waiting = null;
    };
    return this.world.waitSlots(call, missing).then(() => {
      done();
      return this.result(c & 1, value, op);
    }, (e) => {
      done();
      throw e;
    });
  }

  /**
   * The first rank whose slot `k` does not carry `stamp` yet, or -1 when all do (or a mismatch was seen:
   * the world is failed with it, and result() throws it). `begun`: whether to look at the lines of the
   * peers whose slot is missing (the watcher's polls do; the first spin does not, which leaves the lines
   * their ranks write at every call unread, in their caches, while peers are in step).
   */
  private missing(call: Call, k: number, stamp: number, sig: number, begun: boolean): number {
    if (this.mismatch) return -1;
    for (let q = 0; q < this.P; q++) {
      if (q === this.me) continue;
      const i = this.local[q]!;
      if (this.seg.slotStamp(i, k) === stamp) {
        const theirs = this.seg.slotSig(i, k);
        if (theirs === sig) continue;
        this.mismatch = this.world.slotMismatch(q, call, unSigWord(theirs), (theirs & NOT_A_NUMBER) !== 0);
        return -1;
      }
      // not there yet: unless the peer began another collective under this number (one that only waits,
      // a bcast from this rank, would never send this rank a message to tell it). A peer that went past it
      // sent a message of it to some rank, whose ledger tells (a later call may already cover the line
      // here: a peer's unawaited calls begin before its earlier ones are over)
      if (begun) {
        const [their, theirs] = this.seg.begun(i);
        if (their === (stamp & 0x3ffffff) && theirs !== (sig & 0xffffff)) {
          this.mismatch = this.world.slotMismatch(q, call, unSigWord(theirs), false);
          return -1;
        }
      }
      return q;
    }
    return -1;
  }

  /** Every rank's number in rank order, combined canonically. */
  private result(k: number, value: number, op: BuiltinOp): number {
    if (this.mismatch) throw this.mismatch;
    const vals: number[] = new Array(this.P);
    for (let q = 0; q < this.P; q++) vals[q] = q === this.me ? value : this.seg.slotValue(this.local[q]!, k);
    return canonicalReduce(vals, op);
  }
}
