/**
 * Task grids. A program reads each materialized leaf from one chunk per task, so a context's grid is
 * refined at every position where one of its leaves, seen through its index map, crosses a chunk
 * boundary. Arrays whose chunks already line up (the common case: elementwise chains keep their
 * operands' chunks) are not refined at all.
 */
import { blockStarts, type Chunks, type GridSpec } from "../grid.js";
import type { IndexMap } from "../index-map.js";

export interface LeafRead {
  map: IndexMap;
  /** the leaf buffer's chunks */
  chunks: Chunks;
}

/** The grid positions (along each grid axis) where some read moves into another chunk of its buffer. */
function cutsOf(grid: GridSpec, reads: readonly LeafRead[]): Set<number>[] {
  const cuts = grid.shape.map(() => new Set<number>());
  for (const r of reads) {
    for (let k = 0; k < r.map.source.length; k++) {
      const g = r.map.source[k]!;
      const s = r.map.step[k]!;
      if (g < 0 || s === 0) continue;
      const off = r.map.offset[k]!;
      const n = grid.shape[g]!;
      const starts = blockStarts(r.chunks[k]!);
      for (let q = 1; q < starts.length - 1; q++) {
        const b = starts[q]!;
        // the first grid position whose buffer index is on the other side of boundary b
        const i = s > 0 ? Math.ceil((b - off) / s) : Math.floor((off - b) / -s) + 1;
        if (i > 0 && i < n) cuts[g]!.add(i);
      }
    }
  }
  return cuts;
}

/** `blocks` split at every cut (cuts outside the axis are ignored). */
function splitBlocks(blocks: readonly number[], cuts: Set<number>): number[] {
  if (!cuts.size) return [...blocks];
  const starts = blockStarts(blocks);
  const all = new Set<number>(starts);
  for (const c of cuts) all.add(c);
  const sorted = [...all].sort((a, b) => a - b);
  const out: number[] = [];
  for (let i = 1; i < sorted.length; i++) out.push(sorted[i]! - sorted[i - 1]!);
  return out.length ? out : [...blocks];
}

/** The coarsest refinement of `grid` on which every read stays within one chunk of its buffer per task. */
export function refineGrid(grid: GridSpec, reads: readonly LeafRead[]): GridSpec {
  const cuts = cutsOf(grid, reads);
  if (cuts.every((c) => c.size === 0)) return grid;
  return { shape: [...grid.shape], chunks: grid.chunks.map((b, d) => splitBlocks(b, cuts[d]!)) };
}

export const sameGrid = (a: GridSpec, b: GridSpec): boolean =>
  a.shape.length === b.shape.length &&
  a.shape.every((n, d) => n === b.shape[d]) &&
  a.chunks.every((c, d) => c.length === b.chunks[d]!.length && c.every((x, i) => x === b.chunks[d]![i]));
