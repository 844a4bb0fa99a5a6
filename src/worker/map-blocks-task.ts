/**
 * Runs the tasks of a mapBlocks layer in a worker: the user's function on chunk t of the input buffer,
 * its result checked and copied into chunk t of the output buffer.
 *
 * Blocks reach the function as NDArrays of the package API, made by a BlockAdapter that the layer above
 * supplies when it starts the worker (this layer cannot import it). A scope lasts one block: NDArray
 * operations inside it allocate in the worker's eager region, which is reused for the next block.
 */
import { TesseraError } from "../errors.js";
import { typedArrayFor, type DType, type TypedArray } from "../dtype.js";
import { Grid, sizeOf } from "../grid.js";
import { withTask } from "./task-failure.js";
import { BLOCK_KERNELS, type BlockKernel } from "../kernels/block-kernels.js";
import type { MapBlocksTaskSpec } from "./messages.js";
import type { ExecContext } from "./program-task.js";

export interface BlockScope {
  wrap(data: TypedArray, shape: number[], dtype: DType, addr: number): unknown;
  /** addr: where the data lives when it is in this memory (it stays intact until the next block opens) */
  unwrap(value: unknown): { data: TypedArray; shape: readonly number[]; dtype: DType; addr?: number } | null;
  close(): void;
}

export interface BlockAdapter {
  open(exec: ExecContext, eager: { addr: number; bytes: number }): BlockScope;
}


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

export class MapBlocksTasks {
  private readonly inGrid: Grid;
  private readonly outGrid: Grid;

  constructor(
    readonly spec: MapBlocksTaskSpec,
    private readonly ctx: ExecContext,
    private readonly adapter: BlockAdapter,
    private readonly arena: number,
  ) {
    this.inGrid = new Grid(spec.input);
    this.outGrid = new Grid(spec.output);
  }

  /** Runs tasks [start, end). Throws with `.task` set to the failing task. */
  async run(start: number, end: number): Promise<void> {
    for (let t = start; t < end; t++) {
      try {
        await this.runTask(t);
      } catch (e) {
        throw withTask(e, t);
      }
    }
  }

  private chunkAddr(table: number, k: number): number {
    return new Float64Array(this.ctx.memory.buffer, table + k * 8, 1)[0]!;
  }

  private async runTask(t: number): Promise<void> {
    const s = this.spec;
    const inChunk = this.inGrid.chunk(t);
    const outChunk = this.outGrid.chunk(t);
    const inAddr = this.chunkAddr(s.input.table, t);
    const outAddr = this.chunkAddr(s.output.table, t);
    const scope = this.adapter.open(this.ctx, { addr: this.arena, bytes: s.eagerBytes });
    try {
      const n = sizeOf(inChunk.shape);
      const block = scope.wrap(typedArrayFor(s.input.dtype, this.ctx.memory.buffer, inAddr, n), inChunk.shape, s.input.dtype, inAddr);
      const info = { blockIndex: inChunk.index, offset: inChunk.start, args: s.args };
      const result = await compileFn(s.fn)(block, info);
      const r = scope.unwrap(result);
      const where = `[${outChunk.index.join(", ")}]`;
      if (!r) throw new TesseraError("TASK_FAILED", `mapBlocks function returned ${describe(result)} for block ${where}; it must return an NDArray`);
      if (r.shape.length !== outChunk.shape.length || r.shape.some((m, d) => m !== outChunk.shape[d])) {
        throw new TesseraError(
          "SHAPE_MISMATCH",
          `mapBlocks function returned shape [${r.shape.join(", ")}] for block ${where}, expected [${outChunk.shape.join(", ")}] (pass { chunks } if blocks change shape)`,
        );
      }
      if (r.dtype !== s.output.dtype) {
        throw new TesseraError(
          "DTYPE_MISMATCH",
          `mapBlocks function returned dtype ${r.dtype} for block ${where}, expected ${s.output.dtype} (pass { dtype: "${r.dtype}" } or astype it)`,
        );
      }
      typedArrayFor(s.output.dtype, this.ctx.memory.buffer, outAddr, r.data.length).set(r.data);
    } finally {
      scope.close();
    }
  }

}

/** mapBlocks layers whose fn is "builtin:<name>" run a block kernel of the engine (kernels/block-kernels.ts) on the chunks in place. */
const BUILTIN = "builtin:";
export const isBuiltinBlocks = (spec: MapBlocksTaskSpec): boolean => spec.fn.startsWith(BUILTIN);

/** The tasks of a mapBlocks layer with a builtin block kernel: synchronous, no NDArrays, no copies. */
export class BuiltinBlockTasks {
  private readonly inGrid: Grid;
  private readonly outGrid: Grid;
  private readonly kernel: BlockKernel;

  constructor(
    readonly spec: MapBlocksTaskSpec,
    private readonly ctx: ExecContext,
  ) {
    this.inGrid = new Grid(spec.input);
    this.outGrid = new Grid(spec.output);
    const kernel = BLOCK_KERNELS[spec.fn.slice(BUILTIN.length)];
    if (!kernel) throw new Error(`internal: no block kernel ${JSON.stringify(spec.fn)}`);
    this.kernel = kernel;
  }

  /** Runs tasks [start, end). Throws with `.task` set to the failing task. */
  run(start: number, end: number): void {
    const tables = new Float64Array(this.ctx.memory.buffer);
    for (let t = start; t < end; t++) {
      try {
        const buf = this.ctx.memory.buffer;
        const inChunk = this.inGrid.chunk(t);
        const outShape = this.outGrid.chunk(t).shape;
        const input = typedArrayFor(this.spec.input.dtype, buf, tables[(this.spec.input.table >>> 3) + t]!, sizeOf(inChunk.shape));
        const output = typedArrayFor(this.spec.output.dtype, buf, tables[(this.spec.output.table >>> 3) + t]!, sizeOf(outShape));
        this.kernel({ data: input, shape: inChunk.shape, start: inChunk.start }, { data: output, shape: outShape }, this.spec.args);
      } catch (e) {
        throw withTask(e, t);
      }
    }
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === "object") return `an object (${(v as object).constructor?.name ?? "Object"})`;
  return `a ${typeof v}`;
}
