// Plans are plain data: they serialize and come back equal, hash the same when built from the same
// graph (whatever the node ids) and differently otherwise, say which chunks each task reads and writes,
// and run in another process from their text alone.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { isDeepStrictEqual } from "node:util";
import { random, fromArray, arange, slice } from "../../dist/index.js";
import { lower } from "../../dist/graph/lower.js";
import { serializePlan, deserializePlan, planHash } from "../../dist/plan/hash.js";
import { LayerTasks } from "../../dist/plan/tasks.js";
import { TaskGraph } from "../../dist/plan/task-graph.js";

const planOf = (a, opts) => lower([{ node: a.node, chunks: a.chunks }], opts).plan;

test("a plan serializes to text and back (typed arrays, NaN, -0 and infinities included)", () => {
  const x = random.normal(0, 1, [40, 30], { chunks: [16, 10], seed: 3 });
  const y = x.mul(-0).add(NaN).maximum(Infinity).sum({ axis: 0 });
  const p = planOf(y);
  const back = deserializePlan(serializePlan(p));
  assert.ok(isDeepStrictEqual(back, p), "equal, NaN and -0 by SameValue");
  assert.instance(back.kernels[0].template.code, Int32Array);
  assert.instance(back.kernels[0].template.consts, Float64Array);
  assert.ok([...back.kernels[0].template.consts].some((v) => Object.is(v, -0)), "-0 survives");
  assert.ok([...back.kernels[0].template.consts].some((v) => Number.isNaN(v)), "NaN survives");
  assert.is(planHash(back), planHash(p));
});

test("the hash follows the graph, not node ids; data enters by content", () => {
  const build = (seed) => random.random([100, 80], { chunks: 25, seed }).add(1).mean({ axis: 1 });
  assert.is(planHash(planOf(build(1))), planHash(planOf(build(1))), "same graph, other node ids: same hash");
  assert.is.not(planHash(planOf(build(1))), planHash(planOf(build(2))), "another seed");
  const d = (v) => fromArray(Float64Array.from({ length: 20 }, (_, i) => i * v), { chunks: 5 }).sum();
  const h = (a) => planHash(planOf(a, { hashInputs: true }));
  assert.is(h(d(1)), h(d(1)));
  assert.is.not(h(d(1)), h(d(2)), "other data, other hash");
});

test("tasks: which chunks each reads and writes", () => {
  const x = fromArray(new Float64Array(12 * 10), { shape: [12, 10], chunks: [4, 5] });
  const p = planOf(x.sum({ axis: 0 }));
  assert.equal(p.layers.map((l) => l.kind), ["program", "combine"]);
  const prog = new LayerTasks(p, p.layers[0]);
  assert.is(prog.count, 6, "one task per chunk (3 x 2)");
  const a = prog.accesses(4);
  assert.equal(a.reads, [{ buffer: p.layers[0] && a.reads[0].buffer, chunk: 4 }], "reads its own chunk of the data");
  assert.equal(a.writes.map((w) => w.chunk), [4], "writes its partial chunk");
  const comb = new LayerTasks(p, p.layers[1]);
  assert.is(comb.count, 2, "one combine per result chunk");
  assert.equal(comb.accesses(1).reads.map((r) => r.chunk), [1, 3, 5], "the partials of column block 1, in block order");
  // a misaligned read refines the task grid: each task reads one chunk of its leaf
  const q = planOf(x.rechunk([6, 10]).sum());
  assert.equal(q.layers[0].grid.chunks, [[4, 2, 2, 4], [5, 5]], "cut at both chunkings");
});

test("culling: only the tasks the outputs need are run (a slice of a file reads the chunks it meets)", () => {
  const x = random.random([100, 80], { chunks: [10, 20], seed: 1 });
  const y = x.mapBlocks((b) => b.mul(2), { trace: false });
  const g = new TaskGraph(planOf(y.get(slice(25, 35), slice(0, 20)).sum()));
  const kinds = g.plan.layers.map((l) => l.kind);
  const needed = g.plan.layers.map((_, l) => Array.from({ length: g.tasks[l].count }, (_, t) => t).filter((t) => g.isNeeded(l, t)));
  const mb = kinds.indexOf("mapBlocks");
  assert.is(g.tasks[mb].count, 40, "the layer has a task per block");
  assert.equal(needed[mb], [8, 12], "the mapBlocks of blocks (2, 0) and (3, 0) only");
  // everything an output needs runs: no culling of a whole-array result
  const all = new TaskGraph(planOf(y.sum({ axis: 0 })));
  all.plan.layers.forEach((_, l) => {
    for (let t = 0; t < all.tasks[l].count; t++) assert.ok(all.isNeeded(l, t), `layer ${l} task ${t}`);
  });
});

test("a plan runs in another process from its text alone (bit-identical)", async () => {
  const x = random.random([300, 200], { chunks: [64, 50], seed: 11 }).get(slice(null, null, -1)).mul(3).sum({ axis: 1 });
  const mine = await x.compute();
  const text = serializePlan(planOf(x));
  const script = `
    import { deserializePlan } from "./dist/plan/hash.js";
    import { eagerContexts, runInThread } from "./dist/scheduler/inthread.js";
    let text = "";
    for await (const c of process.stdin) text += c;
    const [r] = runInThread(eagerContexts()[0], { plan: deserializePlan(text), bindings: [] });
    process.stdout.write(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString("base64"));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: new URL("../..", import.meta.url), input: text, encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, Buffer.from(mine.data.buffer, mine.data.byteOffset, mine.data.byteLength).toString("base64"));
});

test.run();
