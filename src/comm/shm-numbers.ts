/**
 * Collectives of one JS number (and the barrier, of empty messages) between ranks that all share memory, without the event loop: each message
 * is written straight into the ring to its peer and read straight out of the ring from it while this
 * thread spins (ShmExchange.sendNumber/takeNumber), so a collective whose peers are ready completes in
 * one synchronous run (a few microseconds) instead of a chain of promises, event-loop turns and a futex
 * watcher's wake-up through libuv's thread pool. A message that does not come within the spin budget is
 * waited for as usual (the watcher sleeps in a futex), from where the algorithm stands.
 *
 * The algorithms, steps and records are exactly those of collectives.ts (recursive doubling for a power-
 * of-two world, else the binomial reduction to rank 0 and its broadcast), and the combination order the
 * same canonical one, so ranks on this path and on the general one interoperate and results are
 * bit-identical to the WebSocket path's.
 */
import { CollOp, ReduceOp } from "../protocol/messages.js";
import { BCAST_STEP, type Comm } from "./collectives.js";
import { stepHeader as hdr, type Call, type Header } from "./call-header.js";
import type { Mailbox } from "./mailbox.js";
import { EMPTY_PAYLOAD, combine, fromPayload, reduceOpCode, toPayload, type BuiltinOp, type Payload } from "./payload.js";
import type { ShmExchange } from "./shm-exchange.js";

export interface NumberComm {
  readonly rank: number;
  readonly size: number;
  begin(op: CollOp, root?: number, reduce?: number, tag?: number): Call;
  /** sends a number (null: an empty message, a barrier's) to each of `dests`: written at once (null), or a promise of the usual post when a ring has no room */
  postNumber(dests: number[], h: Header, value: number | null): Promise<void> | null;
  /** a promise to await before the collective goes on when the event loop must turn first (ShmExchange.holdsLoop), else null */
  loopTurn(): Promise<void> | null;
  /** what `src` posted in `step` of `call` (a number, unless a rank mismatched; `empty`: an empty message, undefined): at once when it comes in the spin budget, else a promise */
  takeValue(src: number, call: Call, step: number, empty?: boolean): unknown;
}


/** allreduce of a number with a built-in op (collectives.ts's allreduce, for numbers). */
export async function allreduceNumber(c: NumberComm, value: number, op: BuiltinOp): Promise<number> {
  const call = c.begin(CollOp.Allreduce, 0, reduceOpCode(op));
  const turn = c.loopTurn(); // after begin(): the call's place among the rank's collectives is taken at the call
  if (turn) await turn;
  const { rank: r, size: P } = c;
  let sends: Promise<void>[] | null = null;
  const post = (dests: number[], step: number, v: unknown) => {
    const q = c.postNumber(dests, hdr(call, step), v as number);
    if (q) (sends ??= []).push(q);
  };
  let acc: unknown = value;
  if ((P & (P - 1)) === 0) {
    // doublingAllreduce
    for (let mask = 1, k = 0; mask < P; mask *= 2, k++) {
      const partner = r ^ mask;
      post([partner], k, acc);
      let other = c.takeValue(partner, call, k);
      if (other instanceof Promise) other = await other;
      acc = partner > r ? combine(acc, other, op) : combine(other, acc, op);
    }
  } else {
    // treeReduce, then bcastPayload from rank 0
    for (let mask = 1, k = 0; mask < P; mask *= 2, k++) {
      if (r & mask) {
        post([r - mask], k, acc);
        break;
      }
      if (r + mask >= P) continue;
      let other = c.takeValue(r + mask, call, k);
      if (other instanceof Promise) other = await other;
      acc = combine(acc, other, op);
    }
    let mask = 1;
    while (mask < P) {
      if (r & mask) {
        acc = c.takeValue(r - mask, call, BCAST_STEP);
        if (acc instanceof Promise) acc = await acc;
        break;
      }
      mask <<= 1;
    }
    const children: number[] = [];
    for (mask >>= 1; mask > 0; mask >>= 1) if (r + mask < P) children.push(r + mask);
    if (children.length) post(children, BCAST_STEP, acc);
  }
  if (sends) await Promise.all(sends);
  return acc as number;
}

/** barrier (collectives.ts's dissemination barrier: round k sends an empty message to r + 2^k and takes r - 2^k's). */
export async function barrierNumbers(c: NumberComm, tag = 0): Promise<void> {
  const call = c.begin(CollOp.Barrier, 0, ReduceOp.None, tag);
  const turn = c.loopTurn();
  if (turn) await turn;
  const { rank: r, size: P } = c;
  let sends: Promise<void>[] | null = null;
  for (let d = 1, k = 0; d < P; d *= 2, k++) {
    const q = c.postNumber([(r + d) % P], hdr(call, k), null);
    if (q) (sends ??= []).push(q);
    const got = c.takeValue((r - d + P) % P, call, k, true);
    if (got instanceof Promise) await got;
  }
  if (sends) await Promise.all(sends);
}

/** What ShmNumbers needs of its world (WsWorld). */
interface NumberWorld extends Comm {
  /** the error that broke the world, if one did */
  readonly failure: Error | null;
  /** `spin` false: wait without spinning first (takeValue spun already) */
  take(src: number, call: Call, step: number, spin?: boolean): Promise<Payload>;
}

/** A world's NumberComm over its shared-memory exchange (every rank of the world local to this one). */
export class ShmNumbers implements NumberComm {
  readonly rank: number;
  readonly size: number;

  constructor(private readonly world: NumberWorld, private readonly local: ShmExchange, private readonly mailbox: Mailbox) {
    this.rank = world.rank;
    this.size = world.size;
  }

  /** Whether a collective may take this path now: every rank shares memory with this one, and nothing else is in flight. */
  usable(): boolean {
    return this.local.ranks.length === this.size && this.local.idle && this.mailbox.waiting === 0;
  }

  begin(op: CollOp, root = 0, reduce: number = ReduceOp.None, tag = 0): Call {
    return this.world.begin(op, root, reduce, tag);
  }

  postNumber(dests: number[], h: Header, value: number | null): Promise<void> | null {
    let rest: number[] | null = null;
    for (const d of dests) if (!this.local.sendNumber(d, h, value)) (rest ??= []).push(d);
    return rest ? this.world.post(rest, h, value === null ? EMPTY_PAYLOAD : toPayload(value)) : null;
  }

  loopTurn(): Promise<void> | null {
    return this.local.loopTurn();
  }

  takeValue(src: number, call: Call, step: number, empty = false): unknown {
    if (this.world.failure) return Promise.reject(this.world.failure);
    let key: string | null = null;
    const keyOf = () => (key ??= `c:${call.seq}:${step}:${src}`); // WsWorld's mailbox key
    let p = this.mailbox.empty ? undefined : this.mailbox.takeNow(keyOf());
    if (p) return fromPayload(p);
    const v = this.local.takeNumber(src, call, step, () => this.mailbox.has(keyOf()), empty);
    if (v !== undefined) return empty ? undefined : v;
    p = this.mailbox.takeNow(keyOf());
    return p ? fromPayload(p) : this.world.take(src, call, step, false).then(fromPayload);
  }
}
