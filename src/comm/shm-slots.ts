/**
 * allreduce of one JS number between ranks that all share memory (at most DIRECT_MAX of them) in a single
 * round and without messages: each rank writes its number into one of its two slots in the segment
 * (ShmSegment.writeSlot: the value, the call's signature, then the stamp that publishes them), waits until
 * every peer's slot carries the call's stamp, reads their numbers and combines all of them in the
 * canonical order (canonical.ts). Same operands, same tree, same operations as every other path: the same
 * bits. The ring-based recursive doubling it replaces needed log2(P) dependent rounds of a record written,
 * found and freed each; with more ranks than cores every round is a chance to wait for a descheduled peer.
 *
 * The slot of the call is chosen by a count of this rank's allreduce calls (every rank makes the same calls
 * in the same order, so the same count), alternating between two. Reuse is safe because a rank writes a
 * slot only after it has finished its previous allreduce, which needed every peer to have written that
 * one, hence to have finished reading the one before, the slot's previous use. So every allreduce of such
 * a world keeps that order: one that arrives while an earlier slot call of this rank still waits is
 * chained behind it (SlotBoard.serial).
 *
 * Every allreduce of such a world writes its slot, whatever path it takes: a rank whose value is not a
 * number (or whose op is a function) writes a marker instead of a number, and takes the usual path. A peer
 * waiting on the slots sees the marker, or a signature of another op, and fails the world with
 * COLLECTIVE_MISMATCH naming both ranks' calls; the rank on the usual path then learns it from the abort.
 *
 * A rank waits by spinning on its doorbell (the slot writers ring it) for the exchange's spin budget, then
 * asynchronously through its world's mailbox, as for a message (the collective timeout, a lost rank and a
 * broken world end that wait the same way): the exchange's watcher polls the slots (SlotBoard.poll) as it
 * drains the rings, and delivers the wait's key when they are complete.
 */
import { CollOp } from "../protocol/messages.js";
import type { ShmSegment } from "../transport/shm-segment.js";
import type { Call } from "./call-header.js";
import { canonicalReduce } from "./canonical.js";
import { reduceOpCode, type BuiltinOp } from "./payload.js";
import type { ShmExchange } from "./shm-exchange.js";

/** A slot's signature: the call's op and reduction, and whether the value is a number. */
const NOT_A_NUMBER = 1 << 16;
const sigOf = (call: Call, isNumber: boolean) => (call.op << 8) | call.reduce | (isNumber ? 0 : NOT_A_NUMBER);

/** What the slots need of their world (WsWorld). */
export interface SlotWorld {
  begin(op: CollOp, root?: number, reduce?: number, tag?: number): Call;
  /** a promise to await first when the event loop must turn (ShmExchange.holdsLoop), else null */
  loopTurn(): Promise<void> | null;
  /** waits, through the mailbox, until the board delivers call `call`'s slots; `missing`: a peer whose slot has not come */
  waitSlots(call: Call, missing: number): Promise<unknown>;
  /** delivers what waitSlots waits for */
  slotsDone(call: Call): void;
  /** fails the world: rank `q`'s slot holds signature `theirs` for call `call` (this rank passed a number); returns the error */
  slotMismatch(q: number, call: Call, theirs: { op: number; reduce: number; isNumber: boolean }): Error;
}

interface Waiting {
  call: Call;
  k: number;
  stamp: number;
  sig: number;
}

export class SlotBoard {
  /** allreduce calls begun on this rank: the next one uses slot `count & 1` */
  private count = 0;
  /** the last of this rank's allreduce calls that has not finished (the next waits for it), or null */
  private tail: Promise<unknown> | null = null;
  /** the call whose slots the watcher polls for */
  private waiting: Waiting | null = null;
  /** the error of a mismatch seen in the slots */
  private mismatch: Error | null = null;
  private readonly wake: (i: number) => void;
  private readonly seg: ShmSegment;
  /** this rank, the world's size, and the local index of each rank (every rank of the world is local) */
  private readonly me: number;
  private readonly P: number;
  private readonly local: number[];

  constructor(private readonly world: SlotWorld & { readonly rank: number; readonly size: number }, private readonly x: ShmExchange) {
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
    const k = this.count++ & 1;
    const go = (): number | Promise<number> => {
      const turn = this.world.loopTurn();
      return turn ? turn.then(() => this.start(call, k, value, op)) : this.start(call, k, value, op);
    };
    if (this.tail) return this.track(this.tail.then(go, go));
    try {
      const r = go();
      return typeof r === "number" ? Promise.resolve(r) : this.track(r);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Runs `usual` (allreduce `call`, begun already, on another path) after this rank's pending slot calls,
   * having marked the call's slot as not a number (see the file's comment).
   */
  serial<T>(call: Call, usual: () => Promise<T>): Promise<T> {
    const k = this.count++ & 1;
    const go = () => {
      // not rung: a peer that waits on the slots sees the marker when it next looks (it is an error anyway)
      this.seg.writeSlot(k, (call.seq + 1) | 0, sigOf(call, false), 0, null);
      return usual();
    };
    // tracked even when it starts at once: the next allreduce must not write a slot before this one is over
    return this.track(this.tail ? this.tail.then(go, go) : go());
  }

  /** The watcher's look at the slots (ShmExchange.progress): whether the awaited call completed. */
  poll(): boolean {
    const w = this.waiting;
    if (!w || this.missing(w.call, w.k, w.stamp, w.sig) >= 0) return false;
    this.waiting = null;
    this.world.slotsDone(w.call);
    return true;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.tail = p;
    const clear = () => {
      if (this.tail === p) this.tail = null;
    };
    p.then(clear, clear);
    return p;
  }

  /** Writes this rank's slot of `call`, then waits for the peers': the result, or a promise of it. */
  private start(call: Call, k: number, value: number, op: BuiltinOp): number | Promise<number> {
    const stamp = (call.seq + 1) | 0;
    const sig = sigOf(call, true);
    this.seg.writeSlot(k, stamp, sig, value, this.wake);
    if (this.x.spinOnBell(() => this.missing(call, k, stamp, sig) < 0)) return this.result(k, value, op);
    this.waiting = { call, k, stamp, sig };
    const first = Math.max(0, this.missing(call, k, stamp, sig));
    return this.world.waitSlots(call, first).then(() => this.result(k, value, op));
  }

  /**
   * The first local rank whose slot `k` does not carry `stamp` yet, or -1 when all do (or a mismatch was
   * seen: the world is failed with it, and result() throws it).
   */
  private missing(call: Call, k: number, stamp: number, sig: number): number {
    if (this.mismatch) return -1;
    for (let q = 0; q < this.P; q++) {
      if (q === this.me) continue;
      const i = this.local[q]!;
      if (this.seg.slotStamp(i, k) !== stamp) return q;
      const theirs = this.seg.slotSig(i, k);
      if (theirs !== sig) {
        this.mismatch = this.world.slotMismatch(q, call, { op: (theirs >> 8) & 0xff, reduce: theirs & 0xff, isNumber: (theirs & NOT_A_NUMBER) === 0 });
        return -1;
      }
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
