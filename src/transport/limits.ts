/** The transport's limits and timings, each with its default and an override (option or environment). */
import { invalid } from "../errors.js";

export interface TransportLimits {
  /** largest WebSocket frame accepted, bytes (TESSERA_MAX_FRAME); larger payloads are split into frames */
  maxPayload: number;
  /** authenticated peers a server accepts at once (default: world size + 4) */
  maxConnections: number;
  /** time a new connection has to authenticate, from its TCP accept, ms (TESSERA_HANDSHAKE_TIMEOUT_MS) */
  handshakeTimeoutMs: number;
  /** interval between pings, ms (TESSERA_HEARTBEAT_MS) */
  heartbeatMs: number;
  /** a peer silent for this long is dead, ms (TESSERA_PEER_TIMEOUT_MS) */
  peerTimeoutMs: number;
  /** connections a server lets authenticate at once, apart from maxConnections (TESSERA_MAX_PENDING) */
  maxPending: number;
}

export const DEFAULT_MAX_PAYLOAD = 256 * 1024 * 1024;
/**
 * The smallest frame limit accepted: rendezvous frames are never split (rank 0's address table takes about
 * 40 bytes a rank: 160 KiB for 4096 ranks) and split messages keep 4 KiB of each frame for their header.
 * Below it a handshake cannot get through and the ranks would only wait out their timeout.
 */
export const MIN_MAX_PAYLOAD = 1024 * 1024;
const MAX_MAX_PAYLOAD = 2 ** 32;
/** setTimeout and setInterval turn longer delays into 1 ms */
const MAX_TIMER_MS = 2 ** 31 - 1;

type Env = Record<string, string | undefined>;

/** An integer variable in [min, max]; anything else set is refused, naming the variable and its value. */
function envInt(name: string, env: Env, min: number, max: number, unit: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isSafeInteger(n) || n < min || n > max) {
    throw invalid("INVALID_ARGUMENT", `${name}=${JSON.stringify(v)} must be an integer from ${min} to ${max} (${unit})`);
  }
  return n;
}

/** The limits the environment sets, validated. */
export function envLimits(env: Env = process.env): Partial<Omit<TransportLimits, "maxConnections">> {
  return {
    maxPayload: envInt("TESSERA_MAX_FRAME", env, MIN_MAX_PAYLOAD, MAX_MAX_PAYLOAD, "bytes"),
    heartbeatMs: envInt("TESSERA_HEARTBEAT_MS", env, 1, MAX_TIMER_MS, "ms"),
    peerTimeoutMs: envInt("TESSERA_PEER_TIMEOUT_MS", env, 1, MAX_TIMER_MS, "ms"),
    handshakeTimeoutMs: envInt("TESSERA_HANDSHAKE_TIMEOUT_MS", env, 1, MAX_TIMER_MS, "ms"),
    maxPending: envInt("TESSERA_MAX_PENDING", env, 1, 65536, "connections"),
  };
}

export function defaultLimits(
  size: number,
  over: Partial<TransportLimits> = {},
  env: Env = process.env,
): TransportLimits {
  const e = envLimits(env);
  const limits: TransportLimits = {
    maxPayload: over.maxPayload ?? e.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    maxConnections: over.maxConnections ?? size + 4,
    handshakeTimeoutMs: over.handshakeTimeoutMs ?? e.handshakeTimeoutMs ?? 5000,
    heartbeatMs: over.heartbeatMs ?? e.heartbeatMs ?? 1000,
    peerTimeoutMs: over.peerTimeoutMs ?? e.peerTimeoutMs ?? 5000,
    // every other rank may be connecting to rank 0 at once: room for all of them, within reason
    maxPending: over.maxPending ?? e.maxPending ?? Math.max(32, Math.min(size, 1024)),
  };
  if (limits.peerTimeoutMs <= limits.heartbeatMs) {
    // every idle peer would be declared lost between two heartbeats
    throw invalid(
      "INVALID_ARGUMENT",
      `the peer timeout (${limits.peerTimeoutMs} ms, TESSERA_PEER_TIMEOUT_MS) must be longer than the heartbeat interval (${limits.heartbeatMs} ms, TESSERA_HEARTBEAT_MS)`,
    );
  }
  return limits;
}
