/**
 * A take task (run on the scheduler's thread): chunk t of the output gathers, along the axis, the rows at
 * its indices from the input chunks holding them. Seen around the axis, an output chunk is
 * [before, n, after] and each input chunk [before, m, after] (the other axes have the same blocks), so
 * each gathered row is `after` contiguous elements.
 */
import { TesseraError } from "../errors.js";
import type { TypedArray } from "../dtype.js";
import { blockAt } from "../grid.js";
import type { LayerTasks } from "../plan/tasks.js";
import type { TakeLayer } from "../plan/types.js";

export function takeChunk(tasks: LayerTasks, t: number, view: (buffer: number, chunk: number) => TypedArray): void {
  const l = tasks.layer as TakeLayer;
  const out = tasks.grid(l.output);
  const inp = tasks.grid(l.input);
  const oc = out.chunk(t);
  const a = l.axis;
  const before = oc.shape.slice(0, a).reduce((x, y) => x * y, 1);
  const after = oc.shape.slice(a + 1).reduce((x, y) => x * y, 1);
  const n = oc.shape[a]!;
  const size = inp.shape[a]!;
  let indices: ArrayLike<number>;
  if (l.indices) indices = l.indices.slice(oc.start[a]!, oc.start[a]! + n);
  else {
    const raw = view(l.indexBuffer!, oc.index[a]!);
    const idx = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const v = raw[i]!;
      if (v < -size || v >= size) throw new TesseraError("INDEX_ERROR", `index ${v} is out of bounds for axis ${a} with size ${size}`);
      idx[i] = v < 0 ? v + size : v;
    }
    indices = idx;
  }
  const dst = view(l.output, t);
  const block = [...oc.index];
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    block[a] = blockAt(inp.starts[a]!, j);
    const k = inp.chunkIndex(block);
    const c = inp.chunk(k);
    const src = view(l.input, k);
    const m = c.shape[a]!;
    const row = j - c.start[a]!;
    for (let p = 0; p < before; p++) {
      const from = (p * m + row) * after;
      dst.set(src.subarray(from, from + after), (p * n + i) * after);
    }
  }
}
