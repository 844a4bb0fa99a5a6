/**
 * zstd chunks decoded by tessera's own WebAssembly decoder (assembly/zstd.ts, in the kernel module),
 * bound by the worker to a memory of its own: a chunk file is read with one read() into that memory,
 * at the tail of the region it decodes to (in place: the memory holds one chunk, not two), and decoded
 * there. The caller copies (or converts) the decoded bytes into the chunk's memory.
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

/** Reads zstd chunk files and decodes them in the module's memory (one chunk at a time). */
export class ZstdChunkReader {
  private readonly work: number;
  private readonly out: number;

  constructor(private readonly m: ZstdModule) {
    this.work = align64(m.base);
    this.out = align64(this.work + m.workBytes);
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
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return null;
      throw new TesseraError("IO_ERROR", `cannot read the chunk ${file}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const size = fstatSync(fd).size;
      const out = this.out;
      // in place when the frame is no larger than what it decodes to; else (or when a block would overrun
      // input not yet read: ZSTD_E_OVERLAP) from a separate copy after the output
      let src = size <= expected ? out + expected - size : out + align64(expected);
      this.ensure(src + size, file);
      readAll(fd, file, new Uint8Array(this.m.memory.buffer, src, size));
      let rc = this.m.decompress(out, expected, src, size, this.work);
      if (rc === E_OVERLAP) {
        src = out + align64(expected);
        this.ensure(src + size, file);
        readAll(fd, file, new Uint8Array(this.m.memory.buffer, src, size));
        rc = this.m.decompress(out, expected, src, size, this.work);
      }
      if (rc < 0) throw new TesseraError("FORMAT_ERROR", `${file}: cannot decode the zstd chunk: ${why(rc, expected)}`);
      return new Uint8Array(this.m.memory.buffer, out, rc);
    } catch (e) {
      if (e instanceof TesseraError) throw e;
      throw new TesseraError("FORMAT_ERROR", `${file}: cannot decode the zstd chunk: ${(e as Error).message}`, { cause: e });
    } finally {
      closeSync(fd);
    }
  }
}

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
