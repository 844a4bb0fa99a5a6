// The snapshot model: what /snapshot serves and the page draws, from the observer events a run gives.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Model } from "../../dist/dashboard/model.js";
import { Recorder } from "../../dist/dashboard/recorder.js";
import { LIMITS, SNAPSHOT_VERSION } from "../../dist/dashboard/snapshot.js";
import { ReportedSource } from "../../dist/dashboard/sources.js";

/** A source made of a recorder with a fake clock (workers: 2 threads each). */
function fakeSource(model, name = "local") {
  let t = 1000;
  const rec = new Recorder(model.stream, { source: name, worker: (w) => ({ name: `w${w}`, threads: 2 }), now: () => t });
  const source = {
    name,
    workers: () => [{ id: name, name, host: "h", pid: 1, threads: 2, cpu: 50, rss: 100, memoryUsed: 10, memoryLimit: 1000, chunks: 0, running: rec.runningTasks(), lastHeartbeat: t, status: "running" }],
    runs: () => rec.rows(),
    runningBars: () => rec.runningBars(),
    totals: () => ({ tasksDone: rec.tasksDone, tasksFailed: rec.tasksFailed }),
    close() {},
  };
  model.add(source);
  return { rec, tick: (ms) => (t += ms) };
}

const info = (tasks) => ({ layers: [{ label: "random+add", kind: "program", tasks }, { label: "combine", kind: "combine", tasks: 0 }] });

test("a run's progress: done, running, waiting per operation, and finished at its end", () => {
  const model = new Model("local");
  const { rec, tick } = fakeSource(model);
  const w = rec.run(info(10));
  w.batch(0, 0, 3, 0, false);
  w.batch(0, 3, 5, 1, true);
  model.sample();
  let s = model.snapshot();
  assert.is(s.version, SNAPSHOT_VERSION);
  assert.is(s.kind, "local");
  assert.is(s.runs.length, 1);
  assert.equal(s.runs[0].operations, [{ label: "random+add", kind: "program", total: 10, done: 0, running: 5, waiting: 5, failed: 0 }], "host layers (no chunk tasks) are not listed");
  assert.is(s.runs[0].status, "running");
  assert.is(s.stream.running.length, 2);
  assert.is(s.stream.running[1].transfer, true);
  tick(40);
  w.done(0, 0, 3, 0);
  w.batch(0, 5, 10, 0, false);
  tick(10);
  w.done(0, 3, 5, 1);
  w.done(0, 5, 10, 0);
  w.ended(null);
  model.sample();
  s = model.snapshot();
  assert.equal(s.runs[0].operations[0], { label: "random+add", kind: "program", total: 10, done: 10, running: 0, waiting: 0, failed: 0 });
  assert.is(s.runs[0].status, "finished");
  assert.is(s.runs[0].done, 10);
  assert.is(s.runs[0].total, 10);
  assert.is(s.totals.tasksDone, 10);
  assert.is(s.totals.runsFinished, 1);
  assert.is(s.stream.bars.length, 3);
  assert.equal(s.stream.lanes, ["w0 · 0", "w1 · 0"], "lanes are named by worker and thread; a freed lane is taken again");
  assert.ok(s.stream.bars.every((b) => b.end >= b.start && typeof b.seq === "number"));
  assert.equal(model.snapshot({ since: s.stream.seq }).stream.bars, [], "a page asks only for the bars it has not had");
  JSON.parse(JSON.stringify(s)); // plain JSON
});

test("batches of host layers (a cluster runs combine tasks on workers) are in the stream but not in the task counts", () => {
  const model = new Model("cluster");
  const { rec } = fakeSource(model);
  const w = rec.run(info(2));
  w.batch(0, 0, 2, 0, false);
  w.done(0, 0, 2, 0);
  w.batch(1, 0, 1, 0, false); // the combine layer: 0 chunk tasks
  w.done(1, 0, 1, 0);
  w.ended(null);
  model.sample();
  const s = model.snapshot();
  assert.equal([s.runs[0].done, s.runs[0].total, s.totals.tasksDone], [2, 2, 2]);
  assert.is(s.stream.bars.length, 2);
});

test("a batch queued behind a worker's busy threads starts when one frees", () => {
  const model = new Model("local");
  const { rec, tick } = fakeSource(model);
  const w = rec.run(info(3));
  w.batch(0, 0, 1, 7, false);
  w.batch(0, 1, 2, 7, false);
  w.batch(0, 2, 3, 7, false); // both threads busy: it waits
  assert.is(rec.runningBars().length, 2);
  tick(100);
  w.done(0, 0, 1, 7);
  const running = rec.runningBars();
  assert.is(running.length, 2);
  assert.is(running.find((b) => b.tasks === 1 && b.start === 1100)?.lane, "w7 · 0", "it took the lane that freed, at that time");
});

test("a failed task: the error names its block, the run is failed, what ran is marked", () => {
  const model = new Model("local");
  const { rec } = fakeSource(model);
  const w = rec.run({ layers: [{ label: "mapBlocks", kind: "mapBlocks", tasks: 4 }] });
  w.batch(0, 0, 2, 0, false);
  w.failed(0, 1, [0, 1], "task 1 (block [0, 1]) of mapBlocks failed: boom");
  w.ended(new Error("boom"));
  model.sample();
  const s = model.snapshot();
  assert.is(s.runs[0].status, "failed");
  assert.equal(s.runs[0].operations[0], { label: "mapBlocks", kind: "mapBlocks", total: 4, done: 0, running: 0, waiting: 3, failed: 1 });
  assert.is(s.errors.length, 1);
  assert.equal(s.errors[0].block, [0, 1]);
  assert.is(s.errors[0].op, "mapBlocks");
  assert.is(s.errors[0].task, 1);
  assert.match(s.errors[0].message, "boom");
  assert.is(s.stream.bars[0].failed, true);
  assert.is(s.totals.runsFailed, 1);
  assert.is(s.totals.tasksFailed, 1);
});

test("everything kept is bounded: runs, bars, errors, memory points", () => {
  const model = new Model("local");
  const { rec, tick } = fakeSource(model);
  for (let r = 0; r < LIMITS.runs + 10; r++) {
    const w = rec.run(info(100));
    for (let t = 0; t < 100; t++) {
      w.batch(0, t, t + 1, t % 3, false);
      tick(1);
      w.done(0, t, t + 1, t % 3);
    }
    w.failed(0, 0, null, "x");
    w.ended(null);
  }
  for (let i = 0; i < 2 * LIMITS.memoryPoints + 10; i++) model.sample(i);
  const s = model.snapshot();
  assert.is(s.runs.length, LIMITS.runs);
  assert.is(s.runs.at(-1).id, String(LIMITS.runs + 10), "the newest are kept");
  assert.is(s.stream.bars.length, LIMITS.bars);
  assert.is(s.stream.bars.at(-1).seq, (LIMITS.runs + 10) * 100);
  assert.is(s.errors.length, LIMITS.errors);
  assert.is(s.memory.length, LIMITS.memoryPoints);
  assert.is(s.totals.tasksDone, (LIMITS.runs + 10) * 100, "totals count everything, not only what is kept");
});

test("memory points sum the workers, against their limits", () => {
  const model = new Model("local");
  fakeSource(model, "a");
  fakeSource(model, "b");
  model.sample(5);
  assert.equal(model.snapshot().memory, [{ t: 5, used: 20, rss: 200, limit: 2000 }]);
  assert.equal(model.snapshot({ memorySince: 5 }).memory, []);
});

test("ranks: one compute's shares are summed, finished when every rank finished its share", () => {
  const model = new Model("ranks");
  const { rec } = fakeSource(model, "rank 0");
  const r1 = new ReportedSource("rank 1");
  model.add(r1);
  const w = rec.run(info(6));
  w.batch(0, 0, 6, 0, false);
  w.done(0, 0, 6, 0);
  w.ended(null);
  model.sample();
  assert.is(model.snapshot().runs[0].status, "running", "rank 1 has not reported it yet");
  const row = { id: "rank 1", name: "rank 1", host: "h", pid: 2, threads: 2, cpu: null, rss: null, memoryUsed: 0, memoryLimit: 1, chunks: 0, running: 0, lastHeartbeat: 0, status: "running" };
  const share = (done, status) => [{ id: "1", status, started: 1000, ended: status === "finished" ? 2000 : null, done, total: 4, operations: [{ label: "random+add", kind: "program", total: 4, done, running: 4 - done, waiting: 0, failed: 0 }] }];
  r1.update({ row, runs: share(2, "running"), running: [], totals: { tasksDone: 2, tasksFailed: 0 } }, 1234);
  model.sample();
  let s = model.snapshot();
  assert.is(s.runs.length, 1);
  assert.equal([s.runs[0].status, s.runs[0].done, s.runs[0].total], ["running", 8, 10]);
  assert.equal(s.runs[0].operations[0].running, 2);
  assert.is(s.workers.length, 2);
  assert.is(s.workers[1].lastHeartbeat, 1234, "a rank's heartbeat is its last report");
  r1.update({ row, runs: share(4, "finished"), running: [], totals: { tasksDone: 4, tasksFailed: 0 } }, 1300);
  model.sample();
  s = model.snapshot();
  assert.equal([s.runs[0].status, s.runs[0].done, s.runs[0].total], ["finished", 10, 10]);
  assert.is(s.totals.tasksDone, 10);
});

test("jobs: null without a provider; a provider's rows (a SlurmCluster's) with their fields", async () => {
  assert.is(new Model("cluster").snapshot().jobs, null);
  const model = new Model("cluster", () => [{ id: 17, state: "pending", reason: "Resources", walltimeLeft: null }, { id: "18", state: "running", reason: null, walltimeLeft: 3500 }]);
  model.sample();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(model.snapshot().jobs, [
    { id: "17", state: "pending", reason: "Resources", walltimeLeft: null },
    { id: "18", state: "running", reason: null, walltimeLeft: 3500 },
  ]);
  const failing = new Model("cluster", () => Promise.reject(new Error("squeue failed")));
  failing.sample();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(failing.snapshot().jobs, [], "a failing provider leaves the panel as it was");
});

test.run();
