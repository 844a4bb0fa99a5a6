/**
 * Every message between the scheduler (main thread) and the workers, and the task specs they carry.
 *
 * A task spec is a plan layer *bound* to this process's memory: each buffer it touches is given by its
 * chunk grid and the address of its chunk table, a Float64Array in the shared kernel memory where the
 * scheduler writes the byte address of every chunk before it hands out a task that touches the chunk.
 * Specs are sent once per layer; a run message then names only a range of task numbers.
 */
import type { DType } from "../dtype.js";
import type { Box, GridSpec } from "../grid.js";
import type { IndexMap } from "../index-map.js";
import type { ProgramTemplate } from "../kernels/program.js";
import type { SinkSpec, SourceSpec } from "../storage/types.js";

/** A chunked buffer as a worker sees it. */
export interface BoundBuffer {
  /** byte address of the chunk table: Float64 addresses, one per chunk, C order over blocks */
  table: number;
  shape: number[];
  chunks: number[][];
  dtype: DType;
}

/** A kernel slot bound to memory (plan/types.ts SlotAccess with buffers resolved to chunk tables). */
export type BoundSlot =
  | { kind: "index"; offset: number; strides: number[]; contiguous: boolean }
  | { kind: "read"; buffer: BoundBuffer; map: IndexMap }
  | { kind: "write"; buffer: BoundBuffer }
  /** accumulators of this task's chunk: chunk k of the partial buffer, reduced `axes` of extent 1 */
  | { kind: "partial"; buffer: BoundBuffer; component: number; axes: number[]; components: number }
  /** the task's region read from `source` slab by slab into the worker's window (plan/types.ts) */
  | { kind: "stream"; source: SourceSpec; dtype: DType };

export interface ProgramTaskSpec {
  kind: "program";
  layer: number;
  grid: GridSpec;
  box: Box;
  tile: number;
  template: ProgramTemplate;
  slots: BoundSlot[];
  /** accumulators each task initializes: `init[c]` for component c of its partial chunk (the last value for components past the list) */
  partials: { buffer: BoundBuffer; axes: number[]; init: number[]; components: number }[];
  /** scan carries each task starts from: a copy of the chunk of the block before along `axis`, or `init` */
  carries: { buffer: BoundBuffer; axis: number; init: number }[];
  /**
   * merge axes into longer rows where every slot is contiguous across them. Off for layers that reduce
   * (their sums are taken tile by tile, so rows must follow the region, not the memory layout: a
   * persisted array sums to the same bits as the expression it was computed from)
   */
  mergeRows: boolean;
}

export interface MapBlocksTaskSpec {
  kind: "mapBlocks";
  layer: number;
  /** source of the user function, or "builtin:<name>" (a block function of kernels/blockwise.ts) */
  fn: string;
  args: unknown[];
  input: BoundBuffer;
  output: BoundBuffer;
  /** bytes of the worker's arena in which NDArray operations of the function allocate (reset per block) */
  eagerBytes: number;
}

/** Task t: chunk t of `buffer` read from (`read`) or written to (`write`) storage. */
export interface StorageTaskSpec {
  kind: "read" | "write";
  layer: number;
  /** a SourceSpec or SinkSpec (storage/types.ts): plain data the worker opens the file from */
  storage: SourceSpec | SinkSpec;
  buffer: BoundBuffer;
}

/** Task t: chunk t of `output` = A · B over every block of K, in order (plan/types.ts GemmLayer). */
export interface GemmTaskSpec {
  kind: "gemm";
  layer: number;
  a: BoundBuffer;
  b: BoundBuffer;
  output: BoundBuffer;
}

export type TaskSpec = ProgramTaskSpec | MapBlocksTaskSpec | StorageTaskSpec | GemmTaskSpec;

/**
 * The window a streamed slot's slabs are read into, per stream (plan/types.ts "stream"), and how many
 * streams a layer may have: a slab small enough to stay in the core's L2 cache until the program has
 * consumed it, large enough that the reads' system calls cost little.
 */
export const STREAM_WINDOW_BYTES = 256 * 1024;
export const MAX_STREAMS = 4;

/** Per-worker fixed areas in shared memory. */
export interface WorkerAreas {
  program: number;
  programBytes: number;
  regs: number;
  scratch: number;
  /** a GEMM record (8-aligned) followed by the kernel's packing scratch (GEMM_AREA_BYTES in all) */
  gemm: number;
  /** the zstd area (ZSTD_AREA_BYTES): the decoder's workspace for storage reads, the encoder's and its output for writes; absent where none run */
  zstd?: number;
  /** where program tasks read streamed slabs of stored arrays (MAX_STREAMS windows of STREAM_WINDOW_BYTES); absent where none run */
  window?: number;
}

// main -> worker
export interface InitMessage {
  type: "init";
  memory: WebAssembly.Memory;
  module: WebAssembly.Module | null;
  areas: WorkerAreas;
}
export interface LayerMessage {
  type: "layer";
  spec: TaskSpec;
  /** this worker's arena for the layer (mapBlocks: the eager region), 0 if none */
  arena: number;
}
export interface RunMessage {
  type: "run";
  layer: number;
  batch: number;
  /** task numbers [start, end) of the layer */
  start: number;
  end: number;
}
export interface DropLayerMessage {
  type: "drop";
  layer: number;
}
/** Answered (done or failed, as a batch) once the worker's background writes are on disk (storage/durable.ts). */
export interface SettleMessage {
  type: "settle";
  batch: number;
}
export type ToWorker = InitMessage | LayerMessage | RunMessage | DropLayerMessage | SettleMessage;

// worker -> main
export interface DoneMessage {
  type: "done";
  batch: number;
}
export interface FailedMessage {
  type: "failed";
  batch: number;
  /** the task that failed */
  task: number;
  code: string;
  message: string;
  stack?: string;
}
export type FromWorker = DoneMessage | FailedMessage;
