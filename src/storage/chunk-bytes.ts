/**
 * The bytes a chunk file stores, for a chunk whose bytes are not in memory as stored: an edge chunk (Zarr
 * pads it to the full chunk shape with the fill value) or a chunk converted to another dtype on disk. They
 * are made part by part, in order, on demand (fill), so an encoder or a writer needs only a part-sized
 * stage, never a chunk-sized copy (a 32 MiB staging buffer per edge chunk and worker was most of the
 * memory a zstd write of a large array took beyond its chunks).
 */
import { cStrides, sizeOf } from "../grid.js";
import type { TypedArray } from "../dtype.js";
import { encode, type DiskDType } from "./disk-dtype.js";

/** Bytes produced part by part: fill(into, from) writes bytes [from, from + into.length) of `total`. */
export interface ByteSource {
  readonly total: number;
  fill(into: Uint8Array, from: number): void;
}

/** Bytes already in memory as a ByteSource. */
export const bytesSource = (bytes: Uint8Array): ByteSource => ({
  total: bytes.length,
  fill: (into, from) => into.set(bytes.subarray(from, from + into.length)),
});

const FILL_PATTERN_BYTES = 64 * 1024;

/**
 * The stored bytes of the chunk of shape `cs` whose region [0, shape) holds `data` (C order over the
 * region) and whose rest holds `fill`, in the disk dtype d. Parts must be asked for in order, each starting
 * where the previous one ended, on element boundaries.
 */
export class StoredChunkBytes implements ByteSource {
  readonly total: number;
  /** pairs (element offset in data, or -1 for the fill value; elements), in the file's order */
  private readonly runs: number[] = [];
  private readonly pattern: Uint8Array;
  private run = 0;
  private inRun = 0; // elements of runs[run] already produced
  private at = 0; // bytes produced

  constructor(
    private readonly d: DiskDType,
    private readonly data: TypedArray,
    shape: readonly number[],
    cs: readonly number[],
    fill: number,
    private readonly where: string,
  ) {
    this.total = sizeOf(cs) * d.bytes;
    const one = new Uint8Array(d.bytes);
    encode(d, Float64Array.of(fill), 0, 1, one, `${where}: fill_value`);
    const patternElems = Math.max(1, Math.min(sizeOf(cs), Math.floor(FILL_PATTERN_BYTES / d.bytes)));
    this.pattern = new Uint8Array(patternElems * d.bytes);
    for (let i = 0; i < patternElems; i++) this.pattern.set(one, i * d.bytes);
    const nd = cs.length;
    if (nd === 0 || shape.every((s, a) => s === cs[a])) {
      this.push(0, sizeOf(cs));
      return;
    }
    // the stored chunk row by row (a row: along the last axis): the region's part of it, then fill
    const last = cs[nd - 1]!;
    const inRow = shape[nd - 1]!;
    const st = cStrides(shape);
    const idx = new Array<number>(nd - 1).fill(0);
    for (;;) {
      if (idx.every((v, a) => v < shape[a]!)) {
        this.push(idx.reduce((s, v, a) => s + v * st[a]!, 0), inRow);
        this.push(-1, last - inRow);
      } else this.push(-1, last);
      let a = nd - 2;
      while (a >= 0 && ++idx[a]! === cs[a]) idx[a--] = 0;
      if (a < 0) break;
    }
  }

  /** Appends a run, merging it into the previous one when both are fill. */
  private push(at: number, n: number): void {
    if (n === 0) return;
    const r = this.runs;
    if (at < 0 && r.length && r[r.length - 2] === -1) r[r.length - 1]! += n;
    else r.push(at, n);
  }

  fill(into: Uint8Array, from: number): void {
    const w = this.d.bytes;
    if (from !== this.at || into.length % w !== 0 || from + into.length > this.total) {
      throw new Error(`internal: stored bytes asked for at ${from} (+${into.length}), produced up to ${this.at}`);
    }
    let pos = 0;
    while (pos < into.length) {
      const at = this.runs[2 * this.run]!;
      const left = this.runs[2 * this.run + 1]! - this.inRun;
      let k = Math.min(left, (into.length - pos) / w);
      if (at >= 0) encode(this.d, this.data, at + this.inRun, k, into.subarray(pos, pos + k * w), this.where);
      else {
        k = Math.min(k, this.pattern.length / w);
        into.set(this.pattern.subarray(0, k * w), pos);
      }
      pos += k * w;
      this.inRun += k;
      if (this.inRun === this.runs[2 * this.run + 1]) {
        this.run++;
        this.inRun = 0;
      }
    }
    this.at += into.length;
  }
}
