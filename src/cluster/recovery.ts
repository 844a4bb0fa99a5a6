/**
 * Lineage: what a run does when a worker is lost. The worker's running tasks wait again (each counts the
 * death against it: a task that was running on ALLOWED_FAILURES workers that died fails the run with
 * KILLED_WORKER). The chunks it alone held are gone; every one still needed (a task not done reads it, or
 * it is an output not gathered) is recomputed: the tasks of its write group (placement.ts: they write the
 * same memory, so they are redone together) wait again, and each chunk they read that exists nowhere any
 * more (released after its last reader, or lost too) has its own group redone, and so on back to the
 * inputs, which the client holds. Then every count is rebuilt from the tasks' states. The tasks and the
 * combine order are the plan's, so the recomputed result is the same bit for bit.
 */
import { ClusterError } from "../errors.js";
import { ALLOWED_FAILURES, NOBODY, TaskState, type ClusterRun } from "./cluster-run.js";

/**
 * Recovers `run` from the loss of worker `lost` (`why`: how it was lost, for the error). Returns how many
 * done tasks are to run again.
 */
export function recoverFromLoss(run: ClusterRun, lost: number, why: string): number {
  if (run.over) return 0;
  let redone = 0;
  const g = run.graph;
  // 1. its batches: their tasks wait again, suspected
  let killer: number | null = null;
  for (const [id, b] of [...run.batches]) {
    if (b.worker !== lost) continue;
    run.batches.delete(id);
    const base = g.layerBase[b.layer]!;
    for (let t = b.start; t < b.end; t++) {
      const i = base + t;
      run.state[i] = TaskState.Waiting;
      if (++run.suspicious[i]! >= ALLOWED_FAILURES && killer === null) killer = i;
    }
  }
  if (killer !== null) {
    run.fail(
      new ClusterError(
        "KILLED_WORKER",
        `${run.describe(killer)} was running on ${ALLOWED_FAILURES} workers that died (the last: worker ${lost}, ${why}): it is taken to kill its worker (dask's allowed-failures)`,
      ),
    );
    return 0;
  }
  // 2. what it held: copies elsewhere stand in for it
  for (const [c, list] of run.copies) {
    const i = list.indexOf(lost);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) run.copies.delete(c);
  }
  // groups that lost memory: those homed there, and those whose chunks it held (a copy promoted earlier)
  const touched = new Set<number>();
  for (let c = 0; c < g.chunkCount; c++) {
    if (run.holder[c] !== lost) continue;
    const other = run.copies.get(c);
    run.holder[c] = other?.length ? other.shift()! : NOBODY;
    if (other && !other.length) run.copies.delete(c);
    if (run.holder[c] === NOBODY && run.groups.chunkGroup[c]! >= 0) touched.add(run.groups.chunkGroup[c]!);
  }
  for (let grp = 0; grp < run.groups.count; grp++) {
    if (run.groupHome[grp] !== lost) continue;
    run.groupHome[grp] = NOBODY;
    touched.add(grp);
  }
  // 3. groups homed there lose their memory: redo those whose chunks are still needed or half written
  const redo = new Uint8Array(run.groups.count);
  const work: number[] = [];
  const mark = (grp: number) => {
    if (grp < 0 || redo[grp]) return;
    redo[grp] = 1;
    work.push(grp);
  };
  for (const grp of touched) {
    let done = 0;
    let notDone = 0;
    for (let x = run.groupTaskStart[grp]!; x < run.groupTaskStart[grp + 1]!; x++) {
      if (run.state[run.groupTasks[x]!] === TaskState.Done) done++;
      else notDone++;
    }
    let wanted = false;
    for (let x = run.groupChunkStart[grp]!; x < run.groupChunkStart[grp + 1]!; x++) {
      const c = run.groupChunks[x]!;
      if (!run.gone[c] && run.holder[c] === NOBODY && run.readersLeft[c]! > 0) wanted = true;
    }
    if (done > 0 && (notDone > 0 || wanted)) mark(grp);
  }
  while (work.length) {
    const grp = work.pop()!;
    // its chunks are written again (on its next home); stale copies go
    for (let x = run.groupChunkStart[grp]!; x < run.groupChunkStart[grp + 1]!; x++) {
      const c = run.groupChunks[x]!;
      run.gone[c] = 0;
      const h = run.holder[c]!;
      if (h > 0 && h !== run.groupHome[grp]) {
        releaseAt(run, h, c);
        run.holder[c] = NOBODY;
      }
      for (const w of run.copies.get(c) ?? []) releaseAt(run, w, c);
      run.copies.delete(c);
    }
    for (let x = run.groupTaskStart[grp]!; x < run.groupTaskStart[grp + 1]!; x++) {
      const i = run.groupTasks[x]!;
      if (run.state[i] !== TaskState.Done) continue;
      run.state[i] = TaskState.Waiting;
      redone++;
      // what it reads must exist again
      for (let r = g.readStart[i]!; r < g.readStart[i + 1]!; r++) {
        const c = g.reads[r]!;
        if (run.isInput[c]) continue;
        const grpC = run.groups.chunkGroup[c]!;
        if (redo[grpC]) continue;
        const exists = !run.gone[c] && (run.holder[c]! > 0 || (run.copies.get(c)?.length ?? 0) > 0);
        let beingWritten = false;
        for (let x = run.writerStart[c]!; x < run.writerStart[c + 1]!; x++) if (run.state[run.writers[x]!] !== TaskState.Done) beingWritten = true;
        if (!exists && !beingWritten) mark(grpC);
      }
    }
  }
  // 4. counts from the states
  run.rebuild();
  run.recountHeld();
  return redone;
}

function releaseAt(run: ClusterRun, w: number, c: number): void {
  let b = run.outbox.get(w);
  if (!b) run.outbox.set(w, (b = { release: [], send: [] }));
  b.release.push(c);
}
