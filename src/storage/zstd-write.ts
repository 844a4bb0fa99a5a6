/**
 * zstd chunks encoded by tessera's own WebAssembly encoder (assembly/zstd-encode.ts, in the kernel module:
 * zstd's level-1 strategy, frames any zstd decoder reads). The chunk is compressed from where it lies,
 * part by part (ZSTD_PART_BYTES of input each), into an output area of the same memory, and each part's
 * output is written to the file straight from a view of that memory: no JS byte loop, no copy of the
 * chunk, a bounded workspace (the worker's zstd area) whatever the chunk's size.
 *   - writeZstdFrame: the chunk is in the kernel memory as stored (a task's whole chunk in the array's own
 *     dtype), and so are the worker's workspace and output area;
 *   - ZstdChunkWriter (writeZstdStaged): the chunk is not in memory as stored (an edge chunk padded with
 *     the fill value, a dtype converted on disk): its stored bytes are made part by part into a stage of a
 *     small memory of the writer's own (a few MiB, whatever the chunk's size), which keeps the encoder's
 *     window (the bytes a part's matches may reach back to) before each part. No chunk-sized copy is
 *     made. (The stage is not in the kernel memory: every worker's fixed areas there count against its
 *     memory limit, while only storage writes need this.)
 *
 * numcodecs' zstd stays the fallback (a kernel module that cannot load, and levels other than 1 and below:
 * this encoder implements zstd's level 1 only).
 */
import { writeSync } from "node:fs";
import type { ByteSource } from "./chunk-bytes.js";

/** A zstd encoder bound to `memory`, with a workspace at `work` and an output area of `outBytes` at `out` there. */
export interface ZstdEncoder {
  memory: WebAssembly.Memory;
  /** zstdCompress(dst, cap, src, from, to, total, work): bytes written, or a negative code */
  compress(dst: number, cap: number, src: number, from: number, to: number, total: number, work: number): number;
  work: number;
  out: number;
  outBytes: number;
  /** input bytes per call (a multiple of 128 KiB) whose output fits outBytes */
  partBytes: number;
}

/** A ZstdEncoder with a stage of window + 64 + partBytes bytes at `stage` in its memory. */
export interface ZstdStagedEncoder extends ZstdEncoder {
  stage: number;
  /** how far back before a part the encoder reads (zstdCompressWindowBytes) */
  window: number;
}

/** The levels this encoder serves (zstd's level 1, and the faster negative levels, which it outdoes). */
export const ownZstdLevel = (level: number): boolean => level <= 1 && level !== 0;

/**
 * Compresses the `total` bytes at address `src` of e's memory as one zstd frame and writes it to fd (from
 * its current position); returns the bytes written. `file` names the chunk in errors.
 */
export function writeZstdFrame(fd: number, src: number, total: number, e: ZstdEncoder, file: string): number {
  let written = 0;
  let at = 0;
  do {
    const to = Math.min(total, at + e.partBytes);
    const rc = e.compress(e.out, e.outBytes, src, at, to, total, e.work);
    if (rc < 0) throw new Error(`internal: the zstd encoder refused part [${at}, ${to}) of ${file} (code ${rc})`);
    written += writeOut(fd, e, rc);
    at = to;
  } while (at < total);
  return written;
}

function writeOut(fd: number, e: ZstdEncoder, n: number): number {
  const view = new Uint8Array(e.memory.buffer, e.out, n);
  for (let done = 0; done < n; ) done += writeSync(fd, view, done, n - done);
  return n;
}

/**
 * Compresses the bytes `bytes` produces as one zstd frame and writes it to fd (from its current position),
 * through e's stage: before each part, the stage keeps the window of bytes before it and receives the part
 * itself, and the encoder is handed the address the chunk's byte 0 would have (modulo 2^32), so it reads
 * the bytes it reads from a whole chunk at the same offsets: the frame is the one writeZstdFrame makes.
 */
export function writeZstdStaged(fd: number, bytes: ByteSource, e: ZstdStagedEncoder, file: string): number {
  const total = bytes.total;
  let lo = 0; // the stage holds the chunk's bytes [lo, hi)
  let hi = 0;
  let written = 0;
  let at = 0;
  do {
    const to = Math.min(total, at + e.partBytes);
    const keepFrom = Math.max(lo, at - e.window - 64);
    if (keepFrom > lo) {
      new Uint8Array(e.memory.buffer).copyWithin(e.stage, e.stage + (keepFrom - lo), e.stage + (hi - lo));
      lo = keepFrom;
    }
    bytes.fill(new Uint8Array(e.memory.buffer, e.stage + (hi - lo), to - hi), hi);
    hi = to;
    const rc = e.compress(e.out, e.outBytes, (e.stage - lo) >>> 0, at, to, total, e.work);
    if (rc < 0) throw new Error(`internal: the zstd encoder refused part [${at}, ${to}) of ${file} (code ${rc})`);
    written += writeOut(fd, e, rc);
    at = to;
  } while (at < total);
  return written;
}

/**
 * writeZstdStaged in a memory of its own (made on first use): [static data | workspace | output area |
 * stage], a few MiB whatever the chunk's size.
 */
export class ZstdChunkWriter {
  private enc: ZstdStagedEncoder | null = null;

  constructor(
    private readonly bind: () => { memory: WebAssembly.Memory; compress: ZstdEncoder["compress"]; base: number },
    private readonly sizes: { workBytes: number; partBytes: number; outBytes: number; window: number },
  ) {}

  private get e(): ZstdStagedEncoder {
    if (!this.enc) {
      const m = this.bind();
      const { workBytes, partBytes, outBytes, window } = this.sizes;
      const work = align64(m.base);
      const out = align64(work + workBytes);
      const stage = align64(out + outBytes);
      const end = stage + window + 64 + partBytes;
      const have = m.memory.buffer.byteLength;
      if (end > have) m.memory.grow(Math.ceil((end - have) / 65536));
      this.enc = { memory: m.memory, compress: m.compress, work, out, outBytes, partBytes, stage, window };
    }
    return this.enc;
  }

  /** Writes the bytes `bytes` produces as one zstd frame to fd; returns the bytes written. */
  write(fd: number, bytes: ByteSource, file: string): number {
    return writeZstdStaged(fd, bytes, this.e, file);
  }
}

const align64 = (n: number) => Math.ceil(n / 64) * 64;

