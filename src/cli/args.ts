/** Argument parsing for run.js: strict, with one-line errors that name the bad value. */
import { maxWorkers } from "../scheduler/engine.js";

export interface RunArgs {
  help: boolean;
  n: number;
  chunk: number;
  seed: number;
  workers?: number;
  progress?: boolean;
  json: boolean;
  /** say on stderr which transport each rank uses (shared memory, WebSockets) */
  verbose?: boolean;
  script?: string;
  scriptArgs: string[];
  /** start this many local ranks (run.js --np) */
  np?: number;
  /** network interface or address the ranks listen on */
  iface?: string;
  /** rank 0's host:port when there is no rendezvous file */
  coordinator?: string;
  /** seconds to wait for the other ranks */
  timeout?: number;
  /** seconds one rank may wait for another inside a collective or recv (0: no limit) */
  collectiveTimeout?: number;
  /** serve the dashboard on this port (--dashboard [port]: 8787 when not given; rank 0 under ranks) */
  dashboard?: number;
  /** the command line each of the --np ranks runs: this one without run.js's own --np (the script's arguments untouched) */
  rankArgv: string[];
}

export class UsageError extends Error {}

export const USAGE = `usage: node dist/run.js [options] [script.mjs [script args...]]

With no script, computes the tutorial pipeline: random.random([n, n], { chunks, seed }).add(1).sum()
and prints the result, the elapsed time and elements per second.
A script default-exports async ({ tessera, argv }) => value; the value is printed as JSON.

options:
  --n N          array side for the tutorial pipeline (default 50000)
  --chunk C      chunk side (default 2000)
  --seed S       random seed (default 42)
  --workers W    worker threads (default: SLURM_CPUS_PER_TASK or all cores)
  --progress     live progress bar on stderr (automatic on a TTY for long runs); --no-progress: never
  --json         print one JSON object instead of text
  --dashboard [PORT]
                 serve a live dashboard while it runs (default port 8787, a free one when taken;
                 0: any free port); prints its link with its token. Under ranks, rank 0 serves it
                 and shows every rank. It listens on 127.0.0.1: from a laptop,
                 ssh -L 8787:localhost:8787 login-node
  -h, --help     this help

ranks (srun -n P node dist/run.js ..., mpirun, or --np):
  --np P               start P local ranks on this machine (no SLURM needed)
  --interface I        network interface name or address the ranks listen on (compute nodes often
                       have several networks: name the fast one, e.g. ib0)
  --coordinator H:P    rank 0's address when there is no shared rendezvous file (token in TESSERA_TOKEN)
  --timeout S          seconds to wait for the other ranks (default 60)
  --verbose            each rank says on stderr which transport it uses: shm (shared memory with the
                       ranks of its host, when the addon is built), ws, or both; TESSERA_TRANSPORT=ws
                       forces WebSockets; and which kernels run the programs: native-avx512, -avx2 or
                       -scalar (the native addon, the default where built), wasm-simd or js
                       (TESSERA_KERNELS=native|wasm|js)
  --collective-timeout S
                       seconds a rank may wait for another inside one collective or recv before
                       every rank fails with COMM_TIMEOUT (default 600; 0: no limit); it includes
                       the time other ranks work before they reach the same call`;

function int(name: string, v: string | undefined, min: number, max: number): number {
  if (v === undefined) throw new UsageError(`${name} needs a value`);
  const n = Number(v);
  if (!/^-?\d+(e\d+)?$/i.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} ${JSON.stringify(v)} must be an integer from ${min} to ${max}`);
  }
  return n;
}

export function parseArgs(argv: string[]): RunArgs {
  const a: RunArgs = { help: false, n: 50_000, chunk: 2000, seed: 42, json: false, scriptArgs: [], rankArgv: [] };
  const npTokens = new Set<number>();
  const done = () => {
    a.rankArgv = argv.filter((_, i) => !npTokens.has(i));
    return a;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "-h":
      case "--help":
        a.help = true;
        break;
      case "--n":
        a.n = int("--n", value(), 0, 2 ** 26);
        break;
      case "--chunk":
        a.chunk = int("--chunk", value(), 1, 2 ** 26);
        break;
      case "--seed":
        a.seed = int("--seed", value(), 0, Number.MAX_SAFE_INTEGER);
        break;
      case "--workers":
        a.workers = int("--workers", value(), 1, maxWorkers());
        break;
      case "--progress":
        a.progress = true;
        break;
      case "--no-progress":
        a.progress = false;
        break;
      case "--json":
        a.json = true;
        break;
      case "--verbose":
        a.verbose = true;
        break;
      case "--dashboard":
        // the port is optional: only a number after the flag is its port (a script name is not)
        if (inline !== undefined) a.dashboard = int("--dashboard", inline, 0, 65535);
        else if (/^\d+$/.test(argv[i + 1] ?? "")) a.dashboard = int("--dashboard", argv[++i], 0, 65535);
        else a.dashboard = 8787;
        break;
      case "--np":
        npTokens.add(i); // the flag
        a.np = int("--np", value(), 1, 4096);
        npTokens.add(i); // and its value, when value() took the next word
        break;
      case "--interface": {
        const v = value();
        if (!v) throw new UsageError("--interface needs a value");
        a.iface = v;
        break;
      }
      case "--coordinator": {
        const v = value();
        if (!v || !/^[^:]+:\d+$/.test(v)) throw new UsageError(`--coordinator ${JSON.stringify(v ?? "")} must be host:port`);
        a.coordinator = v;
        break;
      }
      case "--timeout":
        a.timeout = int("--timeout", value(), 1, 86400);
        break;
      case "--collective-timeout": {
        const v = value();
        const n = Number(v);
        // fractions allowed (0.5 s); at most setTimeout's limit (about 24.8 days)
        if (v === undefined || !/^\d+(\.\d+)?$/.test(v) || !(n * 1000 <= 2 ** 31 - 1)) {
          throw new UsageError(`--collective-timeout ${JSON.stringify(v ?? "")} must be a number of seconds from 0 (no limit) to 2147483`);
        }
        a.collectiveTimeout = n;
        break;
      }
      default:
        if (arg.startsWith("-")) throw new UsageError(`unknown option ${JSON.stringify(arg)} (see --help)`);
        // everything after the script is the script's, even words that look like run.js options
        a.script = arg;
        a.scriptArgs = argv.slice(i + 1);
        return done();
    }
  }
  return done();
}
