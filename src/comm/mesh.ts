/**
 * Establishing a world of several ranks: rank 0 listens (the rendezvous point), every other rank listens
 * too, connects to rank 0 and says where it listens; once all have, rank 0 sends everyone the address table
 * and each rank connects to the ranks below it. The result is a full mesh of mutually authenticated links
 * (transport/auth.ts), after which every rank stops listening.
 */
import { hostname } from "node:os";
import { encode, type HelloMsg } from "../protocol/messages.js";
import { MIN_TOKEN_LENGTH, newToken } from "../transport/auth.js";
import { ConnectError, connectPeer, type ClientAuth, type Connected } from "../transport/client.js";
import { defaultLimits, type TransportLimits } from "../transport/limits.js";
import type { Link } from "../transport/link.js";
import { PeerServer } from "../transport/server.js";
import { formatHostPort, type HostPort, type WorldInfo } from "./discover.js";
import { CommError, commError } from "./errors.js";
import {
  choosePeerHost, chooseRootHost, defaultRendezvousPath, jobKey, newNonce, readRendezvousFile, removeOnExit,
  sleep, writeRendezvousFile,
} from "./rendezvous.js";
import { WsWorld } from "./world-ws.js";
import { establishOnDemand } from "./on-demand.js";

/** Worlds of at most this many ranks connect every pair at start-up (TESSERA_MESH_MAX); larger ones on demand. */
export const DEFAULT_MESH_MAX = 8;

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
  /** the rendezvous directory of a world connected on demand (else TESSERA_RENDEZVOUS_DIR, else beside the file) */
  rendezvousDir?: string;
}

const secs = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;
const list = (rs: number[]) => (rs.length > 12 ? `${rs.slice(0, 12).join(", ")}, ...` : rs.join(", "));

/**
 * Meets the other ranks. Small worlds (at most TESSERA_MESH_MAX ranks) and worlds given only a coordinator
 * (no rendezvous directory or file to meet in) make the full mesh below; the others connect on demand
 * (on-demand.ts).
 */
export async function establish(info: WorldInfo, opts: MeshOptions = {}): Promise<WsWorld> {
  const meshOnly = (opts.coordinator ?? info.coordinator) && !(opts.rendezvousDir ?? info.rendezvousDir);
  if (info.size > (info.meshMax ?? DEFAULT_MESH_MAX) && !meshOnly) return establishOnDemand(info, opts);
  return establishMesh(info, opts);
}

async function establishMesh(info: WorldInfo, opts: MeshOptions): Promise<WsWorld> {
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
  if (info.token !== undefined) checkToken(info.token, "TESSERA_TOKEN");
  if (Buffer.byteLength(job) > 128) {
    // it travels in the Hello, which must fit the few hundred bytes a connection may send before it authenticates
    throw commError("INVALID_ARGUMENT", `the job and step ids ${JSON.stringify(job.slice(0, 40))}... are ${Buffer.byteLength(job)} bytes long (at most 128)`);
  }
  let server: PeerServer | null = null;
  let token = info.token ?? "";
  /** this rank as a client: where it listens is known once its server is up */
  const auth = (expect: number): ClientAuth => ({ token, rank: me, size: info.size, job, host: server?.host ?? "", port: server?.port ?? 0, expect });
  const listen = async (host: string, port: number): Promise<PeerServer> => {
    try {
      return await PeerServer.listen({
        host, port, limits, log: opts.log, rank: me, size: info.size, job,
        token: () => token,
        precheck,
        onPeer: (h, link) => onPeer(h, link),
      });
    } catch (e) {
      const where = formatHostPort({ host, port });
      if (me === 0 && coordinator && (e as NodeJS.ErrnoException).code === "EADDRINUSE") await whoHolds({ host, port }, auth(0), limits, deadline, e);
      throw commError("RENDEZVOUS_FAILED", `rank ${me} could not listen on ${where}: ${(e as Error).message}`, e);
    }
  };
  /** A Hello's claims, before its proof: they are in the transcript too, so a lie fails the proof anyway. */
  const precheck = (h: HelloMsg): string | undefined => {
    if (h.size !== info.size) return `it belongs to a world of ${h.size} ranks, this one has ${info.size}`;
    if (h.job !== job) return `it belongs to job ${h.job}, this is ${job}`;
    if (!Number.isInteger(h.rank) || h.rank <= me || h.rank >= info.size) return `rank ${h.rank} may not connect to rank ${me}`;
    return undefined;
  };
  const onPeer = (h: HelloMsg, link: Link): string | undefined => {
    if (world.hasLink(h.rank)) return `rank ${h.rank} is connected already`;
    if (me === 0) table.set(h.rank, { host: h.host, port: h.port });
    world.attach(link);
    return undefined;
  };
  const table = new Map<number, HostPort>();
  /**
   * The world is complete: every rank has its link to every other, and a lost link is a lost rank (ranks do
   * not reconnect), so nobody has a reason to connect any more. The port is closed rather than left for
   * anyone on the network to knock at for the rest of the job; the links stay open.
   */
  const stopListening = () => server?.stopListening();
  const cleanup: (() => void)[] = [];
  world.onClose = async () => {
    for (const f of cleanup) f();
    await server?.close();
  };
  world.onHoldProcess = (hold) => server?.holdProcess(hold);

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
      server = await listen(host, port);
      table.set(0, { host: server.host, port: server.port });
      let file: string | null = null;
      let nonce = "";
      if (!coordinator) {
        file = opts.rendezvousFile ?? defaultRendezvousPath(info);
        nonce = newNonce();
        // the handlers first: a signal that comes as soon as the file is there must find them installed
        // (a signal with no handler yet ends the process at once, leaving the file and its token behind)
        cleanup.push(removeOnExit(file, nonce));
        writeRendezvousFile(file, {
          version: 1, job: info.jobId, step: info.stepId, size: info.size, host: server.host, port: server.port, token,
          nonce, created: Date.now(), pid: process.pid, hostname: hostname(),
        });
      }
      const others = Array.from({ length: info.size - 1 }, (_, i) => i + 1);
      await world.waitLinks(others, deadline, (missing) =>
        `rank 0 listening on ${formatHostPort({ host: server!.host, port: server!.port })}` +
          (file ? ` (rendezvous file ${file})` : "") +
          `: ranks ${list(missing)} did not connect within ${secs(timeoutMs)}`,
      );
      if (file) cleanup.shift()?.(); // every rank is here: the file is no longer needed
      stopListening();
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
          checkToken(r.rec.token, `the token in ${file}`);
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
        try {
          conn = await connectPeer(target.host, target.port, auth(0), limits, Math.max(50, Math.min(5000, deadline - Date.now())));
        } catch (e) {
          lastError = (e as ConnectError).message;
          if ((e as ConnectError).impostor) {
            // retrying would only hand it more proofs to look at: whatever holds the address is not rank 0
            throw commError("AUTH_FAILED", `rank ${me}: ${lastError}${file ? ` (address from ${file})` : ""}`);
          }
          // an abnormal close (1006: rank 0 gone at its own deadline, say) tells less than an earlier refusal
          if ((e as ConnectError).refused && !(refusal && /code 1006/.test(lastError))) refusal = lastError;
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
            const c = await connectPeer(e.host, e.port, auth(e.rank), limits, Math.max(50, Math.min(5000, deadline - Date.now())));
            world.attach(c.link);
            return;
          } catch (x) {
            err = (x as Error).message;
            if ((x as ConnectError).impostor) throw commError("AUTH_FAILED", `rank ${me}: ${err} (address from rank 0's table)`);
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
    stopListening();
    return world;
  } catch (e) {
    world.markLost(me, e instanceof Error ? e.message : String(e), true);
    await world.close(200).catch(() => {});
    throw e instanceof CommError ? e : commError("RENDEZVOUS_FAILED", `rank ${me}: ${(e as Error).message}`, e);
  }
}

/**
 * Rank 0 cannot listen where every rank was told to connect. Whatever holds the port gets the others'
 * Hellos: find out (as a client, like them) whether it can prove it knows the token. If not, it is an
 * impostor (or another job's rank): AUTH_FAILED, as the ranks that connect to it fail.
 */
export async function whoHolds(at: HostPort, auth: ClientAuth, limits: TransportLimits, deadline: number, cause: unknown): Promise<void> {
  try {
    const c = await connectPeer(at.host, at.port, auth, limits, Math.max(50, Math.min(5000, deadline - Date.now())));
    c.link.terminate();
  } catch (x) {
    if ((x as ConnectError).impostor) {
      throw commError(
        "AUTH_FAILED",
        `rank 0 could not listen on ${formatHostPort(at)}, the coordinator address: another process holds it and could not prove it knows this job's token ` +
          `(an impostor, or a rank of another job); the ranks that connect to it refuse it (${(x as Error).message})`,
        cause,
      );
    }
  }
}

/** A token must be there and long enough to resist guessing (a random one: `openssl rand -hex 32`). */
export function checkToken(token: string, what: string): void {
  if (token.length < MIN_TOKEN_LENGTH) {
    throw commError(
      "AUTH_FAILED",
      `${what} is ${token.length === 0 ? "empty" : `${token.length} characters long`}: it must be a random secret of at least ${MIN_TOKEN_LENGTH} (e.g. openssl rand -hex 32)`,
    );
  }
}
