// Streamed zstd frames (RFC 8878): a Zarr chunk decoded with bounded memory, through a stage of input and a
// stage of output the caller keeps (src/storage/zstd.ts streamZstd), on the block decoder of zstd.ts. The
// call returns before a block whose input is not all in the input stage, or whose output might not fit the
// output stage, having consumed and written nothing of it; the caller refills or slides, then calls again.
// Addresses are the ones the file's byte 0 and the output's byte 0 would have, modulo 2^32, so offsets
// into the frame stay what they are in a whole decode.

import { E_CORRUPT, E_DST_SIZE, E_TRUNCATED, NEED_INPUT, blkLast, blkNext, blkOp, decodeBlock, fhChecksum, fhFcs, fhHasFcs, fhNext, fhWindow, frameBegin, readFrameHeader, useWorkspace } from "./zstd";

const E_STREAM: i32 = -8; // a frame the streamed decoder leaves to zstdDecompress

let sIn: u32 = 0; // input bytes consumed (offsets into the chunk file)
let sPos: u32 = 0; // output bytes made
let sWindow: u32 = 0; // the frame's window: output bytes before sPos that matches may reach back to
let sFcs: u64 = 0; // the frame's content size (sHasFcs)
let sHasFcs = false;
let sPhase: u32 = 0; // 0: before the frame header, 1: in its blocks, 2: done

/** Starts a streamed decode (zstdStream) of a new chunk. */
export function zstdStreamBegin(): void {
  sIn = 0;
  sPos = 0;
  sWindow = 0;
  sPhase = 0;
}

/** Input bytes the streamed decode has consumed, output bytes it has made, and the frame's window. */
export function zstdStreamIn(): u32 {
  return sIn;
}
export function zstdStreamPos(): u32 {
  return sPos;
}
export function zstdStreamWindow(): u32 {
  return sWindow;
}

/**
 * Decodes one zstd frame (a Zarr chunk) as far as its input and output stages allow. Addresses are those
 * the chunk file's byte 0 (inBase) and the output's byte 0 (outBase) would have, modulo 2^32: the caller
 * holds file bytes [zstdStreamIn(), inEnd - inBase) at their addresses (`final`: that is the file's end),
 * and output bytes from zstdStreamPos() - zstdStreamWindow() (or 0) on, with room up to outEnd, which is
 * the chunk's end unless `more` (room can be made). Returns 0 when the frame is decoded, NEED_INPUT (1) or
 * NEED_OUTPUT (2) with nothing of the next block consumed, or a negative code: E_STREAM (-8) for a frame
 * that zstdDecompress must decode instead (a content checksum, a window above maxWindow, a skippable frame
 * first), before any output.
 */
export function zstdStream(outBase: usize, outEnd: usize, more: i32, inBase: usize, inEnd: usize, final: i32, maxWindow: u32, ws: usize): i32 {
  useWorkspace(ws, 0xffffffff);
  let ip = inBase + <usize>sIn;
  if (sPhase == 0) {
    if (ip + 18 > inEnd && !final) return NEED_INPUT; // the longest frame header
    if (ip + 4 > inEnd) return E_TRUNCATED;
    const magic = load<u32>(ip);
    if ((magic & 0xfffffff0) == 0x184d2a50) return E_STREAM;
    if (magic != 0xfd2fb528) return E_CORRUPT;
    ip += 4;
    const fh = readFrameHeader(ip, inEnd);
    if (fh != 0) return fh;
    ip = fhNext;
    if (fhChecksum || fhWindow > <u64>maxWindow) return E_STREAM;
    if (fhHasFcs && !more && fhFcs > <u64>(outEnd - outBase)) return E_DST_SIZE;
    sHasFcs = fhHasFcs;
    sFcs = fhFcs;
    sWindow = <u32>fhWindow;
    sIn = <u32>(ip - inBase);
    sPhase = 1;
    frameBegin();
  }
  if (sPhase == 1) {
    useWorkspace(ws, <usize>sWindow);
    const stream = (final ? 0 : 1) | (more ? 2 : 0);
    for (;;) {
      const rc = decodeBlock(inBase + <usize>sIn, inEnd, outBase + <usize>sPos, outEnd, outBase, true, 0, stream);
      if (rc != 0) return rc;
      sIn = <u32>(blkNext - inBase);
      sPos = <u32>(blkOp - outBase);
      if (blkLast) break;
    }
    if (sHasFcs && <u64>sPos != sFcs) return E_CORRUPT;
    sPhase = 2;
  }
  return 0;
}
