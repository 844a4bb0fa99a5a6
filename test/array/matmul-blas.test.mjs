// matmul with the default GEMM where a BLAS loads (kernels/native-gemm.ts): the suite itself runs with
// TESSERA_GEMM=plain (scripts/test.mjs), so this runs a child with TESSERA_GEMM unset. BLAS's bits are
// not the canonical ones, so: within a dot product's error bound of the reference, not all equal to it
// (BLAS ran), the same bits for 1 and 2 workers and on a repeated compute, int32 exact.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { blasInfo, blasMissing } from "../../dist/kernels/native-gemm.js";

const child = fileURLToPath(new URL("./fixtures/matmul-blas-child.mjs", import.meta.url));

test("default GEMM: BLAS where one loads; close to the reference, the same bits across worker counts", () => {
  const env = { ...process.env };
  delete env.TESSERA_GEMM;
  const r = spawnSync(process.execPath, [child], { encoding: "utf8", env, timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split("\n").pop());
  if (!blasInfo()) {
    console.log(`matmul-blas.test: no BLAS (${blasMissing()}): the default is the canonical kernel`);
    assert.is(got.flavour, "plain");
    assert.is(got.differs, 0, "the canonical bits");
  } else {
    assert.is(got.flavour, "blas");
    assert.ok(got.differs > 0, "BLAS's bits, not the canonical ones");
  }
  assert.ok(got.maxErr < 200 * 2 ** -52 * 4, `relative error ${got.maxErr}`);
  assert.ok(got.sameAcross, "1 worker, 2 workers and a second compute give the same bits");
  assert.ok(got.int32Exact, "int32 matmul exact");
});

test.run();
