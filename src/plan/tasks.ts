/**
 * The chunk tasks of a plan, derived from its layers: how many each layer has, and which buffer chunks
 * each task reads and writes. Pure functions of the plan: the scheduler builds its dependency counts
 * from them, rank ownership and transfers follow from them, and tests check them directly.
 */
import { Grid, blockAt, boxBlock, boxSize } from "../grid.js";
import { applyMap } from "../index-map.js";
import { operandBlock } from "../gemm-blocks.js";
import type { BufferDecl, CombineLayer, GemmLayer, Layer, Plan, ProgramLayer, TakeLayer } from "./types.js";

/** Buffers whose chunks are stored somewhere: an alias reads its source's chunks. */
export function storageOf(plan: Plan, buffer: number): number {
  let b = plan.buffers[buffer]!;
  while (b.alias !== undefined) b = plan.buffers[b.alias]!;
  return b.id;
}

const gridOf = (b: BufferDecl) => new Grid({ shape: b.shape, chunks: b.chunks });

/** One (buffer, chunk) access of a task; `buffer` is a storage buffer (aliases resolved). */
export interface Access {
  buffer: number;
  chunk: number;
}

/**
 * How one program slot's chunk follows from a task's block: per buffer axis, the buffer block of every
 * block of the grid axis it follows (or a fixed block), weighted by the buffer's C-order block strides.
 */
interface SlotChunks {
  buffer: number;
  write: boolean;
  /** per buffer axis: the grid axis it follows (-1: fixed), the block of each grid block, the fixed block */
  axes: { from: number; blocks: Int32Array; fixed: number; weight: number }[];
}

/**
 * The tasks of one layer. `visit(t, onRead, onWrite)` calls back with task t's reads and writes (storage
 * buffers; a chunk read through two slots is visited twice) without allocating; `accesses(t)` lists
 * them, deduplicated.
 */
export class LayerTasks {
  readonly count: number;
  private slotChunks: SlotChunks[] = [];
  private readonly blockScratch: number[] = [];
  private readonly grids = new Map<number, Grid>();
  private readonly layerGrid: Grid | null;
  /** combine layers: per kept axis of the partial grid, the first refined block of each output block */
  private readonly firstBlock: number[][] = [];
  /** program layers: each scan carry's buffer, axis, and the C weights of the grid's blocks */
  private readonly carries: { buffer: number; axis: number }[] = [];
  private readonly blockWeights: number[] = [];

  constructor(
    private readonly plan: Plan,
    readonly layer: Layer,
  ) {
    const bufGrid = (id: number) => {
      let g = this.grids.get(id);
      if (!g) this.grids.set(id, (g = gridOf(plan.buffers[id]!)));
      return g;
    };
    if (layer.kind === "program") {
      this.layerGrid = new Grid(layer.grid);
      this.count = boxSize(layer.box);
      for (const s of plan.kernels[layer.kernel]!.slots) if (s.kind !== "index" && s.kind !== "stream") bufGrid(s.buffer);
      this.slotChunks = this.programSlotChunks(layer);
      for (const c of layer.carries) this.carries.push({ buffer: storageOf(plan, c.buffer), axis: c.axis });
      let w = 1;
      for (let d = this.layerGrid.numblocks.length - 1; d >= 0; d--) {
        this.blockWeights[d] = w;
        w *= this.layerGrid.numblocks[d]!;
      }
    } else if (layer.kind === "mapBlocks") {
      this.layerGrid = null;
      this.count = bufGrid(layer.input).nchunks;
      bufGrid(layer.output);
    } else if (layer.kind === "read") {
      this.layerGrid = null;
      this.count = bufGrid(layer.output).nchunks;
    } else if (layer.kind === "write") {
      this.layerGrid = null;
      this.count = bufGrid(layer.input).nchunks;
    } else if (layer.kind === "take") {
      this.layerGrid = null;
      this.count = bufGrid(layer.output).nchunks;
      bufGrid(layer.input);
      if (layer.indexBuffer !== undefined) bufGrid(layer.indexBuffer);
    } else if (layer.kind === "gemm") {
      this.layerGrid = null;
      this.count = bufGrid(layer.output).nchunks;
      bufGrid(layer.a);
      bufGrid(layer.b);
    } else {
      this.layerGrid = new Grid(layer.grid);
      this.count = bufGrid(layer.output).nchunks;
      bufGrid(layer.partial);
      this.firstBlock = combineRanges(layer, this.layerGrid, plan.buffers[layer.output]!);
    }
  }

  grid(buffer: number): Grid {
    return this.grids.get(buffer)!;
  }

  private programSlotChunks(l: ProgramLayer): SlotChunks[] {
    const g = this.layerGrid!;
    const nd = g.shape.length;
    const out: SlotChunks[] = [];
    for (const s of this.plan.kernels[l.kernel]!.slots) {
      if (s.kind === "index" || s.kind === "stream") continue; // (a stream is read from its file: no chunk)
      const bg = this.grids.get(s.buffer)!;
      const buffer = storageOf(this.plan, s.buffer);
      const bnd = bg.shape.length;
      const weights = new Array<number>(bnd);
      let w = 1;
      for (let k = bnd - 1; k >= 0; k--) {
        weights[k] = w;
        w *= bg.numblocks[k]!;
      }
      const axes: SlotChunks["axes"] = [];
      if (s.kind === "partial") {
        // the partial buffer has a leading component axis of one block, then the grid's blocks
        for (let d = 0; d < nd; d++) axes.push({ from: d, blocks: Int32Array.from({ length: g.numblocks[d]! }, (_, b) => b), fixed: 0, weight: weights[d + 1]! });
        out.push({ buffer, write: true, axes });
        continue;
      }
      const map = s.kind === "read" ? s.map : { source: [...Array(nd).keys()], step: new Array<number>(nd).fill(1), offset: new Array<number>(nd).fill(0) };
      for (let k = 0; k < bnd; k++) {
        const from = map.source[k]!;
        const starts = bg.starts[k]!;
        const at = (pos: number) => blockAt(starts, pos);
        if (from < 0 || map.step[k] === 0) axes.push({ from: -1, blocks: new Int32Array(0), fixed: at(map.offset[k]!), weight: weights[k]! });
        else {
          const gs = g.starts[from]!;
          const blocks = Int32Array.from({ length: g.numblocks[from]! }, (_, b) => at(map.offset[k]! + map.step[k]! * gs[b]!));
          axes.push({ from, blocks, fixed: 0, weight: weights[k]! });
        }
      }
      out.push({ buffer, write: s.kind === "write", axes });
    }
    return out;
  }

  /** Task t's reads and writes, as (storage buffer, chunk) calls; nothing is allocated for program layers. */
  visit(t: number, onRead: (buffer: number, chunk: number) => void, onWrite: (buffer: number, chunk: number) => void): void {
    const l = this.layer;
    if (l.kind !== "program") {
      const a = this.accesses(t);
      for (const r of a.reads) onRead(r.buffer, r.chunk);
      for (const w of a.writes) onWrite(w.buffer, w.chunk);
      return;
    }
    const block = boxBlock(l.box, t, this.blockScratch);
    for (const sc of this.slotChunks) {
      let c = 0;
      for (const ax of sc.axes) c += (ax.from < 0 ? ax.fixed : ax.blocks[block[ax.from]!]!) * ax.weight;
      if (sc.write) onWrite(sc.buffer, c);
      else onRead(sc.buffer, c);
    }
    if (this.carries.length) this.carryReads(block, onRead);
  }

  /** A scan task reads the carry of the block before it along the scan axis (its chunk in the carry buffer). */
  private carryReads(block: readonly number[], onRead: (buffer: number, chunk: number) => void): void {
    for (const c of this.carries) {
      if (block[c.axis] === 0) continue;
      let k = 0;
      for (let d = 0; d < block.length; d++) k += block[d]! * this.blockWeights[d]!;
      onRead(c.buffer, k - this.blockWeights[c.axis]!);
    }
  }

  /** Task t's distinct accesses: reads then writes. */
  accesses(t: number): { reads: Access[]; writes: Access[] } {
    const reads: Access[] = [];
    const writes: Access[] = [];
    const add = (list: Access[], buffer: number, chunk: number) => {
      const b = storageOf(this.plan, buffer);
      for (const a of list) if (a.buffer === b && a.chunk === chunk) return;
      list.push({ buffer: b, chunk });
    };
    const l = this.layer;
    if (l.kind === "program") this.programAccesses(l, t, (buf, c, w) => add(w ? writes : reads, buf, c));
    else if (l.kind === "mapBlocks") {
      add(reads, l.input, t);
      add(writes, l.output, t);
    } else if (l.kind === "read") {
      add(writes, l.output, t);
    } else if (l.kind === "write") {
      add(reads, l.input, t);
    } else if (l.kind === "take") {
      this.takeReads(l, t, (b, c) => add(reads, b, c));
      add(writes, l.output, t);
    } else if (l.kind === "gemm") {
      this.gemmReads(l, t, (b, c) => add(reads, b, c));
      add(writes, l.output, t);
    } else {
      // distinct by construction (and there can be a million of them): no search for duplicates
      const b = storageOf(this.plan, l.partial);
      this.combineReads(l, t, (c) => reads.push({ buffer: b, chunk: c }));
      add(writes, l.output, t);
    }
    return { reads, writes };
  }

  private programAccesses(l: ProgramLayer, t: number, cb: (buffer: number, chunk: number, write: boolean) => void): void {
    const g = this.layerGrid!;
    const block = boxBlock(l.box, t);
    const start = block.map((b, d) => g.starts[d]![b]!);
    for (const s of this.plan.kernels[l.kernel]!.slots) {
      if (s.kind === "index" || s.kind === "stream") continue;
      const bg = this.grids.get(s.buffer)!;
      if (s.kind === "partial") cb(s.buffer, g.chunkIndex(block), true);
      else if (s.kind === "read") cb(s.buffer, chunkHolding(bg, applyMap(s.map, start)), false);
      else cb(s.buffer, chunkHolding(bg, start), true);
    }
    this.carryReads(block, (b, c) => cb(b, c, false));
  }

  /**
   * A take's reads for output chunk t: the input chunks its indices fall in (with lazy indices, every
   * input block along the axis, and the chunk of indices).
   */
  private takeReads(l: TakeLayer, t: number, cb: (buffer: number, chunk: number) => void): void {
    const out = this.grids.get(l.output)!;
    const inp = this.grids.get(l.input)!;
    const oc = out.chunk(t);
    const index = [...oc.index];
    const along = (b: number) => {
      index[l.axis] = b;
      cb(l.input, inp.chunkIndex(index));
    };
    if (l.indices) {
      const seen = new Set<number>();
      for (let i = oc.start[l.axis]!; i < oc.start[l.axis]! + oc.shape[l.axis]!; i++) {
        const b = inp.holding(oc.start.map((s, d) => (d === l.axis ? l.indices![i]! : s))).chunk;
        if (!seen.has(b)) {
          seen.add(b);
          cb(l.input, b);
        }
      }
      return;
    }
    cb(l.indexBuffer!, oc.index[l.axis]!);
    for (let b = 0; b < inp.numblocks[l.axis]!; b++) along(b);
  }

  /** A gemm task's reads: A's blocks along its row of blocks and B's down its column, for every block of K. */
  private gemmReads(l: GemmLayer, t: number, cb: (buffer: number, chunk: number) => void): void {
    const out = this.grids.get(l.output)!.chunk(t).index;
    const a = this.grids.get(l.a)!;
    const b = this.grids.get(l.b)!;
    const nk = a.numblocks[a.numblocks.length - 1]!;
    const idx: number[] = [];
    for (let kb = 0; kb < nk; kb++) {
      cb(l.a, a.chunkIndex(operandBlock(a.shape, out, kb, "a", idx)));
      cb(l.b, b.chunkIndex(operandBlock(b.shape, out, kb, "b", idx)));
    }
  }

  /** The partial chunks combined into output chunk t: every block of the partial grid inside it. */
  private combineReads(l: CombineLayer, t: number, cb: (chunk: number) => void): void {
    for (const g of this.combineGroups(t)) for (const c of g.chunks) cb(c);
  }

  /**
   * Combine layers: the groups of partial chunks that make output chunk t. A group is one block of the
   * partial grid along the kept axes (`index`: its block index in the partial grid, reduced axes 0) with
   * its chunks along the reduced axes in C order, the order of the fixed combining tree.
   */
  combineGroups(t: number): { index: number[]; chunks: number[] }[] {
    const l = this.layer as CombineLayer;
    const g = this.layerGrid!;
    const oblock = this.grids.get(l.output)!.chunk(t).index;
    const nd = g.shape.length;
    const kept: [number, number][] = [];
    const reduced: number[] = [];
    let q = 0;
    for (let d = 0; d < nd; d++) {
      if (l.axes.includes(d)) {
        reduced.push(d);
        kept.push([0, 1]);
        if (l.keepdims) q++;
        continue;
      }
      const first = this.firstBlock[d]!;
      kept.push([first[oblock[q]!]!, first[oblock[q]! + 1]!]);
      q++;
    }
    const groups: { index: number[]; chunks: number[] }[] = [];
    if (kept.some((r) => r[1] <= r[0]) || reduced.some((d) => g.numblocks[d]! === 0)) return groups;
    for (const index of boxes(kept)) {
      const chunks: number[] = [];
      const idx = [...index];
      for (const red of boxes(reduced.map((d) => [0, g.numblocks[d]!] as [number, number]))) {
        reduced.forEach((d, i) => (idx[d] = red[i]!));
        chunks.push(g.chunkIndex(idx));
      }
      groups.push({ index, chunks });
    }
    return groups;
  }
}

/** Every index of a box of ranges [lo, hi) per axis, in C order. */
function* boxes(ranges: readonly [number, number][]): Generator<number[]> {
  if (ranges.some((r) => r[1] <= r[0])) return;
  const idx = ranges.map((r) => r[0]);
  for (;;) {
    yield [...idx];
    let d = ranges.length - 1;
    while (d >= 0 && ++idx[d]! === ranges[d]![1]) idx[d] = ranges[d]![0], d--;
    if (d < 0) return;
  }
}

/** The chunk of grid g holding global index j. */
export const chunkHolding = (g: Grid, j: readonly number[]): number => g.holding(j).chunk;

/**
 * For a combine layer, per kept axis d of the partial grid: firstBlock[d][o] is the first refined block of
 * output block o (the partial grid refines the output's chunks), with one extra entry at the end.
 */
function combineRanges(l: CombineLayer, g: Grid, out: BufferDecl): number[][] {
  const res: number[][] = [];
  let q = 0;
  for (let d = 0; d < g.shape.length; d++) {
    if (l.axes.includes(d)) {
      res.push([]);
      if (l.keepdims) q++;
      continue;
    }
    const outStarts = [0];
    for (const b of out.chunks[q]!) outStarts.push(outStarts[outStarts.length - 1]! + b);
    const first: number[] = [];
    let r = 0;
    for (const s of outStarts) {
      while (r < g.numblocks[d]! && g.starts[d]![r]! < s) r++;
      first.push(r);
    }
    first[first.length - 1] = g.numblocks[d]!;
    res.push(first);
    q++;
  }
  return res;
}

