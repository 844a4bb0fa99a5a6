// The zstd encoder's literals section: Huffman codes of at most 11 bits (a two-queue Huffman tree, then
// lengths limited and the code made complete), their weights FSE-compressed (zstd's HUF_compressWeights)
// or 4 bits each, and four streams encoded together; raw or RLE literals when those are smaller.

import { HUF_MAX_BITS, K_CNT, K_CT_WT, K_HIST, K_HLEN, K_HUF, K_NODE, K_SORT, K_TOTAL, K_WGT, MIN_LITERALS_HUF, SHELL_GAPS, addBits, bitsAt, closeBits, flushBits, work } from "./zstd-encode-state";
import { buildCTable, fseEncode, fseInit, normalize, optimalLog, writeNCount } from "./zstd-encode-fse";


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
  bitsAt(p, 0, 0);
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
    // four literals of each stream in one load: the highest first
    const v0 = load<u32>(lit + i - 4);
    const v1 = load<u32>(l1 + i - 4);
    const v2 = load<u32>(l2 + i - 4);
    const v3 = load<u32>(l3 + i - 4);
    const e01 = load<u32>(ct + <usize>((v0 >> 22) & 0x3fc));
    const e11 = load<u32>(ct + <usize>((v1 >> 22) & 0x3fc));
    const e21 = load<u32>(ct + <usize>((v2 >> 22) & 0x3fc));
    const e31 = load<u32>(ct + <usize>((v3 >> 22) & 0x3fc));
    c0 |= <u64>(e01 >> 8) << <u64>b0;
    b0 += e01 & 0xff;
    c1 |= <u64>(e11 >> 8) << <u64>b1;
    b1 += e11 & 0xff;
    c2 |= <u64>(e21 >> 8) << <u64>b2;
    b2 += e21 & 0xff;
    c3 |= <u64>(e31 >> 8) << <u64>b3;
    b3 += e31 & 0xff;
    const e02 = load<u32>(ct + <usize>((v0 >> 14) & 0x3fc));
    const e12 = load<u32>(ct + <usize>((v1 >> 14) & 0x3fc));
    const e22 = load<u32>(ct + <usize>((v2 >> 14) & 0x3fc));
    const e32 = load<u32>(ct + <usize>((v3 >> 14) & 0x3fc));
    c0 |= <u64>(e02 >> 8) << <u64>b0;
    b0 += e02 & 0xff;
    c1 |= <u64>(e12 >> 8) << <u64>b1;
    b1 += e12 & 0xff;
    c2 |= <u64>(e22 >> 8) << <u64>b2;
    b2 += e22 & 0xff;
    c3 |= <u64>(e32 >> 8) << <u64>b3;
    b3 += e32 & 0xff;
    const e03 = load<u32>(ct + <usize>((v0 >> 6) & 0x3fc));
    const e13 = load<u32>(ct + <usize>((v1 >> 6) & 0x3fc));
    const e23 = load<u32>(ct + <usize>((v2 >> 6) & 0x3fc));
    const e33 = load<u32>(ct + <usize>((v3 >> 6) & 0x3fc));
    c0 |= <u64>(e03 >> 8) << <u64>b0;
    b0 += e03 & 0xff;
    c1 |= <u64>(e13 >> 8) << <u64>b1;
    b1 += e13 & 0xff;
    c2 |= <u64>(e23 >> 8) << <u64>b2;
    b2 += e23 & 0xff;
    c3 |= <u64>(e33 >> 8) << <u64>b3;
    b3 += e33 & 0xff;
    const e04 = load<u32>(ct + <usize>((v0 << 2) & 0x3fc));
    const e14 = load<u32>(ct + <usize>((v1 << 2) & 0x3fc));
    const e24 = load<u32>(ct + <usize>((v2 << 2) & 0x3fc));
    const e34 = load<u32>(ct + <usize>((v3 << 2) & 0x3fc));
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
export function encodeLiterals(op: usize, lit: usize, n: u32): usize {
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

