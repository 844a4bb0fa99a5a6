// The zstd encoder's match finder: zstd's level-1 "fast" strategy (ZSTD_compressBlock_fast): a hash table
// of 6-byte prefixes (every position hashed while matches come often), a repeat-offset check ahead of the
// lookups, a step that grows by one every 128 bytes without a match (random doubles are crossed in a few
// thousand probes per block), an immediate check of the second repeat offset after each match.

import { HASH_LOG, K_HASH, K_LIT, K_LLC, K_MLC, K_OFC, K_SEQ, K_SEQHIST, K_STATE, LL_CODE, ML_CODE, highbit, work } from "./zstd-encode-state";

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

/** Stores the codes of a sequence (index i) and counts them (zstd's ZSTD_seqToCodes, done as it is found). */
@inline function addCodes(i: u32, ll: u32, ml: u32, ofValue: u32): void {
  const mb = ml - 3;
  const lc = ll < 64 ? <u32>load<u8>(LL_CODE + ll) : highbit(ll) + 19;
  const mc = mb < 128 ? <u32>load<u8>(ML_CODE + mb) : highbit(mb) + 36;
  const oc = highbit(ofValue);
  const w = work;
  store<u8>(w + K_LLC + i, <u8>lc);
  store<u8>(w + K_MLC + i, <u8>mc);
  store<u8>(w + K_OFC + i, <u8>oc);
  const h = w + K_SEQHIST;
  store<u32>(h + (<usize>lc << 2), load<u32>(h + (<usize>lc << 2)) + 1);
  store<u32>(h + 256 + (<usize>mc << 2), load<u32>(h + 256 + (<usize>mc << 2)) + 1);
  store<u32>(h + 512 + (<usize>oc << 2), load<u32>(h + 512 + (<usize>oc << 2)) + 1);
}

/** Sequences and literal bytes findSequences stored for the block (their codes in K_LLC.., counted in K_SEQHIST). */
export let nbSeq: u32 = 0;
export let litLen: u32 = 0;

/**
 * Finds the sequences of the block [start, end) of the chunk at src as zstd 1.5's level 1 does
 * (ZSTD_compressBlock_fast_noDict_generic: its parse, hence its ratio, within a few per cent on every kind
 * of data tried): fills K_SEQ (nbSeq) and the literals before each match (litLen); returns where the
 * last literals start. Positions are stored in the hash table plus one (0: empty).
 */
export function findSequences(src: usize, start: u32, end: u32, window: u32): u32 {
  const ht = work + K_HASH;
  const lits = work + K_LIT;
  let r1 = load<u32>(work + K_STATE);
  let r2 = load<u32>(work + K_STATE, 4);
  let r3 = load<u32>(work + K_STATE, 8);
  let sp = work + K_SEQ;
  let ns: u32 = 0;
  memory.fill(work + K_SEQHIST, 0, 768);
  let lp = lits;
  let anchor = start;
  let ip0: u32 = start == 0 ? 1 : start;
  const ilimit: u32 = end - start > 8 ? end - 8 : 0;
  const iend = src + end;
  for (;;) {
    let step: u32 = 2;
    let nextStep = ip0 + 128;
    let ip1 = ip0 + 1;
    let ip2 = ip0 + step;
    let ip3 = ip2 + 1;
    if (ip3 >= ilimit) break;
    let h0 = hash6(src + ip0);
    let h1 = hash6(src + ip1);
    let idx = load<u32>(ht + (<usize>h0 << 2));
    let cur0: u32 = ip0;
    let kind = 0; // 1: a repeat match at ip0, 2: a match at idx - 1
    let m: u32 = 0;
    let ml: u32 = 0;
    do {
      cur0 = ip0;
      store<u32>(ht + (<usize>h0 << 2), ip0 + 1);
      if (r1 <= ip2 && load<u32>(src + ip2) == load<u32>(src + ip2 - r1)) {
        ip0 = ip2;
        m = ip0 - r1;
        ml = m > 0 && load<u8>(src + ip0 - 1) == load<u8>(src + m - 1) ? 1 : 0; // one byte back (ip0 - 1 > anchor: step >= 2)
        ip0 -= ml;
        m -= ml;
        ml += 4;
        store<u32>(ht + (<usize>h1 << 2), ip1 + 1);
        kind = 1;
        break;
      }
      if (idx != 0 && ip0 - (idx - 1) < window && load<u32>(src + idx - 1) == load<u32>(src + ip0)) {
        store<u32>(ht + (<usize>h1 << 2), ip1 + 1);
        kind = 2;
        break;
      }
      idx = load<u32>(ht + (<usize>h1 << 2));
      h0 = h1;
      h1 = hash6(src + ip2);
      ip0 = ip1;
      ip1 = ip2;
      ip2 = ip3;
      cur0 = ip0;
      store<u32>(ht + (<usize>h0 << 2), ip0 + 1);
      if (idx != 0 && ip0 - (idx - 1) < window && load<u32>(src + idx - 1) == load<u32>(src + ip0)) {
        if (step <= 4) store<u32>(ht + (<usize>h1 << 2), ip1 + 1);
        kind = 2;
        break;
      }
      idx = load<u32>(ht + (<usize>h1 << 2));
      h0 = h1;
      h1 = hash6(src + ip2);
      ip0 = ip1;
      ip1 = ip2;
      ip2 = ip0 + step;
      ip3 = ip1 + step;
      if (ip2 >= nextStep) {
        step++;
        nextStep += 128;
      }
    } while (ip3 < ilimit);
    if (kind == 0) break;
    let ofValue: u32 = 1;
    if (kind == 2) {
      m = idx - 1;
      const off = ip0 - m;
      r3 = r2;
      r2 = r1;
      r1 = off;
      ofValue = off + 3;
      ml = 4;
      while (ip0 > anchor && m > 0 && load<u8>(src + ip0 - 1) == load<u8>(src + m - 1)) {
        ip0--;
        m--;
        ml++;
      }
    }
    ml += matchLength(src + ip0 + ml, src + m + ml, iend);
    const ll = ip0 - anchor;
    store<u32>(sp, ll);
    store<u32>(sp, ml, 4);
    store<u32>(sp, ofValue, 8);
    sp += 12;
    addCodes(ns++, ll, ml, ofValue);
    if (ll <= 16 && anchor + 16 <= end) v128.store(lp, v128.load(src + anchor));
    else memory.copy(lp, src + anchor, ll);
    lp += ll;
    ip0 += ml;
    anchor = ip0;
    if (ip0 <= ilimit) {
      if (cur0 + 10 <= end) store<u32>(ht + (<usize>hash6(src + cur0 + 2) << 2), cur0 + 3);
      store<u32>(ht + (<usize>hash6(src + ip0 - 2) << 2), ip0 - 1);
      while (ip0 <= ilimit && r2 <= ip0 && load<u32>(src + ip0) == load<u32>(src + ip0 - r2)) {
        const rl = 4 + matchLength(src + ip0 + 4, src + ip0 + 4 - r2, iend);
        const t = r1;
        r1 = r2;
        r2 = t;
        store<u32>(ht + (<usize>hash6(src + ip0) << 2), ip0 + 1);
        store<u32>(sp, 0);
        store<u32>(sp, rl, 4);
        store<u32>(sp, 1, 8);
        sp += 12;
        addCodes(ns++, 0, rl, 1);
        ip0 += rl;
        anchor = ip0;
      }
    }
  }
  store<u32>(work + K_STATE, r1);
  store<u32>(work + K_STATE, r2, 4);
  store<u32>(work + K_STATE, r3, 8);
  nbSeq = ns;
  litLen = <u32>(lp - lits);
  return anchor;
}
