// run.js across ranks (--np starts local ranks; the SLURM tests run the same through srun).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function run(args, { env = {}, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [RUN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

test("the tutorial pipeline gives bit-identical results on 1, 2, 3, 4 and 8 ranks", async () => {
  const results = [];
  for (const np of [1, 2, 3, 4, 8]) {
    const r = await run(["--np", String(np), "--n", "3000", "--chunk", "400", "--json"]);
    assert.is(r.code, 0, `np=${np}: ${r.stderr}`);
    const lines = r.stdout.trim().split("\n");
    assert.is(lines.length, 1, `np=${np}: only rank 0 prints: ${r.stdout}`);
    const j = JSON.parse(lines[0]);
    assert.is(j.ranks, np);
    results.push(j.result);
  }
  assert.ok(results.every((v) => Object.is(v, results[0])), `results differ: ${results}`);
});

test("a user script using world collectives runs on 3 ranks", async () => {
  const one = await run([fixture("world-script.mjs"), "9"]);
  const three = await run(["--np", "3", fixture("world-script.mjs"), "9"]);
  assert.is(three.code, 0, three.stderr);
  const a = JSON.parse(one.stdout);
  const b = JSON.parse(three.stdout);
  assert.equal(b.ranks, [0, 1, 2]);
  assert.is(b.total, 6);
  assert.is(b.fromRoot, "hello");
  assert.ok(Object.is(a.sum, b.sum) && Object.is(a.mean0, b.mean0) && Object.is(a.meanLast, b.meanLast));
});

test("a rank killed mid-run makes every rank exit non-zero within 10 s, naming the lost rank", async () => {
  const r = await run(["--np", "3", fixture("lose-rank.mjs")], { timeoutMs: 30_000 });
  assert.is.not(r.code, 0);
  assert.ok(r.seconds < 15, `took ${r.seconds} s`);
  assert.match(r.stderr, /rank 1/);
  assert.not.match(r.stdout, /not reached/);
});

test("ranks that build different graphs fail with GRAPH_MISMATCH", async () => {
  const r = await run(["--np", "2", fixture("diverge.mjs")], { timeoutMs: 30_000 });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /GRAPH_MISMATCH/);
});

test("a rank pointed at an unreachable coordinator fails with a message naming the address", async () => {
  const r = await run(["--n", "100", "--timeout", "2"], {
    env: { TESSERA_RANK: "1", TESSERA_SIZE: "2", TESSERA_COORDINATOR: "127.0.0.1:9", TESSERA_TOKEN: "0".repeat(64) },
    timeoutMs: 20_000,
  });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /127\.0\.0\.1:9/);
  assert.ok(r.seconds < 10, `took ${r.seconds} s`);
});

test("bad rank options exit 2 with one line", async () => {
  for (const args of [["--np", "0"], ["--coordinator", "nohostport"], ["--timeout", "-1"]]) {
    const r = await run(args);
    assert.is(r.code, 2, `${args}: ${r.stderr}`);
    assert.is(r.stderr.trim().split("\n").length, 1);
  }
});

test.run();
