// The fsync option of toZarr and saveNpy: without it no write syncs (the page cache holds it, atomically);
// with it every chunk file is fdatasync'ed before its rename, the header and regions of an .npy too, then
// the directories and the metadata. Seen from the outside with strace (Debian's package, installed by
// scripts/install-interop.sh: CI fails the test without it), counting the syscalls of a child process.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openZarr, loadNpy, toZarr, saveNpy, random, shutdown } from "../../dist/index.js";
import { rejectsCode } from "../helpers/check.mjs";

const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const hasStrace = spawnSync("strace", ["-V"]).status === 0;
const traced = hasStrace ? test : process.env.TESSERA_INTEROP === "1" ? (name) => test(name, () => assert.unreachable("strace is missing")) : test.skip;
const dir = mkdtempSync(join(tmpdir(), "tessera-durable-"));

/** The fdatasync and fsync calls of a child that runs `body` (with tessera imported as t). */
function syscalls(body) {
  const log = join(dir, `strace-${Math.random().toString(36).slice(2)}.log`);
  const script = `import * as t from ${JSON.stringify(dist)};\n${body}\nawait t.shutdown();`;
  const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=fdatasync,fsync", "-o", log, process.execPath, "--input-type=module", "-e", script], { encoding: "utf8", env: { ...process.env, TESSERA_WORKERS: "2" } });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  const lines = readFileSync(log, "utf8").split("\n");
  return { fdatasync: lines.filter((l) => /\bfdatasync\(/.test(l)).length, fsync: lines.filter((l) => /\bfsync\(/.test(l)).length };
}

traced("toZarr: no syncs by default; with fsync, one fdatasync per chunk file and the metadata, then the directories", () => {
  const a = join(dir, "plain.zarr");
  const b = join(dir, "synced.zarr");
  const c = join(dir, "synced3.zarr");
  // 3 x 4 = 12 chunks
  const make = `t.random.random([300, 400], { chunks: 100, seed: 1 })`;
  assert.equal(syscalls(`await t.toZarr(${make}, ${JSON.stringify(a)});`), { fdatasync: 0, fsync: 0 });
  const s2 = syscalls(`await t.toZarr(${make}, ${JSON.stringify(b)}, { fsync: true });`);
  assert.is(s2.fdatasync, 12 + 1, "12 chunks and .zarray");
  assert.ok(s2.fsync >= 2, `the array's directory before and after the metadata: ${s2.fsync}`);
  // v3: chunks in nested directories c/i/, each synced
  const s3 = syscalls(`await t.toZarr(${make}, ${JSON.stringify(c)}, { fsync: true, format: 3 });`);
  assert.is(s3.fdatasync, 12 + 1, "12 chunks and zarr.json");
  assert.ok(s3.fsync >= 1 + 1 + 3 + 1, `c/, c/0..2/, the array's directory twice: ${s3.fsync}`);
});

traced("saveNpy: with fsync, the header and every region's writes, then the directory", () => {
  const p = join(dir, "x.npy");
  assert.equal(syscalls(`await t.saveNpy(t.random.random([300, 400], { chunks: 100, seed: 1 }), ${JSON.stringify(p)});`), { fdatasync: 0, fsync: 0 });
  const s = syscalls(`await t.saveNpy(t.random.random([300, 400], { chunks: 100, seed: 1 }), ${JSON.stringify(p)}, { fsync: true, overwrite: true });`);
  assert.is(s.fdatasync, 1 + 12, "the header and 12 regions");
  assert.is(s.fsync, 1, "the directory after the rename");
});

test("fsync writes the same arrays; a bad fsync value is INVALID_ARGUMENT", async () => {
  const x = random.random([300, 400], { chunks: 100, seed: 2 });
  const want = await x.sum().compute();
  await toZarr(x, join(dir, "s.zarr"), { fsync: true });
  // read back with the written chunking: sums are bit-identical for a given chunking (not across chunkings)
  assert.is(await openZarr(join(dir, "s.zarr"), { chunks: 100 }).sum().compute(), want);
  await saveNpy(x, join(dir, "s.npy"), { fsync: true });
  assert.is(await loadNpy(join(dir, "s.npy"), { chunks: 100 }).sum().compute(), want);
  await rejectsCode(toZarr(x, join(dir, "t.zarr"), { fsync: 1 }), "INVALID_ARGUMENT", "fsync");
  await rejectsCode(saveNpy(x, join(dir, "t.npy"), { fsync: "yes" }), "INVALID_ARGUMENT", "fsync");
});

test("a chunk whose background sync or rename fails: toZarr fails with IO_ERROR naming it, no temporary file left, the next write is clean", async () => {
  const x = random.random([300, 400], { chunks: 100, seed: 3 });
  const p = join(dir, "fails.zarr");
  await toZarr(x, p, { fsync: true });
  // the same layout is replaced chunk by chunk: a directory in the place of chunk 1.2 refuses the rename
  rmSync(join(p, "1.2"));
  mkdirSync(join(p, "1.2"));
  writeFileSync(join(p, "1.2", "x"), "in the way");
  for (const fsync of [true, false]) {
    await rejectsCode(toZarr(x.add(1), p, { fsync, overwrite: true }), "IO_ERROR", join(p, "1.2"));
    assert.equal(readdirSync(p).filter((f) => f.includes("tessera-tmp")), [], `fsync ${fsync}: no temporary file left`);
  }
  rmSync(join(p, "1.2"), { recursive: true });
  await toZarr(x.add(1), p, { fsync: true, overwrite: true });
  const [got, want] = [(await openZarr(p).compute()).data, (await x.add(1).compute()).data];
  assert.ok(got.length === want.length && got.every((v, i) => v === want[i]), "a later write has nothing of the failure");
});

test.after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await shutdown();
});

test.run();
