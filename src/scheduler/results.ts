/**
 * Collects a run's outputs: chunks of arrays are copied into the result as soon as each is complete (and
 * their kernel memory goes back at once), persisted outputs become chunk stores, 0-d reductions numbers.
 */
import { TesseraError } from "../errors.js";
import { typedArrayFor, type DType, type TypedArray } from "../dtype.js";
import { Grid, sizeOf } from "../grid.js";
import { storageOf } from "../plan/tasks.js";
import type { Plan } from "../plan/types.js";
import { ChunkStore } from "./chunk-store.js";
import type { ChunkMemory } from "./memory.js";
import { copyInto } from "./regions.js";

/** A raw array result; the array layer wraps it in an NDArray. */
export interface RawArray {
  shape: number[];
  dtype: DType;
  data: TypedArray;
  /** set when data is a view into the run's kernel memory at this byte address (views mode) */
  addr?: number;
}

export type RunResult = number | boolean | RawArray | ChunkStore;

/** The largest typed array a JS engine holds (V8: 2^32 elements): a bigger result is refused up front. */
const MAX_RESULT_ELEMS = 2 ** 32 - 1;

export class OutputCollector {
  private readonly arrays = new Map<number, TypedArray>(); // output buffer -> whole result
  /** persisted outputs: their chunks move into the store as soon as each is complete */
  private readonly stores = new Map<number, ChunkStore>();

  /** `views`: one-chunk outputs stay in kernel memory and are returned as views (the caller owns their lifetime) */
  constructor(
    private readonly plan: Plan,
    private readonly memory: ChunkMemory,
    private readonly views = false,
    home: object = {},
    fingerprint: (i: number) => string = () => "",
  ) {
    plan.outputs.forEach((o, i) => {
      const b = plan.buffers[o.buffer]!;
      if (o.persist) {
        this.stores.set(storageOf(plan, o.buffer), new ChunkStore(home, [...b.shape], b.dtype, b.chunks.map((c) => [...c]), fingerprint(i)));
        return;
      }
      if (this.arrays.has(o.buffer) || this.isView(o.buffer)) return;
      const n = sizeOf(b.shape);
      if (n > MAX_RESULT_ELEMS) {
        throw new TesseraError(
          "TOO_LARGE",
          `a result of shape [${b.shape.join(", ")}] has ${n} elements, more than the ${MAX_RESULT_ELEMS} a JS typed array holds: compute a reduction or a slice of it, or persist it`,
        );
      }
      this.arrays.set(storageOf(plan, o.buffer), typedArrayFor(b.dtype, n));
    });
  }

  /** The persisted outputs' stores (the heap may spill their chunks while the run goes on). */
  persisted(): ChunkStore[] {
    return [...this.stores.values()];
  }

  /** A persisted chunk is complete and no task of the run reads it any more: it belongs to its store now. */
  onPersisted(buffer: number, k: number): void {
    const store = this.stores.get(buffer)!;
    store.addrs[k] = this.memory.detach(buffer, k);
  }

  private isView(buffer: number): boolean {
    const b = this.plan.buffers[buffer]!;
    return this.views && b.chunks.every((c) => c.length === 1);
  }

  /** A chunk of an output buffer is complete: copy it out. True: its memory may go back now. */
  onOutput(buffer: number, k: number): boolean {
    const whole = this.arrays.get(buffer);
    if (!whole) return false;
    const b = this.plan.buffers[buffer]!;
    const c = new Grid(b).chunk(k);
    copyInto(whole, b.shape, c.start, c.shape, this.memory.view(buffer, k));
    return true;
  }

  /** The results, one per output, once the run is complete. */
  results(): RunResult[] {
    const given = new Set<number>();
    return this.plan.outputs.map((o) => {
      const b = this.plan.buffers[o.buffer]!;
      if (o.persist) return this.stores.get(storageOf(this.plan, o.buffer))!;
      if (this.isView(o.buffer)) {
        const data = this.memory.view(o.buffer, 0);
        if (o.scalar) return b.dtype === "bool" ? data[0] !== 0 : data[0]!;
        return { shape: [...b.shape], dtype: b.dtype, data, addr: this.memory.address(o.buffer, 0) };
      }
      const whole = this.arrays.get(storageOf(this.plan, o.buffer))!;
      if (o.scalar) return b.dtype === "bool" ? whole[0] !== 0 : whole[0]!;
      const data = given.has(o.buffer) ? (whole.slice() as TypedArray) : whole;
      given.add(o.buffer);
      return { shape: [...b.shape], dtype: b.dtype, data };
    });
  }
}
