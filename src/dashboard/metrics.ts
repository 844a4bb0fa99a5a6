/**
 * /metrics: a snapshot in Prometheus's text exposition format (version 0.0.4): a HELP and a TYPE line
 * before each metric's samples, label values escaped (\\, \", \n), counters named *_total.
 */
import type { Snapshot } from "./snapshot.js";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

class Exposition {
  private readonly lines: string[] = [];

  metric(name: string, type: "gauge" | "counter", help: string, samples: [Labels, number | null][]): void {
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) {
      if (v === null) continue; // unknown (a worker on another host): no sample rather than a made-up one
      const l = Object.entries(labels).map(([k, x]) => `${k}="${escapeLabel(x)}"`).join(",");
      this.lines.push(`${name}${l ? `{${l}}` : ""} ${num(v)}`);
    }
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}

export function formatMetrics(s: Snapshot): string {
  const x = new Exposition();
  const w = (r: Snapshot["workers"][number]): Labels => ({ worker: r.name, host: r.host, pid: String(r.pid) });
  x.metric("tessera_up", "gauge", "1 while the dashboard serves.", [[{ kind: s.kind }, 1]]);
  x.metric("tessera_workers", "gauge", "Workers (cluster worker processes, ranks, or this process) seen now.", [[{}, s.totals.workers]]);
  x.metric("tessera_threads", "gauge", "Worker threads over all workers.", [[{}, s.totals.threads]]);
  x.metric("tessera_tasks_done_total", "counter", "Chunk tasks finished since the dashboard started.", [[{}, s.totals.tasksDone]]);
  x.metric("tessera_tasks_failed_total", "counter", "Chunk tasks that failed since the dashboard started.", [[{}, s.totals.tasksFailed]]);
  x.metric("tessera_computes", "gauge", "Computes kept by the dashboard, by status.", [
    [{ status: "running" }, s.totals.runsRunning],
    [{ status: "finished" }, s.totals.runsFinished],
    [{ status: "failed" }, s.totals.runsFailed],
  ]);
  const ops: [Labels, number][] = [];
  for (const r of s.runs) {
    if (r.status !== "running") continue;
    for (const o of r.operations) for (const state of ["done", "running", "waiting", "failed"] as const) ops.push([{ compute: r.id, operation: o.label, state }, o[state]]);
  }
  x.metric("tessera_operation_tasks", "gauge", "Chunk tasks of the computes running now, by operation and state.", ops);
  x.metric("tessera_worker_memory_used_bytes", "gauge", "Kernel (WebAssembly) memory in use.", s.workers.map((r) => [w(r), r.memoryUsed]));
  x.metric("tessera_worker_memory_limit_bytes", "gauge", "Kernel memory limit.", s.workers.map((r) => [w(r), r.memoryLimit]));
  x.metric("tessera_worker_rss_bytes", "gauge", "Resident set size of the worker process.", s.workers.map((r) => [w(r), r.rss]));
  x.metric("tessera_worker_cpu_percent", "gauge", "CPU use in percent of one core (200: two cores busy).", s.workers.map((r) => [w(r), r.cpu === null ? null : Math.round(r.cpu * 10) / 10]));
  x.metric("tessera_worker_threads", "gauge", "Threads of the worker.", s.workers.map((r) => [w(r), r.threads]));
  x.metric("tessera_worker_chunks", "gauge", "Chunks the worker holds.", s.workers.map((r) => [w(r), r.chunks]));
  x.metric("tessera_worker_tasks_running", "gauge", "Chunk tasks handed to the worker and not finished.", s.workers.map((r) => [w(r), r.running]));
  x.metric("tessera_worker_last_heartbeat_seconds", "gauge", "When the worker was last heard from, seconds since the epoch.", s.workers.map((r) => [w(r), r.lastHeartbeat / 1000]));
  if (s.jobs) {
    const states = new Map<string, number>();
    for (const j of s.jobs) states.set(j.state, (states.get(j.state) ?? 0) + 1);
    x.metric("tessera_jobs", "gauge", "Batch jobs of the cluster, by state.", [...states].map(([state, n]) => [{ state }, n]));
  }
  return x.text();
}
