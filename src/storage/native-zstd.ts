/**
 * The zstd reader addon (native/codecs/zstd.cc): a zstd chunk file decoded straight into its place in the
 * kernel memory by the system's libzstd, opened at run time (Debian's libzstd1, which nearly every system
 * has). Faster than the wasm decoder (assembly/zstd.ts) on the Huffman-heavy literals of float data, and it
 * never needs the chunk's compressed bytes in the destination first, so no overlap fallback either. Where
 * it does not load (or TESSERA_NATIVE_ZSTD=0) the wasm decoder runs, with the same results: decoding is
 * exact, so only speed differs.
 */
import { existsSync } from "node:fs";
import { addonLoader } from "../native-addon.js";

interface ZstdAddon {
  load(paths: string[]): { library: string; version: string } | null;
  readFd(memory: Uint8Array, fd: number, size: number, dst: number, cap: number): number;
  E_IO: number;
}

/** Decodes the `size`-byte zstd file open at fd into memory[dst, dst + cap): bytes, or a negative code (storage/zstd.ts). */
export type ZstdFdReader = (fd: number, size: number, dst: number, cap: number) => number;

const loader = addonLoader<ZstdAddon>("tessera_codecs.node", "the zstd reader", () =>
  process.env.TESSERA_NATIVE_ZSTD === "0" ? "TESSERA_NATIVE_ZSTD=0" : process.platform !== "linux" ? `the zstd reader is built for Linux (this is ${process.platform})` : null);
let addon: ZstdAddon | null | undefined;
let library: { library: string; version: string } | null = null;

/** The addon with libzstd opened, or null (not built, or no libzstd: the wasm decoder runs). */
function loaded(): ZstdAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  const a = loader.load();
  if (!a) return addon;
  const own = process.env.TESSERA_ZSTD_LIBRARY;
  const paths = own ? [own] : ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu"].map((d) => `${d}/libzstd.so.1`);
  library = a.load(paths.filter((p) => existsSync(p)));
  if (library) addon = a;
  return addon;
}

/** The libzstd in use ({ library, version }), or null. */
export function nativeZstdInfo(): { library: string; version: string } | null {
  return loaded() ? library : null;
}

/** The native reader on `memory`, or null. The view is renewed when the memory has grown. */
export function nativeZstdReader(memory: WebAssembly.Memory): ZstdFdReader | null {
  const a = loaded();
  if (!a) return null;
  let view = new Uint8Array(memory.buffer);
  return (fd, size, dst, cap) => {
    if (view.byteLength !== memory.buffer.byteLength) view = new Uint8Array(memory.buffer);
    return a.readFd(view, fd, size, dst, cap);
  };
}

/** The addon's I/O error code (a failed pread: the chunk's IO_ERROR). */
export const E_NATIVE_IO = -9;
