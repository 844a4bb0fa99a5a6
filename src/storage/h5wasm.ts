/**
 * libhdf5 in this thread, through h5wasm: HDF5 2.0 compiled to WebAssembly. Its Node build reaches the
 * host's files by path (Emscripten's NODERAWFS: open and pread on the real file, nothing copied into a
 * virtual file system), in the main thread and in worker_threads alike. It is loaded on first use only
 * (about 0.2 s and 20 MiB of memory per thread; most threads never read HDF5), with h5wasm-plugins'
 * filters (lzf, blosc, blosc2, bitshuffle, lz4, zstd, bzip2, zfp...) on its plugin search path; deflate
 * (gzip), shuffle, fletcher32, szip, n-bit and scale-offset are built into libhdf5.
 *
 * libhdf5 prints its error stack to stderr itself (h5wasm exports no H5Eset_auto to turn that off), so
 * `quiet` runs a call with what it writes to fd 2 captured, to be put in the error instead.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export type H5Module = Awaited<(typeof import("h5wasm/node"))["ready"]>;
export type H5Metadata = ReturnType<H5Module["get_dataset_metadata"]>;

let loading: Promise<H5Module> | null = null;

/** The h5wasm module of this thread, loaded once. */
export function h5(): Promise<H5Module> {
  return (loading ??= (async () => {
    const { ready } = await import("h5wasm/node");
    const m = await ready;
    const plugins = pluginDir();
    if (plugins) m.insert_plugin_search_path(plugins, 0);
    return m;
  })());
}

/** h5wasm-plugins' folder of filter plugins (WebAssembly side modules libhdf5 loads when a dataset needs one). */
function pluginDir(): string | null {
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve("h5wasm-plugins")), "plugins");
    return fs.existsSync(dir) ? dir : null;
  } catch {
    return null; // not installed: only the built-in filters
  }
}

/**
 * Runs a synchronous libhdf5 call with its writes to stderr captured: returns the call's value and what
 * libhdf5 printed (its error stack, when something failed). Nothing else runs meanwhile (the call is
 * synchronous), so the stand-in writer sees only libhdf5's output.
 */
export function quiet<T>(call: () => T): [T, string] {
  const real = fs.writeSync;
  let text = "";
  const writable = fs as unknown as { writeSync: (...args: unknown[]) => number };
  writable.writeSync = function (this: unknown, ...args: unknown[]): number {
    const [fd, buf, off, len] = args;
    if (fd === 2 && ArrayBuffer.isView(buf)) {
      const o = typeof off === "number" ? off : 0;
      const n = typeof len === "number" ? len : buf.byteLength - o;
      text += Buffer.from(buf.buffer, buf.byteOffset + o, n).toString("utf8");
      return n;
    }
    return (real as (...a: unknown[]) => number).apply(this, args);
  };
  try {
    return [call(), text];
  } finally {
    writable.writeSync = real as unknown as (...args: unknown[]) => number;
  }
}

/**
 * The telling part of libhdf5's error stack: a missing filter where one is named, else the innermost
 * cause ("#007: ... in H5FD__sec2_open(): unable to open file: ..." gives the text after "():").
 */
export function hdf5Why(diag: string): string {
  const causes = [...diag.matchAll(/#\d+: .*? in [\w.]+\(\): (.*)$/gm)].map((m) => m[1]!.trim());
  if (!causes.length) return diag.trim().split("\n")[0] ?? "no detail";
  return causes.find((c) => /filter/i.test(c)) ?? causes[causes.length - 1]!;
}
