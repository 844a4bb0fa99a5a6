// The memory planner: a chunk has kernel memory from its first writer to its last reader, so the memory a
// compute needs follows the chunks alive at once, not the arrays; a failed compute leaves nothing behind;
// persisted chunks that do not fit the kernel memory move to JS memory and are still read correctly.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { random, ones, fromArray, compute } from "../../dist/index.js";
import { currentEngine } from "../../dist/scheduler/engine.js";
import { observeRuns } from "../../dist/scheduler/observe.js";

const MiB = 2 ** 20;

async function heap() {
  if (!currentEngine()) await ones([4], { chunks: 2 }).sum().compute();
  const h = currentEngine().heap;
  h.reclaim();
  return h;
}

test("a result streams out of kernel memory: the peak is a few chunks, not the array", async () => {
  const h = await heap();
  const before = h.bytesInUse;
  h.resetPeak();
  // 128 MiB of result in chunks of 2 MiB
  const x = random.random([4096, 4096], { chunks: 512, seed: 3 });
  const r = await x.mul(2).compute({ workers: 2 });
  assert.is(r.data.length, 4096 * 4096);
  const peak = h.peakInUse - before;
  assert.ok(peak < 48 * MiB, `kernel memory peaked ${(peak / MiB).toFixed(1)} MiB above the start for a 128 MiB result`);
  assert.is(h.bytesInUse, before, "everything given back");
});

test("materialized blocks live from their writer to their last reader (mapBlocks then a reduction)", async () => {
  const h = await heap();
  const before = h.bytesInUse;
  h.resetPeak();
  // 64 blocks of 2 MiB in, 64 out: 256 MiB if every block lived at once
  const x = random.random([4096, 4096], { chunks: 512, seed: 4 });
  const s = await x.mapBlocks((b) => b.mul(2)).sum().compute({ workers: 2 });
  assert.ok(Math.abs(s - 2 * (await x.sum().compute())) < 1e-6 * s);
  // each worker also holds a mapBlocks eager region (8 x its in + out blocks, 32 MiB)
  const peak = h.peakInUse - before;
  assert.ok(peak < 2 * 32 * MiB + 48 * MiB, `kernel memory peaked ${(peak / MiB).toFixed(1)} MiB above the start`);
  assert.is(h.bytesInUse, before);
});

test("a compute that fails part-way gives back every chunk it had", async () => {
  const h = await heap();
  const before = h.bytesInUse;
  const x = random.random([2048, 2048], { chunks: 256, seed: 5 });
  const bad = x.mapBlocks((b, info) => {
    if (info.blockIndex[0] === 5 && info.blockIndex[1] === 3) throw new Error("block boom");
    return b.add(1);
  });
  const e = await bad.add(x).sum().compute().then(() => null, (err) => err);
  assert.ok(e && e.code === "TASK_FAILED" && /block boom/.test(e.message), String(e?.message));
  assert.match(e.message, /block \[5, 3\]/);
  assert.is(h.bytesInUse, before, "nothing left allocated");
  const p = await x.persist();
  const e2 = await bad.persist().then(() => null, (err) => err);
  assert.ok(e2, "the failing persist rejects");
  assert.ok(h.bytesInUse >= before + 2048 * 2048 * 8, "the good persist is kept");
  assert.is(await p.sum().compute(), await x.sum().compute());
});

test("user data is staged into kernel memory chunk by chunk, not whole", async () => {
  const h = await heap();
  const before = h.bytesInUse;
  h.resetPeak();
  const data = Float64Array.from({ length: 2048 * 2048 }, (_, i) => i % 1000); // 32 MiB
  const x = fromArray(data, { shape: [2048, 2048], chunks: 256 });
  const [s, m] = await compute(x.sum(), x.max({ axis: 0 }), { workers: 2 });
  assert.is(s, data.reduce((a, b) => a + b, 0));
  for (const j of [0, 1, 777, 2047]) {
    let want = -Infinity;
    for (let i = 0; i < 2048; i++) want = Math.max(want, data[i * 2048 + j]);
    assert.is(m.data[j], want, `max of column ${j}`);
  }
  const peak = h.peakInUse - before;
  assert.ok(peak < 24 * MiB, `kernel memory peaked ${(peak / MiB).toFixed(1)} MiB for 32 MiB of data`);
});

test("a persisted input read in place is no new memory: its tasks go out in guided batches, user data copied in one by one", async () => {
  // 8 chunks of 32 MiB, one worker: a batch is capped by the new memory it takes (32 MiB). User data is
  // copied in, so each batch is one task; a persisted chunk is read where it lies, so the sum's batches
  // follow the guided sizes (ceil(ready / 4)), and a second waits in the worker: fewer round trips.
  const rows = 8 * 2048;
  const data = new Float64Array(rows * 2048).fill(1);
  // progress reports come per batch; the observer sees how many batches a worker held at once
  const reports = async (x) => {
    const seen = [];
    let held = 0, most = 0;
    const stop = observeRuns({ run: () => ({ batch: () => (most = Math.max(most, ++held)), done: () => held--, sent() {}, failed() {}, ended() {} }) });
    try {
      const s = await x.sum().compute({ workers: 1, progress: (p) => seen.push(p.done) });
      assert.is(s, rows * 2048);
    } finally {
      stop();
    }
    return { seen, most };
  };
  const copied = await reports(fromArray(data, { shape: [rows, 2048], chunks: 2048 }));
  assert.equal(copied.seen, [1, 2, 3, 4, 5, 6, 7, 8], "user data: one 32 MiB chunk staged per batch");
  assert.is(copied.most, 1, "no second batch holds another 32 MiB copy");
  const persisted = await fromArray(data, { shape: [rows, 2048], chunks: 2048 }).persist({ workers: 1 });
  const inPlace = await reports(persisted);
  assert.ok(inPlace.seen[0] >= 2 && inPlace.seen.length < 8, `batches of a persisted input: ${JSON.stringify(inPlace.seen)}`);
  assert.is(inPlace.seen.at(-1), 8);
  assert.is(inPlace.most, 2, "a second batch waits in the worker while it runs one");
});

test("a persisted array with spilled chunks counts as copied in, though its first chunk (the layer's measure) is resident", async () => {
  // the state a spill leaves when it skips a chunk a task was reading (pinned): chunk 0 resident, the
  // rest in JS memory. Its tasks copy in 32 MiB each, so a batch is one task, as for user data.
  const h = await heap();
  const rows = 8 * 2048;
  const p = await fromArray(new Float64Array(rows * 2048).fill(2), { shape: [rows, 2048], chunks: 2048 }).persist({ workers: 1 });
  const store = [...h.owned.values()].map((o) => o.store).find((st) => st.grid.nchunks === 8 && st.addrs.every((a) => a >= 0));
  assert.ok(store, "the persisted store");
  h.pin(store, 0);
  h.spill(7 * 32 * MiB, [store]);
  h.unpin(store, 0);
  assert.ok(store.addrs[0] >= 0 && store.spilledChunks === 7, `resident ${Array.from(store.addrs, (a) => (a >= 0 ? "R" : "s")).join("")}`);
  const seen = [];
  assert.is(await p.sum().compute({ workers: 1, progress: (e) => seen.push(e.done) }), rows * 2048 * 2);
  assert.equal(seen, [1, 2, 3, 4, 5, 6, 7, 8]);
});

test("persisting more than the kernel memory holds spills chunks to JS memory and reads them back (child process)", () => {
  const script = `
    import { random } from "./dist/index.js";
    const x = random.random([4096, 4096], { chunks: 512, seed: 9 }); // 128 MiB
    const p = await x.persist();
    const q = await x.add(1).persist(); // 256 MiB persisted with a 96 MiB kernel memory
    const [a, b, c] = [await p.sum().compute(), await q.sum().compute(), await x.sum().compute()];
    const m = await p.add(q).max({ axis: 0 }).compute();
    const want = await x.mul(2).add(1).max({ axis: 0 }).compute();
    console.log(JSON.stringify({ same: a === c, plusOne: Math.abs(b - c - 4096 * 4096) < 1e-3, max: m.data.every((v, i) => v === want.data[i]) }));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: new URL("../..", import.meta.url),
    env: { ...process.env, TESSERA_KERNEL_MEMORY: "96MiB", TESSERA_WORKERS: "2" },
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.trim().split("\n").pop()), { same: true, plusOne: true, max: true });
});

test("TESSERA_KERNEL_MEMORY is validated", () => {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", `import { ones } from "./dist/index.js"; await ones([2]).sum().compute();`], {
    cwd: new URL("../..", import.meta.url),
    env: { ...process.env, TESSERA_KERNEL_MEMORY: "lots" },
    encoding: "utf8",
  });
  assert.not.equal(r.status, 0);
  assert.match(r.stderr, /TESSERA_KERNEL_MEMORY "lots"/);
});

test.run();
