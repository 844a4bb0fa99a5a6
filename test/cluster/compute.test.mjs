// Computes on a LocalCluster of 2 worker processes × 1 thread give what a local compute gives, bit for
// bit: fused reductions, mapBlocks on real blocks, scans, user data and a locally persisted array as
// inputs, several outputs in one plan; a compute waits, pending, for its first worker; asDefault makes
// plain compute() run on the cluster.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client, fromArray, random, compute, linalg, histogram, topk } from "../../dist/index.js";
import { readFileSync } from "node:fs";
import { killAll, localCluster, sameBits, sleep, startWorker, until } from "./helpers.mjs";

let env;
test.before(async () => {
  env = await localCluster();
  env.client = await Client.connect(env.cluster);
});
test.after(async () => {
  try {
    await env?.client?.close();
    await env?.cluster?.close();
  } finally {
    killAll();
  }
});

const x = random.random([600, 400], { chunks: [100, 100], seed: 7 });
const data = fromArray(new Float64Array(600 * 400).map((_, i) => Math.sin(i) * 1e3), { shape: [600, 400], chunks: [150, 200] });

test("the cluster lists its workers: id, host, pid, threads, memory", () => {
  const ws = env.cluster.workers;
  assert.is(ws.length, 2);
  assert.equal(ws.map((w) => w.pid).sort(), env.cluster.pids.sort());
  for (const w of ws) {
    assert.ok(w.id >= 1 && typeof w.host === "string" && w.threads === 1 && w.memory > 0, JSON.stringify(w));
  }
  assert.match(env.cluster.address, /^ws:\/\/127\.0\.0\.1:\d+$/);
});

test("results equal a local compute bit for bit", async () => {
  const cases = {
    "sum": x.sum(),
    "mean along axis 0": x.mean({ axis: 0 }),
    "var along axis 1": x.var({ axis: 1 }),
    "argmin": x.argmin(),
    "mapBlocks(+1) -> sum, on real blocks": x.mapBlocks((b) => b.add(1), { trace: false }).sum(),
    "mapBlocks then a transpose (chunks move between workers)": x.mapBlocks((b) => b.mul(2), { trace: false }).T.add(data.T).sum({ axis: 1 }),
    "cumsum along axis 0 (carries)": x.cumsum({ axis: 0 }),
    "user data input": data.mul(x).sum({ axis: 0 }),
    "matmul (gemm tasks read rows and columns of blocks from both workers)": x.T.matmul(data).add(1),
    "TSQR's r (builtin block kernels, a batched matmul)": linalg.qr(x.get(null, [0, 1, 2, 3, 4]).rechunk([100, 5]))[1],
    "histogram counts (HIST partials)": histogram(x, { bins: 7, range: [0, 1] })[0],
    "topk (builtin block kernels, a merge)": topk(data, 3, { axis: 0 }),
  };
  for (const [what, a] of Object.entries(cases)) {
    const f = env.client.compute(a);
    const got = await f.result();
    assert.is(f.status, "finished", what);
    sameBits(got, await a.compute({ scheduler: "threads" }), what);
  }
});

test("a locally persisted array as input, and several outputs in one plan", async () => {
  const p = await x.add(data).persist({ scheduler: "threads" });
  const outs = [p.min(), p.max(), p.mul(3).sum({ axis: 1 })];
  const fs = env.client.compute(outs);
  assert.is(fs.length, 3);
  const got = await env.client.gather(fs);
  const local = await compute(...outs, { scheduler: "threads" });
  got.forEach((g, i) => sameBits(g, local[i], `output ${i}`));
});

test("a client is the default once connected (as in dask): plain compute() runs on the cluster while it is open", async () => {
  const pidOf = (a) => a.mapBlocks((b) => b.mul(0).add(process.pid), { trace: false }).max();
  const client = await Client.connect(env.cluster);
  const there = await pidOf(x).compute();
  assert.ok(env.cluster.pids.includes(there), `computed by worker process ${there}`);
  assert.is(await pidOf(x).compute({ scheduler: "threads" }), process.pid, "scheduler: threads runs in this process");
  sameBits(await x.mapBlocks((b) => b.sqrt(), { trace: false }).sum().compute(), await env.client.compute(x.sqrt().sum()).result(), "the same values");
  await client.close();
  await client.close(); // safe twice
  assert.is(await pidOf(x).compute(), process.pid, "back in this process once the client closed");
  const quiet = await Client.connect(env.cluster, { asDefault: false });
  assert.is(await pidOf(x).compute(), process.pid, "asDefault: false leaves compute() here");
  quiet.asDefault();
  assert.ok(env.cluster.pids.includes(await pidOf(x).compute()), "until asDefault()");
  await quiet.close();
  await Client.connect(env.cluster, { asDefult: true }).then(() => assert.unreachable(), (e) => assert.match(e.message, /asDefault/));
  try {
    await x.sum().compute({ scheduler: "processes" });
    assert.unreachable();
  } catch (e) {
    assert.match(e.message, /scheduler "processes" must be "threads"/);
  }
});

test("a compute waits, pending, for its first worker; a worker started by hand joins and computes it", async () => {
  const client = await Client.connect({ log: () => {} }); // a scheduler of its own, no workers
  let w = null;
  try {
    const f = client.compute(x.mapBlocks((b) => b.add(1), { trace: false }).sum());
    await sleep(500);
    assert.is(f.status, "pending");
    w = startWorker(["--scheduler", client.address, "--nthreads", "1"], { TESSERA_TOKEN: client.scheduler.token });
    sameBits(await f.result({ timeout: 30_000 }), await x.add(1).sum().compute({ scheduler: "threads" }), "computed by the late worker");
    assert.is(f.status, "finished");
    assert.is(client.workers.length, 1);
  } finally {
    await client.close();
  }
  const { code } = await w.exit;
  assert.is(code, 0, "the worker stops when its scheduler closes");
});

test("a script that exits without closing its cluster leaves no worker process behind", async () => {
  const { execFileSync } = await import("node:child_process");
  const index = new URL("../../dist/index.js", import.meta.url).href;
  const src = `import { LocalCluster } from ${JSON.stringify(index)}; const c = await LocalCluster.start({ workers: 2, threadsPerWorker: 1 }); console.log(c.pids.join(" ")); process.exit(0);`;
  const pids = execFileSync(process.execPath, ["--input-type=module", "-e", src], { encoding: "utf8", timeout: 30_000 }).trim().split(" ").map(Number);
  assert.is(pids.length, 2);
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return !/^\S+ \S+ Z/.test(require_stat(pid));
    } catch {
      return false;
    }
  };
  await until(() => pids.every((p) => !alive(p)), 10_000, "the workers of an exited script are gone");
});

/** /proc/PID/stat (its third field is the state: Z for a zombie not reaped yet). */
function require_stat(pid) {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").replace(/\(.*\)/, "x");
  } catch {
    return "0 x Z";
  }
}

test.run();
