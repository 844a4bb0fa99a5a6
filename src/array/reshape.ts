/**
 * reshape, with dask's rules for chunks. Axes are matched from the right into groups of equal size (one
 * input axis to one output axis, several merged into one, one split into several, or many to many);
 * inside a group only the leading axis is cut, on both sides. With such chunks, chunk k of the result
 * holds exactly the bytes of chunk k of the input, so a materialized input is reshaped without a copy;
 * when its chunks do not line up it is rechunked first (one copy). A lazy elementwise expression over
 * sources is reshaped by reshaping its sources (random values follow the flat index, which reshape keeps).
 */
import { invalid, show } from "../errors.js";
import { itemsize } from "../dtype.js";
import { maxBlock, sizeOf, type Chunks } from "../grid.js";
import { newId, type Node, type ReshapeNode } from "../graph/nodes.js";
import { AUTO_CHUNK_BYTES, MAX_CHUNK_BYTES } from "./chunks.js";
import type { Derived } from "./views.js";

/** The shape asked for, with its -1 resolved; INVALID_SHAPE naming it when it cannot be. */
export function resolveShape(size: number, shape: readonly unknown[], from: readonly number[]): number[] {
  const unknown = shape.filter((n) => n === -1).length;
  if (unknown > 1) throw invalid("INVALID_SHAPE", `reshape ${show(shape)} can only have one -1`);
  for (const n of shape) {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || (n < 0 && n !== -1)) {
      throw invalid("INVALID_SHAPE", `reshape ${show(shape)} has ${show(n)}: sizes must be non-negative integers (one may be -1)`);
    }
  }
  const known = (shape as number[]).reduce((a, n) => (n === -1 ? a : a * n), 1);
  const out = (shape as number[]).map((n) => (n === -1 ? (known === 0 ? 0 : size / known) : n));
  if (sizeOf(out) !== size || out.some((n) => !Number.isInteger(n))) {
    throw invalid("INVALID_SHAPE", `cannot reshape an array of size ${size} (shape [${from.join(", ")}]) into shape ${show(shape)}`);
  }
  return out;
}

interface Group {
  in: number[];
  out: number[];
}

/** Groups of axes of equal total size, matched from the right (axes of length 1 are groups of their own). */
function groups(inShape: readonly number[], outShape: readonly number[]): Group[] {
  const res: Group[] = [];
  let i = inShape.length - 1;
  let o = outShape.length - 1;
  while (i >= 0 || o >= 0) {
    if (i >= 0 && inShape[i] === 1 && (o < 0 || outShape[o] !== 1)) {
      res.unshift({ in: [i--], out: [] });
      continue;
    }
    if (o >= 0 && outShape[o] === 1 && (i < 0 || inShape[i] !== 1)) {
      res.unshift({ in: [], out: [o--] });
      continue;
    }
    const g: Group = { in: [i], out: [o] };
    let a = inShape[i]!;
    let b = outShape[o]!;
    while (a !== b) {
      if (a < b) {
        i--;
        g.in.unshift(i);
        a *= inShape[i]!;
      } else {
        o--;
        g.out.unshift(o);
        b *= outShape[o]!;
      }
    }
    res.unshift(g);
    i--;
    o--;
  }
  return res;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The input chunks that line up with the output, and the output chunks they give. */
export function reshapeChunks(inShape: readonly number[], outShape: readonly number[], chunks: Chunks, itemBytes: number): { input: Chunks; output: Chunks } {
  const input: Chunks = chunks.map((c) => [...c]);
  const output: Chunks = outShape.map((n) => [n]);
  // the chunk size the caller has: keep about it where inner axes become whole
  const budget = Math.max(AUTO_CHUNK_BYTES, chunks.reduce((a, c) => a * Math.max(1, maxBlock(c)), itemBytes));
  for (const g of groups(inShape, outShape)) {
    if (g.in.length === 0) continue; // a new axis of length 1: one block
    if (g.out.length === 0) {
      input[g.in[0]!] = [1];
      continue;
    }
    if (g.in.length === 1 && g.out.length === 1) {
      output[g.out[0]!] = [...chunks[g.in[0]!]!];
      continue;
    }
    const [lead, ...innerIn] = g.in;
    const innerInSize = innerIn.reduce((a, k) => a * inShape[k]!, 1);
    const innerOutSize = g.out.slice(1).reduce((a, d) => a * outShape[d]!, 1);
    for (const k of innerIn) input[k] = [inShape[k]!];
    // leading input blocks must hold whole leading output rows: multiples of m
    const m = innerOutSize / gcd(innerOutSize, innerInSize);
    const n = inShape[lead!]!;
    const bytesPerRow = innerInSize * itemBytes;
    if (m * bytesPerRow > MAX_CHUNK_BYTES) {
      throw invalid("TOO_LARGE", `reshape from [${inShape.join(", ")}] to [${outShape.join(", ")}] needs chunks of at least ${m * bytesPerRow} bytes, more than the ${MAX_CHUNK_BYTES} a chunk may hold`);
    }
    const given = chunks[lead!]!;
    // (the axis length is a multiple of m, so blocks that are all start on multiples of m too)
    const aligned = given.every((b) => b % m === 0);
    let blocks: number[];
    if (aligned && maxBlock(given) * bytesPerRow <= Math.max(budget, m * bytesPerRow)) blocks = [...given];
    else {
      const want = Math.max(m, Math.floor(Math.min(maxBlock(given), Math.floor(budget / bytesPerRow)) / m) * m);
      blocks = [];
      for (let s = 0; s < n; s += want) blocks.push(Math.min(want, n - s));
      if (!blocks.length) blocks.push(0);
    }
    input[lead!] = blocks;
    output[g.out[0]!] = blocks.map((b) => (b * innerInSize) / innerOutSize);
    for (const d of g.out.slice(1)) output[d] = [outShape[d]!];
  }
  return { input, output };
}

/** A virtual tree reshaping by its sources: sources and same-shape elementwise operations only. */
function pushable(n: Node): boolean {
  if (n.kind === "random" || n.kind === "iota" || n.kind === "fill") return true;
  if (n.kind !== "map") return false;
  return n.args.every((a) => typeof a === "number" || (a.shape.length === n.shape.length && a.shape.every((s, d) => s === n.shape[d]) && pushable(a)));
}

/** The tree with every source given `shape` (flat indices, and so values, unchanged). */
function pushDown(n: Node, shape: number[]): Node {
  switch (n.kind) {
    case "random":
    case "iota":
    case "fill":
      return { ...n, id: newId(), shape };
    case "map":
      return { ...n, id: newId(), shape, args: n.args.map((a) => (typeof a === "number" ? a : pushDown(a, shape))) };
    default:
      throw new Error(`internal: ${n.kind} cannot be reshaped by its sources`);
  }
}

export function reshapeOf(input: Node, chunks: Chunks, shape: readonly unknown[]): Derived {
  const size = sizeOf(input.shape);
  const out = resolveShape(size, shape, input.shape);
  if (out.length === input.shape.length && out.every((n, d) => n === input.shape[d])) return { node: input, chunksOf: (c) => c };
  if (size === 0) {
    const node: Node = { kind: "fill", id: newId(), shape: out, dtype: input.dtype, value: 0 };
    return { node, chunksOf: () => out.map((n) => [n]) };
  }
  const { input: inChunks, output: outChunks } = reshapeChunks(input.shape, out, chunks, itemsize(input.dtype));
  if (pushable(input)) return { node: pushDown(input, out), chunksOf: () => outChunks };
  const node: ReshapeNode = { kind: "reshape", id: newId(), input, inputChunks: inChunks, shape: out, dtype: input.dtype, chunks: outChunks };
  return { node, chunksOf: () => outChunks };
}
