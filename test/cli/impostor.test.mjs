// An impostor holds the coordinator's port of a real 3-rank job and knows no token. It tries what it can
// with what the ranks send it: it relays one rank's challenge and proof to the other and reflects rank 0's
// proof back to it. It must learn nothing usable (the token never reaches it, in any form) and every rank
// must fail with AUTH_FAILED (before protocol 2 it got the token in clear and made rank 1 exit 0 with a
// wrong sum). Through run.js --np 3, and through three ranks started on their own as srun starts them
// (there each rank's own stderr tells; under --np the launcher stops the others after the first failure).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";
import { decode, encode } from "../../dist/protocol/messages.js";

const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The TESSERA_TOKEN in the environment of the ranks: `pids`, or the children of `launcherPid`. */
function tokenOfRanks({ launcherPid, pids = [] }) {
  let kids = pids;
  if (launcherPid) {
    try {
      kids = readFileSync(`/proc/${launcherPid}/task/${launcherPid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    } catch {
      return null;
    }
  }
  for (const pid of kids) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      const t = env.find((e) => e.startsWith("TESSERA_TOKEN="));
      if (t) return t.slice("TESSERA_TOKEN=".length);
    } catch {
      /* gone */
    }
  }
  return null;
}

/**
 * Listens on `port` as the impostor; `start()` starts the job and returns { done: Promise<{code, stdout,
 * stderr}>, ranks: {launcherPid} | {pids} }. Resolves with what the impostor saw and the job's outcome.
 */
async function impostorAgainst(port, start) {
  const seen = []; // every byte the impostor received: upgrade requests and socket data
  const conns = new Map(); // rank -> { ws, hello, proof }
  let job = null;
  let token = null;
  let answered = false;
  const http = createHttpServer();
  const wss = new WebSocketServer({ noServer: true });
  const answer = () => {
    if (answered) return;
    answered = true;
    token = job && tokenOfRanks(job.ranks);
    // challenges: ranks 1 and 2 each get the other's nonce (to get a proof it could pass on), rank 0 a fresh
    // one (its own nonce back it refuses at once: test/transport/auth.test.mjs)
    for (const [r, c] of conns) {
      const nonce = r === 1 ? conns.get(2)?.hello.nonce : r === 2 ? conns.get(1)?.hello.nonce : null;
      c.ws.send(encode({ kind: "challenge", rank: 0, nonce: nonce ?? randomBytes(32) }));
    }
  };
  http.on("upgrade", (req, socket, head) => {
    seen.push(Buffer.from(req.rawHeaders.join("\n")), head);
    socket.on("data", (d) => seen.push(Buffer.from(d)));
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", () => {});
      ws.on("message", (d) => {
        let m = null;
        try {
          m = decode(new Uint8Array(d));
        } catch {
          return;
        }
        if (m.kind === "hello") {
          conns.set(m.rank, { ws, hello: m });
          if (conns.size === 3) answer();
          else if (conns.has(0)) setTimeout(answer, 2000);
        }
        if (m.kind === "proof") {
          [...conns.values()].find((x) => x.ws === ws).proof = m.proof;
          if ([...conns.values()].every((x) => x.proof)) {
            // relay: rank 1's proof offered to rank 2 as rank 0's and back; rank 0's own reflected. All in one
            // tick, so that the ranks fail together.
            for (const [r, x] of conns) x.ws.send(encode({ kind: "proof", proof: conns.get(r === 1 ? 2 : r === 2 ? 1 : 0).proof, refusal: "" }));
          }
        }
      });
    });
  });
  await new Promise((r) => http.listen(port, "127.0.0.1", r));
  const t0 = Date.now();
  job = start();
  const out = await job.done;
  wss.close();
  http.close();
  http.closeAllConnections();
  return { ...out, seconds: (Date.now() - t0) / 1000, conns, token, seen: Buffer.concat(seen) };
}

function collect(child) {
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
  return new Promise((resolve) => child.on("close", (code) => (clearTimeout(killer), resolve({ code, stdout, stderr }))));
}

const RANK0 = /run\.js: AUTH_FAILED: rank 0 could not listen on 127\.0\.0\.1:\d+, the coordinator address: another process holds it and could not prove/;
const rankN = (r) => new RegExp(`run\\.js: AUTH_FAILED: rank ${r}: 127\\.0\\.0\\.1:\\d+ did not prove it knows the token`);

/** What holds for both ways of starting the job: no token learned, nothing computed, noticed at once. */
function learnedNothing(r) {
  assert.ok(r.seconds < 30, "noticed at once, not at the rendezvous timeout");
  assert.not.match(r.stdout, /result|\d/, "no rank computed anything");
  for (const q of [0, 1, 2]) assert.ok(r.conns.has(q), `rank ${q} never came to the impostor: ${r.stderr}`);
  assert.ok(r.token && r.token.length === 64, "the test found the job's token in the ranks' environment");
  assert.ok([0, 1, 2].every((q) => r.conns.get(q).proof), "the ranks proved themselves to the challenges (and the relay failed)");
  for (const form of [Buffer.from(r.token), Buffer.from(r.token, "hex"), Buffer.from(r.token.toUpperCase()), Buffer.from(r.token.slice(0, 16))]) {
    assert.is(r.seen.indexOf(form), -1, "the impostor received the token, or part of it");
  }
  assert.not.match(r.stderr, /RENDEZVOUS_FAILED|RANK_LOST/);
}

test("run.js --np 3 with an impostor on the coordinator port: the job fails with AUTH_FAILED at once, the impostor learns no token", async () => {
  const port = await freePort();
  const r = await impostorAgainst(port, () => {
    const child = spawn(process.execPath, [RUN, "--np", "3", "--coordinator", `127.0.0.1:${port}`, "--timeout", "15", "--n", "100"], { stdio: ["ignore", "pipe", "pipe"] });
    return { done: collect(child), ranks: { launcherPid: child.pid } };
  });
  assert.is.not(r.code, 0, r.stderr);
  learnedNothing(r);
  // the first rank to notice says why; the launcher then stops the others (those that noticed too say so)
  const first = /tessera: rank (\d) exited with code 1; stopping the other 2 ranks/.exec(r.stderr);
  assert.ok(first, r.stderr);
  assert.match(r.stderr, Number(first[1]) === 0 ? RANK0 : rankN(first[1]));
  for (const line of r.stderr.trim().split("\n")) assert.match(line, /AUTH_FAILED|stopping the other/, line);
});

test("three ranks started on their own (as srun does) with an impostor on the coordinator port: every rank fails with AUTH_FAILED", async () => {
  const port = await freePort();
  const token = randomBytes(32).toString("hex");
  const r = await impostorAgainst(port, () => {
    const env = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(SLURM_|OMPI_|PMI_|PMIX_|TESSERA_)/.test(k)) env[k] = v;
    const children = [0, 1, 2].map((rank) =>
      spawn(process.execPath, [RUN, "--timeout", "15", "--n", "100"], {
        env: { ...env, TESSERA_RANK: String(rank), TESSERA_SIZE: "3", TESSERA_TOKEN: token, TESSERA_COORDINATOR: `127.0.0.1:${port}`, TESSERA_WORKERS: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    const done = Promise.all(children.map(collect)).then((outs) => ({
      code: outs.map((o) => o.code), stdout: outs.map((o) => o.stdout).join(""), stderr: outs.map((o) => o.stderr).join(""), each: outs,
    }));
    return { done, ranks: { pids: children.map((c) => c.pid) } };
  });
  learnedNothing(r);
  assert.equal(r.code, [1, 1, 1], r.stderr);
  assert.match(r.each[0].stderr, RANK0);
  assert.match(r.each[1].stderr, rankN(1));
  assert.match(r.each[2].stderr, rankN(2));
});

test.run();
