/**
 * zstd chunks encoded by tessera's own WebAssembly encoder (assembly/zstd-encode.ts, in the kernel module:
 * zstd's level-1 strategy, frames any zstd decoder reads). The chunk is compressed from where it lies,
 * part by part (ZSTD_PART_BYTES of input each), into an output area of the same memory, and each part's
 * output is written to the file straight from a view of that memory: no JS byte loop, no copy of the
 * chunk, a bounded workspace (the worker's zstd area) whatever the chunk's size.
 *   - writeZstdInPlace: the chunk is in the kernel memory (a task's chunk in the array's own dtype), and
 *     so are the worker's workspace and output area;
 *   - ZstdChunkWriter: the chunk's bytes are elsewhere (converted to another dtype on disk, or an edge
 *     chunk padded with the fill value): copied (one native copy) into a memory of the writer's own.
 *
 * numcodecs' zstd stays the fallback (a kernel module that cannot load, and levels other than 1 and below:
 * this encoder implements zstd's level 1 only).
 */
import { writeSync } from "node:fs";
import { TesseraError } from "../errors.js";

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
    const view = new Uint8Array(e.memory.buffer, e.out, rc);
    for (let done = 0; done < rc; ) done += writeSync(fd, view, done, rc - done);
    written += rc;
    at = to;
  } while (at < total);
  return written;
}

/**
 * Encodes chunks whose bytes are not in a kernel memory, in a memory of its own (made on first use, grown
 * to the largest chunk seen): [static data | workspace | output area | the chunk's bytes].
 */
export class ZstdChunkWriter {
  private enc: ZstdEncoder | null = null;
  private input = 0;

  constructor(
    private readonly bind: () => { memory: WebAssembly.Memory; compress: ZstdEncoder["compress"]; base: number },
    private readonly workBytes: number,
    private readonly partBytes: number,
    private readonly outBytes: number,
  ) {}

  private get e(): ZstdEncoder {
    if (!this.enc) {
      const m = this.bind();
      const work = align64(m.base);
      const out = align64(work + this.workBytes);
      this.input = align64(out + this.outBytes);
      this.enc = { memory: m.memory, compress: m.compress, work, out, outBytes: this.outBytes, partBytes: this.partBytes };
    }
    return this.enc;
  }

  /** Writes `bytes` as one zstd frame to fd; returns the bytes written. */
  write(fd: number, bytes: Uint8Array, file: string): number {
    const e = this.e;
    const need = this.input + bytes.length;
    const have = e.memory.buffer.byteLength;
    if (need > have) {
      try {
        e.memory.grow(Math.ceil((need - have) / 65536));
      } catch (err) {
        throw new TesseraError("TOO_LARGE", `${file}: no memory to encode the zstd chunk (${need} bytes needed): ${(err as Error).message}`, { cause: err });
      }
    }
    new Uint8Array(e.memory.buffer, this.input, bytes.length).set(bytes);
    return writeZstdFrame(fd, this.input, bytes.length, e, file);
  }
}

const align64 = (n: number) => Math.ceil(n / 64) * 64;
