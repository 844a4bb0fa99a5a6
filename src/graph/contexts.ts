/**
 * Analysis for lowering: which expressions must be evaluated on which grids ("contexts"), and what each
 * reads. A context is a virtual expression evaluated over a chunk grid into one sink: a reduction's
 * partials, the input blocks of a mapBlocks call, or an output. Its leaves are the materialized nodes it
 * reaches through virtual ones, each with the index map from the grid to the leaf.
 */
import type { GridSpec } from "../grid.js";
import { broadcastMap, composeMaps, identityMap, mapKey, type IndexMap } from "../index-map.js";
import { inputsOf, isVirtual, type Chunks, type MapBlocksNode, type Node, type ReduceNode } from "./nodes.js";

export type Sink =
  | { kind: "reduce"; node: ReduceNode }
  | { kind: "mapBlocksInput"; node: MapBlocksNode }
  | { kind: "output"; node: Node; chunks: Chunks; persist: boolean };

export interface Context {
  expr: Node;
  grid: GridSpec;
  sink: Sink;
  leaves: { node: Node; map: IndexMap }[];
}

export const gridOf = (shape: readonly number[], chunks: Chunks): GridSpec => ({ shape: [...shape], chunks: chunks.map((c) => [...c]) });

/** Materialized leaves of expr on a grid of expr's shape, each with its map from the grid (deduplicated). */
export function leavesOf(expr: Node): { node: Node; map: IndexMap }[] {
  const out = new Map<string, { node: Node; map: IndexMap }>();
  const seen = new Set<string>();
  const walk = (n: Node, m: IndexMap) => {
    const key = `${n.id}@${mapKey(m)}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (!isVirtual(n)) {
      out.set(key, { node: n, map: m });
      return;
    }
    if (n.kind === "view") walk(n.input, composeMaps(n.map, m));
    else for (const a of inputsOf(n)) walk(a, composeMaps(broadcastMap(a.shape, n.shape), m));
  };
  walk(expr, identityMap(expr.shape.length));
  return [...out.values()];
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
