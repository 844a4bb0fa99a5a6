/** What the dashboard shows of each live worker of a cluster, from the scheduler's books. */
import type { ClusterRun } from "./cluster-run.js";
import type { WorkerConn } from "./worker-conn.js";
import type { WorkerInfo } from "./worker-registry.js";

export interface WorkerState {
  info: WorkerInfo;
  /** tasks of its batches in flight */
  running: number;
  /** bytes and chunks of computes still going that the scheduler knows it holds */
  bytes: number;
  chunks: number;
  /** when its connection last carried anything (ms since the epoch) */
  lastHeard: number;
  retiring: boolean;
}

export function workerStates(workers: Iterable<WorkerConn>, runs: Iterable<ClusterRun>): WorkerState[] {
  const live = [...runs];
  const chunks = new Map<number, number>();
  for (const run of live) {
    for (let c = 0; c < run.holder.length; c++) if (run.holder[c]! > 0 && !run.gone[c]) chunks.set(run.holder[c]!, (chunks.get(run.holder[c]!) ?? 0) + 1);
    for (const list of run.copies.values()) for (const w of list) chunks.set(w, (chunks.get(w) ?? 0) + 1);
  }
  return [...workers].map((w) => {
    let bytes = 0;
    let running = 0;
    for (const run of live) {
      bytes += run.heldBytes.get(w.id) ?? 0;
      for (const b of run.batches.values()) if (b.worker === w.id) running += b.end - b.start;
    }
    return { info: { ...w.info }, running, bytes, chunks: chunks.get(w.id) ?? 0, lastHeard: w.link.lastHeard, retiring: w.retiring !== null };
  });
}
