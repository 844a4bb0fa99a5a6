/**
 * The cluster layer: a scheduler in the client's process, worker processes that dial back to it, and the
 * Client and Futures the user holds (dask-jobqueue's model: SLURMCluster / LocalCluster + distributed.Client).
 *
 * ## Processes
 *
 * - **Scheduler** (scheduler.ts) lives in the process that opens the cluster (the user's script, on a
 *   login node or a laptop). It listens on the address of the `host` option (loopback by default), and
 *   every worker must authenticate with the cluster's token (the transport's mutual HMAC
 *   challenge-response, transport/auth.ts: the token is never sent; frames are capped at a handshake's
 *   size before authentication; a deadline from the TCP accept). The token is random, made by the
 *   scheduler; a worker reads it from a file of mode 0600 (`--token-file`) or from TESSERA_TOKEN, never
 *   from its command line (token.ts).
 * - **Workers** (worker.ts) are processes: `node dist/worker.js --scheduler ws://host:port` (or `tessera
 *   worker ...`). Each runs the engine a single process uses (scheduler/engine.ts: one kernel memory, its
 *   heap, a pool of worker threads) and executes the chunk tasks it is given with the same code paths as a
 *   local compute (scheduler/bind.ts specs, scheduler/pool.ts batches, the combine and take tasks of
 *   scheduler/host-tasks.ts). A worker also listens (on the interface it reaches the scheduler from) so
 *   that other workers fetch chunks from it directly. A worker that cannot reach the scheduler within
 *   `--death-timeout` exits non-zero naming the address it tried.
 * - **LocalCluster** (local-cluster.ts) starts a scheduler and spawns worker processes on this machine,
 *   tracking their PIDs. **SlurmCluster** (slurm/) submits the same worker command in sbatch jobs
 *   (slurm/job-script.ts, the script `cluster.jobScript()` shows), reads the jobs' states from squeue,
 *   replaces jobs that end while wanted, and scancels them on close; the token goes to its jobs in a file
 *   of mode 0600 that the script names.
 *
 * ## What travels
 *
 * Plans are plain data (plan/types.ts). A compute is lowered in the client (graph/lower.ts) to a plan and
 * the bindings of its inputs (user data, locally persisted arrays: they stay in the client). The
 * scheduler builds the plan's task graph (plan/task-graph.ts: every task's reads and writes as global
 * chunk numbers, culled to what the outputs need) and drives it itself (cluster-run.ts), as PlanRun
 * drives a local run: readiness by dependency counts, deepest layer first, chunks released after their
 * last reader. A worker gets the plan once per plan hash (serialized, plan/hash.ts), then only:
 *
 *   begin(run, hash) · assign(run, layer, start, end, fetch: where each missing input chunk is) ·
 *   release(run, chunks) · send(run, chunks: outputs to the scheduler) · end(run)
 *
 * and answers done / failed per batch. Input chunks of user data go from the scheduler to the worker
 * that reads them; chunks computed on one worker and read on another go worker to worker (fetch, on a
 * link the reader opens to the holder, authenticated with the same token); outputs go to the scheduler,
 * which assembles the results as OutputCollector does. Messages are typed in one place (messages.ts),
 * carried by the protocol's Cluster table (protocol/tessera.fbs: a JSON header and raw chunk bytes,
 * 8-byte aligned, split into parts under the frame limit).
 *
 * Placement: the tasks that write one chunk (a chunk may have several writers: a task grid finer than the
 * output's chunks, concatenation's boxes) write the same memory, so each connected group of tasks and the
 * chunks they write (placement.ts: union-find over writes) has one home worker, chosen when its first task
 * is assigned. Other tasks go where most of their input bytes are (data locality), else to the least
 * loaded worker; a worker holds at most 2 batches per thread, batches capped at 64 MiB of new chunks, and
 * the chunks it holds (counted per run by the scheduler) within half its kernel memory: a batch that
 * needs more waits for releases (a worker with nothing running takes it anyway, and fails with
 * TOO_LARGE if it truly cannot hold it).
 *
 * ## Lost work (lineage)
 *
 * The scheduler knows which worker holds every chunk (`holder`, plus copies fetched by other workers).
 * A worker is lost when its connection closes (at once) or when it is silent past the heartbeat timeout
 * (pings both ways, transport/link.ts). Then (recovery.ts): its running tasks go back to waiting; every
 * chunk it alone held that is still needed (a reader not done, an output not gathered) is recomputed by
 * re-running its writers, and so on back through chunks already released, recursively; counts are rebuilt
 * from that state. Tasks and the combine order are the plan's, so the result is the same bit for bit. A
 * task that was running on 3 workers that died fails its compute with KILLED_WORKER naming it (dask's
 * allowed-failures); suspected tasks run alone on a worker, so the culprit is the one named.
 *
 * ## Client and futures
 *
 * Client (client.ts) holds its own state (no module-level mutable state): `compute(arrays)` gives one
 * Future per array, `submit(fn, ...args)` / `map(fn, items)` run functions given as source text (as
 * mapBlocks) in a worker's call threads (call-entry.ts), arguments by value or futures. A call's value
 * stays on its worker (worker-values.ts) until the client asks for it or no future wants it; a call taking
 * it fetches it from there; the scheduler keeps each call's lineage (call-queue.ts) to compute a lost
 * value again. Future (future.ts): status pending / finished / error /
 * cancelled / lost, result(), cancel(); wait() and asCompleted(). A compute waits, pending, until a worker
 * is in. `client.asDefault()` puts the client in the array layer's one registry of the default compute
 * backend (array/backend.ts, set/clear), so a plain `x.compute()` runs on the cluster while it is open.
 *
 * ## Persisted arrays
 *
 * `client.persist(x)` (or `x.persist()` with a default client) runs a resident run (cluster-run.ts): its
 * persisted outputs are never gathered and stay held on the workers until the array is garbage or the
 * client closes (cluster-store.ts). A later compute reads them as inputs whose chunks are the resident
 * run's: tasks go where they are, they are fetched (or copied between runs on one worker), and a chunk
 * lost with a worker is recomputed by the resident run from its lineage while the readers wait.
 *
 * ## Scaling and retiring
 *
 * `scale(n)` starts or retires workers; `adapt({ minimum, maximum })` (adaptive.ts) grows while work
 * waits and retires idle workers. A worker retires gracefully (scale down, adapt, or its `--lifetime`
 * with `--lifetime-stagger`, before a batch job's walltime): no new work, its batches finish, the chunks
 * only it holds that are still needed are fetched by other workers (hand-off), then it stops.
 *
 */
export { LocalCluster, type LocalClusterOptions } from "./local-cluster.js";
export { SlurmCluster, type SlurmClusterOptions, type SlurmJob, type ScaleRequest } from "./slurm/slurm-cluster.js";
export { Client, type ClusterLike, type ClusterComputeOptions, type ComputedValue } from "./client.js";
export { Future, wait, asCompleted, type FutureStatus, type ReturnWhen } from "./future.js";
export { Scheduler, type SchedulerOptions } from "./scheduler.js";
export type { WorkerInfo } from "./worker-registry.js";
export { runWorker, type WorkerOptions } from "./worker.js";
