/**
 * zstd chunks decoded by tessera's own WebAssembly decoder (assembly/zstd.ts, in the kernel module):
 *   - readZstdInPlace: the file read with one read() into the tail of the task's chunk in the kernel
 *     memory and decoded there, when the task's chunk is the storage chunk in the array's own dtype (no
 *     copy at all; the workspace is the worker's zstd area);
 *   - streamZstd: part by part, through the stages of the worker's zstd area (a megabyte of the file in,
 *     the frame's window and a megabyte or more of output), each part handed to the caller to copy or
 *     convert into place (a task over several storage chunks, an edge chunk, another dtype on disk), or
 *     when in place cannot work (a frame larger than its content, a block that would overrun input not yet
 *     read). A few MiB per worker whatever the chunk's size: decoding edge chunks whole took a memory of
 *     the chunk's full size per worker (32 MiB for 2,048² float64);
 *   - ZstdChunkReader: whole, in a memory of the worker's own (frames the streamed decoder leaves: a
 *     content checksum, a window above 2 MiB, several frames; transposed chunks), and the streamed decoder
 *     there for threads whose kernels are the JS twin.
 *
 * numcodecs' zstd (a wasm32 build of the C library behind emscripten's glue) stays the fallback: it copies
 * its input byte by byte in JS and decodes with 32-bit bit containers, several times slower.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { TesseraError } from "../errors.js";
import { E_NATIVE_IO, type ZstdFdReader } from "./native-zstd.js";
import type { ZstdStreamFns } from "../zstd-stream.js";


/** The streamed decoder's stages (kernels/wasm.ts says how large the worker's zstd area makes them). */
export interface ZstdStageSizes {
  /** output stage: the frame's window and at least a block more */
  outBytes: number;
  /** input stage: at least a block and its header */
  inBytes: number;
  /** the largest window a streamed frame may have (at most outBytes - 128 KiB - 8) */
  maxWindow: number;
}

/** The kernel module's zstd decoder bound to `memory` (which nothing else uses). */
export interface ZstdModule {
  memory: WebAssembly.Memory;
  /** zstdDecompress(dst, cap, src, srcLen, work): bytes written, or a negative code (below) */
  decompress(dst: number, cap: number, src: number, srcLen: number, work: number): number;
  stream?: ZstdStreamFns;
  stages?: ZstdStageSizes;
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
const E_STREAM = -8;
const NEED_INPUT = 1;
const NEED_OUTPUT = 2;

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
  /** the system's libzstd decoding the open file straight into place (storage/native-zstd.ts), where it loads */
  readFd?: ZstdFdReader;
}

/** Reads zstd chunk files and decodes them in a memory of their own (made on first use), one chunk at a time. */
export class ZstdChunkReader {
  private mod: ZstdModule | null = null;
  private work = 0;
  private out = 0;

  constructor(private readonly bind: () => ZstdModule) {}

  private streamer_: ZstdStreamer | null | undefined;

  private get m(): ZstdModule {
    if (!this.mod) {
      this.mod = this.bind();
      this.work = align64(this.mod.base);
      this.out = align64(this.work + this.mod.workBytes);
    }
    return this.mod;
  }

  /**
   * The streamed decoder in this memory (its stages where the whole-chunk output goes: a whole decode
   * and a streamed one never overlap in time), or null when the module has none.
   */
  get streamer(): ZstdStreamer | null {
    if (this.streamer_ === undefined) {
      const m = this.m;
      this.streamer_ = m.stream && m.stages ? streamerAt(m.memory, m.stream, this.work, this.out, m.stages) : null;
      if (this.streamer_) this.ensure(this.streamer_.inStage + this.streamer_.sizes.inBytes + 64, "the zstd stages");
    }
    return this.streamer_;
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
 * streamed into dest (by `streamer`), or decoded whole by `apart` and copied.
 */
export function readZstdInPlace(file: string, dest: Uint8Array, k: ZstdInPlace, apart: ZstdChunkReader, streamer: ZstdStreamer | null): number | null {
  const fd = openChunk(file);
  if (fd === null) return null;
  try {
    const size = fstatSync(fd).size;
    const n = dest.length;
    if (k.readFd) {
      const got = k.readFd(fd, size, dest.byteOffset, n);
      if (got === E_NATIVE_IO) throw new TesseraError("IO_ERROR", `cannot read the chunk ${file}`);
      if (got < 0) throw decodeError(file, got, n);
      return got;
    }
    let rc = -1;
    if (size <= n) {
      readAll(fd, file, dest.subarray(n - size));
      rc = k.decompress(dest.byteOffset, n, dest.byteOffset + n - size, size, k.work);
      if (rc >= 0) return rc;
      if (rc !== E_OVERLAP) throw decodeError(file, rc, n);
    }
    const got = streamer ? streamZstd(fd, size, file, n, 1, streamer, (bytes, from) => dest.set(bytes, from)) : null;
    if (got !== null) return got;
    const raw = apart.readFd(fd, file, n);
    dest.set(raw);
    return raw.length;
  } catch (e) {
    throw asFormatError(e, file);
  } finally {
    closeSync(fd);
  }
}

/** The streamed decoder bound to a memory, with its workspace and stages there. */
export interface ZstdStreamer {
  memory: WebAssembly.Memory;
  fns: ZstdStreamFns;
  work: number;
  /** the output stage (sizes.outBytes), then the input stage (sizes.inBytes), 64 bytes of slack after each */
  outStage: number;
  inStage: number;
  sizes: ZstdStageSizes;
}

/** A streamer whose workspace is at `work` and whose stages follow from `from` on (to inStage + inBytes + 64). */
export function streamerAt(memory: WebAssembly.Memory, fns: ZstdStreamFns, work: number, from: number, sizes: ZstdStageSizes): ZstdStreamer {
  const outStage = align64(from);
  return { memory, fns, work, outStage, inStage: align64(outStage + sizes.outBytes + 64), sizes };
}

/**
 * Decodes the zstd chunk open at fd (`size` bytes; at most `expected` decoded, more is a FORMAT_ERROR)
 * part by part through s's stages, handing each part to deliver(bytes, from): the decoded bytes from
 * offset `from` of the chunk on (a multiple of w, as is the part's length but for the chunk's last; the
 * view is valid during the call). Returns the bytes decoded, or null when the frame needs the whole-frame
 * decoder (a content checksum, a window above s.sizes.maxWindow, more than one frame): parts may
 * have been delivered then, which the whole decode overwrites.
 */
export function streamZstd(fd: number, size: number, file: string, expected: number, w: number, s: ZstdStreamer, deliver: (bytes: Uint8Array, from: number) => void): number | null {
  const f = s.fns;
  const { outBytes, inBytes, maxWindow } = s.sizes;
  f.begin();
  let inLo = 0; // the input stage holds file bytes [inLo, inHi)
  let inHi = 0;
  let outLo = 0; // the output stage holds decoded bytes [outLo, made)
  let delivered = 0;
  for (;;) {
    const outEnd = Math.min(outLo + outBytes, expected);
    const more = outLo + outBytes < expected;
    const rc = f.step(s.outStage - outLo, s.outStage - outLo + outEnd, more, s.inStage - inLo, s.inStage + (inHi - inLo), inHi === size, maxWindow, s.work);
    const made = f.made();
    if (rc === 0 || rc === NEED_OUTPUT) {
      const upTo = rc === 0 ? made : made - (made % w);
      if (upTo > delivered) deliver(new Uint8Array(s.memory.buffer, s.outStage + (delivered - outLo), upTo - delivered), delivered);
      delivered = upTo;
      if (rc === 0) return f.consumed() === size ? made : null;
      // keep the window (and any partial element) before the next block's output
      const keep = Math.min(delivered, Math.max(outLo, made - f.window()));
      new Uint8Array(s.memory.buffer).copyWithin(s.outStage, s.outStage + (keep - outLo), s.outStage + (made - outLo));
      outLo = keep;
    } else if (rc === NEED_INPUT) {
      const used = f.consumed();
      const mem = new Uint8Array(s.memory.buffer);
      mem.copyWithin(s.inStage, s.inStage + (used - inLo), s.inStage + (inHi - inLo));
      inLo = used;
      const n = Math.min(inBytes - (inHi - inLo), size - inHi);
      if (n <= 0) throw new Error(`internal: the zstd decoder asks for more of ${file} than its input stage holds`);
      readAt(fd, file, new Uint8Array(s.memory.buffer, s.inStage + (inHi - inLo), n), inHi);
      inHi += n;
    } else if (rc === E_STREAM) return null;
    else throw decodeError(file, rc, expected);
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
const readAll = (fd: number, file: string, into: Uint8Array): void => readAt(fd, file, into, 0);

/** Reads the file's bytes from `at` on into all of `into`. */
function readAt(fd: number, file: string, into: Uint8Array, at: number): void {
  let done = 0;
  while (done < into.length) {
    let n: number;
    try {
      n = readSync(fd, into, done, into.length - done, at + done);
    } catch (e) {
      throw new TesseraError("IO_ERROR", `cannot read the chunk ${file}: ${(e as Error).message}`, { cause: e });
    }
    if (n === 0) throw new TesseraError("FORMAT_ERROR", `${file}: the chunk ends at byte ${at + done} (truncated while reading?)`);
    done += n;
  }
}
