/**
 * The data a cluster run keeps in the client's process: the bytes of its input chunks (user data and
 * locally persisted arrays stay here; each chunk is cut out when a worker needs it, as a local run stages
 * it into kernel memory) and its results, assembled chunk by chunk as the workers send them (as
 * OutputCollector copies a local run's outputs).
 */
import { ClusterError, TesseraError } from "../errors.js";
import { itemsize, typedArrayFor, type TypedArray } from "../dtype.js";
import { Grid, sizeOf } from "../grid.js";
import { storageOf } from "../plan/tasks.js";
import type { TaskGraph } from "../plan/task-graph.js";
import type { Plan } from "../plan/types.js";
import type { InputBinding } from "../scheduler/inputs.js";
import { ChunkStore } from "../scheduler/chunk-store.js";
import { copyInto, copyOutOf } from "../scheduler/regions.js";
import type { RunResult } from "../scheduler/results.js";

const MAX_RESULT_ELEMS = 2 ** 32 - 1;

export class RunData {
  private readonly whole = new Map<number, TypedArray>(); // output storage buffer -> result
  private readonly grids = new Map<number, Grid>();

  constructor(
    private readonly graph: TaskGraph,
    private readonly bindings: readonly InputBinding[],
  ) {
    const plan = graph.plan;
    for (const o of plan.outputs) {
      const b = plan.buffers[o.buffer]!;
      if (o.persist) continue; // its chunks stay on the workers (cluster-store.ts)
      const s = storageOf(plan, o.buffer);
      if (this.whole.has(s)) continue;
      const n = sizeOf(b.shape);
      if (n > MAX_RESULT_ELEMS) {
        throw new TesseraError("TOO_LARGE", `a result of shape [${b.shape.join(", ")}] has ${n} elements, more than the ${MAX_RESULT_ELEMS} a JS typed array holds: compute a reduction or a slice of it`);
      }
      this.whole.set(s, typedArrayFor(plan.buffers[s]!.dtype, n));
    }
  }

  private grid(buffer: number): Grid {
    let g = this.grids.get(buffer);
    if (!g) this.grids.set(buffer, (g = new Grid(this.graph.plan.buffers[buffer]!)));
    return g;
  }

  /** Bytes of global chunk c. */
  chunkBytes(c: number): number {
    const b = this.graph.chunkBuffer[c]!;
    return this.grid(b).chunkSize(this.graph.chunkIndex[c]!) * itemsize(this.graph.plan.buffers[b]!.dtype);
  }

  /** Is global chunk c a chunk of an input (its bytes are here)? */
  isInput(c: number): boolean {
    return this.graph.plan.buffers[this.graph.chunkBuffer[c]!]!.input !== undefined;
  }

  /** The bytes of input chunk c, C order over the chunk (a copy the caller may send). */
  inputChunk(c: number): Uint8Array {
    const plan = this.graph.plan;
    const b = this.graph.chunkBuffer[c]!;
    const k = this.graph.chunkIndex[c]!;
    const decl = plan.buffers[b]!;
    const bind = this.bindings[decl.input!];
    if (!bind) throw new Error(`internal: input ${decl.input} has no binding`);
    if (bind.kind === "store" && !(bind.store instanceof ChunkStore)) throw new Error("internal: the chunks of an array persisted on the cluster are fetched from its workers");
    const bytes = this.chunkBytes(c);
    if (bind.kind === "store") {
      const st = bind.store;
      if (st.released) throw new TesseraError("RELEASED", "a persisted array was released while a cluster computation read it");
      const host = st.host[k];
      if (host) return new Uint8Array(host.slice(0));
      return new Uint8Array((st.home as WebAssembly.Memory).buffer, st.addrs[k]!, bytes).slice();
    }
    const ch = this.grid(b).chunk(k);
    const out = typedArrayFor(decl.dtype, ch.shape.reduce((a, n) => a * n, 1));
    copyOutOf(bind.data, decl.shape, ch.start, ch.shape, out);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  /** An output chunk arrived: copy it into its result. */
  putOutput(c: number, bytes: Uint8Array): void {
    const b = this.graph.chunkBuffer[c]!;
    const whole = this.whole.get(b);
    if (!whole) return;
    const decl = this.graph.plan.buffers[b]!;
    const ch = this.grid(b).chunk(this.graph.chunkIndex[c]!);
    if (bytes.byteLength !== this.chunkBytes(c)) throw new ClusterError("WORKER_LOST", `a worker sent ${bytes.byteLength} bytes for chunk ${c}, expected ${this.chunkBytes(c)}`);
    const aligned = bytes.byteOffset % itemsize(decl.dtype) === 0 ? bytes : bytes.slice();
    const view = typedArrayFor(decl.dtype, aligned.buffer, aligned.byteOffset, ch.shape.reduce((a, n) => a * n, 1));
    copyInto(whole, decl.shape, ch.start, ch.shape, view);
  }

  /** The results, one per output (numbers for 0-d results, raw arrays else; null for persisted ones), once every chunk is in. */
  results(): (RunResult | null)[] {
    const plan: Plan = this.graph.plan;
    const given = new Set<number>();
    return plan.outputs.map((o) => {
      if (o.persist) return null;
      const s = storageOf(plan, o.buffer);
      const b = plan.buffers[o.buffer]!;
      const whole = this.whole.get(s)!;
      if (o.scalar) return b.dtype === "bool" ? whole[0] !== 0 : whole[0]!;
      const data = given.has(s) ? (whole.slice() as TypedArray) : whole;
      given.add(s);
      return { shape: [...b.shape], dtype: b.dtype, data };
    });
  }

  /** Global chunk numbers of the outputs (each once): gathered ones, or the persisted ones. */
  outputChunks(persisted = false): number[] {
    const out: number[] = [];
    const seen = new Set<number>();
    for (const o of this.graph.plan.outputs) {
      if (o.persist !== persisted) continue;
      const s = storageOf(this.graph.plan, o.buffer);
      if (seen.has(s)) continue;
      seen.add(s);
      const base = this.graph.chunkBase[s]!;
      for (let k = 0; k < this.grid(s).nchunks; k++) out.push(base + k);
    }
    return out;
  }
}
