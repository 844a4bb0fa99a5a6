/**
 * The allocator of a kernel memory: best fit over an address-ordered free list, with coalescing, and
 * memory.grow when the top is reached. Only one thread allocates in a given memory (FACTS: several
 * instances on one shared memory must not each run an allocator).
 *
 * Persisted arrays (chunk stores) belong to an owner object (the persisted array's node) and are freed
 * once it is garbage. V8 collects those small handles lazily, so before the memory grows (or gives up)
 * with enough persisted bytes outstanding, the heap runs a full collection and frees the stores whose
 * owners are gone: a loop that persists and drops arrays stays within the memory of what it holds.
 * When the 4 GiB of a WebAssembly memory are full, chunks of stores that no running task reads are moved
 * out to ordinary memory (spilled), so what a process can persist is bounded by its RAM, not by 4 GiB.
 */
import { TesseraError } from "../errors.js";
import type { ChunkStore } from "./chunk-store.js";
import { collectGarbage } from "./reclaim.js";

/** What plans allocate from: a kernel memory's allocator. */
export interface Allocator {
  alloc(bytes: number): number;
  free(addr: number): void;
  readonly buffer: ArrayBufferLike;
  /** identity of the memory: data whose `home` it is is read in place, not copied in */
  readonly home: object;
  /** results may stay views into the memory (the caller owns their lifetime) instead of copies */
  readonly views?: boolean;
}

const PAGE = 65536;
/** 4 GiB: a wasm32 memory's limit */
export const MAX_KERNEL_BYTES = 65536 * PAGE;
const ALIGN = 64; // cache-line alignment keeps SIMD loads and worker areas apart
const SWEEP_MIN_BYTES = 64 * 2 ** 20; // a collection before growing only when this much is persisted (and adopted since the last)

interface Owned {
  ref: WeakRef<object>;
  store: ChunkStore;
}

const finalizers = new FinalizationRegistry<{ heap: Heap; store: ChunkStore }>(({ heap, store }) => heap.releaseStore(store));

export class Heap implements Allocator {
  private free_: { addr: number; size: number }[] = [];
  private used = new Map<number, number>();
  private top: number;
  private inUse = 0;
  private peak = 0;
  private readonly owned = new Map<ChunkStore, Owned>();
  /** store chunks read in place by running tasks: never spilled (store -> chunk -> count) */
  private readonly pins = new Map<ChunkStore, Map<number, number>>();
  /** persisted bytes adopted since the last collection: the stores that may have died since (see mayReclaim) */
  private adoptedSince = 0;
  /** persisted bytes the last collection left (every one of them held then) */
  private aliveAtReclaim = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    /** first address the heap may hand out (below it: reserved) */
    base: number,
    /** the memory never grows past this many bytes (at most 4 GiB) */
    readonly limit = MAX_KERNEL_BYTES,
  ) {
    this.top = align(base);
  }

  get buffer(): ArrayBufferLike {
    return this.memory.buffer;
  }

  /** identity of the memory (data that lives in it is read in place) */
  get home(): object {
    return this.memory;
  }

  get bytesInUse(): number {
    return this.inUse;
  }

  /** The most bytes in use at once since the last resetPeak() (tests and benchmarks watch the memory planner). */
  get peakInUse(): number {
    return this.peak;
  }

  resetPeak(): void {
    this.peak = this.inUse;
  }

  private get ownedBytes(): number {
    let n = 0;
    for (const o of this.owned.values()) n += o.store.residentBytes();
    return n;
  }

  /** Hands a store to `owner`: its chunks are freed once the owner is garbage. */
  adopt(store: ChunkStore, owner: object): void {
    this.owned.set(store, { ref: new WeakRef(owner), store });
    finalizers.register(owner, { heap: this, store }, store);
    this.adoptedSince += store.residentBytes();
  }

  /** Frees every chunk of a store (its owner is gone, or it is no longer wanted). */
  releaseStore(store: ChunkStore): void {
    if (store.released) return;
    store.released = true;
    if (this.owned.delete(store)) finalizers.unregister(store);
    for (let k = 0; k < store.addrs.length; k++) {
      if (store.addrs[k]! >= 0) this.free(store.addrs[k]!);
      store.addrs[k] = -1;
      store.host[k] = null;
    }
    store.spilledChunks = 0;
  }

  /** A running task reads chunk k of the store in place: it must stay where it is until unpinned. */
  pin(store: ChunkStore, k: number): void {
    let m = this.pins.get(store);
    if (!m) this.pins.set(store, (m = new Map()));
    m.set(k, (m.get(k) ?? 0) + 1);
  }

  unpin(store: ChunkStore, k: number): void {
    const m = this.pins.get(store);
    const n = (m?.get(k) ?? 1) - 1;
    if (n > 0) m!.set(k, n);
    else {
      m?.delete(k);
      if (m && m.size === 0) this.pins.delete(store);
    }
  }

  /** Frees the stores whose owners are already collected; returns the bytes freed. */
  sweep(): number {
    let freed = 0;
    for (const o of [...this.owned.values()]) {
      if (o.ref.deref() !== undefined) continue;
      freed += o.store.residentBytes();
      this.releaseStore(o.store);
    }
    return freed;
  }

  /**
   * A full collection, then sweep(): the bytes freed (0 when V8's gc cannot be reached). What it leaves is
   * all held at that moment, which mayReclaim() remembers.
   */
  reclaim(): number {
    const freed = collectGarbage() ? this.sweep() : 0;
    this.adoptedSince = 0;
    this.aliveAtReclaim = this.ownedBytes;
    return freed;
  }

  /**
   * Whether growing the memory should try a collection first: with SWEEP_MIN_BYTES persisted, and only
   * once the stores adopted since the last collection (the only ones that can have died since, unless the
   * program dropped one it held then) amount to SWEEP_MIN_BYTES and a quarter of what that collection
   * left. So a loop that persists a new array and drops the previous one gets the dropped one's memory,
   * faulted in already, back by its second or third round (fresh pages cost more than a + b itself:
   * 8192², 235 ms into new memory, 100-120 ms into reused; the third when the array just dropped is
   * still held by the caller's suspended async frame, as V8 may keep an awaited value until the next
   * macrotask); a program that holds all it persists pays one collection (about 10 ms with a small JS
   * heap) each time its persisted bytes grew by a quarter.
   */
  private mayReclaim(): boolean {
    return this.adoptedSince >= Math.max(SWEEP_MIN_BYTES, this.aliveAtReclaim / 4) && this.ownedBytes >= SWEEP_MIN_BYTES;
  }

  /**
   * Moves chunks of held stores that no task is reading out to JS memory until `bytes` are freed (or
   * nothing is left to move); returns the bytes freed. Later reads get a copy in.
   */
  spill(bytes: number, extra: ChunkStore[] = []): number {
    let freed = 0;
    const stores = [...extra, ...[...this.owned.values()].map((o) => o.store)];
    for (const store of stores) {
      const pinned = this.pins.get(store);
      for (let k = 0; k < store.addrs.length && freed < bytes; k++) {
        const addr = store.addrs[k]!;
        if (addr < 0 || pinned?.has(k)) continue;
        const n = store.chunkBytes(k);
        const copy = new ArrayBuffer(n);
        new Uint8Array(copy).set(new Uint8Array(this.memory.buffer, addr, n));
        store.host[k] = copy;
        store.spilledChunks++;
        store.addrs[k] = -1;
        this.free(addr);
        freed += n;
      }
      if (freed >= bytes) break;
    }
    return freed;
  }

  /** Stores outside the heap's adoption that may be spilled too (a plan's own persisted outputs). */
  spillable: ChunkStore[] = [];

  alloc(bytes: number, reclaimed = false): number {
    const size = align(Math.max(bytes, 1));
    // best fit (the smallest hole that holds it, the lowest of equals): with chunks of a few sizes (full
    // and edge chunks), first fit put an edge chunk into a hole a full chunk had left, the next full chunk
    // found no hole and the memory grew: 493 MiB instead of 287 writing a 14,000² array in 2,048² chunks
    let best = -1;
    for (let i = 0; i < this.free_.length; i++) {
      const f = this.free_[i]!;
      if (f.size < size || (best >= 0 && f.size >= this.free_[best]!.size)) continue;
      best = i;
      if (f.size === size) break;
    }
    if (best >= 0) {
      const f = this.free_[best]!;
      const addr = f.addr;
      if (f.size === size) this.free_.splice(best, 1);
      else {
        f.addr += size;
        f.size -= size;
      }
      return this.take(addr, size);
    }
    const addr = this.top;
    const end = addr + size;
    const have = this.memory.buffer.byteLength;
    // a collection before growing only when it may free something (mayReclaim): with persisted arrays
    // held, growth must not cost a full collection every chunk
    if (end > have && !reclaimed && this.mayReclaim() && this.reclaim() > 0) {
      return this.alloc(bytes, true); // dropped persisted arrays made room: no growth
    }
    if (end > this.limit) {
      if (this.spill(size, this.spillable) > 0) return this.alloc(bytes, true);
      throw new TesseraError(
        "TOO_LARGE",
        `kernel memory exhausted: ${bytes} more bytes requested with ${this.inUse} in use, beyond the ${this.limit} bytes of kernel memory (${this.limit === MAX_KERNEL_BYTES ? "the 4 GiB a WebAssembly memory holds" : "TESSERA_KERNEL_MEMORY"})`,
      );
    }
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return this.take(addr, size);
  }

  private take(addr: number, size: number): number {
    this.used.set(addr, size);
    this.inUse += size;
    if (this.inUse > this.peak) this.peak = this.inUse;
    return addr;
  }

  free(addr: number): void {
    const size = this.used.get(addr);
    if (size === undefined) throw new Error(`internal: free of ${addr}, which is not allocated`);
    this.used.delete(addr);
    this.inUse -= size;
    // insert in address order, then merge with neighbours and with the top
    let i = this.free_.findIndex((f) => f.addr > addr);
    if (i < 0) i = this.free_.length;
    this.free_.splice(i, 0, { addr, size });
    const next = this.free_[i + 1];
    if (next && addr + size === next.addr) {
      this.free_[i]!.size += next.size;
      this.free_.splice(i + 1, 1);
    }
    const prev = this.free_[i - 1];
    if (prev && prev.addr + prev.size === addr) {
      prev.size += this.free_[i]!.size;
      this.free_.splice(i, 1);
      i--;
    }
    const last = this.free_[this.free_.length - 1];
    if (last && last.addr + last.size === this.top) {
      this.top = last.addr;
      this.free_.pop();
    }
  }
}

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
