/**
 * Runs the tasks of a program layer in this thread: per task, initialize its reduction accumulators, then
 * run the fused program over the task's region. Used by the worker threads and, for eager NDArray
 * operations, by any thread directly.
 */
import { runEach } from "./task-failure.js";
import { ComputeError } from "../errors.js";
import { Grid, boxBlock } from "../grid.js";
import { RC } from "../kernels/abi.js";
import { ProgramArea } from "../kernels/program.js";
import type { Kernels } from "../kernels/wasm.js";
import { TaskGeometry, partialElems, type Region } from "./geometry.js";
import { MAX_STREAMS, STREAM_WINDOW_BYTES, type ProgramTaskSpec, type WorkerAreas } from "./messages.js";
import { itemsize, typedArrayFor, type DType } from "../dtype.js";
import { slabReader, streamable, type SlabReader } from "../storage/slabs.js";

/** What a thread needs to run kernels: its memory, its kernel instance and its fixed areas. */
export interface ExecContext {
  memory: WebAssembly.Memory;
  kernels: Kernels;
  areas: WorkerAreas;
}

/**
 * The program area of a thread's fixed areas, which remembers the template last written to it. Keyed by
 * the areas object, which every context of the thread shares (a mapBlocks function's NDArray operations
 * run on the worker's areas too), so a template is never assumed to be there after someone else wrote.
 */
const programAreas = new WeakMap<WorkerAreas, ProgramArea>();
function programAreaOf(a: WorkerAreas): ProgramArea {
  let p = programAreas.get(a);
  if (!p) programAreas.set(a, (p = new ProgramArea(a.program, a.programBytes, a.regs, a.scratch)));
  return p;
}

export class ProgramTasks {
  private readonly grid: Grid;
  private readonly geometry: TaskGeometry;
  private readonly area: ProgramArea;
  /** the region of the task being run (reused: a million tasks make no garbage) */
  private readonly region: Region;
  private readonly partialTables: number[];
  /** per scan carry: its chunk table (words), element bytes, and how far apart blocks along its axis are */
  private readonly carryAt: { table: number; bytes: number; blockStride: number }[];
  /** streamed slots: the slot, its reader (files open for one task), its window and element size */
  private readonly streams: { slot: number; reader: SlabReader; window: number; bytes: number; dtype: DType }[] = [];
  /** a slab of the task's region (reused) */
  private readonly slab: Region;

  constructor(
    readonly spec: ProgramTaskSpec,
    private readonly ctx: ExecContext,
  ) {
    this.grid = new Grid(spec.grid);
    const nd = spec.grid.shape.length;
    this.geometry = new TaskGeometry(spec.slots, nd, ctx.memory.buffer);
    this.area = programAreaOf(ctx.areas);
    this.region = { index: new Array<number>(nd).fill(0), start: new Array<number>(nd).fill(0), shape: new Array<number>(nd).fill(0) };
    this.partialTables = spec.partials.map((p) => p.buffer.table >>> 3);
    this.carryAt = spec.carries.map((c) => {
      let blockStride = 1;
      for (let d = c.axis + 1; d < nd; d++) blockStride *= this.grid.numblocks[d]!;
      return { table: c.buffer.table >>> 3, bytes: c.buffer.dtype === "float32" ? 4 : 8, blockStride };
    });
    this.slab = { index: this.region.index, start: new Array<number>(nd).fill(0), shape: new Array<number>(nd).fill(0) };
    spec.slots.forEach((s, slot) => {
      if (s.kind !== "stream") return;
      const i = this.streams.length;
      if (ctx.areas.window === undefined || i >= MAX_STREAMS || !streamable(s.source)) throw new Error("internal: a streamed slot where no window is");
      this.streams.push({ slot, reader: slabReader(s.source), window: ctx.areas.window + i * STREAM_WINDOW_BYTES, bytes: itemsize(s.dtype), dtype: s.dtype });
    });
    const bytes = ProgramArea.bytesFor(spec.template, nd);
    if (bytes > ctx.areas.programBytes) {
      throw new ComputeError("TOO_LARGE", `a fused program needs ${bytes} bytes, more than the ${ctx.areas.programBytes} reserved`);
    }
  }

  /** The region of task t (a block of the layer's box) and its chunk number in the grid. */
  private place(t: number): number {
    const r = this.region;
    const g = this.grid;
    boxBlock(this.spec.box, t, r.index);
    let k = 0;
    for (let d = 0; d < r.index.length; d++) {
      const b = r.index[d]!;
      r.start[d] = g.starts[d]![b]!;
      r.shape[d] = g.chunks[d]![b]!;
      k = k * g.numblocks[d]! + b;
    }
    return k;
  }

  /** Runs tasks [start, end). Throws with `.task` set to the failing task. */
  run(start: number, end: number): void {
    runEach(start, end, (t) => this.runTask(t));
  }

  private runTask(t: number): void {
    const k = this.place(t);
    const r = this.region;
    const buf = this.ctx.memory.buffer;
    if (this.spec.partials.length) {
      const f = new Float64Array(buf);
      this.spec.partials.forEach((p, i) => {
        // the partial buffer's chunk k belongs to the region's chunk k (its component axis has one block)
        const n = partialElems(p.axes, r.shape);
        const at = f[this.partialTables[i]! + k]! / 8;
        for (let c = 0; c < p.components; c++) f.fill(p.init[Math.min(c, p.init.length - 1)]!, at + c * n, at + (c + 1) * n);
      });
    }
    if (this.spec.carries.length) this.startCarries(k, buf);
    if (this.streams.length) {
      try {
        return this.runSlabs(k);
      } finally {
        for (const s of this.streams) s.reader.close(); // (the task's chunk files)
      }
    }
    const geom = this.geometry.of(r, k, this.spec.mergeRows);
    if (geom.rowLen === 0) return;
    this.area.write(buf, this.spec.template, geom, this.spec.tile, this.spec.grid.shape.length);
    const rc = this.ctx.kernels.run(this.ctx.areas.program);
    if (rc !== RC.OK) throw new ComputeError("KERNEL_FAILED", `the ${this.ctx.kernels.name} kernel refused a program (code ${rc})`);
  }

  /**
   * A task with streamed slots runs its program slab by slab: each slab (whole rows of the region along
   * the outermost axis whose rows fit the window, one index at a time along the axes before it) is read
   * into the windows, then computed while it is in cache. The partials carry over from slab to slab, and
   * rows are not merged in reducing layers, so every accumulator sees the same tiles in the same order as
   * in one run over the region: the same bits. (When a row itself is larger than the window, slabs are
   * whole tiles of it: plan/stream-reads.ts streams only when a tile fits.)
   */
  private runSlabs(k: number): void {
    const r = this.region;
    const nd = r.shape.length;
    const slab = this.slab;
    const bytes = Math.max(...this.streams.map((s) => s.bytes));
    // the slab axis: the outermost one whose rows (the extents after it) fit the window
    let axis = 0;
    let rowElems = 1;
    for (let d = 0; d < nd; d++) rowElems *= r.shape[d]!;
    if (rowElems === 0) return;
    while (axis < nd - 1 && (rowElems / r.shape[axis]!) * bytes > STREAM_WINDOW_BYTES) rowElems /= r.shape[axis++]!;
    rowElems /= r.shape[axis]!;
    let step = Math.max(1, Math.floor(STREAM_WINDOW_BYTES / (rowElems * bytes)));
    let innermost = axis;
    for (let d = nd - 1; d > axis; d--) if (r.shape[d]! > 1) innermost = d;
    if (innermost === axis && step < r.shape[axis]!) step = Math.max(this.spec.tile, step - (step % this.spec.tile)); // slabs of whole tiles of a row
    for (let d = 0; d < nd; d++) {
      slab.start[d] = r.start[d]!;
      slab.shape[d] = d < axis ? 1 : r.shape[d]!;
    }
    const buf = this.ctx.memory.buffer;
    for (;;) {
      for (let j = 0; j < r.shape[axis]!; j += step) {
        slab.start[axis] = r.start[axis]! + j;
        slab.shape[axis] = Math.min(step, r.shape[axis]! - j);
        let n = 1;
        for (let d = 0; d < nd; d++) n *= slab.shape[d]!;
        for (const s of this.streams) {
          s.reader.read(slab.start, slab.shape, typedArrayFor(s.dtype, buf, s.window, n));
          this.geometry.setStreamBase(s.slot, s.window);
        }
        const geom = this.geometry.of(slab, k, this.spec.mergeRows, r);
        if (geom.rowLen === 0) continue;
        this.area.write(buf, this.spec.template, geom, this.spec.tile, nd);
        const rc = this.ctx.kernels.run(this.ctx.areas.program);
        if (rc !== RC.OK) throw new ComputeError("KERNEL_FAILED", `the ${this.ctx.kernels.name} kernel refused a program (code ${rc})`);
      }
      // the next index along the axes before the slab axis
      let d = axis - 1;
      while (d >= 0 && ++slab.start[d]! === r.start[d]! + r.shape[d]!) slab.start[d] = r.start[d--]!;
      if (d < 0) return;
    }
  }

  /**
   * A scan task starts where the block before it along the scan axis ended: its carry chunk k is a copy of
   * that block's (which the plan made it read), or the scan's identity for the first block.
   */
  private startCarries(k: number, buf: ArrayBufferLike): void {
    const r = this.region;
    const tables = new Float64Array(buf);
    this.spec.carries.forEach((c, i) => {
      const at = this.carryAt[i]!;
      const n = partialElems([c.axis], r.shape);
      const dst = tables[at.table + k]!;
      if (r.index[c.axis]! > 0) {
        const src = tables[at.table + k - at.blockStride]!;
        new Uint8Array(buf, dst, n * at.bytes).set(new Uint8Array(buf, src, n * at.bytes));
      } else if (at.bytes === 4) new Float32Array(buf, dst, n).fill(c.init);
      else new Float64Array(buf, dst, n).fill(c.init);
    });
  }
}
