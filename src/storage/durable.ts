/**
 * Durable writes (the `fsync` option of toZarr and saveNpy): data on the disk, not only in the page cache,
 * before a rename makes it visible, and the renames themselves on disk (the directories synced). Without
 * the option a write is atomic (temporary name, then rename) but a power loss may lose what the page
 * cache had not yet written back; with it, what a write returned having written survives one.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, readdirSync, writeSync } from "node:fs";
import { join } from "node:path";

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
