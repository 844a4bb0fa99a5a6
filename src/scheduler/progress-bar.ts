/** A one-line progress bar for a TTY stream; silent when the stream is not a TTY. */
import type { ProgressEvent } from "./local.js";

export function progressBar(stream: NodeJS.WriteStream): { update: (e: ProgressEvent) => void; done: () => void } {
  const tty = stream.isTTY === true;
  let last = 0;
  let drawn = false;
  return {
    update(e) {
      if (!tty) return;
      const now = performance.now();
      if (now - last < 100 && e.done < e.total) return;
      last = now;
      const width = 30;
      const frac = e.total ? e.done / e.total : 1;
      const fill = Math.round(frac * width);
      const stage = e.stages > 1 ? ` stage ${e.stage}/${e.stages}` : "";
      stream.write(`\r[${"#".repeat(fill)}${"-".repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${e.done}/${e.total} chunks${stage} ${e.elapsed.toFixed(1)}s`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write("\n");
    },
  };
}
