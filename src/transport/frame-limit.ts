/**
 * The largest message a connection accepts, before and after authentication.
 *
 * ws checks a frame's announced length against `maxPayload` as soon as it has read the frame's header, and
 * refuses a longer one (close 1009) without reading its bytes; but `maxPayload` is one option for a whole
 * server (or client), fixed when the connection opens. A rank needs two limits: a handshake's few hundred
 * bytes until the peer has proven the token, the transport's frame limit after. So every connection opens
 * with the handshake limit and is raised to the full one here, on the receiver ws made for it, once
 * authenticated: a 200 MiB first frame is refused at its header, before one byte of it is buffered.
 */
import type { WebSocket } from "ws";

/** The largest message a peer may send before it has authenticated (a Hello or an AuthProof is under 300 bytes). */
export const HANDSHAKE_MAX_BYTES = 512;

interface WithReceiver {
  _receiver?: { _maxPayload?: unknown } | null;
}

/**
 * Sets the largest message `ws` accepts from now on. Throws when ws's receiver is not what this was written
 * for (ws 8): a connection left at the handshake limit would refuse every large message, so fail loudly.
 */
export function setMaxPayload(ws: WebSocket, bytes: number): void {
  const r = (ws as unknown as WithReceiver)._receiver;
  if (!r || typeof r._maxPayload !== "number") {
    throw new Error("tessera: cannot raise the frame limit of an authenticated connection (ws's Receiver changed: update transport/frame-limit.ts)");
  }
  r._maxPayload = bytes;
}

/** The limit `ws` enforces now (for tests). */
export function maxPayloadOf(ws: WebSocket): number {
  const r = (ws as unknown as WithReceiver)._receiver;
  return r && typeof r._maxPayload === "number" ? r._maxPayload : -1;
}
