/** compute(): several outputs, shared intermediates, progress, cancellation, options; the eager NDArray. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromArray, compute, zeros, ones, arange, random, NDArray, ChunkedArray, TesseraError, AbortError, ValidationError, ComputeError } from "../../dist/index.js";
import * as R from "../helpers/reference.mjs";
import { sameArray, rejectsCode, throwsCode, within } from "../helpers/check.mjs";

const VALS = Array.from({ length: 60 }, (_, i) => ((i * 13) % 17) - 8);
const ref = R.array(VALS, [6, 10]);
const src = () => fromArray(Float64Array.from(VALS), { shape: [6, 10], chunks: [4, 3] });

/** A mapBlocks that counts its calls in a SharedArrayBuffer passed through args. */
function counted(x, counter, extraMs = 0) {
  return x.mapBlocks(
    (b, info) => {
      Atomics.add(new Int32Array(info.args[0]), 0, 1);
      const until = Date.now() + info.args[1];
      while (Date.now() < until);
      return b.add(1);
    },
    { args: [counter, extraMs] },
  );
}

test("compute(a, b, c) gives one result per array, in order, of the right kinds", async () => {
  const x = src();
  const res = await compute(x.sum(), x.add(1), x.max({ axis: 1 }), x.any(), x.sum({ keepdims: true }));
  assert.is(res.length, 5);
  assert.is(res[0], R.scalar(R.reduce("sum", ref)));
  sameArray(res[1], R.binary("add", ref, 1));
  sameArray(res[2], R.reduce("max", ref, { axis: 1 }));
  assert.is(res[3], true);
  assert.instance(res[4], NDArray, "a keepdims full reduction is an NDArray");
  sameArray(res[4], R.reduce("sum", ref, { keepdims: true }));
  // the same array twice
  const [a, b] = await compute(x.mean(), x.mean());
  assert.is(a, b);
  // options last
  const [c] = await compute(x.min(), { workers: 1 });
  assert.is(c, -8);
  assert.equal(await compute(), []);
});

test("shared intermediates are computed once: a mapBlocks feeding three outputs runs once per block", async () => {
  const counter = new SharedArrayBuffer(4);
  const calls = new Int32Array(counter);
  const y = counted(src(), counter);
  const want = R.binary("add", ref, 1);
  const [s, m, a, full] = await compute(y.sum(), y.max(), y.mean({ axis: 0 }), y);
  assert.is(s, R.scalar(R.reduce("sum", want)));
  assert.is(m, R.scalar(R.reduce("max", want)));
  sameArray(a, R.reduce("mean", want, { axis: 0 }));
  sameArray(full, want);
  assert.is(Atomics.load(calls, 0), src().numblocks.reduce((p, q) => p * q, 1), "one call per block (2 x 4 blocks)");
});

test("progress: events with done <= total, stage <= stages, and a final done == total", async () => {
  const events = [];
  const x = random.random([800, 800], { chunks: 100, seed: 1 });
  const r = await x.add(1).sum().compute({ progress: (e) => events.push({ ...e }) });
  assert.type(r, "number");
  assert.ok(events.length > 0, "some events");
  for (const e of events) {
    for (const k of ["stage", "stages", "done", "total", "elapsed"]) assert.type(e[k], "number", `event field ${k}`);
    assert.ok(e.done <= e.total, `done ${e.done} <= total ${e.total}`);
    assert.ok(e.stage >= 1 && e.stage <= e.stages, `stage ${e.stage} of ${e.stages}`);
    assert.ok(e.elapsed >= 0);
  }
  const last = events[events.length - 1];
  assert.is(last.done, last.total, "the last event completes");
  assert.is(last.stage, last.stages, "the last event is of the last stage");
  for (let i = 1; i < events.length; i++) {
    const [p, q] = [events[i - 1], events[i]];
    assert.ok(q.stage > p.stage || (q.stage === p.stage && q.done >= p.done), "done never goes back within a stage");
  }
  assert.ok(events.some((e) => e.total === 64), "a stage over the 64 chunks");
  // a multi-stage plan (mapBlocks materialized, then reduced) also ends with done == total
  const ev2 = [];
  await compute(counted(src(), new SharedArrayBuffer(4)).sum(), src().rechunk(2).max(), { progress: (e) => ev2.push({ ...e }) });
  assert.ok(ev2.length > 0);
  const l2 = ev2[ev2.length - 1];
  assert.is(l2.done, l2.total);
  // progress: true without a TTY just works
  assert.is(await src().sum().compute({ progress: true }), R.scalar(R.reduce("sum", ref)));
});

test("computes started at the same time all settle, each with its own result", async () => {
  const x = random.random([300, 200], { chunks: [70, 45], seed: 11 });
  const alone = [await x.sum().compute(), await x.max().compute(), await x.mean({ axis: 0 }).compute(), await x.add(1).compute()];
  const together = await Promise.all([
    x.sum().compute(), x.max().compute(), x.mean({ axis: 0 }).compute({ workers: 1 }), x.add(1).compute(), x.sum().compute({ workers: 2 }),
  ]);
  assert.ok(Object.is(together[0], alone[0]) && Object.is(together[4], alone[0]));
  assert.ok(Object.is(together[1], alone[1]));
  sameArray(together[2], alone[2]);
  sameArray(together[3], alone[3]);
  // one failing among them fails alone
  const bad = x.mapBlocks(() => { throw new Error("block boom"); });
  const [a, b, c] = await Promise.allSettled([x.sum().compute(), bad.sum().compute(), x.min().compute()]);
  assert.ok(a.status === "fulfilled" && Object.is(a.value, alone[0]));
  assert.ok(b.status === "rejected" && b.reason.code === "TASK_FAILED");
  assert.ok(c.status === "fulfilled" && c.value <= alone[1]);
});

test("a progress callback that throws rejects compute() with TASK_FAILED (the process goes on)", async () => {
  const x = random.random([400, 400], { chunks: 50, seed: 2 });
  let calls = 0;
  const e = await rejectsCode(x.sum().compute({ progress: () => { calls++; throw new Error("callback boom"); } }), "TASK_FAILED", "progress callback", "callback boom");
  assert.is(e.cause.message, "callback boom");
  assert.is(calls, 1, "not called again after it threw");
  assert.ok((await x.sum().compute()) > 0, "the next compute works");
});

test("a result no JS typed array can hold is TOO_LARGE before anything runs; results beyond 4 GiB of kernel memory are fine", async () => {
  // 4.9e9 elements: more than the 2^32 - 1 a typed array holds
  await rejectsCode(zeros([70000, 70000], { chunks: 5000 }).compute(), "TOO_LARGE", "4900000000 elements");
  // results stream out of kernel memory chunk by chunk: a result larger than the chunks alive at once is fine
  const r = await ones([3000, 3000], { chunks: 500 }).add(1).compute();
  assert.is(r.data.length, 9e6);
  assert.ok(r.data.every((v) => v === 2));
  assert.is(await ones([3000, 3000], { chunks: 1000 }).sum().compute(), 9e6, "the engine works after");
});

test("signal aborted before compute rejects with ABORTED", async () => {
  const ac = new AbortController();
  ac.abort();
  const err = await rejectsCode(within(5000, src().sum().compute({ signal: ac.signal })), "ABORTED");
  assert.instance(err, AbortError);
  assert.instance(err, TesseraError);
});

test("signal aborted during a long compute rejects with ABORTED promptly and stops the work", async () => {
  const counter = new SharedArrayBuffer(4);
  const calls = new Int32Array(counter);
  // 100 blocks of 30 ms each: about 1.5 s on 2 workers if not stopped
  const y = counted(zeros([100, 10], { chunks: [1, 10] }), counter, 30);
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 150);
  await rejectsCode(within(5000, y.sum().compute({ signal: ac.signal })), "ABORTED");
  const took = Date.now() - t0;
  assert.ok(took < 700, `rejected ${took} ms after start (abort at 150 ms)`);
  const atAbort = Atomics.load(calls, 0);
  assert.ok(atAbort < 100, `only ${atAbort} of 100 blocks ran`);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(Atomics.load(calls, 0) <= atAbort + 2, `work stopped: ${Atomics.load(calls, 0)} calls 300 ms after the abort vs ${atAbort}`);
  // and the engine still works
  assert.is(await within(10_000, arange(1000).sum().compute(), "compute after abort"), 499500);
  const z = await counted(src(), new SharedArrayBuffer(4)).compute();
  sameArray(z, R.binary("add", ref, 1));
});

test("an abort after the compute finished changes nothing", async () => {
  const ac = new AbortController();
  const r = await src().sum().compute({ signal: ac.signal });
  ac.abort();
  assert.is(r, R.scalar(R.reduce("sum", ref)));
  assert.is(await src().sum().compute(), r);
});

test("compute option validation: INVALID_ARGUMENT naming the value", async () => {
  const x = src();
  await rejectsCode(() => x.sum().compute({ worker: 2 }), "INVALID_ARGUMENT", '"worker"');
  await rejectsCode(() => x.sum().compute({ workers: 0 }), "INVALID_ARGUMENT", "0");
  await rejectsCode(() => x.sum().compute({ workers: 1.5 }), "INVALID_ARGUMENT", "1.5");
  await rejectsCode(() => x.sum().compute({ workers: "2" }), "INVALID_ARGUMENT", '"2"');
  await rejectsCode(() => x.sum().compute({ progress: "yes" }), "INVALID_ARGUMENT", '"yes"');
  await rejectsCode(() => x.sum().compute(5), "INVALID_ARGUMENT", "5");
  await rejectsCode(() => compute(x.sum(), 5), "INVALID_ARGUMENT", "5");
  await rejectsCode(() => compute(x.sum(), "x", x.max()), "INVALID_ARGUMENT", '"x"');
  const err = await rejectsCode(() => compute(x, { wrkers: 1 }), "INVALID_ARGUMENT", '"wrkers"');
  assert.instance(err, ValidationError);
  // a few workers per core at most: 1000 threads on a laptop is a typo, not a plan
  await rejectsCode(() => x.sum().compute({ workers: 100000 }), "INVALID_ARGUMENT", "100000", "per core");
  // reduction options: ddof belongs to var and std only
  throwsCode(() => x.sum({ ddof: 1 }), "INVALID_ARGUMENT", '"ddof"', "axis, keepdims");
  throwsCode(() => x.max({ ddof: 1 }), "INVALID_ARGUMENT", '"ddof"');
  assert.ok(Number.isFinite(await x.var({ ddof: 1 }).compute()));
});

test("bad TESSERA_WORKERS and TESSERA_KERNELS are refused naming the value, not ignored", async () => {
  const x = src();
  const saved = { w: process.env.TESSERA_WORKERS, k: process.env.TESSERA_KERNELS };
  try {
    for (const w of ["abc", "0", "-3", "2.5"]) {
      process.env.TESSERA_WORKERS = w;
      await rejectsCode(() => x.sum().compute(), "INVALID_ARGUMENT", "TESSERA_WORKERS", JSON.stringify(w));
    }
    delete process.env.TESSERA_WORKERS;
    process.env.TESSERA_KERNELS = "bogus";
    await rejectsCode(() => x.sum().compute(), "INVALID_ARGUMENT", "TESSERA_KERNELS", '"bogus"');
  } finally {
    for (const [k, v] of [["TESSERA_WORKERS", saved.w], ["TESSERA_KERNELS", saved.k]]) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  assert.ok(Number.isFinite(await x.sum().compute()));
});

test("a signal that is not an AbortSignal is INVALID_ARGUMENT", async () => {
  await rejectsCode(() => src().sum().compute({ signal: {} }), "INVALID_ARGUMENT", "signal");
  await rejectsCode(() => src().sum().compute({ signal: "stop" }), "INVALID_ARGUMENT", '"stop"');
});

test("error classes: validation errors are ValidationError, compute failures ComputeError", async () => {
  const v = throwsCode(() => zeros([-1]), "INVALID_SHAPE");
  assert.instance(v, ValidationError);
  assert.instance(v, TesseraError);
  assert.is(v.name, "ValidationError");
  const c = await rejectsCode(src().mapBlocks(() => 1).compute(), "TASK_FAILED");
  assert.instance(c, ComputeError);
  assert.instance(c, TesseraError);
});

test("NDArray eager methods: add, sum with axis, get, toArray", async () => {
  const nd = await src().compute();
  assert.instance(nd, NDArray);
  assert.equal(nd.shape, [6, 10]);
  assert.is(nd.dtype, "float64");
  assert.instance(nd.data, Float64Array);
  assert.is(nd.ndim, 2);
  assert.is(nd.size, 60);
  const a = nd.add(nd);
  assert.instance(a, NDArray, "NDArray.add is eager");
  sameArray(a, R.binary("add", ref, ref));
  sameArray(nd.add(2.5), R.binary("add", ref, 2.5));
  const s = nd.sum({ axis: 1 });
  assert.instance(s, NDArray);
  sameArray(s, R.reduce("sum", ref, { axis: 1 }));
  assert.is(nd.sum(), R.scalar(R.reduce("sum", ref)));
  assert.is(nd.get(0, 0), VALS[0]);
  assert.is(nd.get(5, 9), VALS[59]);
  assert.is(nd.get(-1, -1), VALS[59]);
  assert.is(nd.get(2, 3), VALS[23]);
  throwsCode(() => nd.get(6, 0), "INDEX_ERROR", "6");
  throwsCode(() => nd.get(0, -11), "INDEX_ERROR", "-11");
  throwsCode(() => nd.get(0, 0, 0), "INDEX_ERROR", "too many indices");
  throwsCode(() => nd.get(0.5, 0), "INDEX_ERROR", "0.5");
  // fewer integers than axes: a row, as numpy (an NDArray)
  assert.equal(nd.get(0).shape, [10]);
  assert.is(nd.get(0).get(3), VALS[3]);
  assert.equal(nd.toArray(), R.nest(VALS, [6, 10]));
  const b = await src().gt(0).compute();
  assert.equal(b.toArray()[0], VALS.slice(0, 10).map((v) => v > 0));
  // a bool array's element is a boolean, as numpy's item() and toArray()
  assert.is(b.get(0, 0), VALS[0] > 0);
  assert.is(b.get(-1, -1), VALS[59] > 0);
  assert.is(typeof b.get(1, 2), "boolean");
  // NDArray with NDArray of another shape broadcasts; with a ChunkedArray it refuses
  sameArray(nd.mul(nd.sum({ axis: 0 })), R.binary("mul", ref, R.reduce("sum", ref, { axis: 0 })));
  throwsCode(() => nd.add(src()), "INVALID_ARGUMENT");
  throwsCode(() => nd.add(fromArray([1, 2, 3]).compute), "INVALID_ARGUMENT");
});

test("0-d and size-0 arrays", async () => {
  const s = fromArray(5);
  assert.equal(s.shape, []);
  assert.is(s.size, 1);
  assert.is(s.ndim, 0);
  const r = await s.add(1).compute();
  assert.instance(r, NDArray);
  assert.equal(r.shape, []);
  assert.is(r.get(), 6);
  assert.is(r.toArray(), 6);
  assert.is(await s.sum().compute(), 5);
  assert.is(await s.max().compute(), 5);
  assert.is(await s.argmax().compute(), 0);
  const e = zeros([3, 0]);
  assert.is(e.size, 0);
  const er = await e.add(1).compute();
  assert.equal(er.shape, [3, 0]);
  assert.is(er.data.length, 0);
  assert.equal(er.toArray(), [[], [], []]);
  assert.is(await e.sum().compute(), 0);
  const es = await e.sum({ axis: 1 }).compute();
  assert.equal(Array.from(es.data), [0, 0, 0]);
  const e0 = await e.sum({ axis: 0 }).compute();
  assert.equal(e0.shape, [0]);
  assert.is(await zeros([0]).add(ones([0])).sum().compute(), 0);
  const [a, b] = await compute(e.add(1), s.mul(2));
  assert.equal(a.shape, [3, 0]);
  assert.is(b.get(), 10);
});

test("a ChunkedArray is lazy: building a graph computes nothing", () => {
  const counter = new SharedArrayBuffer(4);
  const y = counted(src(), counter).add(1).sum();
  assert.instance(y, ChunkedArray);
  assert.is(Atomics.load(new Int32Array(counter), 0), 0);
  assert.ok(String(y).includes("ChunkedArray"));
});

test.run();
