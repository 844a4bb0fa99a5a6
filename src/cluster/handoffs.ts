/**
 * Retiring workers hand off what only they hold: a worker leaving on purpose (scale down, adaptive,
 * retire) first has the chunks only it holds that are still needed fetched by the others, then is told
 * to stop; chunks it could not hand off in time are recomputed by lineage when needed, as a lost worker's.
 */
import type { ClusterRun } from "./cluster-run.js";
import type { ToSchedulerMsg, ToWorkerMsg } from "./messages.js";
import type { WorkerConn } from "./worker-conn.js";
import type { WorkerRegistry } from "./worker-registry.js";

/** The longest a retiring worker's hand-off may take before it is stopped anyway. */
const HANDOFF_MS = 30_000;

export interface HandoffDeps {
  workers: WorkerRegistry<WorkerConn>;
  runs: Map<number, ClusterRun>;
  toWorker(w: WorkerConn, msg: ToWorkerMsg): void;
  /** tells worker w of the run (its plan, `begin`) before it fetches chunks of it */
  beginOn(w: WorkerConn, run: ClusterRun): void;
  stats: { chunksHandedOff: number };
  log(line: string): void;
}

export class Handoffs {
  private next = 1;
  private readonly pending = new Map<number, { from: number; to: number; run: number }>();

  constructor(private readonly d: HandoffDeps) {}

  /**
   * A retiring worker with nothing running hands off the chunks only it holds that are still needed
   * (other workers fetch them from it), then is told to stop; with no other worker to take them, it
   * stops at once (and its chunks are recomputed when needed). At most HANDOFF_MS is spent on it.
   */
  start(w: WorkerConn): void {
    if (w.retiring === null || w.handoffs >= 0 || w.inflight > 0) return;
    w.handoffs = 0;
    const others = [...this.d.workers.values()].filter((o) => o !== w && o.retiring === null);
    if (others.length) {
      let k = 0;
      for (const run of this.d.runs.values()) {
        const chunks = run.heldOnlyBy(w.id);
        // spread over the others, in runs of consecutive chunks
        const per = Math.ceil(chunks.length / others.length);
        for (let i = 0; i < chunks.length; i += per) {
          const to = others[k++ % others.length]!;
          const id = this.next++;
          this.pending.set(id, { from: w.id, to: to.id, run: run.id });
          w.handoffs++;
          this.d.beginOn(to, run);
          run.begun.add(to.id);
          this.d.toWorker(to, { kind: "replicate", handoff: id, run: run.id, fetch: [{ from: w.id, host: w.listenHost, port: w.listenPort, chunks: chunks.slice(i, i + per) }] });
        }
      }
    }
    if (w.handoffs === 0) return this.stop(w);
    this.d.log(`tessera scheduler: worker ${w.id} retires (${w.retiring}): handing off its chunks in ${w.handoffs} part${w.handoffs === 1 ? "" : "s"}`);
    setTimeout(() => this.stop(w), HANDOFF_MS).unref();
  }

  /** Worker w has (or could not) copied a part handed off to it; the retiring worker stops after its last part. */
  replicated(w: WorkerConn, m: Extract<ToSchedulerMsg, { kind: "replicated" }>): void {
    const h = this.pending.get(m.handoff);
    if (!h || h.to !== w.id) return;
    this.pending.delete(m.handoff);
    const run = this.d.runs.get(m.run);
    if (m.ok && run) {
      for (const c of m.chunks) run.addCopy(c, w.id);
      this.d.stats.chunksHandedOff += m.chunks.length;
    }
    const from = this.d.workers.get(h.from);
    if (from && --from.handoffs === 0) this.stop(from);
  }

  private stop(w: WorkerConn): void {
    if (this.d.workers.get(w.id) !== w) return;
    this.d.toWorker(w, { kind: "shutdown", reason: w.retiring ?? "retired" });
  }
}
