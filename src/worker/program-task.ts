/**
 * Runs the tasks of a program layer in this thread: per task, initialize its reduction accumulators, then
 * run the fused program over the task's region. Used by the worker threads and, for eager NDArray
 * operations, by any thread directly.
 */
import { ComputeError } from "../errors.js";
import { Grid, boxBlock } from "../grid.js";
import { RC } from "../kernels/abi.js";
import { programLayout, writeProgram } from "../kernels/program.js";
import type { Kernels } from "../kernels/wasm.js";
import { SlotResolver, partialElems, regionGeometry, type Region } from "./geometry.js";
import type { ProgramTaskSpec, WorkerAreas } from "./messages.js";

/** What a thread needs to run kernels: its memory, its kernel instance and its fixed areas. */
export interface ExecContext {
  memory: WebAssembly.Memory;
  kernels: Kernels;
  areas: WorkerAreas;
}

export class ProgramTasks {
  private readonly grid: Grid;
  private readonly resolver: SlotResolver;

  constructor(
    readonly spec: ProgramTaskSpec,
    private readonly ctx: ExecContext,
  ) {
    this.grid = new Grid(spec.grid);
    this.resolver = new SlotResolver(() => ctx.memory.buffer);
    const t = spec.template;
    const bytes = programLayout(spec.grid.shape.length, t.slotKinds.length, t.code.length, t.consts.length).bytes;
    if (bytes > ctx.areas.programBytes) {
      throw new ComputeError("TOO_LARGE", `a fused program needs ${bytes} bytes, more than the ${ctx.areas.programBytes} reserved`);
    }
  }

  /** The region of task t: a block of the layer's box. */
  region(t: number): Region {
    const index = boxBlock(this.spec.box, t);
    const g = this.grid;
    return { index, start: index.map((b, d) => g.starts[d]![b]!), shape: index.map((b, d) => g.chunks[d]![b]!) };
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
    const r = this.region(t);
    const buf = this.ctx.memory.buffer;
    for (const p of this.spec.partials) {
      const n = partialElems(p.axes, r.shape);
      const k = this.resolver.grid(p.buffer).chunkIndex([0, ...r.index]);
      const f = new Float64Array(buf, this.resolver.chunkAddress(p.buffer, k), n * p.init.length);
      p.init.forEach((v, c) => f.fill(v, c * n, (c + 1) * n));
    }
    const geom = regionGeometry(this.spec.slots, r, this.resolver, this.spec.mergeRows);
    if (geom.rowLen === 0) return;
    const a = this.ctx.areas;
    writeProgram(this.ctx.memory.buffer, a.program, this.spec.template, geom, this.spec.tile, a.regs, a.scratch);
    const rc = this.ctx.kernels.run(a.program);
    if (rc !== RC.OK) throw new ComputeError("KERNEL_FAILED", `the ${this.ctx.kernels.name} kernel refused a program (code ${rc})`);
  }
}
