/**
 * World discovery: this process's rank, the world size, its local rank and the nodes of the job, from
 * tessera's own variables, Open MPI, PMI (MPICH/hydra, srun --mpi=pmi2) or a SLURM step; none of them
 * means a world of one. Pure: everything comes from the `env` argument.
 */
import { formatHostPort, type HostPort } from "../transport/address.js";
export { formatHostPort, type HostPort };
import { commError } from "./errors.js";
import { expandHostlist } from "./hostlist.js";
import { tasksPerNode } from "./overlay.js";

export type WorldSource = "tessera" | "ompi" | "pmi" | "slurm" | "none";


export interface WorldInfo {
  rank: number;
  size: number;
  /** rank among the ranks on this node (0 when unknown) */
  localRank: number;
  /** ranks on this node, when the launcher says */
  localSize?: number;
  /** the step's nodes, expanded, in order (empty when the launcher does not say) */
  nodes: string[];
  /** true when every rank is known to run on this host; false when known not to; undefined when unknown */
  allLocal: boolean | undefined;
  jobId: string;
  stepId: string;
  source: WorldSource;
  /** TESSERA_COORDINATOR: where rank 0 listens */
  coordinator?: HostPort;
  /** TESSERA_TOKEN */
  token?: string;
  /** TESSERA_RENDEZVOUS: the rendezvous file to use */
  rendezvousFile?: string;
  /** TESSERA_INTERFACE: the network interface (name or address) to listen on */
  interface?: string;
  /** TESSERA_RENDEZVOUS_DIR: the directory where each rank of a world connected on demand says where it listens */
  rendezvousDir?: string;
  /** the step's ranks per node, in node order, when they are placed in blocks (SLURM_STEP_TASKS_PER_NODE) */
  perNode?: number[];
  /** TESSERA_MESH_MAX: worlds of at most this many ranks connect every pair at start-up (default 8) */
  meshMax?: number;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, min: number): number {
  const raw = env[name]!;
  const v = Number(raw.trim());
  if (raw.trim() === "" || !Number.isInteger(v) || v < min) {
    throw commError("INVALID_ARGUMENT", `${name}=${JSON.stringify(raw)} is not an integer >= ${min}`);
  }
  return v;
}

const has = (env: Env, ...names: string[]) => names.every((n) => env[n] !== undefined && env[n] !== "");

/** Parses `host:port` (`[v6addr]:port` for IPv6). */
export function parseHostPort(s: string, what = "coordinator"): HostPort {
  const m = /^\s*(?:\[([^\]]+)\]|([^:\s]+)):(\d+)\s*$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port > 0 && port < 65536)) {
    throw commError("INVALID_ARGUMENT", `${what} ${JSON.stringify(s)} is not host:port (e.g. 10.1.0.5:29500)`);
  }
  return { host: (m[1] ?? m[2])!, port };
}


export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host) || /^::ffff:127\./.test(host);
}

/** Reads the world from the environment. Throws INVALID_ARGUMENT naming a malformed variable. */
export function discoverWorld(env: Env = process.env): WorldInfo {
  let info: WorldInfo;
  const slurmJob = env.SLURM_JOB_ID ?? "";
  const slurmStep = env.SLURM_STEP_ID ?? "";
  const slurmNodes = env.SLURM_STEP_NODELIST ? expandHostlist(env.SLURM_STEP_NODELIST) : [];
  if (has(env, "TESSERA_RANK", "TESSERA_SIZE")) {
    info = base("tessera", int(env, "TESSERA_RANK", 0), int(env, "TESSERA_SIZE", 1));
    info.localRank = has(env, "TESSERA_LOCAL_RANK") ? int(env, "TESSERA_LOCAL_RANK", 0) : info.rank;
    info.jobId = env.TESSERA_JOB_ID ?? (slurmJob || "local");
    info.stepId = env.TESSERA_STEP_ID ?? (slurmStep || "0");
  } else if (has(env, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")) {
    info = base("ompi", int(env, "OMPI_COMM_WORLD_RANK", 0), int(env, "OMPI_COMM_WORLD_SIZE", 1));
    if (has(env, "OMPI_COMM_WORLD_LOCAL_RANK")) info.localRank = int(env, "OMPI_COMM_WORLD_LOCAL_RANK", 0);
    if (has(env, "OMPI_COMM_WORLD_LOCAL_SIZE")) {
      info.localSize = int(env, "OMPI_COMM_WORLD_LOCAL_SIZE", 1);
      info.allLocal = info.localSize === info.size;
    }
    info.jobId = env.PMIX_NAMESPACE ?? env.OMPI_MCA_ess_base_jobid ?? (slurmJob || "ompi");
    info.stepId = slurmStep || "0";
  } else if (has(env, "PMI_RANK", "PMI_SIZE")) {
    info = base("pmi", int(env, "PMI_RANK", 0), int(env, "PMI_SIZE", 1));
    if (has(env, "MPI_LOCALRANKID")) info.localRank = int(env, "MPI_LOCALRANKID", 0);
    if (has(env, "MPI_LOCALNRANKS")) {
      info.localSize = int(env, "MPI_LOCALNRANKS", 1);
      info.allLocal = info.localSize === info.size;
    }
    info.jobId = env.PMI_JOBID ?? (slurmJob || "pmi");
    info.stepId = slurmStep || "0";
  } else if (has(env, "SLURM_PROCID", "SLURM_STEP_NUM_TASKS")) {
    // SLURM_NTASKS alone (a program run directly in an sbatch script) is one process: use the step's count.
    info = base("slurm", int(env, "SLURM_PROCID", 0), int(env, "SLURM_STEP_NUM_TASKS", 1));
    if (has(env, "SLURM_LOCALID")) info.localRank = int(env, "SLURM_LOCALID", 0);
    info.nodes = slurmNodes;
    info.allLocal = slurmNodes.length > 0 ? new Set(slurmNodes).size <= 1 : undefined;
    info.jobId = slurmJob || "slurm";
    info.stepId = slurmStep || "0";
  } else {
    info = base("none", 0, 1);
    info.allLocal = true;
  }
  if (info.rank >= info.size) {
    throw commError("INVALID_ARGUMENT", `rank ${info.rank} (from ${info.source}) is not below the world size ${info.size}`);
  }
  if (info.nodes.length === 0 && slurmNodes.length > 0 && info.source !== "tessera") info.nodes = slurmNodes;
  if (info.size === 1) info.allLocal = true;
  if (has(env, "TESSERA_COORDINATOR")) info.coordinator = parseHostPort(env.TESSERA_COORDINATOR!, "TESSERA_COORDINATOR");
  if (has(env, "TESSERA_TOKEN")) info.token = env.TESSERA_TOKEN!;
  if (has(env, "TESSERA_RENDEZVOUS")) info.rendezvousFile = env.TESSERA_RENDEZVOUS!;
  if (has(env, "TESSERA_INTERFACE")) info.interface = env.TESSERA_INTERFACE!;
  if (has(env, "TESSERA_RENDEZVOUS_DIR")) info.rendezvousDir = env.TESSERA_RENDEZVOUS_DIR!;
  if (has(env, "TESSERA_MESH_MAX")) info.meshMax = int(env, "TESSERA_MESH_MAX", 1);
  if (info.source !== "tessera" && info.nodes.length > 1) {
    const per = tasksPerNode(env);
    if (per && per.length === info.nodes.length && per.reduce((a, b) => a + b, 0) === info.size) info.perNode = per;
  }
  if (info.source === "tessera" && info.allLocal === undefined) {
    // tessera's own launcher (run.js --np) starts every rank on this host, with a loopback coordinator.
    info.allLocal = info.coordinator ? isLoopback(info.coordinator.host) : has(env, "TESSERA_ALL_LOCAL") ? env.TESSERA_ALL_LOCAL === "1" : undefined;
  }
  return info;
}

function base(source: WorldSource, rank: number, size: number): WorldInfo {
  return { rank, size, localRank: 0, nodes: [], allLocal: undefined, jobId: "", stepId: "", source };
}
