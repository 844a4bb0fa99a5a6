// The zstd encoder's shared parts (assembly/zstd-encode*.ts): limits, the workspace layout, the code tables
// of sequence lengths, and the forward bit writer (zstd's BIT_CStream with a 64-bit container).

export const E_DST_SIZE: i32 = -2;
export const E_ARGUMENT: i32 = -7;

export const BLOCK_MAX: u32 = 131072;
export const HASH_LOG: u32 = 14;
export const WINDOW_LOG: u32 = 19; // zstd's level 1 for inputs above 256 KiB; smaller chunks are one segment
export const MIN_LITERALS_HUF: u32 = 63; // zstd: fewer literals than this are stored raw
export const HUF_MAX_BITS: u32 = 11;
export const MAX_SEQ: u32 = BLOCK_MAX / 4 + 16; // every match is at least 4 bytes
/** Room a block may need past its raw size in dst: stray bytes of 8-byte stores and the sequence tables' bound. */
export const SLACK: u32 = 512;

// workspace layout (byte offsets)
export const K_HASH: usize = 0; // u32[1 << HASH_LOG]: position + 1 of the last 6-byte prefix with that hash (0: none)
export const K_STATE: usize = K_HASH + (4 << HASH_LOG); // u32 rep1, rep2, rep3, window, total
export const K_LIT: usize = K_STATE + 64; // the block's literals (+ 64)
export const K_SEQ: usize = K_LIT + BLOCK_MAX + 64; // u32[MAX_SEQ][3]: literal length, match length, offset value (1-3 repeat codes, else offset + 3)
export const K_LLC: usize = K_SEQ + <usize>MAX_SEQ * 12; // u8[MAX_SEQ] codes
export const K_MLC: usize = K_LLC + MAX_SEQ;
export const K_OFC: usize = K_MLC + MAX_SEQ;
export const K_HIST: usize = K_OFC + MAX_SEQ; // u32[4][256] literal histograms (one per Huffman stream), then u32[256] their total
export const K_TOTAL: usize = K_HIST + 4096;
export const K_HUF: usize = K_TOTAL + 1024; // u32[256]: code << 8 | bits, per symbol
export const K_HLEN: usize = K_HUF + 1024; // u8[256]: code lengths by symbol
export const K_SORT: usize = K_HLEN + 256; // u64[256]: (count << 8 | symbol), sorted
export const K_NODE: usize = K_SORT + 2048; // u32[512] weights, u16[512] parents, u8[512] depths
export const K_WGT: usize = K_NODE + 4096; // u8[256] Huffman weights
export const K_NORM: usize = K_WGT + 256; // i16[64] normalized counts
export const K_CNT: usize = K_NORM + 128; // u32[64] counts
export const K_SPREAD: usize = K_CNT + 256; // u8[512] FSE spread; u16[64] cumul after it
export const K_CT_LL: usize = K_SPREAD + 1024; // FSE compression tables (CT_BYTES each)
export const CT_BYTES: usize = 1600; // u32 log, symbolTT[64] {i32 deltaFindState, u32 deltaNbBits} at 8, u16 states[512] at 520
export const K_CT_ML: usize = K_CT_LL + CT_BYTES;
export const K_CT_OF: usize = K_CT_ML + CT_BYTES;
export const K_CT_WT: usize = K_CT_OF + CT_BYTES;
export const K_SEQHIST: usize = K_CT_WT + CT_BYTES; // u32[3][64]: the block's literal length, match length and offset codes
export const K_END: usize = K_SEQHIST + 768;
export const WORK_BYTES: u32 = <u32>((K_END + 1023) & ~1023);

export const LL_CODE = memory.data<u8>([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 20, 20, 21, 21, 21, 21,
  22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23, 23, 23, 23, 23, 23, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
]);
export const ML_CODE = memory.data<u8>([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
  32, 32, 33, 33, 34, 34, 35, 35, 36, 36, 36, 36, 37, 37, 37, 37, 38, 38, 38, 38, 38, 38, 38, 38, 39, 39, 39, 39, 39, 39, 39, 39,
  40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41,
  42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42,
]);

export const SHELL_GAPS = memory.data<u8>([57, 23, 10, 4, 1]);

/** The workspace of the call in progress (one at a time per instance). */
export let work: usize = 0;
export function useWork(w: usize): void {
  work = w;
}

@inline export function highbit(v: u32): u32 {
  return 31 - clz<u32>(v);
}

// ---- forward bit writer (zstd's BIT_CStream with a 64-bit container)
let wC: u64 = 0;
let wN: u32 = 0;
let wP: usize = 0;

/** Starts the bit writer at p with `n` pending bits `c` (0, 0 for a new stream). */
export function bitsAt(p: usize, c: u64, n: u32): void {
  wP = p;
  wC = c;
  wN = n;
}

@inline export function addBits(v: u32, n: u32): void {
  wC |= (<u64>v & ((<u64>1 << <u64>n) - 1)) << <u64>wN;
  wN += n;
}

@inline export function flushBits(): void {
  store<u64>(wP, wC);
  wP += <usize>(wN >> 3);
  wC = wN >= 64 ? 0 : wC >>> <u64>(wN & ~7);
  wN &= 7;
}

/** Ends the stream with its 1-bit mark; returns its end (exclusive). */
export function closeBits(): usize {
  addBits(1, 1);
  flushBits();
  return wP + (wN > 0 ? 1 : 0);
}

