/**
 * How a cluster starts its dashboard without importing it (the dashboard sits above the cluster and
 * imports it): the dashboard module registers its starter here when it loads, which `import "tessera"`
 * always does. A cluster asked for a dashboard before that gets a clear error.
 */
import { ClusterError, invalid, show } from "../errors.js";
import type { Scheduler } from "./scheduler.js";

/** LocalCluster's (and SlurmCluster's) `dashboard` option: false or absent: none. */
export interface ClusterDashboardOptions {
  /** default 8787; when taken, a free port (the printed link says which); 0: any free port */
  port?: number;
  /** address to listen on (default 127.0.0.1: reach it through an SSH tunnel) */
  host?: string;
}

export interface ClusterDashboard {
  readonly url: string;
  close(): Promise<void>;
}

export interface ClusterDashboardRequest extends ClusterDashboardOptions {
  scheduler: Scheduler;
  /** the cluster's batch jobs (SlurmCluster), for the jobs panel */
  jobs?: () => readonly { id: string; state: string; reason: string | null; walltimeLeft: number | null }[] | Promise<readonly { id: string; state: string; reason: string | null; walltimeLeft: number | null }[]>;
  log?: (line: string) => void;
}

type Starter = (req: ClusterDashboardRequest) => Promise<ClusterDashboard>;
let starter: Starter | null = null;

export function registerDashboardStarter(s: Starter): void {
  starter = s;
}

/** Checks a cluster's `dashboard` option (false, true or { port, host }). */
export function checkDashboardOption(d: unknown): void {
  if (d === undefined || typeof d === "boolean") return;
  const o = d as ClusterDashboardOptions | null;
  if (o === null || typeof o !== "object" || (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port < 65536))) {
    throw invalid("INVALID_ARGUMENT", `dashboard ${show(d)} must be false, true or { port, host } with a port from 0 to 65535`);
  }
}

/** Starts a cluster's dashboard (null when `opts` is false or absent). */
export async function startClusterDashboard(opts: boolean | ClusterDashboardOptions | undefined, req: Omit<ClusterDashboardRequest, keyof ClusterDashboardOptions>): Promise<ClusterDashboard | null> {
  if (opts === undefined || opts === false) return null;
  if (!starter) throw new ClusterError("INVALID_ARGUMENT", "the dashboard is not loaded: import the cluster from \"tessera\" (its index loads the dashboard)");
  return starter({ ...(opts === true ? {} : opts), ...req });
}
