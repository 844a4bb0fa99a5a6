/**
 * Runs of elements between a stored chunk and a region, and reading or writing file bytes straight from
 * them: what the Zarr region reads and writes (zarr.ts) and the slab reads of streamed tasks (slabs.ts) share.
 */
import { readSync, readvSync, writeSync, writevSync } from "node:fs";
import { TesseraError } from "../errors.js";
import { cStrides } from "../grid.js";

/** The part of a region in one storage chunk (what chunkBoxes yields; the same object each time). */
export interface ChunkBox {
  /** the chunk's block index */
  idx: number[];
  /** the part's extents */
  box: number[];
  /** element offsets of the part's first element in the stored chunk (strides `chunkSt`) and in the region */
  inChunk: number;
  inRegion: number;
}

/**
 * Every storage chunk (of shape `cs`, stored with element strides `chunkSt`: C order, or transposed) that
 * region (start, shape) meets, in C order of their block indices, with the part of the region in it.
 */
export function* chunkBoxes(cs: readonly number[], chunkSt: readonly number[], start: readonly number[], shape: readonly number[]): Generator<ChunkBox> {
  const nd = shape.length;
  if (shape.some((n) => n === 0)) return;
  const lo = start.map((s, a) => Math.floor(s / cs[a]!));
  const hi = start.map((s, a) => Math.floor((s + shape[a]! - 1) / cs[a]!));
  const regionSt = cStrides(shape);
  const b: ChunkBox = { idx: [...lo], box: new Array<number>(nd).fill(0), inChunk: 0, inRegion: 0 };
  for (;;) {
    b.inChunk = 0;
    b.inRegion = 0;
    for (let a = 0; a < nd; a++) {
      const c0 = b.idx[a]! * cs[a]!;
      const b0 = Math.max(c0, start[a]!);
      b.box[a] = Math.min(c0 + cs[a]!, start[a]! + shape[a]!) - b0;
      b.inChunk += (b0 - c0) * chunkSt[a]!;
      b.inRegion += (b0 - start[a]!) * regionSt[a]!;
    }
    yield b;
    let a = nd - 1;
    while (a >= 0 && ++b.idx[a]! > hi[a]!) b.idx[a] = lo[a--]!;
    if (a < 0) return;
  }
}

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

/** Writes `runs` one after another into the file from offset `at` on (writev, IOV_MAX at a time; short writes finished). */
export function writeRunsAt(fd: number, runs: Uint8Array[], at: number): void {
  for (let i = 0; i < runs.length; i += IOV_MAX) {
    const batch = runs.slice(i, i + IOV_MAX);
    const want = batch.reduce((n, r) => n + r.length, 0);
    let done = writevSync(fd, batch, at);
    // a short write: the rest run by run
    for (let j = 0, skip = done; done < want && j < batch.length; j++) {
      const r = batch[j]!;
      if (skip >= r.length) {
        skip -= r.length;
        continue;
      }
      for (let off = skip; off < r.length; ) {
        const w = writeSync(fd, r, off, r.length - off, at + done);
        off += w;
        done += w;
      }
      skip = 0;
    }
    at += want;
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
