/**
 * The allocator of a kernel memory: first fit over an address-ordered free list, with coalescing, and
 * memory.grow when the top is reached. Only one thread allocates in a given memory (FACTS: several
 * instances on one shared memory must not each run an allocator).
 */
import { TesseraError } from "../errors.js";
import type { Allocator } from "./plan.js";

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // 4 GiB: a wasm32 memory's limit
const ALIGN = 64; // cache-line alignment keeps SIMD loads and worker areas apart

export class Heap implements Allocator {
  private free_: { addr: number; size: number }[] = [];
  private used = new Map<number, number>();
  private top: number;
  private inUse = 0;

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

  alloc(bytes: number): number {
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
    if (end > MAX_BYTES) {
      // marked: a garbage collection may free persisted arrays nobody holds (scheduler/reclaim.ts)
      throw Object.assign(
        new TesseraError(
          "TOO_LARGE",
          `kernel memory exhausted: ${bytes} more bytes requested with ${this.inUse} in use, beyond the 4 GiB a WebAssembly memory holds`,
        ),
        { exhausted: true },
      );
    }
    const have = this.memory.buffer.byteLength;
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
