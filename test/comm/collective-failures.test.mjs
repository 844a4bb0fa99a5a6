// Collectives that cannot complete, through real `node dist/run.js --np 3` jobs: mismatched calls fail at
// once with COLLECTIVE_MISMATCH on every rank; waits nothing will answer end in COMM_TIMEOUT on every rank
// after the collective timeout (--collective-timeout / TESSERA_COLLECTIVE_TIMEOUT_MS).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
const fixture = (name) => fileURLToPath(new URL(`../cli/fixtures/${name}`, import.meta.url));

/** Runs run.js; kills it (and, through its SIGTERM forwarding, its ranks) after `timeoutMs`. */
function run(args, { env = {}, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [RUN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** Each rank's own failure line: `run.js: CODE: message; rank R stops`. */
function stopLines(stderr, np) {
  const byRank = new Map();
  for (const m of stderr.matchAll(/^run\.js: ([A-Z_]+): (.*); rank (\d+) stops$/gm)) byRank.set(Number(m[3]), { code: m[1], message: m[2] });
  return Array.from({ length: np }, (_, r) => byRank.get(r));
}

test("barrier on rank 1 while the others compute(): COLLECTIVE_MISMATCH on every rank, at once, naming both calls", async () => {
  const r = await run(["--np", "3", fixture("mismatch-barrier.mjs")], { timeoutMs: 30_000 });
  assert.ok(!r.killed, `still running after 30 s (hung):\n${r.stderr}`);
  assert.is(r.code, 1, r.stderr);
  assert.ok(r.seconds < 20, `took ${r.seconds} s`);
  for (const [rank, line] of stopLines(r.stderr, 3).entries()) {
    assert.ok(line, `rank ${rank} gave no reason:\n${r.stderr}`);
    assert.is(line.code, "COLLECTIVE_MISMATCH", r.stderr);
    const n = /rank 1 called barrier #(\d+)/.exec(line.message)?.[1];
    assert.ok(n, line.message);
    assert.match(line.message, new RegExp(`rank [02] called compute\\(\\)'s allgather #${n}\\b`));
  }
  assert.not.match(r.stdout, /not reached/);
});

test("recv with no matching send (another tag) ends in COMM_TIMEOUT on every rank after --collective-timeout", async () => {
  const r = await run(["--np", "3", "--collective-timeout", "2", fixture("recv-no-sender.mjs")], { timeoutMs: 40_000 });
  assert.ok(!r.killed, `still running after 40 s (hung):\n${r.stderr}`);
  assert.is(r.code, 1, r.stderr);
  assert.ok(r.seconds >= 2, `failed after ${r.seconds} s, before the timeout`);
  for (const [rank, line] of stopLines(r.stderr, 3).entries()) {
    assert.ok(line, `rank ${rank} gave no reason:\n${r.stderr}`);
    assert.is(line.code, "COMM_TIMEOUT", r.stderr);
    // the same explanation everywhere: who waited, in which call, and the message that did come
    assert.match(line.message, /^rank 0 waited more than 2 s in recv from rank 1 with tag 5 \(messages from rank 1 that no recv took: tag 7 \(1 message\)\); .*--collective-timeout/);
  }
});

test("a collective one rank never calls ends in COMM_TIMEOUT naming it, with TESSERA_COLLECTIVE_TIMEOUT_MS", async () => {
  const r = await run(["--np", "3", fixture("skip-collective.mjs")], { env: { TESSERA_COLLECTIVE_TIMEOUT_MS: "1500" }, timeoutMs: 40_000 });
  assert.ok(!r.killed, `still running after 40 s (hung):\n${r.stderr}`);
  assert.is(r.code, 1, r.stderr);
  for (const [rank, line] of stopLines(r.stderr, 3).entries()) {
    assert.ok(line, `rank ${rank} gave no reason:\n${r.stderr}`);
    assert.is(line.code, "COMM_TIMEOUT", r.stderr);
    assert.match(line.message, /^rank [01] waited more than 1\.5 s in barrier #2 for rank [012] \(step \d\)/);
  }
});

test("bad collective timeouts are errors, not ignored: the option exits 2, the variable on 1 or 3 ranks too", async () => {
  for (const v of ["-1", "abc", "", "1e3", "3000000"]) {
    const r = await run(["--collective-timeout", v, "--n", "10"]);
    assert.is(r.code, 2, `--collective-timeout ${JSON.stringify(v)}: ${r.stderr}`);
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /--collective-timeout/);
  }
  for (const v of ["abc", "-5", "10s", "99999999999"]) {
    const one = await run(["--n", "10"], { env: { TESSERA_COLLECTIVE_TIMEOUT_MS: v } });
    assert.is(one.code, 2, `TESSERA_COLLECTIVE_TIMEOUT_MS=${v}: ${one.stderr}`);
    assert.match(one.stderr, new RegExp(`INVALID_ARGUMENT: TESSERA_COLLECTIVE_TIMEOUT_MS=${JSON.stringify(v).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  }
  const three = await run(["--np", "3", "--n", "10"], { env: { TESSERA_COLLECTIVE_TIMEOUT_MS: "soon" } });
  assert.is.not(three.code, 0);
  assert.match(three.stderr, /TESSERA_COLLECTIVE_TIMEOUT_MS="soon"/);
  const fine = await run(["--np", "2", "--collective-timeout", "0.5", "--n", "200", "--chunk", "50", "--json"], { env: { TESSERA_COLLECTIVE_TIMEOUT_MS: "0" } });
  assert.is(fine.code, 0, fine.stderr);
});

test.run();
