/**
 * Which ranks share a host, and what that allows the collectives (hierarchical.ts): the same answer on
 * every rank, decided once per world from the transport's set-up (shm-setup.ts).
 *
 * Reductions must combine in the canonical tree (collectives.ts, canonicalReduce): its nodes are the
 * aligned rank blocks [i, min(i + 2^j, P)) for i a multiple of 2^j, each the combination of its two halves,
 * the lower on the left. A reduction may go node-locally first only if each host can compute, on its own,
 * nodes of that tree that together cover its ranks, and the rest of the tree is then combined between
 * hosts. The exact condition: every host's ranks form one contiguous range [a, b). Then
 *  - the range splits into its canonical pieces (canonicalPieces: the maximal tree nodes inside [a, b),
 *    found greedily from a); tree nodes nest or are disjoint, so every node of the tree is either inside
 *    one piece (combined on its host, by canonicalReduce over the piece's values in rank order: an aligned
 *    block's own canonical tree is the whole tree's subtree) or a union of whole pieces (combined between
 *    the hosts' leaders, node by node in the tree's own order);
 *  - between hosts, at each level of the tree, a host's leader sends at most one node to any other
 *    leader (two nodes of one level owned by host X whose left partners are both owned by host Y would put
 *    a rank of X between two of Y), so (call, level, leader) names every message.
 * E.g. 2+2 (hosts 0-1, 2-3): pieces [0,2) | [2,4), one message between the leaders; 3+1: [0,2) [2,3) |
 * [3,4): rank 3's value goes to host a's leader, which combines 2 op 3 and then (0 op 1) op (2 op 3);
 * 1+3: [0,1) | [1,2) [2,4). Interleaved hosts (0,2 | 1,3) are not contiguous: today's algorithms.
 *
 * Broadcasts, barriers, gathers and allgathers combine nothing: they go through one leader per host (the
 * host's lowest rank) in any world of several hosts where some host holds several ranks.
 */

/** How often each collective took the hierarchical path on this rank (the transport report shows it). */
export interface HierarchyCounts {
  allreduce: number;
  reduce: number;
  bcast: number;
  barrier: number;
  gather: number;
  allgather: number;
}

export interface HostTopology {
  /** the ranks of each host that share memory (a rank sharing with none is a host of its own), by lowest rank */
  readonly hosts: number[][];
  /** the index in `hosts` of each rank's host */
  readonly hostOf: number[];
  /** reductions go node-locally first (every host's ranks are contiguous; several hosts; one has several ranks) */
  readonly reductions: boolean;
  /** bcast, barrier, gather and allgather go through one leader per host (several hosts; one has several ranks) */
  readonly grouped: boolean;
  /** per host, its canonical pieces [start, end) (when `reductions`) */
  readonly pieces: [number, number][][];
  /** the end of the piece each rank is in (when `reductions`) */
  readonly pieceEnd: number[];
  /** why reductions keep today's algorithms (empty when they do not) */
  readonly why: string;
  readonly taken: HierarchyCounts;
}

/**
 * The maximal nodes of the canonical tree over P ranks inside [a, b), from a up: at each start s, the
 * largest aligned block [s, min(s + 2^j, P)) (s a multiple of 2^j) that ends by b.
 */
export function canonicalPieces(a: number, b: number, P: number): [number, number][] {
  const out: [number, number][] = [];
  let s = a;
  while (s < b) {
    let size = 1;
    // grow while the doubled block is a node (s aligned to it), ends by b, and is larger than the current one
    while (s % (2 * size) === 0 && s + size < P && Math.min(s + 2 * size, P) <= b) size *= 2;
    const e = Math.min(s + size, P);
    out.push([s, e]);
    s = e;
  }
  return out;
}

/** The topology of a world whose ranks share memory in `groups` (each sorted; ranks in none are hosts of one). */
export function hostTopology(groups: number[][], P: number): HostTopology {
  const hostOf = new Array<number>(P).fill(-1);
  const byLowest: number[][] = [];
  for (const g of groups) if (g.length >= 2) byLowest.push(g.slice().sort((x, y) => x - y));
  for (let r = 0; r < P; r++) if (!byLowest.some((g) => g.includes(r))) byLowest.push([r]);
  byLowest.sort((x, y) => x[0]! - y[0]!);
  byLowest.forEach((g, h) => g.forEach((r) => (hostOf[r] = h)));
  const several = byLowest.length >= 2 && byLowest.some((g) => g.length >= 2);
  const contiguous = byLowest.every((g) => g[g.length - 1]! - g[0]! === g.length - 1);
  const why = !several ? (byLowest.length < 2 ? "one host" : "no host holds several ranks") : !contiguous ? "the ranks of a host are not a contiguous range" : "";
  const reductions = why === "";
  const pieces = reductions ? byLowest.map((g) => canonicalPieces(g[0]!, g[g.length - 1]! + 1, P)) : [];
  const pieceEnd = new Array<number>(P).fill(-1);
  for (const [s, e] of pieces.flat()) for (let q = s; q < e; q++) pieceEnd[q] = e;
  return {
    hosts: byLowest,
    hostOf,
    reductions,
    grouped: several,
    pieces,
    pieceEnd,
    why,
    taken: { allreduce: 0, reduce: 0, bcast: 0, barrier: 0, gather: 0, allgather: 0 },
  };
}
