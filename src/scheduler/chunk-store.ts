/**
 * A persisted array, chunk by chunk (dask's persist): each chunk is contiguous, in the engine's kernel
 * memory where later tasks read it in place, or, when that memory is full, in ordinary JS memory, from
 * which a task that reads it gets a copy (the copy costs about what reading the chunk once does).
 *
 * The store owns its chunks: they are freed when the array that holds the store is garbage (the heap
 * adopts the store) or when the store is released.
 */
import type { DType } from "../dtype.js";
import { itemsize } from "../dtype.js";
import { Grid } from "../grid.js";

export class ChunkStore {
  readonly grid: Grid;
  /** kernel byte address of each chunk, or -1 when the chunk is held in `host` */
  readonly addrs: Float64Array;
  readonly host: (ArrayBuffer | null)[];
  /** chunks held in `host` (moved there by Heap.spill; none come back): a task of this store's may copy in */
  spilledChunks = 0;
  released = false;

  constructor(
    /** the kernel memory the addresses point into */
    readonly home: object,
    readonly shape: number[],
    readonly dtype: DType,
    readonly chunks: number[][],
    /** the same on every rank for the same persisted array */
    readonly fingerprint: string,
  ) {
    this.grid = new Grid({ shape, chunks });
    this.addrs = new Float64Array(this.grid.nchunks).fill(-1);
    this.host = new Array<ArrayBuffer | null>(this.grid.nchunks).fill(null);
  }

  chunkBytes(k: number): number {
    return this.grid.chunkSize(k) * itemsize(this.dtype);
  }

  /** Bytes held in kernel memory. */
  residentBytes(): number {
    let n = 0;
    for (let k = 0; k < this.addrs.length; k++) if (this.addrs[k]! >= 0) n += this.chunkBytes(k);
    return n;
  }
}
