/**
 * Per-task geometry: where each program slot starts for one task's region and how it strides, with dims
 * merged wherever every slot is contiguous across them, so rows are as long as possible.
 *
 * A slot reading a buffer finds the chunk holding the region (the plan guarantees there is one) in the
 * buffer's chunk table, and composes the view's index map with the chunk's C-order strides: a transposed
 * or stepped read is a strided read of the chunk, never a copy.
 *
 * This runs once per task (a million times for a million tiny chunks), so it works in preallocated typed
 * arrays: what depends only on the layer is prepared once, per slot, when the layer arrives.
 */
import { itemsize } from "../dtype.js";
import { Grid, blockAt } from "../grid.js";
import type { ChunkGeometry } from "../kernels/program.js";
import type { BoundBuffer, BoundSlot } from "./messages.js";

export interface Region {
  /** block index in the layer's grid, the global index of the first element, the extents */
  index: number[];
  start: number[];
  shape: number[];
}

/** Elements per component in a partial chunk of a region: the region's extents outside the reduced axes. */
export function partialElems(axes: readonly number[], shape: readonly number[]): number {
  let n = 1;
  for (let d = 0; d < shape.length; d++) if (!axes.includes(d)) n *= shape[d]!;
  return n;
}

const INDEX = 0;
const READ = 1;
const WRITE = 2;
const PARTIAL = 3;
const STREAM = 4;

/** What a slot's geometry needs, prepared once per layer. */
interface SlotPlan {
  kind: number;
  /** INDEX: value at the grid origin and strides per grid axis; RANDOM needs a unit innermost stride */
  offset: number;
  strides: Float64Array;
  unitOnly: boolean;
  /** READ / WRITE / PARTIAL: the buffer's chunk table (Float64 word index), grid and element size */
  tableWord: number;
  grid: Grid | null;
  bytes: number;
  /** READ / WRITE: per buffer axis, the grid axis it follows (-1: fixed), its step and offset */
  source: Int32Array;
  step: Float64Array;
  mapOffset: Float64Array;
  /** PARTIAL: which grid axes are reduced, and the component */
  reduced: Uint8Array;
  component: number;
}

export class TaskGeometry {
  private readonly plans: SlotPlan[];
  private readonly nd: number;
  /** the chunk tables: written before the layer's spec is sent, they never move, so one view serves */
  private readonly tables: Float64Array;
  // per-task scratch: slot bases and strides per grid axis, then the merged dims
  private readonly base: Float64Array;
  private readonly strides: Float64Array;
  private readonly cstrides: Float64Array;
  private readonly dimAxis = new Int32Array(32);
  private readonly dimLen = new Float64Array(32);
  private readonly geom: ChunkGeometry;

  constructor(slots: readonly BoundSlot[], nd: number, memory: ArrayBufferLike) {
    this.nd = nd;
    this.tables = new Float64Array(memory);
    this.plans = slots.map((s) => planSlot(s, nd));
    const n = slots.length;
    this.base = new Float64Array(n);
    this.strides = new Float64Array(n * nd);
    this.cstrides = new Float64Array(32);
    this.geom = { extents: [], rowLen: 0, slots: slots.map(() => ({ base: 0, last: 0, rows: [] })) };
  }

  /** Where stream slot i's slab is (the region passed to of() next, in C order there). */
  setStreamBase(i: number, address: number): void {
    this.base[i] = address;
  }

  /** Address of chunk k of a buffer. */
  chunkAddress(b: BoundBuffer, k: number): number {
    return this.tables[(b.table >>> 3) + k]!;
  }

  /**
   * Bases and per-axis strides of every slot over region r (into the scratch arrays). `task`: the task's
   * whole region when r is a slab of it (a streamed task): partial chunks are laid out over the task's.
   */
  private place(r: Region, chunkOfRegion: number, task: Region): void {
    const nd = this.nd;
    for (let i = 0; i < this.plans.length; i++) {
      const p = this.plans[i]!;
      const st = i * nd;
      if (p.kind === INDEX) {
        let base = p.offset;
        for (let g = 0; g < nd; g++) {
          base += p.strides[g]! * r.start[g]!;
          this.strides[st + g] = p.strides[g]!;
        }
        this.base[i] = base;
        continue;
      }
      if (p.kind === STREAM) {
        // the region itself, in C order, at the base setStreamBase gave
        let acc = 1;
        for (let g = nd - 1; g >= 0; g--) {
          this.strides[st + g] = acc;
          acc *= r.shape[g]!;
        }
        continue;
      }
      if (p.kind === PARTIAL) {
        // the partial buffer has a leading component axis of one block: its chunk k is the region's chunk
        let acc = 1;
        let n = 1;
        let at = 0;
        for (let g = nd - 1; g >= 0; g--) {
          if (p.reduced[g]) this.strides[st + g] = 0;
          else {
            this.strides[st + g] = acc;
            at += (r.start[g]! - task.start[g]!) * acc;
            acc *= task.shape[g]!;
            n *= task.shape[g]!;
          }
        }
        this.base[i] = this.tables[p.tableWord + chunkOfRegion]! + (p.component * n + at) * 8;
        continue;
      }
      // READ / WRITE: the chunk holding the region's first element, strides through the index map
      const g = p.grid!;
      const bnd = p.source.length;
      let chunk = 0;
      for (let k = 0; k < bnd; k++) {
        const j = p.source[k]! < 0 ? p.mapOffset[k]! : p.mapOffset[k]! + p.step[k]! * r.start[p.source[k]!]!;
        chunk = chunk * g.numblocks[k]! + blockAt(g.starts[k]!, j);
      }
      // C strides of that chunk, and the element offset of the region's start in it
      let c = chunk;
      let acc = 1;
      let offset = 0;
      for (let k = bnd - 1; k >= 0; k--) {
        const nb = g.numblocks[k]!;
        const b = c % nb;
        c = (c - b) / nb;
        this.cstrides[k] = acc;
        const j = p.source[k]! < 0 ? p.mapOffset[k]! : p.mapOffset[k]! + p.step[k]! * r.start[p.source[k]!]!;
        offset += (j - g.starts[k]![b]!) * acc;
        acc *= g.chunks[k]![b]!;
      }
      for (let a = 0; a < nd; a++) this.strides[st + a] = 0;
      for (let k = 0; k < bnd; k++) {
        const a = p.source[k]!;
        if (a >= 0) this.strides[st + a] = this.strides[st + a]! + p.step[k]! * this.cstrides[k]!;
      }
      this.base[i] = this.tables[p.tableWord + chunk]! + offset * p.bytes;
    }
  }

  /**
   * Geometry of region r (its chunk index in the layer's grid is `chunk`; a slab of region `task`, or the
   * task's whole region): drops dims of extent 1, merges
   * neighbouring dims where every slot is contiguous across them (unless `mergeRows` is off), and keeps
   * the innermost stride of sink slots at 0 or 1 and of RANDOM's index slots at 1 (else the innermost dim
   * becomes a row dim and rows have length 1). The result is reused by the next call.
   */
  of(r: Region, chunk: number, mergeRows: boolean, task: Region = r): ChunkGeometry {
    const nd = this.nd;
    const n = this.plans.length;
    const geom = this.geom;
    this.place(r, chunk, task);
    geom.extents.length = 0;
    let empty = false;
    for (let g = 0; g < nd; g++) if (r.shape[g] === 0) empty = true;
    if (empty) {
      geom.extents.push(0);
      geom.rowLen = 0;
      for (let i = 0; i < n; i++) {
        const s = geom.slots[i]!;
        s.base = this.base[i]!;
        s.last = 0;
        s.rows.length = 1;
        s.rows[0] = 0;
      }
      return geom;
    }
    // dims of extent > 1, innermost first: merged from the innermost outward while every slot's stride
    // along the next axis out is its stride along the merged dim times the merged length
    const S = this.strides;
    let m = 0;
    const axes = this.dimAxis;
    const lens = this.dimLen;
    for (let g = nd - 1; g >= 0; g--) {
      const len = r.shape[g]!;
      if (len === 1) continue;
      if (mergeRows && m > 0) {
        const a = axes[m - 1]!;
        const l = lens[m - 1]!;
        let ok = true;
        for (let i = 0; i < n && ok; i++) ok = S[i * nd + g] === S[i * nd + a]! * l;
        if (ok) {
          lens[m - 1] = l * len;
          continue;
        }
      }
      axes[m] = g;
      lens[m] = len;
      m++;
    }
    // the innermost merged dim is the row, unless some slot cannot stride along it
    let row = m > 0;
    for (let i = 0; i < n && row; i++) row = this.innermostOk(i, S[i * nd + axes[0]!]!);
    const first = row ? 1 : 0;
    geom.rowLen = row ? lens[0]! : 1;
    for (let q = m - 1; q >= first; q--) geom.extents.push(lens[q]!);
    for (let i = 0; i < n; i++) {
      const s = geom.slots[i]!;
      s.base = this.base[i]!;
      s.last = row ? S[i * nd + axes[0]!]! : this.plans[i]!.kind === INDEX ? 1 : 0;
      s.rows.length = 0;
      for (let q = m - 1; q >= first; q--) s.rows.push(S[i * nd + axes[q]!]!);
    }
    return geom;
  }

  private innermostOk(i: number, stride: number): boolean {
    const p = this.plans[i]!;
    if (p.kind === WRITE || p.kind === PARTIAL) return stride === 0 || stride === 1;
    if (p.kind === READ || p.kind === STREAM) return true;
    return p.unitOnly ? stride === 1 : true;
  }
}

function planSlot(s: BoundSlot, nd: number): SlotPlan {
  const p: SlotPlan = {
    kind: INDEX,
    offset: 0,
    strides: new Float64Array(nd),
    unitOnly: false,
    tableWord: 0,
    grid: null,
    bytes: 8,
    source: new Int32Array(0),
    step: new Float64Array(0),
    mapOffset: new Float64Array(0),
    reduced: new Uint8Array(nd),
    component: 0,
  };
  if (s.kind === "index") {
    p.offset = s.offset;
    p.strides.set(s.strides);
    p.unitOnly = s.contiguous;
    return p;
  }
  if (s.kind === "stream") {
    p.kind = STREAM;
    p.bytes = itemsize(s.dtype);
    return p;
  }
  p.tableWord = s.buffer.table >>> 3;
  p.grid = new Grid(s.buffer);
  p.bytes = itemsize(s.buffer.dtype);
  if (s.kind === "partial") {
    p.kind = PARTIAL;
    for (const a of s.axes) p.reduced[a] = 1;
    p.component = s.component;
    return p;
  }
  const bnd = s.buffer.shape.length;
  p.kind = s.kind === "read" ? READ : WRITE;
  p.source = new Int32Array(bnd);
  p.step = new Float64Array(bnd);
  p.mapOffset = new Float64Array(bnd);
  for (let k = 0; k < bnd; k++) {
    if (s.kind === "read") {
      p.source[k] = s.map.step[k] === 0 ? -1 : s.map.source[k]!;
      p.step[k] = s.map.step[k]!;
      p.mapOffset[k] = s.map.offset[k]!;
    } else {
      p.source[k] = k;
      p.step[k] = 1;
      p.mapOffset[k] = 0;
    }
  }
  return p;
}
