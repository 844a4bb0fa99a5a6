/**
 * Runs one stage's chunks in this thread: the local mapBlocks chain, partial initialization, and the
 * fused program, all on the kernels given. Used by the worker threads and, for eager NDArray operations,
 * by any thread directly.
 */
import { ComputeError, TesseraError } from "../errors.js";
import { typedArrayFor, type DType, type TypedArray } from "../dtype.js";
import { RC } from "../kernels/abi.js";
import { writeProgram, programLayout } from "../kernels/program.js";
import type { Kernels } from "../kernels/wasm.js";
import { Grid, chunkGeometry, partialElems, type SlotContext } from "./geometry.js";
import type { LocalSpec, ProgramSpec, StageSpec, WorkerAreas } from "./messages.js";

type DTypeName = DType;
type Typed = TypedArray;

/**
 * Blocks as user functions see them, and back, supplied by the layer that can build NDArrays. A scope
 * lasts one block: NDArray operations inside it allocate in the stage's eager region of this memory,
 * which is reused for the next block.
 */
export interface BlockScope {
  wrap(data: Typed, shape: number[], dtype: DTypeName, addr: number): unknown;
  /** addr: where the data lives when it is in this memory (it stays intact until the next block opens) */
  unwrap(value: unknown): { data: Typed; shape: readonly number[]; dtype: DTypeName; addr?: number } | null;
  close(): void;
}
export interface BlockAdapter {
  open(exec: ExecContext, eager: { addr: number; bytes: number }): BlockScope;
}

export interface ExecContext {
  memory: WebAssembly.Memory;
  kernels: Kernels;
  areas: WorkerAreas;
  blocks?: () => Promise<BlockAdapter>;
}

const viewOf = (buf: ArrayBufferLike, dtype: DTypeName, addr: number, n: number): Typed => typedArrayFor(dtype, buf, addr, n);

const fnCache = new Map<string, (...a: unknown[]) => unknown>();
function compileFn(src: string): (...a: unknown[]) => unknown {
  let f = fnCache.get(src);
  if (!f) {
    f = new Function(`"use strict"; return (${src});`)() as (...a: unknown[]) => unknown;
    if (typeof f !== "function") throw new TypeError("mapBlocks source did not evaluate to a function");
    fnCache.set(src, f);
  }
  return f;
}

export class StageRunner {
  private readonly grid: Grid;
  private readonly localGrids: { in: Grid; out: Grid }[];
  private readonly slotCtx: SlotContext;
  private adapter: BlockAdapter | null = null;
  private readonly eager: { addr: number; bytes: number };

  constructor(
    readonly spec: StageSpec,
    private readonly ctx: ExecContext,
    arena: number,
  ) {
    this.eager = { addr: arena + spec.eagerOffset, bytes: spec.eagerBytes };
    this.grid = new Grid(spec.grid);
    this.localGrids = spec.locals.map((l) => ({ in: new Grid(l.inGrid), out: new Grid(l.outGrid) }));
    this.slotCtx = {
      partials: spec.partials,
      locals: spec.locals.map((l) => ({ in: arena + l.inOffset, out: arena + l.outOffset, fixedOut: arena + l.outOffset })),
    };
    for (const p of [spec.program, ...spec.locals.map((l) => l.input)]) {
      const t = p.template;
      const bytes = programLayout(spec.grid.shape.length, t.slotKinds.length, t.code.length, t.consts.length).bytes;
      if (bytes > ctx.areas.programBytes) {
        throw new ComputeError("TOO_LARGE", `a fused program needs ${bytes} bytes, more than the ${ctx.areas.programBytes} reserved`);
      }
    }
  }

  get nchunks(): number {
    return this.grid.nchunks;
  }

  /** Runs chunks [start, end). Throws with `.chunk` set to the failing chunk index. */
  async runRange(start: number, end: number): Promise<void> {
    if (this.spec.locals.length && !this.adapter) this.adapter = await this.ctx.blocks!();
    for (let k = start; k < end; k++) {
      try {
        if (this.spec.locals.length) await this.runLocals(k);
        this.runChunk(k);
      } catch (e) {
        throw Object.assign(e instanceof Error ? e : new Error(String(e)), { chunk: k });
      }
    }
  }

  /** Runs chunks [start, end) of a stage without mapBlocks, synchronously (eager NDArray operations). */
  runRangeSync(start: number, end: number): void {
    if (this.spec.locals.length) throw new Error("internal: a stage with mapBlocks cannot run synchronously");
    for (let k = start; k < end; k++) {
      try {
        this.runChunk(k);
      } catch (e) {
        throw Object.assign(e instanceof Error ? e : new Error(String(e)), { chunk: k });
      }
    }
  }

  private runChunk(k: number): void {
    const chunk = this.grid.chunk(k);
    const buf = this.ctx.memory.buffer;
    for (const p of this.spec.partials) {
      const n = partialElems(p, chunk.shape);
      const f = new Float64Array(buf, p.offsets[k]!, n * p.init.length);
      p.init.forEach((v, c) => f.fill(v, c * n, (c + 1) * n));
    }
    this.runProgram(this.spec.program, chunk, k);
  }

  private runProgram(p: ProgramSpec, chunk: { start: number[]; shape: number[] }, k: number): void {
    const geom = chunkGeometry(p.slots, chunk, k, this.slotCtx);
    if (geom.rowLen === 0) return;
    const a = this.ctx.areas;
    writeProgram(this.ctx.memory.buffer, a.program, p.template, geom, this.spec.tile, a.regs, a.scratch);
    const rc = this.ctx.kernels.run(a.program);
    if (rc !== RC.OK) throw new ComputeError("KERNEL_FAILED", `the ${this.ctx.kernels.name} kernel refused a program (code ${rc})`);
  }

  private async runLocals(k: number): Promise<void> {
    for (let i = 0; i < this.spec.locals.length; i++) {
      const l = this.spec.locals[i]!;
      const g = this.localGrids[i]!;
      const inChunk = g.in.chunk(k);
      const outChunk = g.out.chunk(k);
      this.runProgram(l.input, inChunk, k);
      const addr = this.slotCtx.locals[i]!;
      const nIn = inChunk.shape.reduce((x, y) => x * y, 1);
      const scope = this.adapter!.open(this.ctx, this.eager);
      try {
        const block = scope.wrap(viewOf(this.ctx.memory.buffer, l.inDtype, addr.in, nIn), inChunk.shape, l.inDtype, addr.in);
        const info = { blockIndex: inChunk.index, offset: inChunk.start, args: l.args };
        const result = await compileFn(l.fn)(block, info);
        const r = scope.unwrap(result);
        this.checkLocal(l, r, result, outChunk.shape, `[${outChunk.index.join(", ")}]`);
        // the last local's result can be read where it is (nothing allocates in the region before the
        // stage program runs); earlier ones are copied, since the next block scope reuses the region
        const last = i === this.spec.locals.length - 1;
        addr.out = last && r!.addr !== undefined ? r!.addr : addr.fixedOut;
        if (addr.out === addr.fixedOut) viewOf(this.ctx.memory.buffer, l.outDtype, addr.out, r!.data.length).set(r!.data);
      } finally {
        scope.close();
      }
    }
  }

  private checkLocal(l: LocalSpec, r: ReturnType<BlockScope["unwrap"]>, result: unknown, shape: number[], block: string): void {
    if (!r) {
      throw new TesseraError("TASK_FAILED", `mapBlocks function returned ${describe(result)} for block ${block}; it must return an NDArray`);
    }
    if (r.shape.length !== shape.length || r.shape.some((n, d) => n !== shape[d])) {
      throw new TesseraError(
        "SHAPE_MISMATCH",
        `mapBlocks function returned shape [${r.shape.join(", ")}] for block ${block}, expected [${shape.join(", ")}] (pass { chunks } if blocks change shape)`,
      );
    }
    if (r.dtype !== l.outDtype) {
      throw new TesseraError(
        "DTYPE_MISMATCH",
        `mapBlocks function returned dtype ${r.dtype} for block ${block}, expected ${l.outDtype} (pass { dtype: "${r.dtype}" } or astype it)`,
      );
    }
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === "object") return `an object (${(v as object).constructor?.name ?? "Object"})`;
  return `a ${typeof v}`;
}
