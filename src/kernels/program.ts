/**
 * Encodes tile programs (see abi.ts) into memory. A program has two halves:
 * - a template (instructions, constants, slot kinds and dtypes) shared by every chunk of a layer;
 * - a geometry (row extents, row length, slot bases and strides) written per chunk.
 * Only the geometry changes from chunk to chunk, so a worker rewrites just that part.
 */
import { H, MAX_DIMS, OP, PROGRAM_MAGIC, S, SLOT_INDEX, SLOT_MEM, opArity } from "./abi.js";

export interface ProgramTemplate {
  code: Int32Array;
  consts: Float64Array;
  /** SLOT_MEM or SLOT_INDEX per slot */
  slotKinds: number[];
  /** DT code per slot (ignored for index slots) */
  slotDtypes: number[];
  nregs: number;
}

export interface SlotGeometry {
  /** MEM: absolute byte address of the element at the chunk origin; INDEX: index value there */
  base: number;
  /** stride along the innermost dim (elements for MEM: 0 or 1) */
  last: number;
  /** strides along the R row dims */
  rows: number[];
}

export interface ChunkGeometry {
  extents: number[];
  rowLen: number;
  slots: SlotGeometry[];
}

const align8 = (n: number) => (n + 7) & ~7;

/** Byte layout of an encoded program. */
export interface ProgramLayout {
  extents: number;
  slots: number;
  instr: number;
  consts: number;
  bytes: number;
}

export function programLayout(ndim: number, nslots: number, ncode: number, nconst: number): ProgramLayout {
  const extents = H.WORDS * 4;
  const slots = align8(extents + ndim * 4);
  const instr = slots + nslots * (4 + ndim) * 8;
  const consts = align8(instr + ncode * 4);
  const bytes = align8(consts + nconst * 8);
  return { extents, slots, instr, consts, bytes };
}

/**
 * Writes a whole program at `addr` (8-aligned) in `buffer`. Returns the number of bytes written.
 * `regs` and `scratch` are absolute byte addresses of the caller's register file and scratch area.
 */
export function writeProgram(
  buffer: ArrayBufferLike,
  addr: number,
  tpl: ProgramTemplate,
  geom: ChunkGeometry,
  tile: number,
  regs: number,
  scratch: number,
): number {
  const ndim = geom.extents.length;
  if (ndim > MAX_DIMS) throw new RangeError(`program has ${ndim} row dims, more than ${MAX_DIMS}`);
  const nslots = tpl.slotKinds.length;
  const lay = programLayout(ndim, nslots, tpl.code.length, tpl.consts.length);
  const hdr = new Int32Array(buffer, addr, H.WORDS);
  hdr.fill(0);
  hdr[H.MAGIC] = PROGRAM_MAGIC;
  hdr[H.NDIM] = ndim;
  hdr[H.ROWLEN] = geom.rowLen;
  hdr[H.NSLOTS] = nslots;
  hdr[H.NINSTR] = tpl.code.length;
  hdr[H.NCONST] = tpl.consts.length;
  hdr[H.NREGS] = tpl.nregs;
  hdr[H.TILE] = tile;
  hdr[H.EXTENTS] = lay.extents;
  hdr[H.SLOTS] = lay.slots;
  hdr[H.INSTR] = lay.instr;
  hdr[H.CONSTS] = lay.consts;
  hdr[H.REGS] = regs;
  hdr[H.SCRATCH] = scratch;
  new Int32Array(buffer, addr + lay.extents, ndim).set(geom.extents);
  writeGeometrySlots(buffer, addr + lay.slots, tpl, geom);
  new Int32Array(buffer, addr + lay.instr, tpl.code.length).set(tpl.code);
  new Float64Array(buffer, addr + lay.consts, tpl.consts.length).set(tpl.consts);
  return lay.bytes;
}

/**
 * A program area that keeps its template between tasks: the code and constants are written once (at
 * offsets laid out for up to `maxNdim` row dims), and each task rewrites only the header, the row extents
 * and the slot records, the part that changes from task to task.
 */
export class ProgramArea {
  private template: ProgramTemplate | null = null;
  private layout: ProgramLayout | null = null;
  private ndimRoom = -1;
  /** views of the memory, made again only when it grew */
  private views: { buffer: ArrayBufferLike; i32: Int32Array; f64: Float64Array } | null = null;

  constructor(
    readonly addr: number,
    readonly bytes: number,
    private readonly regs: number,
    private readonly scratch: number,
  ) {}

  /** Bytes a template needs with up to `maxNdim` row dims (checked against the area by the caller). */
  static bytesFor(tpl: ProgramTemplate, maxNdim: number): number {
    return programLayout(maxNdim, tpl.slotKinds.length, tpl.code.length, tpl.consts.length).bytes;
  }

  write(buffer: ArrayBufferLike, tpl: ProgramTemplate, geom: ChunkGeometry, tile: number, maxNdim: number): void {
    const ndim = geom.extents.length;
    if (ndim > MAX_DIMS) throw new RangeError(`program has ${ndim} row dims, more than ${MAX_DIMS}`);
    const room = Math.max(maxNdim, ndim);
    if (this.template !== tpl || this.ndimRoom < room) {
      const lay = programLayout(room, tpl.slotKinds.length, tpl.code.length, tpl.consts.length);
      new Int32Array(buffer, this.addr + lay.instr, tpl.code.length).set(tpl.code);
      new Float64Array(buffer, this.addr + lay.consts, tpl.consts.length).set(tpl.consts);
      this.template = tpl;
      this.layout = lay;
      this.ndimRoom = room;
    }
    const lay = this.layout!;
    if (!this.views || this.views.buffer !== buffer) this.views = { buffer, i32: new Int32Array(buffer), f64: new Float64Array(buffer) };
    const { i32, f64 } = this.views;
    const h = this.addr >>> 2;
    i32[h + H.MAGIC] = PROGRAM_MAGIC;
    i32[h + H.NDIM] = ndim;
    i32[h + H.ROWLEN] = geom.rowLen;
    i32[h + H.NSLOTS] = tpl.slotKinds.length;
    i32[h + H.NINSTR] = tpl.code.length;
    i32[h + H.NCONST] = tpl.consts.length;
    i32[h + H.NREGS] = tpl.nregs;
    i32[h + H.TILE] = tile;
    i32[h + H.EXTENTS] = lay.extents;
    i32[h + H.SLOTS] = lay.slots;
    i32[h + H.INSTR] = lay.instr;
    i32[h + H.CONSTS] = lay.consts;
    i32[h + H.REGS] = this.regs;
    i32[h + H.SCRATCH] = this.scratch;
    const e = (this.addr + lay.extents) >>> 2;
    for (let d = 0; d < ndim; d++) i32[e + d] = geom.extents[d]!;
    const rec = 4 + ndim;
    const at = (this.addr + lay.slots) >>> 3;
    for (let i = 0; i < tpl.slotKinds.length; i++) {
      const g = geom.slots[i]!;
      const o = at + i * rec;
      f64[o + S.KIND] = tpl.slotKinds[i]!;
      f64[o + S.DTYPE] = tpl.slotDtypes[i]!;
      f64[o + S.BASE] = g.base;
      f64[o + S.LAST] = g.last;
      for (let d = 0; d < ndim; d++) f64[o + S.ROW + d] = g.rows[d]!;
    }
  }
}

function writeGeometrySlots(buffer: ArrayBufferLike, at: number, tpl: ProgramTemplate, geom: ChunkGeometry): void {
  const ndim = geom.extents.length;
  const rec = 4 + ndim;
  const f = new Float64Array(buffer, at, tpl.slotKinds.length * rec);
  for (let i = 0; i < tpl.slotKinds.length; i++) {
    const g = geom.slots[i]!;
    const o = i * rec;
    f[o + S.KIND] = tpl.slotKinds[i]!;
    f[o + S.DTYPE] = tpl.slotDtypes[i]!;
    f[o + S.BASE] = g.base;
    f[o + S.LAST] = g.last;
    for (let d = 0; d < ndim; d++) f[o + S.ROW + d] = g.rows[d]!;
  }
}

/** Builds a ProgramTemplate instruction by instruction. */
export class ProgramBuilder {
  private code: number[] = [];
  private consts: number[] = [];
  private constIndex = new Map<string, number>();
  private kinds: number[] = [];
  private dtypes: number[] = [];
  private nregs = 0;

  memSlot(dtype: number): number {
    this.kinds.push(SLOT_MEM);
    this.dtypes.push(dtype);
    return this.kinds.length - 1;
  }

  indexSlot(): number {
    this.kinds.push(SLOT_INDEX);
    this.dtypes.push(0);
    return this.kinds.length - 1;
  }

  reg(): number {
    return this.nregs++;
  }

  /** Index of a constant (deduplicated by bit pattern, so -0 and NaN payloads stay distinct). */
  constant(v: number): number {
    const key = Object.is(v, -0) ? "-0" : Number.isNaN(v) ? "NaN" : String(v);
    let i = this.constIndex.get(key);
    if (i === undefined) {
      i = this.consts.length;
      this.consts.push(v);
      this.constIndex.set(key, i);
    }
    return i;
  }

  constValue(k: number): number {
    return this.consts[k]!;
  }

  /** Consecutive constants, not shared with anything (a parameter block); returns the first index. */
  block(values: readonly number[]): number {
    const i = this.consts.length;
    this.consts.push(...values);
    return i;
  }

  /** Two consecutive constants holding a seed's low and high 32 bits; returns the first index. */
  seed(seed: number): number {
    const i = this.consts.length;
    this.consts.push(seed % 2 ** 32, Math.floor(seed / 2 ** 32));
    return i;
  }

  emit(op: number, ...args: number[]): void {
    const arity = opArity(op);
    if (arity !== args.length) throw new Error(`opcode ${op} takes ${arity} arguments, got ${args.length}`);
    this.code.push(op, ...args);
  }

  get regCount(): number {
    return this.nregs;
  }

  build(): ProgramTemplate {
    return {
      code: Int32Array.from([...this.code, OP.END]),
      consts: Float64Array.from(this.consts),
      slotKinds: [...this.kinds],
      slotDtypes: [...this.dtypes],
      nregs: this.nregs,
    };
  }
}
