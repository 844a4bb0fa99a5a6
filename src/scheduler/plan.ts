/**
 * What the graph layer hands the scheduler: a plan of host steps and stages over one memory, with the
 * memory it allocates from. The scheduler runs plans; it never sees the nodes they came from.
 */
import type { DType } from "../dtype.js";
import type { StageSpec } from "../worker/messages.js";

export interface Allocator {
  alloc(bytes: number): number;
  free(addr: number): void;
  readonly buffer: ArrayBufferLike;
  /** identity of the memory: data nodes whose `home` it is are read in place, not uploaded */
  readonly home?: object;
  /** results may be views into the memory (the caller owns their lifetime) instead of copies */
  readonly views?: boolean;
}

/** A raw array result; the array layer wraps it in an NDArray. */
export interface RawArray {
  shape: number[];
  dtype: DType;
  data: Float64Array | Float32Array | Int32Array | Uint8Array;
  /** byte address of data in the plan's memory, when data is a view (Allocator.views) */
  addr?: number;
}

/** A whole array a stage writes (stores and mapBlocks results), one region per chunk of the grid. */
export interface WrittenArray {
  addr: number;
  shape: number[];
  dtype: DType;
}

export type Step =
  | { kind: "stage"; spec: StageSpec; label: string; writes: WrittenArray[] }
  | { kind: "host"; label: string; run: () => void };

export interface Plan {
  steps: Step[];
  /** one per output: a number (full reductions), a boolean (full any/all) or a RawArray */
  results(): (number | boolean | RawArray)[];
  /** frees every buffer the plan allocated; kept (persisted) outputs too unless `keepOutputs` */
  release(keepOutputs?: boolean): void;
}
