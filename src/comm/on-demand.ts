/**
 * Establishing a world connected on demand (worlds of more than TESSERA_MESH_MAX ranks, default 8, when
 * there is a rendezvous directory or file): no rank collects P Hellos or a P-entry table, and no rank
 * holds P links.
 *
 *   1. the token: in the environment (run.js --np, TESSERA_TOKEN), or in rank 0's rendezvous file (as
 *      in small worlds: written atomically, mode 0600, removed once the start-up tree is complete);
 *   2. every rank listens and writes its own entry in the rendezvous directory (rendezvous-dir.ts);
 *   3. the start-up tree (overlay.ts), bottom up: a rank waits for its children's links, then connects to
 *      its parent. So rank 0 has all its children only once every rank has read the token (its file can
 *      go), and the tree, which spans the world, carries heartbeats and the news of a failure.
 *   4. every other link is made when a collective or send first needs it (peer-links.ts), authenticated
 *      exactly as at start-up. Servers therefore keep listening for the whole job, with the same limits
 *      as during a rendezvous: a deadline and a frame cap until a connection has authenticated, a budget
 *      of pending connections apart from the peers' cap.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import type { HelloMsg } from "../protocol/messages.js";
import { newToken } from "../transport/auth.js";
import { ConnectError, connectPeer, type ClientAuth } from "../transport/client.js";
import { defaultLimits } from "../transport/limits.js";
import type { Link } from "../transport/link.js";
import { PeerServer } from "../transport/server.js";
import { formatHostPort, type HostPort, type WorldInfo } from "./discover.js";
import { CommError, commError } from "./errors.js";
import { checkToken, whoHolds, type MeshOptions } from "./mesh.js";
import { treePlace } from "./overlay.js";
import { CONNECTED, CROSSING } from "./peer-links.js";
import { ensureDir, entryPath, readEntry, removeEntryOnExit, writeEntry } from "./rendezvous-dir.js";
import {
  choosePeerHost, chooseRootHost, defaultRendezvousPath, jobKey, newNonce, readRendezvousFile, removeOnExit, sleep, writeRendezvousFile,
} from "./rendezvous.js";
import { WsWorld } from "./world-ws.js";

export interface OnDemandOptions extends MeshOptions {
  /** the rendezvous directory (else TESSERA_RENDEZVOUS_DIR, else beside the rendezvous file) */
  rendezvousDir?: string;
}

const secs = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;
const list = (rs: number[]) => (rs.length > 12 ? `${rs.slice(0, 12).join(", ")}, ...` : rs.join(", "));

/** The directory of a file-mode world: beside rank 0's file, named after its nonce (never an earlier run's). */
const dirBeside = (file: string, nonce: string) => join(file.replace(/\.json$/, "") + `.${nonce}.d`);

export async function establishOnDemand(info: WorldInfo, opts: OnDemandOptions = {}): Promise<WsWorld> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const limits = defaultLimits(info.size, opts.limits ?? {});
  const world = new WsWorld(info.rank, info.size, { limits, collectiveTimeoutMs: opts.collectiveTimeoutMs });
  const coordinator = opts.coordinator ?? info.coordinator;
  const iface = opts.interface ?? info.interface;
  const job = jobKey(info);
  const me = info.rank;
  const expect = { job: info.jobId, step: info.stepId, size: info.size };
  if (coordinator && !info.token) {
    throw commError("RENDEZVOUS_FAILED", `a coordinator (${formatHostPort(coordinator)}) was given without a token: set TESSERA_TOKEN on every rank`);
  }
  if (info.token !== undefined) checkToken(info.token, "TESSERA_TOKEN");
  let token = info.token ?? "";
  let dir = opts.rendezvousDir ?? info.rendezvousDir ?? "";
  const file = coordinator ? null : (opts.rendezvousFile ?? defaultRendezvousPath(info));
  /** rank 0's address: the coordinator, or from its rendezvous file */
  let root: HostPort | null = coordinator ?? null;
  let server: PeerServer | null = null;
  const cleanup: (() => void)[] = [];
  world.onClose = async () => {
    for (const f of cleanup.splice(0)) f();
    await server?.close();
  };
  world.onHoldProcess = (hold) => server?.holdProcess(hold);
  const auth = (expectRank: number): ClientAuth => ({ token, rank: me, size: info.size, job, host: server?.host ?? "", port: server?.port ?? 0, expect: expectRank });
  const precheck = (h: HelloMsg): string | undefined => {
    if (h.size !== info.size) return `it belongs to a world of ${h.size} ranks, this one has ${info.size}`;
    if (h.job !== job) return `it belongs to job ${h.job}, this is ${job}`;
    if (!Number.isInteger(h.rank) || h.rank < 0 || h.rank >= info.size || h.rank === me) return `rank ${h.rank} may not connect to rank ${me}`;
    return undefined;
  };
  const onPeer = (h: HelloMsg, link: Link): string | undefined => {
    if (world.hasLink(h.rank)) return CONNECTED;
    if (me < h.rank && world.isDialing(h.rank)) return CROSSING; // the lower rank's own dial wins
    world.attach(link);
    return undefined;
  };
  const listen = async (host: string, port: number): Promise<PeerServer> => {
    try {
      return await PeerServer.listen({
        host, port, limits, log: opts.log, rank: me, size: info.size, job, token: () => token, precheck, onPeer,
        routine: (why) => why === CROSSING || why === CONNECTED,
      });
    } catch (e) {
      if (me === 0 && coordinator && (e as NodeJS.ErrnoException).code === "EADDRINUSE") await whoHolds(coordinator, auth(0), limits, deadline, e);
      throw commError("RENDEZVOUS_FAILED", `rank ${me} could not listen on ${formatHostPort({ host, port })}: ${(e as Error).message}`, e);
    }
  };

  /** Connects to rank q: its address from its entry (rank 0's from the coordinator or its file), retrying until the timeout. */
  const dial = async (q: number): Promise<Link> => {
    const until = Date.now() + timeoutMs;
    let delay = 25;
    let last = "";
    let where = "";
    for (;;) {
      if (world.failure) throw world.failure;
      let target: HostPort | null = q === 0 && root ? root : null;
      if (!target) {
        const r = readEntry(dir, q, expect);
        if (r.gone) throw commError("RANK_LOST", r.why);
        if (r.entry) target = r.entry;
        else last = r.why;
      }
      if (target) {
        where = ` at ${formatHostPort(target)}${q === 0 && root ? "" : ` (from ${entryPath(dir, q)})`}`;
        try {
          return (await connectPeer(target.host, target.port, auth(q), limits, Math.max(50, Math.min(5000, until - Date.now())))).link;
        } catch (e) {
          const ce = e as ConnectError;
          if (ce.refusal === CROSSING || ce.refusal === CONNECTED) throw e; // its own link is coming (peer-links.ts)
          if (ce.impostor) throw commError("AUTH_FAILED", `rank ${me}: ${ce.message}${q === 0 && root ? "" : ` (address from ${entryPath(dir, q)})`}`);
          last = ce.message;
        }
      }
      if (Date.now() >= until) throw commError("RENDEZVOUS_FAILED", `rank ${me} could not reach rank ${q}${where} within ${secs(timeoutMs)} (last error: ${last})`);
      await sleep(Math.min(delay, Math.max(1, until - Date.now())));
      delay = Math.min(500, delay * 2);
    }
  };

  try {
    if (me === 0) {
      const host = coordinator ? coordinator.host : chooseRootHost(iface, info);
      if (!coordinator) token = newToken();
      server = await listen(host, coordinator ? coordinator.port : 0);
      if (file) {
        const nonce = newNonce();
        dir ||= dirBeside(file, nonce);
        // the handlers first: a signal that comes as soon as the file is there must find them installed
        cleanup.push(removeOnExit(file, nonce));
        writeRendezvousFile(file, {
          version: 1, job: info.jobId, step: info.stepId, size: info.size, host: server.host, port: server.port, token,
          nonce, created: Date.now(), pid: process.pid, hostname: hostname(),
        });
      }
    } else {
      let delay = 25;
      while (file && !root) {
        const r = readRendezvousFile(file, expect);
        if (r.rec) {
          checkToken(r.rec.token, `the token in ${file}`);
          token = r.rec.token;
          root = { host: r.rec.host, port: r.rec.port };
          dir ||= dirBeside(file, r.rec.nonce);
          break;
        }
        if (Date.now() >= deadline) throw commError("RENDEZVOUS_FAILED", `rank ${me} could not read the rendezvous file ${file} within ${secs(timeoutMs)} (${r.why})`);
        await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
        delay = Math.min(500, delay * 2);
      }
      server = await listen(await choosePeerHost(iface, root!.host, info.allLocal), 0);
    }
    if (!dir) throw commError("RENDEZVOUS_FAILED", `rank ${me}: a world of ${info.size} ranks connected on demand needs a rendezvous directory (TESSERA_RENDEZVOUS_DIR)`);
    ensureDir(dir);
    cleanup.push(removeEntryOnExit(dir, me));
    writeEntry(dir, { version: 1, job: info.jobId, step: info.stepId, size: info.size, rank: me, host: server.host, port: server.port, pid: process.pid, hostname: hostname() });
    world.connectOnDemand(dial);

    const place = treePlace(me, info.size, info.perNode);
    // a child that left before it connected (its entry removed, or its process gone on this host) is lost
    // now, not at the deadline
    const seen = new Set<number>();
    const watch = setInterval(() => {
      for (const c of place.children) {
        if (world.hasLink(c)) continue;
        try {
          const r = readEntry(dir, c, expect);
          if (r.entry) seen.add(c);
          else if (r.gone) world.markLost(c, `${r.why} before it connected to rank ${me}`);
          else if (seen.has(c)) world.markLost(c, `it left (its rendezvous entry is gone) before it connected to rank ${me}`);
        } catch {
          /* its dial will say */
        }
      }
    }, 500);
    try {
      await world.waitLinks(place.children, deadline, (missing) =>
        `rank ${me}: ranks ${list(missing)} (below it in the start-up tree) did not connect to it within ${secs(timeoutMs)}` +
          (file ? ` (rendezvous file ${file})` : ""),
      );
    } finally {
      clearInterval(watch);
    }
    if (place.parent >= 0) await world.connect(place.parent);
    if (me === 0 && file) cleanup.shift()?.(); // the tree is complete: every rank has read the token
    return world;
  } catch (e) {
    world.markLost(me, e instanceof Error ? e.message : String(e), true);
    await world.close(200).catch(() => {});
    throw e instanceof CommError ? e : commError("RENDEZVOUS_FAILED", `rank ${me}: ${(e as Error).message}`, e);
  }
}
