/**
 * What a plan's inputs are bound to when it runs (the plan itself only names them): user data in JS
 * memory, data already in a kernel memory (a block inside mapBlocks), or an engine's chunk store.
 */
import type { TypedArray } from "../dtype.js";
import type { Plan } from "../plan/types.js";
import type { ChunkStore } from "./chunk-store.js";

export type InputBinding =
  /** C-order data in JS memory: a task's chunk is copied into kernel memory before the task runs */
  | { kind: "host"; data: TypedArray }
  /** C-order data at `addr` in the kernel memory `home`: read in place when that is the plan's memory */
  | { kind: "resident"; home: object; addr: number; data: TypedArray }
  /** chunks persisted earlier */
  | { kind: "store"; store: ChunkStore };

/** A plan with the bindings of its inputs in this process. */
export interface BoundPlan {
  plan: Plan;
  bindings: InputBinding[];
}
