/**
 * The default compute backend: where a plain `x.compute()` runs when it is not this process's engine.
 * One explicit registry, the only one: a cluster Client puts itself here with `client.asDefault()` and
 * takes itself out when it closes, so while it is open `compute()` runs on its cluster. The array layer
 * only knows this interface (the cluster layer sits above it and implements it).
 *
 * Writes to files (toZarr, saveNpy) run in this process whatever is set here.
 */
import type { OutputRequest } from "../graph/lower.js";
import type { Chunks, Node, StoredNode } from "../graph/nodes.js";
import type { ProgressEvent } from "../scheduler/run-on-pool.js";
import type { RunResult } from "../scheduler/results.js";

export interface ComputeBackend {
  /** Computes the outputs (none persisted, none written to storage): the results a local run gives. */
  computeOutputs(outputs: OutputRequest[], opts: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void }): Promise<RunResult[]>;
  /** Computes `node` on `chunks` and keeps it where the backend computes (persist): the stored node to read it from. */
  persistOutput(node: Node, chunks: Chunks, opts: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void }): Promise<StoredNode>;
}

let current: ComputeBackend | null = null;

export const defaultBackend = {
  /** The backend compute() uses, or null: this process's engine. */
  get(): ComputeBackend | null {
    return current;
  },
  /** Makes `b` the default (replacing any other). */
  set(b: ComputeBackend): void {
    current = b;
  },
  /** Removes `b` if it is the default (a closing client does not remove another one that took its place). */
  clear(b: ComputeBackend): void {
    if (current === b) current = null;
  },
};
