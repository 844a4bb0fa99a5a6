/**
 * The rendezvous directory of a world connected on demand: every rank writes its own entry (where it
 * listens) atomically, mode 0600, and reads only the entries of the ranks it connects to, when it first
 * needs them. Nobody collects the whole table, so no rank handles P connections or P entries at start-up.
 *
 * An entry holds no token (the token is in the environment, or in rank 0's rendezvous file, which rank 0
 * removes once the start-up tree is complete); it is still private, and a reader refuses one another user
 * owns or others may write (an address from it would only fail authentication, but would delay the job).
 * Each rank removes its entry when it leaves (and on the ways out removeOnExit covers); the last one to
 * leave removes the directory.
 */
import { closeSync, fchmodSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { CommError, commError } from "./errors.js";
import { newNonce } from "./rendezvous.js";

export interface RankEntry {
  version: 1;
  job: string;
  step: string;
  size: number;
  rank: number;
  host: string;
  port: number;
  pid: number;
  hostname: string;
}

export const entryPath = (dir: string, rank: number): string => join(dir, `rank-${rank}.json`);

/** Creates the directory (private: 0700) if no rank has yet. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw commError("RENDEZVOUS_FAILED", `could not create the rendezvous directory ${dir}: ${(e as Error).message}`, e);
  }
}

/** Writes this rank's entry atomically: a private temporary file, fsync, rename. */
export function writeEntry(dir: string, e: RankEntry): void {
  const path = entryPath(dir, e.rank);
  const tmp = join(dir, `.rank-${e.rank}.${process.pid}.${newNonce()}.tmp`);
  try {
    const fd = openSync(tmp, "wx", 0o600);
    try {
      fchmodSync(fd, 0o600);
      writeSync(fd, JSON.stringify(e) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw commError("RENDEZVOUS_FAILED", `rank ${e.rank} could not write its rendezvous entry ${path}: ${(err as Error).message}`, err);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Rank `rank`'s entry, or null with why (not there yet, another job's, its writer gone). Throws AUTH_FAILED
 * for an entry of another user or one that group or others may write.
 */
export function readEntry(dir: string, rank: number, expect: { job: string; step: string; size: number }): { entry: RankEntry | null; why: string; gone?: boolean } {
  const path = entryPath(dir, rank);
  let text: string;
  try {
    const fd = openSync(path, "r");
    try {
      if (typeof process.getuid === "function") {
        const st = fstatSync(fd);
        if (st.uid !== process.getuid() || (st.mode & 0o022) !== 0) {
          throw commError("AUTH_FAILED", `the rendezvous entry ${path} is not this user's private file (uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}): refusing it`);
        }
      }
      text = readFileSync(fd, "utf8");
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof CommError) throw e;
    return { entry: null, why: (e as NodeJS.ErrnoException).code === "ENOENT" ? `${path} does not exist (yet)` : (e as Error).message };
  }
  let e: Partial<RankEntry>;
  try {
    e = JSON.parse(text) as Partial<RankEntry>;
  } catch {
    return { entry: null, why: `${path} is not JSON` };
  }
  if (e.version !== 1 || e.rank !== rank || typeof e.host !== "string" || typeof e.port !== "number") return { entry: null, why: `${path} is not a tessera rank entry` };
  if (e.job !== expect.job || e.step !== expect.step || e.size !== expect.size) {
    return { entry: null, why: `${path} is stale: written for job ${e.job}.${e.step} of ${e.size} ranks` };
  }
  if (e.hostname === hostname() && typeof e.pid === "number" && !pidAlive(e.pid)) {
    return { entry: null, why: `rank ${rank}'s process (pid ${e.pid}) is gone`, gone: true };
  }
  return { entry: e as RankEntry, why: "" };
}

/** Removes this rank's entry (if it is still this process's) and, when it was the last, the directory. */
export function removeEntry(dir: string, rank: number): void {
  const path = entryPath(dir, rank);
  try {
    const e = JSON.parse(readFileSync(path, "utf8")) as Partial<RankEntry>;
    if (e.pid === process.pid) unlinkSync(path);
  } catch {
    /* gone already */
  }
  try {
    rmdirSync(dir); // fails while other ranks' entries are there: the last rank to leave removes it
  } catch {
    /* not empty, or gone */
  }
}

/** Entries this process removes when it exits (one "exit" listener for all: tests run many ranks in one process). */
const atExit = new Set<() => void>();
let hooked = false;

/** Removes this rank's entry when the process exits, or when the returned function is called (once). */
export function removeEntryOnExit(dir: string, rank: number): () => void {
  if (!hooked) process.once("exit", () => atExit.forEach((f) => f()));
  hooked = true;
  const f = () => {
    atExit.delete(f);
    removeEntry(dir, rank);
  };
  atExit.add(f);
  return f;
}
