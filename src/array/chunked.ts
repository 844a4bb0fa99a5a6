/**
 * ChunkedArray: a lazy n-dimensional array split into chunks. Operations build a graph; compute()
 * runs it on the worker pool and resolves to a number (full reductions) or an NDArray.
 */
import { invalid, show } from "../errors.js";
import type { MapBlocksNode, Node, ReduceOp } from "../graph/nodes.js";
import { newId } from "../graph/nodes.js";
import { ArrayBase } from "./base.js";
import { scalarOperand, reduceNode, reducedChunks, type ReduceOptions } from "./build.js";
import type { Reducer } from "./nan-reductions.js";
import { normalizeChunks, unifyChunks, type ChunkSpec, type Chunks } from "./chunks.js";
import { computeMany, persistNode, type ComputeOptions, type ComputeResult } from "./compute.js";
import { checkDType, itemsize, type DType } from "../dtype.js";
import { NDArray } from "./ndarray.js";
import type { Selector } from "./selectors.js";
import { dotOf } from "./contract.js";
import { matmulOf } from "./matmul.js";
import { traceBlocks } from "./trace.js";
import type { Derived } from "./views.js";

export interface BlockInfo {
  /** the block's index along each axis */
  blockIndex: number[];
  /** global index of the block's first element along each axis */
  offset: number[];
  /** the `args` given to mapBlocks */
  args: unknown[];
}

export interface MapBlocksOptions {
  /** extra values for the function (it must not capture variables: it runs in a worker) */
  args?: unknown[];
  /** dtype of the blocks the function returns (default: the input dtype) */
  dtype?: DType;
  /** block sizes of the result: per-axis block lists, or one block shape for every block */
  chunks?: number[] | number[][];
  /**
   * false: always run the function on real blocks in the workers. By default a function that only uses
   * elementwise methods of its block is traced (called once, here, on a stand-in) and fused into the
   * graph; pass false for one with side effects that must happen once per block.
   */
  trace?: boolean;
}

export class ChunkedArray extends ArrayBase<ChunkedArray | NDArray, ChunkedArray, ChunkedArray> {
  readonly #node: Node;
  readonly #chunks: Chunks;

  /** @internal arrays come from the creation functions */
  constructor(node: Node, chunks: Chunks) {
    super();
    this.#node = node;
    this.#chunks = chunks;
  }

  /** @internal */
  get node(): Node {
    return this.#node;
  }
  /** block sizes along each axis, as dask */
  get chunks(): number[][] {
    return this.#chunks.map((c) => [...c]);
  }
  get numblocks(): number[] {
    return this.#chunks.map((c) => c.length);
  }
  get nbytes(): number {
    return this.size * itemsize(this.dtype);
  }

  protected operand(o: ChunkedArray | NDArray | number, what: string): Node | number {
    if (o instanceof ChunkedArray || o instanceof NDArray) return o.node;
    return scalarOperand(o, `${what} operand`);
  }

  protected wrap(node: Node, sources: unknown[]): ChunkedArray {
    const arrays = sources.flatMap((s) =>
      s instanceof ChunkedArray ? [{ shape: s.shape, chunks: s.#chunks }] : s instanceof NDArray ? [{ shape: s.shape, chunks: s.shape.map((n) => [n]) }] : [],
    );
    return new ChunkedArray(node, unifyChunks(node.shape, arrays));
  }

  protected derive(build: (chunks: Chunks) => Derived): ChunkedArray {
    const d = build(this.#chunks);
    return new ChunkedArray(d.node, d.chunksOf(this.#chunks));
  }

  /**
   * numpy indexing, lazily: integers (negative from the end; the axis is dropped), slice(start, stop,
   * step), null for a whole axis, newaxis, "..." and one 1-d integer array (a JS array, an NDArray or a
   * ChunkedArray of int32: a take along that axis). A view of a lazy source stays fused.
   */
  get(...selectors: Selector[]): ChunkedArray {
    return this.indexed(selectors);
  }

  protected reduce(op: ReduceOp, opts?: ReduceOptions): ChunkedArray {
    const { node, chunks } = reduceNode(op, this.#node, this.#chunks, opts);
    return new ChunkedArray(node, chunks);
  }

  protected reduced(axes: number[], keepdims: boolean, build: (reduce: Reducer) => Node): ChunkedArray {
    const node = build((op, input, opts) => reduceNode(op, input, this.#chunks, opts).node);
    return new ChunkedArray(node, reducedChunks(this.#chunks, axes, keepdims));
  }

  /**
   * numpy's matmul (Python's @): matrix products over the last two axes, the others broadcast as batch
   * axes; a 1-d operand is a row (first) or a column (second) and its axis is dropped. Lazy; each
   * result chunk is computed by one task from a row of blocks of this array and a column of the other's,
   * with every element's products added in order, so the bits do not depend on chunks, workers or ranks.
   */
  matmul(other: ChunkedArray | NDArray): ChunkedArray {
    const r = matmulOf({ node: this.#node, chunks: this.#chunks }, chunkedOperand(other, "matmul"));
    return new ChunkedArray(r.node, r.chunks);
  }

  /** numpy's ndarray.dot: see dot(). */
  dot(other: ChunkedArray | NDArray): ChunkedArray {
    const r = dotOf({ node: this.#node, chunks: this.#chunks }, chunkedOperand(other, "dot"));
    return new ChunkedArray(r.node, r.chunks);
  }

  /** The same values on other chunks (free for lazy sources; materialized data is read in place). */
  rechunk(chunks: ChunkSpec): ChunkedArray {
    return new ChunkedArray(this.#node, normalizeChunks(chunks, this.shape, itemsize(this.dtype)));
  }

  /**
   * Applies fn to every block in a worker: fn(block: NDArray, info: BlockInfo) returns an NDArray
   * (or a promise of one) of the block's shape, or of the shape `chunks` gives.
   */
  mapBlocks(fn: (block: NDArray, info: BlockInfo) => NDArray | Promise<NDArray>, opts: MapBlocksOptions = {}): ChunkedArray {
    const src = functionSource(fn);
    for (const k of Object.keys(opts)) if (!["args", "dtype", "chunks", "trace"].includes(k)) throw invalid("INVALID_ARGUMENT", `mapBlocks has no option ${show(k)}; it takes args, dtype, chunks, trace`);
    if (opts.trace !== undefined && typeof opts.trace !== "boolean") throw invalid("INVALID_ARGUMENT", `mapBlocks trace ${show(opts.trace)} must be true or false`);
    const args = opts.args ?? [];
    if (!Array.isArray(args)) throw invalid("INVALID_ARGUMENT", `mapBlocks args ${show(args)} must be an array`);
    try {
      structuredClone(args);
    } catch {
      throw invalid("INVALID_ARGUMENT", `mapBlocks args ${show(args)} cannot be sent to a worker (use numbers, strings, arrays, plain objects, typed arrays)`);
    }
    const dtype = opts.dtype === undefined ? this.dtype : checkDType(opts.dtype);
    const chunks = opts.chunks === undefined ? this.chunks : outputChunks(opts.chunks, this.#chunks);
    if (opts.trace !== false && opts.chunks === undefined) {
      const traced = traceBlocks(src, this.#node, this.#chunks, args, dtype);
      if (traced) return new ChunkedArray(traced, this.chunks);
    }
    const shape = chunks.map((c) => c.reduce((a, b) => a + b, 0));
    const node: MapBlocksNode = { kind: "mapBlocks", id: newId(), input: this.#node, inputChunks: this.#chunks, chunks, fn: src, args, shape, dtype };
    return new ChunkedArray(node, chunks);
  }

  /**
   * Computes this array and keeps it in the engine's memory (dask's persist): later graphs read its
   * chunks in place. The memory is freed when nothing refers to the result any more.
   */
  async persist(opts?: ComputeOptions): Promise<ChunkedArray> {
    return new ChunkedArray(await persistNode(this.#node, this.#chunks, opts), this.#chunks);
  }

  /** Computes this array: a number (boolean for any/all) for full reductions, else an NDArray. */
  async compute(opts?: ComputeOptions): Promise<ComputeResult> {
    const [r] = await computeMany([this], opts);
    return r!;
  }

  override toString(): string {
    return `ChunkedArray<${this.dtype}>[${this.shape.join(", ")}] chunks [${this.#chunks.map((c) => (c.length === 1 ? c[0] : `${c.length}x${c[0]}`)).join(", ")}]`;
  }
}

/** Another array as a chunked operand: an NDArray is one chunk. */
export function chunkedOperand(o: unknown, what: string): { node: Node; chunks: Chunks } {
  if (o instanceof ChunkedArray) return { node: o.node, chunks: o.chunks };
  if (o instanceof NDArray) return { node: o.node, chunks: o.shape.map((n) => [n]) };
  throw invalid("INVALID_ARGUMENT", `${what} takes an array operand (ChunkedArray or NDArray), got ${show(o)}`);
}

function functionSource(fn: unknown): string {
  if (typeof fn !== "function") throw invalid("INVALID_ARGUMENT", `mapBlocks takes a function, got ${show(fn)}`);
  const src = fn.toString();
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) throw invalid("INVALID_ARGUMENT", "mapBlocks cannot send a native or bound function to a worker");
  try {
    const f = new Function(`"use strict"; return (${src});`)();
    if (typeof f !== "function") throw new Error();
  } catch {
    throw invalid("INVALID_ARGUMENT", `mapBlocks function ${show(src.slice(0, 60))} cannot be rebuilt from its source; use an arrow function or a function expression`);
  }
  return src;
}

function outputChunks(spec: number[] | number[][], input: Chunks): Chunks {
  if (!Array.isArray(spec) || spec.length !== input.length) {
    throw invalid("INVALID_CHUNKS", `mapBlocks chunks ${show(spec)} must have one entry per axis (${input.length})`);
  }
  return spec.map((c, d) => {
    const nb = input[d]!.length;
    const blocks = typeof c === "number" ? new Array<number>(nb).fill(c) : c;
    if (!Array.isArray(blocks) || blocks.length !== nb || blocks.some((b) => !Number.isSafeInteger(b) || b < 0)) {
      throw invalid("INVALID_CHUNKS", `mapBlocks chunks ${show(c)} on axis ${d} must be ${nb} non-negative block sizes (one per input block)`);
    }
    return [...blocks];
  });
}
