// The scheduler's bookkeeping of a cluster run (cluster-run.ts, recovery.ts), driven without processes:
// simulated workers hold sets of chunks, batches finish in random order, workers are lost at random
// moments. Every assignment must find its inputs where the run says they are (held by the worker, pushed
// by the scheduler, or fetched from a live worker that holds them), outputs must be sent by a worker
// holding them, and every run must finish, whatever is lost along the way (lineage recomputes it).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { random, fromArray, concatenate } from "../../dist/index.js";
import { lower } from "../../dist/graph/lower.js";
import { TaskGraph } from "../../dist/plan/task-graph.js";
import { ClusterRun } from "../../dist/cluster/cluster-run.js";
import { recoverFromLoss } from "../../dist/cluster/recovery.js";

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const x = random.random([60, 40], { chunks: [10, 10], seed: 3 });
const d = fromArray(new Float64Array(60 * 40).map((_, i) => i % 7), { shape: [60, 40], chunks: [20, 10] });
const PLANS = {
  "mapBlocks -> sum": [x.mapBlocks((b) => b.add(1), { trace: false }).sum()],
  "mean along an axis": [x.add(d).mean({ axis: 0 })],
  "min and max together": [x.min(), x.max(), x.mul(2)],
  "cumsum (scan carries)": [x.cumsum({ axis: 0 }).sum({ axis: 1 })],
  "concatenate": [concatenate([x, d.mul(3)], { axis: 0 }).sum({ axis: 0 })],
  "data input rechunked": [d.rechunk([15, 25]).add(x).sum()],
  "chunks with several writers": [concatenate([x.rechunk([25, 40]), d], { axis: 0 }).rechunk([30, 40]).add(1)],
};

function simulate(outputs, seed, { workers = 3, lossEvery = 0, fetchFailures = false } = {}) {
  const rnd = prng(seed);
  const { plan, bindings } = lower(outputs.map((a) => ({ node: a.node, chunks: a.chunks })), { hashInputs: false });
  const graph = new TaskGraph(plan);
  let result = null;
  let error = null;
  const run = new ClusterRun(1, graph, "h", "", bindings, { onDone: (r) => (result = r), onError: (e) => (error = e) });
  const held = new Map(); // worker -> Set of chunks
  const live = [];
  let nextWorker = 1;
  const join = () => {
    const id = nextWorker++;
    held.set(id, new Set());
    live.push({ id, threads: 1, host: "h", listenHost: "h", listenPort: id, inflight: [] });
  };
  for (let i = 0; i < workers; i++) join();
  let nextBatch = 1;
  const flush = () => {
    for (const [w, box] of run.outbox) {
      const set = held.get(w);
      if (!set) continue;
      for (const c of box.release) set.delete(c);
      for (const c of box.send) {
        assert.ok(set.has(c), `seed ${seed}: worker ${w} was asked for output chunk ${c} it does not hold`);
        queueOutput.push(c);
      }
    }
    run.outbox.clear();
    // the run's count of what each worker holds is what the workers hold
    for (const [w, set] of held) {
      let bytes = 0;
      for (const c of set) bytes += run.data.chunkBytes(c);
      assert.is(run.heldBytes.get(w) ?? 0, bytes, `seed ${seed}: bytes held by worker ${w}`);
    }
  };
  const queueOutput = [];
  let steps = 0;
  let losses = 0;
  while (!run.over && steps++ < 100_000) {
    flush();
    // hand out work
    for (const w of live) {
      while (w.inflight.length < 2) {
        const a = run.nextBatch(w, w.inflight.length === 0, live.length, () => nextBatch++);
        if (!a) break;
        const set = held.get(w.id);
        for (const c of a.push) set.add(c);
        for (const f of a.fetch) {
          assert.ok(held.has(f.from), `seed ${seed}: a fetch from worker ${f.from}, which is gone`);
          for (const c of f.chunks) {
            assert.ok(held.get(f.from).has(c), `seed ${seed}: worker ${f.from} does not hold chunk ${c} a batch fetches from it`);
            set.add(c);
          }
        }
        const g = graph;
        const base = g.layerBase[a.batch.layer];
        for (let t = a.batch.start; t < a.batch.end; t++) {
          const i = base + t;
          for (let r = g.readStart[i]; r < g.readStart[i + 1]; r++) {
            const c = g.reads[r];
            const writtenHere = [...Array(t - a.batch.start).keys()].some((k) => {
              const j = base + a.batch.start + k;
              for (let q = g.writeStart[j]; q < g.writeStart[j + 1]; q++) if (g.writes[q] === c) return true;
              return false;
            });
            assert.ok(set.has(c) || writtenHere, `seed ${seed}: task ${i} runs on worker ${w.id} without chunk ${c}`);
          }
          for (let q = g.writeStart[i]; q < g.writeStart[i + 1]; q++) {
            const c = g.writes[q];
            // the writers of a chunk write one memory: no other worker holds the chunk meanwhile
            for (const [v, other] of held) assert.ok(v === w.id || !other.has(c), `seed ${seed}: chunk ${c} written on worker ${w.id} while worker ${v} holds it`);
            set.add(c);
          }
        }
        w.inflight.push(a.batch.id);
      }
    }
    flush();
    // something happens: a batch finishes, an output arrives, or a worker is lost
    const running = live.filter((w) => w.inflight.length);
    if (lossEvery && losses < 2 && rnd() < 1 / lossEvery && live.length > 0) {
      const k = Math.floor(rnd() * live.length);
      const [w] = live.splice(k, 1);
      held.delete(w.id);
      losses++;
      recoverFromLoss(run, w.id, "simulated loss");
      if (live.length < 2) join();
      continue;
    }
    if (queueOutput.length && (rnd() < 0.5 || !running.length)) {
      const c = queueOutput.splice(Math.floor(rnd() * queueOutput.length), 1)[0];
      run.outputArrived(c, new Uint8Array(run.data.chunkBytes(c)));
      continue;
    }
    if (!running.length) {
      if (!queueOutput.length) assert.unreachable(`seed ${seed}: the run is stuck (${run.remaining} tasks left, ${run.outputsLeft} outputs, ready ${run.readyCount()})`);
      continue;
    }
    const w = running[Math.floor(rnd() * running.length)];
    const id = w.inflight.splice(Math.floor(rnd() * w.inflight.length), 1)[0];
    if (fetchFailures && rnd() < 0.1) {
      // its fetches did not all go through: it is handed out again later (what arrived stays)
      const b = run.takeBatch(id);
      if (b) run.requeue(b, b.copies);
      continue;
    }
    run.batchDone(id);
  }
  assert.is(error, null, `seed ${seed}: ${error?.message}`);
  assert.ok(result, `seed ${seed}: the run finished`);
  return { losses, result };
}

for (const [name, outputs] of Object.entries(PLANS)) {
  test(`${name}: finishes with workers that finish in any order`, () => {
    for (let seed = 1; seed <= 20; seed++) simulate(outputs, seed, { workers: 1 + (seed % 4) });
  });
  test(`${name}: finishes while workers are lost (lineage)`, () => {
    let losses = 0;
    for (let seed = 100; seed < 160; seed++) losses += simulate(outputs, seed, { lossEvery: 6, fetchFailures: seed % 2 === 0 }).losses;
    assert.ok(losses > 40, `workers were lost (${losses})`);
  });
}

test("a task whose batches keep dying fails the run with KILLED_WORKER naming it", () => {
  const { plan, bindings } = lower([{ node: PLANS["mapBlocks -> sum"][0].node, chunks: [] }], { hashInputs: false });
  let error = null;
  const run = new ClusterRun(1, new TaskGraph(plan), "h", "", bindings, { onDone: () => {}, onError: (e) => (error = e) });
  let id = 1;
  for (let k = 1; k <= 3; k++) {
    const w = { id: k, threads: 1, host: "h", listenHost: "h", listenPort: 1 };
    const a = run.nextBatch(w, true, 1, () => id++);
    assert.ok(a, "a batch");
    if (k > 1) assert.is(a.batch.end - a.batch.start, 1, "a suspected task runs alone");
    recoverFromLoss(run, k, `killed ${k}`);
  }
  assert.ok(error, "the run failed");
  assert.is(error.code, "KILLED_WORKER");
  assert.match(error.message, /task 0 \(block \[0, 0\]\) of .* 3 workers that died/);
});

test.run();
