/**
 * The stderr lines of refused connections, rate-limited: anyone who can reach a rank's port can make it
 * refuse connections as fast as it can open them, and a line each would flood the job's log (srun merges
 * every rank's stderr). The first few are written as they come; after that, one line per interval says how
 * many more were refused and gives the latest.
 */
export class RefusalLog {
  private written = 0;
  private suppressed = 0;
  private latest = "";
  private since = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (line: string) => void,
    private readonly burst = 5,
    private readonly intervalMs = 10_000,
  ) {}

  note(line: string): void {
    if (this.written < this.burst) {
      this.written++;
      this.write(this.written === this.burst ? `${line} (further refusals are summed up every ${this.intervalMs / 1000} s)` : line);
      return;
    }
    if (this.suppressed === 0) this.since = Date.now();
    this.suppressed++;
    this.latest = line;
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes the summary of the refusals not written yet, if any. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.suppressed === 0) return;
    const s = ((Date.now() - this.since) / 1000).toFixed(1);
    this.write(`tessera: ${this.suppressed} more connection${this.suppressed === 1 ? "" : "s"} refused in ${s} s; the latest: ${this.latest.replace(/^tessera: /, "")}`);
    this.suppressed = 0;
  }
}
