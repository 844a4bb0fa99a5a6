/**
 * The start-up tree of a world connected on demand: the links every rank makes before its world is ready,
 * which also carry failure detection (heartbeats on each link; an Abort floods along every link a rank
 * has, so a tree that spans the world reaches every rank in at most twice its depth).
 *
 * Plain binomial tree over the ranks (rank r's parent is r minus its lowest set bit: the tree of the
 * canonical reduction to rank 0, collectives.ts), or, when the job step's layout is known (SLURM's block
 * distribution: SLURM_STEP_TASKS_PER_NODE), two levels: the ranks of one node hang off that node's first
 * rank in a binomial tree of their own (their links stay on the node), and the nodes' first ranks form a
 * binomial tree over the nodes. Either way each rank has O(log P) tree links.
 */

export interface TreePlace {
  /** -1 for the root (rank 0) */
  parent: number;
  children: number[];
}

/** Rank r's place in the binomial tree over `size` ranks rooted at 0 (r minus its lowest bit is its parent). */
export function binomialPlace(r: number, size: number): TreePlace {
  const children: number[] = [];
  const low = r === 0 ? Infinity : r & -r;
  for (let m = 1; m < low && r + m < size; m *= 2) children.push(r + m);
  return { parent: r === 0 ? -1 : r - (r & -r), children };
}

/**
 * Rank r's place in the start-up tree. `perNode`: ranks per node in node order with block distribution
 * (ranks 0..perNode[0]-1 on the first node, ...), or undefined when not known (the plain binomial tree).
 */
export function treePlace(r: number, size: number, perNode?: number[]): TreePlace {
  if (!perNode || perNode.length <= 1 || perNode.reduce((a, b) => a + b, 0) !== size) return binomialPlace(r, size);
  const first: number[] = [];
  let s = 0;
  for (const n of perNode) {
    first.push(s);
    s += n;
  }
  let node = 0;
  while (node + 1 < first.length && first[node + 1]! <= r) node++;
  const base = first[node]!;
  const local = binomialPlace(r - base, perNode[node]!);
  const children = local.children.map((c) => c + base);
  if (r !== base) return { parent: local.parent + base, children };
  // a node's first rank: its local subtree, and its place among the nodes
  const across = binomialPlace(node, perNode.length);
  return { parent: across.parent < 0 ? -1 : first[across.parent]!, children: [...children, ...across.children.map((n) => first[n]!)] };
}

/**
 * SLURM_STEP_TASKS_PER_NODE ("2(x3),1": 2 ranks on each of 3 nodes, then 1) as counts per node; undefined
 * when absent, malformed, or when the step does not place ranks in blocks (SLURM_DISTRIBUTION cyclic...).
 */
export function tasksPerNode(env: Record<string, string | undefined>): number[] | undefined {
  const spec = env.SLURM_STEP_TASKS_PER_NODE ?? "";
  const dist = env.SLURM_DISTRIBUTION ?? "block";
  if (!spec || !/^block/.test(dist)) return undefined;
  const out: number[] = [];
  for (const part of spec.split(",")) {
    const m = /^(\d+)(?:\(x(\d+)\))?$/.exec(part.trim());
    if (!m) return undefined;
    for (let i = 0; i < Number(m[2] ?? 1); i++) out.push(Number(m[1]));
  }
  return out.every((n) => n > 0) ? out : undefined;
}
