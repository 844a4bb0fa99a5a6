/**
 * HDF5 datasets, read with libhdf5 itself (h5wasm.ts): a dataset is described once on the main thread
 * (shape, type, storage chunks, filters), and each task reads its region as one hyperslab (H5Dread of
 * [start, start + shape)), so libhdf5 reads and decompresses only the storage chunks the region touches.
 *
 * libhdf5 hands the elements over in the file's type with little-endian byte order (h5wasm asks for
 * that: big-endian data is converted by libhdf5), and disk-dtype.ts turns them into compute dtypes
 * losslessly, as for .npy. h5py's bool is an enum {FALSE: 0, TRUE: 1} of int8, read as bool; other
 * integer enums read as their integers (as h5py gives them). Strings, compound (h5py's complex numbers
 * are compounds), variable-length, array, opaque, reference and time types are INVALID_DTYPE.
 *
 * Each worker keeps the files it read open (opening costs about a millisecond, a hyperslab of a small
 * chunk less), at most a few, each closed once unused for a second. A kept handle is read-only and
 * libhdf5 buffers nothing to write, so keeping it is safe; what could go wrong is reading a file that
 * changed since: every read first compares the file's size and modification time with those seen when
 * it was opened (a changed file is IO_ERROR, not read stale) and its inode with the kept handle's (a file
 * replaced under the same name is opened anew).
 */
import { closeSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { TesseraError, invalid, show } from "../errors.js";
import type { TypedArray } from "../dtype.js";
import { sizeOf } from "../grid.js";
import { decode, parseTypestr, type DiskDType } from "./disk-dtype.js";
import { h5, hdf5Why, quiet, type H5Metadata, type H5Module } from "./h5wasm.js";

/** Where a task reads an HDF5 dataset's elements (plain data: workers open the file themselves). */
export interface Hdf5Source {
  format: "hdf5";
  path: string;
  /** the dataset's absolute path in the file ("/group/name") */
  dataset: string;
  /** the elements as libhdf5 hands them over (always little endian) */
  typestr: string;
  shape: number[];
  /** the file's size and modification time when it was opened (a file changed since is refused) */
  stamp: string;
}

/** What openHdf5 learns of a dataset. */
export interface Hdf5Dataset {
  source: Hdf5Source;
  dtype: DiskDType;
  /** the storage chunks, or null for a contiguous (or compact) dataset */
  chunks: number[] | null;
  /** the filters (compression) the storage chunks pass through, by name */
  filters: string[];
}

/** Filters libhdf5 has built in, and those h5wasm-plugins brings (by HDF5's registered filter ids). */
const BUILT_IN_FILTERS = new Set([1, 2, 3, 4, 5, 6]);
const PLUGIN_FILTERS = new Set([307, 32000, 32001, 32004, 32008, 32013, 32015, 32019, 32022, 32023, 32026]);
const CLASS_NAMES = ["integer", "float", "time", "string", "bitfield", "opaque", "compound", "reference", "enum", "variable-length", "array"];

const stampOf = (st: Stats): string => `${st.size}:${st.mtimeMs}`;
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Opens `path` and describes `dataset` in it; coded errors name both. */
export async function describeHdf5(path: string, dataset: string): Promise<Hdf5Dataset> {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new TesseraError("IO_ERROR", `openHdf5 cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!st.isFile()) throw new TesseraError("IO_ERROR", `openHdf5: ${path} is not a file`);
  checkSignature(path, st.size);
  const m = await h5();
  const [id, diag] = quiet(() => m.open(path, m.H5F_ACC_RDONLY, false, -1, -1));
  if (id < 0n) throw new TesseraError("FORMAT_ERROR", `${path} is not a readable HDF5 file: ${hdf5Why(diag)}`);
  try {
    const name = dataset.startsWith("/") ? dataset : `/${dataset}`;
    const [type] = quiet(() => m.get_type(id, name));
    if (type !== m.H5G_DATASET) {
      const what = type === m.H5G_GROUP ? "is a group, not a dataset" : "does not exist";
      throw new TesseraError("NOT_FOUND", `${path}: ${show(name)} ${what}; its datasets: ${listDatasets(m, id)}`);
    }
    const [meta, mdiag] = quiet(() => m.get_dataset_metadata(id, name));
    if (!meta) throw new TesseraError("FORMAT_ERROR", `${path}: the dataset ${show(name)} cannot be read: ${hdf5Why(mdiag)}`);
    const where = `${path}: dataset ${show(name)}`;
    if (!meta.shape) throw invalid("INVALID_SHAPE", `${where} has a null dataspace (h5py.Empty): it holds no array`);
    const dtype = diskDTypeOf(meta, where);
    const [filters] = quiet(() => m.get_dataset_filters(id, name));
    for (const f of filters ?? []) {
      if (!BUILT_IN_FILTERS.has(f.id) && !PLUGIN_FILTERS.has(f.id)) {
        throw new TesseraError("FORMAT_ERROR", `${where} is stored through the filter ${show(f.name)} (id ${f.id}), which tessera's libhdf5 has no plugin for`);
      }
    }
    return {
      source: { format: "hdf5", path, dataset: name, typestr: dtype.typestr, shape: meta.shape, stamp: stampOf(st) },
      dtype,
      chunks: meta.chunks,
      filters: (filters ?? []).map((f) => f.name),
    };
  } finally {
    quiet(() => m.close_file(id));
  }
}

/** An HDF5 file starts with its signature at byte 0, or after a user block of 512, 1024, 2048... bytes. */
function checkSignature(path: string, size: number): void {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new TesseraError("IO_ERROR", `openHdf5 cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const buf = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      if (readSync(fd, buf, 0, 8, at) === 8 && HDF5_SIGNATURE.every((b, i) => buf[i] === b)) return;
    }
  } finally {
    closeSync(fd);
  }
  throw new TesseraError("FORMAT_ERROR", `${path} is not an HDF5 file (no HDF5 signature at byte 0, 512, 1024...)`);
}

/** The datasets of a file, for a NOT_FOUND message (the first 20). */
function listDatasets(m: H5Module, id: bigint): string {
  const [names] = quiet(() => m.get_names(id, "/", true) as string[]);
  const sets: string[] = [];
  for (const n of (names ?? []).slice(0, 500)) {
    if (quiet(() => m.get_type(id, `/${n}`))[0] === m.H5G_DATASET) sets.push(n);
    if (sets.length > 20) break;
  }
  if (!sets.length) return "none";
  return sets.slice(0, 20).join(", ") + (sets.length > 20 ? ", ..." : "");
}

/** The disk dtype of a dataset's elements as libhdf5 hands them over (little endian); INVALID_DTYPE for the rest. */
export function diskDTypeOf(meta: H5Metadata, where: string): DiskDType {
  const refuse = (what: string): never => {
    throw invalid("INVALID_DTYPE", `${where}: HDF5 type ${what} is not supported (numbers and bools only: no strings, compound or complex, variable-length or opaque types)`);
  };
  const size = meta.size;
  const cls = meta.type;
  const className = CLASS_NAMES[cls] ?? `class ${cls}`;
  if (meta.vlen) refuse(`variable-length ${className}`);
  if (cls === 0) return parseTypestr(`${size === 1 ? "|" : "<"}${meta.signed ? "i" : "u"}${size}`, where);
  if (cls === 1) {
    if (size !== 2 && size !== 4 && size !== 8) refuse(`float of ${size} bytes`);
    return parseTypestr(`<f${size}`, where);
  }
  if (cls === 8 && meta.enum_type) {
    const names = Object.entries(meta.enum_type.members);
    const isBool = size === 1 && names.length === 2 && meta.enum_type.members["FALSE"] === 0 && meta.enum_type.members["TRUE"] === 1;
    if (isBool) return parseTypestr("|b1", where);
    if (meta.enum_type.type === 0 && [1, 2, 4, 8].includes(size)) return parseTypestr(`${size === 1 ? "|" : "<"}${meta.signed ? "i" : "u"}${size}`, where);
    refuse(`enum of ${size} bytes`);
  }
  if (cls === 6 && meta.compound_type) {
    const fields = meta.compound_type.members.map((x) => x.name);
    const complex = fields.length === 2 && fields[0] === "r" && fields[1] === "i"; // h5py's complex64/128
    refuse(complex ? `complex (a compound of r, i; ${size} bytes)` : `compound of ${fields.join(", ")}`);
  }
  return refuse(`${className}${cls === 3 ? ` (${size} bytes)` : ""}`);
}

/** Reads region (start, shape) of an HDF5 dataset into `into` (C order over the region), as one hyperslab. */
export async function readHdf5Region(src: Hdf5Source, start: readonly number[], shape: readonly number[], into: TypedArray): Promise<void> {
  const n = sizeOf(shape);
  if (n === 0) return;
  const d = parseTypestr(src.typestr, src.path);
  const where = `${src.path} dataset ${src.dataset} region at [${start.join(", ")}]`;
  const m = await h5();
  const id = openFile(m, src);
  const bytes = n * d.bytes;
  const ptr = m._malloc(bytes);
  if (!ptr) throw new TesseraError("TOO_LARGE", `${where}: libhdf5's memory cannot hold the ${bytes} bytes of the region`);
  try {
    // a 0-d dataset has no hyperslabs: it is read whole
    const big = (a: readonly number[]) => a.map((x) => BigInt(x));
    const [status, diag] = quiet(() =>
      shape.length
        ? m.get_dataset_data(id, src.dataset, big(shape), big(start), big(shape.map(() => 1)), BigInt(ptr))
        : m.get_dataset_data(id, src.dataset, null, null, null, BigInt(ptr)),
    );
    if (status < 0) throw new TesseraError("FORMAT_ERROR", `${where}: libhdf5 cannot read it: ${hdf5Why(diag)}`);
    decode(d, m.HEAPU8.subarray(ptr, ptr + bytes), n, into, 0, where); // HEAPU8 after the read: memory may have grown
  } finally {
    m._free(ptr);
  }
}

// ---- files kept open by this thread ----

interface Kept {
  m: H5Module;
  id: bigint;
  ino: number;
  timer?: ReturnType<typeof setTimeout>;
}
const kept = new Map<string, Kept>();
const KEEP_FILES = 4;
const KEEP_MS = 1000;

function release(path: string): void {
  const k = kept.get(path);
  if (!k) return;
  kept.delete(path);
  clearTimeout(k.timer);
  quiet(() => k.m.close_file(k.id));
}

/** The file of `src`, open (kept from an earlier read when it is still the same file). */
function openFile(m: H5Module, src: Hdf5Source): bigint {
  let st: Stats;
  try {
    st = statSync(src.path);
  } catch (e) {
    throw new TesseraError("IO_ERROR", `${src.path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  if (stampOf(st) !== src.stamp) {
    throw new TesseraError("IO_ERROR", `${src.path} changed since it was opened (size:mtime ${src.stamp}, now ${stampOf(st)}): open it again`);
  }
  let k = kept.get(src.path);
  if (k && k.ino !== st.ino) release(src.path);
  k = kept.get(src.path);
  if (k) {
    kept.delete(src.path); // re-inserted below: the map's order is the order of last use
    clearTimeout(k.timer);
  } else {
    const [id, diag] = quiet(() => m.open(src.path, m.H5F_ACC_RDONLY, false, -1, -1));
    if (id < 0n) throw new TesseraError("FORMAT_ERROR", `${src.path} is not a readable HDF5 file: ${hdf5Why(diag)}`);
    if (kept.size >= KEEP_FILES) release(kept.keys().next().value!);
    k = { m, id, ino: st.ino };
  }
  k.timer = setTimeout(() => release(src.path), KEEP_MS);
  k.timer.unref();
  kept.set(src.path, k);
  return k.id;
}
