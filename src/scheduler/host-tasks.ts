/**
 * Combine and take tasks: they run on a main thread, not in the worker threads (a combine merges small
 * partials in a fixed tree; a take gathers rows). A local run runs them on its scheduler's thread
 * (plan-run.ts), a cluster worker on its own main thread: the same code, so the same bits.
 */
import { ComputeError } from "../errors.js";
import type { LayerTasks } from "../plan/tasks.js";
import type { CombineLayer } from "../plan/types.js";
import { combineChunk } from "./combine.js";
import type { ChunkMemory } from "./memory.js";
import { takeChunk } from "./take.js";

/** Runs task t of a combine or take layer on `memory` (its reads complete, its output chunk allocated). */
export function runHostTask(lt: LayerTasks, t: number, memory: ChunkMemory): void {
  const layer = lt.layer;
  if (layer.kind === "combine") combine(lt, layer, t, memory);
  else if (layer.kind === "take") takeChunk(lt, t, (b, k) => memory.view(b, k));
  else throw new Error(`internal: a ${layer.kind} task is not a host task`);
}

function combine(lt: LayerTasks, layer: CombineLayer, t: number, memory: ChunkMemory): void {
  const plan = memory.plan;
  const out = memory.view(layer.output, t);
  const vals = new Float64Array(out.length);
  try {
    combineChunk(lt, t, (k) => memory.f64View(layer.partial, k), vals, plan.buffers[layer.output]!.dtype === "float32");
  } catch (e) {
    if (e instanceof ComputeError) throw e; // a result numpy raises on (nanargmin of an all-NaN slice)
    throw new ComputeError("TASK_FAILED", `combining ${layer.op} partials failed: ${(e as Error).message}`, { cause: e });
  }
  if (plan.buffers[layer.output]!.dtype === "bool") for (let j = 0; j < vals.length; j++) out[j] = vals[j] !== 0 ? 1 : 0;
  else out.set(vals);
}
