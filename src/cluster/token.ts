/**
 * The cluster's token: made by the scheduler (32 random bytes, hex), proven by every worker without being
 * sent (transport/auth.ts). A worker reads it from a file only its owner can read (mode 0600: a batch
 * job's worker on another node reads it from a shared home directory) or from TESSERA_TOKEN (a process's
 * environment is readable by its owner only); never from its command line, which every user of a node
 * can read (`ps`), nor from a job script.
 */
import { chmodSync, openSync, closeSync, writeSync, readFileSync, statSync } from "node:fs";
import { ClusterError } from "../errors.js";
import { MIN_TOKEN_LENGTH, newToken } from "../transport/auth.js";

export { newToken };

/** The environment variable a worker reads its token from when it has no token file. */
export const TOKEN_ENV = "TESSERA_TOKEN";

export function checkToken(token: string, where: string): string {
  const t = token.trim();
  if (t.length < MIN_TOKEN_LENGTH) {
    throw new ClusterError("AUTH_FAILED", `the token from ${where} has ${t.length} characters: at least ${MIN_TOKEN_LENGTH} are needed (the scheduler makes 64)`);
  }
  return t;
}

/** Reads a token file, refusing one that others than its owner may read or write. */
export function readTokenFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    throw new ClusterError("AUTH_FAILED", `cannot read the token file ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ClusterError(
      "AUTH_FAILED",
      `the token file ${JSON.stringify(path)} has mode ${(mode & 0o777).toString(8).padStart(4, "0")}: others may read it; make it 0600 (chmod 600)`,
    );
  }
  return checkToken(readFileSync(path, "utf8"), `the token file ${JSON.stringify(path)}`);
}

/** A worker's token: from `tokenFile` if given, else from TESSERA_TOKEN. */
export function workerToken(tokenFile: string | undefined, env: Record<string, string | undefined> = process.env): string {
  if (tokenFile !== undefined) return readTokenFile(tokenFile);
  const t = env[TOKEN_ENV];
  if (t === undefined || t === "") {
    throw new ClusterError("AUTH_FAILED", `no token: give --token-file (a file of mode 0600) or set ${TOKEN_ENV} (never on the command line)`);
  }
  return checkToken(t, TOKEN_ENV);
}

/** Writes a token file of mode 0600 (created so; an existing file is narrowed first). */
export function writeTokenFile(path: string, token: string): void {
  const fd = openSync(path, "w", 0o600);
  try {
    chmodSync(path, 0o600);
    writeSync(fd, token + "\n");
  } finally {
    closeSync(fd);
  }
}
