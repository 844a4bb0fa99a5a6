/**
 * The rank layer's entry points: initWorld() discovers this process's place among ranks (SLURM, Open MPI,
 * PMI, tessera's own variables), meets the other ranks and returns the World (the single-process world
 * when there is one rank); closeWorld() leaves it; onRankLost() is told when a peer is lost, and
 * onWorldFailure() of any failure that breaks the world (a lost rank, mismatched collectives, a timeout).
 * A script that never calls closeWorld() leaves the world when it returns (atLoopEnd), as mpi4py
 * finalizes MPI at exit.
 */
import { checkCollectiveTimeout, collectiveTimeoutFromEnv } from "./collective-timeout.js";
import { discoverWorld, parseHostPort, type WorldInfo } from "./discover.js";
import { endFrozenStep } from "./end-step.js";
import { commError } from "./errors.js";
import { establish } from "./mesh.js";
import { jobKey } from "./rendezvous.js";
import { joinSharedMemory, transportMode, type TransportReport } from "./shm-setup.js";
import { singleWorld, type World } from "./world.js";
import { WsWorld as WsWorldClass, type RankLostHandler, type WorldFailureHandler, type WsWorld } from "./world-ws.js";

export interface InitOptions {
  /** network interface (name like "ib0", or an address) to listen on; else TESSERA_INTERFACE; else loopback when all ranks are local */
  interface?: string;
  /** rank 0's host:port; else TESSERA_COORDINATOR; else a rendezvous file */
  coordinator?: string;
  /** how long to wait for the other ranks, ms (else TESSERA_TIMEOUT_MS, else 60 000) */
  timeoutMs?: number;
  /** rendezvous file path (else TESSERA_RENDEZVOUS, else ./.tessera-rendezvous-<jobid>.<stepid>.json) */
  rendezvousFile?: string;
  /** ping interval, ms (else TESSERA_HEARTBEAT_MS, else 1000) */
  heartbeatMs?: number;
  /** a peer silent this long is lost, ms (else TESSERA_PEER_TIMEOUT_MS, else 5000) */
  peerTimeoutMs?: number;
  /** largest frame, bytes (else TESSERA_MAX_FRAME, else 256 MiB); larger payloads are split */
  maxPayload?: number;
  /**
   * how long one wait for a peer's message inside a collective or recv may last before every rank fails
   * with COMM_TIMEOUT, ms (else TESSERA_COLLECTIVE_TIMEOUT_MS, else 10 minutes; 0: no timeout). It includes
   * the time other ranks work before they reach the same call: see collective-timeout.ts.
   */
  collectiveTimeoutMs?: number;
  /** the environment to discover from (default process.env) */
  env?: Record<string, string | undefined>;
  /**
   * whether a script that returns without closeWorld() leaves the world at 'beforeExit' (default true;
   * run.js, which closes the world itself after the script and reports one that never settles, says false)
   */
  leaveAtExit?: boolean;
}

let current: Promise<World> | null = null;
let currentWorld: World | null = null;
/** whether the open world is left at 'beforeExit' once nothing waits (InitOptions.leaveAtExit) */
let leaveWhenIdle = true;
let report: TransportReport | null = null;
const pendingLost: RankLostHandler[] = [];
const pendingFailure: WorldFailureHandler[] = [];

const isWs = (w: World | null): w is WsWorld => w instanceof WsWorldClass;

/** Discovers the world and meets the other ranks (once; later calls return the same world). */
export function initWorld(opts: InitOptions = {}): Promise<World> {
  current ??= (async () => {
    const env = opts.env ?? process.env;
    const info: WorldInfo = discoverWorld(env);
    // checked on every rank count: a bad value must not wait for the day it runs on many ranks
    const collectiveTimeoutMs = opts.collectiveTimeoutMs !== undefined
      ? checkCollectiveTimeout(opts.collectiveTimeoutMs, "collectiveTimeoutMs")
      : collectiveTimeoutFromEnv(env);
    transportMode(env); // a bad TESSERA_TRANSPORT is refused on one rank too
    if (info.size === 1) return (currentWorld = singleWorld);
    const tenv = env.TESSERA_TIMEOUT_MS ? Number(env.TESSERA_TIMEOUT_MS) : undefined;
    if (tenv !== undefined && !(tenv > 0)) throw commError("INVALID_ARGUMENT", `TESSERA_TIMEOUT_MS=${env.TESSERA_TIMEOUT_MS} is not a positive number`);
    const world = await establish(info, {
      interface: opts.interface,
      coordinator: opts.coordinator ? parseHostPort(opts.coordinator, "--coordinator") : undefined,
      timeoutMs: opts.timeoutMs ?? tenv,
      rendezvousFile: opts.rendezvousFile,
      limits: { heartbeatMs: opts.heartbeatMs, peerTimeoutMs: opts.peerTimeoutMs, maxPayload: opts.maxPayload },
      collectiveTimeoutMs,
    });
    try {
      report = await joinSharedMemory(world, env, jobKey(info));
    } catch (e) {
      await world.close().catch(() => {});
      throw e;
    }
    // a frozen peer would keep srun waiting for its task after every other rank exits: end the step
    world.onRankLost((rank, _reason, how) => {
      if (how.unresponsive) endFrozenStep(env, rank);
    });
    for (const cb of pendingLost.splice(0)) world.onRankLost(cb);
    for (const cb of pendingFailure.splice(0)) world.onFailure(cb);
    world.holdProcess(false);
    leaveWhenIdle = opts.leaveAtExit !== false;
    process.on("beforeExit", atLoopEnd);
    return (currentWorld = world);
  })();
  current.catch(() => {
    current = null;
  });
  return current;
}

/**
 * How this rank talks to the others: "shm" (shared memory with every rank: all on this host), "shm+ws"
 * (shared memory with `localRanks`, WebSockets to the rest), "ws", or "none" (a world of one).
 */
export function transportReport(): TransportReport | { transport: "none"; localRanks: number[]; why: string } {
  return currentWorld && currentWorld !== singleWorld && report ? report : { transport: "none", localRanks: [getWorld().rank], why: "a world of one rank" };
}

/** The world initWorld() made (the single-process world before or without it). */
export function getWorld(): World {
  return currentWorld ?? singleWorld;
}

/**
 * Leaves the world: waits for every rank to arrive (a barrier, unless a rank was lost), says goodbye,
 * closes connections and (rank 0) removes the rendezvous file. Call it before exiting.
 */
export async function closeWorld(): Promise<void> {
  const w = currentWorld;
  current = null;
  currentWorld = null;
  report = null;
  process.off("beforeExit", atLoopEnd);
  if (isWs(w)) await w.close();
}

/** How often a rank whose script has returned looks again at operations still waiting for a peer, ms. */
const AT_EXIT_RECHECK_MS = 50;

/**
 * 'beforeExit' with the world open: the event loop has nothing left but the world's connections, which do
 * not hold it (WsWorld.holdProcess). An operation still waiting for a peer (with the collective timeout
 * off its wait has no timer) gets the loop back a while, and is looked at again: a rank waiting in a
 * collective, however long, never exits. Else the script has returned: unless its runner closes the world
 * itself (run.js: leaveAtExit false), the world is left as closeWorld() leaves it (a barrier with every
 * rank, goodbyes), after which the process exits.
 */
function atLoopEnd(): void {
  const w = currentWorld;
  if (!isWs(w)) return;
  if (w.pendingOperations > 0) setTimeout(() => {}, AT_EXIT_RECHECK_MS);
  else if (leaveWhenIdle) closeWorld().catch((e) => process.stderr.write(`tessera: leaving the world at exit: ${(e as Error).message}\n`));
}

/**
 * Calls `cb(rank, reason)` when a peer is lost (exited, crashed, killed, stopped answering heartbeats, or
 * a rank reported it); pending and later operations then fail with RANK_LOST. Returns an unsubscribe function.
 */
export function onRankLost(cb: RankLostHandler): () => void {
  if (isWs(currentWorld)) return currentWorld.onRankLost(cb);
  pendingLost.push(cb);
  return () => {
    const i = pendingLost.indexOf(cb);
    if (i >= 0) pendingLost.splice(i, 1);
  };
}

/**
 * Calls `cb(error)` once when the world breaks, with the error its pending and later operations fail with:
 * RANK_LOST, COLLECTIVE_MISMATCH or COMM_TIMEOUT (the last two are the same on every rank). Returns an
 * unsubscribe function.
 */
export function onWorldFailure(cb: WorldFailureHandler): () => void {
  if (isWs(currentWorld)) return currentWorld.onFailure(cb);
  pendingFailure.push(cb);
  return () => {
    const i = pendingFailure.indexOf(cb);
    if (i >= 0) pendingFailure.splice(i, 1);
  };
}

/** Settles once the other ranks were told why this world broke (at most `ms` later; at once without a world). */
export function worldFailureSent(ms = 1000): Promise<void> {
  return isWs(currentWorld) ? currentWorld.failureSent(ms) : Promise.resolve();
}

/** Every rank's bytes in rank order (the lead's exchange of reduction partials); works on any World. */
export async function allgatherBytes(world: World, bytes: Uint8Array, tag = 0): Promise<Uint8Array[]> {
  return world instanceof WsWorldClass ? world.allgatherBytes(bytes, tag) : [bytes];
}

/** Throws COLLECTIVE_MISMATCH if some rank's fingerprint (e.g. of its graph) differs; a no-op on one rank. */
export async function checkFingerprint(world: World, fingerprint: string, what = "graph"): Promise<void> {
  if (world instanceof WsWorldClass) await world.checkFingerprint(fingerprint, what);
}

/** How many operations of this process's world wait for a peer (0 on one rank). */
export function pendingOperations(): number {
  return isWs(currentWorld) ? currentWorld.pendingOperations : 0;
}

/** Tells every other rank this one gives up: they fail with RANK_LOST naming this rank. */
export function abortWorld(reason: string): void {
  if (isWs(currentWorld)) currentWorld.abort(reason);
}

export { singleWorld, type World, type ReduceFn, type ReduceOptions, type BcastOptions, type GatherOptions, type AllgatherOptions } from "./world.js";
export { WsWorld, type RankLostHandler, type WorldFailureHandler } from "./world-ws.js";
export { discoverWorld, parseHostPort, type WorldInfo } from "./discover.js";
export { expandHostlist } from "./hostlist.js";
export { CommError, type CommErrorCode } from "./errors.js";
export type { TransportReport } from "./shm-setup.js";
export { launchLocal, type LaunchOptions } from "./launch.js";
export { canonicalReduce } from "./collectives.js";

/**
 * The public `world`: always the current one (the single-process world until initWorld() has met
 * other ranks), like mpi4py's COMM_WORLD.
 */
export const world: World = {
  get rank() {
    return getWorld().rank;
  },
  get size() {
    return getWorld().size;
  },
  barrier: () => getWorld().barrier(),
  bcast: (value, root, options) => getWorld().bcast(value, root, options),
  reduce: (value, op, root, options) => getWorld().reduce(value, op, root, options),
  allreduce: (value, op, options) => getWorld().allreduce(value, op, options),
  gather: (value, root, options) => getWorld().gather(value, root, options),
  allgather: (value, options) => getWorld().allgather(value, options),
  send: (value, dest, tag) => getWorld().send(value, dest, tag),
  recv: (source, tag) => getWorld().recv(source, tag),
};
