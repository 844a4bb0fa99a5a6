/**
 * Transparent huge pages for the kernel memory, on request (TESSERA_HUGE_PAGES=1). Chunks are written
 * into fresh kernel memory (a persisted a + b, a chunk read from a file, a rechunk), and with 4 KiB pages
 * every 4 KiB of it is a page fault the first time it is touched: a + b of two 512 MiB arrays spends most
 * of its time in them (the C control writes into memory it faulted in beforehand). Linux's default THP
 * mode, "madvise", backs a range with 2 MiB pages only where the process asks: the native kernels addon
 * madvises the memory's whole reservation (MADV_HUGEPAGE) once, when the engine makes it, for every
 * backend (the wasm kernels write the same memory).
 *
 * Why not by default: measured on the development VMs (Firecracker with virtio-balloon free page
 * reporting), a huge page comes from memory the guest gave back to the host, and the host faults it in
 * again: first touch of 512 MiB took 540-670 ms in huge pages, 180-200 ms in 4 KiB ones. Once the guest's
 * memory had been touched, huge pages took 85-92 ms, 4 KiB ones 190 ms: on a node whose memory stays
 * backed (bare metal) they halve the first-touch cost. Without the addon, or off Linux, nothing is advised.
 */
import { invalid, show } from "../errors.js";
import { loadNativeKernels } from "./native.js";
import { MAX_PAGES } from "./wasm.js";

export type HugePages = "advised" | "off" | "unavailable";

/** Advises huge pages for `memory` (its whole reservation, MAX_PAGES) if TESSERA_HUGE_PAGES=1; says whether it did. */
export function adviseHugePages(memory: WebAssembly.Memory, env: Record<string, string | undefined> = process.env): HugePages {
  const v = env.TESSERA_HUGE_PAGES;
  if (v !== undefined && v !== "" && v !== "0" && v !== "1") {
    throw invalid("INVALID_ARGUMENT", `TESSERA_HUGE_PAGES ${show(v)} must be 1 (huge pages) or 0 (4 KiB pages, the default)`);
  }
  if (v !== "1") return "off";
  const addon = loadNativeKernels();
  if (!addon || process.platform !== "linux") return "unavailable";
  // the memory is reserved at its maximum up front (shared memories never move), so one call covers
  // every later grow; a kernel without THP answers EINVAL: the memory keeps 4 KiB pages
  return addon.adviseHugePages(new Uint8Array(memory.buffer), MAX_PAGES * 65536) === 0 ? "advised" : "unavailable";
}
