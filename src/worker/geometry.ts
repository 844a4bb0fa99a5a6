/**
 * Per-task geometry: where each program slot starts for one task's region and how it strides, with dims
 * merged wherever every slot is contiguous across them, so rows are as long as possible.
 *
 * A slot reading a buffer finds the chunk holding the region (the plan guarantees there is one) in the
 * buffer's chunk table, and composes the view's index map with the chunk's C-order strides: a transposed
 * or stepped read is a strided read of the chunk, never a copy.
 */
import { itemsize } from "../dtype.js";
import { Grid, cStrides } from "../grid.js";
import { applyMap, identityMap, linearThrough } from "../index-map.js";
import type { ChunkGeometry, SlotGeometry } from "../kernels/program.js";
import type { BoundBuffer, BoundSlot } from "./messages.js";

export interface Region {
  /** block index in the layer's grid, the global index of the first element, the extents */
  index: number[];
  start: number[];
  shape: number[];
}

/** A slot's values over a region: base + sum_g strides_g * (i_g - start_g). */
interface Affine {
  base: number;
  strides: number[];
  /** the innermost stride must be 1 (RANDOM) */
  unitOnly: boolean;
  /** a MEM slot written by a sink: its innermost stride must be 0 or 1 */
  sink: boolean;
  mem: boolean;
}

/** Elements per component in a partial chunk of a region: the region's extents outside the reduced axes. */
export function partialElems(axes: readonly number[], shape: readonly number[]): number {
  let n = 1;
  for (let d = 0; d < shape.length; d++) if (!axes.includes(d)) n *= shape[d]!;
  return n;
}

/** Resolves buffers to chunk addresses; one per worker (grids cached by table address). */
export class SlotResolver {
  private readonly grids = new Map<number, Grid>();
  constructor(private readonly memory: () => ArrayBufferLike) {}

  grid(b: BoundBuffer): Grid {
    let g = this.grids.get(b.table);
    if (!g || g.shape !== b.shape) this.grids.set(b.table, (g = new Grid(b)));
    return g;
  }

  /** Byte address and C strides of the chunk of `b` holding global index j, and j's offset in it. */
  locate(b: BoundBuffer, j: readonly number[]): { addr: number; strides: number[]; offset: number; chunk: number } {
    const g = this.grid(b);
    const { chunk, start, shape } = g.holding(j);
    const strides = cStrides(shape);
    let offset = 0;
    for (let k = 0; k < j.length; k++) offset += (j[k]! - start[k]!) * strides[k]!;
    const addr = new Float64Array(this.memory(), b.table + chunk * 8, 1)[0]!;
    return { addr, strides, offset, chunk };
  }

  affine(slot: BoundSlot, r: Region): Affine {
    const nd = r.shape.length;
    switch (slot.kind) {
      case "index": {
        let base = slot.offset;
        for (let g = 0; g < nd; g++) base += slot.strides[g]! * r.start[g]!;
        return { base, strides: slot.strides, unitOnly: slot.contiguous, sink: false, mem: false };
      }
      case "read":
      case "write": {
        const map = slot.kind === "read" ? slot.map : slot.offset ? { ...identityMap(nd), offset: slot.offset } : identityMap(nd);
        const at = this.locate(slot.buffer, applyMap(map, r.start));
        const lin = linearThrough(map, at.strides, nd);
        return { base: at.addr + at.offset * itemsize(slot.buffer.dtype), strides: lin.strides, unitOnly: false, sink: slot.kind === "write", mem: true };
      }
      case "partial": {
        const g = this.grid(slot.buffer);
        // the partial buffer has a leading component axis of one block: its chunk k is the region's chunk
        const k = g.chunkIndex([0, ...r.index]);
        const pshape = r.shape.map((n, d) => (slot.axes.includes(d) ? 1 : n));
        const strides = cStrides(pshape).map((s, d) => (slot.axes.includes(d) ? 0 : s));
        const addr = new Float64Array(this.memory(), slot.buffer.table + k * 8, 1)[0]!;
        const base = addr + slot.component * partialElems(slot.axes, r.shape) * 8;
        return { base, strides, unitOnly: false, sink: true, mem: true };
      }
    }
  }

  /** Address of chunk k of the partial buffer (its components one after another). */
  chunkAddress(b: BoundBuffer, k: number): number {
    return new Float64Array(this.memory(), b.table + k * 8, 1)[0]!;
  }
}

/**
 * Geometry of one region for a program: drops dims of extent 1, merges neighbouring dims where every
 * slot is contiguous across them (unless `mergeRows` is off), and keeps the innermost stride of sink slots at 0 or 1 and of RANDOM's
 * index slots at 1 (else the innermost dim becomes a row dim and rows have length 1).
 */
export function regionGeometry(slots: readonly BoundSlot[], r: Region, resolver: SlotResolver, mergeRows = true): ChunkGeometry {
  const aff = slots.map((s) => resolver.affine(s, r));
  if (r.shape.some((n) => n === 0)) {
    return { extents: [0], rowLen: 0, slots: aff.map((a) => ({ base: a.base, last: 0, rows: [0] })) };
  }
  const dims: { n: number; strides: number[] }[] = [];
  for (let d = 0; d < r.shape.length; d++) {
    const n = r.shape[d]!;
    if (n === 1) continue;
    dims.push({ n, strides: aff.map((a) => a.strides[d]!) });
  }
  // merge from the innermost outward
  const merged: { n: number; strides: number[] }[] = [];
  for (let i = dims.length - 1; i >= 0; i--) {
    const outer = dims[i]!;
    const inner = merged[0];
    if (mergeRows && inner && outer.strides.every((s, j) => s === inner.strides[j]! * inner.n)) inner.n *= outer.n;
    else merged.unshift({ n: outer.n, strides: [...outer.strides] });
  }
  let inner = merged.pop();
  if (inner && !aff.every((a, j) => innermostOk(a, inner!.strides[j]!))) {
    merged.push(inner);
    inner = undefined;
  }
  const rowLen = inner ? inner.n : 1;
  const out: SlotGeometry[] = aff.map((a, j) => ({
    base: a.base,
    last: inner ? inner.strides[j]! : a.mem ? 0 : 1,
    rows: merged.map((m) => m.strides[j]!),
  }));
  return { extents: merged.map((m) => m.n), rowLen, slots: out };
}

function innermostOk(a: Affine, stride: number): boolean {
  if (a.sink) return stride === 0 || stride === 1;
  if (a.mem) return true;
  return a.unitOnly ? stride === 1 : true;
}
