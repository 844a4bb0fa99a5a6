// WorkerPool.settle waits for every worker before it reports a failure. WorkerPool.stopBusy (after a
// failure or an abort) lets a worker finish the file write it holds before it terminates the worker,
// also when the worker holds a compute batch behind the write (toZarr's chunk writes are a layer of
// their own, so a worker often holds one of each): a worker terminated between
// the temporary file and the rename leaves the temporary file behind (CI saw "1.1.tessera-tmp-..." left
// after a failed toZarr), and its durable chunks still syncing in the background after their batches.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Heap } from "../../dist/scheduler/heap.js";
import { WorkerPool } from "../../dist/scheduler/pool.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-stop-busy-"));
process.env.TESSERA_TEST_WRITE_DIR = dir;

test("a worker holding a write and then a compute batch finishes the write before it is stopped", async () => {
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
  const pool = new WorkerPool(new Heap(memory, 1 << 20), null, new URL("./fixtures/slow-write-worker.mjs", import.meta.url), 1);
  try {
    const write = pool.run(0, { kind: "write", layer: 1, storage: { fsync: false } }, () => 0, 0, 1);
    const compute = pool.run(0, { kind: "elementwise", layer: 2 }, () => 0, 0, 1);
    const outcome = (p) => p.then(() => "done", (e) => e.code);
    const [wrote, computed] = [outcome(write), outcome(compute)];
    await new Promise((ok) => setTimeout(ok, 100)); // the write is under way
    assert.is(pool.inFlight(0), 2);
    await pool.stopBusy();
    assert.equal(readdirSync(dir), ["chunk-1"], "the chunk under its own name, no temporary file");
    assert.is(await wrote, "done");
    assert.is(await computed, "ABORTED", "the compute batch behind it is cut short");
    assert.is(pool.inFlight(0), 0);
  } finally {
    await pool.close();
  }
});

test("a worker whose written chunks still sync in the background finishes them before it is stopped", async () => {
  // toZarr({ fsync: true }): a write batch is done once its chunk is written; the chunk's fdatasync and
  // rename follow in the background while the worker computes on (storage/durable.ts). Stopping it then
  // left the temporary files of those chunks (the durable test saw "1.3.tessera-tmp-..." after a failure).
  process.env.TESSERA_TEST_DEFERRED_SYNC = "1";
  for (const f of readdirSync(dir)) rmSync(join(dir, f));
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
  const pool = new WorkerPool(new Heap(memory, 1 << 20), null, new URL("./fixtures/slow-write-worker.mjs", import.meta.url), 1);
  try {
    const write = pool.run(0, { kind: "write", layer: 1, storage: { fsync: true } }, () => 0, 0, 1);
    await write; // answered: its rename is pending
    const compute = pool.run(0, { kind: "elementwise", layer: 2 }, () => 0, 0, 1);
    const computed = compute.then(() => "done", (e) => e.code);
    await new Promise((ok) => setTimeout(ok, 100)); // the compute batch runs, the rename waits
    assert.is(pool.inFlight(0), 1);
    await pool.stopBusy();
    assert.equal(readdirSync(dir), ["chunk-1"], "the chunk renamed, no temporary file");
    assert.is(await computed, "done", "let finish: its background syncs are behind it");
    assert.is(pool.inFlight(0), 0);
  } finally {
    delete process.env.TESSERA_TEST_DEFERRED_SYNC;
    await pool.close();
  }
});

test("settle() rejects with a worker's failure only once every worker settled: no chunk still under its temporary name", async () => {
  // toZarr({ fsync: true }) of a chunk that fails: worker 0 reports the failure at once, while worker 1's
  // chunk is still syncing. Rejecting at the first failure let toZarr report it with worker 1's
  // temporary file still there (the full suite saw "2.3.tessera-tmp-..." left in the durable test).
  process.env.TESSERA_TEST_DEFERRED_SYNC = "1";
  for (const f of readdirSync(dir)) rmSync(join(dir, f));
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
  const pool = new WorkerPool(new Heap(memory, 1 << 20), null, new URL("./fixtures/slow-write-worker.mjs", import.meta.url), 2);
  try {
    await pool.run(0, { kind: "write", layer: 1, storage: { fsync: true, failSettle: true } }, () => 0, 0, 1);
    await pool.run(1, { kind: "write", layer: 2, storage: { fsync: true } }, () => 0, 0, 1); // its rename follows in 300 ms
    const got = await pool.settle().then(() => "settled", (e) => e.code);
    assert.is(got, "IO_ERROR", "the failure is reported");
    assert.equal(readdirSync(dir).filter((f) => f.endsWith(".tmp")), [], "the other worker's chunk was renamed before it was");
  } finally {
    delete process.env.TESSERA_TEST_DEFERRED_SYNC;
    await pool.close();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
