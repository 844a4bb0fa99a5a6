/**
 * Payloads larger than a frame: split into 8-byte aligned pieces under the frame limit on the way out,
 * reassembled by key on the way in.
 */
import { DType, encode, encodeHead, type CollectiveMsg, type PartInfo, type PointToPointMsg } from "../protocol/messages.js";
import type { Frame } from "../transport/link.js";
import type { Payload } from "./payload.js";

/** Payloads at least this large are sent from where they lie (a head fragment, then the payload), not copied. */
const ZERO_COPY_BYTES = 64 * 1024;

/**
 * Splits a payload into frames under the frame limit (8-byte aligned pieces). With `inPlace` (the caller
 * keeps the bytes unchanged until the send resolves, as collectives do), a large piece is not copied into
 * its frame: the frame is sent as a head and the piece itself, two fragments of one message.
 */
export function splitFrames(
  make: (bytes: Uint8Array, offset: number, total: number) => CollectiveMsg | PointToPointMsg,
  bytes: Uint8Array,
  inPlace: boolean,
  maxPayload: number,
): Frame[] {
  const max = Math.max(8, (maxPayload - 4096) & ~7);
  const frame = (piece: Uint8Array, off: number): Frame => {
    const m = make(piece, off, bytes.length);
    return !inPlace || piece.length < ZERO_COPY_BYTES ? encode(m) : { fragments: [encodeHead(m), piece] };
  };
  if (bytes.length <= max) return [frame(bytes, 0)];
  const out: Frame[] = [];
  for (let off = 0; off < bytes.length; off += max) out.push(frame(bytes.subarray(off, off + max), off));
  return out;
}

interface Assembly {
  bytes: Uint8Array;
  got: number;
  first: Payload;
}

export type Piece = { dtype: DType; shape: number[]; payload: Uint8Array; parts?: PartInfo[] };

/** Payloads arriving in pieces, by key. */
export class Reassembly {
  private readonly assembling = new Map<string, Assembly>();

  /**
   * Adds a piece at `offset` of a `total`-byte payload: the whole payload once complete, null while not,
   * or a string saying why the sender is at fault.
   */
  add(key: string, m: Piece, offset: number, total: number): Payload | null | string {
    let a = this.assembling.get(key);
    if (!a) {
      if (total > 2 ** 32) return `it announced a payload of ${total} bytes (over 4 GiB)`;
      a = { bytes: new Uint8Array(total), got: 0, first: { dtype: m.dtype, shape: m.shape, bytes: new Uint8Array(0), parts: m.parts } };
      this.assembling.set(key, a);
    }
    if (offset + m.payload.length > total) return `it sent bytes ${offset}..${offset + m.payload.length} of a ${total}-byte payload`;
    a.bytes.set(m.payload, offset);
    a.got += m.payload.length;
    if (a.got < total) return null;
    this.assembling.delete(key);
    a.first.bytes = a.bytes;
    return a.first;
  }
}
