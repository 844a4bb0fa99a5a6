/**
 * Runs the tasks of a gemm layer in this thread: task t fills chunk t of the result, for each batch
 * element of the chunk, with A's row of blocks times B's column of blocks, block kb = 0, 1, ... in order,
 * the first written (beta 0) and the rest added (beta 1). Each call is one GEMM record (kernels/abi.ts);
 * the kernel adds each element's products in increasing k, so splitting K into blocks changes no bit.
 */
import { runEach } from "./task-failure.js";
import { ComputeError } from "../errors.js";
import { operandBlock } from "../gemm-blocks.js";
import { Grid, cStrides } from "../grid.js";
import { DT, GEMM_SCRATCH_BYTES, RC } from "../kernels/abi.js";
import { writeGemmRecord, type GemmCall } from "../kernels/gemm-record.js";
import type { BoundBuffer, GemmTaskSpec } from "./messages.js";
import type { ExecContext } from "./program-task.js";

/** A thread's GEMM area: the record (GEMM_WORDS words, rounded up), then the kernel's packing scratch (16-aligned). */
const GEMM_RECORD_BYTES = 256;
export const GEMM_AREA_BYTES = GEMM_RECORD_BYTES + GEMM_SCRATCH_BYTES;

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
    runEach(start, end, (t) => this.runTask(t));
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
    const scratch = rec + GEMM_RECORD_BYTES;
    const local = new Array<number>(nd - 2).fill(0);
    for (let e = 0; e < batch; e++) {
      let cOff = 0;
      for (let d = 0; d < nd - 2; d++) cOff += local[d]! * outStrides[d]!;
      const c = { base: outAddr + cOff * this.bytes, row: n, col: 1 };
      if (nk === 0) {
        // an empty contraction: zeros
        this.call({ dtype: this.dtype, m, n, k: 0, a: { base: 0, row: 0, col: 1 }, b: { base: 0, row: n, col: 1 }, c, beta: 0, scratch });
      }
      for (let kb = 0; kb < nk; kb++) {
        const ab = this.a.grid.chunkIndex(operandBlock(this.a.shape, oc.index, kb, "a", this.blockScratch));
        const aShape = this.a.grid.chunk(ab).shape;
        const bb = this.b.grid.chunkIndex(operandBlock(this.b.shape, oc.index, kb, "b", this.blockScratch));
        const bShape = this.b.grid.chunk(bb).shape;
        const k = aShape[nd - 1]!;
        const aAddr = tables[this.a.table + ab]! + this.batchOffset(this.a.shape, aShape, local) * this.bytes;
        const bAddr = tables[this.b.table + bb]! + this.batchOffset(this.b.shape, bShape, local) * this.bytes;
        // A's chunk rows hold k elements, B's n (chunks are C-contiguous)
        this.call({ dtype: this.dtype, m, n, k, a: { base: aAddr, row: k, col: 1 }, b: { base: bAddr, row: n, col: 1 }, c, beta: kb === 0 ? 0 : 1, scratch });
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

  /** One GEMM record, run by this thread's kernels. */
  private call(g: GemmCall): void {
    writeGemmRecord(this.ctx.memory.buffer, this.ctx.areas.gemm, g);
    const rc = this.ctx.kernels.gemm(this.ctx.areas.gemm);
    if (rc !== RC.OK) throw new ComputeError("KERNEL_FAILED", `the ${this.ctx.kernels.name} GEMM kernel refused a record (code ${rc})`);
  }
}
