/** Worker death mid-task, recovery, and processes that exit by themselves (idle workers never keep them alive). */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { fromArray, compute, arange, random } from "../../dist/index.js";
import { rejectsCode, within } from "../helpers/check.mjs";

const INDEX = new URL("../../dist/index.js", import.meta.url).href;
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const src = () => fromArray(Float64Array.from({ length: 64 }, (_, i) => i), { shape: [8, 8], chunks: [2, 4] });
const SUM = (64 * 63) / 2;

test("a worker that exits mid-task rejects the compute with WORKER_DIED within a few seconds", async () => {
  const y = src().mapBlocks((b, info) => {
    if (info.blockIndex[0] === 2 && info.blockIndex[1] === 1) process.exit(3);
    return b.add(1);
  });
  const t0 = Date.now();
  const err = await rejectsCode(within(5000, y.sum().compute(), "compute with a dying worker"), "WORKER_DIED");
  assert.ok(Date.now() - t0 < 5000);
  assert.ok(/exit|died/i.test(err.message), err.message);
});

test("after a worker died the next compute works and is right (twice in a row, several workers)", async () => {
  const die = () => src().mapBlocks((b, info) => (info.blockIndex[0] === 3 ? process.exit(3) : b));
  await rejectsCode(within(5000, die().sum().compute({ workers: 2 })), "WORKER_DIED");
  assert.is(await within(10_000, src().sum().compute(), "compute after a death"), SUM);
  await rejectsCode(within(5000, die().max().compute({ workers: 2 })), "WORKER_DIED");
  await rejectsCode(within(5000, die().max().compute({ workers: 1 })), "WORKER_DIED");
  const [s, m, r] = await within(10_000, compute(src().mapBlocks((b) => b.mul(2)).sum(), src().max(), random.random([300, 300], { chunks: 50, seed: 3 }).sum()));
  assert.is(s, 2 * SUM);
  assert.is(m, 63);
  const r2 = await random.random([300, 300], { chunks: 50, seed: 3 }).sum().compute({ workers: 1 });
  assert.ok(Object.is(r, r2), "results after replacement are the same bits");
  // every worker of the pool still answers: a compute with many blocks on all workers
  assert.is(await within(10_000, arange(100_000, { chunks: 1000 }).sum().compute({ workers: 2 })), 4999950000);
});

/**
 * Runs a script with `node -e` in a fresh process (CommonJS eval, the API loaded with import());
 * resolves { code, stdout, stderr, ms } or rejects when it has not exited after `ms`.
 */
function runScript(body, ms = 6000, { moduleInput = false } = {}) {
  const script = moduleInput
    ? `import * as T from ${JSON.stringify(INDEX)};\n${body}\n`
    : `import(${JSON.stringify(INDEX)}).then(async (T) => {\n${body}\n});`;
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const args = moduleInput ? ["--input-type=module", "-e", script] : ["-e", script];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TESSERA_WORKERS: "2" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the process did not exit by itself within ${ms} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, ms);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

test("a process exits by itself after computing (idle workers do not keep it alive)", async () => {
  const r = await runScript(`
    const x = T.random.random([500, 500], { chunks: 100, seed: 1 });
    const s = await x.add(1).sum().compute();
    const m = await x.mapBlocks((b) => b.mul(2)).max().compute({ workers: 2 });
    console.log(JSON.stringify({ s, m }));
  `);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.s > 250000 && out.m < 2, r.stdout);
});

test("a process exits by itself after a failed compute (TASK_FAILED, WORKER_DIED)", async () => {
  const r = await runScript(`
    const x = T.arange(100, { chunks: 10 });
    try { await x.mapBlocks(() => { throw new Error("nope"); }).compute(); } catch (e) { console.log(e.code); }
    try { await x.mapBlocks(() => process.exit(5)).compute(); } catch (e) { console.log(e.code); }
  `);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n"), ["TASK_FAILED", "WORKER_DIED"]);
});

test("a process exits by itself after an aborted compute", async () => {
  const r = await runScript(`
    const ac = new AbortController();
    const x = T.zeros([40, 10], { chunks: [1, 10] }).mapBlocks((b) => { const t = Date.now() + 20; while (Date.now() < t); return b; });
    setTimeout(() => ac.abort(), 60);
    try { await x.sum().compute({ signal: ac.signal }); } catch (e) { console.log(e.code); }
  `);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), "ABORTED");
});

test("a process exits by itself after a compute refused for a bad signal option", async () => {
  const r = await runScript(`
    try { await T.arange(100, { chunks: 10 }).sum().compute({ signal: {} }); } catch (e) { console.log(e.code ?? e.name); }
  `, 4000);
  assert.is(r.code, 0, r.stderr);
});

test("the engine works in a process started with node --input-type=module -e (workers must not inherit --input-type)", async () => {
  const r = await runScript(
    `
    const s = await T.arange(1000, { chunks: 100 }).sum().compute({ workers: 2 });
    console.log(String(s));
  `,
    8000,
    { moduleInput: true },
  );
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), "499500", r.stderr);
});

test.run();
