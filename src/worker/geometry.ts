/**
 * Per-chunk geometry: where each program slot starts for one chunk of a grid and how it strides, with
 * dims merged wherever every slot is contiguous across them, so rows are as long as possible.
 */
import type { ChunkGeometry, SlotGeometry } from "../kernels/program.js";
import type { GridSpec, PartialSpec, SlotSpec } from "./messages.js";

const ITEMSIZE = { float64: 8, float32: 4, int32: 4, bool: 1 } as const;

/** A grid with block starts precomputed. */
export class Grid {
  readonly shape: number[];
  readonly chunks: number[][];
  readonly starts: number[][];
  readonly numblocks: number[];
  readonly nchunks: number;

  constructor(spec: GridSpec) {
    this.shape = spec.shape;
    this.chunks = spec.chunks;
    this.starts = spec.chunks.map((c) => {
      const s = [0];
      for (const b of c) s.push(s[s.length - 1]! + b);
      return s;
    });
    this.numblocks = spec.chunks.map((c) => c.length);
    this.nchunks = this.numblocks.reduce((a, b) => a * b, 1);
  }

  /** Block index, start and shape of chunk k (C order over blocks). */
  chunk(k: number): { index: number[]; start: number[]; shape: number[] } {
    const nd = this.shape.length;
    const index = new Array<number>(nd);
    const start = new Array<number>(nd);
    const shape = new Array<number>(nd);
    for (let d = nd - 1; d >= 0; d--) {
      const nb = this.numblocks[d]!;
      const b = k % nb;
      k = (k - b) / nb;
      index[d] = b;
      start[d] = this.starts[d]![b]!;
      shape[d] = this.chunks[d]![b]!;
    }
    return { index, start, shape };
  }
}

export const cStrides = (shape: readonly number[]): number[] => {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= shape[d]!;
  }
  return st;
};

/** Strides of an array of `shape` broadcast (right-aligned) onto `nd` grid dims; 0 where broadcast. */
export function broadcastStrides(shape: readonly number[], nd: number): number[] {
  const own = cStrides(shape);
  const out = new Array<number>(nd).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const d = nd - shape.length + i;
    if (d >= 0 && shape[i] !== 1) out[d] = own[i]!;
  }
  return out;
}

/** Elements in chunk k's partial block for one component. */
export function partialElems(p: PartialSpec, chunkShape: readonly number[]): number {
  let n = 1;
  for (let d = 0; d < chunkShape.length; d++) if (!p.axes.includes(d)) n *= chunkShape[d]!;
  return n;
}

export interface SlotContext {
  partials: PartialSpec[];
  /** absolute addresses of local buffers: [local] -> { in, out (this chunk), fixedOut (its own buffer) } */
  locals: { in: number; out: number; fixedOut: number }[];
}

interface Affine {
  base: number;
  strides: number[];
  /** innermost stride must be 1 (RANDOM) or 0/1 (MEM) */
  unitOnly: boolean;
  mem: boolean;
}

function affineOf(slot: SlotSpec, chunk: { start: number[]; shape: number[] }, chunkIndex: number, ctx: SlotContext): Affine {
  const nd = chunk.shape.length;
  const dot = (st: number[]) => st.reduce((a, s, d) => a + s * chunk.start[d]!, 0);
  switch (slot.kind) {
    case "flat": {
      const st = broadcastStrides(slot.shape, nd);
      return { base: dot(st), strides: st, unitOnly: slot.contiguous, mem: false };
    }
    case "axis": {
      const st = new Array<number>(nd).fill(0);
      st[slot.axis] = 1;
      return { base: chunk.start[slot.axis]!, strides: st, unitOnly: false, mem: false };
    }
    case "array": {
      const st = broadcastStrides(slot.shape, nd);
      return { base: slot.addr + dot(st) * ITEMSIZE[slot.dtype], strides: st, unitOnly: false, mem: true };
    }
    case "localIn":
    case "localOut": {
      const l = ctx.locals[slot.local]!;
      return { base: slot.kind === "localIn" ? l.in : l.out, strides: cStrides(chunk.shape), unitOnly: false, mem: true };
    }
    case "partial": {
      const p = ctx.partials[slot.partial]!;
      const pshape = chunk.shape.map((n, d) => (p.axes.includes(d) ? 1 : n));
      const st = cStrides(pshape).map((s, d) => (p.axes.includes(d) ? 0 : s));
      const n = partialElems(p, chunk.shape);
      return { base: p.offsets[chunkIndex]! + slot.component * n * 8, strides: st, unitOnly: false, mem: true };
    }
  }
}

/**
 * Geometry of one chunk for a program: drops dims of extent 1, merges neighbouring dims where every
 * slot is contiguous across them, and keeps the innermost stride of memory slots at 0 or 1 (else the
 * innermost dim becomes a row dim and rows have length 1).
 */
export function chunkGeometry(
  slots: SlotSpec[],
  chunk: { start: number[]; shape: number[] },
  chunkIndex: number,
  ctx: SlotContext,
): ChunkGeometry {
  const aff = slots.map((s) => affineOf(s, chunk, chunkIndex, ctx));
  const dims: { n: number; strides: number[] }[] = [];
  for (let d = 0; d < chunk.shape.length; d++) {
    const n = chunk.shape[d]!;
    if (n === 1) continue;
    dims.push({ n, strides: aff.map((a) => a.strides[d]!) });
  }
  if (chunk.shape.some((n) => n === 0)) {
    return { extents: [0], rowLen: 0, slots: aff.map((a) => ({ base: a.base, last: 0, rows: [0] })) };
  }
  // merge from the innermost outward
  const merged: { n: number; strides: number[] }[] = [];
  for (let i = dims.length - 1; i >= 0; i--) {
    const outer = dims[i]!;
    const inner = merged[0];
    if (inner && outer.strides.every((s, j) => s === inner.strides[j]! * inner.n)) {
      inner.n *= outer.n;
    } else merged.unshift({ n: outer.n, strides: [...outer.strides] });
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
  if (a.mem) return stride === 0 || stride === 1;
  return a.unitOnly ? stride === 1 : true;
}
