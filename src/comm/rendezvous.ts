/**
 * Rendezvous: where rank 0 listens and how the other ranks learn it. Either through a rendezvous file on a
 * shared directory (written by rank 0 atomically, mode 0600, with address, port, a fresh token, the job and
 * step ids and a creation nonce), or through TESSERA_COORDINATOR + TESSERA_TOKEN given to every rank.
 *
 * The file holds the token, so: rank 0 removes it as soon as every rank has connected, and on every way out
 * it can act on (exit, an uncaught error, SIGINT, SIGTERM, SIGHUP); a reader refuses one that is not its
 * own user's or that group or others may read or write; and a file left by a rank 0 that could not remove
 * it (SIGKILL, a crashed node) is ignored as stale when its writer is gone or it names another job.
 */
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { closeSync, fchmodSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { CommError, commError } from "./errors.js";
import { isLoopback, type WorldInfo } from "./discover.js";

export interface RendezvousRecord {
  version: 1;
  job: string;
  step: string;
  size: number;
  host: string;
  port: number;
  token: string;
  nonce: string;
  created: number;
  pid: number;
  hostname: string;
}

/** The job key ranks compare: `<jobid>.<stepid>`. */
export const jobKey = (info: Pick<WorldInfo, "jobId" | "stepId">): string => `${info.jobId}.${info.stepId}`;

/** `$TESSERA_RENDEZVOUS`, else `./.tessera-rendezvous-<jobid>.<stepid>.json` in `cwd` (on clusters, a shared filesystem). */
export function defaultRendezvousPath(info: Pick<WorldInfo, "jobId" | "stepId" | "rendezvousFile">, cwd = process.cwd()): string {
  if (info.rendezvousFile) return resolve(cwd, info.rendezvousFile);
  const safe = jobKey(info).replace(/[^A-Za-z0-9._-]/g, "_");
  return join(cwd, `.tessera-rendezvous-${safe}.json`);
}

/** The address of an interface given by name (`eth0`, `ib0`) or as an address; throws naming the choices. */
export function resolveInterface(spec: string): string {
  const s = spec.trim();
  if (isIP(s)) return s;
  const all = networkInterfaces();
  const addrs = all[s];
  if (!addrs || addrs.length === 0) {
    throw commError(
      "INVALID_ARGUMENT",
      `network interface ${JSON.stringify(spec)} does not exist on ${hostname()} (it has: ${Object.keys(all).join(", ") || "none"})`,
    );
  }
  const v4 = addrs.find((a) => a.family === "IPv4");
  return (v4 ?? addrs[0]!).address;
}

/**
 * Where rank 0 listens in file mode: the explicit interface; else loopback when every rank is on this host;
 * else it fails loudly (never 0.0.0.0): on several nodes the right network is the user's choice.
 */
export function chooseRootHost(iface: string | undefined, info: Pick<WorldInfo, "allLocal" | "size" | "nodes" | "source">): string {
  if (iface) return resolveInterface(iface);
  if (info.size === 1 || info.allLocal === true) return "127.0.0.1";
  const where = info.nodes.length ? `nodes ${info.nodes.slice(0, 8).join(",")}${info.nodes.length > 8 ? ",..." : ""}` : "several hosts (or unknown hosts)";
  throw commError(
    "RENDEZVOUS_FAILED",
    `the ${info.size} ranks (from ${info.source}) run on ${where}: give the network interface rank 0 should listen on ` +
      `with --interface (e.g. --interface ib0 or an address) or TESSERA_INTERFACE`,
  );
}

/** The local address this host uses to reach `host` (a UDP connect: nothing is sent). */
export function localAddressToward(host: string): Promise<string> {
  if (isLoopback(host)) return Promise.resolve(host === "::1" ? "::1" : "127.0.0.1");
  return new Promise((res, rej) => {
    const sock = createSocket(isIP(host) === 6 ? "udp6" : "udp4");
    sock.on("error", (e) => {
      sock.close();
      rej(e);
    });
    sock.connect(9, host, () => {
      const a = sock.address().address;
      sock.close();
      res(a);
    });
  });
}

/** Where a non-zero rank listens for its peers: the explicit interface, else the route toward rank 0. */
export async function choosePeerHost(iface: string | undefined, rootHost: string, allLocal: boolean | undefined): Promise<string> {
  if (iface) return resolveInterface(iface);
  if (allLocal === true && isLoopback(rootHost)) return "127.0.0.1";
  return localAddressToward(rootHost);
}

export function newNonce(): string {
  return randomBytes(8).toString("hex");
}

/** Writes the record atomically: a private temporary file beside it (mode 0600), fsync, rename. */
export function writeRendezvousFile(path: string, rec: RendezvousRecord): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${rec.nonce}.tmp`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask or the directory's default ACL made of it
    writeSync(fd, JSON.stringify(rec) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* ignore */
    }
    throw commError("RENDEZVOUS_FAILED", `rank 0 could not write the rendezvous file ${path}: ${(e as Error).message}`, e);
  }
}

/** Removes the file if it is still the one with this nonce. */
export function removeRendezvousFile(path: string, nonce: string): void {
  try {
    const rec = JSON.parse(readFileSync(path, "utf8")) as Partial<RendezvousRecord>;
    if (rec.nonce === nonce) unlinkSync(path);
  } catch {
    /* gone already, or not ours */
  }
}

/**
 * Removes the rendezvous file on every way out of this process it can act on: exit (also after an uncaught
 * error or an unhandled rejection, which end the process through "exit"), and SIGINT, SIGTERM and SIGHUP,
 * whose default action would end it without "exit". For a signal nobody else handles, the file is removed and
 * the signal raised again, so the process still dies of it (exit status 128 + n, as before); when the
 * program handles the signal itself, it decides, and "exit" removes the file if it exits. SIGKILL cannot be
 * caught: readers then ignore the file once its writer is gone (readRendezvousFile). Returns the disposer.
 */
export function removeOnExit(path: string, nonce: string): () => void {
  const remove = () => removeRendezvousFile(path, nonce);
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const handlers = new Map<NodeJS.Signals, () => void>();
  const dispose = () => {
    process.off("exit", remove);
    for (const [sig, h] of handlers) process.off(sig, h);
    handlers.clear();
  };
  for (const sig of signals) {
    const h = () => {
      if (process.listenerCount(sig) > 1) return; // the program handles it (and "exit" removes the file if it exits)
      remove();
      dispose();
      process.kill(process.pid, sig);
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  process.once("exit", remove);
  return () => {
    dispose();
    remove();
  };
}

/** Whether process `pid` exists on this host (EPERM: it does, as another user's). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Reads a rendezvous file; null when missing, partial, or for another job, step or size, or written by a
 * process of this host that is gone (a stale file from an earlier job is ignored; `why` tells which).
 * Throws AUTH_FAILED, naming the path, for a file of another user or one that group or others may read or
 * write: its token may be known to others, or be theirs.
 */
export function readRendezvousFile(
  path: string,
  expect: { job: string; step: string; size: number },
): { rec: RendezvousRecord | null; why: string } {
  let text: string;
  try {
    const fd = openSync(path, "r");
    try {
      checkPrivate(path, fd);
      text = readFileSync(fd, "utf8");
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof CommError) throw e;
    return { rec: null, why: (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message };
  }
  let rec: Partial<RendezvousRecord>;
  try {
    rec = JSON.parse(text) as Partial<RendezvousRecord>;
  } catch {
    return { rec: null, why: "not JSON (yet)" };
  }
  if (rec.version !== 1 || typeof rec.host !== "string" || typeof rec.port !== "number" || typeof rec.token !== "string") {
    return { rec: null, why: "not a tessera rendezvous record" };
  }
  if (rec.job !== expect.job || rec.step !== expect.step || rec.size !== expect.size) {
    return {
      rec: null,
      why: `stale: written for job ${rec.job}.${rec.step} of ${rec.size} ranks, this is ${expect.job}.${expect.step} of ${expect.size}`,
    };
  }
  if (rec.hostname === hostname() && typeof rec.pid === "number" && !pidAlive(rec.pid)) {
    return { rec: null, why: `stale: its writer (pid ${rec.pid} on ${rec.hostname}) is gone` };
  }
  return { rec: rec as RendezvousRecord, why: "" };
}

/** Refuses (AUTH_FAILED) an open rendezvous file that is not this user's, or that group or others may use. */
function checkPrivate(path: string, fd: number): void {
  if (typeof process.getuid !== "function") return; // no POSIX owners (Windows)
  const st = fstatSync(fd);
  const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
  if (st.uid !== process.getuid()) {
    throw commError(
      "AUTH_FAILED",
      `the rendezvous file ${path} belongs to uid ${st.uid}, not to this user (uid ${process.getuid()}): refusing its token (remove the file, or set TESSERA_RENDEZVOUS to a private path)`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    throw commError(
      "AUTH_FAILED",
      `the rendezvous file ${path} has mode ${mode}: group or others may read or write it, so its token may be known: refusing it (rank 0 writes it 0600; remove it)`,
    );
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
