/**
 * Lowering: from output nodes to a plan (plan/types.ts). Pure: nothing is allocated or run.
 *
 * 1. Every materialized node gets a buffer: inputs (user data, stored arrays), reduction results,
 *    mapBlocks blocks and results, and outputs that are not materialized already.
 * 2. Every context (an expression evaluated on a grid into one sink, contexts.ts) gets a task grid: its
 *    grid refined so that each task reads one chunk of every leaf (refine.ts).
 * 3. Contexts on the same task grid at the same depth share one fused kernel (one pass computes several
 *    sinks: compute(x.min(), x.max()) reads x once); each group is a program layer, followed by the
 *    combine layers of its reductions and the mapBlocks layers of its blocks.
 */
import { createHash } from "node:crypto";
import { streamReads } from "../plan/stream-reads.js";
import type { DType } from "../dtype.js";
import { DEFAULT_TILE, OP } from "../kernels/abi.js";
import { Grid, wholeBox, type Box, type GridSpec } from "../grid.js";
import { boxesOf, concatCuts } from "./concat-split.js";
import { componentsOf, initOf } from "../plan/reductions.js";
import type { BufferDecl, InputDecl, KernelDecl, Layer, OutputDecl, Plan } from "../plan/types.js";
import type { BoundPlan, InputBinding } from "../scheduler/inputs.js";
import type { SinkSpec } from "../storage/types.js";
import { gridOf, leavesOf, topoOrder, walkLeaves, type Context } from "./contexts.js";
import { randomBox } from "./random-box.js";
import { mapKey, type IndexMap } from "../index-map.js";
import { ProgramEmitter } from "./emit.js";
import { isVirtual, type Chunks, type MapBlocksNode, type Node, type ReduceNode } from "./nodes.js";
import { refineGrid, sameGrid } from "./refine.js";

export interface OutputRequest {
  node: Node;
  /** chunks the output is computed on (its ChunkedArray's chunks) */
  chunks: Chunks;
  /** keep the result in the engine's memory (persist), chunk by chunk */
  persist?: boolean;
  /** write the result's chunks to storage instead of returning it (nothing is returned for it) */
  sink?: SinkSpec;
}

export interface LowerOptions {
  tile?: number;
  /** fingerprint user data by content (ranks compare plans; a single process needs no hash) */
  hashInputs?: boolean;
  /**
   * stream stored arrays into the one program that reads them (plan/stream-reads.ts); default on, off
   * with TESSERA_STREAM_READS=0 (to compare: the results are the same bits)
   */
  streamReads?: boolean;
}

/** A plan and what its inputs are bound to in this process. */
export type Lowered = BoundPlan;

/** The chunks of a reduction's result: the kept axes' input chunks (one block of 1 per kept-dim axis). */
export function reduceChunks(r: ReduceNode): Chunks {
  if (r.hist) return [[r.hist.bins]]; // a histogram's counts: one chunk
  const out: Chunks = [];
  r.inputChunks.forEach((c, d) => {
    if (!r.axes.includes(d)) out.push([...c]);
    else if (r.keepdims) out.push([1]);
  });
  return out;
}

const sameChunks = (a: Chunks, b: Chunks) => sameGrid({ shape: [], chunks: a }, { shape: [], chunks: b });

class PlanBuilder {
  readonly buffers: BufferDecl[] = [];
  readonly inputs: InputDecl[] = [];
  readonly bindings: InputBinding[] = [];
  readonly kernels: KernelDecl[] = [];
  readonly layers: Layer[] = [];
  readonly outputs: OutputDecl[] = [];

  buffer(shape: readonly number[], dtype: DType, chunks: Chunks, extra: Partial<BufferDecl> = {}): number {
    const id = this.buffers.length;
    this.buffers.push({ id, shape: [...shape], dtype, chunks: chunks.map((c) => [...c]), ...extra });
    return id;
  }

  input(n: Node, hash: boolean): number {
    if (n.kind === "data") {
      const chunks = n.chunks ?? n.shape.map((s) => [s]);
      const bytes = new Uint8Array(n.data.buffer, n.data.byteOffset, n.data.byteLength);
      this.inputs.push({ label: `data ${n.dtype}[${n.shape.join(",")}]`, hash: hash ? createHash("sha256").update(bytes).digest("hex") : "" });
      this.bindings.push(n.home !== undefined && n.addr !== undefined ? { kind: "resident", home: n.home, addr: n.addr, data: n.data } : { kind: "host", data: n.data });
      return this.buffer(n.shape, n.dtype, chunks, { input: this.inputs.length - 1 });
    }
    if (n.kind === "stored") {
      this.inputs.push({ label: `stored ${n.dtype}[${n.shape.join(",")}]`, hash: n.fingerprint });
      this.bindings.push({ kind: "store", store: n.store as never });
      return this.buffer(n.shape, n.dtype, n.chunks, { input: this.inputs.length - 1 });
    }
    throw new Error(`internal: ${n.kind} node is not an input`);
  }

  build(): Plan {
    return { buffers: this.buffers, inputs: this.inputs, kernels: this.kernels, layers: this.layers, outputs: this.outputs };
  }
}

interface Placed extends Context {
  taskGrid: GridSpec;
  level: number;
  /** the buffer the sink writes (store / mapBlocks input), or the reduction's partial buffer */
  buffer: number;
  /** random sources read from a buffer instead of generated in place: "node@map" -> the read */
  substitutes: Map<string, { buffer: number; dtype: DType; map: IndexMap }>;
  /** reading concatenations: the boxes of blocks that each read one input of every one (a kernel each) */
  boxes: Box[] | null;
  /** a scan's carry buffer (its running values at the end of each task's block) */
  carry?: number;
}

export function lower(requests: readonly OutputRequest[], opts: LowerOptions = {}): Lowered {
  const pb = new PlanBuilder();
  const tile = opts.tile ?? DEFAULT_TILE;
  const bufferOf = new Map<number, number>(); // materialized node id -> buffer
  const levelOf = new Map<number, number>(); // buffer -> depth of the layer that completes it
  const contexts: Placed[] = [];

  // contexts of outputs: virtual outputs, inputs, and persisted results whose chunks differ
  const outputContext = new Map<string, Placed>();
  const order = topoOrder(requests.map((r) => r.node));

  const place = (ctx: Context, buffer: number) => {
    // random sources read other than in rows are generated into a box of their own, then read with strides
    const walks = [ctx.expr, ...(ctx.also ?? [])].map(walkLeaves);
    const stridedRandoms = walks.flatMap((w) => w.stridedRandoms);
    const concats = walks.flatMap((w) => w.concats);
    const substitutes = new Map<string, { buffer: number; dtype: DType; map: IndexMap }>();
    for (const r of stridedRandoms) {
      const box = randomBox(r.node, r.map, ctx.grid);
      if (!box) continue; // generated element by element where it is read
      const buffer = materializedOn(box.node, box.chunks);
      bufferOf.set(box.node.id, buffer);
      ctx.leaves.push({ node: box.node, map: box.map });
      substitutes.set(`${r.node.id}@${mapKey(r.map)}`, { buffer, dtype: r.node.dtype, map: box.map });
    }
    const taskGrid = refineGrid(ctx.grid, [
      ...ctx.leaves.map((l) => ({ map: l.map, chunks: pb.buffers[bufferOf.get(l.node.id)!]!.chunks })),
      ...concatCuts(concats), // no task spans two inputs of a concatenation
    ]);
    let level = 1;
    for (const l of ctx.leaves) level = Math.max(level, 1 + (levelOf.get(bufferOf.get(l.node.id)!) ?? 0));
    const p: Placed = { ...ctx, taskGrid, level, buffer, substitutes, boxes: concats.length ? boxesOf(concats, taskGrid) : null };
    contexts.push(p);
    return p;
  };

  /** A buffer holding node n on `chunks`: its own when it is materialized on them, else a stored copy. */
  const materializedOn = (n: Node, chunks: Chunks): number => {
    const own = bufferOf.get(n.id);
    if (own !== undefined && sameChunks(pb.buffers[own]!.chunks, chunks)) return own;
    const buffer = pb.buffer(n.shape, n.dtype, chunks);
    const ctx = place({ expr: n, grid: gridOf(n.shape, chunks), sink: { kind: "output", node: n, chunks, persist: false }, leaves: leavesOf(n) }, buffer);
    levelOf.set(buffer, ctx.level);
    return buffer;
  };
  // layers that run once the groups their inputs come from are done: gathers and matrix products
  const staged: { level: number; layer: Layer }[] = [];
  const reads: Layer[] = [];
  const writes: Layer[] = [];

  for (const n of order) {
    if (n.kind === "source") {
      // read by tasks of its own, chunk by chunk, before anything that uses it
      const out = pb.buffer(n.shape, n.dtype, n.chunks);
      reads.push({ kind: "read", id: -1, label: `read ${n.label}`, source: n.source, output: out });
      bufferOf.set(n.id, out);
      levelOf.set(out, 1);
      continue;
    }
    if (n.kind === "reshape") {
      // chunk k of the result is chunk k of the input on lined-up chunks: an alias, no storage of its own
      const source = materializedOn(n.input, n.inputChunks);
      const out = pb.buffer(n.shape, n.dtype, n.chunks, { alias: source });
      bufferOf.set(n.id, out);
      levelOf.set(out, levelOf.get(source) ?? 0);
      continue;
    }
    if (n.kind === "take") {
      const input = materializedOn(n.input, n.inputChunks);
      const indexBuffer = n.indexNode ? materializedOn(n.indexNode, [[...n.indexChunks!]]) : undefined;
      const out = pb.buffer(n.shape, n.dtype, n.chunks);
      const level = Math.max(levelOf.get(input) ?? 0, indexBuffer === undefined ? 0 : (levelOf.get(indexBuffer) ?? 0));
      bufferOf.set(n.id, out);
      levelOf.set(out, level + 1);
      const layer: Layer = { kind: "take", id: -1, label: `take axis ${n.axis}`, input, output: out, axis: n.axis, indices: n.indices ? [...n.indices] : null };
      if (indexBuffer !== undefined) layer.indexBuffer = indexBuffer;
      staged.push({ level, layer });
      continue;
    }
    if (n.kind === "matmul") {
      const a = materializedOn(n.a, n.aChunks);
      const b = materializedOn(n.b, n.bChunks);
      const out = pb.buffer(n.shape, n.dtype, n.chunks);
      const level = Math.max(levelOf.get(a) ?? 0, levelOf.get(b) ?? 0);
      bufferOf.set(n.id, out);
      levelOf.set(out, level + 1);
      staged.push({ level, layer: { kind: "gemm", id: -1, label: `matmul ${n.dtype}[${n.shape.join(",")}]`, a, b, output: out } });
      continue;
    }
    if (n.kind === "data" || n.kind === "stored") {
      bufferOf.set(n.id, pb.input(n, opts.hashInputs === true));
      levelOf.set(bufferOf.get(n.id)!, 0);
    } else if (n.kind === "reduce") {
      // a histogram's weights are evaluated beside its input, in the same kernel
      const weights = n.hist?.weights;
      const leaves = weights ? [...leavesOf(n.input), ...leavesOf(weights)] : leavesOf(n.input);
      const ctx = place({ expr: n.input, grid: gridOf(n.input.shape, n.inputChunks), sink: { kind: "reduce", node: n }, leaves, ...(weights ? { also: [weights] } : {}) }, -1);
      const tg = ctx.taskGrid;
      const ncomp = n.hist ? n.hist.bins : componentsOf(n.op);
      const pshape = [ncomp, ...tg.shape.map((s, d) => (n.axes.includes(d) ? tg.chunks[d]!.length : s))];
      const pchunks = [[ncomp], ...tg.chunks.map((c, d) => (n.axes.includes(d) ? c.map(() => 1) : [...c]))];
      ctx.buffer = pb.buffer(pshape, "float64", pchunks, { components: ncomp });
      const out = pb.buffer(n.shape, n.dtype, reduceChunks(n));
      bufferOf.set(n.id, out);
      levelOf.set(out, ctx.level);
    } else if (n.kind === "scan") {
      const out = pb.buffer(n.shape, n.dtype, n.chunks);
      const ctx = place({ expr: n.input, grid: gridOf(n.shape, n.chunks), sink: { kind: "scan", node: n }, leaves: leavesOf(n.input) }, out);
      // the carries: per task block, its running values at the block's end (the scan axis collapsed to one
      // element per block), laid out as reduction partials (a leading component axis of one block)
      const tg = ctx.taskGrid;
      const cshape = [1, ...tg.shape.map((s, d) => (d === n.axis ? tg.chunks[d]!.length : s))];
      const cchunks = [[1], ...tg.chunks.map((c, d) => (d === n.axis ? c.map(() => 1) : [...c]))];
      ctx.carry = pb.buffer(cshape, n.dtype === "float32" ? "float32" : "float64", cchunks, { components: 1 });
      bufferOf.set(n.id, out);
      levelOf.set(out, ctx.level);
    } else if (n.kind === "mapBlocks") {
      const input = pb.buffer(n.input.shape, n.input.dtype, n.inputChunks);
      const ctx = place({ expr: n.input, grid: gridOf(n.input.shape, n.inputChunks), sink: { kind: "mapBlocksInput", node: n }, leaves: leavesOf(n.input) }, input);
      levelOf.set(input, ctx.level);
      const out = pb.buffer(n.shape, n.dtype, n.chunks);
      bufferOf.set(n.id, out);
      levelOf.set(out, ctx.level + 1);
    }
  }

  for (const r of requests) {
    const n = r.node;
    if (r.sink) {
      const input = materializedOn(n, r.chunks);
      writes.push({ kind: "write", id: -1, label: "write", sink: r.sink, input });
      continue;
    }
    const persist = r.persist === true;
    // results of materialized nodes are returned from their buffers, unless they are the plan's inputs
    const own = bufferOf.get(n.id);
    const materialized = own !== undefined && n.kind !== "data" && n.kind !== "stored" && pb.buffers[storageOf(pb, own)]!.input === undefined;
    const chunksOf = (id: number) => pb.buffers[id]!.chunks;
    if (materialized && (!persist || sameChunks(chunksOf(own), r.chunks))) {
      pb.outputs.push({ buffer: bufferOf.get(n.id)!, scalar: isScalarResult(n), persist });
      continue;
    }
    const key = `${n.id}|${persist}|${JSON.stringify(r.chunks)}`;
    let ctx = outputContext.get(key);
    if (!ctx) {
      const buffer = pb.buffer(n.shape, n.dtype, r.chunks);
      ctx = place({ expr: n, grid: gridOf(n.shape, r.chunks), sink: { kind: "output", node: n, chunks: r.chunks, persist }, leaves: leavesOf(n) }, buffer);
      outputContext.set(key, ctx);
    }
    pb.outputs.push({ buffer: ctx.buffer, scalar: isScalarResult(n), persist });
  }

  pb.layers.push(...reads);
  emitLayers(pb, contexts, bufferOf, tile, staged);
  pb.layers.push(...writes);
  const plan = pb.build();
  if (opts.streamReads ?? process.env.TESSERA_STREAM_READS !== "0") streamReads(plan);
  plan.layers.forEach((l, i) => (l.id = i));
  return { plan, bindings: pb.bindings };
}

/** The buffer that holds an alias's chunks. */
const storageOf = (pb: PlanBuilder, id: number): number => {
  let b = pb.buffers[id]!;
  while (b.alias !== undefined) b = pb.buffers[b.alias]!;
  return b.id;
};

/** Groups contexts into fused kernels and lays out the layers in dependency order. */
function emitLayers(pb: PlanBuilder, contexts: Placed[], bufferOf: Map<number, number>, tile: number, staged: { level: number; layer: Layer }[]): void {
  const groups: Placed[][] = [];
  for (const c of [...contexts].sort((a, b) => a.level - b.level)) {
    // a context split into boxes (it reads concatenations) shares its kernels with nothing
    const alone = (x: Placed) => x.boxes !== null;
    const g = alone(c) ? undefined : groups.find((x) => !alone(x[0]!) && x[0]!.level === c.level && sameGrid(x[0]!.taskGrid, c.taskGrid));
    if (g) g.push(c);
    else groups.push([c]);
  }
  const leaf = (n: Node) => {
    if (isVirtual(n)) return null;
    const buffer = bufferOf.get(n.id);
    if (buffer === undefined) throw new Error(`internal: ${n.kind} node ${n.id} has no buffer`);
    return { buffer, dtype: n.dtype };
  };
  for (const group of groups) {
    const grid = group[0]!.taskGrid;
    const substitutes = new Map(group.flatMap((c) => [...c.substitutes]));
    const labels: string[] = [];
    const after: Layer[] = [];
    const partials: { buffer: number; init: number[] }[] = [];
    const carries: { buffer: number; axis: number; init: number }[] = [];
    const g = new Grid(grid);
    const roots = group.flatMap((c) => [c.expr, ...(c.also ?? [])]);
    const boxes = group[0]!.boxes ?? [wholeBox(grid)];
    boxes.forEach((box, i) => {
      // each box reads one input of every concatenation: its own kernel, the same sinks
      const start = box.lo.map((b, d) => g.starts[d]![b]!);
      const e = new ProgramEmitter(grid.shape.length, leaf, (n, m) => substitutes.get(`${n.id}@${mapKey(m)}`) ?? null, start);
      e.countUses(roots);
      const first = i === 0;
      for (const c of group) {
        const s = c.sink;
        if (s.kind === "reduce") {
          emitReduction(e, s.node, c.expr, c.buffer);
          if (!first) continue;
          partials.push({ buffer: c.buffer, init: initOf(s.node.op) });
          labels.push(s.node.op);
          after.push({
            kind: "combine",
            id: -1,
            label: `combine ${s.node.op}`,
            op: s.node.op,
            ddof: s.node.ddof,
            grid,
            axes: [...s.node.axes],
            keepdims: s.node.keepdims,
            partial: c.buffer,
            output: bufferOf.get(s.node.id)!,
          });
        } else if (s.kind === "scan") {
          const r = e.value(c.expr);
          const t = e.b.reg();
          const acc = e.partialSlots(c.carry!, 1, s.node.dtype);
          e.b.emit(s.node.op === "cumsum" ? OP.CUMSUM : OP.CUMPROD, t, r, acc);
          e.b.emit(OP.STORE, t, e.slot({ kind: "write", buffer: c.buffer }, s.node.dtype));
          e.release(c.expr);
          if (!first) continue;
          carries.push({ buffer: c.carry!, axis: s.node.axis, init: s.node.op === "cumsum" ? 0 : 1 });
          labels.push(s.node.op);
        } else {
          const r = e.value(c.expr);
          e.b.emit(OP.STORE, r, e.slot({ kind: "write", buffer: c.buffer }, c.expr.dtype));
          e.release(c.expr);
          if (!first) continue;
          if (s.kind === "mapBlocksInput") {
            labels.push("blocks");
            after.push(mapBlocksLayer(s.node, c.buffer, bufferOf.get(s.node.id)!));
          } else labels.push(s.persist ? "persist" : "store");
        }
      }
      const { template, slots } = e.build();
      pb.kernels.push({ template, slots });
      const shape = `${group[0]!.expr.dtype}[${grid.shape.join(",")}]`;
      const part = boxes.length > 1 ? ` (part ${i + 1} of ${boxes.length})` : "";
      pb.layers.push({ kind: "program", id: -1, label: `${labels.join("+")} ${shape}${part}`, grid, box, kernel: pb.kernels.length - 1, tile, partials, carries });
    });
    pb.layers.push(...after);
    // gathers and products whose inputs are all written by now
    const next = groups[groups.indexOf(group) + 1];
    for (const t of staged.filter((x) => !next || x.level < next[0]!.level)) pb.layers.push(t.layer);
    staged = staged.filter((x) => next && x.level >= next[0]!.level);
  }
  pb.layers.push(...staged.map((t) => t.layer));
  pb.layers.forEach((l, i) => (l.id = i));
}

function mapBlocksLayer(m: MapBlocksNode, input: number, output: number): Layer {
  return { kind: "mapBlocks", id: -1, label: "mapBlocks", fn: m.fn, args: [...m.args], input, output };
}

const REDUCE_OPCODE: Record<ReduceNode["op"], number> = {
  sum: OP.RSUM, mean: OP.RSUM, prod: OP.RPROD, min: OP.RMIN, max: OP.RMAX, any: OP.RMAX, all: OP.RMIN,
  argmin: OP.RARGMIN, argmax: OP.RARGMAX, var: OP.RVAR, std: OP.RVAR, nanargmin: OP.RNANARGMIN, nanargmax: OP.RNANARGMAX,
  histogram: OP.HIST,
};

function emitReduction(e: ProgramEmitter, red: ReduceNode, root: Node, partial: number): void {
  if (red.hist) {
    // the task's bins counters are consecutive in its partial chunk (components of one element each): one slot
    const r = e.value(root);
    const w = red.hist.weights ? e.value(red.hist.weights) : -1;
    e.b.emit(OP.HIST, r, w, e.partialSlots(partial, 1), e.b.block(red.hist.params));
    e.release(root);
    if (red.hist.weights) e.release(red.hist.weights);
    return;
  }
  let r = e.value(root);
  const s = e.partialSlots(partial, componentsOf(red.op));
  const op = REDUCE_OPCODE[red.op];
  if (red.op === "any" || red.op === "all") {
    // truth values: max of (x != 0) is any, min is all
    const t = e.b.reg();
    e.b.emit(OP.BOOL, t, r);
    r = t;
  }
  if (op === OP.RARGMIN || op === OP.RARGMAX || op === OP.RNANARGMIN || op === OP.RNANARGMAX) {
    const nd = root.shape.length;
    const full = red.axes.length === nd;
    const strides = full ? undefined : root.shape.map((_, d) => (d === red.axes[0] ? 1 : 0));
    const index = full
      ? e.flatIndexSlot(root.shape, { source: [...Array(nd).keys()], step: new Array(nd).fill(1), offset: new Array(nd).fill(0) }, false)
      : e.slot({ kind: "index", offset: 0, strides: strides!, contiguous: false });
    e.b.emit(op, r, s, index);
  } else e.b.emit(op, r, s);
  e.release(root);
}

/**
 * A full reduction resolves to a number, and so does an element picked by integer indexing
 * (`x.get(-1)`) and elementwise arithmetic on these (numpy's scalars: `x.sum() / n`, nanmean); other
 * 0-d arrays stay arrays, as numpy's 0-d arrays do.
 */
function isScalarResult(n: Node): boolean {
  if (n.shape.length !== 0) return false;
  if (n.kind === "reduce") return true;
  if (n.kind === "view") return n.input.shape.length > 0;
  return n.kind === "map" && n.args.every((a) => typeof a === "number" || isScalarResult(a));
}
