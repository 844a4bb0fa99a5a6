/**
 * An array persisted on a cluster (client.persist): its chunks stay in the workers' memory, held by the
 * resident run that computed them (cluster-run.ts: a run whose persisted outputs are never gathered and
 * never released until the array is). A later compute reads it as an input whose chunks are fetched
 * from the workers holding them, tasks going where they are; a chunk lost with a worker is recomputed
 * by the resident run from its lineage. It is the `store` of the array's stored node (opaque to the
 * graph); a local compute refuses it (scheduler/memory.ts).
 */
import type { DType } from "../dtype.js";

/** What a reading run needs of the resident run holding the chunks. */
export interface ResidentChunks {
  readonly id: number;
  /** the chunk is complete and held by a live worker */
  available(c: number): boolean;
  /** the worker holding chunk c (and those holding copies) */
  holders(c: number): number[];
}

export class ClusterStore {
  released = false;

  constructor(
    readonly run: ResidentChunks,
    /** the global number of the run's chunk 0 of the persisted buffer */
    readonly base: number,
    readonly shape: number[],
    readonly dtype: DType,
    readonly chunks: number[][],
    /** identifies the persisted array in plans (equal plans over equal inputs hash alike) */
    readonly fingerprint: string,
  ) {}

  /** The resident run's global chunk number of chunk k. */
  chunkOf(k: number): number {
    return this.base + k;
  }
}
