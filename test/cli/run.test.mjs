/** The command line: node dist/run.js, its output, user scripts and exit codes. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { random, compute } from "../../dist/index.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
const FIX = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Runs run.js; resolves { code, stdout, stderr }. */
function run(args, { timeout = 20_000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TESSERA_WORKERS: "2", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`run.js ${args.join(" ")} did not exit within ${timeout} ms`));
    }, timeout);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const lines = (s) => s.trim().split("\n").filter((l) => l.length);

test("run.js --n 4000 --chunk 500 prints result, elapsed and throughput lines", async () => {
  const r = await run(["--n", "4000", "--chunk", "500"]);
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout;
  const result = /^result:\s+(\S+)$/m.exec(out);
  assert.ok(result, `a result line in ${out}`);
  assert.ok(/^elapsed:\s+[\d.]+ s$/m.test(out), `an elapsed line in ${out}`);
  assert.ok(/^throughput:\s+[\d.]+e9 elements\/s/m.test(out), `a throughput line in ${out}`);
  const want = await random.random([4000, 4000], { chunks: 500, seed: 42 }).add(1).sum().compute();
  assert.ok(Object.is(Number(result[1]), want), `printed ${result[1]}, library gives ${want}`);
  assert.is(r.stderr, "", "nothing on stderr without a TTY");
});

test("run.js --json gives one parseable object with the fields, result as the library computes it", async () => {
  const r = await run(["--n", "1200", "--chunk", "300", "--seed", "7", "--workers", "1", "--json"]);
  assert.is(r.code, 0, r.stderr);
  assert.is(lines(r.stdout).length, 1, r.stdout);
  const j = JSON.parse(r.stdout);
  for (const k of ["n", "chunk", "seed", "workers", "result", "seconds", "elementsPerSecond"]) assert.ok(k in j, `field ${k} in ${r.stdout}`);
  assert.is(j.n, 1200);
  assert.is(j.chunk, 300);
  assert.is(j.seed, 7);
  assert.is(j.workers, 1);
  assert.type(j.seconds, "number");
  assert.ok(j.seconds > 0);
  assert.ok(Math.abs(j.elementsPerSecond - (1200 * 1200) / j.seconds) <= 1e-6 * j.elementsPerSecond, "elementsPerSecond = n^2 / seconds");
  const want = await random.random([1200, 1200], { chunks: 300, seed: 7 }).add(1).sum().compute();
  assert.ok(Object.is(j.result, want), `result ${j.result} vs library ${want}`);
  // the default seed is 42, and the same run twice gives the same bits
  const a = JSON.parse((await run(["--n", "500", "--chunk", "128", "--json", "--workers", "2"])).stdout);
  const b = JSON.parse((await run(["--n=500", "--chunk=128", "--json"])).stdout);
  assert.is(a.seed, 42);
  assert.ok(Object.is(a.result, b.result));
  const [w] = await compute(random.random([500, 500], { chunks: 128, seed: 42 }).add(1).sum());
  assert.ok(Object.is(a.result, w));
});

test("a user script prints its value as JSON; script args reach argv", async () => {
  const r = await run([FIX("pipeline.mjs"), "3", "--json"]);
  assert.is(r.code, 0, r.stderr);
  assert.is(lines(r.stdout).length, 1, r.stdout);
  const v = JSON.parse(r.stdout);
  assert.is(v.seed, 3);
  assert.equal(v.argv, ["3", "--json"], "arguments after the script belong to the script");
  assert.is(v.rank, 0);
  assert.is(v.size, 1);
  const x = random.normal(0, 1, [300, 400], { chunks: 150, seed: 3 });
  const [mean, std] = await compute(x.mean(), x.std());
  assert.ok(Object.is(v.mean, mean), `mean ${v.mean} vs ${mean}`);
  assert.ok(Object.is(v.std, std), `std ${v.std} vs ${std}`);
});

test("a user script returning an NDArray prints nested arrays; --json wraps it with seconds", async () => {
  const r = await run([FIX("ndarray.mjs")]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), [[0, 0.5, 1, 1.5, 2, 2.5], [10, 10.5, 11, 11.5, 12, 12.5]]);
  const j = await run(["--json", FIX("ndarray.mjs")]);
  assert.is(j.code, 0, j.stderr);
  const o = JSON.parse(j.stdout);
  assert.equal(o.result, [[0, 0.5, 1, 1.5, 2, 2.5], [10, 10.5, 11, 11.5, 12, 12.5]]);
  assert.type(o.seconds, "number");
});

test("a script whose computation fails exits 1 with the error on stderr", async () => {
  const r = await run([FIX("fails.mjs")]);
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.ok(r.stderr.includes("TASK_FAILED") && r.stderr.includes("fixture failure"), r.stderr);
  assert.is(r.stdout, "");
});

const oneLineError = (r, ...mentions) => {
  assert.is(r.code, 2, `exit code 2; stderr: ${r.stderr}`);
  assert.is(lines(r.stderr).length, 1, `one line on stderr: ${JSON.stringify(r.stderr)}`);
  for (const m of mentions) assert.ok(r.stderr.includes(m), `stderr ${JSON.stringify(r.stderr)} names ${m}`);
  assert.is(r.stdout, "");
};

test("bad arguments exit 2 with one line on stderr naming the value", async () => {
  const cases = [
    [["--n", "abc"], "abc"],
    [["--bogus"], "--bogus"],
    [["--chunk", "0"], "0"],
    [["--workers", "-1"], "-1"],
    [["--seed", "1.5"], "1.5"],
    [["--n"], "--n"],
    [["--n", "12x"], "12x"],
    [[FIX("no-default.mjs")], "no-default.mjs"],
    [["no-such-script.mjs"], "no-such-script.mjs"],
  ];
  const results = await Promise.all(cases.map(([args]) => run(args)));
  results.forEach((r, i) => oneLineError(r, ...[cases[i][1]]));
});

test("--progress in a log (stderr not a TTY): a line per tenth of the work, ending at 100%, apart from the result", async () => {
  const r = await run(["--n", "2000", "--chunk", "100", "--progress"]);
  assert.is(r.code, 0, r.stderr);
  const prog = lines(r.stderr).filter((l) => l.startsWith("progress:"));
  assert.ok(prog.length >= 2 && prog.length <= 11, `progress lines: ${r.stderr}`);
  assert.match(prog[prog.length - 1], /^progress: 100% 400\/400 chunks [\d.]+s$/);
  assert.not.match(r.stderr, /\r/);
  assert.match(r.stdout, /^result:/m);
  assert.is(lines(r.stdout).filter((l) => l.startsWith("progress")).length, 0);
  const quiet = await run(["--n", "2000", "--chunk", "100"]);
  assert.is(quiet.stderr, "", "no progress in a log without --progress");
  // on 2 ranks only rank 0 reports: one 100% line, not one per rank
  const two = await run(["--np", "2", "--n", "2000", "--chunk", "100", "--progress"], { timeout: 60_000 });
  assert.is(two.code, 0, two.stderr);
  assert.is(lines(two.stderr).filter((l) => /^progress: 100%/.test(l)).length, 1, two.stderr);
});

test("a script returning a lazy ChunkedArray has it computed and printed (also on 2 ranks)", async () => {
  for (const args of [[FIX("lazy.mjs")], ["--np", "2", FIX("lazy.mjs")]]) {
    const r = await run(args, { timeout: 60_000 });
    assert.is(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  }
});

test("node flags a worker refuses (V8's --no-liftoff) do not break the pool", async () => {
  const r = await new Promise((resolve) => {
    const child = spawn(process.execPath, ["--no-liftoff", RUN, "--n", "1000", "--chunk", "250", "--json"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
  assert.is(r.code, 0, r.stderr);
  assert.ok(Number.isFinite(JSON.parse(r.stdout).result));
});

test("NaN and infinities print faithfully: bare in plain output (Python json / JSON5), strings under --json (valid JSON)", async () => {
  const r = await run([FIX("non-finite.mjs")]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), '{"nan":NaN,"inf":Infinity,"ninf":-Infinity,"list":[1,NaN,-Infinity],"text":"NaN","sum":NaN}');
  const j = await run(["--json", FIX("non-finite.mjs")]);
  assert.is(j.code, 0, j.stderr);
  const o = JSON.parse(j.stdout); // strict JSON still parses
  assert.equal(o.result, { nan: "NaN", inf: "Infinity", ninf: "-Infinity", list: [1, "NaN", "-Infinity"], text: "NaN", sum: "NaN" });
});

test("a script whose promise never settles exits 1 saying so (was: exit 13, no message)", async () => {
  const r = await run([FIX("never-settles.mjs")]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /the script's promise never settled/);
  assert.is(r.stdout, "");
});

test("--help and -h exit 0 with the usage", async () => {
  for (const flag of ["--help", "-h"]) {
    const r = await run([flag]);
    assert.is(r.code, 0, r.stderr);
    assert.ok(/usage/i.test(r.stdout), r.stdout);
    assert.ok(r.stdout.includes("--json") && r.stdout.includes("--chunk"), r.stdout);
  }
});

test("--n 0 and a chunk larger than n are handled", async () => {
  const z = await run(["--n", "0", "--json"]);
  assert.is(z.code, 0, z.stderr);
  assert.is(JSON.parse(z.stdout).result, 0);
  const c = await run(["--n", "100", "--chunk", "1000", "--json"]);
  assert.is(c.code, 0, c.stderr);
  const want = await random.random([100, 100], { chunks: 100, seed: 42 }).add(1).sum().compute();
  assert.ok(Object.is(JSON.parse(c.stdout).result, want));
});

test.run();
