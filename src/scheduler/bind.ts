/**
 * Binds a plan layer to a run's memory: the task spec a worker gets, with every buffer given by its
 * chunk grid and chunk-table address (worker/messages.ts). The plan stays free of addresses.
 */
import { itemsize } from "../dtype.js";
import { maxBlock } from "../grid.js";
import { storageOf } from "../plan/tasks.js";
import type { Layer, Plan } from "../plan/types.js";
import type { BoundBuffer, BoundSlot, TaskSpec } from "../worker/messages.js";
import type { ChunkMemory } from "./memory.js";

/** Bytes of the region NDArray operations of a mapBlocks function may use per block (only touched pages cost). */
const EAGER_FACTOR = 8;
const EAGER_MAX_BYTES = 512 * 2 ** 20;
const EAGER_MIN_BYTES = 1 << 20;

export function boundBuffer(plan: Plan, memory: ChunkMemory, id: number): BoundBuffer {
  const b = plan.buffers[id]!;
  return { table: memory.table(storageOf(plan, id)), shape: b.shape, chunks: b.chunks, dtype: b.dtype };
}

export function bindLayer(plan: Plan, layer: Layer, memory: ChunkMemory): TaskSpec {
  const buf = (id: number) => boundBuffer(plan, memory, id);
  if (layer.kind === "program") {
    const k = plan.kernels[layer.kernel]!;
    const reduced = new Map<number, number[]>();
    for (const l of plan.layers) if (l.kind === "combine") reduced.set(l.partial, l.axes);
    for (const c of layer.carries) reduced.set(c.buffer, [c.axis]);
    const slots: BoundSlot[] = k.slots.map((s) => {
      switch (s.kind) {
        case "index":
          return s;
        case "read":
          return { kind: "read", buffer: buf(s.buffer), map: s.map };
        case "write":
          return { kind: "write", buffer: buf(s.buffer) };
        case "partial":
          return { kind: "partial", buffer: buf(s.buffer), component: s.component, axes: reduced.get(s.buffer) ?? [], components: plan.buffers[s.buffer]!.components ?? 1 };
        case "stream":
          return { kind: "stream", source: s.source, dtype: plan.buffers[s.buffer]!.dtype };
      }
    });
    return {
      kind: "program",
      layer: layer.id,
      grid: layer.grid,
      box: layer.box,
      tile: layer.tile,
      template: k.template,
      slots,
      partials: layer.partials.map((p) => ({ buffer: buf(p.buffer), axes: reduced.get(p.buffer) ?? [], init: p.init, components: plan.buffers[p.buffer]!.components ?? p.init.length })),
      carries: layer.carries.map((c) => ({ buffer: buf(c.buffer), axis: c.axis, init: c.init })),
      mergeRows: layer.partials.length === 0 && layer.carries.length === 0,
    };
  }
  if (layer.kind === "mapBlocks") {
    const input = buf(layer.input);
    const output = buf(layer.output);
    return { kind: "mapBlocks", layer: layer.id, fn: layer.fn, args: layer.args, input, output, eagerBytes: eagerBytes(plan, layer.input, layer.output) };
  }
  if (layer.kind === "read") return { kind: "read", layer: layer.id, storage: layer.source, buffer: buf(layer.output) };
  if (layer.kind === "write") return { kind: "write", layer: layer.id, storage: layer.sink, buffer: buf(layer.input) };
  if (layer.kind === "gemm") return { kind: "gemm", layer: layer.id, a: buf(layer.a), b: buf(layer.b), output: buf(layer.output) };
  throw new Error(`internal: a ${layer.kind} layer does not run on workers`);
}

/** The eager region of a mapBlocks layer: a few times its largest blocks, within bounds. */
function eagerBytes(plan: Plan, input: number, output: number): number {
  const largest = (id: number) => {
    const b = plan.buffers[id]!;
    return b.chunks.reduce((a, c) => a * maxBlock(c), itemsize(b.dtype));
  };
  return Math.min(EAGER_MAX_BYTES, Math.max(EAGER_MIN_BYTES, EAGER_FACTOR * (largest(input) + largest(output))));
}
