/**
 * What must run on the same worker. The writers of one chunk write into the same memory (a task grid
 * finer than the output's chunks; concatenation's boxes, layer after layer, all writing the same sinks;
 * a fused kernel writing an array chunk and its partial), so every group of tasks connected through the
 * chunks they write, and those chunks, live on one worker: the group's home, chosen when its first task
 * is assigned and kept until that worker is lost. Groups are found once per plan by union-find over the
 * chunks each task writes.
 */
import type { TaskGraph } from "../plan/task-graph.js";

export class WriteGroups {
  /** per global task: its group, or -1 when it writes no chunk (a storage write) */
  readonly taskGroup: Int32Array;
  /** per global chunk: its group, or -1 when no task writes it (an input) */
  readonly chunkGroup: Int32Array;
  readonly count: number;

  constructor(graph: TaskGraph) {
    const nc = graph.chunkCount;
    const parent = new Int32Array(nc);
    for (let c = 0; c < nc; c++) parent[c] = c;
    const find = (c: number): number => {
      while (parent[c] !== c) {
        parent[c] = parent[parent[c]!]!;
        c = parent[c]!;
      }
      return c;
    };
    const written = new Uint8Array(nc);
    for (let i = 0; i < graph.taskCount; i++) {
      const a = graph.writeStart[i]!;
      const b = graph.writeStart[i + 1]!;
      if (a === b) continue;
      const first = graph.writes[a]!;
      written[first] = 1;
      for (let w = a + 1; w < b; w++) {
        const c = graph.writes[w]!;
        written[c] = 1;
        const ra = find(first);
        const rb = find(c);
        if (ra !== rb) parent[rb] = ra;
      }
    }
    // dense group numbers
    const id = new Int32Array(nc).fill(-1);
    let n = 0;
    this.chunkGroup = new Int32Array(nc).fill(-1);
    for (let c = 0; c < nc; c++) {
      if (!written[c]) continue;
      const r = find(c);
      if (id[r]! < 0) id[r] = n++;
      this.chunkGroup[c] = id[r]!;
    }
    this.count = n;
    this.taskGroup = new Int32Array(graph.taskCount).fill(-1);
    for (let i = 0; i < graph.taskCount; i++) {
      const a = graph.writeStart[i]!;
      if (a < graph.writeStart[i + 1]!) this.taskGroup[i] = this.chunkGroup[graph.writes[a]!]!;
    }
  }
}
