/**
 * Matching collectives across ranks. Every collective a rank calls takes the world's next sequence number
 * and has a signature (which collective, its root, reduction and tag); every message of it carries both.
 * A receiver compares each arriving message's signature with its own call of the same number, or, when it
 * has not got that far yet, keeps the sender's signature until it does. Ranks that called different
 * collectives then fail with COLLECTIVE_MISMATCH naming both calls, instead of each waiting forever for
 * messages the other will never send (their algorithms exchange with different peers at different steps).
 */
import { CollOp, ReduceOp } from "../protocol/messages.js";

/** A graph-fingerprint check (WsWorld.checkFingerprint): a collective with its own message, not a CollOp. */
export const FINGERPRINT = -2;
/** The tag of closing a world's barrier (a rank that ends its script early must not pass another's barrier). */
export const CLOSE_TAG = 1;

export interface CallSig {
  op: CollOp | typeof FINGERPRINT;
  root: number;
  reduce: ReduceOp;
  tag: number;
}

/**
 * A peer may run ahead of this rank by any number of collectives it completes without this rank (a
 * non-root gather, say): its messages wait in the early table. This rank's own calls are remembered for this
 * many sequence numbers, for messages of calls it has finished that arrive late (from a mismatched rank).
 */
const REMEMBERED = 4096;

const REDUCE_NAMES: Record<number, string> = {
  [ReduceOp.Sum]: "sum", [ReduceOp.Min]: "min", [ReduceOp.Max]: "max", [ReduceOp.Prod]: "prod", [ReduceOp.Custom]: "a function",
};

/** How a call reads in a message: "barrier", "bcast (root 2)", "allreduce (sum)", "compute()'s allgather"... */
export function describeCall(s: CallSig): string {
  const red = REDUCE_NAMES[s.reduce] ?? `reduce op ${s.reduce}`;
  switch (s.op) {
    case CollOp.Barrier: return s.tag === CLOSE_TAG ? "closeWorld()" : "barrier";
    case CollOp.Bcast: return `bcast (root ${s.root})`;
    case CollOp.Reduce: return `reduce (${red}, root ${s.root})`;
    case CollOp.Allreduce: return `allreduce (${red})`;
    case CollOp.Gather: return `gather (root ${s.root})`;
    case CollOp.Allgather: return "allgather";
    case CollOp.AllgatherBytes: return s.tag === 0 ? "compute()'s allgather" : `allgatherBytes (tag ${s.tag})`;
    case FINGERPRINT: return "a graph fingerprint check";
    default: return `collective op ${s.op}`;
  }
}

const same = (a: CallSig, b: CallSig) => a.op === b.op && a.root === b.root && a.reduce === b.reduce && a.tag === b.tag;

/** "rank 0 called compute()'s allgather #3 while rank 1 called barrier #3: ..." (lower rank first; numbered from 1). */
export function mismatchMessage(a: number, sa: CallSig, b: number, sb: CallSig, seq: number, first = 0): string {
  if (b < a) return mismatchMessage(b, sb, a, sa, seq, first);
  const n = seq + 1 - first;
  return `rank ${a} called ${describeCall(sa)} #${n} while rank ${b} called ${describeCall(sb)} #${n}: ` +
    "every rank must call the same collectives, compute() included (it is collective), in the same order";
}

export class CallLedger {
  private readonly rank: number;
  /** this rank's last REMEMBERED calls, at seq % REMEMBERED (a ring, not a Map: no garbage per call) */
  private readonly mine: (CallSig | undefined)[] = new Array(REMEMBERED);
  private readonly mineSeq = new Float64Array(REMEMBERED).fill(-1);
  /** signatures of peers' calls this rank has not reached yet: seq -> src -> signature */
  private readonly early = new Map<number, Map<number, CallSig>>();
  private nextSeq = 0;
  /** calls of the world's own set-up (the choice of transport), before the user's: not counted in messages */
  private setup = 0;

  constructor(rank: number) {
    this.rank = rank;
  }

  /** The calls so far were the world's set-up: messages number the user's calls from the next one. */
  endSetup(): void {
    this.setup = this.nextSeq;
  }

  /** How messages name call `seq`: "#1" for the user's first. */
  label(seq: number): string {
    return `#${seq + 1 - this.setup}`;
  }

  /** The sequence number the next call takes. */
  get next(): number {
    return this.nextSeq;
  }

  /**
   * This rank calls a collective: records it under the next sequence number. Returns the number and, when a
   * peer's message for it already came with another signature, the mismatch.
   */
  begin(sig: CallSig): { seq: number; mismatch: string | null } {
    const seq = this.nextSeq++;
    this.mine[seq % REMEMBERED] = sig;
    this.mineSeq[seq % REMEMBERED] = seq;
    const theirs = this.early.size ? this.early.get(seq) : undefined;
    if (theirs) this.early.delete(seq);
    let mismatch: string | null = null;
    if (theirs) {
      for (const [src, s] of theirs) {
        if (!same(s, sig)) {
          mismatch = mismatchMessage(src, s, this.rank, sig, seq, this.setup);
          break;
        }
      }
    }
    return { seq, mismatch };
  }

  /** A message of `src`'s call `seq` arrived: the mismatch with this rank's call of that number, if any. */
  arrived(src: number, seq: number, sig: CallSig): string | null {
    const own = seq >= 0 && this.mineSeq[seq % REMEMBERED] === seq ? this.mine[seq % REMEMBERED] : undefined;
    if (own) return same(own, sig) ? null : mismatchMessage(src, sig, this.rank, own, seq, this.setup);
    if (seq < this.nextSeq) return null; // a call this rank made too long ago to remember
    let m = this.early.get(seq);
    if (!m) this.early.set(seq, (m = new Map()));
    for (const [other, s] of m) if (other !== src && !same(s, sig)) return mismatchMessage(src, sig, other, s, seq, this.setup);
    if (!m.has(src)) m.set(src, sig);
    return null;
  }
}
