/**
 * A verifier for tessera's flatbuffers messages, run before any generated accessor reads a frame. The
 * accessors trust every offset and length they find (a vector length is a count to loop over and allocate
 * for), so a frame of 152 bytes claiming a shape of 1e8 elements would make the decoder allocate gigabytes.
 * Here every table, vtable, field, string and vector of the schema (tessera.fbs) is checked to lie within
 * the frame, and every union tag to be known, before anything is read: a malformed frame costs a few
 * microseconds and a ProtocolError, whatever it claims.
 *
 * Layout (flatbuffers): the frame starts with a uoffset to the root table; a table starts with an soffset to
 * its vtable (u16 vtable size, u16 table size, then one u16 per field: the field's offset in the table, 0 when
 * absent); a string or vector field holds a uoffset to a u32 length followed by the elements (a string has a
 * NUL after its bytes); a vector of tables holds uoffsets, one per element.
 */

import { Body } from "./generated/tessera_generated.js";

export class ProtocolError extends Error {}

/** How many shape entries a message may carry (tessera's kernels handle at most 32 dimensions). */
export const MAX_SHAPE_DIMS = 32;

type FieldKind =
  | { scalar: 1 | 2 | 4 | 8 }
  | { string: true }
  | { vector: number; max?: number } // element size in bytes; max: largest element count
  | { tables: (v: Verifier, pos: number) => void }; // a vector of tables

/** A table's fields by vtable offset (4, 6, 8, ... as the generated code names them). */
type Schema = Record<number, FieldKind>;

const scalar = (n: 1 | 2 | 4 | 8): FieldKind => ({ scalar: n });
const STRING: FieldKind = { string: true };
const bytesField = (max?: number): FieldKind => ({ vector: 1, max });

const HELLO: Schema = { 4: scalar(4), 6: scalar(4), 8: scalar(4), 10: STRING, 12: STRING, 14: scalar(2), 16: STRING, 18: bytesField() };
const ADDRESS_ENTRY: Schema = { 4: scalar(4), 6: STRING, 8: scalar(2) };
const ADDRESS_TABLE: Schema = { 4: scalar(4), 6: { tables: (v, pos) => v.table(pos, ADDRESS_ENTRY) } };
const SHAPE: FieldKind = { vector: 8, max: MAX_SHAPE_DIMS };
const PART_BYTES = 24; // struct Part: int rank, byte dtype, 3 padding bytes, ulong offset, ulong length
const COLLECTIVE: Schema = {
  4: scalar(1), 6: scalar(4), 8: scalar(4), 10: scalar(4), 12: scalar(4), 14: scalar(4), 16: scalar(1), 18: scalar(1),
  20: SHAPE, 22: scalar(8), 24: scalar(8), 26: { vector: PART_BYTES }, 28: bytesField(),
};
const POINT_TO_POINT: Schema = {
  4: scalar(4), 6: scalar(4), 8: scalar(4), 10: scalar(4), 12: scalar(1), 14: SHAPE, 16: scalar(8), 18: scalar(8), 20: bytesField(),
};
const HEARTBEAT: Schema = { 4: scalar(8) };
const ABORT: Schema = { 4: scalar(4), 6: STRING };
const GOODBYE: Schema = { 4: scalar(4) };
const FINGERPRINT: Schema = { 4: scalar(4), 6: scalar(4), 8: STRING };
const AUTH_CHALLENGE: Schema = { 4: scalar(4), 6: bytesField() };
const AUTH_PROOF: Schema = { 4: bytesField(), 6: STRING };
const CLUSTER: Schema = { 4: STRING, 6: bytesField() };

const BODIES: Record<number, Schema> = {
  [Body.Hello]: HELLO,
  [Body.AddressTable]: ADDRESS_TABLE,
  [Body.Collective]: COLLECTIVE,
  [Body.PointToPoint]: POINT_TO_POINT,
  [Body.Heartbeat]: HEARTBEAT,
  [Body.Abort]: ABORT,
  [Body.Goodbye]: GOODBYE,
  [Body.GraphFingerprint]: FINGERPRINT,
  [Body.AuthChallenge]: AUTH_CHALLENGE,
  [Body.AuthProof]: AUTH_PROOF,
  [Body.Cluster]: CLUSTER,
};

/** The payload vector of the data messages (the one a head + payload message keeps outside the head). */
export const PAYLOAD_SLOT: Partial<Record<number, number>> = { [Body.Collective]: 28, [Body.PointToPoint]: 20, [Body.Cluster]: 6 };

/** The deepest nesting of tables the schema has (Message -> AddressTable -> AddressEntry), with room. */
const MAX_DEPTH = 8;

class Verifier {
  private readonly view: DataView;
  private readonly len: number;
  private depth = 0;
  /** a vtable offset whose vector may end past the frame (its bytes come in a later fragment), or -1 */
  outsideSlot = -1;

  constructor(bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.len = bytes.byteLength;
  }

  private fail(what: string): never {
    throw new ProtocolError(`a malformed frame (${what}, in ${this.len} bytes)`);
  }

  /** `n` bytes at `at` are inside the frame. */
  need(at: number, n: number, what: string): void {
    if (!(at >= 0 && n >= 0 && at + n <= this.len)) this.fail(`${what}: ${n} bytes at ${at}`);
  }

  u8(at: number): number {
    this.need(at, 1, "a byte");
    return this.view.getUint8(at);
  }

  u32(at: number, what: string): number {
    this.need(at, 4, what);
    return this.view.getUint32(at, true);
  }

  /** Follows the uoffset at `at` (what the field at `at` points to). */
  deref(at: number, what: string): number {
    const target = at + this.u32(at, what);
    this.need(target, 4, what);
    return target;
  }

  /**
   * Checks the table at `pos` against its schema. Fields the schema does not name (from a newer schema)
   * are allowed, within the table; returns the position of each present field by vtable offset.
   */
  table(pos: number, schema: Schema, tag?: number): Map<number, number> {
    if (++this.depth > MAX_DEPTH) this.fail("tables nested too deep");
    this.need(pos, 4, "a table");
    const vt = pos - this.view.getInt32(pos, true);
    this.need(vt, 4, "a vtable");
    const vtSize = this.view.getUint16(vt, true);
    const tableSize = this.view.getUint16(vt + 2, true);
    if (vtSize < 4 || vtSize % 2 !== 0) this.fail(`a vtable of ${vtSize} bytes`);
    this.need(vt, vtSize, "a vtable");
    if (tableSize < 4) this.fail(`a table of ${tableSize} bytes`);
    this.need(pos, tableSize, "a table");
    const fields = new Map<number, number>();
    for (let slot = 4; slot < vtSize; slot += 2) {
      const off = this.view.getUint16(vt + slot, true);
      if (off === 0) continue;
      const kind = schema[slot];
      const size = kind && "scalar" in kind ? kind.scalar : kind ? 4 : 1;
      if (off < 4 || off + size > tableSize) this.fail(`field ${slot} at ${off} of a ${tableSize}-byte table`);
      const at = pos + off;
      fields.set(slot, at);
      if (!kind || "scalar" in kind) continue;
      if ("string" in kind) {
        const s = this.deref(at, "a string");
        const n = this.view.getUint32(s, true);
        this.need(s + 4, n + 1, "a string"); // its bytes and the NUL after them
      } else if ("vector" in kind) {
        const v = this.deref(at, "a vector");
        const n = this.view.getUint32(v, true);
        if (kind.max !== undefined && n > kind.max) this.fail(`a vector of ${n} elements (at most ${kind.max})`);
        if (slot === this.outsideSlot && tag !== undefined) continue; // checked by the caller against the next fragment
        this.need(v + 4, n * kind.vector, `a vector of ${n} ${kind.vector}-byte elements`);
      } else {
        const v = this.deref(at, "a vector of tables");
        const n = this.view.getUint32(v, true);
        this.need(v + 4, n * 4, `a vector of ${n} tables`);
        for (let i = 0; i < n; i++) kind.tables(this, this.deref(v + 4 + 4 * i, "a table"));
      }
    }
    this.depth--;
    return fields;
  }
}

/**
 * Verifies a whole frame (a Message) and returns its body's union tag. With `payloadOutside`, the data
 * message's payload vector may extend past the end of `bytes` (a head whose payload is the next fragment):
 * only its length field must lie within the head.
 */
export function verifyMessage(bytes: Uint8Array, payloadOutside = false): number {
  const v = new Verifier(bytes);
  const root = v.deref(0, "the root offset");
  const fields = v.table(root, { 4: scalar(1), 6: scalar(4) });
  const typeAt = fields.get(4);
  const bodyAt = fields.get(6);
  const tag = typeAt === undefined ? 0 : v.u8(typeAt);
  const schema = BODIES[tag];
  if (!schema) throw new ProtocolError(tag === 0 ? "a message without a body" : `unknown message body type ${tag}`);
  if (bodyAt === undefined) throw new ProtocolError(`a message of body type ${tag} without its body`);
  if (payloadOutside) v.outsideSlot = PAYLOAD_SLOT[tag] ?? -1;
  v.table(v.deref(bodyAt, "the body"), schema, tag);
  return tag;
}
