/**
 * Streams stored arrays into the programs that consume them: a read layer whose buffer has exactly one
 * reader, a slot of one program layer, becomes that slot's "stream" (plan/types.ts). Its tasks then read
 * their regions from the files slab by slab into a window of the worker's and compute each slab while it
 * is in cache, instead of a read task materializing the chunk and the program reading it back from
 * memory: `openZarr(p).sum()` reads every byte once, as the sum of a persisted array does.
 *
 * Only where it changes no result: uncompressed C-order Zarr chunks (storage/slabs.ts), read by a slot
 * with the identity map (so a task's region is the stored region), in a layer without scan carries
 * (whose runs along an axis would be cut at slab edges). Reductions keep their bits: slabs are whole
 * rows, or whole tiles of a row, and partials carry from slab to slab (worker/program-task.ts).
 */
import { streamable } from "../storage/slabs.js";
import { MAX_STREAMS } from "../worker/messages.js";
import type { Layer, Plan, ProgramLayer } from "./types.js";

/** Rewrites `plan` in place; layer ids are renumbered by the caller. */
export function streamReads(plan: Plan): void {
  const uses = bufferUses(plan);
  const kernelUsers = new Map<number, number>();
  for (const l of plan.layers) if (l.kind === "program") kernelUsers.set(l.kernel, (kernelUsers.get(l.kernel) ?? 0) + 1);
  const streamed = new Set<Layer>();
  for (const read of plan.layers) {
    if (read.kind !== "read" || !streamable(read.source)) continue;
    const b = read.output;
    if (uses.get(b) !== 2) continue; // the read layer's writes and one reader (no output, alias or second reader)
    const reader = readerOf(plan, b);
    if (!reader) continue;
    const { layer, slot } = reader;
    const kernel = plan.kernels[layer.kernel]!;
    const s = kernel.slots[slot]!;
    if (s.kind !== "read" || kernelUsers.get(layer.kernel) !== 1 || layer.carries.length) continue;
    const nd = layer.grid.shape.length;
    const shape = plan.buffers[b]!.shape;
    const identity = shape.length === nd && shape.every((n, k) => n === layer.grid.shape[k] && s.map.source[k] === k && s.map.step[k] === 1 && s.map.offset[k] === 0);
    if (!identity || kernel.slots.filter((x) => x.kind === "stream").length >= MAX_STREAMS) continue;
    kernel.slots[slot] = { kind: "stream", buffer: b, source: read.source };
    streamed.add(read);
  }
  if (streamed.size) plan.layers = plan.layers.filter((l) => !streamed.has(l));
}

/** How many times each buffer is named: by layers (as input, output, slot, partial or carry), outputs and aliases. */
function bufferUses(plan: Plan): Map<number, number> {
  const uses = new Map<number, number>();
  const use = (b: number | undefined) => {
    if (b !== undefined) uses.set(b, (uses.get(b) ?? 0) + 1);
  };
  for (const l of plan.layers) {
    switch (l.kind) {
      case "program":
        for (const s of plan.kernels[l.kernel]!.slots) if (s.kind !== "index") use(s.buffer);
        for (const p of l.partials) use(p.buffer);
        for (const c of l.carries) use(c.buffer);
        break;
      case "mapBlocks":
      case "take":
        use(l.input);
        use(l.output);
        if (l.kind === "take") use(l.indexBuffer);
        break;
      case "combine":
        use(l.partial);
        use(l.output);
        break;
      case "read":
        use(l.output);
        break;
      case "write":
        use(l.input);
        break;
      case "gemm":
        use(l.a);
        use(l.b);
        use(l.output);
        break;
    }
  }
  for (const o of plan.outputs) use(o.buffer);
  for (const b of plan.buffers) use(b.alias);
  return uses;
}

/** The one program layer and slot that read buffer b, if one does. */
function readerOf(plan: Plan, b: number): { layer: ProgramLayer; slot: number } | null {
  for (const l of plan.layers) {
    if (l.kind !== "program") continue;
    const slot = plan.kernels[l.kernel]!.slots.findIndex((s) => s.kind === "read" && s.buffer === b);
    if (slot >= 0) return { layer: l, slot };
  }
  return null;
}
