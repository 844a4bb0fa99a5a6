/**
 * The dashboard's entry points: `dashboard.start(opts)` for in-process use (this process's computes, or
 * a cluster's when `cluster` is given), the starter clusters use for their `dashboard` option, and
 * `serveRanks` for run.js under several ranks.
 */
import { registerDashboardStarter, type ClusterDashboardRequest } from "../cluster/dashboard-hook.js";
import type { Scheduler } from "../cluster/scheduler.js";
import type { World } from "../comm/world.js";
import { invalid, show } from "../errors.js";
import { Model } from "./model.js";
import { collectReports, reportToRankZero } from "./rank-report.js";
import { DashboardServer, type ServeOptions } from "./server.js";
import type { JobsProvider, Snapshot } from "./snapshot.js";
import { ClusterSource, EngineSource, ReportedSource } from "./sources.js";
import { Stream } from "./stream.js";

export type { Snapshot, JobsProvider, JobRow, WorkerRow, RunRow, OperationRow, Bar, ErrorRow, MemoryPoint } from "./snapshot.js";
export { formatMetrics } from "./metrics.js";

export interface DashboardOptions extends ServeOptions {
  /** watch this cluster (a LocalCluster, or anything with its `scheduler`) instead of this process's computes */
  cluster?: { scheduler: Scheduler };
  /** the batch jobs for the jobs panel (a SlurmCluster gives its own): [{ id, state, reason, walltimeLeft }] */
  jobs?: JobsProvider;
}

export interface Dashboard {
  /** the page's link, with its token */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** what /snapshot serves now */
  snapshot(): Snapshot;
  /** pages connected now (over the WebSocket) */
  readonly clients: number;
  close(): Promise<void>;
}

const OPTION_KEYS = ["host", "port", "token", "intervalMs", "log", "cluster", "jobs"];

function check(opts: DashboardOptions): void {
  if (opts === null || typeof opts !== "object") throw invalid("INVALID_ARGUMENT", `dashboard options ${show(opts)} must be an object`);
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw invalid("INVALID_ARGUMENT", `dashboard.start has no option ${show(k)}; it takes ${OPTION_KEYS.join(", ")}`);
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port < 65536)) throw invalid("INVALID_ARGUMENT", `port ${show(opts.port)} must be an integer from 0 to 65535`);
  if (opts.host !== undefined && (typeof opts.host !== "string" || !opts.host)) throw invalid("INVALID_ARGUMENT", `host ${show(opts.host)} must be an address`);
  if (opts.token !== undefined && (typeof opts.token !== "string" || opts.token.length < 16)) throw invalid("INVALID_ARGUMENT", "token must be a string of at least 16 characters");
  if (opts.intervalMs !== undefined && !(typeof opts.intervalMs === "number" && opts.intervalMs >= 50 && opts.intervalMs <= 60_000)) throw invalid("INVALID_ARGUMENT", `intervalMs ${show(opts.intervalMs)} must be from 50 to 60000`);
  if (opts.cluster !== undefined && !(opts.cluster && typeof opts.cluster === "object" && "scheduler" in opts.cluster)) throw invalid("INVALID_ARGUMENT", "cluster must be a LocalCluster (or a cluster with a scheduler)");
  if (opts.jobs !== undefined && typeof opts.jobs !== "function") throw invalid("INVALID_ARGUMENT", "jobs must be a function returning [{ id, state, reason, walltimeLeft }]");
}

async function serve(model: Model, opts: ServeOptions): Promise<Dashboard> {
  let server: DashboardServer;
  try {
    server = await DashboardServer.start(model, opts);
  } catch (e) {
    model.close();
    throw invalid("INVALID_ARGUMENT", `the dashboard could not listen on ${opts.host ?? "127.0.0.1"}:${opts.port ?? 8787}: ${(e as Error).message}`);
  }
  return {
    url: server.url, host: server.host, port: server.port, token: server.token,
    snapshot: () => model.snapshot(),
    get clients() {
      return server.clientCount;
    },
    async close() {
      await server.close();
      model.close();
    },
  };
}

/** The dashboard: live pages of what this process (or a cluster) computes. */
export const dashboard = {
  /** Starts one; it prints its link (with the token) unless `log` says otherwise. Close it when done. */
  async start(opts: DashboardOptions = {}): Promise<Dashboard> {
    check(opts);
    const { cluster, jobs, ...serveOpts } = opts;
    const model = new Model(cluster ? "cluster" : "local", jobs);
    const stream = model.stream;
    model.add(cluster ? new ClusterSource(cluster.scheduler, stream) : new EngineSource(stream));
    return serve(model, serveOpts);
  },
};

registerDashboardStarter(async (req: ClusterDashboardRequest) => {
  const model = new Model("cluster", req.jobs);
  model.add(new ClusterSource(req.scheduler, model.stream));
  return serve(model, { host: req.host, port: req.port, log: req.log });
});

/**
 * run.js --dashboard: rank 0 serves (this process alone, or every rank), the others report to it.
 * `stop()` sends a rank's last report (rank 0: waits a moment for the others' last ones) and closes.
 */
export async function serveRanks(world: World, opts: ServeOptions & { intervalMs: number }): Promise<{ url: string | null; stop(): Promise<void> }> {
  if (world.size === 1) {
    const d = await dashboard.start(opts);
    return { url: d.url, stop: () => d.close() };
  }
  if (world.rank !== 0) {
    const stream = new Stream();
    const source = new EngineSource(stream, `rank ${world.rank}`);
    const reporter = reportToRankZero(world, source, stream, opts.intervalMs);
    return {
      url: null,
      async stop() {
        await reporter.stop();
        source.close();
      },
    };
  }
  const model = new Model("ranks");
  model.add(new EngineSource(model.stream, "rank 0"));
  const others = new Map<number, ReportedSource>();
  for (let r = 1; r < world.size; r++) {
    const s = new ReportedSource(`rank ${r}`);
    others.set(r, s);
    model.add(s);
  }
  const reports = collectReports(world, others, model.stream);
  const d = await serve(model, opts);
  return {
    url: d.url,
    async stop() {
      await Promise.race([reports.done, new Promise((r) => setTimeout(r, 2000).unref())]);
      await d.close();
    },
  };
}
