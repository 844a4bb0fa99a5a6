// run.js across ranks (--np starts local ranks; the SLURM tests run the same through srun).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A loopback port nobody listens on (the kernel's next ephemeral port is another). */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(args, { env = {}, timeoutMs = 60_000, killSignal = "SIGKILL" } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [RUN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(killSignal), timeoutMs);
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

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("Ctrl-C on run.js --np stops every rank", async () => {
  const child = spawn(process.execPath, [RUN, "--np", "3", fixture("wait-forever.mjs")], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  const pids = [];
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ranks did not start: ${stderr}`)), 30_000);
      child.stderr.on("data", (d) => {
        stderr += d;
        if (/ALL READY/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    for (const m of stderr.matchAll(/RANK \d+ PID (\d+)/g)) pids.push(Number(m[1]));
    assert.is(pids.length, 3, stderr);
    const t0 = performance.now();
    const exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
    child.kill("SIGINT"); // what the terminal sends the foreground process on Ctrl-C
    const { code, signal } = await exited;
    assert.ok(code !== 0 || signal, `run.js --np exit ${code} ${signal}`);
    while (pids.some(alive) && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(pids.filter(alive), [], "every rank is gone");
    assert.ok(performance.now() - t0 < 10_000);
  } finally {
    for (const pid of [child.pid, ...pids]) if (pid && alive(pid)) process.kill(pid, "SIGKILL");
  }
});

test("a rank with another token is refused: both exit non-zero, rank 0 logs AUTH_FAILED, rank 1 says why", async () => {
  const port = await freePort();
  const env = (rank, token) => ({ TESSERA_RANK: String(rank), TESSERA_SIZE: "2", TESSERA_COORDINATOR: `127.0.0.1:${port}`, TESSERA_TOKEN: token });
  const [r0, r1] = await Promise.all([
    // a generous rendezvous timeout: on a loaded machine rank 0 may take seconds to listen, and rank 1
    // must then still see the refusal, not give up first
    run(["--n", "100", "--timeout", "10"], { env: env(0, "a".repeat(64)), timeoutMs: 30_000 }),
    run(["--n", "100", "--timeout", "10"], { env: env(1, "b".repeat(64)), timeoutMs: 30_000 }),
  ]);
  assert.is.not(r0.code, 0);
  assert.is.not(r1.code, 0);
  assert.match(r0.stderr, /AUTH_FAILED: refused a connection from 127\.0\.0\.1:\d+ .*wrong token/);
  assert.ok(/RENDEZVOUS_FAILED: rank 1 .*refused: .*AUTH_FAILED.*same TESSERA_TOKEN/.test(r1.stderr), `rank 1 said: ${r1.stderr}\nrank 0 said: ${r0.stderr}`);
  assert.not.match(r0.stdout + r1.stdout, /result/);
});

test("under --np, everything after the script path is the script's, --np included", async () => {
  const r = await run(["--np", "2", fixture("argv.mjs"), "a", "--np", "5", "b"]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { rank: 0, size: 2, argv: ["a", "--np", "5", "b"] });
  const eq = await run(["--np=2", "--workers", "1", fixture("argv.mjs"), "--np=3", "--workers"]);
  assert.is(eq.code, 0, eq.stderr);
  assert.equal(JSON.parse(eq.stdout), { rank: 0, size: 2, argv: ["--np=3", "--workers"] });
  const one = await run([fixture("argv.mjs"), "a", "--np", "5", "b"]);
  assert.equal(JSON.parse(one.stdout), { rank: 0, size: 1, argv: ["a", "--np", "5", "b"] });
});

test("ranks waiting for a peer with no collective timeout stay (WebSockets: nothing else holds the loop): the tutorial, a late rank's lazy result, --dashboard", async () => {
  const env = { TESSERA_TRANSPORT: "ws" };
  const tut = await run(["--np", "2", "--workers", "1", "--collective-timeout", "0", "--n", "4000", "--chunk", "500", "--json"], { env });
  assert.is(tut.code, 0, tut.stderr);
  const one = await run(["--workers", "1", "--n", "4000", "--chunk", "500", "--json"]);
  assert.is(JSON.parse(tut.stdout).result, JSON.parse(one.stdout).result);
  for (const extra of [[], ["--dashboard", "0"]]) {
    const late = await run(["--np", "2", "--workers", "1", "--collective-timeout", "0", ...extra, fixture("late-lazy.mjs")], { env });
    assert.is(late.code, 0, `${extra.join(" ")}: ${late.stderr}`);
    assert.is(late.stdout.trim().split("\n").at(-1), "499500");
    assert.ok(late.seconds >= 1.5, `${late.seconds} s`);
  }
});

test("a script that never settles ends every rank non-zero with a message, under --np too (was: a hang)", async () => {
  // on a hang, SIGTERM the launcher: it forwards it to the ranks (SIGKILL would orphan them)
  const all = await run(["--np", "2", fixture("never-settles.mjs")], { timeoutMs: 30_000, killSignal: "SIGTERM" });
  assert.is(all.signal, null, "ended by itself, not by the test's kill");
  assert.is.not(all.code, 0);
  // every rank says it: its own script never settled, or (when the other noticed first) that the other
  // rank left for that reason
  for (const r of [0, 1]) {
    const own = new RegExp(`never settled.*\\(rank ${r}\\)`).test(all.stderr);
    const told = new RegExp(`rank ${1 - r} was lost.*never settled; rank ${r} stops`).test(all.stderr);
    assert.ok(own || told, `rank ${r} gave no reason: ${all.stderr}`);
  }
  assert.ok(all.seconds < 20, `${all.seconds} s`);
  // only rank 0 is stuck; the others wait for it (a pending recv is not "stuck") and learn why it left
  const one = await run(["--np", "3", fixture("never-settles.mjs"), "rank0"], { timeoutMs: 30_000, killSignal: "SIGTERM" });
  assert.is(one.signal, null);
  assert.is.not(one.code, 0);
  assert.match(one.stderr, /never settled.*\(rank 0\)/);
  assert.not.match(one.stderr, /never settled.*\(rank [12]\)/);
  assert.match(one.stderr, /RANK_LOST: rank 0 was lost.*never settled/);
  assert.ok(one.seconds < 20, `${one.seconds} s`);
});

test("transport variables are validated: INVALID_ARGUMENT naming variable and value, exit 2, at start-up", async () => {
  const cases = [
    ["TESSERA_HEARTBEAT_MS", "abc"], ["TESSERA_HEARTBEAT_MS", "0"], ["TESSERA_PEER_TIMEOUT_MS", "-1"],
    ["TESSERA_MAX_FRAME", "abc"], ["TESSERA_MAX_FRAME", "100"], ["TESSERA_MAX_FRAME", "2000000.5"],
  ];
  const results = await Promise.all(cases.map(([k, v]) => run(["--np", "2", "--timeout", "30", fixture("argv.mjs")], { env: { [k]: v }, timeoutMs: 40_000 })));
  results.forEach((r, i) => {
    const [k, v] = cases[i];
    assert.is(r.code, 2, `${k}=${v}: ${r.stderr}`);
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.ok(r.stderr.includes("INVALID_ARGUMENT") && r.stderr.includes(`${k}="${v}"`), r.stderr);
    assert.ok(r.seconds < 10, `${k}=${v} refused at start-up, not after the timeout (${r.seconds} s)`);
  });
  // a rank started by srun (no --np launcher) refuses them too
  const port = await freePort();
  const rank = await run(["--timeout", "30", fixture("argv.mjs")], {
    env: { TESSERA_RANK: "1", TESSERA_SIZE: "2", TESSERA_COORDINATOR: `127.0.0.1:${port}`, TESSERA_TOKEN: "a".repeat(64), TESSERA_MAX_FRAME: "100" },
    timeoutMs: 40_000,
  });
  assert.is(rank.code, 2, rank.stderr);
  assert.match(rank.stderr, /TESSERA_MAX_FRAME="100" must be an integer from 1048576/);
  assert.ok(rank.seconds < 10, `${rank.seconds} s`);
  // a peer timeout no longer than the heartbeat would declare every idle peer lost
  const slow = await run(["--np", "2", fixture("argv.mjs")], { env: { TESSERA_HEARTBEAT_MS: "2000", TESSERA_PEER_TIMEOUT_MS: "2000" } });
  assert.is(slow.code, 2, slow.stderr);
  assert.match(slow.stderr, /peer timeout \(2000 ms, TESSERA_PEER_TIMEOUT_MS\) must be longer than the heartbeat interval/);
  // valid values work
  const ok = await run(["--np", "2", fixture("argv.mjs")], { env: { TESSERA_HEARTBEAT_MS: "200", TESSERA_PEER_TIMEOUT_MS: "3000", TESSERA_MAX_FRAME: "1048576" } });
  assert.is(ok.code, 0, ok.stderr);
});

test("bad rank options exit 2 with one line", async () => {
  for (const args of [["--np", "0"], ["--coordinator", "nohostport"], ["--timeout", "-1"]]) {
    const r = await run(args);
    assert.is(r.code, 2, `${args}: ${r.stderr}`);
    assert.is(r.stderr.trim().split("\n").length, 1);
  }
});

test.run();
