/**
 * Plans as data. A plan says what to compute, chunk by chunk, and nothing about where it lives: no
 * addresses, no closures. It can be serialized, hashed (every rank must build the same one), cached,
 * tested on its own, and sent to another process.
 *
 * - Buffers are chunked values: one contiguous C-order allocation per chunk, allocated when a task first
 *   writes the chunk and freed after its last reader (the scheduler's memory planner).
 * - Kernels are fused tile programs (kernels/abi.ts) whose slots name buffers through index maps.
 * - Layers are groups of chunk tasks of one kind: task t of a program layer runs its kernel on block t of
 *   a box of a grid; a mapBlocks layer calls a user function on chunk t of a buffer; a combine layer
 *   merges reduction partials into chunk t of the result; a gemm layer multiplies matrices into chunk t
 *   of its result. A task's key is (layer id, t).
 *
 * Layers are listed in an order where every buffer chunk's writers come before its readers.
 */
import type { DType } from "../dtype.js";
import type { Box, GridSpec } from "../grid.js";
import type { IndexMap } from "../index-map.js";
import type { ProgramTemplate } from "../kernels/program.js";
import type { SinkSpec, SourceSpec } from "../storage/types.js";

export type ReduceOp =
  | "sum" | "prod" | "mean" | "min" | "max" | "var" | "std" | "argmin" | "argmax" | "any" | "all"
  /** argmin/argmax skipping NaN (an all-NaN slice is an error when combined) */
  | "nanargmin" | "nanargmax"
  /** numpy.histogram's counts over every axis: a partial per task of `bins` f64 counters (kernel HIST), summed */
  | "histogram";

export interface BufferDecl {
  id: number;
  shape: number[];
  dtype: DType;
  chunks: number[][];
  /** an input: its chunks exist before the plan runs, bound by the caller to `Plan.inputs[input]` */
  input?: number;
  /**
   * chunk k holds exactly the bytes of chunk k of buffer `alias` (a reshape whose chunks line up):
   * no storage of its own
   */
  alias?: number;
  /** for a reduction's partials: the accumulator count per result element (components, one after another) */
  components?: number;
}

export interface InputDecl {
  /** what it is, for messages */
  label: string;
  /** a fingerprint of the content (ranks compare plans by hash, so it is part of the plan) */
  hash: string;
}

/** How a kernel slot reads or writes memory, or what index values it gives, on each task's region. */
export type SlotAccess =
  /** INDEX: value = offset + sum_g strides_g * i_g at global grid index i. `contiguous`: it feeds RANDOM */
  | { kind: "index"; offset: number; strides: number[]; contiguous: boolean }
  /** MEM read: the element of `buffer` at map(i) (any strides: views of materialized arrays read in place) */
  | { kind: "read"; buffer: number; map: IndexMap }
  /** MEM sink: the element of `buffer` (same shape as the grid) at i */
  | { kind: "write"; buffer: number }
  /** MEM f64 accumulators: component `component` of this task's chunk of the partial buffer */
  | { kind: "partial"; buffer: number; component: number }
  /**
   * MEM read of a stored array, streamed: the task reads its region from `source` in slabs of whole rows
   * into a small window of the worker's, each slab reduced (or mapped) while it is in cache, so the chunk
   * is never materialized. `buffer` is the chunked buffer this stands for (same shape, dtype and chunks as
   * the task grid; nothing allocates it). Made by plan/stream-reads.ts from a read layer and its one reader.
   */
  | { kind: "stream"; buffer: number; source: SourceSpec };

export interface KernelDecl {
  template: ProgramTemplate;
  slots: SlotAccess[];
}

/** Task t: the kernel on block boxBlock(box, t) of grid (which lies within one chunk of every buffer it touches). */
export interface ProgramLayer {
  kind: "program";
  id: number;
  label: string;
  grid: GridSpec;
  box: Box;
  kernel: number;
  tile: number;
  /**
   * partial buffers this layer's tasks initialize and accumulate into: `init[c]` for component c (components
   * past the list start from its last value: a histogram's counters all start at 0)
   */
  partials: { buffer: number; init: number[] }[];
  /**
   * scan carries: task t's accumulators are chunk t of `buffer` (the grid's blocks, `axis` of extent 1),
   * which start as a copy of the block before along `axis` (the running values at its end), or as
   * `init` at the first block; so a task reads that chunk and writes its own
   */
  carries: { buffer: number; axis: number; init: number }[];
}

/**
 * Task t: fn(chunk t of input) is chunk t of output (both have the same number of blocks per axis). `fn`
 * is a user function's source, or "builtin:<name>": a plain-JS block function of the engine
 * (kernels/blockwise.ts: topk, unique), which gets the raw chunks.
 */
export interface MapBlocksLayer {
  kind: "mapBlocks";
  id: number;
  label: string;
  fn: string;
  args: unknown[];
  input: number;
  output: number;
}

/**
 * Task t: chunk t of `output`, from the partials of the reduction over `grid` (the grid the partials were
 * computed on), combined in a fixed tree over block indices and finalized (mean, var, argmin...).
 */
export interface CombineLayer {
  kind: "combine";
  id: number;
  label: string;
  op: ReduceOp;
  ddof: number;
  grid: GridSpec;
  /** reduced axes of `grid` */
  axes: number[];
  /** the result keeps the reduced axes with extent 1 */
  keepdims: boolean;
  partial: number;
  output: number;
}

/**
 * Task t: chunk t of `output`, the input's elements at `indices` along `axis` (or at the values of the
 * int32 buffer `indexBuffer`, whose chunk i gives the indices of output block i along the axis).
 */
export interface TakeLayer {
  kind: "take";
  id: number;
  label: string;
  input: number;
  output: number;
  axis: number;
  indices: number[] | null;
  indexBuffer?: number;
}

/** Task t: chunk t of `output` read from a stored array (a file region per chunk). */
export interface ReadLayer {
  kind: "read";
  id: number;
  label: string;
  source: SourceSpec;
  output: number;
}

/** Task t: chunk t of `input` written to where `sink` says (the file is made whole by the caller). */
export interface WriteLayer {
  kind: "write";
  id: number;
  label: string;
  sink: SinkSpec;
  input: number;
}

/**
 * Task t: chunk t of `output` ([...batch, M, N]) = A · B, where `a` is [...batch, M, K] and `b`
 * [...batch, K, N] (the same rank; a batch axis of extent 1 broadcasts, any other has the output's
 * blocks; the same blocks along K). The task adds the block products over K's blocks in increasing
 * order into its chunk, each element's products one after another in k (the GEMM contract,
 * kernels/abi.ts): the bits do not depend on the chunks, workers or ranks.
 */
export interface GemmLayer {
  kind: "gemm";
  id: number;
  label: string;
  a: number;
  b: number;
  output: number;
}

export type Layer = ProgramLayer | MapBlocksLayer | CombineLayer | TakeLayer | ReadLayer | WriteLayer | GemmLayer;

export interface OutputDecl {
  buffer: number;
  /** a 0-d result returned as a JS number (a boolean for bool) */
  scalar: boolean;
  /** kept in the engine's memory after the plan, chunk by chunk */
  persist: boolean;
}

export interface Plan {
  buffers: BufferDecl[];
  inputs: InputDecl[];
  kernels: KernelDecl[];
  layers: Layer[];
  outputs: OutputDecl[];
}
