/**
 * A random source read other than in rows (through a transpose, a flip, a step along the row) is
 * generated first, in rows, over the box of it that is read, into a buffer whose chunks follow the
 * reading grid's, and then read from there with strides: generation stays at full speed (it is per
 * element otherwise: each element would seed its own generator block), and values are the same bits.
 */
import { blockStarts, type GridSpec } from "../grid.js";
import type { IndexMap } from "../index-map.js";
import { newId, type Node, type ViewNode } from "./nodes.js";

/**
 * The box of `random` that map m reads over grid g: a view of it (in rows), its chunks, and the read of
 * it. Null when the box has no rows to generate in (one element wide along the random's last axis, as a
 * column): generating it would be the same per-element generation, so the source is read as it is.
 */
export function randomBox(random: Node, m: IndexMap, g: GridSpec): { node: ViewNode; chunks: number[][]; map: IndexMap } | null {
  const nd = random.shape.length;
  const lo: number[] = [];
  const len: number[] = [];
  for (let k = 0; k < nd; k++) {
    const src = m.source[k]!;
    const n = src < 0 ? 1 : g.shape[src]!;
    if (n === 0) {
      lo.push(0);
      len.push(0);
      continue;
    }
    const a = m.offset[k]!;
    const b = src < 0 ? a : a + m.step[k]! * (n - 1);
    lo.push(Math.min(a, b));
    len.push(Math.abs(b - a) + 1);
  }
  if (nd > 0 && len[nd - 1]! <= 1 && len.some((n) => n > 1)) return null;
  const node: ViewNode = {
    kind: "view",
    id: newId(),
    input: random,
    map: { source: [...Array(nd).keys()], step: new Array<number>(nd).fill(1), offset: lo },
    shape: len,
    dtype: random.dtype,
  };
  // chunks cut where the grid's blocks fall, so each task of the reading grid reads one chunk
  const chunks = len.map((n, k) => {
    const src = m.source[k]!;
    if (src < 0 || n === 0) return [n];
    const s = m.step[k]!;
    const starts = blockStarts(g.chunks[src]!);
    const cuts = new Set<number>();
    for (let q = 1; q < starts.length - 1; q++) {
      const b = starts[q]!;
      const at = (s > 0 ? m.offset[k]! + s * b : m.offset[k]! + s * (b - 1)) - lo[k]!;
      if (at > 0 && at < n) cuts.add(at);
    }
    const sorted = [0, ...[...cuts].sort((x, y) => x - y), n];
    return sorted.slice(1).map((e, i) => e - sorted[i]!);
  });
  // the reading map, relative to the box
  const map: IndexMap = { source: [...m.source], step: [...m.step], offset: m.offset.map((o, k) => o - lo[k]!) };
  return { node, chunks, map };
}
