/**
 * Under several ranks (`run.js --dashboard` with --np or srun) rank 0 serves the dashboard and every
 * other rank reports to it a few times a second: its row, its runs' progress, the bars that finished and
 * the errors since its last report, and what runs now. Reports travel on the public World API (send and
 * recv with a reserved tag), so nothing in the rank layer knows the dashboard.
 *
 * Rank 0 waits for each rank's next report as a recv does, which the collective timeout bounds: reports
 * come at least four times per that timeout (`intervalMs`), and the last one says it is the last.
 */
import type { World } from "../comm/world.js";
import type { ErrorRow, RunRow, WorkerRow } from "./snapshot.js";
import type { EngineSource, ReportedSource } from "./sources.js";
import type { NamedBar, Stream } from "./stream.js";

/** The tag of dashboard reports (below the rank layer's chunk-transfer tags; far above what scripts use). */
export const REPORT_TAG = 0x3fff_fff0;

export interface Report {
  row: WorkerRow;
  runs: RunRow[];
  running: NamedBar[];
  bars: NamedBar[];
  errors: ErrorRow[];
  totals: { tasksDone: number; tasksFailed: number };
  last: boolean;
}

/** A rank other than 0: reports every `intervalMs` until stop() (which sends the last report). */
export function reportToRankZero(world: World, source: EngineSource, stream: Stream, intervalMs: number): { stop(): Promise<void> } {
  let seq = 0;
  let errors = 0;
  let broken = false;
  let sending: Promise<void> = Promise.resolve();
  const report = (last: boolean): Report => {
    const bars = stream.since(seq).map((b) => ({ ...b, lane: stream.lanes[b.lane] ?? "" }) as NamedBar & { seq?: number });
    seq = stream.lastSeq;
    for (const b of bars) delete b.seq;
    const fresh = stream.errorsAfter(errors);
    errors = stream.errorCount;
    return { row: source.workers()[0]!, runs: source.runs(), running: source.runningBars(), bars, errors: fresh, totals: source.totals(), last };
  };
  const send = (last: boolean) => {
    if (broken) return sending;
    // one report at a time: a slow link skips beats rather than queueing them
    sending = sending.then(() => world.send(report(last), 0, REPORT_TAG)).catch(() => {
      broken = true; // the world closed or broke: its own error says why
    });
    return sending;
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void send(false).finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  void send(false);
  return {
    async stop() {
      clearInterval(timer);
      await send(true);
    },
  };
}

/** Rank 0: takes every other rank's reports into its source (`sources[r]` for rank r) and the stream. */
export function collectReports(world: World, sources: Map<number, ReportedSource>, stream: Stream): { done: Promise<void> } {
  const loops = [...sources].map(async ([rank, src]) => {
    for (;;) {
      let r: Report;
      try {
        r = await world.recv<Report>(rank, REPORT_TAG);
      } catch {
        return; // the world closed (or that rank left): no more reports
      }
      src.update(r, Date.now());
      for (const b of r.bars) stream.add(b);
      for (const e of r.errors) stream.addError(e);
      if (r.last) return;
    }
  });
  return { done: Promise.all(loops).then(() => {}) };
}
