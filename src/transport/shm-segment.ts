/**
 * The layout of a shared-memory segment of L ranks of one host, and its single-producer single-consumer
 * rings (one per ordered pair of local ranks, L * (L - 1) of them).
 *
 *   header (64 B): magic, version, L, ring bytes, attached count, area bytes
 *   per local rank (384 B each): doorbell (bumped by every peer that wrote to this rank or freed space it
 *     waits for), `sleeping` (1 while this rank sleeps in a futex on its doorbell: only then do peers
 *     pay for a wake system call), its area's readers (how many peers have still to copy what it
 *     published in its area), its two number slots (each a stamp, a call signature and a float64: the
 *     value it contributes to an allreduce of one number, shm-slots.ts) and its calls line (the stamp and
 *     signature of the collective it began last, and how many allreduces it has finished); the fields
 *     are 64 bytes apart, on their own cache lines
 *   per ring: head (bytes written, mod 2^32), tail (bytes read), writerWaiting (the writer found no room
 *     and waits for the reader to ring its doorbell), each on its own cache line; then the data.
 *   per local rank: its area (area bytes, 0 for none), where it publishes one message that several peers
 *     read (a broadcast's): written once, copied out by each reader, free again when all have.
 *
 * Records in a ring are 8-byte aligned and never wrap: one that does not fit before the end is preceded by
 * a padding record to the end. A record is a 56-byte head (length, kind, dtype, op, reduce, seq, step,
 * root, tag, offset and total of the payload it is a piece of, piece length, part count), the parts table
 * (24 B a part), then the payload's bytes. Positions only grow (mod 2^32); rings hold at most 2^30 bytes.
 * Plain reads and writes of the data are published by the sequentially consistent Atomics.store of head
 * (or tail), and read after the Atomics.load of it.
 */
import type { PartInfo } from "../protocol/messages.js";

export const SHM_MAGIC = 0x4d485354; // "TSHM"
export const SHM_VERSION = 3;
const HEADER = 64;
const CTRL = 384;
/** where a rank's number slots start in its control block, and how far apart they are */
const SLOTS_AT = 192;
const SLOT_BYTES = 64;
/** where a rank's calls line is in its control block */
const CALLS_AT = 320;
const RING_HDR = 192;
const REC_HEAD = 56;
const PART = 24;
const KIND_PAD = 0;
const PIECE_MAX = 256 * 1024;
/** the parts of a record without any (shared, never modified) */
const NO_PARTS: PartInfo[] = [];

export const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** What a record says besides its payload bytes. */
export interface RecordHead {
  /** 1 collective, 2 point-to-point */
  kind: number;
  dtype: number;
  op: number;
  reduce: number;
  seq: number;
  step: number;
  root: number;
  tag: number;
  /** where this piece starts in the whole payload, and the whole payload's length */
  offset: number;
  total: number;
  parts: PartInfo[];
}

/** A record read from a ring: its payload bytes are a view into the segment, valid until consume(). */
export interface RingRecord extends RecordHead {
  payload: Uint8Array;
}

/** Bytes of a segment of `L` ranks with rings of `ringBytes` and areas of `areaBytes` (a multiple of 8). */
export function segmentBytes(L: number, ringBytes: number, areaBytes = 0): number {
  return HEADER + CTRL * L + (RING_HDR + ringBytes) * L * (L - 1) + areaBytes * L;
}

/**
 * The ring size for `L` local ranks: 4 MiB each up to 4 ranks, less beyond so that the rings stay within
 * 64 MiB, but at least 64 KiB (a segment is sparse: pages of a ring are touched only as it is used, and
 * the collectives of large worlds talk to O(log L) peers); a power of two.
 */
export function defaultRingBytes(L: number): number {
  let b = 4 << 20;
  while (b > 64 << 10 && b * L * (L - 1) > 64 << 20) b /= 2;
  return b;
}

/**
 * The area size for `L` local ranks: 16 MiB each up to 4 ranks (the segments of a 64 MiB allreduce's
 * allgather on 4 ranks fit: each is copied in once for its 3 readers, not once into each ring), less beyond
 * so that the areas stay within 64 MiB, but at least 64 KiB (only a message for two or more readers goes
 * there, and pages are touched only as they are used); a power of two.
 */
export function defaultAreaBytes(L: number): number {
  let b = 16 << 20;
  while (b > 64 << 10 && b * L > 64 << 20) b /= 2;
  return b;
}

/** One rank's view of a segment: it writes the rings to its peers and reads the rings from them. */
export class ShmSegment {
  readonly buf: ArrayBuffer;
  readonly L: number;
  readonly ringBytes: number;
  readonly me: number;
  readonly areaBytes: number;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly u8: Uint8Array;
  private readonly mask: number;
  /** the head the record reserve() placed ends at (publish() stores it) */
  private reservedHead = 0;

  constructor(buf: ArrayBuffer, L: number, ringBytes: number, me: number, areaBytes = 0) {
    if (ringBytes < 1024 || ringBytes > 1 << 30 || (ringBytes & (ringBytes - 1)) !== 0) throw new RangeError(`ring size ${ringBytes} is not a power of two in [1 KiB, 1 GiB]`);
    if (areaBytes < 0 || areaBytes % 8 !== 0 || areaBytes > 1 << 30) throw new RangeError(`area size ${areaBytes} is not a multiple of 8 in [0, 1 GiB]`);
    if (buf.byteLength !== segmentBytes(L, ringBytes, areaBytes)) throw new RangeError(`segment of ${buf.byteLength} bytes is not one of ${L} ranks with rings of ${ringBytes} and areas of ${areaBytes}`);
    this.buf = buf;
    this.areaBytes = areaBytes;
    this.L = L;
    this.ringBytes = ringBytes;
    this.me = me;
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    this.u8 = new Uint8Array(buf);
    this.mask = ringBytes - 1;
  }

  /** Writes the header (the creator, before any other rank maps it). */
  init(): void {
    this.i32[0] = SHM_MAGIC;
    this.i32[1] = SHM_VERSION;
    this.i32[2] = this.L;
    this.i32[3] = this.ringBytes;
    this.i32[5] = this.areaBytes;
  }

  /** Whether the header is the one this rank expects. */
  valid(): boolean {
    return this.i32[0] === SHM_MAGIC && this.i32[1] === SHM_VERSION && this.i32[2] === this.L && this.i32[3] === this.ringBytes && this.i32[5] === this.areaBytes;
  }

  /** Counts this rank as having mapped the segment; returns how many have. */
  attach(): number {
    return Atomics.add(this.i32, 4, 1) + 1;
  }

  /** Byte offsets of local rank i's doorbell and sleeping words. */
  bellOffset(i: number): number {
    return HEADER + CTRL * i;
  }
  sleepingOffset(i: number): number {
    return HEADER + CTRL * i + 64;
  }
  bell(i: number): number {
    return Atomics.load(this.i32, this.bellOffset(i) >> 2);
  }
  setSleeping(on: boolean): void {
    Atomics.store(this.i32, this.sleepingOffset(this.me) >> 2, on ? 1 : 0);
  }
  /** Bumps local rank i's doorbell; true if it sleeps (the caller then wakes it). */
  ring(i: number): boolean {
    Atomics.add(this.i32, this.bellOffset(i) >> 2, 1);
    return Atomics.load(this.i32, this.sleepingOffset(i) >> 2) !== 0;
  }

  /**
   * Writes this rank's number slot `k` (0 or 1): `value` and `sig`, then `stamp`, which publishes them (a
   * reader that loads the stamp sees both), and rings every peer's doorbell, calling `wake` for those that
   * sleep (null: rings none; the peers see the slot when they next look).
   */
  writeSlot(k: number, stamp: number, sig: number, value: number, wake: ((i: number) => void) | null): void {
    const at = this.slotAt(this.me, k);
    this.f64[(at + 8) >> 3] = value;
    Atomics.store(this.i32, (at + 4) >> 2, sig);
    Atomics.store(this.i32, at >> 2, stamp);
    if (wake) for (let i = 0; i < this.L; i++) if (i !== this.me && this.ring(i)) wake(i);
  }
  /** The stamp of local rank i's number slot k (read before its signature and value). */
  slotStamp(i: number, k: number): number {
    return Atomics.load(this.i32, this.slotAt(i, k) >> 2);
  }
  slotSig(i: number, k: number): number {
    return Atomics.load(this.i32, (this.slotAt(i, k) + 4) >> 2);
  }
  slotValue(i: number, k: number): number {
    return this.f64[(this.slotAt(i, k) + 8) >> 3]!;
  }
  private slotAt(i: number, k: number): number {
    return HEADER + CTRL * i + SLOTS_AT + SLOT_BYTES * k;
  }

  /**
   * Publishes the stamp (mod 2^26) and signature (24 bits) of the collective this rank begins, for its
   * peers' slot waits: one aligned 8-byte store of a float64 holding both, so a reader never sees one
   * call's stamp with another's signature; plain, not Atomics (a full fence at every collective), since
   * readers only use it to tell a mismatch while they wait.
   */
  setBegun(stamp: number, sig: number): void {
    this.f64[(HEADER + CTRL * this.me + CALLS_AT + 8) >> 3] = (stamp & 0x3ffffff) * 0x1000000 + (sig & 0xffffff);
  }
  /** The line setBegun wrote for local rank i: [stamp mod 2^26, signature], [0, 0] before any. */
  begun(i: number): [number, number] {
    const v = this.f64[(HEADER + CTRL * i + CALLS_AT + 8) >> 3]!;
    const sig = v % 0x1000000;
    return [(v - sig) / 0x1000000, sig];
  }
  /** How many allreduces this rank has finished (mod 2^32): its slots' readers' progress. */
  setFinished(count: number): void {
    // plain: stores leave in program order on x86 (TSO), after the loads of the values it finished reading
    this.i32[(HEADER + CTRL * this.me + CALLS_AT) >> 2] = count | 0;
  }
  finished(i: number): number {
    return Atomics.load(this.i32, (HEADER + CTRL * i + CALLS_AT) >> 2);
  }

  /** Word index of local rank i's area readers count. */
  private readersAt(i: number): number {
    return (HEADER + CTRL * i + 128) >> 2;
  }

  private areaAt(i: number): number {
    return HEADER + CTRL * this.L + (RING_HDR + this.ringBytes) * this.L * (this.L - 1) + this.areaBytes * i;
  }

  /**
   * Publishes `bytes` in this rank's area for `readers` peers (each then calls areaRead and releases it):
   * false when it does not fit or the peers have not all copied out what it published before.
   */
  publishArea(bytes: Uint8Array, readers: number): boolean {
    const at = this.readersAt(this.me);
    if (bytes.length > this.areaBytes || Atomics.load(this.i32, at) !== 0) return false;
    this.u8.set(bytes, this.areaAt(this.me));
    Atomics.store(this.i32, at, readers); // publishes the bytes (the records that name them are written after)
    return true;
  }

  /** Copies the first `into.length` bytes that local rank `from` published in its area into `into`, and releases it for this rank. */
  readArea(from: number, into: Uint8Array): void {
    const a = this.areaAt(from);
    into.set(this.u8.subarray(a, a + into.length));
    Atomics.sub(this.i32, this.readersAt(from), 1);
  }

  /** Byte offset of the ring from local rank `w` to local rank `r`. */
  private ringAt(w: number, r: number): number {
    const idx = w * (this.L - 1) + (r < w ? r : r - 1);
    return HEADER + CTRL * this.L + (RING_HDR + this.ringBytes) * idx;
  }

  /**
   * The most payload bytes one record carries: a quarter of a ring, and at most PIECE_MAX, so that writer
   * and reader overlap (a reader starts copying a 1 MiB message out after its first 256 KiB, not after all
   * of it); a multiple of 8, so that pieces of typed arrays hold whole elements.
   */
  maxPiece(nparts: number): number {
    return Math.min(this.ringBytes / 4, PIECE_MAX) - REC_HEAD - PART * nparts;
  }

  /**
   * Writes one record to local rank `to`: `len` bytes of `bytes` from `start`. False when the ring has no
   * room now (the reader is then asked to ring this rank's doorbell once it frees some).
   */
  tryWrite(to: number, h: RecordHead, bytes: Uint8Array, start: number, len: number): boolean {
    const rec = this.reserve(to, h, len);
    if (rec < 0) return false;
    const data = rec + REC_HEAD + PART * h.parts.length;
    if (len === 8 && ((start + bytes.byteOffset) & 3) === 0) {
      // a number: two words (copied as words: a float64 store could change a NaN's bits), no subarray to make
      const v = new Int32Array(bytes.buffer, start + bytes.byteOffset, 2);
      this.i32[data >> 2] = v[0]!;
      this.i32[(data >> 2) + 1] = v[1]!;
    } else if (len > 0) this.u8.set(len === bytes.length ? bytes : bytes.subarray(start, start + len), data);
    this.publish(to);
    return true;
  }

  /** Writes a record of one number (a JS number's 8 bytes, as toPayload encodes it; null: no bytes, a barrier's) to `to`; false when no room. */
  tryWriteNumber(to: number, h: RecordHead, value: number | null): boolean {
    const rec = this.reserve(to, h, value === null ? 0 : 8);
    if (rec < 0) return false;
    if (value !== null) this.f64[(rec + REC_HEAD) >> 3] = value;
    this.publish(to);
    return true;
  }

  /** Room for a record of `len` payload bytes in the ring to `to`, its head and parts written: its byte offset, or -1. */
  private reserve(to: number, h: RecordHead, len: number): number {
    const at = this.ringAt(this.me, to);
    const head = this.i32[at >> 2]! >>> 0;
    const want = REC_HEAD + PART * h.parts.length + align8(len);
    const pos = head & this.mask;
    const toEnd = this.ringBytes - pos;
    const need = want <= toEnd ? want : toEnd + want;
    if (!this.room(at, head, need)) return -1;
    let p = pos;
    let newHead = head;
    if (want > toEnd) {
      const pad = (at + RING_HDR + pos) >> 2;
      this.i32[pad] = toEnd;
      this.i32[pad + 1] = KIND_PAD;
      newHead = (newHead + toEnd) >>> 0;
      p = 0;
    }
    this.reservedHead = (newHead + want) | 0;
    const rec = at + RING_HDR + p;
    const w = rec >> 2;
    const i32 = this.i32;
    i32[w] = want;
    i32[w + 1] = h.kind | (h.dtype << 8) | (h.op << 16) | (h.reduce << 24);
    i32[w + 2] = h.seq;
    i32[w + 3] = h.step;
    i32[w + 4] = h.root;
    i32[w + 5] = h.tag;
    this.f64[(rec + 24) >> 3] = h.offset;
    this.f64[(rec + 32) >> 3] = h.total;
    i32[w + 10] = len;
    i32[w + 11] = h.parts.length;
    for (let k = 0; k < h.parts.length; k++) {
      const q = h.parts[k]!;
      const b = rec + REC_HEAD + PART * k;
      i32[b >> 2] = q.rank;
      i32[(b >> 2) + 1] = q.dtype;
      this.f64[(b + 8) >> 3] = q.offset;
      this.f64[(b + 16) >> 3] = q.length;
    }
    return rec;
  }

  /** Makes the record reserve() placed (and the padding before it, if any) visible to the reader of the ring to `to`. */
  private publish(to: number): void {
    Atomics.store(this.i32, this.ringAt(this.me, to) >> 2, this.reservedHead);
  }

  /**
   * The byte offset of the next record from local rank `from` (padding skipped), or -1 when there is none:
   * for readers that look at its head before they take it (isNumberOf, numberAt, then consume).
   */
  next(from: number): number {
    const at = this.ringAt(from, this.me);
    const i32 = this.i32;
    for (;;) {
      const tail = i32[(at + 64) >> 2]! >>> 0;
      if ((Atomics.load(i32, at >> 2) >>> 0) === tail) return -1;
      const rec = at + RING_HDR + (tail & this.mask);
      if ((i32[(rec >> 2) + 1]! & 0xff) !== KIND_PAD) return rec;
      Atomics.store(i32, (at + 64) >> 2, (tail + i32[rec >> 2]!) | 0);
    }
  }

  /** Whether the record at `rec` is a whole message of `len` bytes (8: one JS number; 0: none) with exactly this call, step and signature. */
  isNumberOf(rec: number, kind: number, dtype: number, seq: number, step: number, op: number, root: number, reduce: number, tag: number, len = 8): boolean {
    const w = rec >> 2;
    const i32 = this.i32;
    return i32[w + 1] === (kind | (dtype << 8) | (op << 16) | (reduce << 24)) && i32[w + 2] === seq && i32[w + 3] === step &&
      i32[w + 4] === root && i32[w + 5] === tag && i32[w + 10] === len && i32[w + 11] === 0 &&
      this.f64[(rec + 24) >> 3] === 0 && this.f64[(rec + 32) >> 3] === len;
  }

  /** The number a record that isNumberOf() carries. */
  numberAt(rec: number): number {
    return this.f64[(rec + REC_HEAD) >> 3]!;
  }

  private room(at: number, head: number, need: number): boolean {
    const tailAt = (at + 64) >> 2;
    if (this.ringBytes - ((head - (Atomics.load(this.i32, tailAt) >>> 0)) >>> 0) >= need) return true;
    Atomics.store(this.i32, (at + 128) >> 2, 1); // ask the reader for a ring of the doorbell, then look again
    return this.ringBytes - ((head - (Atomics.load(this.i32, tailAt) >>> 0)) >>> 0) >= need;
  }

  /** The next record from local rank `from`, or null; its payload is a view valid until consume(from). */
  peek(from: number): RingRecord | null {
    const at = this.ringAt(from, this.me);
    const i32 = this.i32;
    for (;;) {
      const tail = i32[(at + 64) >> 2]! >>> 0;
      if ((Atomics.load(i32, at >> 2) >>> 0) === tail) return null;
      const rec = at + RING_HDR + (tail & this.mask);
      const w = rec >> 2;
      const word = i32[w + 1]!;
      if ((word & 0xff) === KIND_PAD) {
        Atomics.store(i32, (at + 64) >> 2, (tail + i32[w]!) | 0);
        continue;
      }
      const nparts = i32[w + 11]!;
      const parts: PartInfo[] = nparts ? [] : NO_PARTS;
      for (let k = 0; k < nparts; k++) {
        const b = rec + REC_HEAD + PART * k;
        parts.push({ rank: i32[b >> 2]!, dtype: i32[(b >> 2) + 1]!, offset: this.f64[(b + 8) >> 3]!, length: this.f64[(b + 16) >> 3]! });
      }
      const start = rec + REC_HEAD + PART * nparts;
      return {
        kind: word & 0xff, dtype: (word >> 8) & 0xff, op: (word >> 16) & 0xff, reduce: (word >>> 24) & 0xff,
        seq: i32[w + 2]!, step: i32[w + 3]!, root: i32[w + 4]!, tag: i32[w + 5]!,
        offset: this.f64[(rec + 24) >> 3]!, total: this.f64[(rec + 32) >> 3]!, parts,
        payload: this.u8.subarray(start, start + i32[w + 10]!),
      };
    }
  }

  /** Frees the record peek(from) returned; true if its writer waits for room (the caller rings it). */
  consume(from: number): boolean {
    const at = this.ringAt(from, this.me);
    const tail = this.i32[(at + 64) >> 2]! >>> 0;
    const len = this.i32[(at + RING_HDR + (tail & this.mask)) >> 2]!;
    Atomics.store(this.i32, (at + 64) >> 2, (tail + len) | 0);
    if (Atomics.load(this.i32, (at + 128) >> 2) === 0) return false;
    Atomics.store(this.i32, (at + 128) >> 2, 0);
    return true;
  }
}
