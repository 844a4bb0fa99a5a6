/**
 * Every message between the main thread and the workers, and the plain-data stage specs they carry.
 * A stage is one blockwise pass over a chunk grid: per chunk, run the local mapBlocks chain (if any),
 * then the fused program whose sinks store output regions or accumulate reduction partials.
 */
import type { DType } from "../dtype.js";
import type { ProgramTemplate } from "../kernels/program.js";

export interface GridSpec {
  shape: number[];
  chunks: number[][];
}

/** How a program slot maps onto each chunk of the grid it runs on. */
export type SlotSpec =
  /** INDEX: flat C-order index into an array of `shape`, right-aligned and broadcast to the grid.
   *  `contiguous`: the slot feeds RANDOM, which needs a unit stride along the row. */
  | { kind: "flat"; shape: number[]; contiguous: boolean }
  /** INDEX: index along one grid axis (argmin/argmax along an axis). */
  | { kind: "axis"; axis: number }
  /** MEM: a whole C-contiguous array in shared memory, broadcast to the grid (read, or written by STORE). */
  | { kind: "array"; addr: number; shape: number[]; dtype: DType }
  /** MEM: the output buffer of local mapBlocks `local` for the current chunk. */
  | { kind: "localOut"; local: number; dtype: DType }
  /** MEM: the input buffer of local mapBlocks `local` (written by its input program). */
  | { kind: "localIn"; local: number; dtype: DType }
  /** MEM f64: component `component` of reduction partial `partial` for the current chunk. */
  | { kind: "partial"; partial: number; component: number };

export interface ProgramSpec {
  template: ProgramTemplate;
  slots: SlotSpec[];
}

export interface PartialSpec {
  /** grid axes reduced (partials have extent 1 there) */
  axes: number[];
  /** initial value of each accumulator component */
  init: number[];
  /** absolute byte address of chunk k's partial block (components one after another) */
  offsets: number[];
  /** end of the last chunk's block: chunks [a, b) occupy [offsets[a], offsets[b] or end) */
  end: number;
}

export interface LocalSpec {
  /** source of the user function */
  fn: string;
  args: unknown[];
  /** chunking the input is evaluated on: block k of it feeds output block k */
  inGrid: GridSpec;
  inDtype: DType;
  outGrid: GridSpec;
  outDtype: DType;
  /** program evaluating the input block into the local's input buffer (STORE to a localIn slot) */
  input: ProgramSpec;
  /** byte offsets of the input and output buffers inside the worker's arena */
  inOffset: number;
  outOffset: number;
}

export interface StageSpec {
  id: number;
  grid: GridSpec;
  tile: number;
  locals: LocalSpec[];
  /** the fused program with the stage's sinks; runs on `grid` after the locals */
  program: ProgramSpec;
  partials: PartialSpec[];
  /** bytes of arena each worker needs: local buffers, then the eager region */
  arenaBytes: number;
  /** where in the arena NDArray operations inside mapBlocks functions allocate (reset after each block) */
  eagerOffset: number;
  eagerBytes: number;
}

/** Per-worker fixed areas in shared memory. */
export interface WorkerAreas {
  program: number;
  programBytes: number;
  regs: number;
  scratch: number;
}

// main -> worker
export interface InitMessage {
  type: "init";
  memory: WebAssembly.Memory;
  module: WebAssembly.Module | null;
  areas: WorkerAreas;
  /** module exporting `blockAdapter` (NDArrays for mapBlocks functions); loaded on first use */
  adapterUrl: string;
}
export interface StageMessage {
  type: "stage";
  spec: StageSpec;
  /** this worker's arena for local buffers */
  arena: number;
}
export interface RunMessage {
  type: "run";
  stage: number;
  batch: number;
  /** chunk indices [start, end) in C order over the grid */
  start: number;
  end: number;
}
export interface DropStageMessage {
  type: "drop";
  stage: number;
}
export type ToWorker = InitMessage | StageMessage | RunMessage | DropStageMessage;

// worker -> main
export interface DoneMessage {
  type: "done";
  batch: number;
}
export interface FailedMessage {
  type: "failed";
  batch: number;
  /** chunk index that failed */
  chunk: number;
  code: string;
  message: string;
  stack?: string;
}
export type FromWorker = DoneMessage | FailedMessage;
