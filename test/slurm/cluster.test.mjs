/**
 * Real SLURM: starts a one-node cluster on loopback (scripts/slurm/cluster.sh) in a fresh temporary state
 * directory, runs srun and sbatch --wait against it, and stops it afterwards (always).
 * Runs only with TESSERA_SLURM=1 and SLURM installed (scripts/slurm/install.sh); otherwise it skips itself.
 * Never asserts on srun's own stderr: it prints "queued and waiting for resources" and the like at random.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const CLUSTER = fileURLToPath(new URL("../../scripts/slurm/cluster.sh", import.meta.url));
const NODE = process.execPath;

// Daemons live in /usr/sbin, which a non-login PATH may lack.
const PATH = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"].filter(Boolean).join(delimiter);

function which(cmd) {
  for (const dir of PATH.split(delimiter)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {}
  }
  return null;
}

function skipReason() {
  if (process.env.TESSERA_SLURM !== "1") return "TESSERA_SLURM is not 1";
  const missing = ["srun", "sbatch", "sinfo", "slurmctld", "slurmd", "munged"].filter((c) => !which(c));
  if (missing.length) return `not installed: ${missing.join(", ")} (run scripts/slurm/install.sh)`;
  return null;
}

/** The environment for SLURM clients: ours, minus any SLURM_* inherited from an enclosing job, plus SLURM_CONF. */
function slurmEnv(conf, extra = {}) {
  const env = { PATH };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SLURM_") && k !== "PATH") env[k] = v;
  return { ...env, ...(conf ? { SLURM_CONF: conf } : {}), ...extra };
}

/** Runs a command; resolves { code, signal, stdout, stderr, ms }; rejects after `timeout` ms (and kills it). */
function run(cmd, args, { cwd, env, timeout = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} did not exit within ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeout);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const lines = (s) => s.split("\n").map((l) => l.trim()).filter(Boolean);

const reason = skipReason();

if (reason) {
  console.log(`  test/slurm: skipped, ${reason}`);
  test.skip("real SLURM cluster (srun, sbatch --wait)");
} else {
  const state = mkdtempSync(join(tmpdir(), "tessera-slurm-"));
  const work = mkdtempSync(join(tmpdir(), "tessera-slurm-work-"));
  let conf = null;
  let stopped = false;

  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    const r = spawnSync("bash", [CLUSTER, "stop", state], { env: slurmEnv(null), encoding: "utf8", timeout: 30_000 });
    if (r.status !== 0) console.error(`test/slurm: cluster.sh stop exited ${r.status}\n${r.stderr}`);
    rmSync(state, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  };
  // Last resort if the runner exits before the after hook (uvu's "Exiting early").
  process.once("exit", stopSync);

  const srun = (args, opts = {}) => {
    if (!conf) throw new Error("the test cluster did not start (see the first test)");
    return run("srun", args, { cwd: work, env: slurmEnv(conf), ...opts });
  };
  const sbatch = (args, opts = {}) => {
    if (!conf) throw new Error("the test cluster did not start (see the first test)");
    return run("sbatch", args, { cwd: work, env: slurmEnv(conf), ...opts });
  };

  // Started in a test, not in test.before: uvu swallows errors thrown by before hooks.
  test("cluster.sh start brings up a one-node cluster with an idle node", async () => {
    const r = await run("bash", [CLUSTER, "start", state], { env: slurmEnv(null), timeout: 90_000 });
    assert.is(r.code, 0, `cluster.sh start failed:\n${r.stderr}`);
    const m = /^export SLURM_CONF=(\S+)$/m.exec(r.stdout);
    assert.ok(m, `an export line in ${JSON.stringify(r.stdout)}`);
    conf = m[1];
    const s = await run("sinfo", ["-h", "-N", "-o", "%N %T %c"], { env: slurmEnv(conf), timeout: 15_000 });
    assert.is(s.code, 0, s.stderr);
    assert.is(s.stdout.trim(), "localhost idle 8");
  });

  test("srun -n 3: each rank sees its SLURM_PROCID, SLURM_STEP_NUM_TASKS and the same job", async () => {
    const script = `const e = process.env; console.log(JSON.stringify({ rank: e.SLURM_PROCID, size: e.SLURM_STEP_NUM_TASKS, local: e.SLURM_LOCALID, job: e.SLURM_JOB_ID, step: e.SLURM_STEP_ID, nodes: e.SLURM_STEP_NODELIST }))`;
    const r = await srun(["-n", "3", NODE, "-e", script]);
    assert.is(r.code, 0, r.stderr);
    const ranks = lines(r.stdout).map((l) => JSON.parse(l));
    assert.is(ranks.length, 3, r.stdout);
    ranks.sort((a, b) => Number(a.rank) - Number(b.rank));
    assert.equal(ranks.map((x) => x.rank), ["0", "1", "2"]);
    assert.equal(ranks.map((x) => x.size), ["3", "3", "3"]);
    assert.equal(ranks.map((x) => x.local), ["0", "1", "2"]);
    assert.is(new Set(ranks.map((x) => x.job)).size, 1, "one job id");
    assert.ok(/^\d+$/.test(ranks[0].job), `a numeric job id: ${ranks[0].job}`);
    assert.equal(ranks.map((x) => x.nodes), ["localhost", "localhost", "localhost"]);
  });

  test("sbatch --wait runs a 4-task job script and writes its output file", async () => {
    const out = join(work, "ok.out");
    writeFileSync(
      join(work, "ok.sh"),
      [
        "#!/bin/bash",
        "#SBATCH --ntasks=4 --cpus-per-task=1 --time=00:05:00 --mem=100M",
        `#SBATCH --output=${out}`,
        'echo "batch ntasks=$SLURM_NTASKS step_tasks=${SLURM_STEP_NUM_TASKS:-unset}"',
        `srun ${JSON.stringify(NODE)} -e 'console.log("rank " + process.env.SLURM_PROCID + " of " + process.env.SLURM_STEP_NUM_TASKS)'`,
        "",
      ].join("\n"),
    );
    const r = await sbatch(["--wait", "--parsable", join(work, "ok.sh")]);
    assert.is(r.code, 0, r.stderr);
    const text = readFileSync(out, "utf8");
    const got = lines(text);
    // A program run directly in the batch script is one process: SLURM_NTASKS is set, SLURM_STEP_NUM_TASKS is not.
    assert.ok(got.includes("batch ntasks=4 step_tasks=unset"), text);
    const ranks = got.filter((l) => l.startsWith("rank ")).sort();
    assert.equal(ranks, ["rank 0 of 4", "rank 1 of 4", "rank 2 of 4", "rank 3 of 4"]);
  });

  test("sbatch --wait returns the job script's exit code", async () => {
    const r = await sbatch(["--wait", "-n", "1", `--output=${join(work, "fail.out")}`, "--wrap", "echo before; exit 3"]);
    assert.is(r.code, 3, r.stderr);
    assert.is(readFileSync(join(work, "fail.out"), "utf8").trim(), "before");
  });

  test("a failing rank makes srun exit non-zero", async () => {
    const r = await srun(["-n", "3", NODE, "-e", "process.exit(process.env.SLURM_PROCID === '1' ? 5 : 0)"]);
    assert.ok(r.code !== 0, `srun exit code ${r.code}`);
  });

  test("srun --kill-on-bad-exit stops the other ranks when one fails", async () => {
    const script = "if (process.env.SLURM_PROCID === '1') process.exit(2); setTimeout(() => {}, 60_000)";
    const r = await srun(["-n", "3", "--kill-on-bad-exit=1", NODE, "-e", script], { timeout: 30_000 });
    assert.ok(r.code !== 0, `srun exit code ${r.code}`);
    assert.ok(r.ms < 20_000, `srun returned after ${r.ms} ms, the surviving ranks were not killed`);
  });

  test("an impossible request is rejected at once, not queued (EnforcePartLimits=ALL)", async () => {
    const r = await srun(["-n", "9", "true"], { timeout: 15_000 });
    assert.ok(r.code !== 0, `srun -n 9 on 8 CPUs exit code ${r.code}`);
  });

  // tessera itself through real srun and sbatch: the same tests as test/cli/ranks.test.mjs with --np
  const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
  const fixture = (name) => fileURLToPath(new URL(`../cli/fixtures/${name}`, import.meta.url));
  const jsonLines = (s) => lines(s).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));

  test("srun node dist/run.js: the tutorial pipeline is bit-identical on 1, 2, 3, 4 and 8 ranks", async () => {
    const results = [];
    for (const n of [1, 2, 3, 4, 8]) {
      const r = await srun(["-n", String(n), NODE, RUN, "--n", "3000", "--chunk", "400", "--json", "--workers", "1"], { timeout: 120_000 });
      assert.is(r.code, 0, `srun -n ${n}: ${r.stderr}`);
      const out = jsonLines(r.stdout);
      assert.is(out.length, 1, `only rank 0 prints (srun -n ${n}): ${r.stdout}`);
      assert.is(out[0].ranks, n);
      results.push(out[0].result);
    }
    assert.ok(results.every((v) => Object.is(v, results[0])), `results differ: ${results}`);
  });

  test("sbatch --wait: a job script running a world-collectives pipeline on 4 ranks", async () => {
    const out = join(work, "world.out");
    writeFileSync(
      join(work, "world.sh"),
      [
        "#!/bin/bash",
        "#SBATCH --ntasks=4 --cpus-per-task=1 --time=00:05:00 --mem=500M",
        `#SBATCH --output=${out}`,
        `srun ${JSON.stringify(NODE)} ${JSON.stringify(RUN)} ${JSON.stringify(fixture("world-script.mjs"))} 9`,
        "",
      ].join("\n"),
    );
    const r = await sbatch(["--wait", join(work, "world.sh")], { timeout: 120_000 });
    assert.is(r.code, 0, `sbatch --wait: ${r.stderr}\n${readFileSync(out, "utf8")}`);
    const [res] = jsonLines(readFileSync(out, "utf8"));
    assert.equal(res.ranks, [0, 1, 2, 3]);
    assert.is(res.total, 10);
    assert.is(res.size, 4);
  });

  test("a rank killed mid-run: every rank exits non-zero within 10 s, without --kill-on-bad-exit", async () => {
    const r = await srun(["-n", "3", NODE, RUN, fixture("lose-rank.mjs")], { timeout: 60_000 });
    assert.ok(r.code !== 0, `srun exit code ${r.code}`);
    assert.ok(r.ms < 12_000, `took ${r.ms} ms`);
    assert.not.match(r.stdout, /not reached/);
  });

  /** A loopback port nobody listens on. */
  const freePort = () =>
    new Promise((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
  const sh = (s) => `'${s.replace(/'/g, "'\\''")}'`;

  test("srun: a rank whose token differs from rank 0's is refused, and both ranks exit non-zero", async () => {
    const port = await freePort();
    // rank 1 gets another token than rank 0: its connection must be refused before anything is read
    const cmd = `if [ "$SLURM_PROCID" = 0 ]; then T=${"a".repeat(64)}; else T=${"b".repeat(64)}; fi; ` +
      `TESSERA_TOKEN=$T TESSERA_COORDINATOR=127.0.0.1:${port} exec ${sh(NODE)} ${sh(RUN)} --n 100 --timeout 3`;
    const r = await srun(["-n", "2", "bash", "-c", cmd], { timeout: 60_000 });
    assert.ok(r.code !== 0, `srun exit code ${r.code}`);
    assert.match(r.stderr, /AUTH_FAILED: refused a connection from 127\.0\.0\.1:\d+ .*wrong token/);
    assert.match(r.stderr, /rank 1 could not reach rank 0 .*refused: .*AUTH_FAILED/);
    assert.not.match(r.stdout, /result/);
  });

  test("srun: a rank pointed at an unreachable coordinator fails within its timeout, naming the address", async () => {
    const port = await freePort();
    // rank 0 is gone before it listens (it exits at once): rank 1 finds nobody at the coordinator address
    const cmd = `[ "$SLURM_PROCID" = 0 ] && exit 0; TESSERA_TOKEN=${"c".repeat(64)} TESSERA_COORDINATOR=127.0.0.1:${port} ` +
      `exec ${sh(NODE)} ${sh(RUN)} --n 100 --timeout 3`;
    const r = await srun(["-n", "2", "bash", "-c", cmd], { timeout: 60_000 });
    assert.ok(r.code !== 0, `srun exit code ${r.code}`);
    assert.match(r.stderr, new RegExp(`RENDEZVOUS_FAILED: rank 1 could not reach rank 0 at 127\\.0\\.0\\.1:${port} within 3 s`));
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  });

  test("srun -n 12 --overcommit: a world connected on demand meets through the shared directory, bit for bit, and leaves nothing behind", async () => {
    const r = await srun(["-n", "12", "--overcommit", NODE, RUN, "--workers", "1", fixture("scale.mjs")], { timeout: 120_000 });
    assert.is(r.code, 0, r.stderr);
    const ranks = lines(r.stdout).filter((l) => l.startsWith("{\"rank\"")).map((l) => JSON.parse(l));
    assert.is(ranks.length, 12, r.stdout);
    assert.is(new Set(ranks.map((o) => o.large)).size, 1, "every rank has the same large allreduce");
    assert.is(new Set(ranks.map((o) => o.custom)).size, 1);
    for (const o of ranks) assert.ok(o.peers.length <= 8, `rank ${o.rank} has links to ${o.peers}`);
    assert.equal(readdirSync(work).filter((f) => f.startsWith(".tessera-rendezvous")), [], "the token file and the directory are gone");
  });

  test.after(() => stopSync());
}

test.run();
