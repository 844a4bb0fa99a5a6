/**
 * What every cluster is, whatever starts its workers (LocalCluster: processes on this machine;
 * SlurmCluster: batch jobs): a scheduler in this process, its address and live workers, waiting for
 * workers, adaptive scaling, an optional dashboard, and close() (safe twice; `await using` too). The
 * subclasses say how workers are asked for and let go (Adaptable's requested, grow, retire) and close.
 */
import { ClusterError } from "../errors.js";
import { Adaptive, type Adaptable, type AdaptOptions } from "./adaptive.js";
import type { ClusterDashboard } from "./dashboard-hook.js";
import type { Scheduler } from "./scheduler.js";
import type { WorkerInfo } from "./worker-registry.js";

export abstract class ClusterBase implements Adaptable {
  protected adaptive: Adaptive | null = null;
  protected dashboard: ClusterDashboard | null = null;
  /** set by close(): the cluster is closing or closed */
  protected closing: Promise<void> | null = null;

  protected constructor(
    readonly scheduler: Scheduler,
    readonly threadsPerWorker: number,
    /** how long waitForWorkers waits by default, ms */
    private readonly waitMs: number,
  ) {}

  /** ws://host:port of the scheduler. */
  get address(): string {
    return this.scheduler.address;
  }

  /** The live workers (joined the scheduler): id, name, host, pid, threads, memory. */
  get workers(): WorkerInfo[] {
    return this.scheduler.workerList;
  }

  /** The dashboard's link (with its token), or null when it has none (the `dashboard` option). */
  get dashboardLink(): string | null {
    return this.dashboard?.url ?? null;
  }

  /** Resolves once `n` workers have joined (TIMEOUT after `timeoutMs`). */
  waitForWorkers(n: number, timeoutMs = this.waitMs): Promise<void> {
    return this.scheduler.waitForWorkers(n, timeoutMs);
  }

  /**
   * Adaptive scaling: more workers while work waits (up to `maximum`), fewer when they sit idle (down to
   * `minimum`); see adaptive.ts. Ends with scale() or close(); returns the controller (its stop() ends it).
   */
  adapt(opts: AdaptOptions = {}): Adaptive {
    if (this.closing) throw new ClusterError("CLUSTER_CLOSED", "adapt on a closed cluster");
    this.adaptive?.stop();
    this.adaptive = new Adaptive(this, opts);
    return this.adaptive;
  }

  /** Scaling by hand ends adaptive scaling (as in dask). */
  protected stopAdapting(): void {
    this.adaptive?.stop();
    this.adaptive = null;
  }

  /** @internal (Adaptable) workers asked for (started or on their way) */
  abstract requested(): number;
  /** @internal (Adaptable) asks for `n` more workers */
  abstract grow(n: number): void;
  /** @internal (Adaptable) retires these workers */
  abstract retire(ids: number[]): void;

  abstract close(): Promise<void>;

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
