// Starts N rank processes of fixtures/rank.mjs (tessera's own variables, loopback coordinator) and
// collects their JSON lines. Processes are tracked by PID and killed by PID only.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "rank.mjs");

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Starts a world (of `fixture`, default fixtures/rank.mjs). Returns { ranks: [{ child, lines, stderr, exit: Promise<{code, signal}> }], token, port,
 * waitFor(rank, pred, ms), kill(sig) } .
 */
export async function startWorld(np, scenario, { env = {}, envFor = () => ({}), token, port, fixture = FIXTURE } = {}) {
  port ??= await freePort();
  token ??= randomBytes(32).toString("hex");
  const ranks = [];
  for (let r = 0; r < np; r++) {
    const child = spawn(process.execPath, [fixture, scenario], {
      env: {
        ...process.env,
        TESSERA_RANK: String(r),
        TESSERA_SIZE: String(np),
        TESSERA_TOKEN: token,
        TESSERA_COORDINATOR: `127.0.0.1:${port}`,
        ...env,
        ...envFor(r),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const rank = { child, lines: [], stderr: "", listeners: [] };
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          rank.lines.push(JSON.parse(line));
        } catch {
          rank.lines.push({ raw: line });
        }
        for (const l of rank.listeners.slice()) l();
      }
    });
    child.stderr.on("data", (d) => (rank.stderr += d));
    rank.exit = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    ranks.push(rank);
  }
  const world = {
    ranks,
    token,
    port,
    /** resolves with the first line of `rank` matching pred */
    waitFor(r, pred, ms = 20000) {
      const rank = ranks[r];
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = rank.lines.find(pred);
          if (hit) {
            clearTimeout(t);
            rank.listeners.splice(rank.listeners.indexOf(check), 1);
            resolve(hit);
            return true;
          }
          return false;
        };
        const t = setTimeout(() => {
          rank.listeners.splice(rank.listeners.indexOf(check), 1);
          reject(new Error(`rank ${r}: no matching line within ${ms} ms; lines ${JSON.stringify(rank.lines)} stderr ${rank.stderr}`));
        }, ms);
        rank.listeners.push(check);
        check();
      });
    },
    /** waits for every rank to exit (killing all by PID after ms) */
    async done(ms = 30000) {
      const t = setTimeout(() => world.kill("SIGKILL"), ms);
      const exits = await Promise.all(ranks.map((x) => x.exit));
      clearTimeout(t);
      return exits;
    },
    kill(sig = "SIGKILL") {
      for (const x of ranks) {
        if (x.child.exitCode === null && x.child.signalCode === null) {
          try {
            process.kill(x.child.pid, sig);
          } catch {
            /* gone */
          }
        }
      }
    },
  };
  return world;
}
