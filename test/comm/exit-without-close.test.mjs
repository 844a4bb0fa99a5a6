// A rank script that returns without closeWorld() exits by itself (comm/index.ts leaveAtExit): the world's
// connections do not hold the process, and at 'beforeExit' the world is left as closeWorld() leaves it,
// once nothing waits for a peer. Each scenario on the shared-memory transport (when built) and on ws.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchLocal } from "../../dist/comm/launch.js";
import { startWorld } from "./harness.mjs";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "no-close.mjs");
const TRANSPORTS = ["auto", "ws"];

/** Runs `scenario` on np ranks; every rank must exit 0 within 15 s (killed by PID after). */
async function run(np, scenario, transport, env = {}) {
  const t0 = Date.now();
  const w = await startWorld(np, scenario, { fixture: FIXTURE, env: { TESSERA_TRANSPORT: transport, ...env } });
  const exits = await w.done(15000);
  const seconds = (Date.now() - t0) / 1000;
  for (let r = 0; r < np; r++) {
    assert.equal(exits[r], { code: 0, signal: null }, `${scenario} (${transport}) rank ${r} exit ${JSON.stringify(exits[r])} after ${seconds} s; stderr ${w.ranks[r].stderr}`);
    assert.is(w.ranks[r].stderr, "", `rank ${r}'s stderr`);
    assert.equal(w.ranks[r].lines.filter((l) => l.event), [], `rank ${r}: the world was left, not broken`);
  }
  return { lines: w.ranks.map((x) => x.lines), seconds };
}

/** The same under launchLocal with `env` (a rendezvous directory, not a coordinator): lines by rank, seconds. */
async function runLaunched(np, scenario, env) {
  const t0 = Date.now();
  const children = [];
  const out = Array.from({ length: np }, () => ({ stdout: "", stderr: "" }));
  const kill = setTimeout(() => children.forEach((c) => c.exitCode === null && c.pid && process.kill(c.pid, "SIGKILL")), 15000);
  const rc = await launchLocal(np, [scenario], {
    script: FIXTURE, env, stdio: ["ignore", "pipe", "pipe"],
    onSpawn: (child, r) => {
      children.push(child);
      child.stdout.on("data", (d) => (out[r].stdout += d));
      child.stderr.on("data", (d) => (out[r].stderr += d));
    },
  });
  clearTimeout(kill);
  const seconds = (Date.now() - t0) / 1000;
  assert.is(rc, 0, `${scenario} exited ${rc} after ${seconds} s; ${JSON.stringify(out)}`);
  const lines = out.map((o) => o.stdout.trim().split("\n").map((l) => JSON.parse(l)));
  for (let r = 0; r < np; r++) assert.equal(lines[r].filter((l) => l.event), [], `rank ${r}: the world was left, not broken`);
  return { lines, seconds };
}

for (const transport of TRANSPORTS) {
  test(`${transport}: 3 ranks return after collectives, exit 0 within seconds`, async () => {
    const { lines, seconds } = await run(3, "plain", transport);
    for (let r = 0; r < 3; r++) {
      assert.is(lines[r][0].sum, 6);
      assert.equal(lines[r][0].gathered, [0, 10, 20]);
    }
    assert.ok(seconds < 10, `${seconds} s`);
  });

  test(`${transport}: a rank waiting in a collective without a timer stays until its peer joins 1.5 s later`, async () => {
    const { lines, seconds } = await run(2, "late-peer", transport, { TESSERA_COLLECTIVE_TIMEOUT_MS: "0" });
    for (let r = 0; r < 2; r++) assert.equal(lines[r][0].sum, [1, 2]);
    assert.ok(seconds >= 1.5, `${seconds} s`);
  });

  test(`${transport}: an unawaited send of a returned rank is delivered`, async () => {
    const { lines } = await run(2, "unawaited-send", transport);
    assert.is(lines[1][0].received, true);
  });

  test(`${transport}: an unawaited recv keeps its rank until the message comes`, async () => {
    const { lines } = await run(2, "pending-at-return", transport);
    assert.ok(lines[0].some((l) => l.late === "late"), JSON.stringify(lines[0]));
  });

  test(`${transport}: a world met on demand (more ranks than TESSERA_MESH_MAX) exits too, with a late peer and no timeout`, async () => {
    const env = { TESSERA_TRANSPORT: transport, TESSERA_MESH_MAX: "2", TESSERA_COLLECTIVE_TIMEOUT_MS: "0" };
    const plain = await runLaunched(3, "plain", env);
    for (let r = 0; r < 3; r++) assert.is(plain.lines[r][0].sum, 6);
    const late = await runLaunched(3, "late-peer", env);
    for (let r = 0; r < 3; r++) assert.equal(late.lines[r][0].sum, [3, 3]);
    assert.ok(late.seconds >= 1.5, `${late.seconds} s`);
  });
}

test.run();
