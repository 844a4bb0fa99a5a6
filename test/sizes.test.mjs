// Sizes and durations as options, command lines and job scripts write them: stated units only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatSize, parseDuration, parseSize, slurmMemory, slurmTime } from "../dist/sizes.js";

test("parseSize: decimal GB, binary GiB, bytes; a bare G is refused", () => {
  assert.is(parseSize("10 GB", "m"), 10e9);
  assert.is(parseSize("10GiB", "m"), 10 * 2 ** 30);
  assert.is(parseSize("1.5 MiB", "m"), 1.5 * 2 ** 20);
  assert.is(parseSize("512", "m"), 512);
  assert.is(parseSize(4096, "m"), 4096);
  assert.is(parseSize("3 kB".replace("k", "K"), "m"), 3000);
  for (const bad of ["10G", "10 gb", "-1GB", "", "GB", NaN, -5, "1e9"]) {
    assert.throws(() => parseSize(bad, "memory"), (e) => e.code === "INVALID_ARGUMENT" && e.message.startsWith("memory "), String(bad));
  }
});

test("slurmMemory rounds up in SLURM's binary units; formatSize is readable", () => {
  assert.is(slurmMemory(32e9), "30G");
  assert.is(slurmMemory(15e9), "14G");
  assert.is(slurmMemory(12345678), "12M");
  assert.is(slurmMemory(1234), "2K");
  assert.is(slurmMemory(1), "1K");
  assert.is(formatSize(4 * 2 ** 30), "4GiB");
  assert.is(formatSize(810 * 2 ** 20), "810MiB");
  assert.is(formatSize(100), "100B");
});

test("parseDuration: seconds and s/m/h; SLURM's clock formats; slurmTime back", () => {
  assert.is(parseDuration("55m", "t"), 3300);
  assert.is(parseDuration("90", "t"), 90);
  assert.is(parseDuration("90", "t", "slurm"), 5400);
  assert.is(parseDuration("01:00:00", "t", "slurm"), 3600);
  assert.is(parseDuration("30:00", "t", "slurm"), 1800);
  assert.is(parseDuration("2-12", "t", "slurm"), 2 * 86400 + 12 * 3600);
  assert.is(parseDuration("1-00:30:05", "t", "slurm"), 86400 + 1805);
  assert.is(parseDuration(7.5, "t"), 7.5);
  assert.throws(() => parseDuration("soon", "walltime", "slurm"), /walltime "soon"/);
  assert.is(slurmTime(3600), "01:00:00");
  assert.is(slurmTime(86400 + 1805), "1-00:30:05");
});

test.run();
