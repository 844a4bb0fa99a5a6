/**
 * Tokens and the proofs that show a rank knows one without sending it.
 *
 * A connection is authenticated both ways by challenge-response: the connecting rank (client) sends a fresh
 * nonce in its Hello, the listening rank (server) answers with its own; the client proves the token first,
 * the server verifies and only then proves it too. Each proof is HMAC-SHA256 keyed by the token over the
 * transcript: a label for the direction, the job, the world size, both ranks, the address the client says it
 * listens on, and both nonces. So a proof is good for one direction of one connection between two given
 * ranks: an impostor holding a port learns a MAC it cannot reflect back (the other direction has another
 * label), relay to another rank (the ranks are in it) or replay (the other side's nonce is fresh each time).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** A fresh token: 32 random bytes, hex. */
export function newToken(): string {
  return randomBytes(32).toString("hex");
}

/** A token shorter than this is refused (a proof seen by an impostor could test guesses of a short one offline). */
export const MIN_TOKEN_LENGTH = 16;

/** Constant-time comparison (both sides hashed first, so their lengths do not leak either). */
export function tokensEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;

export function newNonce(): Uint8Array {
  return randomBytes(NONCE_BYTES);
}

/** What both proofs of one connection are computed over. */
export interface Transcript {
  job: string;
  size: number;
  /** the connecting rank */
  client: number;
  /** the rank it connects to */
  server: number;
  /** where the client says it listens (rank 0 hands this address to the others) */
  clientHost: string;
  clientPort: number;
  clientNonce: Uint8Array;
  serverNonce: Uint8Array;
}

export type Direction = "client" | "server";

const LABEL = "tessera auth v2";

function transcriptBytes(dir: Direction, t: Transcript): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s, "utf8");
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    return [n, b];
  };
  const ints = Buffer.alloc(14);
  ints.writeInt32LE(t.size, 0);
  ints.writeInt32LE(t.client, 4);
  ints.writeInt32LE(t.server, 8);
  ints.writeUInt16LE(t.clientPort & 0xffff, 12);
  return Buffer.concat([
    ...str(LABEL), ...str(dir), ...str(t.job), ints, ...str(t.clientHost),
    ...str(Buffer.from(t.clientNonce).toString("hex")), ...str(Buffer.from(t.serverNonce).toString("hex")),
  ]);
}

/** The proof that the `dir` side of the connection described by `t` knows `token`. */
export function proofFor(token: string, dir: Direction, t: Transcript): Buffer {
  if (token.length === 0) throw new Error("no token: a rank never proves (or accepts) an empty token");
  if (t.clientNonce.length !== NONCE_BYTES || t.serverNonce.length !== NONCE_BYTES) throw new Error("a handshake nonce of the wrong length");
  return createHmac("sha256", Buffer.from(token, "utf8")).update(transcriptBytes(dir, t)).digest();
}

/** Whether `proof` is the `dir` side's proof of `token` for `t` (constant time; false for an empty token). */
export function proofValid(token: string, dir: Direction, t: Transcript, proof: Uint8Array): boolean {
  if (token.length === 0 || proof.length !== PROOF_BYTES) return false;
  if (t.clientNonce.length !== NONCE_BYTES || t.serverNonce.length !== NONCE_BYTES) return false;
  return timingSafeEqual(proofFor(token, dir, t), proof);
}
