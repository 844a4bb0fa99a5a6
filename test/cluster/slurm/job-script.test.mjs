// SlurmCluster's options and job script, without SLURM: the script's exact lines (dask-jobqueue's layout),
// memory units and --mem rounding, memoryPerCpu, directives skipped and added, the prologue, quoting, the
// default lifetime before the walltime, the token never in the script, and the errors for bad options.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jobSpec } from "../../../dist/cluster/slurm/options.js";
import { jobScript, shellQuote } from "../../../dist/cluster/slurm/job-script.js";
import { parseSqueue, parseTimeLeft } from "../../../dist/cluster/slurm/commands.js";
import { TesseraError } from "../../../dist/index.js";

const script = (opts) => jobScript(jobSpec(opts), "ws://10.1.2.3:40000", "/home/u/.tessera/cluster-1.token", "/opt/tessera/dist/worker.js");
const directives = (s) => s.split("\n").filter((l) => l.startsWith("#SBATCH ")).map((l) => l.slice(8));

function throwsCode(fn, code, re) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TesseraError, `not a TesseraError: ${e}`);
    assert.is(e.code, code);
    if (re) assert.match(e.message, re);
    return;
  }
  assert.unreachable("did not throw");
}

test("the issue's example: directives in dask-jobqueue's order, the worker command last", () => {
  const s = script({ account: "def-accountname", cores: 10, memory: "10 GB", walltime: "01:00:00", queue: "compute" });
  assert.ok(s.startsWith("#!/usr/bin/env bash\n\n#SBATCH -J tessera-worker\n"));
  assert.equal(directives(s), ["-J tessera-worker", "-p compute", "-A def-accountname", "-n 1", "-N 1", "--cpus-per-task=10", "--mem=10G", "-t 01:00:00"]);
  const last = s.trimEnd().split("\n").at(-1);
  assert.is(
    last,
    `exec ${process.execPath} /opt/tessera/dist/worker.js --scheduler ws://10.1.2.3:40000 --token-file /home/u/.tessera/cluster-1.token ` +
      "--name tessera-worker-${SLURM_JOB_ID} --nthreads 10 --nworkers 1 --memory-limit 4GiB --death-timeout 60 --lifetime 54m --lifetime-stagger 2m",
  );
});

test("--mem is rounded up in SLURM's binary units, as dask-jobqueue does; GB is decimal, GiB binary", () => {
  const mem = (memory) => directives(script({ cores: 1, memory })).find((d) => d.startsWith("--mem"));
  assert.is(mem("32GB"), "--mem=30G"); // 29.8 GiB
  assert.is(mem("10 GB"), "--mem=10G");
  assert.is(mem("15GB"), "--mem=14G"); // 13.97 GiB
  assert.is(mem("10GiB"), "--mem=10G");
  assert.is(mem("1 GB"), "--mem=954M");
  assert.is(mem("1.5 GiB"), "--mem=2G");
  assert.is(mem(2 ** 30 + 1), "--mem=2G");
  throwsCode(() => script({ cores: 1, memory: "10G" }), "INVALID_ARGUMENT", /"10G".*10GB.*10GiB/);
  throwsCode(() => script({ cores: 1, memory: "lots" }), "INVALID_ARGUMENT", /memory "lots"/);
});

test("memoryPerCpu: --mem-per-cpu instead of --mem, from memory / cores or given per CPU", () => {
  assert.ok(directives(script({ cores: 4, memory: "16 GiB", memoryPerCpu: true })).includes("--mem-per-cpu=4G"));
  const d = directives(script({ cores: 4, memoryPerCpu: "3 GB" }));
  assert.ok(d.includes("--mem-per-cpu=3G"));
  assert.not.ok(d.some((x) => x.startsWith("--mem=")));
  throwsCode(() => script({ cores: 4, memory: "1 GB", memoryPerCpu: "3 GB" }), "INVALID_ARGUMENT", /disagrees/);
});

test("processes: workers per job share the cores and the memory", () => {
  const s = script({ cores: 8, memory: "16 GiB", processes: 4 });
  assert.match(s, /--nthreads 2 --nworkers 4 --memory-limit 3.4GiB /);
  assert.match(s, /# tessera cluster job: 4 workers of 2 threads and 3.4GiB of kernel memory each/);
  throwsCode(() => script({ cores: 6, memory: "1 GiB", processes: 4 }), "INVALID_ARGUMENT", /cores 6 do not divide among processes 4/);
  throwsCode(() => script({ cores: 2, memory: "1 GiB", processes: 3 }), "INVALID_ARGUMENT", /processes 3/);
});

test("extra directives, skipped directives, prologue, log and local directories, extra worker args, interface", () => {
  const s = script({
    cores: 2, memory: "2 GiB", walltime: "1-00:00:00", jobName: "sim",
    jobExtraDirectives: ["--gres=gpu:1", "--constraint=skylake"], jobDirectivesSkip: ["--mem", "-N 1"],
    jobScriptPrologue: ["module load nodejs/22", "export OMP_NUM_THREADS=1"],
    logDirectory: "/scratch/u/logs", localDirectory: "/tmp/u space", workerExtraArgs: ["--verbose"], interface: "ib0",
  });
  assert.equal(directives(s), ["-J sim", "-e /scratch/u/logs/sim-%J.err", "-o /scratch/u/logs/sim-%J.out", "-n 1", "--cpus-per-task=2", "-t 1-00:00:00", "--gres=gpu:1", "--constraint=skylake"]);
  const lines = s.split("\n");
  const at = (l) => lines.indexOf(l);
  assert.ok(at("module load nodejs/22") > at("#SBATCH --constraint=skylake"));
  assert.ok(at("export TMPDIR='/tmp/u space'") > at("export OMP_NUM_THREADS=1"));
  assert.match(s, /--name sim-\$\{SLURM_JOB_ID\} /);
  assert.match(s, / --lifetime 1430m --lifetime-stagger 200s /);
  assert.match(s, /--interface ib0 --verbose\n$/);
});

test("the default lifetime retires workers before the walltime; lifetime false has none; a lifetime past the walltime is refused", () => {
  assert.match(script({ cores: 1, memory: "1 GiB" }), /-t 00:30:00\n[\s\S]*--lifetime 27m --lifetime-stagger 1m\n/);
  assert.match(script({ cores: 1, memory: "1 GiB", walltime: "00:05:00" }), /--lifetime 4m --lifetime-stagger 20s\n/);
  assert.match(script({ cores: 1, memory: "1 GiB", walltime: "90" }), /-t 01:30:00/); // a bare number in a string is minutes, as in sbatch -t
  assert.match(script({ cores: 1, memory: "1 GiB", walltime: 5400 }), /-t 01:30:00/); // a number is seconds, as every duration option
  assert.not.match(script({ cores: 1, memory: "1 GiB", lifetime: false }), /--lifetime/);
  assert.match(script({ cores: 1, memory: "1 GiB", walltime: "01:00:00", lifetime: "55m", lifetimeStagger: "4m" }), /--lifetime 55m --lifetime-stagger 4m\n/);
  throwsCode(() => script({ cores: 1, memory: "1 GiB", walltime: "00:10:00", lifetime: "9m", lifetimeStagger: "2m" }), "INVALID_ARGUMENT", /reach the walltime/);
  throwsCode(() => script({ cores: 1, memory: "1 GiB", walltime: "soon" }), "INVALID_ARGUMENT", /walltime "soon"/);
});

test("the token is never in the script: only the token file's path", () => {
  const s = script({ cores: 1, memory: "1 GiB" });
  assert.not.match(s, /TESSERA_TOKEN/);
  assert.match(s, /--token-file \/home\/u\/\.tessera\/cluster-1\.token /);
});

test("bad options name the value", () => {
  throwsCode(() => jobSpec({ memory: "1 GB" }), "INVALID_ARGUMENT", /needs cores/);
  throwsCode(() => jobSpec({ cores: 1 }), "INVALID_ARGUMENT", /needs memory/);
  throwsCode(() => jobSpec({ cores: 0, memory: "1 GB" }), "INVALID_ARGUMENT", /cores 0/);
  throwsCode(() => jobSpec({ cores: 1, memory: "1 GB", queeu: "x" }), "INVALID_ARGUMENT", /no option "queeu"/);
  throwsCode(() => jobSpec({ cores: 1, memory: "1 GB", account: "a b" }), "INVALID_ARGUMENT", /account "a b"/);
  throwsCode(() => jobSpec({ cores: 1, memory: "1 GB", jobScriptPrologue: "module load x" }), "INVALID_ARGUMENT", /jobScriptPrologue/);
  throwsCode(() => jobSpec({ cores: 1, memory: "1 GB", jobExtraDirectives: ["--gres=gpu:1\nrm -rf ~"] }), "INVALID_ARGUMENT", /line break/);
});

test("shell quoting and squeue parsing", () => {
  assert.is(shellQuote("/a/b-c.d"), "/a/b-c.d");
  assert.is(shellQuote("it's"), "'it'\\''s'");
  assert.is(shellQuote("$HOME"), "'$HOME'");
  assert.is(parseTimeLeft("1:00"), 60);
  assert.is(parseTimeLeft("59:58"), 3598);
  assert.is(parseTimeLeft("2:03:04"), 7384);
  assert.is(parseTimeLeft("1-02:03:04"), 93784);
  assert.is(parseTimeLeft("UNLIMITED"), null);
  const s = parseSqueue("12|PENDING|Resources|30:00|\n13|RUNNING|None|29:58|n01\n\n");
  assert.equal(s.get("12"), { id: "12", state: "PENDING", reason: "Resources", timeLeft: 1800, nodes: "" });
  assert.equal(s.get("13"), { id: "13", state: "RUNNING", reason: "None", timeLeft: 1798, nodes: "n01" });
});

test.run();
