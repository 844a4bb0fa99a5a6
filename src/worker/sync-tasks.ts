/**
 * The runners of layers whose tasks run synchronously in a thread (fused programs, matrix products,
 * builtin block kernels): one choice shared by the worker loop and the eager in-thread path.
 */
import { GemmTasks } from "./gemm-task.js";
import { BuiltinBlockTasks, isBuiltinBlocks } from "./map-blocks-task.js";
import type { TaskSpec } from "./messages.js";
import { ProgramTasks, type ExecContext } from "./program-task.js";

export type SyncTasks = ProgramTasks | GemmTasks | BuiltinBlockTasks;

/** The synchronous runner of a layer's tasks, or null when they need more (a user function, storage I/O). */
export function syncTasks(spec: TaskSpec, ctx: ExecContext): SyncTasks | null {
  if (spec.kind === "program") return new ProgramTasks(spec, ctx);
  if (spec.kind === "gemm") return new GemmTasks(spec, ctx);
  if (spec.kind === "mapBlocks" && isBuiltinBlocks(spec)) return new BuiltinBlockTasks(spec, ctx);
  return null;
}
