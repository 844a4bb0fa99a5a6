/**
 * Durable writes (the `fsync` option of toZarr and saveNpy): data on the disk, not only in the page cache,
 * before a rename makes it visible, and the renames themselves on disk (the directories synced). Without
 * the option a write is atomic (temporary name, then rename) but a power loss may lose what the page
 * cache had not yet written back; with it, what a write returned having written survives one.
 */
import { closeSync, fdatasync, fdatasyncSync, fsyncSync, openSync, readdirSync, renameSync, rm, writeSync } from "node:fs";
import { join } from "node:path";
import { TesseraError } from "../errors.js";

/** Writes `bytes` to a new file `path` (replacing one) and fdatasyncs it. */
export function writeFileSynced(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, "w", 0o644);
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a directory: the names created or renamed in it are on disk. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of `dir` and every directory under it (a Zarr array's nested chunk directories). */
export function syncDirectoryTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) syncDirectoryTree(join(dir, e.name));
  syncDirectory(dir);
}

/**
 * Durable chunk writes in the background. A worker that wrote a chunk under its temporary name hands the
 * file's fdatasync (on libuv's thread pool) and the rename after it to deferSync, and goes on computing its
 * next chunk while the disk writes this one: waiting in the task for each sync left the disk idle while
 * the workers computed, and the workers idle while the disk wrote (toZarr({ fsync: true }) of 4 GiB at
 * 0.60x the disk's limit). At most MAX_PENDING per thread are outstanding (one more waits for the oldest);
 * settleDeferred() waits for all of them, and a failure is the IO_ERROR of the first chunk that failed.
 */
const MAX_PENDING = 4;
const pending = new Set<Promise<void>>();
let failed: TesseraError | null = null;

/** fdatasync of fd (open on tmp, written), then close and rename over file, in the background. */
export async function deferSync(fd: number, tmp: string, file: string): Promise<void> {
  while (pending.size >= MAX_PENDING) await Promise.race(pending);
  const p = new Promise<void>((done) => {
    const fail = (e: Error) => {
      failed ??= new TesseraError("IO_ERROR", `cannot write the chunk ${file}: ${e.message}`, { cause: e });
      rm(tmp, { force: true }, () => done());
    };
    // the sync on the thread pool; the close and the rename after it are quick system calls
    fdatasync(fd, (synced) => {
      try {
        closeSync(fd);
        if (synced) throw synced;
        renameSync(tmp, file);
        done();
      } catch (e) {
        fail(e as Error);
      }
    });
  });
  pending.add(p);
  void p.then(() => pending.delete(p));
  if (failed) throw failed; // an earlier chunk's failure fails the compute as soon as it is known
}

/** Waits for every deferred sync of this thread; throws (once) the first failure among them. */
export async function settleDeferred(): Promise<void> {
  while (pending.size) await Promise.all(pending);
  const e = failed;
  failed = null;
  if (e) throw e;
}
