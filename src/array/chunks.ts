/**
 * Chunk specifications, as dask: a number (same size on every axis), per-axis sizes, explicit per-axis
 * block lists, or "auto" (about 32 MiB per chunk). Normalized form: one block-size list per axis.
 */
import { invalid, show } from "../errors.js";
import type { Shape } from "./shape.js";

export type ChunkSpec = "auto" | number | readonly (number | "auto" | readonly number[])[];
export type { Chunks } from "../graph/nodes.js";
import type { Chunks } from "../graph/nodes.js";

export const AUTO_CHUNK_BYTES = 32 * 2 ** 20;
/** Largest chunk a kernel memory holds comfortably (a wasm memory is at most 4 GiB, shared by all chunks). */
export const MAX_CHUNK_BYTES = 2 ** 30;

/** Largest block of an axis, by a loop: `Math.max(...blocks)` overflows the call stack past ~125k blocks. */
export function largestBlock(blocks: readonly number[], floor = 0): number {
  let m = floor;
  for (const b of blocks) if (b > m) m = b;
  return m;
}

function blocksOf(n: number, size: number): number[] {
  if (n === 0) return [0];
  const out: number[] = [];
  for (let s = 0; s < n; s += size) out.push(Math.min(size, n - s));
  return out;
}

export function normalizeChunks(spec: ChunkSpec | undefined, shape: Shape, itemsize: number): Chunks {
  const nd = shape.length;
  const given = spec ?? "auto";
  let perAxis: (number | "auto" | readonly number[])[];
  if (given === "auto" || typeof given === "number") perAxis = new Array(nd).fill(given);
  else if (Array.isArray(given)) {
    if (given.length !== nd) {
      throw invalid("INVALID_CHUNKS", `chunks ${show(given)} has ${given.length} entries for an array of ${nd} dimensions`);
    }
    perAxis = [...given];
  } else throw invalid("INVALID_CHUNKS", `chunks ${show(given)} must be "auto", a number or an array`);

  const out: (number[] | null)[] = perAxis.map((c, d) => {
    const n = shape[d]!;
    if (c === "auto") return null;
    if (typeof c === "number") {
      if (c === -1) return [n];
      if (!Number.isSafeInteger(c) || c <= 0) {
        throw invalid("INVALID_CHUNKS", `chunk size ${show(c)} on axis ${d} must be a positive integer (or -1 for the whole axis)`);
      }
      return blocksOf(n, c);
    }
    if (Array.isArray(c)) {
      if (c.some((b) => typeof b !== "number" || !Number.isSafeInteger(b) || b < 0)) {
        throw invalid("INVALID_CHUNKS", `blocks ${show(c)} on axis ${d} must be non-negative integers`);
      }
      const total = c.reduce((a, b) => a + b, 0);
      if (total !== n) throw invalid("INVALID_CHUNKS", `blocks ${show(c)} on axis ${d} add up to ${total}, not the axis length ${n}`);
      if (c.length === 0) throw invalid("INVALID_CHUNKS", `blocks on axis ${d} must not be empty`);
      if (n > 0 && c.some((b) => b === 0)) throw invalid("INVALID_CHUNKS", `blocks ${show(c)} on axis ${d} contain an empty block`);
      return [...c];
    }
    throw invalid("INVALID_CHUNKS", `chunks ${show(c)} on axis ${d} must be a number, "auto" or a list of block sizes`);
  });

  autoFill(out, shape, itemsize);
  const chunks = out as Chunks;
  const bytes = chunks.reduce((a, c) => a * largestBlock(c), itemsize);
  if (bytes > MAX_CHUNK_BYTES) {
    throw invalid(
      "TOO_LARGE",
      `chunks of shape [${chunks.map((c) => largestBlock(c)).join(", ")}] take ${bytes} bytes, more than the ${MAX_CHUNK_BYTES} a chunk may hold`,
    );
  }
  return chunks;
}

/** "auto" axes share the remaining byte budget equally (as dask's auto_chunks does for uniform arrays). */
function autoFill(out: (number[] | null)[], shape: Shape, itemsize: number): void {
  const autoAxes = out.flatMap((c, d) => (c === null ? [d] : []));
  if (!autoAxes.length) return;
  const fixed = out.reduce((a, c) => a * (c ? largestBlock(c, 1) : 1), itemsize);
  let budget = Math.max(1, AUTO_CHUNK_BYTES / fixed);
  let remaining = [...autoAxes];
  // axes shorter than their share take their full length; the rest split what is left
  for (let changed = true; changed && remaining.length; ) {
    changed = false;
    const share = Math.pow(budget, 1 / remaining.length);
    for (const d of remaining) {
      if (shape[d]! <= share) {
        out[d] = blocksOf(shape[d]!, Math.max(1, shape[d]!));
        budget /= Math.max(1, shape[d]!);
        remaining = remaining.filter((x) => x !== d);
        changed = true;
      }
    }
  }
  const share = Math.max(1, Math.floor(Math.pow(budget, 1 / Math.max(1, remaining.length))));
  for (const d of remaining) out[d] = blocksOf(shape[d]!, share);
}

export const sameChunks = (a: Chunks, b: Chunks): boolean =>
  a.length === b.length && a.every((c, d) => c.length === b[d]!.length && c.every((n, i) => n === b[d]![i]));

/** Starts of each block along an axis: [0, b0, b0+b1, ...] (length blocks + 1). */
export const blockStarts = (blocks: readonly number[]): number[] => {
  const s = [0];
  for (const b of blocks) s.push(s[s.length - 1]! + b);
  return s;
};

/** Common refinement of two block lists over the same axis length. */
export function refineBlocks(a: readonly number[], b: readonly number[]): number[] {
  const cuts = new Set([...blockStarts(a), ...blockStarts(b)]);
  const sorted = [...cuts].sort((x, y) => x - y);
  const out: number[] = [];
  for (let i = 1; i < sorted.length; i++) out.push(sorted[i]! - sorted[i - 1]!);
  return out.length ? out : [0];
}

/**
 * Chunks of a broadcast result: per output axis, refine the chunks of every operand that spans it
 * (operands of extent 1 there are broadcast and do not constrain it).
 */
export function unifyChunks(outShape: Shape, operands: { shape: Shape; chunks: Chunks }[]): Chunks {
  const nd = outShape.length;
  const out: Chunks = [];
  for (let d = 0; d < nd; d++) {
    let blocks: number[] | null = null;
    for (const o of operands) {
      const od = d - (nd - o.shape.length);
      if (od < 0 || o.shape[od] !== outShape[d] || (o.shape[od] === 1 && outShape[d] === 1 && blocks)) continue;
      blocks = blocks ? refineBlocks(blocks, o.chunks[od]!) : [...o.chunks[od]!];
    }
    out.push(blocks ?? [outShape[d]!]);
  }
  return out;
}

export const numBlocks = (chunks: Chunks): number[] => chunks.map((c) => c.length);
