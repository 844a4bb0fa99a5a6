// SlurmCluster's own logic with its SLURM commands replaced by a stand-in that runs each job script with
// bash on this machine (so the workers are real `node dist/worker.js` processes started by the real job
// script): a job killed at its walltime mid-compute (same bits, the job replaced), jobs that end before
// any worker joins (it stops submitting and says so), adapt() in whole jobs, the jobs' states, close().
// The same behaviour against real sbatch/squeue/scancel is in test/slurm/slurm-cluster.test.mjs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, SlurmCluster, random } from "../../../dist/index.js";
import { sameBits, sleep, until } from "../helpers.mjs";

const dirs = mkdtempSync(join(tmpdir(), "tessera-fake-slurm-"));

/** sbatch / squeue / scancel on this machine: a job is `bash -c script` with SLURM_JOB_ID set. */
class LocalSlurm {
  jobs = new Map();
  next = 100;
  submitted = [];
  async submit(script) {
    const id = String(this.next++);
    const child = spawn("bash", ["-c", script], { env: { ...process.env, SLURM_JOB_ID: id }, stdio: "ignore" });
    const job = { child, state: "RUNNING" };
    child.once("exit", (code) => {
      if (job.state === "RUNNING") job.state = code === 0 ? "COMPLETED" : "FAILED";
    });
    this.jobs.set(id, job);
    this.submitted.push(id);
    return id;
  }
  async states(ids) {
    const m = new Map();
    for (const id of ids) {
      const j = this.jobs.get(id);
      if (j) m.set(id, { id, state: j.state, reason: "None", timeLeft: 600, nodes: "localhost" });
    }
    return m;
  }
  async cancel(ids) {
    for (const id of ids) this.end(id, "CANCELLED", "SIGTERM");
  }
  /** SLURM's end of a job at its walltime: the job's processes killed. */
  end(id, state = "TIMEOUT", signal = "SIGKILL") {
    const j = this.jobs.get(id);
    if (!j || j.state !== "RUNNING") return;
    j.state = state;
    j.child.kill(signal);
  }
  killAll() {
    for (const j of this.jobs.values()) j.child.kill("SIGKILL");
  }
}

async function open(fake, opts = {}) {
  const lines = [];
  const cluster = await SlurmCluster.start(
    { cores: 1, memory: "512 MiB", walltime: "00:10:00", interface: "127.0.0.1", pollMs: 100, sharedDirectory: join(dirs, "shared"), log: (l) => lines.push(l), ...opts },
    fake,
  );
  return { cluster, lines };
}

test("a job killed at its walltime mid-compute: the result keeps its bits and the job is replaced", async () => {
  const fake = new LocalSlurm();
  const { cluster, lines } = await open(fake);
  const client = await Client.connect(cluster);
  try {
    await cluster.scale(2);
    await cluster.waitForWorkers(2, 30_000);
    const x = random.random([600, 300], { chunks: [40, 300], seed: 21 });
    const y = x.mapBlocks((b) => {
      const t = Date.now();
      while (Date.now() - t < 100);
      return b.mul(2);
    }).sum({ axis: 1 });
    let done = 0;
    const f = client.compute(y, { progress: (e) => (done = e.done ?? done) });
    await until(() => done >= 2, 30_000, "the compute to start");
    const victim = fake.submitted[0];
    fake.end(victim);
    sameBits(await f.result({ timeout: 60_000 }), await y.compute({ workers: 1, scheduler: "threads" }), "after a walltime vs local");
    await until(() => fake.submitted.length === 3, 10_000, "a job to replace the one that timed out");
    assert.ok(lines.some((l) => l === `tessera: job ${victim} ended (TIMEOUT)`), lines.join("\n"));
    await cluster.waitForWorkers(2, 30_000);
    assert.equal(cluster.jobs.map((j) => j.id).sort(), fake.submitted.slice(1).sort());
  } finally {
    await client.close();
    await cluster.close();
    fake.killAll();
  }
  assert.ok([...fake.jobs.values()].every((j) => j.state !== "RUNNING"), "close() left a job running");
});

test("jobs that end before any worker joins: three in a row, then no more until scale() is called again", async () => {
  const fake = new LocalSlurm();
  const { cluster, lines } = await open(fake, { jobScriptPrologue: ["echo 'no node here' >&2; exit 3"] });
  try {
    await cluster.scale(1);
    await until(() => lines.some((l) => l.includes("3 jobs in a row ended before any worker joined")), 10_000, "the cluster to give up");
    await sleep(500);
    assert.is(fake.submitted.length, 3, `submitted ${fake.submitted.length} jobs`);
    assert.ok(lines.some((l) => /job 100 ended \(FAILED\): none of its workers joined/.test(l)), lines.join("\n"));
    await cluster.scale(1);
    await until(() => fake.submitted.length === 6, 10_000, "scale() to try again");
  } finally {
    await cluster.close();
    fake.killAll();
  }
});

test("adapt() grows in whole jobs while work waits and retires whole idle jobs, without a submit/cancel loop", async () => {
  const fake = new LocalSlurm();
  const { cluster } = await open(fake, { cores: 2, memory: "1 GiB", processes: 2 });
  const client = await Client.connect(cluster);
  try {
    const ad = cluster.adapt({ minimum: 0, maximum: 4, intervalMs: 100, idleMs: 1000 });
    assert.is(ad.maximum, 4);
    const x = random.random([400, 400], { chunks: 50, seed: 4 });
    const y = x.mapBlocks((b) => {
      const t = Date.now();
      while (Date.now() - t < 20);
      return b.add(1);
    }).sum();
    const got = await client.compute(y).result({ timeout: 60_000 });
    sameBits(got, await y.compute({ workers: 1, scheduler: "threads" }), "adaptive vs local");
    assert.ok(fake.submitted.length >= 1 && fake.submitted.length <= 2, `submitted ${fake.submitted.length} jobs for one compute`);
    for (const w of cluster.workers) assert.match(w.name, /^tessera-worker-\d+-[01]$/);
    await until(() => cluster.jobs.length === 0 && cluster.workers.length === 0, 20_000, "the idle jobs to be let go");
    const submitted = fake.submitted.length;
    await sleep(1500);
    assert.is(fake.submitted.length, submitted, "it submitted again with no work waiting");
  } finally {
    await client.close();
    await cluster.close();
    fake.killAll();
  }
});

test("dashboard: the cluster's jobs (state, walltime left) in its snapshot, with its token; none without", async () => {
  const fake = new LocalSlurm();
  const { cluster } = await open(fake, { dashboard: { port: 0 } });
  try {
    assert.match(cluster.dashboardLink, /^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    await cluster.scale(1);
    await cluster.waitForWorkers(1, 30_000);
    const url = new URL(cluster.dashboardLink);
    const token = url.searchParams.get("token");
    assert.is((await fetch(`${url.origin}/snapshot`)).status, 403);
    let snap;
    const t0 = Date.now();
    do {
      await sleep(200);
      snap = await (await fetch(`${url.origin}/snapshot?token=${token}`)).json();
    } while (!(snap.jobs?.length === 1 && snap.jobs[0].state === "RUNNING") && Date.now() - t0 < 10_000);
    assert.equal(snap.jobs.map((j) => [j.id, j.state, j.walltimeLeft]), [[fake.submitted[0], "RUNNING", 600]]);
  } finally {
    await cluster.close();
    fake.killAll();
  }
  const { cluster: plain } = await open(new LocalSlurm());
  assert.is(plain.dashboardLink, null);
  await plain.close();
});

test("a slow sbatch: polls while scale() submits add no job, and a scale down or close() meanwhile cancels the late ones", async () => {
  // real sbatch took a second on a loaded CI machine: scale(2) submitted 3 jobs (a poll between the
  // first and the second submit counted only the first)
  class SlowSlurm extends LocalSlurm {
    async submit(script) {
      await sleep(400);
      return super.submit("sleep 60"); // no worker: only the jobs are counted
    }
  }
  const fake = new SlowSlurm();
  const { cluster } = await open(fake);
  try {
    await cluster.scale(2);
    assert.is(fake.submitted.length, 2, `scale(2) submitted ${fake.submitted.length} jobs`);
    await sleep(500);
    assert.is(fake.submitted.length, 2, "a poll submitted another");
    const growing = cluster.scale(4);
    await sleep(100);
    await cluster.scale(1); // while the third job's sbatch runs: it and the second are cancelled
    await growing;
    await sleep(300);
    assert.is(fake.submitted.length, 3, `submitted ${fake.submitted.length}`);
    assert.equal(cluster.jobs.map((j) => j.id), [fake.submitted[0]]);
    assert.equal(fake.submitted.map((id) => fake.jobs.get(id).state), ["RUNNING", "CANCELLED", "CANCELLED"]);
    const late = cluster.scale(2);
    await sleep(100);
    await cluster.close();
    await late.catch(() => {});
    assert.is(fake.submitted.length, 4);
    assert.ok(fake.submitted.every((id) => fake.jobs.get(id).state === "CANCELLED"), "close() left a job submitted during it");
  } finally {
    await cluster.close();
    fake.killAll();
  }
});

test("bad options and bad scale requests name the value", async () => {
  const fake = new LocalSlurm();
  await SlurmCluster.start({ cores: 1, memory: "1 GB", interface: "no-such-if0", log: () => {} }, fake).then(
    () => assert.unreachable(),
    (e) => assert.match(e.message, /network interface "no-such-if0" does not exist/),
  );
  const { cluster } = await open(fake);
  try {
    for (const [req, re] of [[-1, /scale -1/], [{ jobs: 1, workers: 2 }, /exactly one of/], [{ cpus: 2 }, /exactly one of/], [{ memory: "2G" }, /"2G"/]]) {
      await cluster.scale(req).then(() => assert.unreachable(`scale(${JSON.stringify(req)})`), (e) => {
        assert.is(e.code, "INVALID_ARGUMENT");
        assert.match(e.message, re);
      });
    }
    await cluster.scale({ memory: "1 GB" }); // 2 jobs of 512 MiB
    assert.is(fake.submitted.length, 2);
    await cluster.scale({ cores: 0 });
  } finally {
    await cluster.close();
    fake.killAll();
  }
  await cluster.scale(1).then(() => assert.unreachable(), (e) => assert.is(e.code, "CLUSTER_CLOSED"));
});

test.run();
