/**
 * A plan's tasks as a graph over chunks: every task's reads and writes as global chunk numbers (compact
 * arrays, no per-task objects), and which tasks the plan's results need. A task is needed when it
 * writes a chunk of an output, writes to storage (a sink), or writes a chunk a needed task reads; the
 * others are culled, as dask culls its graph: `loadNpy(p).get(slice(0, 10)).sum()` reads only the
 * chunks holding those rows, and a damaged chunk elsewhere in the file is never touched.
 *
 * The run of a plan (scheduler/plan-run.ts) and a rank's share of it (scheduler/ranks.ts) are built
 * from the same graph, so every rank culls the same tasks.
 */
import { Grid } from "../grid.js";
import { LayerTasks, storageOf } from "./tasks.js";
import type { Plan } from "./types.js";

export class TaskGraph {
  readonly tasks: LayerTasks[];
  /** global number of layer l's first task */
  readonly layerBase: number[] = [];
  /** global number of buffer b's first chunk (an alias shares its storage's) */
  readonly chunkBase: number[] = [];
  /** per global chunk: its storage buffer and its index there */
  readonly chunkBuffer: Int32Array;
  readonly chunkIndex: Int32Array;
  /** task i reads chunks reads[readStart[i] .. readStart[i + 1]) (a chunk read through two slots twice) */
  readonly readStart: Int32Array;
  readonly reads: Int32Array;
  readonly writeStart: Int32Array;
  readonly writes: Int32Array;
  /** 1 for the tasks the outputs need */
  readonly needed: Uint8Array;
  readonly taskCount: number;
  readonly chunkCount: number;

  constructor(readonly plan: Plan) {
    this.tasks = plan.layers.map((l) => new LayerTasks(plan, l));
    let nt = 0;
    for (const t of this.tasks) {
      this.layerBase.push(nt);
      nt += t.count;
    }
    let nc = 0;
    for (const b of plan.buffers) {
      this.chunkBase.push(b.alias !== undefined ? -1 : nc);
      if (b.alias === undefined) nc += new Grid(b).nchunks;
    }
    plan.buffers.forEach((b) => {
      if (b.alias !== undefined) this.chunkBase[b.id] = this.chunkBase[storageOf(plan, b.id)]!;
    });
    this.taskCount = nt;
    this.chunkCount = nc;
    this.chunkBuffer = new Int32Array(nc);
    this.chunkIndex = new Int32Array(nc);
    for (const b of plan.buffers) {
      if (b.alias !== undefined) continue;
      const base = this.chunkBase[b.id]!;
      const n = new Grid(b).nchunks;
      for (let k = 0; k < n; k++) {
        this.chunkBuffer[base + k] = b.id;
        this.chunkIndex[base + k] = k;
      }
    }
    // counted, then filled (no per-task allocation)
    this.readStart = new Int32Array(nt + 1);
    this.writeStart = new Int32Array(nt + 1);
    let nr = 0;
    let nw = 0;
    const countRead = () => void nr++;
    const countWrite = () => void nw++;
    let g = 0;
    for (const lt of this.tasks) {
      for (let t = 0; t < lt.count; t++, g++) {
        this.readStart[g] = nr;
        this.writeStart[g] = nw;
        lt.visit(t, countRead, countWrite);
      }
    }
    this.readStart[nt] = nr;
    this.writeStart[nt] = nw;
    this.reads = new Int32Array(nr);
    this.writes = new Int32Array(nw);
    const base = this.chunkBase;
    let ri = 0;
    let wi = 0;
    const fillRead = (b: number, c: number) => void (this.reads[ri++] = base[b]! + c);
    const fillWrite = (b: number, c: number) => void (this.writes[wi++] = base[b]! + c);
    for (const lt of this.tasks) for (let t = 0; t < lt.count; t++) lt.visit(t, fillRead, fillWrite);
    this.needed = this.cull();
  }

  /** Global number of task t of layer l. */
  task(l: number, t: number): number {
    return this.layerBase[l]! + t;
  }

  isNeeded(l: number, t: number): boolean {
    return this.needed[this.layerBase[l]! + t] === 1;
  }

  /** Tasks the outputs need: back from the outputs and sinks, through the writers of every chunk read. */
  private cull(): Uint8Array {
    const nt = this.taskCount;
    const nc = this.chunkCount;
    // chunk -> its writers (CSR)
    const writerStart = new Int32Array(nc + 1);
    for (const c of this.writes) writerStart[c + 1]!++;
    for (let c = 0; c < nc; c++) writerStart[c + 1]! += writerStart[c]!;
    const writers = new Int32Array(this.writes.length);
    const fill = writerStart.slice(0, nc);
    for (let i = 0; i < nt; i++) for (let w = this.writeStart[i]!; w < this.writeStart[i + 1]!; w++) writers[fill[this.writes[w]!]!++] = i;
    const chunkWanted = new Uint8Array(nc);
    for (const o of this.plan.outputs) {
      const b = storageOf(this.plan, o.buffer);
      const base = this.chunkBase[b]!;
      const n = new Grid(this.plan.buffers[b]!).nchunks;
      for (let k = 0; k < n; k++) chunkWanted[base + k] = 1;
    }
    const needed = new Uint8Array(nt);
    const stack: number[] = [];
    const want = (i: number) => {
      if (needed[i]) return;
      needed[i] = 1;
      stack.push(i);
    };
    this.plan.layers.forEach((layer, l) => {
      if (layer.kind === "write") for (let t = 0; t < this.tasks[l]!.count; t++) want(this.layerBase[l]! + t);
    });
    for (let c = 0; c < nc; c++) if (chunkWanted[c]) for (let w = writerStart[c]!; w < writerStart[c + 1]!; w++) want(writers[w]!);
    while (stack.length) {
      const i = stack.pop()!;
      for (let r = this.readStart[i]!; r < this.readStart[i + 1]!; r++) {
        const c = this.reads[r]!;
        if (chunkWanted[c]) continue;
        chunkWanted[c] = 1;
        for (let w = writerStart[c]!; w < writerStart[c + 1]!; w++) want(writers[w]!);
      }
    }
    return needed;
  }
}
