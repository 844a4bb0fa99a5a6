/**
 * Lowering: from output nodes to a plan of stages. Each stage is one blockwise pass over a chunk grid
 * whose fused program holds every sink (stores, reduction partials) that shares the grid and level.
 * mapBlocks nodes used by one stage on their own grid run per chunk inside it ("local"): their blocks
 * never exist as a whole array. Other materialized nodes get a whole-array buffer in shared memory.
 */
import { itemsize, typedArrayFor, type DType } from "../dtype.js";
import type { Allocator, Plan, RawArray, Step, WrittenArray } from "../scheduler/plan.js";
import { DEFAULT_TILE, OP } from "../kernels/abi.js";
import { partialElems, Grid } from "../worker/geometry.js";
import type { GridSpec, LocalSpec, PartialSpec, ProgramSpec, StageSpec } from "../worker/messages.js";

export type { Allocator, Plan, RawArray, Step, WrittenArray };
import { combineReduction, componentsOf, initOf } from "./combine.js";
import { ProgramEmitter, type LeafSlot } from "./emit.js";
import { inputsOf, isVirtual, type Chunks, type MapBlocksNode, type Node, type ReduceNode } from "./nodes.js";


export interface OutputRequest {
  node: Node;
  /** chunks the output is computed on (its ChunkedArray's chunks) */
  chunks: Chunks;
  /** keep the result in the memory (persist): its buffer outlives the plan; the result is a view with `addr` */
  keep?: boolean;
}





type JobKind = "reduce" | "store" | "mapBlocks";
interface Job {
  kind: JobKind;
  node: Node;
  grid: GridSpec;
  /** expression evaluated on the grid (reduce: input; store: the node; mapBlocks: the node itself) */
  root: Node;
  level: number;
}

interface Ctx {
  /** the job that evaluates this context, once decided */
  expr: Node;
  grid: GridSpec;
  /** which node owns it: reduce R / mapBlocks M (its input), or an output job */
  owner: Node;
  isOutput: boolean;
}

const gridKey = (g: GridSpec) => JSON.stringify([g.shape, g.chunks]);
const gridOf = (shape: readonly number[], chunks: Chunks): GridSpec => ({ shape: [...shape], chunks: chunks.map((c) => [...c]) });
const align = (n: number) => Math.ceil(n / 16) * 16; // not (n + 15) & ~15: sizes pass 2^31
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Materialized leaves reachable from expr through virtual nodes. */
function leavesOf(expr: Node): Node[] {
  const out = new Map<number, Node>();
  const seen = new Set<number>();
  const walk = (n: Node) => {
    if (seen.has(n.id)) return;
    seen.add(n.id);
    if (!isVirtual(n)) out.set(n.id, n);
    else inputsOf(n).forEach(walk);
  };
  walk(expr);
  return [...out.values()];
}

/**
 * Lowers outputs to a plan on `mem`. If lowering fails part-way (e.g. the memory is exhausted), what it
 * had allocated is freed before the error propagates: a failed compute leaks nothing.
 */
export function lower(outputs: OutputRequest[], mem: Allocator, tile = DEFAULT_TILE): Plan {
  const allocs = { temporary: [] as number[], kept: [] as number[] };
  try {
    return lowerOn(outputs, mem, tile, allocs);
  } catch (e) {
    for (const a of [...allocs.temporary, ...allocs.kept]) mem.free(a);
    throw e;
  }
}

function lowerOn(outputs: OutputRequest[], mem: Allocator, tile: number, allocs: { temporary: number[]; kept: number[] }): Plan {
  const { temporary: allocated, kept: keptAllocs } = allocs;
  const alloc = (bytes: number) => {
    const a = mem.alloc(Math.max(16, align(bytes)));
    allocated.push(a);
    return a;
  };

  // contexts: every expression some job evaluates on some grid
  const ctxs: Ctx[] = [];
  const nodes = new Map<number, Node>();
  const collect = (n: Node) => {
    if (nodes.has(n.id)) return;
    nodes.set(n.id, n);
    inputsOf(n).forEach(collect);
    if (n.kind === "reduce") ctxs.push({ expr: n.input, grid: gridOf(n.input.shape, n.inputChunks), owner: n, isOutput: false });
    if (n.kind === "mapBlocks") ctxs.push({ expr: n.input, grid: gridOf(n.input.shape, n.inputChunks), owner: n, isOutput: false });
  };
  outputs.forEach((o) => collect(o.node));
  const outputIds = new Set(outputs.map((o) => o.node.id));
  const keepIds = new Set(outputs.filter((o) => o.keep).map((o) => o.node.id));
  const storeOutputs = new Map<number, OutputRequest>();
  for (const o of outputs) {
    if (o.node.kind === "reduce" || o.node.kind === "data" || o.node.kind === "mapBlocks") continue;
    if (!storeOutputs.has(o.node.id)) {
      storeOutputs.set(o.node.id, o);
      ctxs.push({ expr: o.node, grid: gridOf(o.node.shape, o.chunks), owner: o.node, isOutput: true });
    }
  }
  const refs = new Map<number, Ctx[]>(); // materialized node id -> contexts reading it
  for (const c of ctxs) for (const l of leavesOf(c.expr)) refs.set(l.id, [...(refs.get(l.id) ?? []), c]);

  // locality of mapBlocks nodes, refined until every local node's readers share one stage
  const mapBlocks = [...nodes.values()].filter((n): n is MapBlocksNode => n.kind === "mapBlocks");
  const local = new Set<number>();
  for (const m of mapBlocks) {
    const mg = gridKey(gridOf(m.shape, m.chunks));
    const readers = refs.get(m.id) ?? [];
    if (!outputIds.has(m.id) && readers.length > 0 && readers.every((c) => gridKey(c.grid) === mg)) local.add(m.id);
  }

  let jobs: Job[] = [];
  let jobOfCtx = new Map<Ctx, Job>();
  let stageOf = new Map<Job, string>();
  for (;;) {
    ({ jobs, jobOfCtx } = buildJobs(ctxs, nodes, local, refs));
    stageOf = new Map(jobs.map((j) => [j, `${j.level}|${gridKey(j.grid)}`]));
    const bad = [...local].filter((id) => new Set((refs.get(id) ?? []).map((c) => stageOf.get(jobOfCtx.get(c)!))).size !== 1);
    if (!bad.length) break;
    bad.forEach((id) => local.delete(id));
  }

  // buffers for materialized nodes read by programs, and for store outputs
  const bufferOf = new Map<number, number>();
  const steps: Step[] = [];
  for (const n of nodes.values()) {
    const needed = (refs.get(n.id)?.length ?? 0) > 0 && !local.has(n.id);
    if (n.kind === "data" && needed && n.home !== undefined && n.home === mem.home) {
      bufferOf.set(n.id, n.addr!);
    } else if (n.kind === "data" && needed) {
      const addr = alloc(n.data.byteLength);
      bufferOf.set(n.id, addr);
      steps.push({
        kind: "host",
        label: `upload ${n.shape.join("x")}`,
        run: () => new Uint8Array(mem.buffer, addr, n.data.byteLength).set(new Uint8Array(n.data.buffer, n.data.byteOffset, n.data.byteLength)),
      });
    } else if ((n.kind === "reduce" && (needed || keepIds.has(n.id))) || (n.kind === "mapBlocks" && !local.has(n.id)) || storeOutputs.has(n.id)) {
      const bytes = sizeOf(n.shape) * itemsize(n.dtype);
      if (keepIds.has(n.id)) {
        const a = mem.alloc(Math.max(16, align(bytes)));
        keptAllocs.push(a);
        bufferOf.set(n.id, a);
      } else bufferOf.set(n.id, alloc(bytes));
    }
  }

  const reduceResults = new Map<number, Float64Array>();
  const stageGroups = new Map<string, Job[]>();
  for (const j of [...jobs].sort((a, b) => a.level - b.level)) {
    const k = stageOf.get(j)!;
    stageGroups.set(k, [...(stageGroups.get(k) ?? []), j]);
  }
  let stageId = 0;
  for (const group of stageGroups.values()) {
    const built = buildStage(stageId++, group, { ctxs, jobOfCtx, local, bufferOf, refs, alloc, tile });
    steps.push({ kind: "stage", spec: built.spec, label: group.map((j) => `${j.kind}(${j.node.id})`).join(" "), writes: built.writes });
    for (const r of built.reductions) {
      steps.push({
        kind: "host",
        label: `combine ${r.node.op}(${r.node.id})`,
        run: () => {
          const res = combineReduction(r.node, r.partial, r.grid, mem.buffer);
          reduceResults.set(r.node.id, res);
          const addr = bufferOf.get(r.node.id);
          if (addr !== undefined) writeAs(mem.buffer, addr, r.node.dtype, res);
        },
      });
    }
  }

  return {
    steps,
    results: () =>
      outputs.map((o) => {
        const n = o.node;
        if (o.keep) {
          const addr = bufferOf.get(n.id)!;
          return { shape: [...n.shape], dtype: n.dtype, data: viewAs(mem.buffer, addr, n.dtype, sizeOf(n.shape)), addr };
        }
        if (n.kind === "reduce") {
          const v = reduceResults.get(n.id)!;
          if (n.shape.length === 0) return n.dtype === "bool" ? v[0] !== 0 : v[0]!;
          return { shape: [...n.shape], dtype: n.dtype, data: convert(v, n.dtype) };
        }
        if (n.kind === "data") return { shape: [...n.shape], dtype: n.dtype, data: n.data.slice() };
        const addr = bufferOf.get(n.id)!;
        const len = sizeOf(n.shape);
        if (mem.views) return { shape: [...n.shape], dtype: n.dtype, data: viewAs(mem.buffer, addr, n.dtype, len), addr };
        return { shape: [...n.shape], dtype: n.dtype, data: readAs(mem.buffer, addr, n.dtype, len) };
      }),
    release: (keepOutputs = false) => {
      for (const a of allocated.splice(0)) mem.free(a);
      if (!keepOutputs) for (const a of keptAllocs.splice(0)) mem.free(a);
    },
  };
}

function buildJobs(ctxs: Ctx[], nodes: Map<number, Node>, local: Set<number>, refs: Map<number, Ctx[]>) {
  const jobByOwner = new Map<number, Job>();
  const jobs: Job[] = [];
  const jobOfCtx = new Map<Ctx, Job>();
  const ctxByOwner = new Map<number, Ctx>(ctxs.map((c) => [c.owner.id, c]));
  // the job a context's work happens in: local mapBlocks inputs run inside the job that reads them
  const ownerJob = (c: Ctx): Job => {
    const have = jobOfCtx.get(c);
    if (have) return have;
    let j: Job;
    if (c.owner.kind === "mapBlocks" && local.has(c.owner.id)) {
      j = ownerJob((refs.get(c.owner.id) ?? [])[0]!);
    } else {
      j = jobByOwner.get(c.owner.id) ?? makeJob(c);
    }
    jobOfCtx.set(c, j);
    return j;
  };
  const makeJob = (c: Ctx): Job => {
    const n = c.owner;
    const kind: JobKind = c.isOutput ? "store" : n.kind === "reduce" ? "reduce" : "mapBlocks";
    const grid = kind === "mapBlocks" ? gridOf(n.shape, (n as MapBlocksNode).chunks) : c.grid;
    const j: Job = { kind, node: n, grid, root: kind === "mapBlocks" ? n : c.expr, level: 0 };
    jobByOwner.set(n.id, j);
    jobs.push(j);
    return j;
  };
  ctxs.forEach(ownerJob);
  // levels: 1 + the deepest job this one reads a result of
  const levelMemo = new Map<Job, number>();
  const level = (j: Job): number => {
    const have = levelMemo.get(j);
    if (have !== undefined) return have;
    let lv = 1;
    const visitCtx = (c: Ctx) => {
      for (const l of leavesOf(c.expr)) {
        if (l.kind === "mapBlocks" && local.has(l.id)) visitCtx(ctxByOwner.get(l.id)!);
        else if (l.kind !== "data") lv = Math.max(lv, 1 + level(jobByOwner.get(l.id)!));
      }
    };
    for (const [c, cj] of jobOfCtx) if (cj === j && !(c.owner.kind === "mapBlocks" && local.has(c.owner.id))) visitCtx(c);
    levelMemo.set(j, lv);
    return lv;
  };
  jobs.forEach((j) => (j.level = level(j)));
  void nodes;
  return { jobs, jobOfCtx };
}

interface StageEnv {
  ctxs: Ctx[];
  jobOfCtx: Map<Ctx, Job>;
  local: Set<number>;
  bufferOf: Map<number, number>;
  refs: Map<number, Ctx[]>;
  alloc: (bytes: number) => number;
  tile: number;
}

interface ReductionOut {
  node: ReduceNode;
  partial: PartialSpec;
  grid: GridSpec;
}

function buildStage(id: number, group: Job[], env: StageEnv): { spec: StageSpec; reductions: ReductionOut[]; writes: WrittenArray[] } {
  const grid = group[0]!.grid;
  const inStage = new Set(group);
  // locals of this stage, inner ones first
  const localIds: number[] = [];
  const localNodes = new Map<number, MapBlocksNode>();
  const visitLocal = (m: MapBlocksNode) => {
    if (localNodes.has(m.id)) return;
    for (const l of leavesOf(m.input)) if (l.kind === "mapBlocks" && env.local.has(l.id)) visitLocal(l);
    localNodes.set(m.id, m);
    localIds.push(m.id);
  };
  for (const c of env.ctxs) {
    if (!inStage.has(env.jobOfCtx.get(c)!)) continue;
    for (const l of leavesOf(c.expr)) if (l.kind === "mapBlocks" && env.local.has(l.id)) visitLocal(l);
  }
  for (const j of group) if (j.kind === "mapBlocks") visitLocal(j.node as MapBlocksNode);
  const localIndex = new Map(localIds.map((m, i) => [m, i]));

  const leaf = (n: Node): LeafSlot | null => {
    if (isVirtual(n)) return null;
    const li = localIndex.get(n.id);
    if (li !== undefined) return { kind: "localOut", local: li, dtype: n.dtype };
    const addr = env.bufferOf.get(n.id);
    if (addr === undefined) throw new Error(`internal: node ${n.id} (${n.kind}) has no buffer`);
    return { kind: "array", addr, shape: [...n.shape], dtype: n.dtype };
  };

  let arena = 0;
  const locals: LocalSpec[] = localIds.map((mid, i) => {
    const m = localNodes.get(mid)!;
    const inGrid = gridOf(m.input.shape, m.inputChunks);
    const outGrid = gridOf(m.shape, m.chunks);
    const e = new ProgramEmitter(leaf);
    e.countUses([m.input]);
    const r = e.value(m.input);
    e.b.emit(OP.STORE, r, e.slot({ kind: "localIn", local: i, dtype: m.input.dtype }));
    const inOffset = arena;
    arena += align(maxChunkElems(inGrid) * itemsize(m.input.dtype));
    const outOffset = arena;
    arena += align(maxChunkElems(outGrid) * itemsize(m.dtype));
    return { fn: m.fn, args: [...m.args], inGrid, inDtype: m.input.dtype, outGrid, outDtype: m.dtype, input: e.build(), inOffset, outOffset };
  });

  const e = new ProgramEmitter(leaf);
  e.countUses(group.map((j) => j.root));
  const partials: PartialSpec[] = [];
  const reductions: ReductionOut[] = [];
  const writes: WrittenArray[] = [];
  const g = new Grid(grid);
  for (const j of group) {
    if (j.kind === "reduce") {
      const red = j.node as ReduceNode;
      const ncomp = componentsOf(red.op);
      const p: PartialSpec = { axes: [...red.axes], init: initOf(red.op), offsets: [], end: 0 };
      let total = 0;
      for (let k = 0; k < g.nchunks; k++) {
        p.offsets.push(total);
        total += partialElems(p, g.chunk(k).shape) * ncomp * 8;
      }
      const base = env.alloc(total);
      p.offsets = p.offsets.map((o) => o + base);
      p.end = base + total;
      partials.push(p);
      emitReduction(e, red, j.root, partials.length - 1);
      reductions.push({ node: red, partial: p, grid });
    } else {
      const r = e.value(j.root);
      const w: WrittenArray = { addr: env.bufferOf.get(j.node.id)!, shape: [...j.node.shape], dtype: j.node.dtype };
      writes.push(w);
      e.b.emit(OP.STORE, r, e.slot({ kind: "array", ...w }));
      e.release(j.root);
    }
  }
  // NDArray operations inside mapBlocks functions get a region to allocate in, reset after each block;
  // only touched pages become resident, so it can be generous
  const eagerOffset = arena;
  const eagerBytes = locals.length ? Math.min(8 * arena, EAGER_MAX_BYTES) : 0;
  arena += eagerBytes;
  const spec: StageSpec = { id, grid, tile: env.tile, locals, program: e.build(), partials, arenaBytes: arena, eagerOffset, eagerBytes };
  return { spec, reductions, writes };
}

const REDUCE_OPCODE: Record<ReduceNode["op"], number> = {
  sum: OP.RSUM, mean: OP.RSUM, prod: OP.RPROD, min: OP.RMIN, max: OP.RMAX, any: OP.RMAX, all: OP.RMIN,
  argmin: OP.RARGMIN, argmax: OP.RARGMAX, var: OP.RVAR, std: OP.RVAR,
};

function emitReduction(e: ProgramEmitter, red: ReduceNode, root: Node, partial: number): void {
  let r = e.value(root);
  const s = e.partialSlots(partial, componentsOf(red.op));
  const op = REDUCE_OPCODE[red.op];
  if (red.op === "any" || red.op === "all") {
    // truth values: max of (x != 0) is any, min is all
    const t = e.b.reg();
    e.b.emit(OP.BOOL, t, r);
    r = t;
  }
  if (op === OP.RARGMIN || op === OP.RARGMAX) {
    const full = red.axes.length === root.shape.length;
    e.b.emit(op, r, s, e.slot(full ? { kind: "flat", shape: [...root.shape], contiguous: false } : { kind: "axis", axis: red.axes[0]! }));
  } else e.b.emit(op, r, s);
  e.release(root);
}

const EAGER_MAX_BYTES = 512 * 2 ** 20;
// a loop, not Math.max(...c): an axis may have a million blocks, more arguments than the call stack holds
const maxChunkElems = (g: GridSpec) => g.chunks.reduce((a, c) => a * c.reduce((m, b) => (b > m ? b : m), 0), 1);

function convert(v: Float64Array, d: DType): RawArray["data"] {
  if (d === "float64") return v;
  if (d === "float32") return Float32Array.from(v);
  if (d === "int32") return Int32Array.from(v);
  return Uint8Array.from(v, (x) => (x !== 0 ? 1 : 0));
}

function viewAs(buffer: ArrayBufferLike, addr: number, d: DType, len: number): RawArray["data"] {
  return typedArrayFor(d, buffer, addr, len);
}

const readAs = (buffer: ArrayBufferLike, addr: number, d: DType, len: number) => viewAs(buffer, addr, d, len).slice();
const writeAs = (buffer: ArrayBufferLike, addr: number, d: DType, v: Float64Array) => viewAs(buffer, addr, d, v.length).set(convert(v, d));
