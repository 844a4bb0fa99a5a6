// Test harness for the kernels: lays out a program, its registers, scratch and data arrays at the same
// addresses in two shared memories, runs the wasm interpreter on one and the JS twin on the other, and
// returns both results for comparison. When the native interpreter is built, every program also runs on
// it, in a third memory, and must give the wasm side's RC and outputs bit for bit (or its trap): so every
// kernel test checks all three backends. TESSERA_NATIVE_LEVEL picks its dispatch level (default: the
// best this CPU has; native.test.mjs runs every level).
import { DEFAULT_TILE, DT, MAX_REGS, OP, SCRATCH_BYTES } from "../../dist/kernels/abi.js";
import { loadNativeKernels, nativeLevel, nativeRun } from "../../dist/kernels/native.js";
import { ProgramBuilder, writeProgram } from "../../dist/kernels/program.js";
import { runReference } from "../../dist/kernels/reference.js";
import { KERNEL_RESERVED_BYTES, createSharedMemory, instantiateKernels, kernelModule } from "../../dist/kernels/wasm.js";
import { opArity } from "../../dist/kernels/abi.js";

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
let nativeSide;
function sides() {
  if (!wasmSide) {
    const mw = createSharedMemory(PAGES);
    wasmSide = { memory: mw, run: kernelModuleRun(mw) };
    const mj = createSharedMemory(PAGES);
    jsSide = { memory: mj, run: (p) => runReference(mj.buffer, p) };
    const addon = loadNativeKernels();
    if (addon) {
      const mn = createSharedMemory(PAGES);
      nativeSide = { memory: mn, run: nativeRun(addon, mn, nativeLevel(addon)) };
    }
  }
  return nativeSide ? [wasmSide, jsSide, nativeSide] : [wasmSide, jsSide];
}

/** The wasm kernels' run(), whatever TESSERA_KERNELS says. */
function kernelModuleRun(memory) {
  const saved = process.env.TESSERA_KERNELS;
  process.env.TESSERA_KERNELS = "wasm";
  try {
    return instantiateKernels(memory, kernelModule()).run;
  } finally {
    if (saved === undefined) delete process.env.TESSERA_KERNELS;
    else process.env.TESSERA_KERNELS = saved;
  }
}

/** Whether the native interpreter runs beside wasm and the JS twin in runBoth (it is built and loads). */
export const nativeInHarness = () => (sides(), nativeSide !== undefined);

/** Opcodes whose native results may differ from wasm in the last bits (glibc's libm, not a port of AssemblyScript's). */
export const NATIVE_APPROX = new Set([
  OP.TANH, OP.TAN, OP.ASIN, OP.ACOS, OP.ATAN, OP.SINH, OP.COSH, OP.ASINH, OP.ACOSH, OP.ATANH, OP.LOG1P, OP.EXPM1, OP.LOG2,
  OP.LOG10, OP.ATAN2, OP.HYPOT,
]);

function usesApprox(code) {
  for (let pc = 0; pc < code.length && code[pc] !== OP.END && opArity(code[pc]) >= 0; pc += 1 + opArity(code[pc])) {
    if (NATIVE_APPROX.has(code[pc])) return true;
  }
  return false;
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
 * values of register 0 after the run; registers start as NaN), and `native` ({ rc, out } or null), which
 * has already been compared with the wasm side (a difference throws).
 */
export function runBoth(tpl, arrays, geometry, tile = DEFAULT_TILE) {
  const [w, j, n] = sides();
  const res = runOn(w, j, n ? [n] : [], tpl, arrays, geometry, tile);
  return { ...res, native: res.natives[0] ?? null };
}

const levelSides = new Map();
/**
 * runBoth with the native interpreter at every dispatch level this CPU has (each in a memory of its own),
 * each compared with wasm bit for bit; `natives` holds their { level, rc, out }.
 */
export function runLevels(tpl, arrays, geometry, tile = DEFAULT_TILE) {
  const [w, j] = sides();
  const addon = loadNativeKernels();
  const natives = [];
  for (const level of addon ? addon.levels() : []) {
    if (!levelSides.has(level)) {
      const m = createSharedMemory(PAGES);
      levelSides.set(level, { memory: m, run: nativeRun(addon, m, level), level });
    }
    natives.push(levelSides.get(level));
  }
  return runOn(w, j, natives, tpl, arrays, geometry, tile);
}

function runOn(wasm, js, natives, tpl, arrays, geometry, tile) {
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
  let trap = null;
  for (const side of [wasm, js, ...natives]) {
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
    let rc;
    if (side === js && trap) {
      rc = "trap"; // the JS twin reads past the end as undefined: only the compiled interpreters trap
    } else {
      // a wasm trap must be a trap of the native side too (its RC.OUT_OF_BOUNDS, thrown as the same error)
      try {
        rc = side.run(PROGRAM_AT);
      } catch (e) {
        if (side === wasm) { trap = e; rc = "trap"; }
        else if (side !== js && trap && e instanceof trap.constructor) rc = "trap";
        else throw new Error(`${side.level ?? "native"} run threw ${e} where wasm ${trap ? `threw ${trap}` : "did not"}`);
      }
      if (side !== wasm && side !== js && (rc === "trap") !== (trap !== null)) {
        throw new Error(`wasm ${trap ? `threw ${trap}` : "did not throw"}, native (${side.level ?? "default level"}) returned ${rc}`);
      }
    }
    rcs.push(rc);
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
  if (trap) throw trap;
  const approx = usesApprox(tpl.code);
  const nativeResults = natives.map((side, i) => {
    const rc = rcs[2 + i], out = outs[2 + i];
    const what = side.level ?? "native";
    if (rc !== rcs[0]) throw new Error(`${what} RC ${rc}, wasm RC ${rcs[0]}`);
    for (const name of names) {
      const w = outs[0][name], n = out[name];
      const d = approx ? w.findIndex((v, k) => !close(v, n[k], 4)) : firstDiff(w, n);
      const show = (v) => (Object.is(v, -0) ? "-0" : String(v));
      if (d !== -1) throw new Error(`${what} ${name}[${d}] = ${show(n[d])}, wasm ${show(w[d])}${approx ? " (beyond 4 ulps)" : ""}`);
    }
    return { level: side.level, rc, out };
  });
  return { rc: rcs.slice(0, 2), out: outs.slice(0, 2), guardsOk, addr, regs: regs.slice(0, 2), natives: nativeResults };
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
