/**
 * SlurmCluster against real SLURM (the one-node cluster of scripts/slurm/cluster.sh, started in a fresh
 * state directory and stopped afterwards): jobs submitted through sbatch, futures pending while the jobs
 * wait in the queue (held back by a job that takes every CPU), then finished with the bits of a local
 * compute; a job scancelled mid-compute (its work recomputed elsewhere, the job replaced); scaling down
 * and processes per job; close() leaving no job in squeue and no token file. Runs with TESSERA_SLURM=1.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Client, SlurmCluster, random } from "../../dist/index.js";
import { sameBits, sleep } from "../cluster/helpers.mjs";
import { skipReason, slurmEnv, start, testCluster } from "./harness.mjs";

const why = skipReason();
if (why) {
  console.log(`test/slurm/slurm-cluster: skipped (${why})`);
} else {
  const slurm = testCluster();
  const dirs = mkdtempSync(join(tmpdir(), "tessera-slurmcluster-"));
  let env;
  const sh = async (cmd, ...args) => {
    const r = await start(cmd, args, { env, timeout: 30_000 }).done;
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  /** Waits for `cond` (sync or async) to hold, checking every 100 ms; fails naming `what` (a string or a function giving one). */
  const until = async (cond, ms, what) => {
    const t0 = Date.now();
    while (!(await cond())) {
      if (Date.now() - t0 > ms) assert.unreachable(`${typeof what === "function" ? what() : what} within ${ms / 1000} s`);
      await sleep(100);
    }
  };
  /** Our jobs that squeue still shows as active (the default states: pending, running, completing...). */
  const active = async (ids) => (await sh("squeue", "-h", "-o", "%i")).split("\n").map((s) => s.trim()).filter((id) => ids.includes(id));

  const open = async (opts = {}) => {
    const lines = [];
    const cluster = await SlurmCluster.start({
      cores: 1, memory: "1 GB", walltime: "00:10:00", pollMs: 300, interface: "lo", sharedDirectory: join(dirs, "shared"), logDirectory: join(dirs, "logs"),
      log: (l) => lines.push(l), ...opts,
    });
    return { cluster, lines };
  };

  test.before(async () => {
    const conf = await slurm.start();
    env = slurmEnv(conf);
    // SlurmCluster runs sbatch/squeue/scancel with this process's environment
    for (const k of Object.keys(process.env)) if (k.startsWith("SLURM_")) delete process.env[k];
    process.env.SLURM_CONF = conf;
  });
  test.after(() => slurm.stop());

  test("jobScript() is what sbatch runs: the token file's path (mode 0600), never the token", async () => {
    // without interface the scheduler listens on the address this host's name resolves to (one that compute nodes reach)
    const resolves = await lookup(hostname()).then(() => true, () => false);
    if (!resolves) {
      await SlurmCluster.start({ cores: 1, memory: "1 GB", log: () => {} }).then(
        () => assert.unreachable("started with a host name that does not resolve"),
        (e) => assert.match(e.message, /pass interface/),
      );
      return;
    }
    const { cluster } = await open({ interface: undefined, account: "def-accountname", jobExtraDirectives: ["--comment=tessera-test"] });
    try {
      const s = cluster.jobScript();
      assert.match(s, /^#!\/usr\/bin\/env bash\n\n#SBATCH -J tessera-worker\n/);
      assert.match(s, /#SBATCH -A def-accountname\n/);
      assert.match(s, /#SBATCH --cpus-per-task=1\n#SBATCH --mem=954M\n#SBATCH -t 00:10:00\n#SBATCH --comment=tessera-test\n/);
      assert.ok(s.includes(`--scheduler ${cluster.address} --token-file ${cluster.tokenFile} `));
      assert.not.ok(s.includes(cluster.scheduler.token), "the token is in the job script");
      assert.is(statSync(cluster.tokenFile).mode & 0o777, 0o600);
      assert.is(readFileSync(cluster.tokenFile, "utf8").trim(), cluster.scheduler.token);
    } finally {
      await cluster.close();
    }
    assert.not.ok(existsSync(cluster.tokenFile), "close() left the token file");
  });

  test("scale(2): two jobs through sbatch; a compute stays pending while they queue, then finishes with the local bits; close() leaves no job", async () => {
    // a job that takes every CPU of the node holds ours back in the queue
    const blocker = (await sh("sbatch", "--parsable", "-c", process.env.TESSERA_SLURM_CPUS ?? "8", "-t", "00:05:00", "-o", "/dev/null", "--wrap", "sleep 120")).trim();
    const { cluster, lines } = await open();
    const client = await Client.connect(cluster);
    let ids = [];
    try {
      await until(async () => (await sh("squeue", "-h", "-j", blocker, "-o", "%T")).trim() === "RUNNING", 20_000, "the blocking job to run");
      const t0 = Date.now();
      await cluster.scale(2);
      ids = cluster.jobs.map((j) => j.id);
      assert.is(ids.length, 2);
      assert.equal((await active(ids)).sort(), [...ids].sort(), "squeue lists the submitted jobs");
      const x = random.random([600, 500], { chunks: [100, 250], seed: 11 });
      const y = x.mapBlocks((b) => b.mul(3).add(1)).sum({ axis: 0 });
      const f = client.compute(y);
      // SLURM says why: the first waits for Resources, the one behind it for Priority
      await until(() => cluster.jobs.every((j) => j.state === "PENDING" && ["Resources", "Priority"].includes(j.reason)), 20_000, () => `the jobs to wait for resources (${JSON.stringify(cluster.jobs)})`);
      assert.ok(cluster.jobs.some((j) => j.reason === "Resources"));
      await sleep(1000);
      assert.is(f.status, "pending", "the future finished with no worker");
      assert.is(cluster.workers.length, 0);
      await sh("scancel", blocker);
      const got = await f.result({ timeout: 60_000 });
      const firstResult = Date.now() - t0;
      assert.is(f.status, "finished");
      sameBits(got, await y.compute({ workers: 1, scheduler: "threads" }), "SlurmCluster vs local");
      await cluster.waitForWorkers(2, 30_000);
      assert.equal(cluster.workers.map((w) => w.name).sort(), ids.map((id) => `tessera-worker-${id}`).sort(), lines.join("\n"));
      for (const j of cluster.jobs) {
        assert.is(j.state, "RUNNING");
        assert.is(j.workers.length, 1);
      }
      await until(() => cluster.jobs.every((j) => j.timeLeft !== null && j.timeLeft > 0 && j.timeLeft <= 600), 10_000, "squeue's time left");
      assert.ok(lines.some((l) => /worker tessera-worker-\d+ joined \(job \d+/.test(l)), lines.join("\n"));
      console.log(`  scale(2) to the first result, the jobs queued behind another until it was cancelled: ${firstResult} ms`);
    } finally {
      await client.close();
      await cluster.close();
      await cluster.close(); // safe twice
      await sh("scancel", blocker).catch(() => {});
    }
    assert.equal(await active(ids), [], "close() left jobs in squeue");
  });

  test("a job scancelled mid-compute: its chunks are recomputed on the other worker (same bits) and the job is replaced", async () => {
    const { cluster, lines } = await open();
    const client = await Client.connect(cluster);
    let ids = [];
    try {
      await cluster.scale(2);
      await cluster.waitForWorkers(2, 60_000);
      ids = cluster.jobs.map((j) => j.id);
      const x = random.random([800, 400], { chunks: [50, 400], seed: 3 });
      const y = x.mapBlocks((b) => {
        const t = Date.now();
        while (Date.now() - t < 150);
        return b.add(2);
      }).sum({ axis: 1 });
      let done = 0;
      const f = client.compute(y, { progress: (e) => (done = e.done ?? done) });
      await until(() => done >= 2, 30_000, "the compute to start");
      const victim = ids[0];
      await sh("scancel", victim);
      const got = await f.result({ timeout: 90_000 });
      sameBits(got, await y.compute({ workers: 1, scheduler: "threads" }), "after a scancel vs local");
      assert.ok(cluster.scheduler.stats.workersLost >= 1, "no worker was lost");
      await until(() => cluster.jobs.length === 2 && !cluster.jobs.some((j) => j.id === victim), 30_000, "a job to replace the cancelled one");
      ids = [...new Set([...ids, ...cluster.jobs.map((j) => j.id)])];
      assert.ok(lines.some((l) => l.includes(`job ${victim} ended (CANCELLED`)), lines.join("\n"));
    } finally {
      await client.close();
      await cluster.close();
    }
    assert.equal(await active(ids), [], "close() left jobs in squeue");
  });

  test("processes: 2 workers per job; scale counts workers, scale({ jobs }) jobs; scaling down ends the newest job", async () => {
    const { cluster } = await open({ cores: 2, memory: "2 GiB", processes: 2 });
    const client = await Client.connect(cluster);
    let ids = [];
    try {
      await cluster.scale(3); // 3 workers: 2 jobs of 2
      assert.is(cluster.jobs.length, 2);
      await cluster.waitForWorkers(4, 60_000);
      ids = cluster.jobs.map((j) => j.id);
      const names = cluster.workers.map((w) => w.name).sort();
      assert.equal(names, ids.flatMap((id) => [`tessera-worker-${id}-0`, `tessera-worker-${id}-1`]).sort());
      for (const w of cluster.workers) assert.is(w.threads, 1);
      const x = random.random([300, 300], { chunks: 60, seed: 9 });
      sameBits(await client.compute(x.sum({ axis: 0 })).result(), await x.sum({ axis: 0 }).compute({ workers: 1, scheduler: "threads" }), "2 jobs of 2 workers vs local");
      await cluster.scale({ jobs: 1 });
      const newest = String(Math.max(...ids.map(Number)));
      await until(async () => !(await active(ids)).includes(newest), 40_000, "the newest job to end");
      await until(() => cluster.workers.length === 2, 10_000, "its workers to leave");
      await until(() => cluster.jobs.length === 1, 5_000, "cluster.jobs to drop the job that ended");
      assert.equal(cluster.jobs.map((j) => j.id), ids.filter((id) => id !== newest));
    } finally {
      await client.close();
      await cluster.close();
    }
    assert.equal(await active(ids), [], "close() left jobs in squeue");
  });

  test.run();
}
