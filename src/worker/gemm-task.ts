/**
 * Runs the tasks of a gemm layer in this thread: task t fills chunk t of the result, for each batch
 * element of the chunk, with A's row of blocks times B's column of blocks, block kb = 0, 1, ... in order,
 * the first written (beta 0) and the rest added (beta 1). Each call is one GEMM record (kernels/abi.ts);
 * the kernel adds each element's products in increasing k, so splitting K into blocks changes no bit.
 */
import { ComputeError } from "../errors.js";
import { operandBlock } from "../gemm-blocks.js";
import { Grid, cStrides } from "../grid.js";
import { G, GEMM_MAGIC, GEMM_SCRATCH_BYTES, GEMM_WORDS, runGemmInterim } from "../kernels/gemm-interim.js";
import { DT, RC } from "../kernels/abi.js";
import type { BoundBuffer, GemmTaskSpec } from "./messages.js";
import type { ExecContext } from "./program-task.js";

/** Bytes of a thread's GEMM area: the record, then the kernel's packing scratch (16-aligned). */
export const GEMM_AREA_BYTES = 256 + GEMM_SCRATCH_BYTES;

interface Operand {
  grid: Grid;
  shape: number[];
  /** chunk-table index (Float64 words) */
  table: number;
}

const operand = (b: BoundBuffer): Operand => ({ grid: new Grid({ shape: b.shape, chunks: b.chunks }), shape: b.shape, table: b.table >>> 3 });

export class GemmTasks {
  private readonly a: Operand;
  private readonly b: Operand;
  private readonly out: Operand;
  private readonly bytes: number;
  private readonly dtype: number;
  private readonly blockScratch: number[] = [];

  constructor(
    readonly spec: GemmTaskSpec,
    private readonly ctx: ExecContext,
  ) {
    this.a = operand(spec.a);
    this.b = operand(spec.b);
    this.out = operand(spec.output);
    const dt = spec.output.dtype;
    if ((dt !== "float64" && dt !== "float32") || spec.a.dtype !== dt || spec.b.dtype !== dt) {
      throw new Error(`internal: a gemm task multiplies float64 or float32 operands of the result's dtype, not ${spec.a.dtype} and ${spec.b.dtype} into ${dt}`);
    }
    this.bytes = dt === "float32" ? 4 : 8;
    this.dtype = dt === "float32" ? DT.F32 : DT.F64;
  }

  /** Runs tasks [start, end). Throws with `.task` set to the failing task. */
  run(start: number, end: number): void {
    for (let t = start; t < end; t++) {
      try {
        this.runTask(t);
      } catch (e) {
        throw Object.assign(e instanceof Error ? e : new Error(String(e)), { task: t });
      }
    }
  }

  private runTask(t: number): void {
    const buf = this.ctx.memory.buffer;
    const tables = new Float64Array(buf);
    const oc = this.out.grid.chunk(t);
    const nd = oc.shape.length;
    const m = oc.shape[nd - 2]!;
    const n = oc.shape[nd - 1]!;
    if (m === 0 || n === 0) return;
    const outAddr = tables[this.out.table + t]!;
    const nk = this.a.grid.numblocks[nd - 1]!;
    // the batch elements of the chunk, in C order; for each, the operands' element offsets in their chunks
    const batchShape = oc.shape.slice(0, nd - 2);
    const batch = batchShape.reduce((x, y) => x * y, 1);
    const outStrides = cStrides(oc.shape);
    const rec = this.ctx.areas.gemm;
    const w = new Float64Array(buf, rec, GEMM_WORDS);
    w[G.MAGIC] = GEMM_MAGIC;
    w[G.DTYPE] = this.dtype;
    w[G.M] = m;
    w[G.N] = n;
    w[G.SCRATCH] = rec + 256;
    w[G.SCRATCH_BYTES] = GEMM_SCRATCH_BYTES;
    w[G.C_ROW] = n;
    w[G.C_COL] = 1;
    const local = new Array<number>(nd - 2).fill(0);
    for (let e = 0; e < batch; e++) {
      let cOff = 0;
      for (let d = 0; d < nd - 2; d++) cOff += local[d]! * outStrides[d]!;
      w[G.C] = outAddr + cOff * this.bytes;
      if (nk === 0) {
        // an empty contraction: zeros
        w[G.K] = 0;
        w[G.BETA] = 0;
        this.call(w, 0, 0, 0, 0);
      }
      for (let kb = 0; kb < nk; kb++) {
        const ab = this.a.grid.chunkIndex(operandBlock(this.a.shape, oc.index, kb, "a", this.blockScratch));
        const aShape = this.a.grid.chunk(ab).shape;
        const bb = this.b.grid.chunkIndex(operandBlock(this.b.shape, oc.index, kb, "b", this.blockScratch));
        const bShape = this.b.grid.chunk(bb).shape;
        const k = aShape[nd - 1]!;
        w[G.K] = k;
        w[G.BETA] = kb === 0 ? 0 : 1;
        const aAddr = tables[this.a.table + ab]! + this.batchOffset(this.a.shape, aShape, local) * this.bytes;
        const bAddr = tables[this.b.table + bb]! + this.batchOffset(this.b.shape, bShape, local) * this.bytes;
        this.call(w, aAddr, k, bAddr, n);
      }
      for (let d = nd - 3; d >= 0; d--) {
        if (++local[d]! < batchShape[d]!) break;
        local[d] = 0;
      }
    }
  }

  /** The element offset of batch element `local` (of the output chunk) in an operand's chunk. */
  private batchOffset(full: readonly number[], chunk: readonly number[], local: readonly number[]): number {
    const st = cStrides(chunk);
    let off = 0;
    for (let d = 0; d < local.length; d++) if (full[d] !== 1) off += local[d]! * st[d]!;
    return off;
  }

  /** One GEMM record: A (rows of k elements) times B (rows of n elements) into the record's C. */
  private call(w: Float64Array, aAddr: number, aRow: number, bAddr: number, bRow: number): void {
    w[G.A] = aAddr;
    w[G.A_ROW] = aRow;
    w[G.A_COL] = 1;
    w[G.B] = bAddr;
    w[G.B_ROW] = bRow;
    w[G.B_COL] = 1;
    const rc = runGemmInterim(this.ctx.memory.buffer, w.byteOffset);
    if (rc !== RC.OK) throw new ComputeError("KERNEL_FAILED", `the ${this.ctx.kernels.name} GEMM kernel refused a record (code ${rc})`);
  }
}
