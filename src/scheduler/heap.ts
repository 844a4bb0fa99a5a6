/**
 * The allocator of a kernel memory: first fit over an address-ordered free list, with coalescing, and
 * memory.grow when the top is reached. Only one thread allocates in a given memory (FACTS: several
 * instances on one shared memory must not each run an allocator).
 *
 * Persisted buffers belong to an owner object (the persisted array's node) and are freed once it is
 * garbage. V8 collects those small handles lazily, so before the memory grows (or gives up) with enough
 * persisted bytes outstanding, the heap runs a full collection and frees the buffers whose owners are
 * gone: a loop that persists and drops arrays stays within the memory of what it holds.
 */
import { TesseraError } from "../errors.js";
import type { Allocator } from "./plan.js";
import { collectGarbage } from "./reclaim.js";

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // 4 GiB: a wasm32 memory's limit
const ALIGN = 64; // cache-line alignment keeps SIMD loads and worker areas apart
const SWEEP_MIN_BYTES = 64 * 2 ** 20; // a collection before growing only when this much is persisted

interface Owned {
  ref: WeakRef<object>;
  /** identifies this adoption: a late finalizer of an earlier buffer at the same address is ignored */
  token: object;
  size: number;
}

const finalizers = new FinalizationRegistry<{ heap: Heap; addr: number; token: object }>(({ heap, addr, token }) =>
  heap.releaseOwned(addr, token),
);

export class Heap implements Allocator {
  private free_: { addr: number; size: number }[] = [];
  private used = new Map<number, number>();
  private top: number;
  private inUse = 0;
  private readonly owned = new Map<number, Owned>();
  private ownedBytes = 0;
  /** persisted bytes from which growing tries a collection first (raised after one that freed nothing) */
  private sweepAt = SWEEP_MIN_BYTES;

  constructor(
    readonly memory: WebAssembly.Memory,
    /** first address the heap may hand out (below it: reserved) */
    base: number,
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

  /** Hands the buffer at addr to `owner`: it is freed once the owner is garbage. */
  adopt(addr: number, owner: object): void {
    const size = this.used.get(addr);
    if (size === undefined) throw new Error(`internal: adopt of ${addr}, which is not allocated`);
    const token = {};
    this.owned.set(addr, { ref: new WeakRef(owner), token, size });
    this.ownedBytes += size;
    finalizers.register(owner, { heap: this, addr, token }, token);
  }

  /** @internal the finalizer's path: frees an adopted buffer whose owner was collected */
  releaseOwned(addr: number, token: object): void {
    const o = this.owned.get(addr);
    if (!o || o.token !== token) return;
    this.owned.delete(addr);
    this.ownedBytes -= o.size;
    this.free(addr);
  }

  /** Frees the adopted buffers whose owners are already collected; returns the bytes freed. */
  sweep(): number {
    let freed = 0;
    for (const [addr, o] of this.owned) {
      if (o.ref.deref() !== undefined) continue;
      finalizers.unregister(o.token);
      this.releaseOwned(addr, o.token);
      freed += o.size;
    }
    return freed;
  }

  /**
   * A full collection, then sweep(): the bytes freed (0 when V8's gc cannot be reached). When nothing was
   * freed (the persisted arrays are all held), the next try waits until twice as much is persisted, so a
   * program that keeps its arrays does not pay a full collection at every growth.
   */
  reclaim(): number {
    const freed = collectGarbage() ? this.sweep() : 0;
    this.sweepAt = freed > 0 ? SWEEP_MIN_BYTES : Math.max(SWEEP_MIN_BYTES, 2 * this.ownedBytes);
    return freed;
  }

  alloc(bytes: number, reclaimed = false): number {
    const size = align(Math.max(bytes, 1));
    for (let i = 0; i < this.free_.length; i++) {
      const f = this.free_[i]!;
      if (f.size < size) continue;
      const addr = f.addr;
      if (f.size === size) this.free_.splice(i, 1);
      else {
        f.addr += size;
        f.size -= size;
      }
      return this.take(addr, size);
    }
    const addr = this.top;
    const end = addr + size;
    const have = this.memory.buffer.byteLength;
    if (end > have && !reclaimed && this.ownedBytes >= Math.min(this.sweepAt, size) && this.reclaim() > 0) {
      return this.alloc(bytes, true); // dropped persisted arrays made room: no growth
    }
    if (end > MAX_BYTES) {
      throw new TesseraError(
        "TOO_LARGE",
        `kernel memory exhausted: ${bytes} more bytes requested with ${this.inUse} in use, beyond the 4 GiB a WebAssembly memory holds`,
      );
    }
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return this.take(addr, size);
  }

  private take(addr: number, size: number): number {
    this.used.set(addr, size);
    this.inUse += size;
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
