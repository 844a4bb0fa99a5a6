/**
 * The ready tasks of one layer as sorted, disjoint ranges [a, b): tasks usually become ready in runs
 * (a whole source layer at once, or one after another as their inputs finish), and a batch handed to a
 * worker is a range, so a million tiny tasks cost a handful of ranges, not a million entries.
 */
export class ReadyRanges {
  private starts: number[] = [];
  private ends: number[] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** Adds [a, b) (disjoint from what is there). */
  add(a: number, b: number): void {
    if (b <= a) return;
    this.n += b - a;
    const s = this.starts;
    const e = this.ends;
    // common case: appending at the end
    const last = s.length - 1;
    if (last < 0 || s[last]! < a) {
      if (last >= 0 && e[last] === a) e[last] = b;
      else {
        s.push(a);
        e.push(b);
      }
      return;
    }
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! < a) lo = mid + 1;
      else hi = mid;
    }
    // insert at lo, then merge with the neighbours
    s.splice(lo, 0, a);
    e.splice(lo, 0, b);
    if (lo + 1 < s.length && e[lo] === s[lo + 1]) {
      e[lo] = e[lo + 1]!;
      s.splice(lo + 1, 1);
      e.splice(lo + 1, 1);
    }
    if (lo > 0 && e[lo - 1] === s[lo]) {
      e[lo - 1] = e[lo]!;
      s.splice(lo, 1);
      e.splice(lo, 1);
    }
  }

  /** Takes up to `max` tasks from the first range. */
  take(max: number): [number, number] | null {
    if (!this.starts.length) return null;
    const a = this.starts[0]!;
    const b = Math.min(this.ends[0]!, a + Math.max(1, max));
    if (b === this.ends[0]) {
      this.starts.shift();
      this.ends.shift();
    } else this.starts[0] = b;
    this.n -= b - a;
    return [a, b];
  }
}
