// The rendezvous file holds the token: rank 0 removes it on every way out it can act on, and a world that
// is complete stops listening.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { establish } from "../../dist/comm/mesh.js";
import { newToken } from "../../dist/transport/auth.js";
import { freePort } from "./harness.mjs";

const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
const DIE = fileURLToPath(new URL("./fixtures/die-in-rendezvous.mjs", import.meta.url));

/** Rank 0 of 2 in file mode (the other rank never comes); resolves once its rendezvous file exists. */
async function rank0(args, file) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(SLURM_|OMPI_|PMI_|PMIX_|TESSERA_)/.test(k)) env[k] = v;
  const child = spawn(process.execPath, args, {
    env: { ...env, TESSERA_RANK: "0", TESSERA_SIZE: "2", TESSERA_ALL_LOCAL: "1", TESSERA_RENDEZVOUS: file, TESSERA_WORKERS: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exit = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stderr })));
  const t0 = Date.now();
  while (!existsSync(file) && Date.now() - t0 < 15_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
  return { child, exit };
}

test("rank 0 dying during the rendezvous removes its rendezvous file: SIGTERM, SIGINT, SIGHUP, an uncaught error, a rejection", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-rdv-"));
  try {
    const cases = [
      ...["SIGTERM", "SIGINT", "SIGHUP"].map((sig) => ({ what: sig, args: [RUN, "--n", "100", "--timeout", "20"], sig })),
      { what: "an uncaught error", args: [DIE, "throw"] },
      { what: "an unhandled rejection", args: [DIE, "reject"] },
    ];
    await Promise.all(cases.map(async (c, i) => {
      const file = join(dir, `rdv-${i}.json`);
      const r = await rank0(c.args, file);
      assert.ok(existsSync(file), `${c.what}: rank 0 wrote no rendezvous file`);
      if (c.sig) process.kill(r.child.pid, c.sig);
      else writeFileSync(`${file}.go`, "");
      const e = await r.exit;
      if (c.sig) assert.is(e.signal, c.sig, `${c.what}: it still dies of the signal (${JSON.stringify(e)})`);
      else assert.is(e.code, 1, `${c.what}: ${e.stderr}`);
      assert.not.ok(existsSync(file), `${c.what}: the file (and its token) was left behind`);
      rmSync(`${file}.go`, { force: true });
    }));
    assert.equal(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const refused = (port) =>
  new Promise((resolve) => {
    const s = createConnection(port, "127.0.0.1");
    s.on("connect", () => (s.destroy(), resolve(false)));
    s.on("error", (e) => resolve(e.code === "ECONNREFUSED"));
  });

test("once the world is complete every rank stops listening; the links stay open", async () => {
  const port = await freePort();
  const token = newToken();
  const info = (rank) => ({
    rank, size: 3, localRank: rank, nodes: [], allLocal: true, jobId: "t", stepId: "0", source: "tessera",
    coordinator: { host: "127.0.0.1", port }, token,
  });
  const worlds = await Promise.all([0, 1, 2].map((r) => establish(info(r), { timeoutMs: 10_000 })));
  try {
    const ports = worlds[1].table.entries.map((e) => e.port);
    assert.is(ports[0], port);
    for (const p of ports) assert.ok(await refused(p), `port ${p} still accepts connections`);
    const sums = await Promise.all(worlds.map((w) => w.allreduce(w.rank + 1)));
    assert.equal(sums, [6, 6, 6]);
  } finally {
    await Promise.all(worlds.map((w) => w.close()));
  }
});

test.run();
