/**
 * Runs of elements between a stored chunk and a region, and reading file bytes straight into them: what
 * the Zarr region reads (zarr.ts) and the slab reads of streamed tasks (slabs.ts) share.
 */
import { readSync, readvSync } from "node:fs";
import { TesseraError } from "../errors.js";

/**
 * Calls fn(offset in a, offset in b, length) for every run along the last axis of a box of `shape`
 * placed at element offsets `aAt` / `bAt` of two C-order arrays with strides `aSt` / `bSt`.
 */
export function forEachPairRun(shape: readonly number[], aSt: readonly number[], aAt: number, bSt: readonly number[], bAt: number, fn: (a: number, b: number, n: number) => void): void {
  const nd = shape.length;
  if (shape.some((n) => n === 0)) return;
  if (nd === 0) return fn(aAt, bAt, 1);
  const run = shape[nd - 1]!;
  const idx = new Array<number>(nd - 1).fill(0);
  for (;;) {
    let a = aAt;
    let b = bAt;
    for (let d = 0; d < nd - 1; d++) {
      a += idx[d]! * aSt[d]!;
      b += idx[d]! * bSt[d]!;
    }
    fn(a, b, run);
    let d = nd - 2;
    while (d >= 0 && ++idx[d]! === shape[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/** Buffers per readv (Linux's IOV_MAX). */
const IOV_MAX = 1024;

/** Reads file bytes from offset `at` on into `runs`, one after another as the file holds them (readv, IOV_MAX at a time). */
export function readRunsAt(fd: number, file: string, runs: Uint8Array[], at: number): void {
  for (let i = 0; i < runs.length; ) {
    const batch = runs.slice(i, i + IOV_MAX);
    const want = batch.reduce((n, r) => n + r.length, 0);
    const got = readvSync(fd, batch, at);
    if (got < want) readRest(fd, file, batch, got, at); // a short read: finish run by run
    at += want;
    i += batch.length;
  }
}

/** Finishes `runs` (filled for their first `got` bytes) from file offset at + got on. */
function readRest(fd: number, file: string, runs: Uint8Array[], got: number, at: number): void {
  let skip = got;
  let pos = at + got;
  for (const r of runs) {
    if (skip >= r.length) {
      skip -= r.length;
      continue;
    }
    let done = skip;
    skip = 0;
    while (done < r.length) {
      const n = readSync(fd, r, done, r.length - done, pos);
      if (n === 0) throw new TesseraError("FORMAT_ERROR", `${file}: the chunk ends at byte ${pos} (truncated while reading?)`);
      done += n;
      pos += n;
    }
  }
}
