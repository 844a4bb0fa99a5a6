import { test } from "uvu";
import * as assert from "uvu/assert";
import { discoverWorld, parseHostPort } from "../../dist/comm/discover.js";
import { expandHostlist } from "../../dist/comm/hostlist.js";
import { chooseRootHost, defaultRendezvousPath, readRendezvousFile, writeRendezvousFile, removeRendezvousFile } from "../../dist/comm/rendezvous.js";
import { chmodSync, chownSync, mkdtempSync, statSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";

test("hostlist: ranges, zero padding, lists, products", () => {
  assert.equal(expandHostlist("n[01-04,07]"), ["n01", "n02", "n03", "n04", "n07"]);
  assert.equal(expandHostlist("a[1-2]b,c"), ["a1b", "a2b", "c"]);
  assert.equal(expandHostlist("node1"), ["node1"]);
  assert.equal(expandHostlist("x[8-11]"), ["x8", "x9", "x10", "x11"]);
  assert.equal(expandHostlist("x[008-010]"), ["x008", "x009", "x010"]);
  assert.equal(expandHostlist("r[1-2]n[1-2]"), ["r1n1", "r1n2", "r2n1", "r2n2"]);
  assert.equal(expandHostlist("gpu[1,3],cpu[01-02],login"), ["gpu1", "gpu3", "cpu01", "cpu02", "login"]);
  assert.equal(expandHostlist(""), []);
  const many = expandHostlist("n[1-300000],login"); // was push(...300k names): a stack overflow
  assert.equal([many.length, many[0], many[299_999], many[300_000]], [300_001, "n1", "n300000", "login"]);
  for (const bad of ["n[1-", "n]1[", "n[a-b]", "n[3-1]"]) {
    assert.throws(() => expandHostlist(bad), (e) => e.code === "INVALID_ARGUMENT" && e.message.includes(JSON.stringify(bad)));
  }
});

test("discover: nothing means one rank", () => {
  const w = discoverWorld({});
  assert.is(w.rank, 0);
  assert.is(w.size, 1);
  assert.is(w.source, "none");
  assert.is(w.allLocal, true);
});

test("discover: SLURM step variables; SLURM_NTASKS alone (sbatch without srun) is one process", () => {
  const w = discoverWorld({
    SLURM_PROCID: "5", SLURM_STEP_NUM_TASKS: "8", SLURM_LOCALID: "1", SLURM_STEP_NODELIST: "n[01-04]",
    SLURM_JOB_ID: "123", SLURM_STEP_ID: "0", SLURM_NTASKS: "8",
  });
  assert.equal([w.rank, w.size, w.localRank, w.source, w.jobId, w.stepId], [5, 8, 1, "slurm", "123", "0"]);
  assert.equal(w.nodes, ["n01", "n02", "n03", "n04"]);
  assert.is(w.allLocal, false);
  const batch = discoverWorld({ SLURM_PROCID: "0", SLURM_NTASKS: "8", SLURM_JOB_ID: "123", SLURM_NODELIST: "n[01-04]" });
  assert.is(batch.size, 1);
  const one = discoverWorld({ SLURM_PROCID: "1", SLURM_STEP_NUM_TASKS: "2", SLURM_STEP_NODELIST: "localhost", SLURM_JOB_ID: "9", SLURM_STEP_ID: "3" });
  assert.is(one.allLocal, true);
});

test("discover: Open MPI, PMI, tessera; precedence tessera > OMPI > PMI > SLURM", () => {
  const o = discoverWorld({ OMPI_COMM_WORLD_RANK: "2", OMPI_COMM_WORLD_SIZE: "4", OMPI_COMM_WORLD_LOCAL_RANK: "0", OMPI_COMM_WORLD_LOCAL_SIZE: "4", SLURM_PROCID: "0", SLURM_STEP_NUM_TASKS: "1" });
  assert.equal([o.rank, o.size, o.source, o.allLocal], [2, 4, "ompi", true]);
  const p = discoverWorld({ PMI_RANK: "1", PMI_SIZE: "3" });
  assert.equal([p.rank, p.size, p.source, p.allLocal], [1, 3, "pmi", undefined]);
  const t = discoverWorld({ TESSERA_RANK: "1", TESSERA_SIZE: "2", TESSERA_COORDINATOR: "127.0.0.1:4000", TESSERA_TOKEN: "abc", PMI_RANK: "0", PMI_SIZE: "5" });
  assert.equal([t.rank, t.size, t.source, t.token, t.allLocal], [1, 2, "tessera", "abc", true]);
  assert.equal(t.coordinator, { host: "127.0.0.1", port: 4000 });
});

test("discover: malformed variables are named", () => {
  assert.throws(() => discoverWorld({ TESSERA_RANK: "x", TESSERA_SIZE: "2" }), (e) => e.code === "INVALID_ARGUMENT" && e.message.includes("TESSERA_RANK"));
  assert.throws(() => discoverWorld({ TESSERA_RANK: "2", TESSERA_SIZE: "2" }), (e) => e.message.includes("not below the world size 2"));
  assert.throws(() => discoverWorld({ TESSERA_RANK: "0", TESSERA_SIZE: "2", TESSERA_COORDINATOR: "nohost" }), (e) => e.message.includes("TESSERA_COORDINATOR"));
  assert.equal(parseHostPort("[::1]:99"), { host: "::1", port: 99 });
});

test("rendezvous: listen address is explicit, loopback when all local, else a loud failure", () => {
  assert.is(chooseRootHost(undefined, { allLocal: true, size: 4, nodes: [], source: "tessera" }), "127.0.0.1");
  assert.is(chooseRootHost("127.0.0.1", { allLocal: false, size: 4, nodes: ["a", "b"], source: "slurm" }), "127.0.0.1");
  assert.is(chooseRootHost("lo", { allLocal: false, size: 4, nodes: ["a", "b"], source: "slurm" }), "127.0.0.1");
  assert.throws(() => chooseRootHost(undefined, { allLocal: false, size: 4, nodes: ["n01", "n02"], source: "slurm" }), (e) => e.code === "RENDEZVOUS_FAILED" && e.message.includes("--interface"));
  assert.throws(() => chooseRootHost("nosuchif0", { allLocal: false, size: 4, nodes: [], source: "slurm" }), (e) => e.message.includes("nosuchif0"));
});

test("rendezvous file: atomic, 0600, stale ones ignored, removed by nonce", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-rdv-"));
  try {
    const path = defaultRendezvousPath({ jobId: "77", stepId: "1" }, dir);
    assert.is(path, join(dir, ".tessera-rendezvous-77.1.json"));
    const rec = { version: 1, job: "77", step: "1", size: 4, host: "127.0.0.1", port: 1234, token: "t", nonce: "n1", created: Date.now(), pid: 1, hostname: "h" };
    writeRendezvousFile(path, rec);
    assert.is(statSync(path).mode & 0o777, 0o600);
    assert.equal(readdirSync(dir), [".tessera-rendezvous-77.1.json"]); // no temporary left behind
    assert.equal(readRendezvousFile(path, { job: "77", step: "1", size: 4 }).rec, rec);
    const stale = readRendezvousFile(path, { job: "78", step: "1", size: 4 });
    assert.is(stale.rec, null);
    assert.ok(stale.why.includes("stale"));
    assert.is(readRendezvousFile(join(dir, "none.json"), { job: "77", step: "1", size: 4 }).why, "no such file");
    writeFileSync(join(dir, "partial.json"), '{"version":1,"ho', { mode: 0o600 });
    assert.is(readRendezvousFile(join(dir, "partial.json"), { job: "77", step: "1", size: 4 }).rec, null);
    removeRendezvousFile(path, "other-nonce");
    assert.ok(statSync(path));
    removeRendezvousFile(path, "n1");
    assert.throws(() => statSync(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rendezvous file: one of another user or open to group or others is refused (AUTH_FAILED naming path and mode); one whose writer is gone is stale", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-rdv-"));
  try {
    const path = join(dir, "rdv.json");
    const expect = { job: "77", step: "1", size: 4 };
    const rec = { version: 1, job: "77", step: "1", size: 4, host: "127.0.0.1", port: 1234, token: "t".repeat(64), nonce: "n1", created: Date.now(), pid: process.pid, hostname: hostname() };
    writeRendezvousFile(path, rec);
    assert.equal(readRendezvousFile(path, expect).rec, rec);
    for (const mode of [0o640, 0o604, 0o620, 0o666]) {
      chmodSync(path, mode);
      assert.throws(() => readRendezvousFile(path, expect), (e) => e.code === "AUTH_FAILED" && e.message.includes(path) && e.message.includes(`mode 0${mode.toString(8)}`));
    }
    chmodSync(path, 0o600);
    if (process.getuid?.() === 0) {
      chownSync(path, 65534, 65534); // as root, hand it to nobody
      assert.throws(() => readRendezvousFile(path, expect), (e) => e.code === "AUTH_FAILED" && e.message.includes(path) && e.message.includes("uid 65534"));
      chownSync(path, 0, 0);
    }
    // written on this host by a process that is gone (SIGKILL leaves the file): ignored as stale
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    writeRendezvousFile(path, { ...rec, pid: Number(gone.stdout) });
    const stale = readRendezvousFile(path, expect);
    assert.is(stale.rec, null);
    assert.match(stale.why, new RegExp(`stale: its writer \\(pid ${gone.stdout} on .*\\) is gone`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
