/**
 * Choosing the transport between ranks, once the WebSocket world is up: ranks with the same host identity
 * (hostname and boot id, as the rendezvous tells them; TESSERA_SHM_HOST overrides it, for tests of mixed
 * topologies) share one shared-memory segment and exchange through rings in it; ranks on other hosts keep
 * their WebSocket links. TESSERA_TRANSPORT: "auto" (default: shared memory where it can, else ws), "ws"
 * (never shared memory), "shm" (shared memory between local ranks, or fail).
 *
 * The segment: the lowest rank of a host creates `/tessera-<job>.<step>-<rank>-<pid>-<random>` (mode
 * 0600, in /dev/shm), the others map it; its name is removed as soon as every local rank has mapped it
 * (the last to map it unlinks it, and the creator once more after the handshake), so nothing stays in
 * /dev/shm however a rank ends afterwards: the memory goes when the last rank that maps it exits. Until
 * then an exit handler of the creator removes it. Three allgathers over the WebSocket world agree on it.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { loadShmAddon, whyShmAddonMissing } from "../transport/shm-addon.js";
import { ShmSegment, defaultAreaBytes, defaultRingBytes, segmentBytes } from "../transport/shm-segment.js";
import { commError } from "./errors.js";
import { useNativeCombine, type NativeCombine } from "./payload.js";
import { ShmExchange } from "./shm-exchange.js";
import { hostTopology, type HierarchyCounts } from "./topology.js";
import type { WsWorld } from "./world-ws.js";

export type TransportMode = "auto" | "ws" | "shm";

/** Which transport this rank uses: `localRanks` (world ranks on this host sharing memory, this one included). */
export interface TransportReport {
  transport: "shm" | "ws" | "shm+ws";
  localRanks: number[];
  /** why not shared memory, when ws alone */
  why: string;
  /**
   * In a world of several hosts: whether reductions and broadcasts/barriers go node-locally first
   * (topology.ts), why reductions do not, and how often each collective did on this rank so far (live).
   */
  hierarchy?: { reductions: boolean; grouped: boolean; why: string; taken: HierarchyCounts };
}

export function transportMode(env: Record<string, string | undefined>): TransportMode {
  const v = env.TESSERA_TRANSPORT ?? "auto";
  if (v === "" || v === "auto") return "auto";
  if (v === "ws" || v === "shm") return v;
  throw commError("INVALID_ARGUMENT", `TESSERA_TRANSPORT=${JSON.stringify(v)} is not "auto", "ws" or "shm"`);
}

function hostIdentity(env: Record<string, string | undefined>): string {
  if (env.TESSERA_SHM_HOST) return env.TESSERA_SHM_HOST;
  let boot = "";
  try {
    boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {}
  return `${hostname()}/${boot}`;
}

function positive(env: Record<string, string | undefined>, name: string, dflt: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min) throw commError("INVALID_ARGUMENT", `${name}=${raw} is not a number >= ${min}`);
  return v;
}

interface Offer {
  host: string;
  capable: boolean;
  /** TESSERA_SHM_HIERARCHY is not "off" (every rank must agree: the algorithms are chosen from the offers) */
  hierarchy: boolean;
}

/** Agrees with the other ranks on shared memory and attaches it to `world`; every rank must call it. */
export async function joinSharedMemory(world: WsWorld, env: Record<string, string | undefined>, job: string): Promise<TransportReport> {
  const mode = transportMode(env);
  const addon = mode === "ws" ? null : loadShmAddon();
  if (mode === "shm" && !addon) throw commError("INVALID_ARGUMENT", `TESSERA_TRANSPORT=shm, but ${whyShmAddonMissing()}`);
  let ringBytes = positive(env, "TESSERA_SHM_RING_BYTES", 0, 1024);
  let areaBytes = positive(env, "TESSERA_SHM_AREA_BYTES", -1, 0);
  const spinUs = positive(env, "TESSERA_SHM_SPIN_US", 1000, 0);
  const me = world.rank;
  const offers = await world.allgather<Offer>({ host: hostIdentity(env), capable: addon !== null, hierarchy: env.TESSERA_SHM_HIERARCHY !== "off" });
  const group = offers.flatMap((o, r) => (o.capable && o.host === offers[me]!.host ? [r] : []));
  const notShm = (why: string): TransportReport => ({ transport: "ws", localRanks: [me], why });
  const whyWs = mode === "ws" ? "TESSERA_TRANSPORT=ws" : !addon ? whyShmAddonMissing() : "no other rank on this host";
  // every rank takes part in all three rounds, whatever its host does
  const leader = addon && group.length >= 2 && group[0] === me;
  if (ringBytes === 0) ringBytes = defaultRingBytes(group.length);
  if ((ringBytes & (ringBytes - 1)) !== 0 || ringBytes > 1 << 30) throw commError("INVALID_ARGUMENT", `TESSERA_SHM_RING_BYTES=${ringBytes} is not a power of two of at most 1 GiB`);
  if (areaBytes < 0) areaBytes = defaultAreaBytes(group.length);
  if (areaBytes % 8 !== 0 || areaBytes > 1 << 30) throw commError("INVALID_ARGUMENT", `TESSERA_SHM_AREA_BYTES=${areaBytes} is not a multiple of 8 of at most 1 GiB`);
  const bytes = segmentBytes(group.length, ringBytes, areaBytes);
  const L = group.length;
  let name: string | null = null;
  let buf: ArrayBuffer | null = null;
  let unlinked = false;
  const unlink = () => {
    if (!unlinked && name && addon) {
      unlinked = true;
      try {
        addon.unlink(name);
      } catch {}
    }
  };
  let error = "";
  if (leader) {
    name = `/tessera-${job.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80)}-${me}-${process.pid}-${randomBytes(6).toString("hex")}`;
    try {
      buf = addon.create(name, bytes);
      process.once("exit", unlink);
      const seg = new ShmSegment(buf, L, ringBytes, 0, areaBytes);
      seg.init();
      seg.attach();
    } catch (e) {
      error = (e as Error).message;
      name = null;
      buf = null;
    }
  }
  try {
    const names = await world.allgather<string | null>(name);
    const theirs = addon && group.length >= 2 ? names[group[0]!] ?? null : null;
    if (!leader && theirs) {
      try {
        buf = addon!.open(theirs, bytes);
        const seg = new ShmSegment(buf, L, ringBytes, group.indexOf(me), areaBytes);
        if (!seg.valid()) throw new Error(`segment ${theirs} does not hold the expected header`);
        if (seg.attach() === L) addon!.unlink(theirs); // the last rank to map it removes its name
      } catch (e) {
        error = (e as Error).message;
        buf = null;
      }
    }
    const mapped = await world.allgather<boolean>(buf !== null);
    unlink();
    process.removeListener("exit", unlink);
    // the hosts whose ranks share memory, the same on every rank (each rank's own group is decided as below)
    const hosts = new Map<string, number[]>();
    offers.forEach((o, r) => { if (o.capable) hosts.set(o.host, [...(hosts.get(o.host) ?? []), r]); });
    const sharing = [...hosts.values()].filter((g) => g.length >= 2 && g.every((r) => mapped[r]));
    const topo = hostTopology(sharing, world.size);
    // TESSERA_SHM_HIERARCHY=off (on any rank) keeps the flat algorithms in a mixed world (to compare them)
    if (sharing.length >= 1 && topo.hosts.length >= 2 && offers.every((o) => o.hierarchy)) world.topology = topo;
    const hierarchy = world.topology ? { reductions: topo.reductions, grouped: topo.grouped, why: topo.why, taken: topo.taken } : undefined;
    if (group.length < 2 || !addon) {
      world.endSetup(null);
      return { ...notShm(whyWs), hierarchy };
    }
    if (!group.every((r) => mapped[r])) {
      world.endSetup(null);
      if (mode === "shm") throw commError("INVALID_ARGUMENT", `TESSERA_TRANSPORT=shm, but the ranks of this host could not share memory${error ? ` (${error})` : ""}`);
      return { ...notShm(`the ranks of this host could not share memory${error ? ` (${error})` : ""}`), hierarchy };
    }
    const seg = new ShmSegment(buf!, L, ringBytes, group.indexOf(me), areaBytes);
    // large sums and products in the addon's loops (the same bits as the JS ones; ws-only ranks keep JS)
    if (addon.combine) useNativeCombine(addon.combine as NativeCombine);
    world.endSetup((deliver, busy) => new ShmExchange(seg, addon, group, deliver, busy, { spinUs, sleepMs: 100, oversubscribed: L > availableParallelism() }));
    return { transport: group.length === world.size ? "shm" : "shm+ws", localRanks: group, why: "", hierarchy };
  } finally {
    unlink();
    process.removeListener("exit", unlink);
  }
}
