// The observer interface the dashboard hangs on (scheduler/observe.ts): unwatched runs build nothing,
// a watched compute tells its batches, and an observer's fault is not the compute's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { observeRuns, watchRun } from "../../dist/scheduler/observe.js";
import * as tessera from "../../dist/index.js";

test("no observer: watchRun builds nothing (the run's info is not even asked for)", () => {
  let asked = 0;
  assert.is(watchRun(() => (asked++, { layers: [] })), null);
  assert.is(asked, 0);
});

test("a dashboard observes while it is open, and no longer once closed", async () => {
  const d = await tessera.dashboard.start({ port: 0, log: null });
  assert.ok(watchRun(() => ({ layers: [] })) !== null);
  await d.close();
  assert.is(watchRun(() => ({ layers: [] })), null);
});

test("a watched compute tells every batch once, on the pool's threads, then its end", async () => {
  const seen = { batches: 0, tasks: 0, done: 0, ended: [], workers: new Set() };
  const stop = observeRuns({
    run(info) {
      seen.layers = info.layers;
      return {
        batch: (l, s, e, w) => {
          seen.batches++;
          seen.tasks += e - s;
          seen.workers.add(w);
        },
        done: (l, s, e) => (seen.done += e - s),
        failed() {},
        ended: (err) => seen.ended.push(err),
      };
    },
  });
  try {
    await tessera.random.random([1000, 1000], { chunks: 100, seed: 1 }).add(1).sum().compute();
  } finally {
    stop();
  }
  assert.is(seen.tasks, 100);
  assert.is(seen.done, 100);
  assert.equal(seen.ended, [null]);
  assert.equal(seen.layers.filter((l) => l.tasks > 0).map((l) => l.tasks), [100]);
  assert.ok([...seen.workers].every((w) => Number.isInteger(w) && w >= 0));
});

test("an observer that throws does not fail the compute", async () => {
  const x = () => tessera.random.random([100, 100], { chunks: 50, seed: 1 }).add(1).sum();
  const want = await x().compute();
  const stop = observeRuns({
    run() {
      return { batch() { throw new Error("observer bug"); }, done() { throw new Error("observer bug"); }, failed() {}, ended() { throw new Error("observer bug"); } };
    },
  });
  const stop2 = observeRuns({ run() { throw new Error("cannot watch"); } });
  try {
    assert.is(await x().compute(), want);
  } finally {
    stop();
    stop2();
  }
});

test.after(() => tessera.shutdown());
test.run();
