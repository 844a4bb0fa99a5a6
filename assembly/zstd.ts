// Zstandard frame decoder (RFC 8878), for Zarr chunks: decodes whole frames from src into dst, using a
// caller-given workspace (ZSTD_WORK_BYTES) and no allocator, so it runs on any memory the module is bound to.
//
// Why not the emscripten builds on npm: those are wasm32 builds of the C library, whose bit readers fall back
// to 32-bit containers, and whose JS glue copies the input byte by byte; this decoder keeps 64-bit bit
// containers, decodes literals four Huffman streams at a time, and reads and writes memory the caller owns.
//
// In place: src may lie at the end of dst (the file read into the tail of the chunk it decodes to). Each
// block's literals and sequences are decoded into the workspace before any of its output is written, and a
// block whose output would reach input not yet read returns ZSTD_E_OVERLAP before writing a byte of it
// (the caller then decodes again from a separate copy of the input). Wild copies never pass that limit.
//
// Returns the number of bytes written, or a negative ZSTD_E_* code. Every input read is bounds-checked; no
// write goes beyond [dst, dst + cap). The block decoder (decodeBlock) also serves the streamed frames of
// zstd-stream.ts.

export const E_CORRUPT: i32 = -1;
export const E_DST_SIZE: i32 = -2;
export const E_UNSUPPORTED: i32 = -3;
const E_OVERLAP: i32 = -4;
const E_CHECKSUM: i32 = -5;
export const E_TRUNCATED: i32 = -6;

const BLOCK_MAX: u32 = 131072;
const HUF_FAST_LOG: u32 = 11; // Huffman tables are indexed by 11 bits at least (RFC 8878: codes are at most 11 bits)
const MAX_SEQ: u32 = 43690; // a sequence makes at least 3 bytes (matches are >= 3) of a block's <= 128 KiB

// workspace layout (byte offsets)
const W_LIT: usize = 0; // literals, + 64 bytes for 16-byte loads past their end
const W_SEQ: usize = 131136; // sequences: (literal length, match length, offset) u32 each
const W_HUF: usize = W_SEQ + 524288; // Huffman table: 4096 u16 (symbol | bits << 8)
const W_LLT: usize = W_HUF + 8192; // sequence tables: 8-byte entries {u16 next, u8 extra bits, u8 bits, u32 base}
const W_MLT: usize = W_LLT + 4096;
const W_OFT: usize = W_MLT + 4096;
const W_WT: usize = W_OFT + 2048; // the FSE table of Huffman weights (64 entries)
const W_NORM: usize = W_WT + 512; // i16[64] normalized counts
const W_NEXT: usize = W_NORM + 128; // u16[64]
const W_WEIGHTS: usize = W_NEXT + 128; // u8[256]
const W_END: usize = W_WEIGHTS + 256;
const ZSTD_WORK_BYTES: u32 = <u32>((W_END + 1023) & ~1023);

export const LL_BASE = memory.data<u32>([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);
export const LL_BITS = memory.data<u8>([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
export const ML_BASE = memory.data<u32>([
  3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
  35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539,
]);
export const ML_BITS = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
]);
// the predefined distributions (RFC 8878 3.1.1.3.2.2)
export const LL_DEFAULT = memory.data<i16>([4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1]);
export const ML_DEFAULT = memory.data<i16>([
  1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
]);
export const OF_DEFAULT = memory.data<i16>([1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1]);

const KIND_PLAIN: i32 = 0;
const KIND_LL: i32 = 1;
const KIND_ML: i32 = 2;
const KIND_OF: i32 = 3;

// state of the frame being decoded (one decode at a time per instance)
let work: usize = 0;
let offMax: usize = 0xffffffff; // the farthest a match may reach back (a streamed frame's window)
let hufLog: u32 = 0; // 0: no Huffman table yet in this frame
let llLog: i32 = -1; // -1: no table yet in this frame (Repeat_Mode is then corrupt)
let mlLog: i32 = -1;
let ofLog: i32 = -1;
let rep1: u32 = 1;
let rep2: u32 = 4;
let rep3: u32 = 8;
let litSize: u32 = 0;
let litDirect = false; // the literals were decoded at op (a block of literals alone)
let nbSeq: u32 = 0;
let readErr: i32 = 0;
let ncountLog: u32 = 0;
let ncountMax: u32 = 0;
let weightCount: u32 = 0;

// ---- backward bit reader (zstd's BIT_DStream with a 64-bit container), for setup code; hot loops inline it
let bPtr: usize = 0;
let bStart: usize = 0;
let bC: u64 = 0;
let bN: u32 = 0; // bits consumed from the top of bC

/** Starts reading the backward stream [start, start + size); false when it is empty or has no end mark. */
function bitInit(start: usize, size: usize): bool {
  if (size == 0) return false;
  const last = <u32>load<u8>(start + size - 1);
  if (last == 0) return false;
  bStart = start;
  if (size >= 8) {
    bPtr = start + size - 8;
    bC = load<u64>(bPtr);
    bN = clz<u32>(last) - 23; // 8 - highbit(last)
  } else {
    bPtr = start;
    let c: u64 = 0;
    for (let i: usize = 0; i < size; i++) c |= (<u64>load<u8>(start + i)) << (<u64>(i << 3));
    bC = c;
    bN = clz<u32>(last) - 23 + <u32>((<usize>8 - size) << 3);
  }
  return true;
}

@inline function bitRead(n: u32): u32 {
  const v = <u32>(((bC << <u64>(bN & 63)) >>> 1) >>> <u64>(63 - n));
  bN += n;
  return v;
}

/** Refills the container; false when more bits were read than the stream holds. */
function bitReload(): bool {
  if (bN > 64) return false;
  if (bPtr >= bStart + 8) {
    bPtr -= <usize>(bN >> 3);
    bN &= 7;
    bC = load<u64>(bPtr);
    return true;
  }
  if (bPtr == bStart) return true;
  let nb = <usize>(bN >> 3);
  if (bPtr - nb < bStart) nb = bPtr - bStart;
  bPtr -= nb;
  bN -= <u32>(nb << 3);
  bC = load<u64>(bPtr);
  return true;
}

@inline function bitDone(): bool {
  return bPtr == bStart && bN == 64;
}

// ---- FSE tables

/** 32 bits of the forward stream [p, end) from bit `bit` on (zeros past the end). */
function peek32(p: usize, end: usize, bit: u32): u32 {
  const at = p + <usize>(bit >> 3);
  let v: u64 = 0;
  if (at + 8 <= end) v = load<u64>(at);
  else for (let i: usize = 0; at + i < end; i++) v |= (<u64>load<u8>(at + i)) << (<u64>(i << 3));
  return <u32>(v >>> <u64>(bit & 7));
}

/**
 * Reads an FSE table description (RFC 8878 4.1.1) from [p, end) into W_NORM: sets ncountLog and ncountMax
 * (the last symbol listed); returns the bytes it took, or a negative error.
 */
function readNCount(p: usize, end: usize, maxSym: u32, maxLog: u32): i32 {
  const norm = work + W_NORM;
  memory.fill(norm, 0, 128);
  if (p >= end) return E_TRUNCATED;
  let bit: u32 = 0;
  const log = (peek32(p, end, 0) & 15) + 5;
  if (log > maxLog) return E_CORRUPT;
  bit = 4;
  let remaining: i32 = (1 << log) + 1;
  let threshold: i32 = 1 << log;
  let nbBits: u32 = log + 1;
  let sym: u32 = 0;
  let prev0 = false;
  while (remaining > 1 && sym <= maxSym) {
    if (prev0) {
      let n0 = sym;
      let r = peek32(p, end, bit) & 3;
      while (r == 3) {
        n0 += 3;
        bit += 2;
        if (n0 > maxSym + 1) return E_CORRUPT;
        r = peek32(p, end, bit) & 3;
      }
      n0 += r;
      bit += 2;
      if (n0 > maxSym) return E_CORRUPT;
      sym = n0; // the zeros are in place already
    }
    const bits = peek32(p, end, bit);
    const max = (2 * threshold - 1) - remaining;
    let count: i32;
    if (<i32>(bits & <u32>(threshold - 1)) < max) {
      count = <i32>(bits & <u32>(threshold - 1));
      bit += nbBits - 1;
    } else {
      count = <i32>(bits & <u32>(2 * threshold - 1));
      if (count >= threshold) count -= max;
      bit += nbBits;
    }
    count--;
    remaining -= count < 0 ? -count : count;
    store<i16>(norm + (<usize>sym << 1), <i16>count);
    sym++;
    prev0 = count == 0;
    while (remaining < threshold) {
      nbBits--;
      threshold >>= 1;
    }
  }
  if (remaining != 1) return E_CORRUPT;
  if (bit > <u32>((end - p) << 3)) return E_TRUNCATED;
  ncountLog = log;
  ncountMax = sym - 1;
  return <i32>((bit + 7) >> 3);
}

/** Builds a decoding table at t from W_NORM (symbols 0..maxSym, accuracy log); false if the counts are invalid. */
function buildTable(t: usize, maxSym: u32, log: u32, kind: i32): bool {
  const norm = work + W_NORM;
  const next = work + W_NEXT;
  const size: u32 = 1 << log;
  let high: u32 = size - 1;
  for (let s: u32 = 0; s <= maxSym; s++) {
    const c = <i32>load<i16>(norm + (<usize>s << 1));
    if (c == -1) {
      store<u8>(t + (<usize>high << 3), <u8>s, 2);
      high--;
      store<u16>(next + (<usize>s << 1), 1);
    } else store<u16>(next + (<usize>s << 1), <u16>c);
  }
  const step = (size >> 1) + (size >> 3) + 3;
  const mask = size - 1;
  let pos: u32 = 0;
  for (let s: u32 = 0; s <= maxSym; s++) {
    const c = <i32>load<i16>(norm + (<usize>s << 1));
    for (let i = 0; i < c; i++) {
      store<u8>(t + (<usize>pos << 3), <u8>s, 2);
      do {
        pos = (pos + step) & mask;
      } while (pos > high);
    }
  }
  if (pos != 0) return false;
  for (let u: u32 = 0; u < size; u++) {
    const e = t + (<usize>u << 3);
    const s = <u32>load<u8>(e, 2);
    const ns = <u32>load<u16>(next + (<usize>s << 1));
    store<u16>(next + (<usize>s << 1), <u16>(ns + 1));
    const nb = log - (31 - clz<u32>(ns));
    store<u16>(e, <u16>((ns << nb) - size));
    store<u8>(e, <u8>nb, 3);
    if (kind == KIND_LL) {
      store<u8>(e, load<u8>(LL_BITS + s), 2);
      store<u32>(e, load<u32>(LL_BASE + (<usize>s << 2)), 4);
    } else if (kind == KIND_ML) {
      store<u8>(e, load<u8>(ML_BITS + s), 2);
      store<u32>(e, load<u32>(ML_BASE + (<usize>s << 2)), 4);
    } else if (kind == KIND_OF) {
      store<u8>(e, <u8>s, 2);
      store<u32>(e, <u32>1 << s, 4);
    } else {
      store<u8>(e, 0, 2);
      store<u32>(e, s, 4);
    }
  }
  return true;
}

function loadDefault(def: usize, n: u32): void {
  memory.fill(work + W_NORM, 0, 128);
  memory.copy(work + W_NORM, def, <usize>n << 1);
}

/** A one-symbol table (RLE mode). */
function rleTable(t: usize, s: u32, kind: i32): void {
  store<u16>(t, 0);
  store<u8>(t, 0, 3);
  if (kind == KIND_LL) {
    store<u8>(t, load<u8>(LL_BITS + s), 2);
    store<u32>(t, load<u32>(LL_BASE + (<usize>s << 2)), 4);
  } else if (kind == KIND_ML) {
    store<u8>(t, load<u8>(ML_BITS + s), 2);
    store<u32>(t, load<u32>(ML_BASE + (<usize>s << 2)), 4);
  } else {
    store<u8>(t, <u8>s, 2);
    store<u32>(t, <u32>1 << s, 4);
  }
}

/**
 * The table of one sequence field for compression mode `mode`, from [p, end): returns the bytes it took
 * (or a negative error) and sets the field's log through setLog.
 */
function seqTable(mode: u32, p: usize, end: usize, kind: i32): i32 {
  const t = work + (kind == KIND_LL ? W_LLT : kind == KIND_ML ? W_MLT : W_OFT);
  const maxSym: u32 = kind == KIND_LL ? 35 : kind == KIND_ML ? 52 : 31;
  const maxLog: u32 = kind == KIND_OF ? 8 : 9;
  let log: i32;
  let used: i32 = 0;
  if (mode == 0) {
    if (kind == KIND_LL) loadDefault(LL_DEFAULT, 36);
    else if (kind == KIND_ML) loadDefault(ML_DEFAULT, 53);
    else loadDefault(OF_DEFAULT, 29);
    log = kind == KIND_OF ? 5 : 6;
    buildTable(t, kind == KIND_LL ? 35 : kind == KIND_ML ? 52 : 28, <u32>log, kind);
  } else if (mode == 1) {
    if (p >= end) return E_TRUNCATED;
    const s = <u32>load<u8>(p);
    if (s > maxSym) return E_CORRUPT;
    rleTable(t, s, kind);
    log = 0;
    used = 1;
  } else if (mode == 2) {
    used = readNCount(p, end, maxSym, maxLog);
    if (used < 0) return used;
    log = <i32>ncountLog;
    if (!buildTable(t, ncountMax, ncountLog, kind)) return E_CORRUPT;
  } else {
    log = kind == KIND_LL ? llLog : kind == KIND_ML ? mlLog : ofLog;
    if (log < 0) return E_CORRUPT;
  }
  if (kind == KIND_LL) llLog = log;
  else if (kind == KIND_ML) mlLog = log;
  else ofLog = log;
  return used;
}

// ---- Huffman literals

/** Reads a Huffman tree description at [p, end) and builds W_HUF; returns the bytes it took or an error. */
function readHuffman(p: usize, end: usize): i32 {
  if (p >= end) return E_TRUNCATED;
  const w = work + W_WEIGHTS;
  const hdr = <u32>load<u8>(p);
  let n: u32 = 0;
  let used: u32;
  if (hdr >= 128) {
    n = hdr - 127;
    used = 1 + ((n + 1) >> 1);
    if (p + used > end) return E_TRUNCATED;
    for (let i: u32 = 0; i < n; i += 2) {
      const b = <u32>load<u8>(p + 1 + (i >> 1));
      store<u8>(w + i, <u8>(b >> 4));
      store<u8>(w + i + 1, <u8>(b & 15));
    }
  } else {
    used = 1 + hdr;
    if (p + used > end) return E_TRUNCATED;
    const q = p + 1;
    const qend = q + hdr;
    const nc = readNCount(q, qend, 12, 6);
    if (nc < 0) return nc;
    const t = work + W_WT;
    if (!buildTable(t, ncountMax, ncountLog, KIND_PLAIN)) return E_CORRUPT;
    const log = ncountLog;
    if (!bitInit(q + <usize>nc, qend - q - <usize>nc)) return E_CORRUPT;
    let s1 = bitRead(log);
    bitReload();
    let s2 = bitRead(log);
    bitReload();
    for (;;) {
      if (n > 253) return E_CORRUPT;
      let e = t + (<usize>s1 << 3);
      store<u8>(w + n++, <u8>load<u32>(e, 4));
      s1 = <u32>load<u16>(e) + bitRead(<u32>load<u8>(e, 3));
      if (!bitReload()) {
        store<u8>(w + n++, <u8>load<u32>(t + (<usize>s2 << 3), 4));
        break;
      }
      e = t + (<usize>s2 << 3);
      store<u8>(w + n++, <u8>load<u32>(e, 4));
      s2 = <u32>load<u16>(e) + bitRead(<u32>load<u8>(e, 3));
      if (!bitReload()) {
        store<u8>(w + n++, <u8>load<u32>(t + (<usize>s1 << 3), 4));
        break;
      }
    }
  }
  // the weights of symbols 0..n-1; the last symbol's weight makes the total a power of two
  let total: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const x = <u32>load<u8>(w + i);
    if (x > 12) return E_CORRUPT;
    if (x) total += (<u32>1) << (x - 1);
  }
  if (total == 0) return E_CORRUPT;
  const maxBits: u32 = <u32>32 - clz<u32>(total); // highbit(total) + 1
  if (maxBits > 12) return E_CORRUPT;
  const rest = ((<u32>1) << maxBits) - total;
  if (rest & (rest - 1)) return E_CORRUPT;
  if (n > 255) return E_CORRUPT;
  store<u8>(w + n, <u8>(<u32>32 - clz<u32>(rest)));
  const symbols = n + 1;
  // rank starts: weight 1 (longest codes) first
  const rankStart = work + W_NEXT; // u32[13] reuses the FSE scratch
  const counts = work + W_NORM;
  memory.fill(counts, 0, 64);
  for (let i: u32 = 0; i < symbols; i++) {
    const x = <usize>load<u8>(w + i);
    store<u32>(counts + (x << 2), load<u32>(counts + (x << 2)) + 1);
  }
  // the table is indexed by at least 11 bits (shorter codes fill more entries): the fast loop's fixed shift
  const log: u32 = maxBits < HUF_FAST_LOG ? HUF_FAST_LOG : maxBits;
  const scale = log - maxBits;
  let next: u32 = 0;
  for (let x: u32 = 1; x <= maxBits; x++) {
    store<u32>(rankStart + (<usize>x << 2), next);
    next += load<u32>(counts + (<usize>x << 2)) << (x - 1 + scale);
  }
  const dt = work + W_HUF;
  for (let i: u32 = 0; i < symbols; i++) {
    const x = <u32>load<u8>(w + i);
    if (!x) continue;
    const len: u32 = (<u32>1) << (x - 1 + scale);
    const at = load<u32>(rankStart + (<usize>x << 2));
    const e = <u16>((maxBits + 1 - x) | (i << 8)); // bits consumed | symbol << 8
    for (let u: u32 = 0; u < len; u++) store<u16>(dt + (<usize>(at + u) << 1), e);
    store<u32>(rankStart + (<usize>x << 2), at + len);
  }
  hufLog = log;
  return <i32>used;
}

/** Decodes one Huffman stream from its current reader state until op reaches oend; false if it is corrupt. */
function hufTail(op: usize, oend: usize, ptr: usize, start: usize, c: u64, n: u32): bool {
  const dt = work + W_HUF;
  const log = <u64>hufLog;
  bPtr = ptr;
  bStart = start;
  bC = c;
  bN = n;
  while (op < oend) {
    if (!bitReload()) return false;
    const e = <u32>load<u16>(dt + (<usize>(((bC << <u64>(bN & 63)) >>> (64 - log))) << 1));
    store<u8>(op++, <u8>(e >> 8));
    bN += e & 0xff;
  }
  return bitDone();
}

function hufStream1(op: usize, size: usize, src: usize, srcSize: usize): bool {
  if (!bitInit(src, srcSize)) return false;
  return hufTail(op, op + size, bPtr, bStart, bC, bN);
}

function hufStreams4(op: usize, size: usize, src: usize, srcSize: usize): bool {
  if (srcSize < 10 || size < 6) return false;
  const z1 = <usize>load<u16>(src);
  const z2 = <usize>load<u16>(src, 2);
  const z3 = <usize>load<u16>(src, 4);
  if (<usize>6 + z1 + z2 + z3 >= srcSize) return false;
  const z4 = srcSize - 6 - z1 - z2 - z3;
  const seg = (size + 3) >> 2;
  if (<usize>3 * seg > size) return false;
  const a1 = src + 6;
  const a2 = a1 + z1;
  const a3 = a2 + z2;
  const a4 = a3 + z3;
  if (!bitInit(a1, z1)) return false;
  const p1i = bPtr, c1i = bC, n1i = bN;
  if (!bitInit(a2, z2)) return false;
  const p2i = bPtr, c2i = bC, n2i = bN;
  if (!bitInit(a3, z3)) return false;
  const p3i = bPtr, c3i = bC, n3i = bN;
  if (!bitInit(a4, z4)) return false;
  let p1 = p1i, p2 = p2i, p3 = p3i, p4 = bPtr;
  let o1 = op, o2 = op + seg, o3 = op + 2 * seg, o4 = op + 3 * seg;
  const e1 = o2, e2 = o3, e3 = o4, e4 = op + size;
  const dt = work + W_HUF;
  // zstd's fast loop: each container carries a sentinel bit below its data, so the bits consumed are
  // ctz(container) and a symbol costs a table lookup and one shift; five symbols per refill (5 * 11 bits
  // + 7 fit in 64), the four streams' dependency chains interleaved. Needs an 11-bit table.
  const c4i = bC, n4i = bN;
  let b1 = (c1i | 1) << <u64>n1i, b2 = (c2i | 1) << <u64>n2i, b3 = (c3i | 1) << <u64>n3i, b4 = (c4i | 1) << <u64>n4i;
  let ran = false;
  if (hufLog == HUF_FAST_LOG) {
    for (;;) {
      // iterations that keep every stream's refill at or above its start + 8, and its output within its end
      let it = (<isize>(p1 - a1) - 8) / 7;
      let t = (<isize>(p2 - a2) - 8) / 7;
      if (t < it) it = t;
      t = (<isize>(p3 - a3) - 8) / 7;
      if (t < it) it = t;
      t = (<isize>(p4 - a4) - 8) / 7;
      if (t < it) it = t;
      t = <isize>(e1 - o1) / 5;
      if (t < it) it = t;
      t = <isize>(e4 - o4) / 5;
      if (t < it) it = t;
      if (it <= 0) break;
      ran = true;
      for (; it > 0; it--) {
        {
          const k = ctz<u64>(b1);
          p1 -= <usize>(k >> 3);
          b1 = (load<u64>(p1) | 1) << (k & 7);
        }
        {
          const k = ctz<u64>(b2);
          p2 -= <usize>(k >> 3);
          b2 = (load<u64>(p2) | 1) << (k & 7);
        }
        {
          const k = ctz<u64>(b3);
          p3 -= <usize>(k >> 3);
          b3 = (load<u64>(p3) | 1) << (k & 7);
        }
        {
          const k = ctz<u64>(b4);
          p4 -= <usize>(k >> 3);
          b4 = (load<u64>(p4) | 1) << (k & 7);
        }
        const x10 = <u64>load<u16>(dt + (<usize>(b1 >>> 53) << 1));
        const x20 = <u64>load<u16>(dt + (<usize>(b2 >>> 53) << 1));
        const x30 = <u64>load<u16>(dt + (<usize>(b3 >>> 53) << 1));
        const x40 = <u64>load<u16>(dt + (<usize>(b4 >>> 53) << 1));
        b1 <<= x10;
        b2 <<= x20;
        b3 <<= x30;
        b4 <<= x40;
        store<u8>(o1, <u8>(x10 >> 8), 0);
        store<u8>(o2, <u8>(x20 >> 8), 0);
        store<u8>(o3, <u8>(x30 >> 8), 0);
        store<u8>(o4, <u8>(x40 >> 8), 0);
        const x11 = <u64>load<u16>(dt + (<usize>(b1 >>> 53) << 1));
        const x21 = <u64>load<u16>(dt + (<usize>(b2 >>> 53) << 1));
        const x31 = <u64>load<u16>(dt + (<usize>(b3 >>> 53) << 1));
        const x41 = <u64>load<u16>(dt + (<usize>(b4 >>> 53) << 1));
        b1 <<= x11;
        b2 <<= x21;
        b3 <<= x31;
        b4 <<= x41;
        store<u8>(o1, <u8>(x11 >> 8), 1);
        store<u8>(o2, <u8>(x21 >> 8), 1);
        store<u8>(o3, <u8>(x31 >> 8), 1);
        store<u8>(o4, <u8>(x41 >> 8), 1);
        const x12 = <u64>load<u16>(dt + (<usize>(b1 >>> 53) << 1));
        const x22 = <u64>load<u16>(dt + (<usize>(b2 >>> 53) << 1));
        const x32 = <u64>load<u16>(dt + (<usize>(b3 >>> 53) << 1));
        const x42 = <u64>load<u16>(dt + (<usize>(b4 >>> 53) << 1));
        b1 <<= x12;
        b2 <<= x22;
        b3 <<= x32;
        b4 <<= x42;
        store<u8>(o1, <u8>(x12 >> 8), 2);
        store<u8>(o2, <u8>(x22 >> 8), 2);
        store<u8>(o3, <u8>(x32 >> 8), 2);
        store<u8>(o4, <u8>(x42 >> 8), 2);
        const x13 = <u64>load<u16>(dt + (<usize>(b1 >>> 53) << 1));
        const x23 = <u64>load<u16>(dt + (<usize>(b2 >>> 53) << 1));
        const x33 = <u64>load<u16>(dt + (<usize>(b3 >>> 53) << 1));
        const x43 = <u64>load<u16>(dt + (<usize>(b4 >>> 53) << 1));
        b1 <<= x13;
        b2 <<= x23;
        b3 <<= x33;
        b4 <<= x43;
        store<u8>(o1, <u8>(x13 >> 8), 3);
        store<u8>(o2, <u8>(x23 >> 8), 3);
        store<u8>(o3, <u8>(x33 >> 8), 3);
        store<u8>(o4, <u8>(x43 >> 8), 3);
        const x14 = <u64>load<u16>(dt + (<usize>(b1 >>> 53) << 1));
        const x24 = <u64>load<u16>(dt + (<usize>(b2 >>> 53) << 1));
        const x34 = <u64>load<u16>(dt + (<usize>(b3 >>> 53) << 1));
        const x44 = <u64>load<u16>(dt + (<usize>(b4 >>> 53) << 1));
        b1 <<= x14;
        b2 <<= x24;
        b3 <<= x34;
        b4 <<= x44;
        store<u8>(o1, <u8>(x14 >> 8), 4);
        store<u8>(o2, <u8>(x24 >> 8), 4);
        store<u8>(o3, <u8>(x34 >> 8), 4);
        store<u8>(o4, <u8>(x44 >> 8), 4);
        o1 += 5;
        o2 += 5;
        o3 += 5;
        o4 += 5;
      }
    }
  }
  // the rest one symbol at a time, from each stream's reader state: after the fast loop, the container at p
  // (every p is at its start + 8 or above) with ctz(b) bits consumed; else the state bitInit left
  if (!ran) {
    if (!hufTail(o1, e1, p1i, a1, c1i, n1i)) return false;
    if (!hufTail(o2, e2, p2i, a2, c2i, n2i)) return false;
    if (!hufTail(o3, e3, p3i, a3, c3i, n3i)) return false;
    return hufTail(o4, e4, p4, a4, c4i, n4i);
  }
  if (!hufTail(o1, e1, p1, a1, load<u64>(p1), <u32>ctz<u64>(b1))) return false;
  if (!hufTail(o2, e2, p2, a2, load<u64>(p2), <u32>ctz<u64>(b2))) return false;
  if (!hufTail(o3, e3, p3, a3, load<u64>(p3), <u32>ctz<u64>(b3))) return false;
  return hufTail(o4, e4, p4, a4, load<u64>(p4), <u32>ctz<u64>(b4));
}

/**
 * Decodes a block's literals section at [p, end) into W_LIT (sets litSize and litDirect); returns its size
 * or an error. A block of literals alone (no sequences) is decoded straight to `direct` instead when that is
 * not 0 and they fit before `directEnd`.
 */
function readLiterals(p: usize, end: usize, direct: usize, directEnd: usize): i32 {
  if (p >= end) return E_TRUNCATED;
  const b0 = <u32>load<u8>(p);
  const type = b0 & 3;
  const sf = (b0 >> 2) & 3;
  let lit = work + W_LIT;
  litDirect = false;
  if (type < 2) {
    let hs: usize;
    let size: u32;
    if (sf == 0 || sf == 2) {
      hs = 1;
      size = b0 >> 3;
    } else if (sf == 1) {
      hs = 2;
      if (p + 2 > end) return E_TRUNCATED;
      size = (b0 >> 4) + ((<u32>load<u8>(p, 1)) << 4);
    } else {
      hs = 3;
      if (p + 3 > end) return E_TRUNCATED;
      size = (b0 >> 4) + ((<u32>load<u8>(p, 1)) << 4) + ((<u32>load<u8>(p, 2)) << 12);
    }
    if (size > BLOCK_MAX) return E_CORRUPT;
    litSize = size;
    const sectionEnd = p + hs + (type == 0 ? <usize>size : 1);
    if (direct && sectionEnd < end && load<u8>(sectionEnd) == 0 && direct + size <= directEnd) {
      lit = direct;
      litDirect = true;
    }
    if (type == 0) {
      if (p + hs + size > end) return E_TRUNCATED;
      memory.copy(lit, p + hs, size);
      return <i32>(hs + size);
    }
    if (p + hs + 1 > end) return E_TRUNCATED;
    memory.fill(lit, load<u8>(p + hs), size);
    return <i32>(hs + 1);
  }
  // compressed (2) or treeless (3)
  let hs: usize;
  let regen: u32;
  let csize: u32;
  let streams4 = true;
  if (sf < 2) {
    hs = 3;
    if (p + 3 > end) return E_TRUNCATED;
    const v = b0 | ((<u32>load<u8>(p, 1)) << 8) | ((<u32>load<u8>(p, 2)) << 16);
    regen = (v >> 4) & 1023;
    csize = (v >> 14) & 1023;
    streams4 = sf == 1;
  } else if (sf == 2) {
    hs = 4;
    if (p + 4 > end) return E_TRUNCATED;
    const v = load<u32>(p);
    regen = (v >> 4) & 16383;
    csize = v >> 18;
  } else {
    hs = 5;
    if (p + 5 > end) return E_TRUNCATED;
    const v = load<u32>(p) | 0;
    regen = (v >> 4) & 262143;
    csize = (v >> 22) | ((<u32>load<u8>(p, 4)) << 10);
  }
  if (regen > BLOCK_MAX) return E_CORRUPT;
  const q = p + hs;
  const qend = q + csize;
  if (qend > end) return E_TRUNCATED;
  let r = q;
  if (type == 2) {
    const used = readHuffman(q, qend);
    if (used < 0) return used;
    r += <usize>used;
  } else if (hufLog == 0) return E_CORRUPT;
  litSize = regen;
  if (direct && qend < end && load<u8>(qend) == 0 && direct + regen <= directEnd) {
    lit = direct;
    litDirect = true;
  }
  const ok = streams4 ? hufStreams4(lit, regen, r, qend - r) : hufStream1(lit, regen, r, qend - r);
  if (!ok) return E_CORRUPT;
  return <i32>(hs + csize);
}

// ---- sequences

/** Decodes a block's sequences section at [p, end) into W_SEQ (sets nbSeq); returns 0 or an error. */
function readSequences(p: usize, end: usize): i32 {
  if (p >= end) return E_TRUNCATED;
  let n = <u32>load<u8>(p);
  let q = p + 1;
  if (n == 0) {
    nbSeq = 0;
    return q == end ? 0 : E_CORRUPT;
  }
  if (n >= 128) {
    if (n == 255) {
      if (q + 2 > end) return E_TRUNCATED;
      n = <u32>load<u16>(q) + 0x7f00;
      q += 2;
    } else {
      if (q + 1 > end) return E_TRUNCATED;
      n = ((n - 128) << 8) + <u32>load<u8>(q);
      q += 1;
    }
  }
  if (n > MAX_SEQ) return E_CORRUPT;
  if (q >= end) return E_TRUNCATED;
  const modes = <u32>load<u8>(q++);
  if (modes & 3) return E_CORRUPT;
  let used = seqTable(modes >> 6, q, end, KIND_LL);
  if (used < 0) return used;
  q += <usize>used;
  used = seqTable((modes >> 4) & 3, q, end, KIND_OF);
  if (used < 0) return used;
  q += <usize>used;
  used = seqTable((modes >> 2) & 3, q, end, KIND_ML);
  if (used < 0) return used;
  q += <usize>used;
  if (!bitInit(q, end - q)) return E_CORRUPT;
  const llt = work + W_LLT;
  const mlt = work + W_MLT;
  const oft = work + W_OFT;
  let ptr = bPtr;
  const start = bStart;
  let c = bC;
  let nb = bN;
  // the reader, inlined: read(k) = ((c << nb) >>> 1) >>> (63 - k); nb += k
  let sll = <u32>(((c << <u64>nb) >>> 1) >>> <u64>(63 - llLog));
  nb += <u32>llLog;
  let sof = <u32>(((c << <u64>(nb & 63)) >>> 1) >>> <u64>(63 - ofLog));
  nb += <u32>ofLog;
  let sml = <u32>(((c << <u64>(nb & 63)) >>> 1) >>> <u64>(63 - mlLog));
  nb += <u32>mlLog;
  let r1 = rep1, r2 = rep2, r3 = rep3;
  let lits: u32 = 0;
  let out: u32 = 0;
  let sp = work + W_SEQ;
  for (let i: u32 = 0; i < n; i++) {
    // refill
    if (nb > 64) return E_CORRUPT;
    if (ptr >= start + 8) {
      ptr -= <usize>(nb >> 3);
      nb &= 7;
      c = load<u64>(ptr);
    } else if (ptr != start) {
      let k = <usize>(nb >> 3);
      if (ptr - k < start) k = ptr - start;
      ptr -= k;
      nb -= <u32>(k << 3);
      c = load<u64>(ptr);
    }
    const le = llt + (<usize>sll << 3);
    const me = mlt + (<usize>sml << 3);
    const oe = oft + (<usize>sof << 3);
    const ofBits = <u32>load<u8>(oe, 2);
    let ofv = load<u32>(oe, 4);
    if (ofBits) {
      ofv += <u32>(((c << <u64>(nb & 63)) >>> 1) >>> <u64>(63 - ofBits));
      nb += ofBits;
    }
    const mlBits = <u32>load<u8>(me, 2);
    let ml = load<u32>(me, 4);
    if (mlBits) {
      ml += <u32>(((c << <u64>(nb & 63)) >>> 1) >>> <u64>(63 - mlBits));
      nb += mlBits;
    }
    // refill (offset bits can be 31)
    if (nb > 64) return E_CORRUPT;
    if (ptr >= start + 8) {
      ptr -= <usize>(nb >> 3);
      nb &= 7;
      c = load<u64>(ptr);
    } else if (ptr != start) {
      let k = <usize>(nb >> 3);
      if (ptr - k < start) k = ptr - start;
      ptr -= k;
      nb -= <u32>(k << 3);
      c = load<u64>(ptr);
    }
    const llBits = <u32>load<u8>(le, 2);
    let ll = load<u32>(le, 4);
    if (llBits) {
      ll += <u32>(((c << <u64>(nb & 63)) >>> 1) >>> <u64>(63 - llBits));
      nb += llBits;
    }
    // repeat offsets (RFC 8878 3.1.1.5)
    let off: u32;
    if (ofv > 3) {
      off = ofv - 3;
      r3 = r2;
      r2 = r1;
      r1 = off;
    } else {
      const r = ofv + (ll == 0 ? 1 : 0);
      if (r == 1) off = r1;
      else if (r == 2) {
        off = r2;
        r2 = r1;
        r1 = off;
      } else {
        off = r == 3 ? r3 : r1 - 1;
        if (off == 0) return E_CORRUPT;
        r3 = r2;
        r2 = r1;
        r1 = off;
      }
    }
    store<u32>(sp, ll);
    store<u32>(sp, ml, 4);
    store<u32>(sp, off, 8);
    sp += 12;
    lits += ll;
    out += ll + ml;
    if (i + 1 < n) {
      const lb = <u32>load<u8>(le, 3);
      sll = <u32>load<u16>(le) + <u32>(((c << <u64>(nb & 63)) >>> 1) >>> <u64>(63 - lb));
      nb += lb;
      const mb = <u32>load<u8>(me, 3);
      sml = <u32>load<u16>(me) + <u32>(((c << <u64>(nb & 63)) >>> 1) >>> <u64>(63 - mb));
      nb += mb;
      const ob = <u32>load<u8>(oe, 3);
      sof = <u32>load<u16>(oe) + <u32>(((c << <u64>(nb & 63)) >>> 1) >>> <u64>(63 - ob));
      nb += ob;
    }
  }
  if (!(ptr == start && nb == 64)) return E_CORRUPT;
  if (lits > litSize) return E_CORRUPT;
  if (out + (litSize - lits) > BLOCK_MAX) return E_CORRUPT;
  rep1 = r1;
  rep2 = r2;
  rep3 = r3;
  nbSeq = n;
  return 0;
}

/** The output size of the decoded block (literals and sequences in the workspace). */
function blockSize(): u32 {
  let out: u32 = litSize;
  let sp = work + W_SEQ;
  for (let i: u32 = 0; i < nbSeq; i++, sp += 12) out += load<u32>(sp, 4);
  return out;
}

/** Writes the decoded block at op (limit: where wild copies must stop); returns the new op or 0 on a bad offset. */
function execute(op: usize, frameStart: usize, limit: usize): usize {
  let lp = work + W_LIT;
  let sp = work + W_SEQ;
  for (let i: u32 = 0; i < nbSeq; i++, sp += 12) {
    const ll = <usize>load<u32>(sp);
    const ml = <usize>load<u32>(sp, 4);
    const off = <usize>load<u32>(sp, 8);
    // literals: 16 at a time when the slack allows (the literal buffer has 64 bytes of its own)
    if (ll <= 64 && op + ll + 16 <= limit) {
      let k: usize = 0;
      do {
        v128.store(op + k, v128.load(lp + k));
        k += 16;
      } while (k < ll);
    } else memory.copy(op, lp, ll);
    op += ll;
    lp += ll;
    if (off > op - frameStart || off > offMax) return 0;
    const from = op - off;
    if (off >= 16 && op + ml + 16 <= limit) {
      let k: usize = 0;
      do {
        v128.store(op + k, v128.load(from + k));
        k += 16;
      } while (k < ml);
    } else if (off >= ml) memory.copy(op, from, ml);
    else if (off >= 8) {
      let k: usize = 0;
      for (; k + 8 <= ml; k += 8) store<u64>(op + k, load<u64>(from + k));
      for (; k < ml; k++) store<u8>(op + k, load<u8>(from + k));
    } else {
      for (let k: usize = 0; k < ml; k++) store<u8>(op + k, load<u8>(from + k));
    }
    op += ml;
  }
  const rest = <usize>(litSize - <u32>(lp - (work + W_LIT)));
  memory.copy(op, lp, rest);
  return op + rest;
}

// ---- XXH64 (the content checksum: its low 32 bits)

const P1: u64 = 11400714785074694791;
const P2: u64 = 14029467366897019727;
const P3: u64 = 1609587929392839161;
const P4: u64 = 9650029242287828579;
const P5: u64 = 2870177450012600261;

@inline function xround(acc: u64, v: u64): u64 {
  return rotl<u64>(acc + v * P2, 31) * P1;
}
@inline function xmerge(h: u64, v: u64): u64 {
  return (h ^ xround(0, v)) * P1 + P4;
}

function xxh64(p: usize, len: usize): u64 {
  const end = p + len;
  let h: u64;
  if (len >= 32) {
    let v1: u64 = P1 + P2;
    let v2: u64 = P2;
    let v3: u64 = 0;
    let v4: u64 = 0 - P1;
    const lim = end - 32;
    do {
      v1 = xround(v1, load<u64>(p));
      v2 = xround(v2, load<u64>(p, 8));
      v3 = xround(v3, load<u64>(p, 16));
      v4 = xround(v4, load<u64>(p, 24));
      p += 32;
    } while (p <= lim);
    h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18);
    h = xmerge(h, v1);
    h = xmerge(h, v2);
    h = xmerge(h, v3);
    h = xmerge(h, v4);
  } else h = P5;
  h += <u64>len;
  for (; p + 8 <= end; p += 8) {
    h ^= xround(0, load<u64>(p));
    h = rotl<u64>(h, 27) * P1 + P4;
  }
  if (p + 4 <= end) {
    h ^= (<u64>load<u32>(p)) * P1;
    h = rotl<u64>(h, 23) * P2 + P3;
    p += 4;
  }
  for (; p < end; p++) {
    h ^= (<u64>load<u8>(p)) * P5;
    h = rotl<u64>(h, 11) * P1;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

// ---- frames

export const NEED_INPUT: i32 = 1;
export const NEED_OUTPUT: i32 = 2;

// the block decodeBlock decoded: where its input ends, where its output ends, whether it was the frame's last
export let blkNext: usize = 0;
export let blkOp: usize = 0;
export let blkLast: u32 = 0;
let blkSum: u32 = 0;

/**
 * Decodes the block whose header is at ip (input up to send) to op (output up to dend; matches reach back
 * to frameStart). `stream`: input may follow (NEED_INPUT when the block is not all in [ip, send)), and
 * output room can be made (NEED_OUTPUT when the block might not fit before dend), both before anything is
 * consumed or written. Sets blkNext, blkOp, blkLast (and blkSum: the checksum after a last block) on 0.
 */
export function decodeBlock(ip: usize, send: usize, op: usize, dend: usize, frameStart: usize, disjoint: bool, checksum: u32, stream: i32): i32 {
  if (ip + 3 > send) return stream & 1 ? NEED_INPUT : E_TRUNCATED;
  const bh = <u32>load<u16>(ip) | ((<u32>load<u8>(ip, 2)) << 16);
  ip += 3;
  const last = bh & 1;
  const type = (bh >> 1) & 3;
  const size = <usize>(bh >> 3);
  if (type == 3) return E_CORRUPT;
  const inSize: usize = type == 1 ? 1 : size;
  if (size > <usize>BLOCK_MAX) return E_CORRUPT;
  let next = ip + inSize; // the first input byte not yet read once this block is decoded
  const tail: usize = last && checksum ? 4 : 0;
  if (next + tail > send) return stream & 1 ? NEED_INPUT : E_TRUNCATED;
  if (stream & 2 && op + (type == 2 ? <usize>BLOCK_MAX : size) > dend) return NEED_OUTPUT;
  if (tail) blkSum = load<u32>(next);
  next += tail;
  blkLast = last;
  blkNext = next;
  // input at [next, send) is unread: output must not reach it when it lies ahead of op
  const limit = !disjoint && next >= op && next < dend ? next : dend;
  if (type == 0) {
    if (op + size > limit) return op + size > dend ? E_DST_SIZE : E_OVERLAP;
    memory.copy(op, ip, size);
    blkOp = op + size;
    return 0;
  }
  if (type == 1) {
    if (op + size > limit) return op + size > dend ? E_DST_SIZE : E_OVERLAP;
    memory.fill(op, load<u8>(ip), size);
    blkOp = op + size;
    return 0;
  }
  const bend = ip + size;
  // literals alone go straight to op when that cannot reach this block's input
  const used = readLiterals(ip, bend, disjoint || op + <usize>BLOCK_MAX <= ip ? op : 0, dend);
  if (used < 0) return used;
  const rs = readSequences(ip + <usize>used, bend);
  if (rs < 0) return rs;
  if (litDirect) {
    blkOp = op + <usize>litSize;
    return 0;
  }
  const out = <usize>blockSize();
  if (op + out > limit) return op + out > dend ? E_DST_SIZE : E_OVERLAP;
  op = execute(op, frameStart, limit);
  if (op == 0) return E_CORRUPT;
  blkOp = op;
  return 0;
}

/** Sets the workspace of the decode in progress, and how far back its matches may reach. */
export function useWorkspace(ws: usize, maxOffset: usize): void {
  work = ws;
  offMax = maxOffset;
}

/** Resets the per-frame state: no tables yet, the initial repeat offsets. */
export function frameBegin(): void {
  hufLog = 0;
  llLog = -1;
  mlLog = -1;
  ofLog = -1;
  rep1 = 1;
  rep2 = 4;
  rep3 = 8;
}

/**
 * Decodes the zstd frames (and skips skippable frames) of [src, src + srcLen) into [dst, dst + cap),
 * using `ws` (ZSTD_WORK_BYTES, apart from both). Returns the bytes written or a negative ZSTD_E_* code.
 */
// readFrameHeader's results (as decodeBlock's blk* above): where the header ends, the frame's window,
// its content size when it says one, and whether a checksum follows the last block
export let fhNext: usize = 0;
export let fhWindow: u64 = 0;
export let fhFcs: u64 = 0;
export let fhHasFcs: bool = false;
export let fhChecksum: u32 = 0;

/**
 * The frame header from ip (just past the magic number) within [ip, end): 0 with the fh* globals set, or
 * E_TRUNCATED, E_CORRUPT (the reserved bit) or E_UNSUPPORTED (a dictionary). Shared by the whole-frame
 * decoder below and the streamed one (zstd-stream.ts).
 */
export function readFrameHeader(ip: usize, end: usize): i32 {
  if (ip >= end) return E_TRUNCATED;
  const fhd = <u32>load<u8>(ip++);
  if (fhd & 8) return E_CORRUPT; // reserved bit
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const dictFlag = fhd & 3;
  const dictBytes: usize = dictFlag == 3 ? 4 : <usize>dictFlag;
  const fcsBytes: usize = fcsFlag == 0 ? <usize>single : fcsFlag == 1 ? 2 : fcsFlag == 2 ? 4 : 8;
  const hdr = <usize>(single ? 0 : 1) + dictBytes + fcsBytes;
  if (ip + hdr > end) return E_TRUNCATED;
  let window: u64 = 0;
  if (!single) {
    const wd = <u32>load<u8>(ip++);
    const base = (<u64>1) << <u64>(10 + (wd >> 3));
    window = base + (base >> 3) * <u64>(wd & 7);
  }
  let dict: u32 = 0;
  for (let i: usize = 0; i < dictBytes; i++) dict |= (<u32>load<u8>(ip + i)) << <u32>(i << 3);
  ip += dictBytes;
  if (dict != 0) return E_UNSUPPORTED;
  let fcs: u64 = 0;
  if (fcsBytes == 1) fcs = <u64>load<u8>(ip);
  else if (fcsBytes == 2) fcs = <u64>load<u16>(ip) + 256;
  else if (fcsBytes == 4) fcs = <u64>load<u32>(ip);
  else if (fcsBytes == 8) fcs = load<u64>(ip);
  fhNext = ip + fcsBytes;
  fhWindow = single ? fcs : window;
  fhFcs = fcs;
  fhHasFcs = fcsBytes != 0;
  fhChecksum = (fhd >> 2) & 1;
  return 0;
}

export function zstdDecompress(dst: usize, cap: usize, src: usize, srcLen: usize, ws: usize): i32 {
  work = ws;
  offMax = 0xffffffff;
  const dend = dst + cap;
  const send = src + srcLen;
  let ip = src;
  let op = dst;
  if (srcLen == 0) return E_TRUNCATED;
  const disjoint = send <= dst || src >= dend;
  while (ip < send) {
    if (ip + 4 > send) return E_TRUNCATED;
    const magic = load<u32>(ip);
    if ((magic & 0xfffffff0) == 0x184d2a50) {
      if (ip + 8 > send) return E_TRUNCATED;
      const skip = <usize>load<u32>(ip, 4);
      if (skip > send - ip - 8) return E_TRUNCATED;
      ip += 8 + skip;
      continue;
    }
    if (magic != 0xfd2fb528) return E_CORRUPT;
    ip += 4;
    const fh = readFrameHeader(ip, send);
    if (fh != 0) return fh;
    ip = fhNext; // the window descriptor is not needed here: the whole output is the window
    const checksum = fhChecksum, hasFcs = fhHasFcs, fcs = fhFcs;
    if (hasFcs && fcs > <u64>(dend - op)) return E_DST_SIZE;
    const frameStart = op;
    frameBegin();
    for (;;) {
      const rc = decodeBlock(ip, send, op, dend, frameStart, disjoint, checksum, 0);
      if (rc != 0) return rc;
      ip = blkNext;
      op = blkOp;
      if (blkLast) break;
    }
    const made = op - frameStart;
    if (hasFcs && <u64>made != fcs) return E_CORRUPT;
    if (checksum && <u32>xxh64(frameStart, made) != blkSum) return E_CHECKSUM;
  }
  const total = op - dst;
  if (total > 0x7fffffff) return E_DST_SIZE;
  return <i32>total;
}

/** The workspace zstdDecompress needs, in bytes. */
export function zstdWorkBytes(): u32 {
  return ZSTD_WORK_BYTES;
}
