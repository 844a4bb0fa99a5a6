/**
 * Rank-partitioned execution. Every rank lowers the same graph to the same plan (checked by a
 * fingerprint); each stage's chunks are split into contiguous ranges, one per rank; after a stage the
 * ranks exchange what they computed (reduction partials and written array regions), so every rank
 * then holds exactly what a single process would have, and combines partials in the same fixed tree:
 * results are bit-identical for any rank count.
 */
import { ComputeError } from "../errors.js";
import type { Step, WrittenArray } from "./plan.js";
import { Grid } from "../worker/geometry.js";

/** What the scheduler needs of the rank layer. */
export interface RankComm {
  readonly rank: number;
  readonly size: number;
  allgatherBytes(bytes: Uint8Array): Promise<Uint8Array[]>;
}

/** Chunks [lo, hi) of n that `rank` computes: contiguous, balanced, the same on every rank. */
export function rankRange(n: number, rank: number, size: number): [number, number] {
  return [Math.floor((rank * n) / size), Math.floor(((rank + 1) * n) / size)];
}

const ITEM = { float64: 8, float32: 4, int32: 4, bool: 1 } as const;

/** Calls fn(offsetElements, runLength) for each contiguous run of chunk k's region in a C-order array. */
function forEachRun(grid: Grid, w: WrittenArray, k: number, fn: (off: number, len: number) => void): void {
  const { start, shape } = grid.chunk(k);
  const nd = shape.length;
  if (shape.some((n) => n === 0)) return;
  if (nd === 0) return fn(0, 1);
  const strides: number[] = new Array(nd);
  let acc = 1;
  for (let d = nd - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= w.shape[d]!;
  }
  const idx = new Array(nd - 1).fill(0);
  const runLen = shape[nd - 1]!;
  for (;;) {
    let off = start[nd - 1]!;
    for (let d = 0; d < nd - 1; d++) off += (start[d]! + idx[d]) * strides[d]!;
    fn(off, runLen);
    let d = nd - 2;
    while (d >= 0 && ++idx[d] === shape[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/** Bytes rank r contributes for a stage: its partial ranges, then its chunks' regions of each written array. */
function sectionBytes(step: Extract<Step, { kind: "stage" }>, grid: Grid, lo: number, hi: number): number {
  let bytes = 0;
  for (const p of step.spec.partials) bytes += (hi < grid.nchunks ? p.offsets[hi]! : p.end) - (lo < grid.nchunks ? p.offsets[lo]! : p.end);
  for (const w of step.writes) for (let k = lo; k < hi; k++) forEachRun(grid, w, k, (_o, len) => (bytes += len * ITEM[w.dtype]));
  return bytes;
}

/** After a stage ran on this rank's range: gives every rank every rank's results. */
export async function exchangeStage(step: Extract<Step, { kind: "stage" }>, comm: RankComm, buffer: () => ArrayBufferLike): Promise<void> {
  const grid = new Grid(step.spec.grid);
  const n = grid.nchunks;
  const [lo, hi] = rankRange(n, comm.rank, comm.size);
  const mine = new Uint8Array(sectionBytes(step, grid, lo, hi));
  walk(step, grid, lo, hi, buffer(), mine, "pack");
  const all = await comm.allgatherBytes(mine);
  if (all.length !== comm.size) throw new ComputeError("TASK_FAILED", `exchange returned ${all.length} sections for ${comm.size} ranks`);
  for (let r = 0; r < comm.size; r++) {
    if (r === comm.rank) continue;
    const [a, b] = rankRange(n, r, comm.size);
    const want = sectionBytes(step, grid, a, b);
    if (all[r]!.byteLength !== want) {
      throw new ComputeError("GRAPH_MISMATCH", `rank ${r} sent ${all[r]!.byteLength} bytes for stage ${step.spec.id}, expected ${want}: ranks run different graphs`);
    }
    walk(step, grid, a, b, buffer(), all[r]!, "unpack");
  }
}

function walk(step: Extract<Step, { kind: "stage" }>, grid: Grid, lo: number, hi: number, buf: ArrayBufferLike, sec: Uint8Array, dir: "pack" | "unpack"): void {
  const mem = new Uint8Array(buf);
  let at = 0;
  const move = (addr: number, len: number) => {
    if (dir === "pack") sec.set(mem.subarray(addr, addr + len), at);
    else mem.set(sec.subarray(at, at + len), addr);
    at += len;
  };
  for (const p of step.spec.partials) {
    const a = lo < grid.nchunks ? p.offsets[lo]! : p.end;
    const b = hi < grid.nchunks ? p.offsets[hi]! : p.end;
    move(a, b - a);
  }
  for (const w of step.writes) {
    const item = ITEM[w.dtype];
    for (let k = lo; k < hi; k++) forEachRun(grid, w, k, (off, len) => move(w.addr + off * item, len * item));
  }
}
