/**
 * The fixed shape of a cluster run, derived once from its task graph: per chunk its bytes, whether it is
 * an input, its readers and writers (needed tasks only: culled ones never run), the write groups
 * (placement.ts) with their tasks and chunks, and per layer whether its tasks run in worker threads and
 * the bytes a task writes. The run's changing state (cluster-run.ts) is kept beside it.
 */
import { boxBlock } from "../grid.js";
import type { TaskGraph } from "../plan/task-graph.js";
import { WriteGroups } from "./placement.js";
import type { RunData } from "./run-data.js";

/** Compressed rows: for each of n keys, the values `fill(add)` adds, in key order. */
function csr(n: number, count: (add: (key: number) => void) => void, fill: (add: (key: number, value: number) => void) => void): [Int32Array, Int32Array] {
  const start = new Int32Array(n + 1);
  count((k) => void start[k + 1]!++);
  for (let k = 0; k < n; k++) start[k + 1]! += start[k]!;
  const values = new Int32Array(start[n]!);
  const at = start.slice(0, n);
  fill((k, v) => void (values[at[k]!++] = v));
  return [start, values];
}

export class RunIndex {
  readonly groups: WriteGroups;
  readonly bytes: Float64Array;
  readonly isInput: Uint8Array;
  /** readers of each chunk (needed tasks, one entry per read), CSR */
  readonly readerStart: Int32Array;
  readonly readers: Int32Array;
  /** writers of each chunk (needed tasks), CSR */
  readonly writerStart: Int32Array;
  readonly writers: Int32Array;
  /** tasks of each write group (needed ones), CSR; chunks of each group, CSR */
  readonly groupTaskStart: Int32Array;
  readonly groupTasks: Int32Array;
  readonly groupChunkStart: Int32Array;
  readonly groupChunks: Int32Array;
  readonly layerBase: number[];
  /** per layer: its tasks run in worker threads (program, mapBlocks, read, write), not on a main thread */
  readonly workerLayer: boolean[];
  /** per layer: bytes of the chunks its first task writes */
  readonly layerWriteBytes: number[];
  /** needed tasks of worker layers (what progress counts) */
  readonly total: number;

  constructor(
    readonly graph: TaskGraph,
    readonly data: RunData,
  ) {
    const plan = graph.plan;
    const nt = graph.taskCount;
    const nc = graph.chunkCount;
    const needed = graph.needed;
    this.groups = new WriteGroups(graph);
    this.layerBase = graph.layerBase;
    this.bytes = new Float64Array(nc);
    this.isInput = new Uint8Array(nc);
    for (let c = 0; c < nc; c++) {
      this.bytes[c] = data.chunkBytes(c);
      if (data.isInput(c)) this.isInput[c] = 1;
    }
    const eachNeeded = (fn: (i: number) => void) => {
      for (let i = 0; i < nt; i++) if (needed[i]) fn(i);
    };
    [this.readerStart, this.readers] = csr(
      nc,
      (add) => eachNeeded((i) => {
        for (let r = graph.readStart[i]!; r < graph.readStart[i + 1]!; r++) add(graph.reads[r]!);
      }),
      (add) => eachNeeded((i) => {
        for (let r = graph.readStart[i]!; r < graph.readStart[i + 1]!; r++) add(graph.reads[r]!, i);
      }),
    );
    [this.writerStart, this.writers] = csr(
      nc,
      (add) => eachNeeded((i) => {
        for (let w = graph.writeStart[i]!; w < graph.writeStart[i + 1]!; w++) add(graph.writes[w]!);
      }),
      (add) => eachNeeded((i) => {
        for (let w = graph.writeStart[i]!; w < graph.writeStart[i + 1]!; w++) add(graph.writes[w]!, i);
      }),
    );
    const tg = this.groups.taskGroup;
    const cg = this.groups.chunkGroup;
    [this.groupTaskStart, this.groupTasks] = csr(
      this.groups.count,
      (add) => eachNeeded((i) => tg[i]! >= 0 && add(tg[i]!)),
      (add) => eachNeeded((i) => tg[i]! >= 0 && add(tg[i]!, i)),
    );
    [this.groupChunkStart, this.groupChunks] = csr(
      this.groups.count,
      (add) => {
        for (let c = 0; c < nc; c++) if (cg[c]! >= 0) add(cg[c]!);
      },
      (add) => {
        for (let c = 0; c < nc; c++) if (cg[c]! >= 0) add(cg[c]!, c);
      },
    );
    this.workerLayer = plan.layers.map((layer) => layer.kind !== "combine" && layer.kind !== "take");
    this.layerWriteBytes = plan.layers.map((_, l) => {
      const i = graph.layerBase[l]!;
      if (graph.tasks[l]!.count === 0) return 0;
      let n = 0;
      for (let w = graph.writeStart[i]!; w < graph.writeStart[i + 1]!; w++) n += this.bytes[graph.writes[w]!]!;
      return n;
    });
    let total = 0;
    eachNeeded((i) => {
      if (this.workerLayer[this.layerOf(i)]) total++;
    });
    this.total = total;
  }

  /** Global task i's layer. */
  layerOf(i: number): number {
    const base = this.layerBase;
    let lo = 0;
    let hi = base.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (base[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The block global task i computes. */
  blockOf(i: number): number[] {
    const l = this.layerOf(i);
    const t = i - this.layerBase[l]!;
    const layer = this.graph.plan.layers[l]!;
    if (layer.kind === "program") return boxBlock(layer.box, t);
    const buf = layer.kind === "mapBlocks" || layer.kind === "write" ? layer.input : layer.output;
    return this.graph.tasks[l]!.grid(buf).chunk(t).index;
  }

  /** Describes task i for messages: its number, block and layer. */
  describe(i: number): string {
    const l = this.layerOf(i);
    return `task ${i - this.layerBase[l]!} (block [${this.blockOf(i).join(", ")}]) of ${this.graph.plan.layers[l]!.label}`;
  }
}
