// log, exp, pow, sin and cos exactly as AssemblyScript's std Math computes them (its musl / ARM
// optimized-routines port, std/assembly/math.ts and util/math.ts), so the native interpreter's EXP, LOG,
// SIN, COS, POW and normal RANDOM give the wasm kernels' bits on every machine (glibc picks FMA variants
// at run time on some CPUs). Compiled with -ffp-contract=off: every operation rounds as in wasm.
#pragma once

namespace tk::asmath {
double log(double x);
double exp(double x);
double pow(double x, double y);  // Math.pow (JS semantics; the interpreter's POW adds C's special cases)
double sin(double x);
double cos(double x);
}  // namespace tk::asmath
