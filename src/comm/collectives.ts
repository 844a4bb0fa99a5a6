/**
 * Collective algorithms over a Comm (point-to-point delivery of payloads keyed by collective sequence
 * number, step and source rank). Each collective begins one Call (the world's next sequence number and the
 * call's signature: op, root, reduction, tag); every message of it carries the whole Call, so that a
 * receiver can tell a message of another collective from a late one (see call-check.ts). The gathers
 * (gather, allgather) are in gathers.ts, on the same Comm.
 *
 * Determinism: every reduction combines the ranks' values in one canonical tree, whatever the message
 * size, algorithm or arrival order: for mask = 1, 2, 4, ...: block [r, r+mask) op block [r+mask, r+2mask),
 * lower ranks always on the left (contiguous rank ranges, combined in rank order). Binomial reduce,
 * recursive doubling (power-of-two sizes), the large-message reduce-scatter/allgather and the recursive
 * halving of large worlds all produce exactly this tree, so results are bit-identical across runs and
 * world sizes' algorithms, and equal to `canonicalReduce` applied to the ranks' values in rank order.
 *
 * Peers: in worlds of more than DIRECT_MAX ranks, where links are made on demand, every algorithm talks
 * to O(log P) peers, all at distance 2^k (mod P) from a rank: binomial trees (bcast, reduce, gather),
 * recursive doubling and halving (allreduce), dissemination (barrier) and Bruck (allgather, bandwidth-
 * optimal: each rank receives each other block once). Only small worlds use direct exchanges.
 *
 * Shared memory (Comm.allLocal: every rank shares memory with this one, the same answer on every rank):
 * bcast, gather and allgather exchange directly (a message posted to several readers is copied once, into
 * the sender's area), and the large reduce-scatter combines the peers' copies where they lie
 * (Comm.reduceSegments); the combination order stays the canonical one, so the bits do not change.
 *
 * Several hosts, some of several ranks (Comm.topology, decided once per world): barrier, bcast, gather
 * and allgather go through one leader per host, and so do allreduce and reduce below the large-message
 * size where every host's ranks are contiguous (topology.ts derives why that keeps the canonical tree
 * exactly; hierarchical.ts); else the above.
 */
import { CollOp, DType, ReduceOp } from "../protocol/messages.js";
import { commError, type CommError } from "./errors.js";
import {
  EMPTY_PAYLOAD, combine, combineInto, fromPayload, reduceOpCode, toPayload, typedDtype, typedOf, uninitLike,
  type BuiltinOp, type Payload, type Typed,
} from "./payload.js";
import type { ReduceFn } from "./world.js";
import { canonicalReduce } from "./canonical.js";
import type { HostTopology } from "./topology.js";
import { stepHeader as hdr, type Call, type Header } from "./call-header.js";
import { intoOut, receivedInto, valueInto } from "./out-buffer.js";
import { hierAllreduce, hierBarrier, hierBcast, hierReduce } from "./hierarchical.js";

export type { Call, Header } from "./call-header.js";

export interface Comm {
  readonly rank: number;
  readonly size: number;
  /** starts a collective: the next sequence number, with the call's signature (checked against the peers') */
  begin(op: CollOp, root?: number, reduce?: ReduceOp, tag?: number): Call;
  /** sends one payload to each of `dests` (encoded once) */
  post(dests: number[], h: Header, p: Payload): Promise<void>;
  /** the payload `src` posted in step `step` of `call` */
  take(src: number, call: Call, step: number): Promise<Payload>;
  /** take(), asking for the payload to be assembled in `into` (when it has its type and length) where the transport can: its bytes are then into's */
  takeInto?(src: number, call: Call, step: number, into: Typed): Promise<Payload>;
  /**
   * Where the transport can (every rank shares memory with this one): receives every peer's copy of this
   * rank's segment in step `step` of `call` and combines them with `mine` in the canonical tree where they
   * lie, into `out` (shm-reduce.ts); settles when `out` holds the result. Else null: take() them.
   */
  reduceSegments?(call: Call, step: number, mine: Typed, out: Typed, op: BuiltinOp, n: number): Promise<void> | null;
  /**
   * Whether every rank of the world shares memory with this one (the same answer on every rank): direct
   * exchanges then beat trees (no hop copies a message again, a post costs a copy into a ring, not a link).
   */
  readonly allLocal?: boolean;
  /** which ranks share a host, when some do and others do not (hierarchical.ts goes node-locally first) */
  readonly topology?: HostTopology | null;
  /** fails every rank's world with `code` and `message` (a mismatch only one rank can see); returns the error */
  failWorld?(code: "COLLECTIVE_MISMATCH", message: string): CommError;
}

/** take() into `into` where the Comm can; whether the payload's bytes are `into` says if it did. */
export const takeInto = (c: Comm, src: number, call: Call, step: number, into: Typed) => (c.takeInto ? c.takeInto(src, call, step, into) : c.take(src, call, step));
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) => a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;

/** Typed arrays at least this large (bytes) use reduce-scatter + allgather instead of a tree. */
export const LARGE_BYTES = 64 * 1024;
/** Worlds of at most this many ranks may exchange directly with every rank (large reductions). */
export const DIRECT_MAX = 8;
/** The step of the broadcast of a tree reduction's result (shm-numbers.ts takes the same steps). */
export const BCAST_STEP = 1000;
const DIRECT_BCAST_STEP = 3003;
const RELAY_STEP = 2000;

const isPow2 = (n: number) => (n & (n - 1)) === 0;


/** Both at once: a send and a receive of one round. */
export async function exchange(c: Comm, to: number, from: number, h: Header, p: Payload): Promise<Payload> {
  const [, got] = await Promise.all([c.post([to], h, p), c.take(from, h, h.step)]);
  return got;
}

export { canonicalReduce };

/** `tag` CLOSE_TAG: the barrier of closing a world, which a user's barrier on another rank must not match. */
export async function barrier(c: Comm, tag = 0): Promise<void> {
  const call = c.begin(CollOp.Barrier, 0, ReduceOp.None, tag);
  if (c.topology?.grouped) return hierBarrier(c, c.topology, call);
  const { rank: r, size: P } = c;
  for (let d = 1, k = 0; d < P; d *= 2, k++) {
    await exchange(c, (r + d) % P, (r - d + P) % P, hdr(call, k), EMPTY_PAYLOAD);
  }
}

/** Binomial-tree broadcast of a payload from `root`; returns the payload (the root's own on the root). */
async function bcastPayload(c: Comm, p: Payload | null, root: number, call: Call, step0: number): Promise<Payload> {
  const { rank, size: P } = c;
  const rel = (rank - root + P) % P;
  let mask = 1;
  let got = p;
  while (mask < P) {
    if (rel & mask) {
      got = await c.take((rel - mask + root) % P, call, step0);
      break;
    }
    mask <<= 1;
  }
  mask >>= 1;
  const sends: Promise<void>[] = [];
  const children: number[] = [];
  while (mask > 0) {
    if (rel + mask < P) children.push((rel + mask + root) % P);
    mask >>= 1;
  }
  if (children.length) sends.push(c.post(children, hdr(call, step0), got!));
  await Promise.all(sends);
  return got!;
}

/**
 * `out` (checked: out-buffer.ts checkBcastOut): where a rank other than the root receives the value (over
 * shared memory, assembled there straight from the ring), and where the root's is copied unless it is it.
 */
export async function bcast<T>(c: Comm, value: T, root: number, out?: Typed): Promise<T> {
  const call = c.begin(CollOp.Bcast, root);
  const what = `bcast from rank ${root}`;
  if (c.topology?.grouped) {
    const v = await hierBcast(c, c.topology, value, root, call);
    return (out ? valueInto(v, out, what) : v) as T;
  }
  if (c.allLocal && c.size <= DIRECT_MAX) {
    // every rank shares memory: the root posts to all at once (one copy into its area for all of them,
    // where it fits), and each copies it out, all in parallel; no rank passes it on
    if (c.rank === root) {
      await c.post(Array.from({ length: c.size }, (_, q) => q).filter((q) => q !== root), hdr(call, DIRECT_BCAST_STEP), toPayload(value));
      return intoOut(value, out);
    }
    if (out) return receivedInto(await takeInto(c, root, call, DIRECT_BCAST_STEP, out), out, what) as T;
    return fromPayload(await c.take(root, call, DIRECT_BCAST_STEP)) as T;
  }
  const p = c.rank === root ? toPayload(value) : null;
  const got = await bcastPayload(c, p, root, call, 0);
  if (c.rank === root) return intoOut(value, out);
  return (out ? receivedInto(got, out, what) : fromPayload(got)) as T;
}

function isLarge(value: unknown, op: ReduceFn<unknown>, P: number): value is Typed {
  const d = typedDtype(value);
  return d !== DType.None && d !== DType.Uint8 && typeof op === "string" &&
    (value as Typed).byteLength >= LARGE_BYTES && (value as Typed).length >= P;
}

/** Canonical binomial reduction to rank 0 (the value on rank 0, undefined elsewhere). */
async function treeReduce(c: Comm, value: unknown, op: ReduceFn<unknown>, call: Call): Promise<unknown> {
  const { rank: r, size: P } = c;
  let acc = value;
  for (let mask = 1, k = 0; mask < P; mask *= 2, k++) {
    if (r & mask) {
      await c.post([r - mask], hdr(call, k), toPayload(acc));
      return undefined;
    }
    if (r + mask < P) acc = combine(acc, fromPayload(await c.take(r + mask, call, k)), op);
  }
  return acc;
}

/** Recursive doubling (power-of-two sizes): every rank ends with the canonical result. */
async function doublingAllreduce(c: Comm, value: unknown, op: ReduceFn<unknown>, call: Call): Promise<unknown> {
  const r = c.rank;
  let acc = value;
  for (let mask = 1, k = 0; mask < c.size; mask *= 2, k++) {
    const partner = r ^ mask;
    const other = fromPayload(await exchange(c, partner, partner, hdr(call, k), toPayload(acc)));
    acc = partner > r ? combine(acc, other, op) : combine(other, acc, op);
  }
  return acc;
}

/** Segment s of n elements over P ranks: [start, end). */
function segment(n: number, P: number, s: number): [number, number] {
  const base = Math.floor(n / P);
  const extra = n % P;
  const start = s * base + Math.min(s, extra);
  return [start, start + base + (s < extra ? 1 : 0)];
}

/**
 * Reduce-scatter by direct exchange: each rank receives every rank's copy of its own segment and combines
 * them in the canonical tree. Returns this rank's reduced segment (a new array; `into`, where the result
 * goes, when the transport assembled a peer's copy in it: the tree then combines in place there).
 */
async function reduceScatter(c: Comm, value: Typed, op: BuiltinOp, call: Call, into?: Typed): Promise<Typed> {
  const { rank: r, size: P } = c;
  const n = value.length;
  const [a, b] = segment(n, P, r);
  // combined where the peers' copies lie (shared memory), before any of them comes: asked before the posts
  const inPlace = into && P > 1 && c.reduceSegments ? c.reduceSegments(call, 0, value.subarray(a, b), into, op, n) : null;
  const sends: Promise<void>[] = [];
  for (let s = 0; s < P; s++) {
    if (s === r) continue;
    const [sa, sb] = segment(n, P, s);
    sends.push(c.post([s], hdr(call, 0), toPayload(value.subarray(sa, sb))));
  }
  if (inPlace) {
    await Promise.all([...sends, inPlace]);
    return into!;
  }
  const operands: Typed[] = new Array(P);
  const owned: boolean[] = new Array(P).fill(true); // received buffers are this rank's to overwrite
  operands[r] = value.subarray(a, b);
  owned[r] = false; // the caller's input is not
  const dtype = typedDtype(value);
  // one peer's copy is received where the result goes: operands[0] is then that buffer from the tree's first step on
  const q0 = r === 0 ? 1 : 0;
  await Promise.all([
    ...sends,
    ...Array.from({ length: P }, async (_, q) => {
      if (q === r) return;
      const p = await (into && q === q0 ? takeInto(c, q, call, 0, into) : c.take(q, call, 0));
      if (p.dtype !== dtype || p.bytes.byteLength !== (b - a) * value.BYTES_PER_ELEMENT) {
        throw commError("COLLECTIVE_MISMATCH", `rank ${q} contributed ${p.bytes.byteLength} bytes of ${DType[p.dtype]} to a reduction of ${n} ${DType[dtype]} (each rank must pass the same length and type)`);
      }
      operands[q] = typedOf(p.dtype, p.bytes);
    }),
  ]);
  for (let mask = 1; mask < P; mask *= 2) {
    for (let i = 0; i + mask < P; i += 2 * mask) {
      const j = i + mask;
      // the result replaces operands[i]; write it into whichever operand may be overwritten
      let out: Typed;
      if (owned[i]) out = operands[i]!;
      else if (owned[j]) out = operands[j]!;
      else out = new (value.constructor as new (n: number) => Typed)(b - a);
      combineInto(out, operands[i]!, operands[j]!, op);
      operands[i] = out;
      owned[i] = true;
    }
  }
  if (!owned[0]) return operands[0]!.slice(); // P = 1
  return operands[0]!;
}

/** Checks a received piece of a reduction: `elems` elements of `value`'s type. */
function piece(got: Payload, value: Typed, elems: number, from: number): Typed {
  const dtype = typedDtype(value);
  if (got.dtype !== dtype || got.bytes.byteLength !== elems * value.BYTES_PER_ELEMENT) {
    throw commError("COLLECTIVE_MISMATCH", `rank ${from} contributed ${got.bytes.byteLength} bytes of ${DType[got.dtype]} to a reduction of ${value.length} ${DType[dtype]} (each rank must pass the same length and type)`);
  }
  return typedOf(got.dtype, got.bytes);
}

/**
 * Rabenseifner's allreduce, in the canonical order for any P. With p2 the largest power of two <= P:
 * canonical(0..P-1) = canonical(0..p2-1) op canonical(p2..P-1) (the last step of the canonical tree).
 *  - ranks 0..p2-1 reduce-scatter by recursive halving: r pairs with r ^ mask for mask = 1, 2, 4, ...
 *    (the canonical tree's order), keeps one half of its range and combines the partner's copy of it,
 *    the lower rank's on the left; each then holds one segment of canonical(0..p2-1);
 *  - the ranks above reduce to rank p2 (a binomial tree over them: canonical(p2..P-1)), which sends it to
 *    rank 0; rank 0 scatters it along the same halvings, and each rank combines its segment on the right;
 *  - recursive doubling gathers the segments back; rank j < P - p2 sends the result to rank p2 + j.
 * Every rank talks to ranks at distances 2^k only, and sends O(n) bytes beyond the tree of the remainder.
 */
async function rabenseifner(c: Comm, value: Typed, op: BuiltinOp, call: Call): Promise<Typed> {
  const { rank: r, size: P } = c;
  let p2 = 1;
  while (p2 * 2 <= P) p2 *= 2;
  const R = P - p2;
  const n = value.length;
  if (r >= p2) {
    const q = r - p2;
    let acc: Typed = value;
    for (let mask = 1, k = 0; mask < R; mask *= 2, k++) {
      if (q & mask) {
        await c.post([r - mask], hdr(call, 200 + k), toPayload(acc));
        break;
      }
      if (q + mask < R) acc = combine(acc, piece(await c.take(r + mask, call, 200 + k), value, n, r + mask), op) as Typed;
    }
    if (q === 0) await c.post([0], hdr(call, 300), toPayload(acc));
    return piece(await c.take(q, call, 500), value, n, q).slice();
  }
  const acc = value.slice(); // the input stays intact
  const ranges: { keep: [number, number]; give: [number, number] }[] = [];
  let lo = 0;
  let hi = n;
  for (let mask = 1, k = 0; mask < p2; mask *= 2, k++) {
    const partner = r ^ mask;
    const mid = lo + Math.floor((hi - lo) / 2);
    const keep: [number, number] = r & mask ? [mid, hi] : [lo, mid];
    const give: [number, number] = r & mask ? [lo, mid] : [mid, hi];
    const theirs = piece(await exchange(c, partner, partner, hdr(call, k), toPayload(acc.subarray(give[0], give[1]))), value, keep[1] - keep[0], partner);
    const mine = acc.subarray(keep[0], keep[1]);
    if (partner > r) combineInto(mine, mine, theirs, op);
    else combineInto(mine, theirs, mine, op);
    ranges.push({ keep, give });
    [lo, hi] = keep;
  }
  if (R > 0) {
    // canonical(p2..P-1), scattered from rank 0 along the halvings: level k's holders are ranks < 2^k
    let rest: Typed | null = r === 0 ? piece(await c.take(p2, call, 300), value, n, p2) : null;
    for (let mask = 1, k = 0; mask < p2; mask *= 2, k++) {
      const { keep, give } = ranges[k]!;
      if (r < mask) await c.post([r + mask], hdr(call, 400 + k), toPayload(rest!.subarray(give[0], give[1])));
      else if (r < 2 * mask) {
        rest = new (value.constructor as new (n: number) => Typed)(n);
        rest.set(piece(await c.take(r - mask, call, 400 + k), value, keep[1] - keep[0], r - mask), keep[0]);
      }
    }
    const mine = acc.subarray(lo, hi);
    combineInto(mine, mine, rest!.subarray(lo, hi), op);
  }
  for (let k = ranges.length - 1; k >= 0; k--) {
    const partner = r ^ (1 << k);
    const { keep, give } = ranges[k]!;
    const got = await exchange(c, partner, partner, hdr(call, 100 + k), toPayload(acc.subarray(keep[0], keep[1])));
    acc.set(piece(got, value, give[1] - give[0], partner), give[0]);
  }
  if (r < R) await c.post([p2 + r], hdr(call, 500), toPayload(acc));
  return acc;
}

/**
 * `out`: the array the result goes to (checked by the caller: out-buffer.ts), written in place on the large
 * direct path. `begun`: the call, when the caller began it already (shm-slots.ts's serial order).
 */
export async function allreduce<T>(c: Comm, value: T, op: ReduceFn<T>, out?: Typed, begun?: Call): Promise<T> {
  const fn = op as ReduceFn<unknown>;
  const call = begun ?? c.begin(CollOp.Allreduce, 0, reduceOpCode(fn));
  const large = isLarge(value, fn, c.size);
  if (large && c.size <= DIRECT_MAX) return directAllreduce(c, value as Typed, op as BuiltinOp, call, out ?? uninitLike(value as Typed, (value as Typed).length)) as Promise<T>;
  return intoOut(await generalAllreduce(c, value, fn, call, large), out);
}

/** allreduce on the paths that make their own result. */
async function generalAllreduce<T>(c: Comm, value: T, fn: ReduceFn<unknown>, call: Call, large: boolean): Promise<T> {
  // node-locally first below the large-message size only: above it, the flat reduce-scatter + allgather
  // spreads the combining and copying over every rank, where a leader would combine its host's L arrays
  // alone (work that grows with L). Fake 2 x 2 hosts, a loaded 2-core machine, medians of 15 runs: one f64
  // 0.84 ms through the leaders, 1.20 ms flat; 8 MiB 51 and 59 ms (flat swings 29-87 ms): no clear win.
  if (c.topology?.reductions && !large) return hierAllreduce(c, c.topology, value, fn as ReduceFn<T>, call);
  if (large) return (await rabenseifner(c, value as Typed, fn as BuiltinOp, call)) as T;
  if (isPow2(c.size)) return (await doublingAllreduce(c, value, fn, call)) as T;
  const acc = await treeReduce(c, value, fn, call);
  const got = await bcastPayload(c, c.rank === 0 ? toPayload(acc) : null, 0, call, BCAST_STEP);
  return (c.rank === 0 ? acc : fromPayload(got)) as T;
}

/**
 * Large allreduce among at most DIRECT_MAX ranks: reduce-scatter, then every rank posts its reduced
 * segment to all the others. Every segment is received straight into `out` where the transport can (shared
 * memory): no buffers of their own to fault in, fill and copy from. Every element of `out` is written (a
 * new one need not be zeroed first).
 */
async function directAllreduce(c: Comm, value: Typed, op: BuiltinOp, call: Call, out: Typed): Promise<Typed> {
  const { rank: r, size: P } = c;
  const [a, b] = segment(value.length, P, r);
  const region = out.subarray(a, b);
  const mine = await reduceScatter(c, value, op, call, region);
  if (!sameBytes(mine, region)) region.set(mine);
  const others = Array.from({ length: P }, (_, q) => q).filter((q) => q !== r);
  await Promise.all([
    c.post(others, hdr(call, 1), toPayload(region)),
    ...others.map(async (q) => {
      const [s, e] = segment(value.length, P, q);
      const dest = out.subarray(s, e);
      const p = await takeInto(c, q, call, 1, dest);
      if (!sameBytes(p.bytes, dest)) out.set(typedOf(p.dtype, p.bytes), s);
    }),
  ]);
  return out;
}

/** `out`: as allreduce's, significant at the root only (written there, in place on the large path). */
export async function reduce<T>(c: Comm, value: T, op: ReduceFn<T>, root: number, out?: Typed): Promise<T | undefined> {
  const fn = op as ReduceFn<unknown>;
  const call = c.begin(CollOp.Reduce, root, reduceOpCode(fn));
  const { rank: r, size: P } = c;
  const scatter = isLarge(value, fn, P) && P <= DIRECT_MAX;
  const rootOut = r === root ? out : undefined;
  if (c.topology?.reductions && !scatter) return intoOut(await hierReduce(c, c.topology, value, op, root, call), rootOut); // as allreduce
  if (scatter) {
    const [a, b] = segment(value.length, P, r);
    // every element of the root's result is written below (no pass to zero a new one); its own segment is
    // reduced straight into its place there, the others' segments received there where the transport can
    const result = r === root ? out ?? uninitLike(value, value.length) : undefined;
    const into = c.reduceSegments ? result?.subarray(a, b) ?? uninitLike(value, b - a) : undefined; // written whole before it is read
    const mine = await reduceScatter(c, value, op as BuiltinOp, call, into);
    if (!result) {
      await c.post([root], hdr(call, 1), toPayload(mine));
      return undefined;
    }
    if (!sameBytes(mine, result.subarray(a, b))) result.set(mine, a);
    await Promise.all(
      Array.from({ length: P }, async (_, q) => {
        if (q === r) return;
        const [s, e] = segment(value.length, P, q);
        const dest = result.subarray(s, e);
        const p = await takeInto(c, q, call, 1, dest);
        if (!sameBytes(p.bytes, dest)) result.set(typedOf(p.dtype, p.bytes), s);
      }),
    );
    return result as T;
  }
  const acc = await treeReduce(c, value, fn, call);
  if (root === 0) return r === 0 ? intoOut(acc as T, rootOut) : undefined;
  if (r === 0) await c.post([root], hdr(call, RELAY_STEP), toPayload(acc));
  if (r === root) return intoOut(fromPayload(await c.take(0, call, RELAY_STEP)) as T, rootOut);
  return undefined;
}
