/**
 * Zarr's bytes-to-bytes codecs (compressors), the same for v2 (`compressor`) and v3 (`codecs` after
 * `bytes`): gzip and zlib with Node's own zlib (native, in every worker); zstd, blosc and lz4 with
 * `numcodecs` (npm: WebAssembly inlined in the package, loaded on first use, nothing fetched).
 *
 * Decoding checks what it can before a decoder sees the bytes (a blosc frame's own sizes; zlib's output
 * bound), and every failure is a FORMAT_ERROR naming the chunk file: a truncated or foreign chunk is never
 * read as data.
 */
import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { TesseraError, invalid, show } from "../errors.js";

export type BytesCodec =
  | { id: "gzip"; level: number }
  | { id: "zlib"; level: number }
  | { id: "zstd"; level: number }
  | { id: "blosc"; cname: string; clevel: number; shuffle: number; blocksize: number }
  | { id: "lz4"; acceleration: number };

const BLOSC_CNAMES = ["blosclz", "lz4", "lz4hc", "zlib", "zstd"];
const SHUFFLES = ["noshuffle", "shuffle", "bitshuffle"];
/** Compressors tessera reads and writes, by the v2 id (v3 names are the same, lz4 and zlib v2 only). */
export const CODEC_IDS = ["gzip", "zlib", "zstd", "blosc", "lz4"] as const;

const bad = (file: string, why: string): never => {
  throw new TesseraError("FORMAT_ERROR", `${file}: ${why}`);
};
const int = (v: unknown, dflt: number, lo: number, hi: number, what: string, file: string): number => {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || (x as number) < lo || (x as number) > hi) bad(file, `${what} ${show(v)} is not an integer from ${lo} to ${hi}`);
  return x as number;
};

function fromConfig(id: unknown, c: Record<string, unknown>, file: string, v3: boolean): BytesCodec {
  switch (id) {
    case "gzip":
    case "zlib":
      return { id, level: int(c.level, id === "gzip" ? 5 : 1, 0, 9, `${id} level`, file) };
    case "zstd":
      return { id, level: int(c.level, 0, -131072, 22, "zstd level", file) };
    case "lz4":
      return { id, acceleration: int(c.acceleration, 1, -1e9, 1e9, "lz4 acceleration", file) };
    case "blosc": {
      const cname = c.cname ?? "lz4";
      if (typeof cname !== "string" || !BLOSC_CNAMES.includes(cname)) bad(file, `blosc cname ${show(cname)} is not one of ${BLOSC_CNAMES.join(", ")}`);
      const sh = c.shuffle ?? 1;
      const shuffle = typeof sh === "string" ? SHUFFLES.indexOf(sh) : sh;
      if (!(typeof shuffle === "number" && Number.isInteger(shuffle) && shuffle >= (v3 ? 0 : -1) && shuffle <= 2)) bad(file, `blosc shuffle ${show(sh)} is not supported`);
      return { id, cname: cname as string, clevel: int(c.clevel, 5, 0, 9, "blosc clevel", file), shuffle: shuffle as number, blocksize: int(c.blocksize, 0, 0, 2 ** 31, "blosc blocksize", file) };
    }
  }
  return bad(file, `codec ${show(id)} is not supported (tessera reads ${v3 ? "gzip, zstd, blosc (and numcodecs.zlib, numcodecs.lz4)" : "blosc, zstd, gzip, zlib, lz4"})`);
}

/** A v2 `compressor` object. */
export function v2Compressor(c: unknown, file: string): BytesCodec {
  if (!c || typeof c !== "object" || Array.isArray(c)) return bad(file, `compressor ${show(c)} is not an object or null`);
  return fromConfig((c as { id?: unknown }).id, c as Record<string, unknown>, file, false);
}

/** A v3 bytes-to-bytes codec (name and configuration). */
export function v3BytesCodec(name: unknown, conf: Record<string, unknown>, file: string): BytesCodec {
  if (name === "crc32c") bad(file, `codec "crc32c" is not supported`);
  const id = typeof name === "string" && name.startsWith("numcodecs.") ? name.slice("numcodecs.".length) : name;
  if (id === "gzip" || id === "zstd" || id === "blosc" || name === "numcodecs.zlib" || name === "numcodecs.lz4") return fromConfig(id, conf, file, true);
  return bad(file, `codec ${show(name)} is not supported (tessera reads gzip, zstd, blosc, and numcodecs.zlib, numcodecs.lz4)`);
}

export function codecToV2(c: BytesCodec): Record<string, unknown> {
  return c.id === "blosc" ? { blocksize: c.blocksize, clevel: c.clevel, cname: c.cname, id: c.id, shuffle: c.shuffle } : { ...c };
}

export function codecToV3(c: BytesCodec, typesize: number): Record<string, unknown> {
  switch (c.id) {
    case "gzip":
      return { name: "gzip", configuration: { level: c.level } };
    case "zstd":
      return { name: "zstd", configuration: { level: c.level, checksum: false } };
    case "blosc":
      return { name: "blosc", configuration: { cname: c.cname, clevel: c.clevel, shuffle: SHUFFLES[c.shuffle] ?? "shuffle", typesize, blocksize: c.blocksize } };
    case "zlib":
      return { name: "numcodecs.zlib", configuration: { level: c.level } };
    case "lz4":
      return { name: "numcodecs.lz4", configuration: { acceleration: c.acceleration } };
  }
}

/**
 * The `codec` option of toZarr: "none", a name ("gzip", "zstd", "blosc", "zlib", "lz4") with zarr-python's
 * defaults, or { name, ...settings } (gzip/zlib `level` 0-9; zstd `level`; blosc `cname`, `clevel`,
 * `shuffle`: "noshuffle" | "shuffle" | "bitshuffle"; lz4 `acceleration`).
 */
export function codecOption(opt: unknown, format: 2 | 3): BytesCodec[] {
  if (opt === undefined || opt === "none" || opt === null) return [];
  const name = typeof opt === "string" ? opt : opt && typeof opt === "object" ? (opt as { name?: unknown }).name : undefined;
  const conf = typeof opt === "object" && opt ? { ...(opt as Record<string, unknown>) } : {};
  delete conf.name;
  if (typeof name !== "string" || !(CODEC_IDS as readonly string[]).includes(name)) {
    throw invalid("INVALID_ARGUMENT", `toZarr codec ${show(opt)} is not one of "none", ${CODEC_IDS.map((c) => `"${c}"`).join(", ")} (or { name, ...settings })`);
  }
  const allowed: Record<string, string[]> = { gzip: ["level"], zlib: ["level"], zstd: ["level"], blosc: ["cname", "clevel", "shuffle", "blocksize"], lz4: ["acceleration"] };
  for (const k of Object.keys(conf)) if (!allowed[name]!.includes(k)) throw invalid("INVALID_ARGUMENT", `toZarr codec ${show(name)} has no setting ${show(k)}; it takes ${allowed[name]!.join(", ")}`);
  // zarr-python's defaults: gzip/zlib level 1, zstd 1, blosc lz4 level 5 with byte shuffle
  const defaults: Record<string, Record<string, unknown>> = { gzip: { level: 1 }, zlib: { level: 1 }, zstd: { level: 1 }, blosc: { cname: "lz4", clevel: 5, shuffle: "shuffle", blocksize: 0 }, lz4: { acceleration: 1 } };
  if (format === 3 && (name === "zlib" || name === "lz4")) {
    throw invalid("INVALID_ARGUMENT", `toZarr codec ${show(name)} has no standard Zarr v3 name: use "gzip", "zstd" or "blosc" with format 3`);
  }
  try {
    return [fromConfig(name, { ...defaults[name], ...conf }, "toZarr codec", false)];
  } catch (e) {
    throw invalid("INVALID_ARGUMENT", (e as Error).message);
  }
}

interface Codec {
  encode(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  decode(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}
type CodecClass = { fromConfig(c: Record<string, unknown>): Codec };
const wasm = new Map<string, Promise<CodecClass>>();
function numcodecs(id: "zstd" | "blosc" | "lz4"): Promise<CodecClass> {
  let p = wasm.get(id);
  if (!p) {
    p = (id === "zstd" ? import("numcodecs/zstd") : id === "blosc" ? import("numcodecs/blosc") : import("numcodecs/lz4")).then((m) => m.default as unknown as CodecClass);
    wasm.set(id, p);
  }
  return p;
}

const u32 = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

async function decodeOne(c: BytesCodec, data: Uint8Array, expected: number | undefined, file: string): Promise<Uint8Array> {
  const cut = `it is truncated or not a ${c.id} stream`;
  try {
    switch (c.id) {
      case "gzip":
      case "zlib": {
        const opts = expected === undefined ? {} : { maxOutputLength: Math.max(1, expected + 1) };
        return c.id === "gzip" ? gunzipSync(data, opts) : inflateSync(data, opts);
      }
      case "blosc": {
        // the frame says its sizes: check them before the decoder (which trusts them) sees it
        if (data.length < 16 || data[0]! < 1 || data[0]! > 4) bad(file, `${cut} (no blosc header)`);
        const nbytes = u32(data, 4);
        const cbytes = u32(data, 12);
        if (cbytes !== data.length) bad(file, `${cut}: the blosc frame says ${cbytes} bytes, the file holds ${data.length}`);
        if (expected !== undefined && nbytes !== expected) bad(file, `the blosc frame decodes to ${nbytes} bytes, not the ${expected} of a chunk of this array`);
        break;
      }
      case "lz4":
        if (data.length < 4) bad(file, `${cut} (no lz4 size header)`);
        if (expected !== undefined && u32(data, 0) !== expected) bad(file, `the lz4 stream decodes to ${u32(data, 0)} bytes, not the ${expected} of a chunk of this array`);
        break;
    }
    const C = await numcodecs(c.id as "zstd" | "blosc" | "lz4");
    return await C.fromConfig({ ...c }).decode(data);
  } catch (e) {
    if (e instanceof TesseraError) throw e;
    const why = (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" ? `it decodes to more than the ${expected} bytes of a chunk of this array` : `${cut} (${(e as Error).message ?? e})`;
    throw new TesseraError("FORMAT_ERROR", `${file}: cannot decode the ${c.id} chunk: ${why}`, { cause: e });
  }
}

/** Undoes `codecs` (last first); the innermost result must be `expected` bytes (checked by the caller too). */
export async function decodeBytes(codecs: readonly BytesCodec[], data: Uint8Array, expected: number, file: string): Promise<Uint8Array> {
  for (let i = codecs.length - 1; i >= 0; i--) data = await decodeOne(codecs[i]!, data, i === 0 ? expected : undefined, file);
  return data;
}

/** Applies `codecs` in order. */
export async function encodeBytes(codecs: readonly BytesCodec[], data: Uint8Array): Promise<Uint8Array> {
  for (const c of codecs) {
    if (c.id === "gzip") data = gzipSync(data, { level: c.level });
    else if (c.id === "zlib") data = deflateSync(data, { level: c.level });
    else data = await (await numcodecs(c.id)).fromConfig({ ...c }).encode(data);
  }
  return data;
}
