/**
 * The task stream and the errors, bounded: lanes by name, finished bars in a ring (each with a sequence
 * number so a page asks only for the ones it has not seen), the bars running now per source, and the
 * latest errors.
 */
import { LIMITS, type Bar, type ErrorRow } from "./snapshot.js";

/** A bar as sources hand it in: its lane by name (the store numbers lanes). */
export type NamedBar = Omit<Bar, "seq" | "lane"> & { lane: string };

export class Stream {
  readonly lanes: string[] = [];
  private readonly laneIndex = new Map<string, number>();
  private readonly ring: Bar[] = [];
  private head = 0;
  private seq = 0;
  private readonly running = new Map<string, Bar[]>();
  readonly errors: ErrorRow[] = [];
  private errorSeq = 0;

  lane(name: string): number {
    let i = this.laneIndex.get(name);
    if (i === undefined) {
      if (this.lanes.length >= LIMITS.lanes) return this.lanes.length - 1; // the last lane takes the rest
      i = this.lanes.length;
      this.lanes.push(name);
      this.laneIndex.set(name, i);
    }
    return i;
  }

  /** A finished bar. */
  add(b: NamedBar): void {
    const bar: Bar = { ...b, seq: ++this.seq, lane: this.lane(b.lane) };
    if (this.ring.length < LIMITS.bars) this.ring.push(bar);
    else {
      this.ring[this.head] = bar;
      this.head = (this.head + 1) % LIMITS.bars;
    }
  }

  /** The bars running now at `source` (replacing what it said before). */
  setRunning(source: string, bars: readonly NamedBar[]): void {
    if (bars.length === 0) this.running.delete(source);
    else this.running.set(source, bars.map((b) => ({ ...b, seq: 0, lane: this.lane(b.lane) })));
  }

  /** Finished bars newer than `since`, oldest first. */
  since(since = 0): Bar[] {
    const out: Bar[] = [];
    const n = this.ring.length;
    for (let k = 0; k < n; k++) {
      const b = this.ring[(this.head + k) % n]!;
      if (b.seq > since) out.push(b);
    }
    return out;
  }

  runningBars(): Bar[] {
    return [...this.running.values()].flat();
  }

  get lastSeq(): number {
    return this.seq;
  }

  addError(e: ErrorRow): void {
    this.errors.push(e);
    this.errorSeq++;
    if (this.errors.length > LIMITS.errors) this.errors.shift();
  }

  /** Errors added after the first `count` (for a rank's report: what rank 0 has not had yet). */
  errorsAfter(count: number): ErrorRow[] {
    const fresh = this.errorSeq - count;
    return fresh <= 0 ? [] : this.errors.slice(-Math.min(fresh, this.errors.length));
  }

  get errorCount(): number {
    return this.errorSeq;
  }
}
