/**
 * Adaptive scaling (dask's adapt): grows the cluster while work waits and shrinks it by workers that sit
 * idle, within [minimum, maximum]. Two rules keep it from the submit/cancel loops dask-jobqueue users
 * report: it asks for more workers only when none of those it asked for is still on its way (a batch job
 * waiting in the queue counts as on its way), and it retires only a worker that has been idle for
 * `idleMs` (running nothing, holding nothing of a compute still going), never within `idleMs` of a
 * scale-up.
 */
import { invalid, show } from "../errors.js";
import type { Scheduler } from "./scheduler.js";

export interface AdaptOptions {
  minimum?: number;
  maximum?: number;
  /** how often it looks, ms (default 1000) */
  intervalMs?: number;
  /** how long a worker must be idle before it is retired, ms (default 5000) */
  idleMs?: number;
}

/** What adaptive scaling needs of a cluster. */
export interface Adaptable {
  readonly scheduler: Scheduler;
  /** workers asked for (started or on their way) */
  requested(): number;
  /** threads of each worker it starts */
  readonly threadsPerWorker: number;
  /** asks for `n` more workers */
  grow(n: number): void;
  /** retires these workers */
  retire(ids: number[]): void;
}

export class Adaptive {
  readonly minimum: number;
  readonly maximum: number;
  private readonly idleMs: number;
  private readonly timer: NodeJS.Timeout;
  private readonly idleSince = new Map<number, number>();
  private lastGrow = 0;
  private stopped = false;

  constructor(
    private readonly cluster: Adaptable,
    opts: AdaptOptions = {},
  ) {
    const int = (v: unknown, what: string, dflt: number) => {
      if (v === undefined) return dflt;
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw invalid("INVALID_ARGUMENT", `adapt ${what} ${show(v)} must be an integer >= 0`);
      return v;
    };
    this.minimum = int(opts.minimum, "minimum", 0);
    this.maximum = opts.maximum === undefined ? Math.max(this.minimum, 1) : int(opts.maximum, "maximum", 0);
    if (this.maximum < this.minimum) throw invalid("INVALID_ARGUMENT", `adapt maximum ${this.maximum} is below its minimum ${this.minimum}`);
    const interval = int(opts.intervalMs, "intervalMs", 1000);
    this.idleMs = int(opts.idleMs, "idleMs", 5000);
    this.timer = setInterval(() => this.step(), Math.max(10, interval));
    this.timer.unref();
    this.step();
  }

  /** One look: grow, shrink, or nothing. */
  step(): void {
    if (this.stopped) return;
    const now = Date.now();
    const { queued, workers, idle } = this.cluster.scheduler.load();
    const requested = this.cluster.requested();
    for (const id of [...this.idleSince.keys()]) if (!idle.includes(id)) this.idleSince.delete(id);
    for (const id of idle) if (!this.idleSince.has(id)) this.idleSince.set(id, now);
    if (requested < this.minimum) {
      this.grow(this.minimum - requested, now);
      return;
    }
    const onTheirWay = requested > workers;
    if (queued > 0 && idle.length === 0 && !onTheirWay && requested < this.maximum) {
      const perWorker = 2 * Math.max(1, this.cluster.threadsPerWorker);
      this.grow(Math.min(this.maximum - requested, Math.max(1, Math.ceil(queued / perWorker))), now);
      return;
    }
    if (queued === 0 && now - this.lastGrow >= this.idleMs && requested > this.minimum) {
      const long = idle.filter((id) => now - (this.idleSince.get(id) ?? now) >= this.idleMs);
      const retire = long.slice(0, requested - this.minimum);
      if (retire.length) {
        for (const id of retire) this.idleSince.delete(id);
        this.cluster.retire(retire);
      }
    }
  }

  private grow(n: number, now: number): void {
    if (n <= 0) return;
    this.lastGrow = now;
    this.cluster.grow(n);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
