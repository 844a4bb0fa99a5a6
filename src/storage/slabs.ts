/**
 * Stored regions read slab by slab, synchronously, for program tasks that reduce or map a stored array as
 * they read it (plan/stream-reads.ts): each slab lands in a small window of the worker's and is consumed
 * while it is still in cache, so a chunk is read from the page cache once and never materialized (a whole
 * chunk read first and reduced after is read from memory twice: measured at about 2x the time).
 *
 * Uncompressed Zarr chunks in C order and C-order .npy files: their slabs are byte ranges of the files.
 * The files a task meets stay open for all of its slabs (a slab of a 2048-row chunk is a few rows).
 */
import { closeSync, fstatSync, openSync } from "node:fs";
import { join } from "node:path";
import { TesseraError } from "../errors.js";
import type { TypedArray } from "../dtype.js";
import { cStrides, forEachRun, sizeOf } from "../grid.js";
import { decode, parseTypestr, sameBytes, type DiskDType } from "./disk-dtype.js";
import { chunkBoxes, forEachPairRun, readRunsAt } from "./chunk-runs.js";
import { chunkKey, type ZarrSource } from "./zarr-meta.js";
import { readFully, type NpySource } from "./npy.js";
import type { SourceSpec } from "./types.js";

/** Can tasks stream this source slab by slab? (Its elements are plain bytes in C order.) */
export function streamable(spec: SourceSpec): spec is ZarrSource | NpySource {
  if (spec.shape.length === 0) return false;
  if (spec.format === "zarr") return spec.codecs.length === 0 && spec.perm === null;
  return spec.format === "npy" && !spec.fortran;
}

/** Reads a streamable source's regions; close() when the task is done. */
export interface SlabReader {
  /** Reads region (start, shape) of the stored array into `into`, C order over the region. */
  read(start: readonly number[], shape: readonly number[], into: TypedArray): void;
  close(): void;
}

export function slabReader(spec: ZarrSource | NpySource): SlabReader {
  return spec.format === "zarr" ? new ZarrSlabs(spec) : new NpySlabs(spec);
}

/** An .npy file in C order: a slab's rows are byte ranges of the file, read straight into place. */
class NpySlabs implements SlabReader {
  private readonly d: DiskDType;
  private fd: number | null = null;
  private scratch = Buffer.alloc(0);

  constructor(private readonly src: NpySource) {
    this.d = parseTypestr(src.typestr, src.path);
  }

  read(start: readonly number[], shape: readonly number[], into: TypedArray): void {
    const d = this.d;
    const src = this.src;
    if (this.fd === null) {
      try {
        this.fd = openSync(src.path, "r");
      } catch (e) {
        throw new TesseraError("IO_ERROR", `cannot read ${src.path}: ${(e as Error).message}`, { cause: e });
      }
    }
    const fd = this.fd;
    const same = sameBytes(d, into);
    forEachRun(src.shape, start, shape, (whole, local, n) => {
      const bytes = n * d.bytes;
      if (same) {
        readFully(fd, Buffer.from(into.buffer, into.byteOffset + local * d.bytes, bytes), bytes, src.offset + whole * d.bytes, src.path);
        return;
      }
      if (this.scratch.length < bytes) this.scratch = Buffer.alloc(bytes);
      readFully(fd, this.scratch, bytes, src.offset + whole * d.bytes, src.path);
      decode(d, this.scratch.subarray(0, bytes), n, into, local, `${src.path} region at [${start.join(", ")}]`);
    });
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

interface OpenChunk {
  fd: number;
  file: string;
}

/** Uncompressed C-order Zarr chunks: a slab's part of each chunk is a byte range of its file. */
class ZarrSlabs implements SlabReader {
  private readonly d: DiskDType;
  private readonly chunkSt: number[];
  private readonly expected: number;
  /** the chunk files met so far (null: missing, read as the fill value) */
  private readonly open = new Map<string, OpenChunk | null>();
  private scratch = Buffer.alloc(0);

  constructor(private readonly src: ZarrSource) {
    this.d = parseTypestr(src.typestr, src.dir);
    this.chunkSt = cStrides(src.chunkShape);
    this.expected = sizeOf(src.chunkShape) * this.d.bytes;
  }

  read(start: readonly number[], shape: readonly number[], into: TypedArray): void {
    const src = this.src;
    const cs = src.chunkShape;
    const d = this.d;
    const regionSt = cStrides(shape);
    const same = sameBytes(d, into);
    for (const { idx, box, inChunk, inRegion } of chunkBoxes(cs, this.chunkSt, start, shape)) {
      const chunk = this.chunk(idx);
      if (chunk === null) forEachPairRun(box, regionSt, inRegion, regionSt, inRegion, (r, _r, n) => into.fill(src.fill, r, r + n));
      else if (box.every((b, a) => a === 0 || b === cs[a])) {
        // whole rows of the chunk: one range of its file, into the region's rows (one readv), or decoded from scratch
        if (same) {
          const runs: Uint8Array[] = [];
          forEachPairRun(box, regionSt, inRegion, regionSt, inRegion, (r, _r, n) => runs.push(new Uint8Array(into.buffer, into.byteOffset + r * d.bytes, n * d.bytes)));
          readRunsAt(chunk.fd, chunk.file, runs, inChunk * d.bytes);
        } else {
          const raw = this.rawAt(chunk, inChunk * d.bytes, sizeOf(box) * d.bytes);
          let at = 0;
          forEachPairRun(box, regionSt, inRegion, regionSt, inRegion, (r, _r, n) => {
            decode(d, raw.subarray(at, at + n * d.bytes), n, into, r, this.where(chunk, idx));
            at += n * d.bytes;
          });
        }
      } else {
        // part of each row (a region narrower than the chunk, or an edge chunk stored full size): run by run
        forEachPairRun(box, this.chunkSt, inChunk, regionSt, inRegion, (c, r, n) => {
          if (same) readRunsAt(chunk.fd, chunk.file, [new Uint8Array(into.buffer, into.byteOffset + r * d.bytes, n * d.bytes)], c * d.bytes);
          else decode(d, this.rawAt(chunk, c * d.bytes, n * d.bytes), n, into, r, this.where(chunk, idx));
        });
      }
    }
  }

  /** Closes the chunk files this reader opened. */
  close(): void {
    for (const c of this.open.values()) if (c) closeSync(c.fd);
    this.open.clear();
  }

  private chunk(idx: readonly number[]): OpenChunk | null {
    const key = chunkKey(this.src.key, idx);
    const known = this.open.get(key);
    if (known !== undefined) return known;
    const file = join(this.src.dir, key);
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT") throw new TesseraError("IO_ERROR", `cannot read the chunk ${file}: ${(e as Error).message}`, { cause: e });
      this.open.set(key, null);
      return null;
    }
    const size = fstatSync(fd).size;
    if (size !== this.expected) {
      closeSync(fd);
      throw new TesseraError("FORMAT_ERROR", `${file}: the chunk holds ${size} bytes, not the ${this.expected} of a [${this.src.chunkShape.join(", ")}] ${this.d.typestr} chunk (truncated, or not a chunk of this array)`);
    }
    const c = { fd, file };
    this.open.set(key, c);
    return c;
  }

  /** `bytes` bytes of the chunk file from `at`, in a scratch buffer reused by the next call. */
  private rawAt(c: OpenChunk, at: number, bytes: number): Buffer {
    if (this.scratch.length < bytes) this.scratch = Buffer.alloc(bytes);
    readFully(c.fd, this.scratch, bytes, at, c.file);
    return this.scratch.subarray(0, bytes);
  }

  private where(c: OpenChunk, idx: readonly number[]): string {
    return `${c.file} (chunk [${idx.join(", ")}])`;
  }
}
