// TESSERA_HUGE_PAGES=1 advises transparent huge pages for the kernel memory (src/kernels/huge-pages.ts):
// a process that persists a 96 MiB array then has it in 2 MiB pages (AnonHugePages in
// /proc/self/smaps); by default it does not, where the kernel's THP mode is "madvise" (only what is advised).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { NATIVE_KERNELS_PATH } from "../../dist/kernels/native.js";

const thpFile = "/sys/kernel/mm/transparent_hugepage/enabled";
const mode = existsSync(thpFile) ? /\[(\w+)\]/.exec(readFileSync(thpFile, "utf8"))?.[1] : undefined;
const usable = process.platform === "linux" && existsSync(NATIVE_KERNELS_PATH) && (mode === "madvise" || mode === "always");

const script = `
  import * as t from "./dist/index.js";
  const x = await t.ones([3072, 4096], { chunks: [512, 4096] }).add(1).persist();
  let huge = 0;
  for (const m of (await import("node:fs")).readFileSync("/proc/self/smaps", "utf8").matchAll(/AnonHugePages:\\s+(\\d+) kB/g)) huge += Number(m[1]);
  console.log(JSON.stringify({ huge, sum: await x.sum().compute() }));
  await t.shutdown();`;
const run = (env) => JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ...env }, encoding: "utf8" }));

test("with TESSERA_HUGE_PAGES=1 the kernel memory is in huge pages; by default it is not", () => {
  if (!usable) return console.log(`  (skipped: THP mode ${mode ?? "absent"}, native kernels ${existsSync(NATIVE_KERNELS_PATH) ? "built" : "not built"})`);
  const on = run({ TESSERA_HUGE_PAGES: "1" });
  assert.is(on.sum, 2 * 3072 * 4096);
  assert.ok(on.huge >= 90 * 1024, `AnonHugePages ${on.huge} kB with huge pages advised: at least the 96 MiB array`);
  const off = run({ TESSERA_HUGE_PAGES: "" });
  assert.is(off.sum, on.sum);
  if (mode === "madvise") assert.ok(off.huge < 16 * 1024, `AnonHugePages ${off.huge} kB by default (THP only where advised)`);
});

test("a bad TESSERA_HUGE_PAGES is INVALID_ARGUMENT naming it", () => {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", `
    import * as t from "./dist/index.js";
    try { await t.ones([4]).sum().compute(); console.log("no error"); } catch (e) { console.log(e.code, e.message); }`],
    { env: { ...process.env, TESSERA_HUGE_PAGES: "yes" }, encoding: "utf8" });
  assert.match(r.stdout, /^INVALID_ARGUMENT .*TESSERA_HUGE_PAGES "yes"/);
});

test.run();
