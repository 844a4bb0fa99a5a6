// A worker thread terminated while it loads the native addons (the pool replaces a dead worker and then
// stops it, or the process exits) must not abort the process. Built with C++ exceptions, node-addon-api
// turned a napi call refused by the terminating environment into a Napi::Error whose rethrow as a JS
// exception failed too, and the process died with "terminate called after throwing an instance of
// 'Napi::Error'" (seen in worker-failure.test.mjs). native/binding.gyp defines
// NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS; this loop aborted on its first run without it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { addonPath } from "../dist/native-addon.js";

const addons = ["tessera_kernels.node", "tessera_gemm.node", "tessera_codecs.node", "tessera_shm.node"].map(addonPath).filter((p) => existsSync(p));

test("workers terminated while they load the addons leave the process alive", () => {
  if (!addons.length) return console.log("  (skipped: no native addon built)");
  const code = `for (let i = 0; i < 1000; i++) for (const p of ${JSON.stringify(addons)}) process.dlopen({ exports: {} }, p);`;
  const script = `
    import { Worker } from "node:worker_threads";
    const code = ${JSON.stringify(code)};
    for (let i = 0; i < 200; i++) {
      const w = new Worker(code, { eval: true });
      await new Promise((r) => setTimeout(r, Math.random() * 30));
      await w.terminate();
    }
    console.log("survived");`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 120_000 });
  assert.is(r.signal, null, `the process died of ${r.signal}: ${r.stderr.trim().split("\n").slice(-2).join(" | ")}`);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), "survived");
});

test.run();
