/**
 * Analysis for lowering: which expressions must be evaluated on which grids ("contexts"), and what each
 * reads. A context is a virtual expression evaluated over a chunk grid into one sink: a reduction's
 * partials, the input blocks of a mapBlocks call, or an output. Its leaves are the materialized nodes it
 * reaches through virtual ones, each with the index map from the grid to the leaf.
 */
import { cStrides, type GridSpec } from "../grid.js";
import { broadcastMap, composeMaps, identityMap, linearThrough, mapKey, type IndexMap } from "../index-map.js";
import { shiftInto } from "./concat-split.js";
import { inputsOf, isVirtual, type Chunks, type ConcatNode, type MapBlocksNode, type Node, type ReduceNode, type ScanNode } from "./nodes.js";

export type Sink =
  | { kind: "reduce"; node: ReduceNode }
  | { kind: "mapBlocksInput"; node: MapBlocksNode }
  /** running sums or products along an axis into the scan's buffer, carried from block to block */
  | { kind: "scan"; node: ScanNode }
  | { kind: "output"; node: Node; chunks: Chunks; persist: boolean };

export interface Context {
  expr: Node;
  /** more expressions evaluated on the same grid for the sink (a histogram's weights) */
  also?: Node[];
  grid: GridSpec;
  sink: Sink;
  leaves: { node: Node; map: IndexMap }[];
}

export const gridOf = (shape: readonly number[], chunks: Chunks): GridSpec => ({ shape: [...shape], chunks: chunks.map((c) => [...c]) });

/** Materialized leaves of expr on a grid of expr's shape, each with its map from the grid (deduplicated). */
export function leavesOf(expr: Node): { node: Node; map: IndexMap }[] {
  return walkLeaves(expr).leaves;
}

/**
 * Does the random source's flat index advance by exactly 1 along the grid's row axis (its last axis
 * longer than 1) under map m? RANDOM generates runs of consecutive elements; read any other way (a
 * transpose, a flip, a step along the row) it would seed a generator per element.
 */
export function randomReadsInRows(random: Node, m: IndexMap, gridShape: readonly number[]): boolean {
  let row = gridShape.length - 1;
  while (row >= 0 && gridShape[row] === 1) row--;
  if (row < 0) return true;
  return linearThrough(m, cStrides(random.shape), gridShape.length).strides[row] === 1;
}

/**
 * The leaves of expr (as leavesOf) and the random sources it reads other than in rows (they are
 * generated into a buffer of their own first, then read from it with strides).
 */
export function walkLeaves(expr: Node): {
  leaves: { node: Node; map: IndexMap }[];
  stridedRandoms: { node: Node; map: IndexMap }[];
  concats: { node: ConcatNode; map: IndexMap }[];
} {
  const out = new Map<string, { node: Node; map: IndexMap }>();
  const strided = new Map<string, { node: Node; map: IndexMap }>();
  const concats = new Map<string, { node: ConcatNode; map: IndexMap }>();
  const seen = new Set<string>();
  const walk = (n: Node, m: IndexMap) => {
    const key = `${n.id}@${mapKey(m)}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (!isVirtual(n)) {
      out.set(key, { node: n, map: m });
      return;
    }
    if (n.kind === "random" && !randomReadsInRows(n, m, expr.shape)) {
      strided.set(key, { node: n, map: m });
      return;
    }
    if (n.kind === "view") walk(n.input, composeMaps(n.map, m));
    else if (n.kind === "concat") {
      // each input, shifted to its place (a task reads only the one its region lies in)
      concats.set(key, { node: n, map: m });
      let at = 0;
      for (const p of n.inputs) {
        if (p.shape[n.axis]! > 0) walk(p, shiftInto(n, m, at));
        at += p.shape[n.axis]!;
      }
    } else for (const a of inputsOf(n)) walk(a, composeMaps(broadcastMap(a.shape, n.shape), m));
  };
  walk(expr, identityMap(expr.shape.length));
  return { leaves: [...out.values()], stridedRandoms: [...strided.values()], concats: [...concats.values()] };
}

/** Every node reachable from the roots, inputs before the nodes that use them. */
export function topoOrder(roots: readonly Node[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<number>();
  // iterative post-order: long elementwise chains must not exhaust the call stack
  for (const root of roots) {
    const stack: { n: Node; kids: Node[]; i: number }[] = [];
    const push = (n: Node) => {
      if (seen.has(n.id)) return;
      seen.add(n.id);
      stack.push({ n, kids: inputsOf(n), i: 0 });
    };
    push(root);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.i < top.kids.length) push(top.kids[top.i++]!);
      else {
        stack.pop();
        order.push(top.n);
      }
    }
  }
  return order;
}
