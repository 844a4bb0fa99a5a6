// /metrics: Prometheus's text exposition format, checked line by line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatMetrics, METRICS_CONTENT_TYPE } from "../../dist/dashboard/metrics.js";
import { Model } from "../../dist/dashboard/model.js";

const worker = (name, extra = {}) => ({ id: name, name, host: "node-1", pid: 42, threads: 4, cpu: 123.456, rss: 5000, memoryUsed: 100, memoryLimit: 1000, chunks: 3, running: 2, lastHeartbeat: 1_700_000_000_500, status: "running", ...extra });

function snapshotWith(workers, jobs) {
  const model = new Model("cluster", jobs && (() => jobs));
  model.add({ name: "x", workers: () => workers, runs: () => [{ id: "1", status: "running", started: 0, ended: null, done: 1, total: 3, operations: [{ label: 'sum "x"', kind: "program", total: 3, done: 1, running: 1, waiting: 1, failed: 0 }] }], runningBars: () => [], totals: () => ({ tasksDone: 7, tasksFailed: 1 }), close() {} });
  model.sample();
  return model;
}

/** Parses the exposition: per metric its HELP, TYPE and samples; fails on anything out of place. */
function parse(text) {
  assert.ok(text.endsWith("\n"), "ends with a newline");
  const metrics = new Map();
  let current = null;
  for (const line of text.slice(0, -1).split("\n")) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line))) {
      assert.not.ok(metrics.has(m[1]), `${m[1]} described once`);
      current = { help: m[2], type: null, samples: [] };
      metrics.set(m[1], current);
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      assert.ok(current && metrics.get(m[1]) === current && current.type === null, `TYPE of ${m[1]} right after its HELP`);
      current.type = m[2];
    } else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line))) {
      assert.ok(current && metrics.get(m[1]) === current && current.type, `sample of ${m[1]} under its own HELP and TYPE: ${line}`);
      current.samples.push({ labels: m[2] ?? "", value: Number(m[3]) });
    } else assert.unreachable(`a line out of the format: ${JSON.stringify(line)}`);
  }
  return metrics;
}

test("every metric has HELP and TYPE, counters end in _total, samples are well formed", () => {
  const m = parse(formatMetrics(snapshotWith([worker("a"), worker("b")]).snapshot()));
  for (const [name, x] of m) {
    assert.ok(x.type, `${name} has a TYPE`);
    if (x.type === "counter") assert.ok(name.endsWith("_total"), `counter ${name} ends in _total`);
  }
  assert.is(m.get("tessera_workers").samples[0].value, 2);
  assert.is(m.get("tessera_tasks_done_total").samples[0].value, 7);
  assert.is(m.get("tessera_tasks_failed_total").type, "counter");
  assert.equal(m.get("tessera_worker_memory_used_bytes").samples.map((s) => s.labels), ['{worker="a",host="node-1",pid="42"}', '{worker="b",host="node-1",pid="42"}']);
  assert.is(m.get("tessera_worker_cpu_percent").samples[0].value, 123.5);
  assert.is(m.get("tessera_worker_last_heartbeat_seconds").samples[0].value, 1_700_000_000.5, "seconds, as Prometheus counts time");
  assert.equal(m.get("tessera_operation_tasks").samples.map((s) => s.value), [1, 1, 1, 0]);
  assert.not.ok(m.has("tessera_jobs"), "no jobs metric without a jobs provider");
  assert.is(METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

test("label values are escaped; unknown values (another host's CPU) are left out, not made up", () => {
  const text = formatMetrics(snapshotWith([worker('we"ird\\name\nx', { cpu: null, rss: null })]).snapshot());
  const m = parse(text);
  assert.ok(text.includes('worker="we\\"ird\\\\name\\nx"'));
  assert.equal(m.get("tessera_worker_cpu_percent").samples, []);
  assert.equal(m.get("tessera_worker_rss_bytes").samples, []);
  assert.match(text, /tessera_operation_tasks\{compute="1",operation="sum \\"x\\"",state="done"\} 1/);
});

test("jobs by state when a provider is given", async () => {
  const model = snapshotWith([], [{ id: "1", state: "pending", reason: "Priority", walltimeLeft: null }, { id: "2", state: "running", reason: null, walltimeLeft: 60 }, { id: "3", state: "running", reason: null, walltimeLeft: 50 }]);
  await new Promise((r) => setTimeout(r, 10));
  const m = parse(formatMetrics(model.snapshot()));
  assert.equal(m.get("tessera_jobs").samples, [{ labels: '{state="pending"}', value: 1 }, { labels: '{state="running"}', value: 2 }]);
});

test.run();
