/**
 * zstd chunks decoded by tessera's own WebAssembly decoder (assembly/zstd.ts, in the kernel module). A
 * chunk file is read with one read() into the tail of the memory it decodes to, and decoded there (in
 * place: one chunk of memory, not two):
 *   - readZstdInPlace: straight into the task's chunk in the kernel memory, when the task's chunk is the
 *     storage chunk in the array's own dtype (no copy at all; the workspace is the worker's zstd area);
 *   - ZstdChunkReader: into a memory of the worker's own, for the caller to copy or convert from (a task
 *     over several storage chunks, an edge chunk, another dtype on disk), or when in place cannot work
 *     (a frame larger than its content, or a block that would overrun input not yet read).
 *
 * numcodecs' zstd (a wasm32 build of the C library behind emscripten's glue) stays the fallback: it copies
 * its input byte by byte in JS and decodes with 32-bit bit containers, several times slower.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { TesseraError } from "../errors.js";

/** The kernel module's zstd decoder bound to `memory` (which nothing else uses). */
export interface ZstdModule {
  memory: WebAssembly.Memory;
  /** zstdDecompress(dst, cap, src, srcLen, work): bytes written, or a negative code (below) */
  decompress(dst: number, cap: number, src: number, srcLen: number, work: number): number;
  /** bytes of workspace decompress needs */
  workBytes: number;
  /** first address free for buffers (below it: the module's static data) */
  base: number;
}

// assembly/zstd.ts's codes
const E_CORRUPT = -1;
const E_DST_SIZE = -2;
const E_UNSUPPORTED = -3;
const E_OVERLAP = -4;
const E_CHECKSUM = -5;
const E_TRUNCATED = -6;

const PAGE = 65536;
const align64 = (n: number) => Math.ceil(n / 64) * 64;

function why(rc: number, expected: number): string {
  switch (rc) {
    case E_DST_SIZE:
      return `it decodes to more than the ${expected} bytes of a chunk of this array`;
    case E_UNSUPPORTED:
      return "it needs a zstd dictionary, which Zarr chunks do not have";
    case E_CHECKSUM:
      return "its content checksum does not match (corrupt data)";
    case E_TRUNCATED:
      return "it is truncated or not a zstd stream (it ends inside a frame)";
    case E_CORRUPT:
    default:
      return "it is truncated or not a zstd stream (corrupt data)";
  }
}

/** zstd decoding in the memory a task's chunk lies in, with a workspace of `workBytes` at `work` there. */
export interface ZstdInPlace {
  decompress(dst: number, cap: number, src: number, srcLen: number, work: number): number;
  work: number;
}

/** Reads zstd chunk files and decodes them in a memory of their own (made on first use), one chunk at a time. */
export class ZstdChunkReader {
  private mod: ZstdModule | null = null;
  private work = 0;
  private out = 0;

  constructor(private readonly bind: () => ZstdModule) {}

  private get m(): ZstdModule {
    if (!this.mod) {
      this.mod = this.bind();
      this.work = align64(this.mod.base);
      this.out = align64(this.work + this.mod.workBytes);
    }
    return this.mod;
  }

  private ensure(bytes: number, file: string): void {
    const have = this.m.memory.buffer.byteLength;
    if (bytes <= have) return;
    try {
      this.m.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch (e) {
      throw new TesseraError("TOO_LARGE", `${file}: no memory to decode the zstd chunk (${bytes} bytes needed): ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * The decoded bytes of the zstd chunk `file` (at most `expected`: more is a FORMAT_ERROR), or null when
   * the file is missing. The view is into the module's memory: valid until the next call.
   */
  read(file: string, expected: number): Uint8Array | null {
    const fd = openChunk(file);
    if (fd === null) return null;
    try {
      return this.readFd(fd, file, expected);
    } finally {
      closeSync(fd);
    }
  }

  /** read() of an open chunk file. */
  readFd(fd: number, file: string, expected: number): Uint8Array {
    const m = this.m;
    try {
      const size = fstatSync(fd).size;
      const out = this.out;
      // in place when the frame is no larger than what it decodes to; else (or when a block would overrun
      // input not yet read: ZSTD_E_OVERLAP) from a separate copy after the output
      let src = size <= expected ? out + expected - size : out + align64(expected);
      this.ensure(src + size, file);
      readAll(fd, file, new Uint8Array(m.memory.buffer, src, size));
      let rc = m.decompress(out, expected, src, size, this.work);
      if (rc === E_OVERLAP) {
        src = out + align64(expected);
        this.ensure(src + size, file);
        readAll(fd, file, new Uint8Array(m.memory.buffer, src, size));
        rc = m.decompress(out, expected, src, size, this.work);
      }
      if (rc < 0) throw decodeError(file, rc, expected);
      return new Uint8Array(m.memory.buffer, out, rc);
    } catch (e) {
      throw asFormatError(e, file);
    }
  }
}

/**
 * Decodes the zstd chunk `file` straight into `dest` (a chunk's bytes, in the memory `k` is bound to):
 * the file is read into dest's tail and decoded in place. Returns the bytes decoded (the caller checks
 * they are all of dest), or null when the file is missing. A frame that cannot be decoded in place is
 * decoded by `apart` and copied.
 */
export function readZstdInPlace(file: string, dest: Uint8Array, k: ZstdInPlace, apart: ZstdChunkReader): number | null {
  const fd = openChunk(file);
  if (fd === null) return null;
  try {
    const size = fstatSync(fd).size;
    const n = dest.length;
    let rc = -1;
    if (size <= n) {
      readAll(fd, file, dest.subarray(n - size));
      rc = k.decompress(dest.byteOffset, n, dest.byteOffset + n - size, size, k.work);
      if (rc >= 0) return rc;
      if (rc !== E_OVERLAP) throw decodeError(file, rc, n);
    }
    const raw = apart.readFd(fd, file, n);
    dest.set(raw);
    return raw.length;
  } catch (e) {
    throw asFormatError(e, file);
  } finally {
    closeSync(fd);
  }
}

function openChunk(file: string): number | null {
  try {
    return openSync(file, "r");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return null;
    throw new TesseraError("IO_ERROR", `cannot read the chunk ${file}: ${(e as Error).message}`, { cause: e });
  }
}

const decodeError = (file: string, rc: number, expected: number) => new TesseraError("FORMAT_ERROR", `${file}: cannot decode the zstd chunk: ${why(rc, expected)}`);

/** A trap of the decoder (it should not trap: every read is checked) as the chunk's FORMAT_ERROR. */
const asFormatError = (e: unknown, file: string): TesseraError =>
  e instanceof TesseraError ? e : new TesseraError("FORMAT_ERROR", `${file}: cannot decode the zstd chunk: ${(e as Error).message}`, { cause: e });

/** Reads the whole file (from offset 0) into `into`, which is its size. */
function readAll(fd: number, file: string, into: Uint8Array): void {
  let done = 0;
  while (done < into.length) {
    let n: number;
    try {
      n = readSync(fd, into, done, into.length - done, done);
    } catch (e) {
      throw new TesseraError("IO_ERROR", `cannot read the chunk ${file}: ${(e as Error).message}`, { cause: e });
    }
    if (n === 0) throw new TesseraError("FORMAT_ERROR", `${file}: the chunk ends at byte ${done} (truncated while reading?)`);
    done += n;
  }
}
