/**
 * Who is at fault when a worker cannot fetch chunks from another. One failure alone says little (the
 * holder may have just died: its loss is noticed by its own connection). A holder that two workers
 * could not fetch from is dropped (its chunks recomputed); a worker that could not fetch from two holders
 * that others reach is dropped instead (it cannot reach its peers: a wrong --interface?). Failures older
 * than 30 s, or involving workers gone since, are forgotten.
 */
const MEMORY_MS = 30_000;
/** Work whose inputs could not be fetched from a worker still connected waits this long before it is handed out again. */
export const FETCH_RETRY_MS = 1000;

export type FetchVerdict = { drop: "holder"; by: number[] } | { drop: "fetcher"; from: number[] } | null;

export class FetchFailures {
  private failures: { by: number; from: number; at: number }[] = [];

  /** Worker `by` could not fetch from worker `from`; `alive(id)`: whether a worker is still in. */
  record(by: number, from: number, alive: (id: number) => boolean, now = Date.now()): FetchVerdict {
    this.failures = this.failures.filter((f) => now - f.at < MEMORY_MS && alive(f.from) && alive(f.by));
    this.failures.push({ by, from, at: now });
    const byHolder = new Set(this.failures.filter((f) => f.from === from).map((f) => f.by));
    const byFetcher = new Set(this.failures.filter((f) => f.by === by).map((f) => f.from));
    if (alive(from) && byHolder.size >= 2) return { drop: "holder", by: [...byHolder] };
    if (byFetcher.size >= 2) return { drop: "fetcher", from: [...byFetcher] };
    return null;
  }
}
