// A snapshot of the build for one bench run: dist/ and the native addons copied under bench/.build/snap-*/,
// laid out as in the checkout (snap/dist, snap/native/build/Release), so a rebuild during the run does not
// change what is measured and the copy finds its addons where the loaders look (dist/../native/build/Release)
// and node_modules by walking up (bench/.build is inside the repository and ignored by git).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/** { snap, dist, addons }: remove it with removeSnapshot(snap). */
export function snapshotBuild(root) {
  mkdirSync(join(root, "bench", ".build"), { recursive: true });
  const snap = mkdtempSync(join(root, "bench", ".build", "snap-"));
  const dist = join(snap, "dist");
  cpSync(join(root, "dist"), dist, { recursive: true });
  const built = join(root, "native", "build", "Release");
  const addons = existsSync(built) ? readdirSync(built).filter((f) => f.endsWith(".node")) : [];
  mkdirSync(join(snap, "native", "build", "Release"), { recursive: true });
  for (const f of addons) cpSync(join(built, f), join(snap, "native", "build", "Release", f));
  return { snap, dist, addons };
}

export function removeSnapshot(snap) {
  if (snap) rmSync(snap, { recursive: true, force: true });
}
