// Zstandard frame encoder (RFC 8878), for Zarr chunks written by toZarr: zstd's level-1 "fast" strategy
// (zstd-encode-match.ts: one hash table of 6-byte prefixes, repeat offsets checked first, a search step
// that grows while no match is found: data without matches, such as random doubles, is crossed in a few
// thousand probes per block), Huffman-coded literals (four streams above 256 bytes; raw or RLE literals
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

import { BLOCK_MAX, E_ARGUMENT, E_DST_SIZE, HASH_LOG, K_HASH, K_LIT, K_STATE, SLACK, WINDOW_LOG, WORK_BYTES, useWork, work } from "./zstd-encode-state";
import { findSequences, litLen, nbSeq } from "./zstd-encode-match";
import { encodeSequences } from "./zstd-encode-fse";
import { encodeLiterals } from "./zstd-encode-huffman";

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

/**
 * How far back from a part's start zstdCompress reads the chunk: every match it takes, and every byte it
 * compares, lies within the window (the frame's declared one: the whole chunk when it is one segment).
 */
export function zstdCompressWindowBytes(): u32 {
  return <u32>1 << WINDOW_LOG;
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
 * A call reads only bytes [max(0, from - zstdCompressWindowBytes()), to) of the chunk: the caller may hold
 * just those (src is then the address the chunk's byte 0 would have: addresses wrap modulo 2^32).
 */
export function zstdCompress(dst: u32, cap: u32, src: u32, from: u32, to: u32, total: u32, wk: u32): i32 {
  useWork(<usize>wk);
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
