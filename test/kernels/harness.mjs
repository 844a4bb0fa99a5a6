// Test harness for the kernels: lays out a program, its registers, scratch and data arrays at the same
// addresses in two shared memories, runs the wasm interpreter on one and the JS twin on the other, and
// returns both results for comparison.
import { DEFAULT_TILE, DT, MAX_REGS, SCRATCH_BYTES } from "../../dist/kernels/abi.js";
import { ProgramBuilder, writeProgram } from "../../dist/kernels/program.js";
import { runReference } from "../../dist/kernels/reference.js";
import { KERNEL_RESERVED_BYTES, createSharedMemory, instantiateKernels, kernelModule } from "../../dist/kernels/wasm.js";

delete process.env.TESSERA_KERNELS;

export { DT, ProgramBuilder };
export const PAGES = 1024; // 64 MiB per memory
const PROGRAM_AT = KERNEL_RESERVED_BYTES;
const SCRATCH_AT = PROGRAM_AT + 64 * 1024;
const REGS_AT = SCRATCH_AT + SCRATCH_BYTES;
export const DATA_AT = REGS_AT + MAX_REGS * 4096 * 8; // after the largest register file
const GUARD = 64; // bytes of sentinel after every array
const SENTINEL = 0xa5;

let wasmSide;
let jsSide;
function sides() {
  if (!wasmSide) {
    const mw = createSharedMemory(PAGES);
    wasmSide = { memory: mw, run: instantiateKernels(mw, kernelModule()).run };
    const mj = createSharedMemory(PAGES);
    jsSide = { memory: mj, run: (p) => runReference(mj.buffer, p) };
  }
  return [wasmSide, jsSide];
}

export const TYPED = { [DT.F64]: Float64Array, [DT.F32]: Float32Array, [DT.I32]: Int32Array, [DT.BOOL]: Uint8Array };

/** Deterministic PRNG (mulberry32) for test data. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 1e308, -1e308, 5e-324, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 0.5, -0.5, 2.5, 3e9, -7.25];

/** n f64 test values: mostly ordinary numbers in (-100, 100), with specials sprinkled in when `special`. */
export function randomValues(n, seed, { special = true, ints = false } = {}) {
  const r = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (special && u < 0.15) out[i] = SPECIAL[Math.floor(r() * SPECIAL.length)];
    else if (ints) out[i] = Math.floor((r() - 0.5) * 200);
    else out[i] = (r() - 0.5) * 200;
  }
  return out;
}

/**
 * Runs a program on both interpreters.
 *   tpl: ProgramTemplate (ProgramBuilder.build())
 *   arrays: { name: { dtype, length, init?: ArrayLike<number>, atEnd?: true } } placed in the data arena
 *     (atEnd: at the very end of memory, so any read or write past it traps)
 *   geometry(addr): ChunkGeometry given { name: byte address }
 * Returns { rc: [wasm, js], out: [{ name: typed copy }, ...], guardsOk, regs: [wasm, js] } (regs: the first 8
 * values of register 0 after the run; registers start as NaN).
 */
export function runBoth(tpl, arrays, geometry, tile = DEFAULT_TILE) {
  const addr = {};
  let at = DATA_AT;
  const names = Object.keys(arrays);
  for (const name of names) {
    const a = arrays[name];
    const bytes = a.length * TYPED[a.dtype].BYTES_PER_ELEMENT;
    if (a.atEnd) {
      addr[name] = PAGES * 65536 - bytes;
    } else {
      addr[name] = at;
      at = (at + bytes + GUARD + 15) & ~15;
    }
  }
  const geom = geometry(addr);
  const rcs = [];
  const outs = [];
  const regs = []; // per side: the first 8 f64 of register 0 after the run (white-box tests of fast paths)
  let guardsOk = true;
  for (const side of sides()) {
    const buf = side.memory.buffer;
    // junk in registers and scratch: nothing may depend on their previous contents
    new Float64Array(buf, REGS_AT, (DATA_AT - REGS_AT) / 8).fill(NaN);
    new Uint8Array(buf, SCRATCH_AT, SCRATCH_BYTES).fill(0x5a);
    for (const name of names) {
      const a = arrays[name];
      const T = TYPED[a.dtype];
      const view = new T(buf, addr[name], a.length);
      if (a.init) view.set(a.init);
      else view.fill(0);
      if (!a.atEnd) new Uint8Array(buf, addr[name] + view.byteLength, GUARD).fill(SENTINEL);
    }
    writeProgram(buf, PROGRAM_AT, tpl, geom, tile, REGS_AT, SCRATCH_AT);
    rcs.push(side.run(PROGRAM_AT));
    const out = {};
    for (const name of names) {
      const a = arrays[name];
      const T = TYPED[a.dtype];
      out[name] = new T(buf.slice(addr[name], addr[name] + a.length * T.BYTES_PER_ELEMENT));
      if (!a.atEnd) {
        const g = new Uint8Array(buf, addr[name] + a.length * T.BYTES_PER_ELEMENT, GUARD);
        if (g.some((b) => b !== SENTINEL)) guardsOk = false;
      }
    }
    outs.push(out);
    regs.push(new Float64Array(buf.slice(REGS_AT, REGS_AT + 8 * 8)));
  }
  return { rc: rcs, out: outs, guardsOk, addr, regs };
}

/** Equal as values, with every NaN equal to every NaN and -0 distinct from 0. */
export function same(a, b) {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

/** Index of the first element where the arrays differ (same()), or -1. */
export function firstDiff(a, b) {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return i;
  return -1;
}

/** Within `ulps` units in the last place (or both NaN, or equal). */
export function close(a, b, ulps = 4) {
  if (same(a, b)) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const d = Math.abs(a - b);
  const scale = Math.max(Math.abs(a), Math.abs(b), 2.2250738585072014e-308);
  return d <= ulps * 2.220446049250313e-16 * scale;
}

/** Contiguous geometry helpers: a 1-row program over rowLen elements of every slot. */
export function flatGeom(rowLen, slots) {
  return { extents: [], rowLen, slots: slots.map((s) => ({ base: s.base, last: s.last ?? 1, rows: [] })) };
}

/** Lengths that exercise tails: 0, 1, 3, 4, 5, tile-1, tile, tile+1, 2.5 tiles. */
export function awkwardLengths(tile) {
  return [0, 1, 2, 3, 4, 5, 7, tile - 1, tile, tile + 1, Math.floor(2.5 * tile)];
}
