/**
 * The memory planner of one plan run: where every chunk of every buffer lives.
 *
 * Each storage buffer has a chunk table in kernel memory (Float64 byte addresses, read by the workers).
 * A chunk gets memory when its first writer is handed out and gives it back after its last reader is
 * done, so peak kernel memory follows the chunks alive at once, not the array sizes. Input chunks are
 * read in place when they already are in this memory (persisted chunks, blocks inside mapBlocks) and
 * copied in just before a task reads them otherwise (user data, spilled persisted chunks).
 */
import { TesseraError } from "../errors.js";
import { itemsize, typedArrayFor, type TypedArray } from "../dtype.js";
import { Grid, sizeOf } from "../grid.js";
import { storageOf } from "../plan/tasks.js";
import type { Plan } from "../plan/types.js";
import { ChunkStore } from "./chunk-store.js";
import type { Allocator, Heap } from "./heap.js";
import type { InputBinding } from "./inputs.js";
import { copyOutOf } from "./regions.js";

const ALIGN = 64;
/** Chunks smaller than this share slabs of about this size: a million tiny chunks are not a million allocations. */
const SLAB_BYTES = 64 * 1024;

interface BufferState {
  grid: Grid;
  bytesPerElem: number;
  table: number;
  /** per chunk: the address, -1 when the chunk has no memory */
  addr: Float64Array;
  /** per chunk: the memory is this run's (freed on release) */
  owned: Uint8Array;
  binding?: InputBinding;
  /** consecutive chunks per slab (1: each chunk is an allocation of its own) */
  perSlab: number;
  /** per slab: its address (-1: none) and how many of its chunks hold memory */
  slabAddr?: Float64Array;
  slabLive?: Int32Array;
  /** per chunk: byte offset in its slab */
  slabOffset?: Float64Array;
}

export class ChunkMemory {
  private readonly states: (BufferState | null)[];
  /** per buffer: the buffer holding its chunks (itself, or an alias's source) */
  private readonly storage: Int32Array;
  /** a view over the chunk tables (they never move: a view made once stays valid as the memory grows) */
  private tables: Float64Array | null = null;
  private readonly allocs = new Set<number>();
  private tempBytes = 0;
  private peak = 0;
  /** store chunks pinned by this run (read in place) */
  private readonly pinned: { store: ChunkStore; k: number }[] = [];

  constructor(
    readonly plan: Plan,
    private readonly bindings: readonly InputBinding[],
    private readonly heap: Allocator,
  ) {
    this.states = plan.buffers.map(() => null);
    this.storage = Int32Array.from(plan.buffers, (b) => storageOf(plan, b.id));
    try {
      for (const b of plan.buffers) {
        if (b.alias !== undefined) continue;
        const grid = new Grid(b);
        const table = this.alloc(Math.max(8, grid.nchunks * 8));
        const bytesPerElem = itemsize(b.dtype);
        const largest = grid.maxChunkSize() * bytesPerElem;
        const perSlab = largest > 0 && largest < SLAB_BYTES / 2 && grid.nchunks > 1 ? Math.floor(SLAB_BYTES / largest) : 1;
        const st: BufferState = {
          grid,
          bytesPerElem,
          table,
          addr: new Float64Array(grid.nchunks).fill(-1),
          owned: new Uint8Array(grid.nchunks),
          binding: b.input !== undefined ? bindings[b.input] : undefined,
          perSlab,
        };
        if (perSlab > 1) {
          const nslabs = Math.ceil(grid.nchunks / perSlab);
          st.slabAddr = new Float64Array(nslabs).fill(-1);
          st.slabLive = new Int32Array(nslabs);
          st.slabOffset = new Float64Array(grid.nchunks);
        }
        this.states[b.id] = st;
      }
      this.tables = new Float64Array(heap.buffer);
    } catch (e) {
      this.releaseAll();
      throw e;
    }
  }

  private alloc(bytes: number): number {
    const a = this.heap.alloc(Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN);
    this.allocs.add(a);
    return a;
  }

  private freeOwn(a: number): void {
    if (this.allocs.delete(a)) this.heap.free(a);
  }

  private state(buffer: number): BufferState {
    return this.states[this.storage[buffer]!]!;
  }

  /** Byte address of a buffer's chunk table (aliases share their source's). */
  table(buffer: number): number {
    return this.state(buffer).table;
  }

  chunkBytes(buffer: number, k: number): number {
    const s = this.state(buffer);
    return s.grid.chunkSize(k) * s.bytesPerElem;
  }

  address(buffer: number, k: number): number {
    return this.state(buffer).addr[k]!;
  }

  private setAddress(s: BufferState, k: number, addr: number): void {
    s.addr[k] = addr;
    this.tables![(s.table >>> 3) + k] = addr; // tables are 64-byte aligned
  }

  /** Gives chunk k of a buffer memory (its first writer is about to run). */
  allocate(buffer: number, k: number): void {
    const s = this.state(buffer);
    if (s.addr[k]! >= 0) return;
    const bytes = this.chunkBytes(buffer, k);
    let addr: number;
    try {
      addr = s.perSlab > 1 ? this.slabChunk(s, k) : this.alloc(bytes);
    } catch (e) {
      if (!(e instanceof TesseraError) || e.code !== "TOO_LARGE") throw e;
      const b = this.plan.buffers[this.storage[buffer]!]!;
      throw new TesseraError("TOO_LARGE", `no kernel memory for chunk ${k} (${bytes} bytes) of a ${b.dtype} array of shape [${b.shape.join(", ")}]: ${e.message}`, { cause: e });
    }
    this.setAddress(s, k, addr);
    s.owned[k] = 1;
    this.tempBytes += bytes;
    this.peak = Math.max(this.peak, this.tempBytes);
  }

  /** Chunk k's place in its slab (the slab made when the first of its chunks needs memory). */
  private slabChunk(s: BufferState, k: number): number {
    const g = Math.floor(k / s.perSlab);
    if (s.slabAddr![g]! < 0) {
      let off = 0;
      const end = Math.min(s.grid.nchunks, (g + 1) * s.perSlab);
      for (let c = g * s.perSlab; c < end; c++) {
        s.slabOffset![c] = off;
        off += Math.ceil((s.grid.chunkSize(c) * s.bytesPerElem) / 16) * 16;
      }
      s.slabAddr![g] = this.alloc(off);
    }
    s.slabLive![g]!++;
    return s.slabAddr![g]! + s.slabOffset![k]!;
  }

  /** Chunk k no longer needs its slab place; the slab goes back with its last chunk. */
  private slabRelease(s: BufferState, k: number): void {
    const g = Math.floor(k / s.perSlab);
    if (--s.slabLive![g]! === 0) {
      this.freeOwn(s.slabAddr![g]!);
      s.slabAddr![g] = -1;
    }
  }

  /** Where input chunk k is read in place (a persisted chunk in this memory, a block inside mapBlocks), else -1. */
  private inPlace(s: BufferState, k: number): number {
    const bind = s.binding!;
    if (bind.kind === "store" && bind.store.home === this.heap.home && bind.store.addrs[k]! >= 0) return bind.store.addrs[k]!;
    if (bind.kind === "resident" && bind.home === this.heap.home && s.grid.nchunks === 1) return bind.addr;
    return -1;
  }

  /**
   * The new memory stageIn(buffer, k) takes for a task's input chunk, as a measure of the layer's tasks
   * (batch sizes measure a layer by its first task, whose chunk may be staged by then): none when it is
   * read in place, and so is every chunk of the buffer (a store with spilled chunks counts them all).
   */
  stageBytes(buffer: number, k: number): number {
    const s = this.state(buffer);
    const bind = s.binding;
    if (!bind) return 0;
    const spilled = bind.kind === "store" && bind.store instanceof ChunkStore && bind.store.spilledChunks > 0;
    return spilled || this.inPlace(s, k) < 0 ? this.chunkBytes(buffer, k) : 0;
  }

  /** Makes an input chunk readable by a task: in place where possible, else copied in. */
  stageIn(buffer: number, k: number): void {
    const s = this.state(buffer);
    if (s.addr[k]! >= 0 || !s.binding) return;
    const bind = s.binding;
    if (bind.kind === "store" && !(bind.store instanceof ChunkStore)) {
      throw new TesseraError("INVALID_ARGUMENT", "this array is persisted on a cluster: compute it with its client (client.compute, or after client.asDefault()) while the client is open");
    }
    const shape = this.plan.buffers[storageOf(this.plan, buffer)]!.shape;
    const here = this.inPlace(s, k);
    if (here >= 0) {
      const heap = this.heap as Heap;
      if (bind.kind === "store" && typeof heap.pin === "function") {
        heap.pin(bind.store, k);
        this.pinned.push({ store: bind.store, k });
      }
      this.setAddress(s, k, here);
      return;
    }
    const dtype = this.plan.buffers[storageOf(this.plan, buffer)]!.dtype;
    this.allocate(buffer, k);
    const dst = typedArrayFor(dtype, this.heap.buffer, s.addr[k]!, s.grid.chunkSize(k));
    if (bind.kind === "store") {
      const st = bind.store;
      if (st.released) throw new TesseraError("RELEASED", "a persisted array was released while a computation read it");
      const src = st.host[k] ? new Uint8Array(st.host[k]!) : new Uint8Array((st.home as WebAssembly.Memory).buffer, st.addrs[k]!, this.chunkBytes(buffer, k));
      new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(src);
    } else {
      const c = s.grid.chunk(k);
      copyOutOf(bind.data, shape, c.start, c.shape, dst);
    }
  }

  /** A chunk's values as a typed array view (valid until the memory grows or the chunk is released). */
  view(buffer: number, k: number): TypedArray {
    const b = this.plan.buffers[buffer]!;
    const s = this.state(buffer);
    return typedArrayFor(b.dtype, this.heap.buffer, s.addr[k]!, s.grid.chunkSize(k));
  }

  f64View(buffer: number, k: number): Float64Array {
    const s = this.state(buffer);
    return new Float64Array(this.heap.buffer, s.addr[k]!, (s.grid.chunkSize(k) * s.bytesPerElem) / 8);
  }

  /** The chunk's last reader is done: its memory goes back (if it is this run's); a persisted chunk read in place may move again. */
  release(buffer: number, k: number): void {
    const s = this.state(buffer);
    const a = s.addr[k]!;
    if (a < 0) return;
    if (!s.owned[k] && s.binding?.kind === "store") this.unpin(s.binding.store, k);
    if (s.owned[k]) {
      if (s.perSlab > 1) this.slabRelease(s, k);
      else this.freeOwn(a);
      this.tempBytes -= this.chunkBytes(buffer, k);
      s.owned[k] = 0;
    }
    this.setAddress(s, k, -1);
  }

  /** Takes chunk k out of the run's bookkeeping (a persisted chunk handed to a store): returns its address. */
  detach(buffer: number, k: number): number {
    const s = this.state(buffer);
    let a = s.addr[k]!;
    if (s.owned[k] && s.perSlab > 1) {
      // a store owns its chunks one by one: a chunk that lives in a slab moves to memory of its own
      const bytes = this.chunkBytes(buffer, k);
      const own = this.heap.alloc(Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN);
      new Uint8Array(this.heap.buffer, own, bytes).set(new Uint8Array(this.heap.buffer, a, bytes));
      this.slabRelease(s, k);
      this.tempBytes -= bytes;
      s.owned[k] = 0;
      s.addr[k] = -1;
      return own;
    }
    if (s.owned[k]) {
      this.allocs.delete(a);
      this.tempBytes -= this.chunkBytes(buffer, k);
      s.owned[k] = 0;
    }
    s.addr[k] = -1;
    return a;
  }

  /** Bytes of chunks this run holds now, and the most it held at once. */
  get liveBytes(): number {
    return this.tempBytes;
  }
  get peakBytes(): number {
    return this.peak;
  }
  /** Chunk allocations this run holds now (what the dashboard shows as chunks held). */
  get liveChunks(): number {
    return this.allocs.size;
  }

  /** Frees everything this run still holds (after it ends, failed or not) and unpins store chunks. */
  releaseAll(): void {
    for (const a of this.allocs) this.heap.free(a);
    this.allocs.clear();
    this.tempBytes = 0;
    const heap = this.heap as Heap;
    for (const p of this.pinned.splice(0)) if (typeof heap.unpin === "function") heap.unpin(p.store, p.k);
  }

  private unpin(store: ChunkStore, k: number): void {
    const i = this.pinned.findIndex((p) => p.store === store && p.k === k);
    if (i < 0) return;
    this.pinned.splice(i, 1);
    (this.heap as Heap).unpin(store, k);
  }

  /** Elements of chunk k of a buffer. */
  chunkSize(buffer: number, k: number): number {
    return this.state(buffer).grid.chunkSize(k);
  }

  grid(buffer: number): Grid {
    return this.state(buffer).grid;
  }
}

export const bufferElems = (shape: readonly number[]) => sizeOf(shape);
