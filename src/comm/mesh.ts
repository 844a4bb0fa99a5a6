/**
 * Establishing a world of several ranks: rank 0 listens (the rendezvous point), every other rank listens
 * too, connects to rank 0 and says where it listens; once all have, rank 0 sends everyone the address table
 * and each rank connects to the ranks below it. The result is a full mesh of authenticated links.
 */
import { hostname } from "node:os";
import { PROTOCOL_VERSION, encode, type HelloMsg } from "../protocol/messages.js";
import { newToken } from "../transport/auth.js";
import { ConnectError, connectPeer, type Connected } from "../transport/client.js";
import { defaultLimits, type TransportLimits } from "../transport/limits.js";
import type { Link } from "../transport/link.js";
import { PeerServer } from "../transport/server.js";
import { formatHostPort, type HostPort, type WorldInfo } from "./discover.js";
import { CommError, commError } from "./errors.js";
import {
  choosePeerHost, chooseRootHost, defaultRendezvousPath, jobKey, newNonce, readRendezvousFile, removeRendezvousFile,
  sleep, writeRendezvousFile,
} from "./rendezvous.js";
import { WsWorld } from "./world-ws.js";

export interface MeshOptions {
  /** network interface (name or address) to listen on */
  interface?: string;
  /** rank 0's host:port (else TESSERA_COORDINATOR, else the rendezvous file) */
  coordinator?: HostPort;
  /** how long to wait for the rendezvous, ms (default 60 s) */
  timeoutMs?: number;
  /** rendezvous file (else TESSERA_RENDEZVOUS, else ./.tessera-rendezvous-<job>.<step>.json) */
  rendezvousFile?: string;
  limits?: Partial<TransportLimits>;
  /** the collective timeout, ms (WsWorldOptions.collectiveTimeoutMs) */
  collectiveTimeoutMs?: number;
  log?: (line: string) => void;
}

const secs = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;
const list = (rs: number[]) => (rs.length > 12 ? `${rs.slice(0, 12).join(", ")}, ...` : rs.join(", "));

export async function establish(info: WorldInfo, opts: MeshOptions = {}): Promise<WsWorld> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const limits = defaultLimits(info.size, opts.limits ?? {});
  const world = new WsWorld(info.rank, info.size, { limits, collectiveTimeoutMs: opts.collectiveTimeoutMs });
  const coordinator = opts.coordinator ?? info.coordinator;
  const iface = opts.interface ?? info.interface;
  const job = jobKey(info);
  const me = info.rank;
  if (coordinator && !info.token) {
    throw commError("RENDEZVOUS_FAILED", `a coordinator (${formatHostPort(coordinator)}) was given without a token: set TESSERA_TOKEN on every rank`);
  }
  let server: PeerServer | null = null;
  let token = info.token ?? "";
  let hello: HelloMsg = { kind: "hello", version: PROTOCOL_VERSION, rank: me, size: info.size, token, host: "", port: 0, job };
  const listen = async (host: string, port: number): Promise<PeerServer> => {
    try {
      return await PeerServer.listen({
        host, port, limits, log: opts.log,
        token: () => token,
        hello: () => hello,
        onPeer: (h, link) => onPeer(h, link),
      });
    } catch (e) {
      throw commError("RENDEZVOUS_FAILED", `rank ${me} could not listen on ${formatHostPort({ host, port })}: ${(e as Error).message}`, e);
    }
  };
  const onPeer = (h: HelloMsg, link: Link): string | undefined => {
    if (h.size !== info.size) return `it belongs to a world of ${h.size} ranks, this one has ${info.size}`;
    if (h.job !== job) return `it belongs to job ${h.job}, this is ${job}`;
    if (!Number.isInteger(h.rank) || h.rank <= me || h.rank >= info.size) return `rank ${h.rank} may not connect to rank ${me}`;
    if (world.hasLink(h.rank)) return `rank ${h.rank} is connected already`;
    if (me === 0) table.set(h.rank, { host: h.host, port: h.port });
    world.attach(link);
    return undefined;
  };
  const table = new Map<number, HostPort>();
  const cleanup: (() => void)[] = [];
  world.onClose = async () => {
    for (const f of cleanup) f();
    await server?.close();
  };

  try {
    if (me === 0) {
      let host: string;
      let port = 0;
      if (coordinator) {
        host = coordinator.host; // rank 0 listens where the others were told to connect
        port = coordinator.port;
      } else {
        host = chooseRootHost(iface, info);
        token = newToken();
      }
      hello = { ...hello, token };
      server = await listen(host, port);
      hello = { ...hello, host: server.host, port: server.port };
      table.set(0, { host: server.host, port: server.port });
      let file: string | null = null;
      let nonce = "";
      if (!coordinator) {
        file = opts.rendezvousFile ?? defaultRendezvousPath(info);
        nonce = newNonce();
        writeRendezvousFile(file, {
          version: 1, job: info.jobId, step: info.stepId, size: info.size, host: server.host, port: server.port, token,
          nonce, created: Date.now(), pid: process.pid, hostname: hostname(),
        });
        const f = file;
        const onExit = () => removeRendezvousFile(f, nonce);
        process.once("exit", onExit);
        cleanup.push(() => {
          removeRendezvousFile(f, nonce);
          process.off("exit", onExit);
        });
      }
      const others = Array.from({ length: info.size - 1 }, (_, i) => i + 1);
      await world.waitLinks(others, deadline, (missing) =>
        `rank 0 listening on ${formatHostPort({ host: server!.host, port: server!.port })}` +
          (file ? ` (rendezvous file ${file})` : "") +
          `: ranks ${list(missing)} did not connect within ${secs(timeoutMs)}`,
      );
      if (file) cleanup.shift()?.(); // every rank is here: the file is no longer needed
      const frame = encode({
        kind: "addresses", size: info.size,
        entries: [...table].sort((a, b) => a[0] - b[0]).map(([rank, hp]) => ({ rank, host: hp.host, port: hp.port })),
      });
      await Promise.all(others.map((q) => world.sendFrame(q, frame)));
      return world;
    }

    // ---- ranks 1..P-1: find rank 0, listen, say hello -------------------------------------------------
    let lastTried = "";
    let lastError = "";
    let refusal = ""; // rank 0 answered and refused us: more telling than a later attempt's timeout
    let conn: Connected | null = null;
    let delay = 25;
    const file = coordinator ? null : (opts.rendezvousFile ?? defaultRendezvousPath(info));
    while (!conn) {
      let target: HostPort | null = null;
      if (coordinator) {
        target = coordinator;
      } else {
        const r = readRendezvousFile(file!, { job: info.jobId, step: info.stepId, size: info.size });
        if (r.rec) {
          target = { host: r.rec.host, port: r.rec.port };
          token = r.rec.token;
        } else {
          lastError = `rendezvous file ${file}: ${r.why}`;
        }
      }
      if (target) {
        lastTried = formatHostPort(target);
        if (!server) {
          const host = await choosePeerHost(iface, target.host, info.allLocal);
          server = await listen(host, 0);
        }
        hello = { ...hello, token, host: server.host, port: server.port };
        try {
          conn = await connectPeer(target.host, target.port, hello, limits, Math.max(50, Math.min(5000, deadline - Date.now())));
          if (conn.peer.rank !== 0) {
            lastError = `${lastTried} is rank ${conn.peer.rank}, not rank 0`;
            conn.link.terminate();
            conn = null;
          }
        } catch (e) {
          lastError = (e as ConnectError).message;
          if ((e as ConnectError).refused) refusal = lastError;
        }
      }
      if (conn) break;
      if (Date.now() >= deadline) {
        const where = lastTried
          ? `rank 0 at ${lastTried}${file ? ` (from ${file})` : ""}`
          : `the rendezvous file ${file}`;
        const why = refusal
          ? `refused: ${refusal}${/AUTH_FAILED/.test(refusal) ? `; rank 0 has another token: ${coordinator ? "give every rank the same TESSERA_TOKEN" : "is the rendezvous file from another run?"}` : ""}`
          : `last error: ${lastError}`;
        throw commError("RENDEZVOUS_FAILED", `rank ${me} could not reach ${where} within ${secs(timeoutMs)} (${why})`);
      }
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(500, delay * 2);
    }
    world.attach(conn.link);
    const tab = await world.waitTable(deadline, `rank ${me} connected to rank 0 at ${lastTried}, but the address table did not come within ${secs(timeoutMs)}`);
    if (tab.size !== info.size || tab.entries.length !== info.size) {
      throw commError("RENDEZVOUS_FAILED", `rank 0 sent an address table for ${tab.entries.length} of ${tab.size} ranks, this world has ${info.size}`);
    }
    // connect to every rank below this one (except 0, connected already); the ones above connect to us
    const lower = tab.entries.filter((e) => e.rank > 0 && e.rank < me);
    await Promise.all(
      lower.map(async (e) => {
        let err = "";
        let d = 25;
        for (;;) {
          try {
            const c = await connectPeer(e.host, e.port, hello, limits, Math.max(50, Math.min(5000, deadline - Date.now())));
            if (c.peer.rank !== e.rank) {
              c.link.terminate();
              throw new Error(`${formatHostPort(e)} answered as rank ${c.peer.rank}`);
            }
            world.attach(c.link);
            return;
          } catch (x) {
            err = (x as Error).message;
          }
          if (world.failure) throw world.failure;
          if (Date.now() >= deadline) {
            throw commError("RENDEZVOUS_FAILED", `rank ${me} could not reach rank ${e.rank} at ${formatHostPort(e)} within ${secs(timeoutMs)} (last error: ${err})`);
          }
          await sleep(d);
          d = Math.min(500, d * 2);
        }
      }),
    );
    const all = Array.from({ length: info.size }, (_, q) => q).filter((q) => q !== me);
    await world.waitLinks(all, deadline, (missing) => `rank ${me}: ranks ${list(missing)} did not connect to it within ${secs(timeoutMs)}`);
    return world;
  } catch (e) {
    world.markLost(me, e instanceof Error ? e.message : String(e), true);
    await world.close(200).catch(() => {});
    throw e instanceof CommError ? e : commError("RENDEZVOUS_FAILED", `rank ${me}: ${(e as Error).message}`, e);
  }
}
