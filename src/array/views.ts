/**
 * Views: arrays whose element i is element map(i) of another (graph/nodes.ts ViewNode). Building one is
 * free; its chunks follow from the input's, so that every chunk of a view lies in one chunk of its input
 * (a view of a materialized array is read in place, with strides) and a view of a lazy source stays fused.
 */
import { invalid, show } from "../errors.js";
import { blockAt, blockStarts, maxBlock, type Chunks } from "../grid.js";
import { composeMaps, identityMap, type IndexMap } from "../index-map.js";
import { newId, type Node, type ViewNode } from "../graph/nodes.js";
import { AUTO_CHUNK_BYTES } from "./chunks.js";
import { itemsize } from "../dtype.js";
import type { ParsedIndex } from "./selectors.js";
import { checkOptions } from "./options.js";

/** A node derived from an array, and how its chunks follow from the array's. */
export interface Derived {
  node: Node;
  chunksOf: (chunks: Chunks) => Chunks;
}

/** The view of `input` through `map` (output index -> input index), with shape `shape`. */
export function viewOf(input: Node, map: IndexMap, shape: readonly number[]): Derived {
  // a view of a view is one view: maps compose
  const node: ViewNode =
    input.kind === "view"
      ? { kind: "view", id: newId(), input: input.input, map: composeMaps(input.map, map), shape: [...shape], dtype: input.dtype }
      : { kind: "view", id: newId(), input, map, shape: [...shape], dtype: input.dtype };
  return { node, chunksOf: (chunks) => viewChunks(map, shape, chunks, itemsize(input.dtype)) };
}

/**
 * Chunks of a view: along an axis that follows an input axis, output positions are grouped by the input
 * chunk they read (a step of 3 over chunks of 10 gives chunks of 3 or 4); an axis that several input axes
 * follow (a diagonal) is cut wherever any of them enters another chunk; a new or broadcast axis is one
 * chunk, or split when that chunk would be large.
 */
export function viewChunks(map: IndexMap, shape: readonly number[], inChunks: Chunks, itemBytes: number): Chunks {
  const out: (number[] | null)[] = shape.map(() => null);
  const cuts: Set<number>[] = shape.map(() => new Set<number>());
  for (let k = 0; k < map.source.length; k++) {
    const d = map.source[k]!;
    if (d < 0) continue;
    const n = shape[d]!;
    out[d] = [0];
    if (n === 0) continue;
    const starts = blockStarts(inChunks[k]!);
    const off = map.offset[k]!;
    const st = map.step[k]!;
    const first = blockAt(starts, off);
    const last = blockAt(starts, off + st * (n - 1));
    // the output positions reading input block b, block by block in the order the view walks them
    let at = 0;
    for (let b = first; st > 0 ? b <= last : b >= last; b += st > 0 ? 1 : -1) {
      const lo = st > 0 ? Math.ceil((starts[b]! - off) / st) : Math.floor((off - starts[b + 1]!) / -st) + 1;
      const hi = st > 0 ? Math.ceil((starts[b + 1]! - off) / st) : Math.floor((off - starts[b]!) / -st) + 1;
      const len = Math.min(n, hi) - Math.max(0, lo);
      if (len <= 0) continue;
      if (at > 0) cuts[d]!.add(at);
      at += len;
    }
  }
  shape.forEach((n, d) => {
    if (out[d] === null || n === 0) return;
    const at = [0, ...[...cuts[d]!].sort((a, b) => a - b), n];
    out[d] = at.slice(1).map((e, i) => e - at[i]!);
  });
  // axes no input axis follows: one block, split if the chunks would be far over the auto size
  const fixed = out.reduce((a, c) => a * (c ? Math.max(1, maxBlock(c)) : 1), itemBytes);
  const free = out.flatMap((c, d) => (c === null ? [d] : []));
  const share = Math.max(1, Math.floor(Math.pow(Math.max(1, AUTO_CHUNK_BYTES / fixed), 1 / Math.max(1, free.length))));
  for (const d of free) {
    const n = shape[d]!;
    const size = Math.max(1, Math.min(n, share));
    const blocks: number[] = [];
    for (let s = 0; s < n; s += size) blocks.push(Math.min(size, n - s));
    out[d] = blocks.length ? blocks : [0];
  }
  return out as Chunks;
}

/** Basic indexing (integers, slices, new axes) of parsed selectors; the array selector's axis is kept whole. */
export function indexView(input: Node, p: ParsedIndex): { derived: Derived; arrayAxis: number } {
  const nd = input.shape.length;
  const map: IndexMap = { source: new Array(nd).fill(-1), step: new Array(nd).fill(0), offset: new Array(nd).fill(0) };
  const shape: number[] = [];
  let arrayAxis = -1;
  for (const k of p.out) {
    const d = shape.length;
    if (k < 0) {
      shape.push(1);
      continue;
    }
    const s = p.axes[k]!;
    if (s.kind === "slice") {
      map.source[k] = d;
      map.step[k] = s.step;
      map.offset[k] = s.start;
      shape.push(s.length);
    } else if (s.kind === "array") {
      arrayAxis = d;
      map.source[k] = d;
      map.step[k] = 1;
      shape.push(input.shape[k]!);
    }
  }
  p.axes.forEach((s, k) => {
    if (s.kind === "index") map.offset[k] = s.index;
  });
  return { derived: viewOf(input, map, shape), arrayAxis };
}

/** Normalizes one axis argument (negative from the end). */
export function axisOf(a: unknown, nd: number, what: string): number {
  if (typeof a !== "number" || !Number.isInteger(a) || a < -nd || a >= nd) {
    throw invalid("INVALID_AXIS", `${what} ${show(a)} is out of bounds for an array of dimension ${nd}`);
  }
  return a < 0 ? a + nd : a;
}

/** transpose(axes): output axis d is input axis axes[d] (default: reversed). */
export function transposeView(input: Node, axes?: readonly number[]): Derived {
  const nd = input.shape.length;
  const perm = axes === undefined ? [...Array(nd).keys()].reverse() : [...axes];
  if (!Array.isArray(axes) && axes !== undefined) throw invalid("INVALID_AXIS", `transpose axes ${show(axes)} must be an array of axes`);
  if (perm.length !== nd) throw invalid("INVALID_AXIS", `transpose axes ${show(axes)} do not match an array of dimension ${nd}`);
  const norm = perm.map((a) => axisOf(a, nd, "transpose axis"));
  if (new Set(norm).size !== nd) throw invalid("INVALID_AXIS", `transpose axes ${show(axes)} repeat an axis`);
  const map = identityMap(nd);
  norm.forEach((k, d) => (map.source[k] = d));
  return viewOf(input, map, norm.map((k) => input.shape[k]!));
}

export function swapaxesView(input: Node, a: number, b: number): Derived {
  const nd = input.shape.length;
  const perm = [...Array(nd).keys()];
  const i = axisOf(a, nd, "swapaxes axis");
  const j = axisOf(b, nd, "swapaxes axis");
  [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  return transposeView(input, perm);
}

export function moveaxisView(input: Node, src: number | readonly number[], dst: number | readonly number[]): Derived {
  const nd = input.shape.length;
  const s = (typeof src === "number" ? [src] : [...src]).map((a) => axisOf(a, nd, "moveaxis source"));
  const t = (typeof dst === "number" ? [dst] : [...dst]).map((a) => axisOf(a, nd, "moveaxis destination"));
  if (s.length !== t.length) throw invalid("INVALID_AXIS", `moveaxis source ${show(src)} and destination ${show(dst)} must have the same number of axes`);
  if (new Set(s).size !== s.length || new Set(t).size !== t.length) throw invalid("INVALID_AXIS", `moveaxis axes ${show(src)} -> ${show(dst)} repeat an axis`);
  const rest = [...Array(nd).keys()].filter((k) => !s.includes(k));
  const perm = new Array<number>(nd).fill(-1);
  t.forEach((d, i) => (perm[d] = s[i]!));
  for (let d = 0; d < nd; d++) if (perm[d] === -1) perm[d] = rest.shift()!;
  return transposeView(input, perm);
}

/** flip(axis): reversed along the given axes (default: all). */
export function flipView(input: Node, axis?: number | readonly number[]): Derived {
  const nd = input.shape.length;
  const axes = axis === undefined ? [...Array(nd).keys()] : (typeof axis === "number" ? [axis] : [...axis]).map((a) => axisOf(a, nd, "flip axis"));
  const map = identityMap(nd);
  for (const k of axes) {
    map.step[k] = -1;
    map.offset[k] = Math.max(0, input.shape[k]! - 1);
  }
  return viewOf(input, map, input.shape);
}

/** expandDims(axis): new axes of length 1 at the given positions of the result. */
export function expandDimsView(input: Node, axis: number | readonly number[]): Derived {
  const list = typeof axis === "number" ? [axis] : Array.isArray(axis) ? [...axis] : null;
  if (!list) throw invalid("INVALID_AXIS", `expandDims axis ${show(axis)} must be an integer or an array of integers`);
  const outNd = input.shape.length + list.length;
  const at = list.map((a) => axisOf(a, outNd, "expandDims axis"));
  if (new Set(at).size !== at.length) throw invalid("INVALID_AXIS", `expandDims axes ${show(axis)} repeat an axis`);
  const map: IndexMap = { source: [], step: [], offset: [] };
  const shape: number[] = [];
  let k = 0;
  for (let d = 0; d < outNd; d++) {
    if (at.includes(d)) {
      shape.push(1);
      continue;
    }
    map.source.push(d);
    map.step.push(1);
    map.offset.push(0);
    shape.push(input.shape[k++]!);
  }
  return viewOf(input, map, shape);
}

/** squeeze(axis): drops axes of length 1 (the given ones, which must have length 1; default: all). */
export function squeezeView(input: Node, axis?: number | readonly number[]): Derived {
  const nd = input.shape.length;
  const drop =
    axis === undefined
      ? input.shape.flatMap((n, k) => (n === 1 ? [k] : []))
      : (typeof axis === "number" ? [axis] : [...axis]).map((a) => axisOf(a, nd, "squeeze axis"));
  for (const k of drop) {
    if (input.shape[k] !== 1) throw invalid("INVALID_AXIS", `cannot squeeze axis ${k}: its length is ${input.shape[k]}, not 1`);
  }
  const map: IndexMap = { source: [], step: [], offset: [] };
  const shape: number[] = [];
  for (let k = 0; k < nd; k++) {
    if (drop.includes(k)) {
      map.source.push(-1);
      map.step.push(0);
      map.offset.push(0);
    } else {
      map.source.push(shape.length);
      map.step.push(1);
      map.offset.push(0);
      shape.push(input.shape[k]!);
    }
  }
  return viewOf(input, map, shape);
}

/** broadcastTo(shape): numpy's broadcasting of the array to `shape` (read-only repeats of its elements). */
export function broadcastView(input: Node, shape: readonly number[]): Derived {
  const nd = shape.length;
  const lead = nd - input.shape.length;
  if (lead < 0) throw invalid("SHAPE_MISMATCH", `cannot broadcast shape [${input.shape.join(", ")}] to fewer dimensions [${shape.join(", ")}]`);
  const map: IndexMap = { source: [], step: [], offset: [] };
  input.shape.forEach((n, k) => {
    const d = k + lead;
    if (n === shape[d]) {
      map.source.push(d);
      map.step.push(1);
    } else if (n === 1) {
      map.source.push(-1);
      map.step.push(0);
    } else {
      throw invalid("SHAPE_MISMATCH", `cannot broadcast shape [${input.shape.join(", ")}] to [${shape.join(", ")}] (axis ${d}: ${n} vs ${shape[d]})`);
    }
    map.offset.push(0);
  });
  return viewOf(input, map, shape);
}

export interface DiagonalOptions {
  /** the diagonal above (positive) or below (negative) the main one; default 0 */
  offset?: number;
  /** the two axes the diagonal runs along (default 0 and 1) */
  axis1?: number;
  axis2?: number;
}

/** An integer option (offsets, k): a safe integer, or a message naming the value. */
export function integerOption(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw invalid("INVALID_ARGUMENT", `${what} ${show(v)} must be an integer`);
  return v;
}

/** The two distinct axes of an operation on matrices (at least 2-d), normalized. */
export function matrixAxes(nd: number, a1: unknown, a2: unknown, fn: string, shape: readonly number[]): [number, number] {
  if (nd < 2) throw invalid("INVALID_SHAPE", `${fn} requires an array of at least two dimensions, got shape [${shape.join(", ")}]`);
  const i = axisOf(a1, nd, `${fn} axis1`);
  const j = axisOf(a2, nd, `${fn} axis2`);
  if (i === j) throw invalid("INVALID_AXIS", `${fn} axis1 ${show(a1)} and axis2 ${show(a2)} are the same axis`);
  return [i, j];
}

/**
 * numpy's diagonal: the elements x[..., i + max(0, -offset), ..., i + max(0, offset), ...] along axis1 and
 * axis2, as a last axis after the others (in order). A view: one output axis that both input axes follow
 * (its stride in the input's memory is the sum of theirs), so it reads in place and stays fused.
 */
export function diagonalView(input: Node, opts: DiagonalOptions | undefined, fn = "diagonal"): Derived {
  const o = checkOptions<DiagonalOptions>(opts, ["offset", "axis1", "axis2"], fn);
  const offset = integerOption(o.offset ?? 0, `${fn} offset`);
  const nd = input.shape.length;
  const [a1, a2] = matrixAxes(nd, o.axis1 ?? 0, o.axis2 ?? 1, fn, input.shape);
  const n1 = input.shape[a1]!;
  const n2 = input.shape[a2]!;
  const r0 = Math.max(0, -offset);
  const c0 = Math.max(0, offset);
  const len = Math.max(0, Math.min(n1 - r0, n2 - c0));
  const map: IndexMap = { source: [], step: [], offset: [] };
  const shape: number[] = [];
  for (let k = 0; k < nd; k++) {
    if (k === a1 || k === a2) continue;
    map.source[k] = shape.length;
    map.step[k] = 1;
    map.offset[k] = 0;
    shape.push(input.shape[k]!);
  }
  const last = shape.length;
  shape.push(len);
  // an empty diagonal still points inside its axes (a view never names a position past an axis's end)
  map.source[a1] = last;
  map.step[a1] = 1;
  map.offset[a1] = len > 0 ? r0 : 0;
  map.source[a2] = last;
  map.step[a2] = 1;
  map.offset[a2] = len > 0 ? c0 : 0;
  return viewOf(input, map, shape);
}
