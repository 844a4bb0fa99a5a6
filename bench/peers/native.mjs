// Compiles bench/peers/native.c with the system gcc into bench/.build/, once per source version.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "native.c");
const buildDir = join(here, "..", ".build");
// -mprefer-vector-width=512: gcc tunes for 256-bit vectors on many AVX-512 CPUs; the controls are the machine's limit
const FLAGS = ["-O3", "-march=native", "-mprefer-vector-width=512", "-pthread"];

/** Path of the compiled native control binary, or null when gcc is missing or the build fails
 *  (the reason goes to stderr; benchmarks then report the native figures as missing). */
export async function buildNative({ quiet = false } = {}) {
  // Name the binary after a hash of source + flags, so an edited native.c is rebuilt and a stale one never used.
  const hash = createHash("sha256").update(readFileSync(source)).update(FLAGS.join(" ")).digest("hex").slice(0, 12);
  const out = join(buildDir, `native-${hash}`);
  if (existsSync(out)) return out;
  try {
    await run("gcc", ["--version"]);
  } catch {
    if (!quiet) console.error("buildNative: gcc not found; native controls skipped");
    return null;
  }
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, ".gitignore"), "*\n"); // build products never get committed
  const tmp = `${out}.tmp${process.pid}`;
  try {
    await run("gcc", [...FLAGS, source, "-o", tmp]);
    renameSync(tmp, out); // atomic: a concurrent harness never runs a half-written binary
    return out;
  } catch (e) {
    if (!quiet) console.error(`buildNative: gcc failed: ${e.stderr || e.message}`);
    return null;
  }
}

// `node bench/peers/native.mjs` builds and prints the path.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = await buildNative();
  console.log(path ?? "native build unavailable");
  process.exitCode = path ? 0 : 1;
}
