/**
 * Failures of tessera ranks under real srun (a one-node cluster, scripts/slurm/cluster.sh): a frozen rank
 * must not keep srun waiting (with or without --kill-on-bad-exit), and collectives that cannot match end
 * the step at once. Runs only with TESSERA_SLURM=1 and SLURM installed; otherwise it skips itself.
 * Asserts only on tessera's own lines in srun's stderr (srun adds its own at random).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { skipReason, slurmEnv, start, testCluster } from "./harness.mjs";

const NODE = process.execPath;
const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
const fixture = (name) => fileURLToPath(new URL(`../cli/fixtures/${name}`, import.meta.url));

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const reason = skipReason();

if (reason) {
  console.log(`  test/slurm/failures: skipped, ${reason}`);
  test.skip("tessera rank failures under real srun");
} else {
  const cluster = testCluster();
  let conf = null;
  const srun = (args, opts = {}) => {
    if (!conf) throw new Error("the test cluster did not start (see the first test)");
    return start("srun", args, { cwd: cluster.work, env: slurmEnv(conf), ...opts });
  };

  // Started in a test, not in test.before: uvu swallows errors thrown by before hooks.
  test("cluster.sh start brings up a cluster", async () => {
    conf = await cluster.start();
  });

  for (const killOnBadExit of [false, true]) {
    const flags = killOnBadExit ? ["--kill-on-bad-exit=1"] : [];
    test(`srun -n 3${killOnBadExit ? " -K" : ""}: a rank frozen by SIGSTOP is noticed and srun ends within 30 s, non-zero`, async () => {
      let pid = null;
      let ready;
      const isReady = new Promise((r) => (ready = r));
      const job = srun([...flags, "-n", "3", NODE, RUN, fixture("wait-forever.mjs")], {
        timeout: 90_000,
        onStderr: (s) => /ALL READY/.test(s) && ready(s),
      });
      try {
        const stderr = await Promise.race([isReady, job.done.then((r) => { throw new Error(`srun ended before the ranks were ready: ${r.stderr}`); })]);
        pid = Number(/RANK 1 PID (\d+)/.exec(stderr)?.[1]);
        assert.ok(pid > 0, stderr);
        const t0 = Date.now();
        process.kill(pid, "SIGSTOP");
        const r = await Promise.race([
          job.done,
          new Promise((res) => setTimeout(() => res(null), 30_000)),
        ]);
        assert.ok(r, `srun still waits 30 s after rank 1 (pid ${pid}) was stopped`);
        const ms = Date.now() - t0;
        assert.ok(r.code !== 0, `srun exit code ${r.code}`);
        for (const rank of [0, 2]) assert.match(r.stderr, new RegExp(`run\\.js: RANK_LOST: rank 1 was lost: .*; rank ${rank} stops`));
        assert.match(r.stderr, /ending SLURM step \d+\.\d+ \(scancel --signal=KILL/);
        assert.ok(!alive(pid), `the frozen task ${pid} is still there`);
        console.log(`    srun${killOnBadExit ? " -K" : ""} exited ${r.code} ${(ms / 1000).toFixed(1)} s after SIGSTOP`);
      } finally {
        if (pid && alive(pid)) {
          process.kill(pid, "SIGCONT");
          process.kill(pid, "SIGKILL");
        }
        if (job.child.exitCode === null && job.child.signalCode === null) job.child.kill("SIGKILL");
        await job.done.catch(() => {});
      }
    });
  }

  test("srun -n 3: barrier on one rank while the others compute(): COLLECTIVE_MISMATCH on every rank, at once", async () => {
    const r = await srun(["-n", "3", NODE, RUN, fixture("mismatch-barrier.mjs")], { timeout: 60_000 }).done;
    assert.ok(r.code !== 0, `srun exit code ${r.code}`);
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
    for (const rank of [0, 1, 2]) assert.match(r.stderr, new RegExp(`run\\.js: COLLECTIVE_MISMATCH: .*rank 1 called barrier #\\d+.*; rank ${rank} stops`));
    assert.not.match(r.stdout, /not reached/);
  });

  test.after(() => cluster.stop());
}

test.run();
