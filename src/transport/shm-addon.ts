/**
 * Loads the shared-memory addon (native/shm.cc, built by `npm install` when a compiler is there), or
 * returns null: without it ranks on one host talk over WebSockets as ranks on different hosts do.
 * TESSERA_TRANSPORT=ws never loads it.
 */
import { addonLoader } from "../native-addon.js";

/** The addon's functions (see native/shm.cc for what each does). */
export interface ShmAddon {
  /** a new segment (the name must not exist), mode 0600, zero-filled, mapped */
  create(name: string, bytes: number): ArrayBuffer;
  /** maps an existing segment of exactly `bytes` bytes */
  open(name: string, bytes: number): ArrayBuffer;
  /** removes the name (true), or it was gone (false); mappings stay valid */
  unlink(name: string): boolean;
  /** blocks while the word at `byteOffset` holds `expected`, at most `timeoutMs` */
  wait(buf: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): "ok" | "not-equal" | "timed-out";
  /** wait() on a thread of libuv's pool */
  waitAsync(buf: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): Promise<"ok" | "not-equal" | "timed-out">;
  /** wakes up to `count` waiters of the word, in any process */
  wake(buf: ArrayBuffer, byteOffset: number, count?: number): number;
  /** spins at most `spins` turns (yielding the core every `yieldEvery`, 0 never) while the word holds `expected`; whether it changed */
  spin(buf: ArrayBuffer, byteOffset: number, expected: number, spins: number, yieldEvery?: number): boolean;
  yield(): void;
  /** out = left op right elementwise (op 0 sum, 1 prod; dtype 1 float64, 2 float32, 3 int32, 4 uint8); false when it does not do this case (abi >= 2) */
  combine?(out: ArrayBufferView, left: ArrayBufferView, right: ArrayBufferView, dtype: number, op: number): boolean;
  abi: number;
}

const addon = addonLoader<ShmAddon>("tessera_shm.node", "the shared-memory addon", () => (process.platform !== "linux" ? `the shared-memory addon needs Linux (this is ${process.platform})` : null));

/** Where `npm install` puts the addon. */
export const ADDON_PATH = addon.path;

/** The addon, or null when it is not built (or cannot load here: whyShmAddonMissing() says why). */
export function loadShmAddon(): ShmAddon | null {
  return addon.load();
}

/** Why loadShmAddon() returned null ("" when it did not). */
export function whyShmAddonMissing(): string {
  return addon.why();
}
