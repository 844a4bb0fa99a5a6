// Who may be a worker: a worker with the wrong token is refused (and exits non-zero, AUTH_FAILED); the
// token comes from a file of mode 0600 or TESSERA_TOKEN, never the command line; a worker that cannot
// reach its scheduler within --death-timeout exits non-zero naming the address it tried.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../../dist/index.js";
import { readTokenFile, workerToken, writeTokenFile } from "../../dist/cluster/token.js";
import { freePort, killAll, startWorker, until } from "./helpers.mjs";

const dir = mkdtempSync(join(tmpdir(), "tessera-auth-"));
test.after(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

test("token files: written 0600, read back; a file others may read is refused; no token at all is refused", () => {
  const p = join(dir, "token");
  writeTokenFile(p, "a".repeat(64));
  assert.is(statSync(p).mode & 0o777, 0o600);
  assert.is(readTokenFile(p), "a".repeat(64));
  chmodSync(p, 0o644);
  assert.throws(() => readTokenFile(p), (e) => e.code === "AUTH_FAILED" && /mode 0644: others may read it; make it 0600/.test(e.message));
  assert.throws(() => workerToken(undefined, {}), (e) => e.code === "AUTH_FAILED" && /--token-file .* TESSERA_TOKEN/.test(e.message));
  assert.throws(() => workerToken(undefined, { TESSERA_TOKEN: "short" }), (e) => e.code === "AUTH_FAILED" && /at least 16/.test(e.message));
  assert.is(workerToken(undefined, { TESSERA_TOKEN: "b".repeat(32) }), "b".repeat(32));
});

test("a worker with the wrong token is refused and exits non-zero; one with the token from a 0600 file joins", async () => {
  const client = await Client.connect({ log: () => {} });
  try {
    const w = startWorker(["--scheduler", client.address, "--death-timeout", "30"], { TESSERA_TOKEN: "0123456789abcdef-not-the-token" });
    const r = await Promise.race([w.exit, new Promise((res) => setTimeout(() => res(null), 15_000))]);
    assert.ok(r, "the refused worker exits within 15 s");
    assert.is(r.code, 1);
    assert.match(r.out, /AUTH_FAILED: the scheduler at ws:\/\/127\.0\.0\.1:\d+ refused this worker/);
    assert.ok(client.scheduler.authFailures >= 1, "the scheduler counted the refusal");
    assert.is(client.workers.length, 0);
    // the right token, from a file of mode 0600
    const p = join(dir, "good");
    writeTokenFile(p, client.scheduler.token);
    const ok = startWorker(["--scheduler", client.address, "--token-file", p], { TESSERA_TOKEN: "" });
    await until(() => client.workers.length === 1, 15_000, "the worker with the token joined");
    assert.is(client.workers[0].pid, ok.pid);
    // a 0644 file is refused before anything is dialed
    chmodSync(p, 0o644);
    const bad = await startWorker(["--scheduler", client.address, "--token-file", p], { TESSERA_TOKEN: "" }).exit;
    assert.is(bad.code, 2);
    assert.match(bad.out, /mode 0644/);
    await client.close();
    assert.is((await ok.exit).code, 0);
  } finally {
    await client.close();
  }
});

test("the token is never taken from the command line", async () => {
  const r = await startWorker(["--scheduler", "ws://127.0.0.1:1", "--token", "secret"]).exit;
  assert.is(r.code, 2);
  assert.match(r.out, /never given on the command line/);
  assert.not.match(r.out, /secret/);
});

test("a worker that cannot reach its scheduler within --death-timeout exits non-zero naming the address", async () => {
  const port = await freePort();
  const t0 = Date.now();
  const r = await startWorker(["--scheduler", `ws://127.0.0.1:${port}`, "--death-timeout", "1"], { TESSERA_TOKEN: "c".repeat(64) }).exit;
  const s = (Date.now() - t0) / 1000;
  assert.is(r.code, 1);
  assert.match(r.out, new RegExp(`could not reach the scheduler at ws://127\\.0\\.0\\.1:${port} within 1 s \\(--death-timeout\\)`));
  assert.ok(s < 15, `it gave up in ${s} s`);
});

test.run();
