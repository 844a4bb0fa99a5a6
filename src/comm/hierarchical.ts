/**
 * Collectives of a world of several hosts, node-locally first (topology.ts says when, once per world):
 * the ranks of a host hand their values to its leader (its lowest rank) over shared memory, the leaders
 * talk over WebSockets, and each leader hands the result back to its host's ranks. A WebSocket message
 * between processes costs ~100 µs here against a few µs through the rings, so a collective whose flat
 * algorithm sends one or more ws messages per rank (recursive doubling, direct reduce-scatter) sends
 * one per leader instead.
 *
 * Reductions keep the canonical combine order (topology.ts derives the condition): each leader combines
 * its host's canonical pieces with canonicalReduce, then the leaders combine the tree's nodes above the
 * pieces, level by level, in the tree's own order (left node op right node), so the bits are those of
 * every other path.
 */
import type { ReduceFn } from "./world.js";
import { EMPTY_PAYLOAD, combine, fromPayload, packParts, toPayload, unpackParts, type Payload } from "./payload.js";
import { CommError, commError } from "./errors.js";
import { canonicalReduce } from "./canonical.js";
import type { Comm } from "./collectives.js";
import { stepHeader as hdr, type Call, type Header } from "./call-header.js";
import type { HostTopology } from "./topology.js";

/** Steps of the hierarchical algorithms (collectives.ts uses 0..3003; levels of the tree add to these). */
const UP_STEP = 4000; // a host's rank -> its leader
const CROSS_STEP = 4100; // leader -> leader, + the tree level (reductions) or the round (barrier, allgather)
const DOWN_STEP = 4200; // a leader -> its host's ranks
const RELAY_STEP = 4300; // rank 0 -> a reduction's root
const SPREAD_STEP = 4400; // leader -> leader in a broadcast (an allreduce's follows its reduction's CROSS_STEP messages)


const leaderOf = (t: HostTopology, r: number) => t.hosts[t.hostOf[r]!]![0]!;

/**
 * The canonical reduction of every rank's value, on rank 0 (undefined elsewhere): the host's values at its
 * leader, its pieces combined there, then the tree's nodes above the pieces combined between the leaders.
 */
async function reduceToZero(c: Comm, t: HostTopology, value: unknown, op: ReduceFn<unknown>, call: Call): Promise<unknown> {
  const { rank: r, size: P } = c;
  const h = t.hostOf[r]!;
  const host = t.hosts[h]!;
  if (host[0] !== r) {
    await c.post([host[0]!], hdr(call, UP_STEP), toPayload(value));
    return undefined;
  }
  const a = r;
  const values: unknown[] = [value];
  const got = await Promise.all(host.slice(1).map(async (q) => fromPayload(await c.take(q, call, UP_STEP))));
  values.push(...got);
  // node start -> its value, for the nodes this host holds
  const acc = new Map<number, unknown>();
  const pieceEnd = t.pieceEnd;
  const join = (left: unknown, right: unknown) => mismatchFailsAll(c, () => combine(left, right, op));
  for (const [s, e] of t.pieces[h]!) acc.set(s, mismatchFailsAll(c, () => canonicalReduce(values.slice(s - a, e - a), op)));
  for (let mask = 1, k = 0; mask < P; mask *= 2, k++) {
    for (let i = 0; i + mask < P; i += 2 * mask) {
      if (Math.min(i + 2 * mask, P) <= pieceEnd[i]!) continue; // inside a piece: combined already
      const left = t.hostOf[i]!;
      const right = t.hostOf[i + mask]!;
      if (left !== h && right !== h) continue;
      if (left === right) acc.set(i, join(acc.get(i), acc.get(i + mask)));
      else if (right === h) await c.post([t.hosts[left]![0]!], hdr(call, CROSS_STEP + k), toPayload(acc.get(i + mask)));
      else acc.set(i, join(acc.get(i), fromPayload(await c.take(t.hosts[right]![0]!, call, CROSS_STEP + k))));
      acc.delete(i + mask);
    }
  }
  return r === 0 ? acc.get(0) : undefined;
}

/**
 * Values that cannot be combined (another length or type on some rank) are found by one leader only,
 * while the others wait for it: the whole world fails with the leader's COLLECTIVE_MISMATCH, as the flat
 * large reductions fail on every rank.
 */
function mismatchFailsAll<T>(c: Comm, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CommError && e.code === "COLLECTIVE_MISMATCH" && c.failWorld) throw c.failWorld("COLLECTIVE_MISMATCH", `rank ${c.rank}: ${e.message} (each rank must pass the same length and type)`);
    throw e;
  }
}

/**
 * `value` (meaningful on `root`) to every rank: root -> its leader (when it is not one), a binomial tree
 * over the leaders in host order relative to the root's host, then each leader to its host's other ranks.
 */
async function spread<T>(c: Comm, t: HostTopology, value: T, root: number, call: Call): Promise<T> {
  const r = c.rank;
  const H = t.hosts.length;
  const h = t.hostOf[r]!;
  const host = t.hosts[h]!;
  const lead = host[0]!;
  const rootLead = leaderOf(t, root);
  if (r !== lead) {
    if (r === root) {
      await c.post([lead], hdr(call, UP_STEP), toPayload(value));
      return value;
    }
    return fromPayload(await c.take(lead, call, DOWN_STEP)) as T;
  }
  let p = r === root ? toPayload(value) : null;
  if (r === rootLead && r !== root) p = await c.take(root, call, UP_STEP);
  const rel = (h - t.hostOf[rootLead]! + H) % H;
  let mask = 1;
  while (mask < H) {
    if (rel & mask) {
      p = await c.take(t.hosts[(rel - mask + t.hostOf[rootLead]!) % H]![0]!, call, SPREAD_STEP);
      break;
    }
    mask <<= 1;
  }
  const leaders: number[] = [];
  for (mask >>= 1; mask > 0; mask >>= 1) if (rel + mask < H) leaders.push(t.hosts[(rel + mask + t.hostOf[rootLead]!) % H]![0]!);
  const locals = host.filter((q) => q !== r && q !== root);
  await Promise.all([
    leaders.length ? c.post(leaders, hdr(call, SPREAD_STEP), p!) : null,
    locals.length ? c.post(locals, hdr(call, DOWN_STEP), p!) : null,
  ]);
  return r === root ? value : (fromPayload(p!) as T);
}

export async function hierAllreduce<T>(c: Comm, t: HostTopology, value: T, op: ReduceFn<T>, call: Call): Promise<T> {
  t.taken.allreduce++;
  const acc = await reduceToZero(c, t, value, op as ReduceFn<unknown>, call);
  return spread(c, t, acc as T, 0, call);
}

export async function hierReduce<T>(c: Comm, t: HostTopology, value: T, op: ReduceFn<T>, root: number, call: Call): Promise<T | undefined> {
  t.taken.reduce++;
  const acc = await reduceToZero(c, t, value, op as ReduceFn<unknown>, call);
  if (root === 0) return acc as T | undefined;
  if (c.rank === 0) await c.post([root], hdr(call, RELAY_STEP), toPayload(acc));
  if (c.rank === root) return fromPayload(await c.take(0, call, RELAY_STEP)) as T;
  return undefined;
}

export function hierBcast<T>(c: Comm, t: HostTopology, value: T, root: number, call: Call): Promise<T> {
  t.taken.bcast++;
  return spread(c, t, value, root, call);
}

/** The ranks of each host at its leader, a dissemination barrier between the leaders, then each leader's release. */
export async function hierBarrier(c: Comm, t: HostTopology, call: Call): Promise<void> {
  t.taken.barrier++;
  const r = c.rank;
  const H = t.hosts.length;
  const h = t.hostOf[r]!;
  const host = t.hosts[h]!;
  if (host[0] !== r) {
    await c.post([host[0]!], hdr(call, UP_STEP), EMPTY_PAYLOAD);
    await c.take(host[0]!, call, DOWN_STEP);
    return;
  }
  await Promise.all(host.slice(1).map((q) => c.take(q, call, UP_STEP)));
  for (let d = 1, k = 0; d < H; d *= 2, k++) {
    const to = t.hosts[(h + d) % H]![0]!;
    const from = t.hosts[(h - d + H) % H]![0]!;
    await Promise.all([c.post([to], hdr(call, CROSS_STEP + k), EMPTY_PAYLOAD), c.take(from, call, CROSS_STEP + k)]);
  }
  if (host.length > 1) await c.post(host.slice(1), hdr(call, DOWN_STEP), EMPTY_PAYLOAD);
}


/** Parts of a packed payload, into `into` by rank (a rank outside the world is a mismatch of calls). */
function unpackInto(into: (Payload | undefined)[], p: Payload, what: string): void {
  for (const it of unpackParts(p)) {
    if (it.rank < 0 || it.rank >= into.length) throw commError("COLLECTIVE_MISMATCH", `${what} received a value of rank ${it.rank}`);
    into[it.rank] = it.p;
  }
}

const partsOf = (have: (Payload | undefined)[], ranks: number[]) => packParts(ranks.map((q) => ({ rank: q, p: have[q]! })));

/** A host's payloads at its leader (in `have`, by rank); its other ranks post theirs and return false. */
async function collectHost(c: Comm, t: HostTopology, mine: Payload, have: (Payload | undefined)[], call: Call): Promise<boolean> {
  const host = t.hosts[t.hostOf[c.rank]!]!;
  have[c.rank] = mine;
  if (host[0] !== c.rank) {
    await c.post([host[0]!], hdr(call, UP_STEP), mine);
    return false;
  }
  await Promise.all(host.slice(1).map(async (q) => (have[q] = await c.take(q, call, UP_STEP))));
  return true;
}

/**
 * Gather to `root`: each host's values at its leader, a binomial tree over the leaders (in host order
 * relative to the root's host; each passes on its subtree's values packed), then the root's leader to the root.
 */
export async function hierGather<T>(c: Comm, t: HostTopology, value: T, root: number, call: Call): Promise<T[] | undefined> {
  t.taken.gather++;
  const { rank: r, size: P } = c;
  const H = t.hosts.length;
  const have: (Payload | undefined)[] = new Array(P);
  const rootLead = leaderOf(t, root);
  if (await collectHost(c, t, toPayload(value), have, call)) {
    const h0 = t.hostOf[rootLead]!;
    const rel = (t.hostOf[r]! - h0 + H) % H;
    let held = t.hosts[t.hostOf[r]!]!.slice();
    for (let mask = 1; mask < H; mask *= 2) {
      if (rel & mask) {
        await c.post([t.hosts[(rel - mask + h0) % H]![0]!], hdr(call, CROSS_STEP), partsOf(have, held));
        return undefined;
      }
      if (rel + mask < H) {
        const child = t.hosts[(rel + mask + h0) % H]![0]!;
        const got = await c.take(child, call, CROSS_STEP);
        unpackInto(have, got, "gather");
        held = held.concat(got.parts!.map((x) => x.rank));
      }
    }
    if (r !== root) {
      await c.post([root], hdr(call, DOWN_STEP), partsOf(have, held.filter((q) => q !== root)));
      return undefined;
    }
  } else if (r === root) unpackInto(have, await c.take(rootLead, call, DOWN_STEP), "gather");
  if (r !== root) return undefined;
  const out: T[] = new Array(P);
  for (let q = 0; q < P; q++) if (q !== r) out[q] = fromPayload(have[q]!) as T;
  out[r] = value;
  return out;
}

/**
 * Every rank's payload on every rank: each host's at its leader, Bruck's allgather between the leaders
 * (round k passes on the 2^k hosts' payloads held so far), then each leader's one post of all to its host.
 */
export async function hierAllgather(c: Comm, t: HostTopology, mine: Payload, call: Call): Promise<Payload[]> {
  t.taken.allgather++;
  const { rank: r, size: P } = c;
  const H = t.hosts.length;
  const h = t.hostOf[r]!;
  const host = t.hosts[h]!;
  const have: (Payload | undefined)[] = new Array(P);
  if (!(await collectHost(c, t, mine, have, call))) {
    unpackInto(have, await c.take(host[0]!, call, DOWN_STEP), "allgather");
    have[r] = mine;
    return have as Payload[];
  }
  for (let d = 1, k = 0; d < H; d *= 2, k++) {
    const cnt = Math.min(d, H - d);
    const ranks = Array.from({ length: cnt }, (_, i) => t.hosts[(h + i) % H]!).flat();
    const to = t.hosts[(h - d + H) % H]![0]!;
    const from = t.hosts[(h + d) % H]![0]!;
    const [, got] = await Promise.all([c.post([to], hdr(call, CROSS_STEP + k), partsOf(have, ranks)), c.take(from, call, CROSS_STEP + k)]);
    unpackInto(have, got, "allgather");
  }
  if (host.length > 1) await c.post(host.slice(1), hdr(call, DOWN_STEP), partsOf(have, Array.from({ length: P }, (_, q) => q)));
  return have as Payload[];
}
