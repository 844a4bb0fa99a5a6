/** The transport's limits and timings, each with its default and an override (option or environment). */
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

function envInt(name: string, env: Record<string, string | undefined>): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export function defaultLimits(
  size: number,
  over: Partial<TransportLimits> = {},
  env: Record<string, string | undefined> = process.env,
): TransportLimits {
  return {
    maxPayload: over.maxPayload ?? envInt("TESSERA_MAX_FRAME", env) ?? DEFAULT_MAX_PAYLOAD,
    maxConnections: over.maxConnections ?? size + 4,
    handshakeTimeoutMs: over.handshakeTimeoutMs ?? envInt("TESSERA_HANDSHAKE_TIMEOUT_MS", env) ?? 5000,
    heartbeatMs: over.heartbeatMs ?? envInt("TESSERA_HEARTBEAT_MS", env) ?? 1000,
    peerTimeoutMs: over.peerTimeoutMs ?? envInt("TESSERA_PEER_TIMEOUT_MS", env) ?? 5000,
    // every other rank may be connecting to rank 0 at once: room for all of them, within reason
    maxPending: over.maxPending ?? envInt("TESSERA_MAX_PENDING", env) ?? Math.max(32, Math.min(size, 1024)),
  };
}
