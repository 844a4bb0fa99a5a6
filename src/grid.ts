/**
 * Chunk grids: an array's shape split into blocks along every axis (dask's normalized chunks), and the
 * index arithmetic every layer shares (a leaf module: plans, the scheduler and the workers all use it).
 *
 * A *box* of a grid is a range of block indices [lo_d, hi_d) per axis; the tasks of a plan layer run over
 * the blocks of a box in C order, so task t of a box is block `lo + unravel(t, hi - lo)`.
 */

/** Block sizes along each axis (dask's normalized chunks). */
export type Chunks = number[][];

export interface GridSpec {
  shape: number[];
  chunks: number[][];
}

export const sizeOf = (shape: readonly number[]): number => {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
};

/** C-order strides in elements. */
export const cStrides = (shape: readonly number[]): number[] => {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= shape[d]!;
  }
  return st;
};

/** Starts of each block along an axis: [0, b0, b0+b1, ...] (length blocks + 1). */
export const blockStarts = (blocks: readonly number[]): number[] => {
  const s = new Array<number>(blocks.length + 1);
  s[0] = 0;
  for (let i = 0; i < blocks.length; i++) s[i + 1] = s[i]! + blocks[i]!;
  return s;
};

/** The largest block of a list (no spread: a list can hold a million blocks). */
export const maxBlock = (blocks: readonly number[]): number => {
  let m = 0;
  for (const b of blocks) if (b > m) m = b;
  return m;
};

/** Index of the block holding position `pos` (starts from blockStarts; pos inside [0, total)). */
export function blockAt(starts: readonly number[], pos: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface ChunkPlace {
  /** block index along each axis */
  index: number[];
  /** global index of the chunk's first element */
  start: number[];
  shape: number[];
}

/** A grid with block starts precomputed. */
export class Grid {
  readonly shape: number[];
  readonly chunks: number[][];
  readonly starts: number[][];
  readonly numblocks: number[];
  readonly nchunks: number;

  constructor(spec: GridSpec) {
    this.shape = spec.shape;
    this.chunks = spec.chunks;
    this.starts = spec.chunks.map(blockStarts);
    this.numblocks = spec.chunks.map((c) => c.length);
    this.nchunks = sizeOf(this.numblocks);
  }

  /** Block index, start and shape of chunk k (C order over blocks). */
  chunk(k: number): ChunkPlace {
    const nd = this.shape.length;
    const index = new Array<number>(nd);
    const start = new Array<number>(nd);
    const shape = new Array<number>(nd);
    for (let d = nd - 1; d >= 0; d--) {
      const nb = this.numblocks[d]!;
      const b = k % nb;
      k = (k - b) / nb;
      index[d] = b;
      start[d] = this.starts[d]![b]!;
      shape[d] = this.chunks[d]![b]!;
    }
    return { index, start, shape };
  }

  /** Chunk number (C order) of a block index. */
  chunkIndex(index: readonly number[]): number {
    let k = 0;
    for (let d = 0; d < index.length; d++) k = k * this.numblocks[d]! + index[d]!;
    return k;
  }

  /** The chunk holding global index j (an empty axis has one empty block, which holds everything). */
  holding(j: readonly number[]): { chunk: number; start: number[]; shape: number[] } {
    const nd = j.length;
    const start = new Array<number>(nd);
    const shape = new Array<number>(nd);
    let chunk = 0;
    for (let d = 0; d < nd; d++) {
      const b = blockAt(this.starts[d]!, j[d]!);
      chunk = chunk * this.numblocks[d]! + b;
      start[d] = this.starts[d]![b]!;
      shape[d] = this.chunks[d]![b]!;
    }
    return { chunk, start, shape };
  }

  /** Elements in chunk k. */
  chunkSize(k: number): number {
    let n = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      const nb = this.numblocks[d]!;
      const b = k % nb;
      k = (k - b) / nb;
      n *= this.chunks[d]![b]!;
    }
    return n;
  }

  /** Elements of the largest chunk. */
  maxChunkSize(): number {
    return this.chunks.reduce((a, c) => a * maxBlock(c), 1);
  }
}

/** A range of blocks [lo_d, hi_d) per axis of a grid. */
export interface Box {
  lo: number[];
  hi: number[];
}

export const wholeBox = (g: GridSpec): Box => ({ lo: g.chunks.map(() => 0), hi: g.chunks.map((c) => c.length) });

export const boxSize = (b: Box): number => {
  let n = 1;
  for (let d = 0; d < b.lo.length; d++) n *= b.hi[d]! - b.lo[d]!;
  return n;
};

/** Block index of task t of a box (C order over the box). */
export function boxBlock(b: Box, t: number, out: number[] = new Array<number>(b.lo.length)): number[] {
  for (let d = b.lo.length - 1; d >= 0; d--) {
    const n = b.hi[d]! - b.lo[d]!;
    const i = t % n;
    t = (t - i) / n;
    out[d] = b.lo[d]! + i;
  }
  return out;
}

/**
 * For each contiguous run of the region (start, shape) inside an array of `full` shape, calls
 * fn(offset in the whole array, offset in the region, length), in C order.
 */
export function forEachRun(full: readonly number[], start: readonly number[], shape: readonly number[], fn: (whole: number, local: number, len: number) => void): void {
  const nd = shape.length;
  for (const n of shape) if (n === 0) return;
  if (nd === 0) return fn(0, 0, 1);
  const strides = cStrides(full);
  // merge trailing axes the region covers entirely into one run
  let inner = nd - 1;
  let runLen = shape[nd - 1]!;
  while (inner > 0 && shape[inner] === full[inner] && start[inner] === 0) {
    inner--;
    runLen *= shape[inner]!;
  }
  const outer = inner; // axes [0, outer) are walked one index at a time
  const idx = new Array<number>(outer).fill(0);
  let local = 0;
  for (;;) {
    let whole = 0;
    for (let d = 0; d < outer; d++) whole += (start[d]! + idx[d]!) * strides[d]!;
    for (let d = outer; d < nd; d++) whole += start[d]! * strides[d]!;
    fn(whole, local, runLen);
    local += runLen;
    let d = outer - 1;
    while (d >= 0 && ++idx[d]! === shape[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

