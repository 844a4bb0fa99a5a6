/**
 * A rank's incoming messages, by key ("c:seq:step:src" for collectives, "p:src:tag" for point-to-point,
 * "f:seq:src" for fingerprints), and the operations waiting for them. A message nobody waits for yet is
 * queued (like MPI's unexpected messages: a send never waits for its recv); a wait for a message that has
 * not come is bounded by the collective timeout (see collective-timeout.ts), restarted by each piece of a
 * large message that arrives.
 */
import type { Payload } from "./payload.js";

interface Waiter {
  src: number;
  resolve: (p: Payload) => void;
  reject: (e: Error) => void;
  /** what is awaited, for the timeout's message (built only then) */
  what: () => string;
  timer?: NodeJS.Timeout;
}

export class Mailbox {
  private readonly queues = new Map<string, Payload[]>();
  private readonly waiters = new Map<string, Waiter[]>();
  private timeoutMs: number;
  private readonly onTimeout: (what: string) => void;

  /** `timeoutMs` 0: waits never time out; `onTimeout(what)` is told which wait timed out (it stays pending). */
  constructor(timeoutMs: number, onTimeout: (what: string) => void) {
    this.timeoutMs = timeoutMs;
    this.onTimeout = onTimeout;
  }

  /** Waits from now on (and those pending) are not timed: another bound applies (closing the world). */
  untimed(): void {
    this.timeoutMs = 0;
    for (const ws of this.waiters.values()) for (const w of ws) clearTimeout(w.timer);
  }

  /** Waits not satisfied yet. */
  get waiting(): number {
    let n = 0;
    for (const list of this.waiters.values()) n += list.length;
    return n;
  }

  /** Whether no message is here. */
  get empty(): boolean {
    return this.queues.size === 0;
  }

  /** Whether the message `key` is here, waiting for its wait. */
  has(key: string): boolean {
    return (this.queues.get(key)?.length ?? 0) > 0;
  }

  deliver(key: string, p: Payload): void {
    const ws = this.waiters.get(key);
    if (ws && ws.length) {
      const w = ws.shift()!;
      if (ws.length === 0) this.waiters.delete(key);
      clearTimeout(w.timer);
      w.resolve(p);
      return;
    }
    const q = this.queues.get(key);
    if (q) q.push(p);
    else this.queues.set(key, [p]);
  }

  /** Part of the message `key` arrived: its waits start again. */
  progress(key: string): void {
    for (const w of this.waiters.get(key) ?? []) this.arm(w);
  }

  /** The message `key` if it is here (taken), else undefined. */
  takeNow(key: string): Payload | undefined {
    const q = this.queues.get(key);
    if (!q || q.length === 0) return undefined;
    const p = q.shift()!;
    if (q.length === 0) this.queues.delete(key);
    return p;
  }

  /** The message `key` from `src`: at once when queued, else (unless `refuse()` gives an error) when it comes. */
  wait(key: string, src: number, what: () => string, refuse: () => Error | null): Promise<Payload> {
    const q = this.queues.get(key);
    if (q && q.length) {
      const p = q.shift()!;
      if (q.length === 0) this.queues.delete(key);
      return Promise.resolve(p);
    }
    const err = refuse();
    if (err) return Promise.reject(err);
    return new Promise((resolve, reject) => {
      const w: Waiter = { src, resolve, reject, what };
      this.arm(w);
      const list = this.waiters.get(key);
      if (list) list.push(w);
      else this.waiters.set(key, [w]);
    });
  }

  private arm(w: Waiter): void {
    clearTimeout(w.timer);
    if (this.timeoutMs > 0) w.timer = setTimeout(() => this.onTimeout(w.what()), this.timeoutMs);
  }

  /** Fails the waits for messages from `src` (every wait when `src` is undefined) with `err`. */
  rejectWaits(err: Error, src?: number): void {
    for (const [key, ws] of this.waiters) {
      const left = ws.filter((w) => {
        if (src !== undefined && w.src !== src) return true;
        clearTimeout(w.timer);
        w.reject(err);
        return false;
      });
      if (left.length) this.waiters.set(key, left);
      else this.waiters.delete(key);
    }
  }

  /** Fails the waits for the message `key` with `err`. */
  rejectKey(key: string, err: Error): void {
    for (const w of this.waiters.get(key) ?? []) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.delete(key);
  }

  /** Point-to-point messages from `src` that no recv took, by tag: "tag 7 (2 messages)". */
  unreceivedFrom(src: number): string {
    const tags: string[] = [];
    for (const [key, q] of this.queues) {
      const m = /^p:(\d+):(\d+)$/.exec(key);
      if (m && Number(m[1]) === src && q.length) tags.push(`tag ${m[2]} (${q.length} message${q.length > 1 ? "s" : ""})`);
    }
    return tags.join(", ");
  }
}
