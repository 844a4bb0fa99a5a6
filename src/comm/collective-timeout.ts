/**
 * The collective timeout: how long a rank waits, inside one collective or recv, for a message from one
 * peer before the whole world fails with COMM_TIMEOUT.
 *
 * What the clock measures: one wait of this rank for one peer's message, from when this rank starts
 * waiting for it (restarted by each piece of a large message that arrives). It does not include this
 * rank's own work between collectives, but it does include the time the peer takes to reach the same call,
 * so it bounds how far apart the ranks may drift: a rank that computes 20 minutes longer than the others
 * before a collective makes them wait 20 minutes. Hence a generous default. A frozen or dead peer is found
 * much sooner by heartbeats (TESSERA_PEER_TIMEOUT_MS); this timeout is for live ranks that will never
 * send what is awaited (a recv nobody sends to, a collective only some ranks call).
 */
import { commError } from "./errors.js";

export const DEFAULT_COLLECTIVE_TIMEOUT_MS = 10 * 60_000;
/** setTimeout's limit (about 24.8 days): a longer delay would fire at once */
export const MAX_COLLECTIVE_TIMEOUT_MS = 2 ** 31 - 1;

/** A timeout in ms, checked: 0 (never time out) up to MAX_COLLECTIVE_TIMEOUT_MS. */
export function checkCollectiveTimeout(ms: unknown, what: string): number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || ms > MAX_COLLECTIVE_TIMEOUT_MS) {
    throw commError("INVALID_ARGUMENT", `${what} ${String(ms)} must be a number of milliseconds from 0 (no timeout) to ${MAX_COLLECTIVE_TIMEOUT_MS}`);
  }
  return Math.round(ms);
}

/** TESSERA_COLLECTIVE_TIMEOUT_MS, validated (a bad value is an error, not ignored); undefined when unset. */
export function collectiveTimeoutFromEnv(env: Record<string, string | undefined>): number | undefined {
  const raw = env.TESSERA_COLLECTIVE_TIMEOUT_MS;
  if (raw === undefined || raw === "") return undefined;
  const v = raw.trim();
  const n = Number(v);
  if (!/^\d+(\.\d*)?$/.test(v) || !(n <= MAX_COLLECTIVE_TIMEOUT_MS)) {
    throw commError(
      "INVALID_ARGUMENT",
      `TESSERA_COLLECTIVE_TIMEOUT_MS=${JSON.stringify(raw)} must be a number of milliseconds from 0 (no timeout) to ${MAX_COLLECTIVE_TIMEOUT_MS}`,
    );
  }
  return Math.round(n);
}

/** "600 s", "1.5 s", "250 ms" */
export function formatWait(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${+(ms / 1000).toFixed(1)} s`;
}
