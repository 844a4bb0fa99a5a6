/**
 * The receiving side of a large reduce-scatter between ranks that all share memory, combining in place:
 * each peer writes its copy of this rank's segment into its ring to this rank once (the usual posts of
 * collectives.ts's reduceScatter, cut into the usual pieces), and this rank combines the pieces where they
 * lie in the rings, writing the result straight into its destination (the collective's result), instead of
 * copying every piece out into a buffer of its own first. One copy of each byte between processes.
 *
 * The senders cut their messages at the same offsets (a ring's piece size depends only on the ring), so the
 * k-th pieces of all peers cover the same elements: once every peer's k-th piece is at the head of its ring
 * (the exchange leaves claimed records there: a RingConsumer), they are combined with this rank's own
 * elements in the canonical tree of collectives.ts (rank order, lower ranks on the left), intermediate
 * results written over the peers' records (this rank's until it frees them), the last into the destination;
 * then all are freed at once. Same operands, same tree, same operations: the same bits as the general path.
 * A record of the call with another length or type fails the reduction with COLLECTIVE_MISMATCH, as the
 * general path does; one of another call is not claimed (the general path checks it).
 */
import { DType, type ReduceOp } from "../protocol/messages.js";
import type { RingRecord } from "../transport/shm-segment.js";
import type { Call } from "./call-header.js";
import { commError, type CommError } from "./errors.js";
import { combineInto, typedDtype, typedOf, type BuiltinOp, type Typed } from "./payload.js";
import type { RingConsumer, ShmExchange } from "./shm-exchange.js";

const COLLECTIVE = 1;
const MINE = 0;
const RING = 1;
const OUT = 2;

export interface InPlaceSpec {
  call: Call;
  step: number;
  /** this rank's own copy of its segment (never written) */
  mine: Typed;
  /** where the reduced segment goes (as long as `mine`) */
  out: Typed;
  op: BuiltinOp;
  /** the whole input's length, for the error of a mismatched peer */
  n: number;
}

export class InPlaceReduction implements RingConsumer {
  private readonly dtype: DType;
  private readonly bytes: number;
  private readonly bpe: number;
  /** local index of each world rank, in rank order; this rank's own at `me` */
  private readonly order: number[];
  private readonly me: number;
  private doneBytes = 0;
  private finished = false;
  private readonly recs: (RingRecord | null)[];
  private readonly operands: Typed[];
  private readonly kinds: number[];

  constructor(
    private readonly x: ShmExchange,
    private readonly spec: InPlaceSpec,
    /** world rank of this rank */
    rank: number,
    size: number,
    private readonly done: (err: CommError | null) => void,
  ) {
    this.dtype = typedDtype(spec.mine);
    this.bpe = spec.mine.BYTES_PER_ELEMENT;
    this.bytes = spec.mine.byteLength;
    this.order = Array.from({ length: size }, (_, q) => x.localIndex(q));
    this.me = rank;
    this.recs = new Array(size).fill(null);
    this.operands = new Array(size);
    this.kinds = new Array(size);
  }

  /**
   * Starts the reduction over `x`'s rings, unless another one runs or a peer's copy already came (`came`,
   * the mailbox, or in pieces being assembled): false then, and the caller takes the copies as usual.
   */
  static start(x: ShmExchange, spec: InPlaceSpec, rank: number, size: number, came: (q: number) => boolean, done: (err: CommError | null) => void): boolean {
    for (let q = 0; q < size; q++) {
      if (q !== rank && (came(q) || x.assembling(q, spec.call.seq, spec.step))) return false;
    }
    return x.setConsumer(new InPlaceReduction(x, spec, rank, size, done));
  }

  claims(_from: number, rec: RingRecord): boolean {
    const c = this.spec.call;
    return !this.finished && rec.kind === COLLECTIVE && rec.seq === c.seq && rec.step === this.spec.step &&
      rec.op === c.op && rec.reduce === (c.reduce as ReduceOp) && rec.root === c.root && rec.tag === c.tag;
  }

  step(): boolean {
    let moved = false;
    const seg = this.x.segment;
    const P = this.order.length;
    while (!this.finished) {
      // every peer's next piece, at the heads of their rings
      for (let q = 0; q < P; q++) {
        if (q === this.me) continue;
        const rec = seg.peek(this.order[q]!);
        if (!rec || !this.claims(this.order[q]!, rec)) return moved;
        if (rec.dtype !== this.dtype || rec.total !== this.bytes || rec.parts.length !== 0) {
          return this.fail(commError("COLLECTIVE_MISMATCH", `rank ${q} contributed ${rec.total} bytes of ${DType[rec.dtype]} to a reduction of ${this.spec.n} ${DType[this.dtype]} (each rank must pass the same length and type)`));
        }
        this.recs[q] = rec;
      }
      const first = this.recs[this.me === 0 ? 1 : 0]!;
      const off = first.offset;
      const len = first.payload.length;
      for (let q = 0; q < P; q++) {
        const rec = this.recs[q];
        if (q !== this.me && (rec!.offset !== off || rec!.payload.length !== len || off !== this.doneBytes || len % this.bpe !== 0)) {
          return this.fail(commError("COLLECTIVE_MISMATCH", `rank ${q} sent a piece of bytes ${rec!.offset}..${rec!.offset + rec!.payload.length} of a reduction where this rank expected bytes ${this.doneBytes}.. (pieces cut differently: rings of different sizes?)`));
        }
      }
      this.combine(off / this.bpe, (off + len) / this.bpe);
      for (let q = 0; q < P; q++) {
        if (q === this.me) continue;
        this.recs[q] = null;
        this.x.takeRecord(this.order[q]!);
      }
      this.doneBytes += len;
      moved = true;
      if (this.doneBytes >= this.bytes) {
        this.finished = true;
        this.x.setConsumer(null);
        this.done(null);
      }
    }
    return moved;
  }

  /** Elements [a, b) of the segment: the canonical tree over the ranks' pieces, into the destination. */
  private combine(a: number, b: number): void {
    const P = this.order.length;
    const ops = this.operands;
    const kinds = this.kinds;
    const out = this.spec.out.subarray(a, b);
    for (let q = 0; q < P; q++) {
      if (q === this.me) {
        ops[q] = this.spec.mine.subarray(a, b);
        kinds[q] = MINE;
      } else {
        ops[q] = typedOf(this.dtype, this.recs[q]!.payload); // a view: records are 8-byte aligned
        kinds[q] = RING;
      }
    }
    for (let mask = 1; mask < P; mask *= 2) {
      for (let i = 0; i + mask < P; i += 2 * mask) {
        const j = i + mask;
        // the last combination, and any that holds this rank's own elements (never written), go to the
        // destination; the others over a peer's record (only one subtree holds this rank's elements, so
        // the destination holds at most one intermediate at a time)
        const last = i === 0 && 2 * mask >= P;
        const dest = last || kinds[i] !== RING ? out : ops[i]!;
        combineInto(dest, ops[i]!, ops[j]!, this.spec.op);
        ops[i] = dest;
        kinds[i] = dest === out ? OUT : RING;
      }
    }
    for (let q = 0; q < P; q++) ops[q] = undefined as unknown as Typed; // no views of the rings kept
  }

  private fail(err: CommError): boolean {
    this.finished = true;
    this.x.setConsumer(null);
    this.done(err);
    return true;
  }
}
