/**
 * Progress on a stream: a live one-line bar on a TTY; elsewhere (a pipe, a batch job's log file) a plain
 * line at every tenth of the work, so logs show progress without carriage-return noise.
 */
import type { ProgressEvent } from "./run-on-pool.js";

export function progressBar(stream: NodeJS.WriteStream): { update: (e: ProgressEvent) => void; done: () => void } {
  const tty = stream.isTTY === true;
  let last = 0;
  let drawn = false;
  let logged = ""; // the last stage/decile written in log mode
  const stageOf = (e: ProgressEvent) => (e.stages > 1 ? ` stage ${e.stage}/${e.stages}` : "");
  return {
    update(e) {
      const frac = e.total ? e.done / e.total : 1;
      if (!tty) {
        const key = `${e.stage}:${Math.floor(frac * 10)}`;
        if (key === logged) return;
        logged = key;
        stream.write(`progress: ${(frac * 100).toFixed(0).padStart(3)}% ${e.done}/${e.total} chunks${stageOf(e)} ${e.elapsed.toFixed(1)}s\n`);
        return;
      }
      const now = performance.now();
      if (now - last < 100 && e.done < e.total) return;
      last = now;
      const width = 30;
      const fill = Math.round(frac * width);
      stream.write(`\r[${"#".repeat(fill)}${"-".repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${e.done}/${e.total} chunks${stageOf(e)} ${e.elapsed.toFixed(1)}s`);
      drawn = true;
    },
    /** ends the bar's line (call before printing anything else); idempotent */
    done() {
      if (drawn) stream.write("\n");
      drawn = false;
    },
  };
}
