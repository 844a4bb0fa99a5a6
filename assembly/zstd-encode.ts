// Zstandard frame encoder (RFC 8878), for Zarr chunks written by toZarr: zstd's level-1 "fast" strategy
// (one hash table of 6-byte prefixes, a repeat-offset check before every lookup, a search step that grows
// with the distance since the last match: data without matches, such as random doubles, is crossed in a
// few thousand probes per block), Huffman-coded literals (four streams above 256 bytes; raw or RLE literals
// when those are smaller) and sequences coded with the predefined FSE tables or, when there are enough of
// them and their codes are skewed, with tables of their own (the choice zstd makes at levels 1-2). A block
// that does not shrink by 1/64 is stored raw; a block of one repeated byte as RLE. No checksum, no
// dictionary (what numcodecs' Zstd(level=1) writes).
//
// Runs on any memory the module is bound to, with no allocator: the chunk is compressed from where it lies
// (src) into dst with a caller-given workspace (zstdCompressWorkBytes). A chunk may be compressed in parts
// (several calls over consecutive ranges of it, each a multiple of 128 KiB but the last): the match finder's
// state stays in the workspace between calls and matches reach back into earlier parts, so the frame is the
// same as from one call; the caller writes each part's output and reuses dst. Every write stays inside
// [dst, dst + cap); the call returns the bytes written or a negative code.

import { LL_BITS, LL_BASE, ML_BITS, ML_BASE, LL_DEFAULT, ML_DEFAULT, OF_DEFAULT } from "./zstd";

const E_DST_SIZE: i32 = -2;
const E_ARGUMENT: i32 = -7;

const BLOCK_MAX: u32 = 131072;
const HASH_LOG: u32 = 14;
const WINDOW_LOG: u32 = 19; // zstd's level 1 for inputs above 256 KiB; smaller chunks are one segment
const MIN_LITERALS_HUF: u32 = 63; // zstd: fewer literals than this are stored raw
const HUF_MAX_BITS: u32 = 11;
const MAX_SEQ: u32 = BLOCK_MAX / 4 + 16; // every match is at least 4 bytes
/** Room a block may need past its raw size in dst: stray bytes of 8-byte stores and the sequence tables' bound. */
const SLACK: u32 = 512;

// workspace layout (byte offsets)
const K_HASH: usize = 0; // u32[1 << HASH_LOG]: position + 1 of the last 6-byte prefix with that hash (0: none)
const K_STATE: usize = K_HASH + (4 << HASH_LOG); // u32 rep1, rep2, rep3, window, total
const K_LIT: usize = K_STATE + 64; // the block's literals (+ 64)
const K_SEQ: usize = K_LIT + BLOCK_MAX + 64; // u32[MAX_SEQ][3]: literal length, match length, offset value (1-3 repeat codes, else offset + 3)
const K_LLC: usize = K_SEQ + <usize>MAX_SEQ * 12; // u8[MAX_SEQ] codes
const K_MLC: usize = K_LLC + MAX_SEQ;
const K_OFC: usize = K_MLC + MAX_SEQ;
const K_HIST: usize = K_OFC + MAX_SEQ; // u32[4][256] literal histograms (one per Huffman stream), then u32[256] their total
const K_TOTAL: usize = K_HIST + 4096;
const K_HUF: usize = K_TOTAL + 1024; // u32[256]: code << 8 | bits, per symbol
const K_HLEN: usize = K_HUF + 1024; // u8[256]: code lengths by symbol
const K_SORT: usize = K_HLEN + 256; // u64[256]: (count << 8 | symbol), sorted
const K_NODE: usize = K_SORT + 2048; // u32[512] weights, u16[512] parents, u8[512] depths
const K_WGT: usize = K_NODE + 4096; // u8[256] Huffman weights
const K_NORM: usize = K_WGT + 256; // i16[64] normalized counts
const K_CNT: usize = K_NORM + 128; // u32[64] counts
const K_SPREAD: usize = K_CNT + 256; // u8[512] FSE spread; u16[64] cumul after it
const K_CT_LL: usize = K_SPREAD + 1024; // FSE compression tables (CT_BYTES each)
const CT_BYTES: usize = 1600; // u32 log, symbolTT[64] {i32 deltaFindState, u32 deltaNbBits} at 8, u16 states[512] at 520
const K_CT_ML: usize = K_CT_LL + CT_BYTES;
const K_CT_OF: usize = K_CT_ML + CT_BYTES;
const K_CT_WT: usize = K_CT_OF + CT_BYTES;
const K_END: usize = K_CT_WT + CT_BYTES;
const WORK_BYTES: u32 = <u32>((K_END + 1023) & ~1023);

const LL_CODE = memory.data<u8>([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 20, 20, 21, 21, 21, 21,
  22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23, 23, 23, 23, 23, 23, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
]);
const ML_CODE = memory.data<u8>([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
  32, 32, 33, 33, 34, 34, 35, 35, 36, 36, 36, 36, 37, 37, 37, 37, 38, 38, 38, 38, 38, 38, 38, 38, 39, 39, 39, 39, 39, 39, 39, 39,
  40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41,
  42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42,
]);

const SHELL_GAPS = memory.data<u8>([57, 23, 10, 4, 1]);

let work: usize = 0;

@inline function highbit(v: u32): u32 {
  return 31 - clz<u32>(v);
}

// ---- forward bit writer (zstd's BIT_CStream with a 64-bit container)
let wC: u64 = 0;
let wN: u32 = 0;
let wP: usize = 0;

@inline function addBits(v: u32, n: u32): void {
  wC |= (<u64>v & ((<u64>1 << <u64>n) - 1)) << <u64>wN;
  wN += n;
}

@inline function flushBits(): void {
  store<u64>(wP, wC);
  wP += <usize>(wN >> 3);
  wC = wN >= 64 ? 0 : wC >>> <u64>(wN & ~7);
  wN &= 7;
}

/** Ends the stream with its 1-bit mark; returns its end (exclusive). */
function closeBits(): usize {
  addBits(1, 1);
  flushBits();
  return wP + (wN > 0 ? 1 : 0);
}

// ---- match finder

@inline function hash6(p: usize): u32 {
  return <u32>(((load<u64>(p) << 16) * 227718039650203) >>> <u64>(64 - HASH_LOG));
}

/** Bytes equal at a and b, a running up to end (b < a). */
@inline function matchLength(a: usize, b: usize, end: usize): u32 {
  const start = a;
  while (a + 8 <= end) {
    const x = load<u64>(a) ^ load<u64>(b);
    if (x != 0) return <u32>(a - start) + <u32>(ctz<u64>(x) >> 3);
    a += 8;
    b += 8;
  }
  while (a < end && load<u8>(a) == load<u8>(b)) {
    a++;
    b++;
  }
  return <u32>(a - start);
}

let nbSeq: u32 = 0;
let litLen: u32 = 0;

/**
 * Finds the sequences of the block [start, end) of the chunk at src (zstd's ZSTD_compressBlock_fast):
 * fills K_SEQ (nbSeq) and the literals before each match (litLen); returns where the last literals start.
 */
function findSequences(src: usize, start: u32, end: u32, window: u32): u32 {
  const ht = work + K_HASH;
  const lits = work + K_LIT;
  let r1 = load<u32>(work + K_STATE);
  let r2 = load<u32>(work + K_STATE, 4);
  let r3 = load<u32>(work + K_STATE, 8);
  let sp = work + K_SEQ;
  let lp = lits;
  let anchor = start;
  let ip: u32 = start == 0 ? 1 : start;
  const ilimit: u32 = end - start > 8 ? end - 8 : 0; // a hash reads 8 bytes
  const iend = src + end;
  while (ip < ilimit) {
    const h = hash6(src + ip);
    const cand = load<u32>(ht + (<usize>h << 2)); // position + 1
    store<u32>(ht + (<usize>h << 2), ip + 1);
    const p1 = ip + 1;
    let ml: u32;
    let ofValue: u32;
    const cur0 = ip;
    if (r1 <= p1 && load<u32>(src + p1 - r1) == load<u32>(src + p1)) {
      ml = 4 + matchLength(src + p1 + 4, src + p1 + 4 - r1, iend);
      ip = p1;
      ofValue = 1; // literals precede it: offset value 1 is rep1
    } else {
      let m = cand - 1;
      if (cand == 0 || ip - m >= window || load<u32>(src + m) != load<u32>(src + ip)) {
        ip += ((ip - anchor) >> 8) + 1;
        continue;
      }
      const off = ip - m;
      ml = 4 + matchLength(src + ip + 4, src + m + 4, iend);
      while (ip > anchor && m > 0 && load<u8>(src + ip - 1) == load<u8>(src + m - 1)) {
        ip--;
        m--;
        ml++;
      }
      ofValue = off + 3;
      r3 = r2;
      r2 = r1;
      r1 = off;
    }
    // the sequence, and its literals (16 bytes at a time while they stay inside the block)
    const ll = ip - anchor;
    store<u32>(sp, ll);
    store<u32>(sp, ml, 4);
    store<u32>(sp, ofValue, 8);
    sp += 12;
    if (ll <= 16 && anchor + 16 <= end) v128.store(lp, v128.load(src + anchor));
    else memory.copy(lp, src + anchor, ll);
    lp += ll;
    ip += ml;
    anchor = ip;
    if (ip <= ilimit) {
      if (cur0 + 10 <= end) store<u32>(ht + (<usize>hash6(src + cur0 + 2) << 2), cur0 + 3);
      store<u32>(ht + (<usize>hash6(src + ip - 2) << 2), ip - 1);
      // an immediate match at the second repeat offset (no literals: offset value 1 then means rep2)
      while (ip <= ilimit && r2 <= ip && load<u32>(src + ip) == load<u32>(src + ip - r2)) {
        const rl = 4 + matchLength(src + ip + 4, src + ip + 4 - r2, iend);
        const t = r1;
        r1 = r2;
        r2 = t;
        store<u32>(ht + (<usize>hash6(src + ip) << 2), ip + 1);
        store<u32>(sp, 0);
        store<u32>(sp, rl, 4);
        store<u32>(sp, 1, 8);
        sp += 12;
        ip += rl;
        anchor = ip;
      }
    }
  }
  store<u32>(work + K_STATE, r1);
  store<u32>(work + K_STATE, r2, 4);
  store<u32>(work + K_STATE, r3, 8);
  nbSeq = <u32>(sp - (work + K_SEQ)) / 12;
  litLen = <u32>(lp - lits);
  return anchor;
}

// ---- FSE tables (zstd's FSE_normalizeCount, FSE_writeNCount, FSE_buildCTable)

/** zstd's FSE_optimalTableLog. */
function optimalLog(maxLog: u32, n: u32, maxSym: u32): u32 {
  const maxBitsSrc = highbit(n - 1) - 2;
  let log = maxLog;
  const minSrc = highbit(n) + 1;
  const minSym = highbit(maxSym) + 2;
  const minBits = minSrc < minSym ? minSrc : minSym;
  if (maxBitsSrc < log) log = maxBitsSrc;
  if (minBits > log) log = minBits;
  if (log < 5) log = 5;
  if (log > 12) log = 12;
  return log;
}

/** K_NORM from K_CNT (symbols 0..maxSym, `total` counted): every symbol present gets at least 1. */
function normalize(maxSym: u32, total: u32, log: u32): void {
  const norm = work + K_NORM;
  const cnt = work + K_CNT;
  const size: u32 = 1 << log;
  let sum: u32 = 0;
  let big: u32 = 0;
  let bigCount: u32 = 0;
  for (let s: u32 = 0; s <= maxSym; s++) {
    const c = load<u32>(cnt + (<usize>s << 2));
    let n: u32 = 0;
    if (c > 0) {
      n = <u32>((<u64>c * size + (total >> 1)) / total);
      if (n == 0) n = 1;
      if (c > bigCount) {
        bigCount = c;
        big = s;
      }
    }
    store<i16>(norm + (<usize>s << 1), <i16>n);
    sum += n;
  }
  while (sum > size) {
    // take from the largest (a symbol forced up to 1 made the sum too large)
    let at: u32 = 0;
    let most: i32 = 0;
    for (let s: u32 = 0; s <= maxSym; s++) {
      const n = <i32>load<i16>(norm + (<usize>s << 1));
      if (n > most) {
        most = n;
        at = s;
      }
    }
    store<i16>(norm + (<usize>at << 1), <i16>(most - 1));
    sum--;
  }
  if (sum < size) store<i16>(norm + (<usize>big << 1), <i16>(<u32>load<i16>(norm + (<usize>big << 1)) + size - sum));
}

/** Writes K_NORM (symbols 0..maxSym, accuracy log) as an FSE table description at op; returns its end. */
function writeNCount(op: usize, maxSym: u32, log: u32): usize {
  const norm = work + K_NORM;
  let c: u64 = <u64>(log - 5);
  let n: u32 = 4;
  const size: i32 = 1 << log;
  let remaining: i32 = size + 1;
  let threshold: i32 = size;
  let nbBits: u32 = log + 1;
  let sym: u32 = 0;
  let prev0 = false;
  while (sym <= maxSym && remaining > 1) {
    if (prev0) {
      let start = sym;
      while (sym <= maxSym && load<i16>(norm + (<usize>sym << 1)) == 0) sym++;
      while (sym >= start + 24) {
        start += 24;
        c |= <u64>0xffff << <u64>n;
        n += 16;
        store<u64>(op, c);
        op += <usize>(n >> 3);
        c >>>= <u64>(n & ~7);
        n &= 7;
      }
      while (sym >= start + 3) {
        start += 3;
        c |= <u64>3 << <u64>n;
        n += 2;
      }
      c |= <u64>(sym - start) << <u64>n;
      n += 2;
    }
    let count = <i32>load<i16>(norm + (<usize>sym << 1));
    sym++;
    const max = 2 * threshold - 1 - remaining;
    remaining -= count < 0 ? -count : count;
    count++;
    if (count >= threshold) count += max;
    c |= <u64>(<u32>count) << <u64>n;
    n += nbBits;
    if (count < max) n--;
    prev0 = count == 1;
    while (remaining < threshold) {
      nbBits--;
      threshold >>= 1;
    }
    if (n >= 32) {
      store<u64>(op, c);
      op += <usize>(n >> 3);
      c >>>= <u64>(n & ~7);
      n &= 7;
    }
  }
  store<u64>(op, c);
  return op + <usize>((n + 7) >> 3);
}

/** Builds the compression table ct from K_NORM (symbols 0..maxSym, accuracy log; -1 is "below 1"). */
function buildCTable(ct: usize, maxSym: u32, log: u32): void {
  const norm = work + K_NORM;
  const spread = work + K_SPREAD;
  const cumul = spread + 512;
  const states = ct + 520;
  const size: u32 = 1 << log;
  const mask = size - 1;
  const step = (size >> 1) + (size >> 3) + 3;
  let high: u32 = size - 1;
  store<u32>(ct, log);
  store<u16>(cumul, 0);
  for (let u: u32 = 1; u <= maxSym + 1; u++) {
    const c = <i32>load<i16>(norm + (<usize>(u - 1) << 1));
    const prev = <u32>load<u16>(cumul + (<usize>(u - 1) << 1));
    if (c == -1) {
      store<u16>(cumul + (<usize>u << 1), <u16>(prev + 1));
      store<u8>(spread + high, <u8>(u - 1));
      high--;
    } else store<u16>(cumul + (<usize>u << 1), <u16>(prev + <u32>c));
  }
  let pos: u32 = 0;
  for (let s: u32 = 0; s <= maxSym; s++) {
    const c = <i32>load<i16>(norm + (<usize>s << 1));
    for (let i = 0; i < c; i++) {
      store<u8>(spread + pos, <u8>s);
      do {
        pos = (pos + step) & mask;
      } while (pos > high);
    }
  }
  for (let u: u32 = 0; u < size; u++) {
    const s = <usize>load<u8>(spread + u);
    const at = <u32>load<u16>(cumul + (s << 1));
    store<u16>(cumul + (s << 1), <u16>(at + 1));
    store<u16>(states + (<usize>at << 1), <u16>(size + u));
  }
  let total: i32 = 0;
  for (let s: u32 = 0; s <= maxSym; s++) {
    const tt = ct + 8 + (<usize>s << 3);
    const c = <i32>load<i16>(norm + (<usize>s << 1));
    if (c == 0) {
      store<u32>(tt, 0);
      store<u32>(tt, ((log + 1) << 16) - size, 4);
    } else if (c == -1 || c == 1) {
      store<i32>(tt, total - 1);
      store<u32>(tt, (log << 16) - size, 4);
      total++;
    } else {
      const maxBitsOut = log - highbit(<u32>c - 1);
      const minStatePlus = <u32>c << maxBitsOut;
      store<i32>(tt, total - c);
      store<u32>(tt, (maxBitsOut << 16) - minStatePlus, 4);
      total += c;
    }
  }
}

/** A table for one symbol (RLE mode): no state bits. */
function rleCTable(ct: usize, sym: u32): void {
  store<u32>(ct, 0);
  store<u32>(ct + 8 + (<usize>sym << 3), 0);
  store<u32>(ct + 8 + (<usize>sym << 3), 0, 4);
  store<u32>(ct + 520, 0);
}

@inline function fseInit(ct: usize, sym: u32): u32 {
  const tt = ct + 8 + (<usize>sym << 3);
  const dfs = load<i32>(tt);
  const dnb = load<u32>(tt, 4);
  const nbOut = (dnb + (1 << 15)) >> 16;
  const v = (nbOut << 16) - dnb;
  return <u32>load<u16>(ct + 520 + (<usize>(<i32>(v >> nbOut) + dfs) << 1));
}

@inline function fseEncode(ct: usize, state: u32, sym: u32): u32 {
  const tt = ct + 8 + (<usize>sym << 3);
  const dfs = load<i32>(tt);
  const nbOut = (state + load<u32>(tt, 4)) >> 16;
  addBits(state, nbOut);
  return <u32>load<u16>(ct + 520 + (<usize>(<i32>(state >> nbOut) + dfs) << 1));
}

// ---- Huffman literals

/** Sorts n u64 keys at p ascending (shell sort: n <= 256). */
function sortKeys(p: usize, n: u32): void {
  for (let g = 0; g < 5; g++) {
    const gap = <u32>load<u8>(SHELL_GAPS + g);
    for (let i = gap; i < n; i++) {
      const v = load<u64>(p + (<usize>i << 3));
      let j = i;
      while (j >= gap && load<u64>(p + (<usize>(j - gap) << 3)) > v) {
        store<u64>(p + (<usize>j << 3), load<u64>(p + (<usize>(j - gap) << 3)));
        j -= gap;
      }
      store<u64>(p + (<usize>j << 3), v);
    }
  }
}

/**
 * Code lengths (at most 11 bits, a complete code) of the symbols counted in K_TOTAL (n >= 2 of
 * them, 0..maxSym) into K_HLEN; returns the longest length.
 */
function huffmanLengths(maxSym: u32): u32 {
  const hist = work + K_TOTAL;
  const keys = work + K_SORT;
  const wt = work + K_NODE;
  const parent = wt + 2048;
  const depth = parent + 1024;
  const len = work + K_HLEN;
  let n: u32 = 0;
  for (let s: u32 = 0; s <= maxSym; s++) {
    const c = load<u32>(hist + (<usize>s << 2));
    store<u8>(len + s, 0);
    if (c > 0) {
      store<u64>(keys + (<usize>n << 3), (<u64>c << 8) | s);
      n++;
    }
  }
  sortKeys(keys, n);
  // two queues: leaves 0..n-1 in increasing weight, internal nodes n.. created in increasing weight
  for (let i: u32 = 0; i < n; i++) store<u32>(wt + (<usize>i << 2), <u32>(load<u64>(keys + (<usize>i << 3)) >>> 8));
  let leaf: u32 = 0;
  let inner: u32 = n;
  let next: u32 = n;
  for (let k: u32 = 0; k + 1 < n; k++) {
    let a: u32;
    let b: u32;
    if (leaf < n && (inner >= next || load<u32>(wt + (<usize>leaf << 2)) <= load<u32>(wt + (<usize>inner << 2)))) a = leaf++;
    else a = inner++;
    if (leaf < n && (inner >= next || load<u32>(wt + (<usize>leaf << 2)) <= load<u32>(wt + (<usize>inner << 2)))) b = leaf++;
    else b = inner++;
    store<u32>(wt + (<usize>next << 2), load<u32>(wt + (<usize>a << 2)) + load<u32>(wt + (<usize>b << 2)));
    store<u16>(parent + (<usize>a << 1), <u16>next);
    store<u16>(parent + (<usize>b << 1), <u16>next);
    next++;
  }
  const root = next - 1;
  store<u8>(depth + root, 0);
  for (let j = <i32>root - 1; j >= 0; j--) store<u8>(depth + <usize>j, load<u8>(depth + <usize>load<u16>(parent + (<usize>j << 1))) + 1);
  // limit to 11 bits: clamp, then lengthen the longest codes below the limit until the code fits again
  const one: u32 = 1 << HUF_MAX_BITS;
  let kraft: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    let d = <u32>load<u8>(depth + i);
    if (d > HUF_MAX_BITS) d = HUF_MAX_BITS;
    store<u8>(depth + i, <u8>d);
    kraft += one >> d;
  }
  while (kraft > one) {
    let best: i32 = -1;
    let bestLen: u32 = 0;
    for (let i: u32 = 0; i < n; i++) {
      const d = <u32>load<u8>(depth + i);
      if (d < HUF_MAX_BITS && d > bestLen) {
        bestLen = d;
        best = <i32>i;
      }
    }
    store<u8>(depth + <usize>best, <u8>(bestLen + 1));
    kraft -= one >> (bestLen + 1);
  }
  // then shorten the most frequent codes while the code is not complete (zstd's weights need it complete)
  while (kraft < one) {
    for (let i = <i32>n - 1; i >= 0 && kraft < one; i--) {
      const d = <u32>load<u8>(depth + <usize>i);
      if (d > 1 && kraft + (one >> d) <= one) {
        kraft += one >> d;
        store<u8>(depth + <usize>i, <u8>(d - 1));
      }
    }
  }
  let maxLen: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const d = <u32>load<u8>(depth + i);
    store<u8>(len + <usize>(load<u64>(keys + (<usize>i << 3)) & 0xff), <u8>d);
    if (d > maxLen) maxLen = d;
  }
  return maxLen;
}

/** Canonical codes (zstd's order: the longest codes first, by symbol) into K_HUF, and the weights into K_WGT. */
function huffmanCodes(maxSym: u32, maxLen: u32): void {
  const len = work + K_HLEN;
  const ct = work + K_HUF;
  const perRank = work + K_NODE; // u16[16] counts, u16[16] next values
  const val = perRank + 32;
  memory.fill(perRank, 0, 64);
  for (let s: u32 = 0; s <= maxSym; s++) {
    const l = <usize>load<u8>(len + s);
    store<u16>(perRank + (l << 1), load<u16>(perRank + (l << 1)) + 1);
  }
  let min: u32 = 0;
  for (let l = maxLen; l > 0; l--) {
    store<u16>(val + (<usize>l << 1), <u16>min);
    min += <u32>load<u16>(perRank + (<usize>l << 1));
    min >>= 1;
  }
  for (let s: u32 = 0; s <= maxSym; s++) {
    const l = <u32>load<u8>(len + s);
    let code: u32 = 0;
    if (l > 0) {
      code = <u32>load<u16>(val + (<usize>l << 1));
      store<u16>(val + (<usize>l << 1), <u16>(code + 1));
    }
    store<u32>(ct + (<usize>s << 2), (code << 8) | l);
    store<u8>(work + K_WGT + s, <u8>(l > 0 ? maxLen + 1 - l : 0));
  }
}

/**
 * The weights of symbols 0..n-1 compressed with FSE (zstd's HUF_compressWeights) at op; returns the bytes
 * written, or 0 when FSE does not apply (one distinct weight, or every weight once).
 */
function compressWeights(op: usize, n: u32): u32 {
  const w = work + K_WGT;
  const cnt = work + K_CNT;
  memory.fill(cnt, 0, 64);
  let maxW: u32 = 0;
  let most: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const x = <usize>load<u8>(w + i);
    const c = load<u32>(cnt + (x << 2)) + 1;
    store<u32>(cnt + (x << 2), c);
    if (c > most) most = c;
    if (<u32>x > maxW) maxW = <u32>x;
  }
  if (most == n || most == 1) return 0;
  const log = optimalLog(6, n, maxW);
  normalize(maxW, n, log);
  let p = writeNCount(op, maxW, log);
  const ct = work + K_CT_WT;
  buildCTable(ct, maxW, log);
  // two interleaved states, the last symbols first (zstd's FSE_compress_usingCTable)
  wC = 0;
  wN = 0;
  wP = p;
  let i = n;
  let s1: u32;
  let s2: u32;
  if (n & 1) {
    s1 = fseInit(ct, load<u8>(w + --i));
    s2 = fseInit(ct, load<u8>(w + --i));
    s1 = fseEncode(ct, s1, load<u8>(w + --i));
    flushBits();
  } else {
    s2 = fseInit(ct, load<u8>(w + --i));
    s1 = fseInit(ct, load<u8>(w + --i));
  }
  while (i > 0) {
    s2 = fseEncode(ct, s2, load<u8>(w + --i));
    s1 = fseEncode(ct, s1, load<u8>(w + --i));
    flushBits();
  }
  addBits(s2, log);
  addBits(s1, log);
  p = closeBits();
  return <u32>(p - op);
}

function rawLiterals(op: usize, lit: usize, n: u32, type: u32): usize {
  if (n < 32) {
    store<u8>(op, <u8>(type | (n << 3)));
    op += 1;
  } else if (n < 4096) {
    store<u16>(op, <u16>(type | (1 << 2) | (n << 4)));
    op += 2;
  } else {
    const h = type | (3 << 2) | (n << 4);
    store<u16>(op, <u16>h);
    store<u8>(op, <u8>(h >> 16), 2);
    op += 3;
  }
  if (type == 1) {
    store<u8>(op, load<u8>(lit));
    return op + 1;
  }
  memory.copy(op, lit, n);
  return op + n;
}

/** Counts the n bytes at lit into the histogram at h (u32[256]). */
function count1(h: usize, lit: usize, n: u32): void {
  let i: u32 = 0;
  for (; i + 8 <= n; i += 8) {
    const v = load<u64>(lit + i);
    for (let k: u64 = 0; k < 64; k += 8) {
      const a = h + (<usize>(<u32>(v >> k) & 0xff) << 2);
      store<u32>(a, load<u32>(a) + 1);
    }
  }
  for (; i < n; i++) {
    const a = h + (<usize>load<u8>(lit + i) << 2);
    store<u32>(a, load<u32>(a) + 1);
  }
}

/** Counts the four segments of seg bytes from lit (the last one `last` bytes) into K_HIST's four histograms at once. */
function count4(lit: usize, seg: u32, last: u32): void {
  const h = work + K_HIST;
  let i: u32 = 0;
  for (; i + 8 <= last; i += 8) {
    const v0 = load<u64>(lit + i);
    const v1 = load<u64>(lit + seg + i);
    const v2 = load<u64>(lit + 2 * seg + i);
    const v3 = load<u64>(lit + 3 * seg + i);
    for (let k: u64 = 0; k < 64; k += 8) {
      const a0 = h + (<usize>(<u32>(v0 >> k) & 0xff) << 2);
      store<u32>(a0, load<u32>(a0) + 1);
      const a1 = h + 1024 + (<usize>(<u32>(v1 >> k) & 0xff) << 2);
      store<u32>(a1, load<u32>(a1) + 1);
      const a2 = h + 2048 + (<usize>(<u32>(v2 >> k) & 0xff) << 2);
      store<u32>(a2, load<u32>(a2) + 1);
      const a3 = h + 3072 + (<usize>(<u32>(v3 >> k) & 0xff) << 2);
      store<u32>(a3, load<u32>(a3) + 1);
    }
  }
  count1(h, lit + i, seg - i);
  count1(h + 1024, lit + seg + i, seg - i);
  count1(h + 2048, lit + 2 * seg + i, seg - i);
  count1(h + 3072, lit + 3 * seg + i, last - i);
}

/** Bits of the stream whose symbols histogram h counts (the codes of K_HUF), with its end mark. */
function streamBits(h: usize, maxSym: u32): u64 {
  const ct = work + K_HUF;
  let bits: u64 = 1;
  for (let s: u32 = 0; s <= maxSym; s++) bits += <u64>load<u32>(h + (<usize>s << 2)) * (load<u32>(ct + (<usize>s << 2)) & 0xff);
  return bits;
}

/** The code table entry (code << 8 | bits) of the byte at p. */
@inline function hufEntry(ct: usize, p: usize): u32 {
  return load<u32>(ct + (<usize>load<u8>(p) << 2));
}

/**
 * The four Huffman streams of the n literals at lit (segments of seg, the last shorter), whose sizes are
 * size0..size2 (and the rest), at p: encoded together (four independent dependency chains), then each
 * finished alone. A stream's 8-byte stores reach 8 bytes past its end, into the next stream's first bytes,
 * only while it is finished: those are saved before and put back after. Returns the end, or 0 when a stream
 * did not come out at its predicted size (never expected: the caller then stores the literals raw).
 */
function huffman4(p: usize, lit: usize, n: u32, seg: u32, size0: u32, size1: u32, size2: u32, end: usize): usize {
  const last = n - 3 * seg;
  const l1 = lit + seg;
  const l2 = l1 + seg;
  const l3 = l2 + seg;
  let q0 = p;
  const start1 = p + size0;
  const start2 = start1 + size1;
  const start3 = start2 + size2;
  let q1 = start1;
  let q2 = start2;
  let q3 = start3;
  let c0: u64 = 0, c1: u64 = 0, c2: u64 = 0, c3: u64 = 0;
  let b0: u32 = 0, b1: u32 = 0, b2: u32 = 0, b3: u32 = 0;
  // the first three streams' extra symbols (their segments are up to 3 longer than the last)
  const ct = work + K_HUF;
  for (let i = seg; i > last; i--) {
    let e = hufEntry(ct, lit + i - 1);
    c0 |= <u64>(e >> 8) << <u64>b0;
    b0 += e & 0xff;
    e = hufEntry(ct, l1 + i - 1);
    c1 |= <u64>(e >> 8) << <u64>b1;
    b1 += e & 0xff;
    e = hufEntry(ct, l2 + i - 1);
    c2 |= <u64>(e >> 8) << <u64>b2;
    b2 += e & 0xff;
  }
  let i = last;
  // four symbols of each stream per round, while every stream is more than 8 bytes from its end
  while (i >= 84) {
    const e01 = hufEntry(ct, lit + i - 1);
    const e11 = hufEntry(ct, l1 + i - 1);
    const e21 = hufEntry(ct, l2 + i - 1);
    const e31 = hufEntry(ct, l3 + i - 1);
    c0 |= <u64>(e01 >> 8) << <u64>b0;
    b0 += e01 & 0xff;
    c1 |= <u64>(e11 >> 8) << <u64>b1;
    b1 += e11 & 0xff;
    c2 |= <u64>(e21 >> 8) << <u64>b2;
    b2 += e21 & 0xff;
    c3 |= <u64>(e31 >> 8) << <u64>b3;
    b3 += e31 & 0xff;
    const e02 = hufEntry(ct, lit + i - 2);
    const e12 = hufEntry(ct, l1 + i - 2);
    const e22 = hufEntry(ct, l2 + i - 2);
    const e32 = hufEntry(ct, l3 + i - 2);
    c0 |= <u64>(e02 >> 8) << <u64>b0;
    b0 += e02 & 0xff;
    c1 |= <u64>(e12 >> 8) << <u64>b1;
    b1 += e12 & 0xff;
    c2 |= <u64>(e22 >> 8) << <u64>b2;
    b2 += e22 & 0xff;
    c3 |= <u64>(e32 >> 8) << <u64>b3;
    b3 += e32 & 0xff;
    const e03 = hufEntry(ct, lit + i - 3);
    const e13 = hufEntry(ct, l1 + i - 3);
    const e23 = hufEntry(ct, l2 + i - 3);
    const e33 = hufEntry(ct, l3 + i - 3);
    c0 |= <u64>(e03 >> 8) << <u64>b0;
    b0 += e03 & 0xff;
    c1 |= <u64>(e13 >> 8) << <u64>b1;
    b1 += e13 & 0xff;
    c2 |= <u64>(e23 >> 8) << <u64>b2;
    b2 += e23 & 0xff;
    c3 |= <u64>(e33 >> 8) << <u64>b3;
    b3 += e33 & 0xff;
    const e04 = hufEntry(ct, lit + i - 4);
    const e14 = hufEntry(ct, l1 + i - 4);
    const e24 = hufEntry(ct, l2 + i - 4);
    const e34 = hufEntry(ct, l3 + i - 4);
    c0 |= <u64>(e04 >> 8) << <u64>b0;
    b0 += e04 & 0xff;
    c1 |= <u64>(e14 >> 8) << <u64>b1;
    b1 += e14 & 0xff;
    c2 |= <u64>(e24 >> 8) << <u64>b2;
    b2 += e24 & 0xff;
    c3 |= <u64>(e34 >> 8) << <u64>b3;
    b3 += e34 & 0xff;
    i -= 4;
    store<u64>(q0, c0);
    q0 += <usize>(b0 >> 3);
    c0 >>>= <u64>(b0 & ~7);
    b0 &= 7;
    store<u64>(q1, c1);
    q1 += <usize>(b1 >> 3);
    c1 >>>= <u64>(b1 & ~7);
    b1 &= 7;
    store<u64>(q2, c2);
    q2 += <usize>(b2 >> 3);
    c2 >>>= <u64>(b2 & ~7);
    b2 &= 7;
    store<u64>(q3, c3);
    q3 += <usize>(b3 >> 3);
    c3 >>>= <u64>(b3 & ~7);
    b3 &= 7;
  }
  const save1 = load<u64>(start1);
  const save2 = load<u64>(start2);
  const save3 = load<u64>(start3);
  if (hufFinish(q0, c0, b0, lit, i) != start1) return 0;
  store<u64>(start1, save1);
  if (hufFinish(q1, c1, b1, l1, i) != start2) return 0;
  store<u64>(start2, save2);
  if (hufFinish(q2, c2, b2, l2, i) != start3) return 0;
  store<u64>(start3, save3);
  if (hufFinish(q3, c3, b3, l3, i) != end) return 0;
  return end;
}

/** Finishes a Huffman stream (pending bits c, b at q): symbols i-1 down to 0 of lit, then the end mark; returns its end. */
function hufFinish(q: usize, c: u64, b: u32, lit: usize, i: u32): usize {
  // flush what is pending first: at most 3 more symbols (33 bits) are added before the next flush
  store<u64>(q, c);
  q += <usize>(b >> 3);
  c >>>= <u64>(b & ~7);
  b &= 7;
  const ct = work + K_HUF;
  while (i & 3) {
    i--;
    const e = hufEntry(ct, lit + i);
    c |= <u64>(e >> 8) << <u64>b;
    b += e & 0xff;
  }
  store<u64>(q, c);
  q += <usize>(b >> 3);
  c = b >= 64 ? 0 : c >>> <u64>(b & ~7);
  b &= 7;
  while (i > 0) {
    const e1 = hufEntry(ct, lit + i - 1);
    const e2 = hufEntry(ct, lit + i - 2);
    const e3 = hufEntry(ct, lit + i - 3);
    const e4 = hufEntry(ct, lit + i - 4);
    c |= <u64>(e1 >> 8) << <u64>b;
    b += e1 & 0xff;
    c |= <u64>(e2 >> 8) << <u64>b;
    b += e2 & 0xff;
    c |= <u64>(e3 >> 8) << <u64>b;
    b += e3 & 0xff;
    c |= <u64>(e4 >> 8) << <u64>b;
    b += e4 & 0xff;
    i -= 4;
    store<u64>(q, c);
    q += <usize>(b >> 3);
    c >>>= <u64>(b & ~7);
    b &= 7;
  }
  c |= <u64>1 << <u64>b;
  b++;
  store<u64>(q, c);
  q += <usize>(b >> 3);
  return q + ((b & 7) != 0 ? 1 : 0);
}

/** The literals section of a block (n literals at lit) at op; returns its end. */
function encodeLiterals(op: usize, lit: usize, n: u32): usize {
  if (n <= MIN_LITERALS_HUF) return rawLiterals(op, lit, n, 0);
  const four = n >= 256;
  const seg = (n + 3) >> 2;
  const hist = work + K_HIST;
  const total = work + K_TOTAL;
  memory.fill(hist, 0, 4096);
  if (four) count4(lit, seg, n - 3 * seg);
  else count1(hist, lit, n);
  let maxSym: u32 = 0;
  let most: u32 = 0;
  for (let s: u32 = 0; s < 256; s++) {
    const k = <usize>s << 2;
    const c = load<u32>(hist + k) + load<u32>(hist + 1024 + k) + load<u32>(hist + 2048 + k) + load<u32>(hist + 3072 + k);
    store<u32>(total + k, c);
    if (c > 0) {
      maxSym = s;
      if (c > most) most = c;
    }
  }
  if (most == n) return rawLiterals(op, lit, n, 1);
  if (most <= (n >> 7) + 4) return rawLiterals(op, lit, n, 0); // zstd: not compressible enough
  const maxLen = huffmanLengths(maxSym);
  huffmanCodes(maxSym, maxLen);
  const minGain = (n >> 6) + 2;
  // the streams' exact sizes, known before writing them (so they never pass the raw size)
  let sz0: u32 = 0, sz1: u32 = 0, sz2: u32 = 0, streams: u32;
  if (four) {
    sz0 = <u32>((streamBits(hist, maxSym) + 7) >> 3);
    sz1 = <u32>((streamBits(hist + 1024, maxSym) + 7) >> 3);
    sz2 = <u32>((streamBits(hist + 2048, maxSym) + 7) >> 3);
    streams = 6 + sz0 + sz1 + sz2 + <u32>((streamBits(hist + 3072, maxSym) + 7) >> 3);
  } else streams = <u32>((streamBits(total, maxSym) + 7) >> 3);
  const lh: u32 = 3 + (n >= 1024 ? 1 : 0) + (n >= 16384 ? 1 : 0);
  if (streams + 2 >= n - minGain) return rawLiterals(op, lit, n, 0);
  // the tree description: FSE-compressed weights, or 4 bits each (at most 128 weights)
  const tree = op + lh;
  let tsize = compressWeights(tree + 1, maxSym);
  if (tsize > 1 && tsize < maxSym / 2 && tsize < 128) {
    store<u8>(tree, <u8>tsize);
    tsize++;
  } else if (maxSym <= 128) {
    store<u8>(tree, <u8>(127 + maxSym));
    const w = work + K_WGT;
    store<u8>(w + maxSym, 0);
    for (let k: u32 = 0; k < maxSym; k += 2) store<u8>(tree + 1 + (k >> 1), (load<u8>(w + k) << 4) | load<u8>(w + k + 1));
    tsize = 1 + ((maxSym + 1) >> 1);
  } else return rawLiterals(op, lit, n, 0);
  const csize = tsize + streams;
  if (csize >= n - minGain) return rawLiterals(op, lit, n, 0);
  const p = tree + tsize;
  let end = p + streams;
  if (four) {
    store<u16>(p, <u16>sz0);
    store<u16>(p, <u16>sz1, 2);
    store<u16>(p, <u16>sz2, 4);
    if (n >= 4096) end = huffman4(p + 6, lit, n, seg, sz0, sz1, sz2, end);
    else {
      // small: one stream after another (each one's stray bytes land where the next is written after)
      const s1 = hufFinish(p + 6, 0, 0, lit, seg);
      const s2 = hufFinish(s1, 0, 0, lit + seg, seg);
      const s3 = hufFinish(s2, 0, 0, lit + 2 * seg, seg);
      if (s1 != p + 6 + sz0 || s2 != s1 + sz1 || s3 != s2 + sz2 || hufFinish(s3, 0, 0, lit + 3 * seg, n - 3 * seg) != end) end = 0;
    }
  } else if (hufFinish(p, 0, 0, lit, n) != end) end = 0;
  if (end == 0) return rawLiterals(op, lit, n, 0);
  // the header: type 2 (compressed), the size format, then the regenerated and compressed sizes
  if (lh == 3) {
    const h: u32 = 2 | ((four ? 1 : 0) << 2) | (n << 4) | (csize << 14);
    store<u16>(op, <u16>h);
    store<u8>(op, <u8>(h >> 16), 2);
  } else if (lh == 4) store<u32>(op, 2 | (2 << 2) | (n << 4) | (csize << 18));
  else {
    store<u32>(op, 2 | (3 << 2) | (n << 4) | (csize << 22));
    store<u8>(op, <u8>(csize >> 10), 4);
  }
  return end;
}

// ---- sequences

@inline function llCode(ll: u32): u32 {
  return ll < 64 ? <u32>load<u8>(LL_CODE + ll) : highbit(ll) + 19;
}

@inline function mlCode(mlBase: u32): u32 {
  return mlBase < 128 ? <u32>load<u8>(ML_CODE + mlBase) : highbit(mlBase) + 36;
}

/**
 * Chooses the table of one field from its histogram at cnt (u32[64], symbols up to top; most of `mostSym`)
 * (zstd's ZSTD_selectEncodingType for its fast strategies): RLE for one symbol, the predefined table for few
 * or evenly spread codes, else a table of its own written at op. Builds ct; returns mode | (bytes written << 8).
 */
function chooseTable(cnt: usize, n: u32, maxSym: u32, def: usize, defLog: u32, maxLog: u32, ct: usize, op: usize): u32 {
  let most: u32 = 0;
  let top: u32 = 0;
  let mostSym: u32 = 0;
  for (let s: u32 = 0; s <= maxSym; s++) {
    const c = load<u32>(cnt + (<usize>s << 2));
    if (c > most) {
      most = c;
      mostSym = s;
    }
    if (c > 0) top = s;
  }
  if (most == n && n > 2) {
    store<u8>(op, <u8>mostSym);
    rleCTable(ct, mostSym);
    return 1 | (1 << 8);
  }
  const dynamicMin = ((<u32>1 << defLog) * 9) >> 3;
  if (n < dynamicMin || most < (n >> (defLog - 1))) {
    memory.copy(work + K_NORM, def, <usize>(maxSym + 1) << 1);
    buildCTable(ct, maxSym, defLog);
    return 0;
  }
  const log = optimalLog(maxLog, n, top);
  memory.copy(work + K_CNT, cnt, <usize>(top + 1) << 2);
  normalize(top, n, log);
  const end = writeNCount(op, top, log);
  buildCTable(ct, top, log);
  return 2 | (<u32>(end - op) << 8);
}

/** The sequences section at op (nothing past limit + SLACK); returns its end, or 0 when it passes limit. */
function encodeSequences(op: usize, limit: usize): usize {
  const n = nbSeq;
  if (n < 128) {
    store<u8>(op, <u8>n);
    op += 1;
  } else if (n < 0x7f00) {
    store<u8>(op, <u8>((n >> 8) + 0x80));
    store<u8>(op, <u8>n, 1);
    op += 2;
  } else {
    store<u8>(op, 0xff);
    store<u16>(op, <u16>(n - 0x7f00), 1);
    op += 3;
  }
  if (n == 0) return op;
  const seq = work + K_SEQ;
  const llc = work + K_LLC;
  const mlc = work + K_MLC;
  const ofc = work + K_OFC;
  // the codes, and their histograms (u32[64] each, in K_HIST)
  const hLL = work + K_HIST;
  const hML = hLL + 256;
  const hOF = hML + 256;
  memory.fill(hLL, 0, 768);
  for (let i: u32 = 0; i < n; i++) {
    const q = seq + <usize>i * 12;
    const a = llCode(load<u32>(q));
    const b = mlCode(load<u32>(q, 4) - 3);
    const c = highbit(load<u32>(q, 8));
    store<u8>(llc + i, <u8>a);
    store<u8>(mlc + i, <u8>b);
    store<u8>(ofc + i, <u8>c);
    store<u32>(hLL + (<usize>a << 2), load<u32>(hLL + (<usize>a << 2)) + 1);
    store<u32>(hML + (<usize>b << 2), load<u32>(hML + (<usize>b << 2)) + 1);
    store<u32>(hOF + (<usize>c << 2), load<u32>(hOF + (<usize>c << 2)) + 1);
  }
  const modes = op;
  op += 1;
  const cLL = work + K_CT_LL;
  const cML = work + K_CT_ML;
  const cOF = work + K_CT_OF;
  const mLL = chooseTable(hLL, n, 35, LL_DEFAULT, 6, 9, cLL, op);
  op += <usize>(mLL >> 8);
  const mOF = chooseTable(hOF, n, 28, OF_DEFAULT, 5, 8, cOF, op);
  op += <usize>(mOF >> 8);
  const mML = chooseTable(hML, n, 52, ML_DEFAULT, 6, 9, cML, op);
  op += <usize>(mML >> 8);
  store<u8>(modes, <u8>(((mLL & 3) << 6) | ((mOF & 3) << 4) | ((mML & 3) << 2)));
  if (op >= limit) return 0;
  // the last sequence first: its states start from its symbols, then every earlier one (zstd's
  // ZSTD_encodeSequences); the bit container in locals, flushed twice a sequence (offset codes stay <= 24)
  let i = n - 1;
  let q = seq + <usize>i * 12;
  let sML = fseInit(cML, load<u8>(mlc + i));
  let sOF = fseInit(cOF, load<u8>(ofc + i));
  let sLL = fseInit(cLL, load<u8>(llc + i));
  let c: u64 = 0;
  let nb: u32 = 0;
  let p = op;
  {
    const lc = <usize>load<u8>(llc + i);
    const mc = <usize>load<u8>(mlc + i);
    const lb = <u32>load<u8>(LL_BITS + lc);
    const mb = <u32>load<u8>(ML_BITS + mc);
    c |= <u64>(load<u32>(q) - load<u32>(LL_BASE + (lc << 2))) << <u64>nb;
    nb += lb;
    c |= <u64>(load<u32>(q, 4) - load<u32>(ML_BASE + (mc << 2))) << <u64>nb;
    nb += mb;
    store<u64>(p, c);
    p += <usize>(nb >> 3);
    c >>>= <u64>(nb & ~7);
    nb &= 7;
    const ob = <u32>load<u8>(ofc + i);
    c |= <u64>(load<u32>(q, 8) & ((<u32>1 << ob) - 1)) << <u64>nb;
    nb += ob;
    store<u64>(p, c);
    p += <usize>(nb >> 3);
    c >>>= <u64>(nb & ~7);
    nb &= 7;
  }
  const stLL = cLL + 520;
  const stML = cML + 520;
  const stOF = cOF + 520;
  while (i > 0) {
    i--;
    q -= 12;
    const lc = <usize>load<u8>(llc + i);
    const mc = <usize>load<u8>(mlc + i);
    const oc = <usize>load<u8>(ofc + i);
    // the three states: offset, match length, literal length
    let tt = cOF + 8 + (oc << 3);
    let k = (sOF + load<u32>(tt, 4)) >> 16;
    c |= <u64>(sOF & ((<u32>1 << k) - 1)) << <u64>nb;
    nb += k;
    sOF = <u32>load<u16>(stOF + (<usize>(<i32>(sOF >> k) + load<i32>(tt)) << 1));
    tt = cML + 8 + (mc << 3);
    k = (sML + load<u32>(tt, 4)) >> 16;
    c |= <u64>(sML & ((<u32>1 << k) - 1)) << <u64>nb;
    nb += k;
    sML = <u32>load<u16>(stML + (<usize>(<i32>(sML >> k) + load<i32>(tt)) << 1));
    tt = cLL + 8 + (lc << 3);
    k = (sLL + load<u32>(tt, 4)) >> 16;
    c |= <u64>(sLL & ((<u32>1 << k) - 1)) << <u64>nb;
    nb += k;
    sLL = <u32>load<u16>(stLL + (<usize>(<i32>(sLL >> k) + load<i32>(tt)) << 1));
    // then the literal length's extra bits; flush; the match length's and the offset's; flush
    c |= <u64>(load<u32>(q) - load<u32>(LL_BASE + (lc << 2))) << <u64>nb;
    nb += <u32>load<u8>(LL_BITS + lc);
    store<u64>(p, c);
    p += <usize>(nb >> 3);
    c >>>= <u64>(nb & ~7);
    nb &= 7;
    c |= <u64>(load<u32>(q, 4) - load<u32>(ML_BASE + (mc << 2))) << <u64>nb;
    nb += <u32>load<u8>(ML_BITS + mc);
    c |= <u64>(load<u32>(q, 8) & ((<u32>1 << <u32>oc) - 1)) << <u64>nb;
    nb += <u32>oc;
    store<u64>(p, c);
    p += <usize>(nb >> 3);
    c >>>= <u64>(nb & ~7);
    nb &= 7;
    if (p >= limit) return 0;
  }
  wC = c;
  wN = nb;
  wP = p;
  addBits(sML, load<u32>(cML));
  addBits(sOF, load<u32>(cOF));
  flushBits();
  addBits(sLL, load<u32>(cLL));
  const end = closeBits();
  return end >= limit ? 0 : end;
}

// ---- blocks and frames

/** True when the n bytes at p are all one value. */
function oneByte(p: usize, n: u32): bool {
  const b = <u64>load<u8>(p);
  const pat = b * 0x0101010101010101;
  let i: u32 = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(p + i) != pat) return false;
  for (; i < n; i++) if (<u64>load<u8>(p + i) != b) return false;
  return true;
}

/** One block [start, end) of the chunk at src, at op; returns its end. */
function encodeBlock(op: usize, src: usize, start: u32, end: u32, last: u32, window: u32): usize {
  const size = end - start;
  if (size > 0 && oneByte(src + start, size)) {
    const h = last | (1 << 1) | (size << 3);
    store<u16>(op, <u16>h);
    store<u8>(op, <u8>(h >> 16), 2);
    store<u8>(op, load<u8>(src + start), 3);
    return op + 4;
  }
  const anchor = size > 0 ? findSequences(src, start, end, window) : end;
  const tail = end - anchor;
  let lit: usize;
  if (nbSeq == 0) lit = src + start;
  else {
    memory.copy(work + K_LIT + litLen, src + anchor, tail);
    lit = work + K_LIT;
  }
  const nLit = litLen + tail;
  const limit = op + 3 + size - ((size >> 6) + 2); // a compressed block must gain this much
  let ok = size > 0 && !(nbSeq == 0 && nLit < 64);
  let p: usize = 0;
  if (ok) {
    p = encodeLiterals(op + 3, lit, nLit);
    ok = p < limit;
  }
  if (ok) {
    p = encodeSequences(p, limit);
    ok = p != 0;
  }
  if (ok) {
    const h = last | (2 << 1) | (<u32>(p - op - 3) << 3);
    store<u16>(op, <u16>h);
    store<u8>(op, <u8>(h >> 16), 2);
    return p;
  }
  const h = last | (size << 3);
  store<u16>(op, <u16>h);
  store<u8>(op, <u8>(h >> 16), 2);
  memory.copy(op + 3, src + start, size);
  return op + 3 + size;
}

/** Bytes of workspace zstdCompress needs. */
export function zstdCompressWorkBytes(): u32 {
  return WORK_BYTES;
}

/** Bytes of dst that zstdCompress of `n` bytes of a chunk (a part or all of it) needs at most. */
export function zstdCompressBound(n: u32): u32 {
  return n + 3 * ((n + BLOCK_MAX - 1) / BLOCK_MAX + 1) + 18 + SLACK;
}

/**
 * Compresses bytes [from, to) of the `total`-byte chunk at src into dst (cap bytes, at least
 * zstdCompressBound(to - from)), with the workspace at wk: from 0 the frame header first, up to total the
 * last block. from must be a multiple of 128 KiB, and each part must follow the previous one (the
 * workspace keeps the match finder's state between them). Returns the bytes written, or a negative code.
 */
export function zstdCompress(dst: u32, cap: u32, src: u32, from: u32, to: u32, total: u32, wk: u32): i32 {
  work = <usize>wk;
  if (from > to || to > total || from % BLOCK_MAX != 0) return E_ARGUMENT;
  if (cap < zstdCompressBound(to - from)) return E_DST_SIZE;
  let op = <usize>dst;
  const single = total <= (<u32>1 << WINDOW_LOG);
  const window: u32 = single ? total : <u32>1 << WINDOW_LOG;
  if (from == 0) {
    memory.fill(work + K_HASH, 0, 4 << HASH_LOG);
    store<u32>(work + K_STATE, 1);
    store<u32>(work + K_STATE, 4, 4);
    store<u32>(work + K_STATE, 8, 8);
    store<u32>(op, 0xfd2fb528);
    op += 4;
    const fcs: u32 = single && total < 256 ? 0 : total < 65536 + 256 ? 1 : 2;
    store<u8>(op, <u8>((fcs << 6) | (single ? 0x20 : 0)));
    op += 1;
    if (!single) {
      store<u8>(op, <u8>((WINDOW_LOG - 10) << 3));
      op += 1;
    }
    if (fcs == 0) {
      store<u8>(op, <u8>total);
      op += 1;
    } else if (fcs == 1) {
      store<u16>(op, <u16>(total - 256));
      op += 2;
    } else {
      store<u32>(op, total);
      op += 4;
    }
    if (total == 0) {
      store<u16>(op, 1);
      store<u8>(op, 0, 2);
      return <i32>(op + 3 - <usize>dst);
    }
  }
  let at = from;
  while (at < to) {
    const end = to - at > BLOCK_MAX ? at + BLOCK_MAX : to;
    op = encodeBlock(op, <usize>src, at, end, end == total ? 1 : 0, window);
    at = end;
  }
  return <i32>(op - <usize>dst);
}
