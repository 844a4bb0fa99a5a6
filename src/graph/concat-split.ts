/**
 * Concatenation, fused. A concatenation is virtual: a task whose region lies in one input of it reads
 * that input, shifted, like any other operand. So a context reading concatenations gets its grid cut
 * where the inputs meet (refine.ts does the cutting) and is split into boxes of blocks, each reading one
 * input of every concatenation: one kernel per box, all writing the same sinks.
 */
import { Grid, type Box, type GridSpec } from "../grid.js";
import { composeMaps, type IndexMap } from "../index-map.js";
import type { ConcatNode, Node } from "./nodes.js";
import type { LeafRead } from "./refine.js";

/** The input of `c` that index position `pos` along its axis falls in, and its offset. */
function partAtPosition(c: ConcatNode, pos: number): { part: Node; offset: number } {
  let at = 0;
  for (const p of c.inputs) {
    const len = p.shape[c.axis]!;
    if (len > 0 && pos < at + len) return { part: p, offset: at };
    at += len;
  }
  // past the end: only an empty region gets here; any input will do
  const last = c.inputs.length - 1;
  return { part: c.inputs[last]!, offset: at - c.inputs[last]!.shape[c.axis]! };
}

/** The map into input `part` (at `offset` along the axis) of a concatenation read through m. */
export function shiftInto(c: ConcatNode, m: IndexMap, offset: number): IndexMap {
  const nd = c.shape.length;
  const shift: IndexMap = { source: [...Array(nd).keys()], step: new Array<number>(nd).fill(1), offset: c.shape.map((_, k) => (k === c.axis ? -offset : 0)) };
  return composeMaps(shift, m);
}

/** Which input a region starting at grid position `start` reads of a concatenation read through m. */
export function partOf(c: ConcatNode, m: IndexMap, start: readonly number[]): { part: Node; map: IndexMap } {
  const g = m.source[c.axis]!;
  const pos = m.offset[c.axis]! + (g < 0 ? 0 : m.step[c.axis]! * start[g]!);
  const { part, offset } = partAtPosition(c, pos);
  return { part, map: shiftInto(c, m, offset) };
}

/** Where the grid must be cut so no task spans two inputs: the inputs' extents, as chunks to refine by. */
export function concatCuts(concats: readonly { node: ConcatNode; map: IndexMap }[]): LeafRead[] {
  return concats.map(({ node: c, map }) => ({
    map,
    chunks: c.shape.map((n, k) => (k === c.axis ? (c.inputs.map((p) => p.shape[k]!).filter((l) => l > 0).length ? c.inputs.map((p) => p.shape[k]!).filter((l) => l > 0) : [0]) : [n])),
  }));
}

/**
 * The boxes of blocks of a (refined) grid within which every concatenation reads one input: along each
 * grid axis, the runs of consecutive blocks that read the same inputs; boxes are their products.
 */
export function boxesOf(concats: readonly { node: ConcatNode; map: IndexMap }[], grid: GridSpec): Box[] {
  const g = new Grid(grid);
  const nd = grid.shape.length;
  // per grid axis: the block indices where the choice of input changes
  const runs: number[][] = [];
  for (let d = 0; d < nd; d++) {
    const nb = g.numblocks[d]!;
    const cuts = new Set<number>([0, nb]);
    for (const { node: c, map } of concats) {
      if (map.source[c.axis] !== d) continue;
      let prev: Node | null = null;
      for (let b = 0; b < nb; b++) {
        const start = new Array<number>(nd).fill(0);
        start[d] = g.starts[d]![b]!;
        const { part } = partOf(c, map, start);
        if (prev && part !== prev) cuts.add(b);
        prev = part;
      }
    }
    runs.push([...cuts].sort((a, b) => a - b));
  }
  const boxes: Box[] = [];
  const idx = new Array<number>(nd).fill(0);
  if (runs.some((r) => r.length < 2)) return [{ lo: new Array(nd).fill(0), hi: g.numblocks.slice() }];
  for (;;) {
    boxes.push({ lo: idx.map((i, d) => runs[d]![i]!), hi: idx.map((i, d) => runs[d]![i + 1]!) });
    let d = nd - 1;
    while (d >= 0 && ++idx[d]! === runs[d]!.length - 1) idx[d--] = 0;
    if (d < 0) break;
  }
  return boxes;
}
