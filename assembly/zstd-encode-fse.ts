// The zstd encoder's FSE parts: tables from counts (zstd's FSE_optimalTableLog, FSE_normalizeCount,
// FSE_writeNCount, FSE_buildCTable), and a block's sequences section (zstd's ZSTD_selectEncodingType for
// its fast strategies and ZSTD_encodeSequences).

import { LL_BASE, LL_BITS, LL_DEFAULT, ML_BASE, ML_BITS, ML_DEFAULT, OF_DEFAULT } from "./zstd";
import { K_CNT, K_CT_LL, K_CT_ML, K_CT_OF, K_SEQHIST, K_LLC, K_MLC, K_NORM, K_OFC, K_SEQ, K_SPREAD, SLACK, addBits, bitsAt, closeBits, flushBits, highbit, work } from "./zstd-encode-state";
import { nbSeq } from "./zstd-encode-match";


/** zstd's FSE_optimalTableLog. */
export function optimalLog(maxLog: u32, n: u32, maxSym: u32): u32 {
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
export function normalize(maxSym: u32, total: u32, log: u32): void {
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
export function writeNCount(op: usize, maxSym: u32, log: u32): usize {
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
export function buildCTable(ct: usize, maxSym: u32, log: u32): void {
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
export function rleCTable(ct: usize, sym: u32): void {
  store<u32>(ct, 0);
  store<u32>(ct + 8 + (<usize>sym << 3), 0);
  store<u32>(ct + 8 + (<usize>sym << 3), 0, 4);
  store<u32>(ct + 520, 0);
}

@inline export function fseInit(ct: usize, sym: u32): u32 {
  const tt = ct + 8 + (<usize>sym << 3);
  const dfs = load<i32>(tt);
  const dnb = load<u32>(tt, 4);
  const nbOut = (dnb + (1 << 15)) >> 16;
  const v = (nbOut << 16) - dnb;
  return <u32>load<u16>(ct + 520 + (<usize>(<i32>(v >> nbOut) + dfs) << 1));
}

@inline export function fseEncode(ct: usize, state: u32, sym: u32): u32 {
  const tt = ct + 8 + (<usize>sym << 3);
  const dfs = load<i32>(tt);
  const nbOut = (state + load<u32>(tt, 4)) >> 16;
  addBits(state, nbOut);
  return <u32>load<u16>(ct + 520 + (<usize>(<i32>(state >> nbOut) + dfs) << 1));
}

// ---- sequences

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
export function encodeSequences(op: usize, limit: usize): usize {
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
  // the codes and their histograms, from findSequences
  const hLL = work + K_SEQHIST;
  const hML = hLL + 256;
  const hOF = hML + 256;
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
  bitsAt(p, c, nb);
  addBits(sML, load<u32>(cML));
  addBits(sOF, load<u32>(cOF));
  flushBits();
  addBits(sLL, load<u32>(cLL));
  const end = closeBits();
  return end >= limit ? 0 : end;
}

