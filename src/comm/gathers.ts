/**
 * gather and allgather (and allgatherBytes, compute()'s exchange of partials): binomial tree and Bruck's
 * rounds between ranks in general; direct messages between ranks that all share memory; one leader per
 * host when some do and others do not (hierarchical.ts). gather's `out` (the root's receive buffer, as
 * MPI_Gather's) takes each rank's value where it lies, over shared memory straight from the ring.
 */
import { CollOp, DType, ReduceOp } from "../protocol/messages.js";
import { stepHeader as hdr, type Call } from "./call-header.js";
import { DIRECT_MAX, exchange, takeInto, type Comm } from "./collectives.js";
import { commError } from "./errors.js";
import { hierAllgather, hierGather } from "./hierarchical.js";
import { gatherPart, gatheredInto, gatheredValueInto } from "./out-buffer.js";
import { fromPayload, packParts, toPayload, unpackParts, type Payload, type Typed } from "./payload.js";

/** Steps of the gathers (collectives.ts's take 0..2000 and 3003; hierarchical.ts's 4000 and up). */
const GATHER_STEP = 3000;
/** gather and allgather by direct messages between ranks that all share memory */
const DIRECT_GATHER_STEP = 3001;
const DIRECT_ALLGATHER_STEP = 3002;

/**
 * `put` for every item, then the first error any threw: every value that fits goes into gather's out (as
 * on the direct path, which takes them all before it rejects), not only those before the first refused.
 */
function eachThenThrow<I>(items: readonly I[], put: (it: I, i: number) => void): void {
  let refused: unknown = null;
  items.forEach((it, i) => {
    try {
      put(it, i);
    } catch (e) {
      refused ??= e;
    }
  });
  if (refused !== null) throw refused;
}

/**
 * Binomial-tree gather to `root` (in ranks relative to it): each rank collects its subtree's values from
 * its children, then sends them, packed, to its parent; the root receives from log2 P children. `out`
 * (the root's, checked: out-buffer.ts checkGatherOut): where rank q's value goes, at q × its length.
 */
export async function gather<T>(c: Comm, value: T, root: number, out?: Typed): Promise<T[] | undefined> {
  const call = c.begin(CollOp.Gather, root);
  if (c.topology?.grouped) {
    const all = await hierGather(c, c.topology, value, root, call);
    if (!all || !out) return all;
    const res: T[] = new Array(all.length);
    eachThenThrow(all, (v, q) => {
      res[q] = gatheredValueInto(v, out, q, (value as Typed).length) as T;
    });
    return res;
  }
  const { rank: r, size: P } = c;
  if (c.allLocal) return directGather(c, value, root, call, out);
  const rel = (r - root + P) % P;
  const items: { rank: number; p: Payload }[] = r === root ? [] : [{ rank: r, p: toPayload(value) }];
  for (let mask = 1; mask < P; mask *= 2) {
    if (rel & mask) {
      await c.post([(rel - mask + root) % P], hdr(call, GATHER_STEP), packParts(items));
      return undefined;
    }
    if (rel + mask < P) {
      const from = (rel + mask + root) % P;
      for (const it of unpackParts(await c.take(from, call, GATHER_STEP))) {
        if (it.rank < 0 || it.rank >= P) throw commError("COLLECTIVE_MISMATCH", `gather received a value of rank ${it.rank}`);
        items.push(it);
      }
    }
  }
  const res: T[] = new Array(P);
  const n = out ? (value as Typed).length : 0;
  res[r] = (out ? gatheredValueInto(value, out, r, n) : value) as T;
  eachThenThrow(items, (it) => {
    res[it.rank] = (out ? gatheredInto(it.p, out, it.rank, n) : fromPayload(it.p)) as T;
  });
  return res;
}

/**
 * Gather between ranks that all share memory: each rank posts its value to the root at once (one copy into
 * the ring, one out of it into the root's value, or into its part of `out`; the senders copy in parallel),
 * instead of the tree's packing and passing on of subtrees.
 */
async function directGather<T>(c: Comm, value: T, root: number, call: Call, out: Typed | undefined): Promise<T[] | undefined> {
  const { rank: r, size: P } = c;
  if (r !== root) {
    await c.post([root], hdr(call, DIRECT_GATHER_STEP), toPayload(value));
    return undefined;
  }
  const res: T[] = new Array(P);
  const n = out ? (value as Typed).length : 0;
  res[r] = (out ? gatheredValueInto(value, out, r, n) : value) as T;
  // every take settles before the call does (an error, the first, after them): a message still streaming
  // into its part of out must not land there after the caller was told the gather is over
  const got = await Promise.allSettled(Array.from({ length: P }, async (_, q) => {
    if (q === r) return;
    if (!out) res[q] = fromPayload(await c.take(q, call, DIRECT_GATHER_STEP)) as T;
    else res[q] = gatheredInto(await takeInto(c, q, call, DIRECT_GATHER_STEP, gatherPart(out, q, n)), out, q, n) as T;
  }));
  for (const g of got) if (g.status === "rejected") throw g.reason;
  return res;
}

/** Bruck's allgather: ceil(log2 P) rounds for any P; round k sends the 2^k blocks held so far. */
async function allgatherPayloads(c: Comm, mine: Payload, op: CollOp, tag: number, into?: (q: number) => Typed): Promise<Payload[]> {
  const call = c.begin(op, 0, ReduceOp.None, tag);
  if (c.topology?.grouped) return hierAllgather(c, c.topology, mine, call);
  const { rank: r, size: P } = c;
  const blocks: Payload[] = new Array(P);
  blocks[r] = mine;
  if (c.allLocal && P <= DIRECT_MAX) {
    // every rank shares memory: each posts its block to every other at once (no block is packed or passed on)
    const others = Array.from({ length: P }, (_, q) => q).filter((q) => q !== r);
    await Promise.all([
      c.post(others, hdr(call, DIRECT_ALLGATHER_STEP), mine),
      ...others.map(async (q) => {
        blocks[q] = await (into ? takeInto(c, q, call, DIRECT_ALLGATHER_STEP, into(q)) : c.take(q, call, DIRECT_ALLGATHER_STEP));
      }),
    ]);
    return blocks;
  }
  for (let d = 1, k = 0; d < P; d *= 2, k++) {
    const cnt = Math.min(d, P - d);
    const items = Array.from({ length: cnt }, (_, i) => {
      const q = (r + i) % P;
      return { rank: q, p: blocks[q]! };
    });
    const got = await exchange(c, (r - d + P) % P, (r + d) % P, hdr(call, k), packParts(items));
    for (const { rank, p } of unpackParts(got)) {
      if (rank < 0 || rank >= P) throw commError("COLLECTIVE_MISMATCH", `allgather received a block of rank ${rank}`);
      blocks[rank] = p;
    }
  }
  return blocks;
}

/**
 * Every rank's value on every rank. `out` (checked: out-buffer.ts checkGatherOut, with this rank as the
 * root): where rank q's value goes, at q × its length, over shared memory straight from the ring.
 */
export async function allgather<T>(c: Comm, value: T, out?: Typed): Promise<T[]> {
  const n = out ? (value as Typed).length : 0;
  const blocks = await allgatherPayloads(c, toPayload(value), CollOp.Allgather, 0, out && ((q) => gatherPart(out, q, n)));
  if (!out) return blocks.map((p, q) => (q === c.rank ? value : (fromPayload(p) as T)));
  const res: T[] = new Array(blocks.length);
  res[c.rank] = gatheredValueInto(value, out, c.rank, n, "allgather") as T;
  eachThenThrow(blocks, (p, q) => {
    if (q !== c.rank) res[q] = gatheredInto(p, out, q, n, "allgather") as T;
  });
  return res;
}

/** Every rank's bytes, in rank order (this rank's own entry is `bytes` itself). */
export async function allgatherBytes(c: Comm, bytes: Uint8Array, tag = 0): Promise<Uint8Array[]> {
  const mine: Payload = { dtype: DType.Uint8, shape: [bytes.length], bytes };
  const blocks = await allgatherPayloads(c, mine, CollOp.AllgatherBytes, tag);
  return blocks.map((p, q) => (q === c.rank ? bytes : p.bytes));
}
