/**
 * Checking that every rank has the same fingerprint (of the graph it is about to compute, say). Small
 * worlds exchange fingerprints directly; larger ones (where links are made on demand) along the binomial
 * tree: each rank sends its subtree's fingerprints, grouped, to its parent, and rank 0's verdict comes
 * back down the same tree, so a rank talks to O(log P) peers and the message is the same everywhere.
 */
import { DIRECT_MAX } from "./collectives.js";
import { commError } from "./errors.js";
import { binomialPlace } from "./overlay.js";

export interface FingerprintIO {
  readonly rank: number;
  readonly size: number;
  send(dest: number, text: string): Promise<void>;
  take(src: number): Promise<string>;
}

/** The COLLECTIVE_MISMATCH message for ranks whose fingerprint differs from rank 0's, or "" when none does. */
function verdict(byPrint: Map<string, number[]>, root: string, what: string): string {
  const differ = [...byPrint].filter(([f]) => f !== root).flatMap(([, rs]) => rs).sort((a, b) => a - b);
  if (!differ.length) return "";
  const theirs = [...byPrint].find(([, rs]) => rs.includes(differ[0]!))![0];
  return `ranks ${differ.join(", ")} built a different ${what} than rank 0 (fingerprints ${theirs} vs ${root}): every rank must build the same ${what}`;
}

export async function compareFingerprints(io: FingerprintIO, fingerprint: string, what: string): Promise<void> {
  const { rank: r, size: P } = io;
  const byPrint = new Map<string, number[]>([[fingerprint, [r]]]);
  let outcome: string;
  if (P <= DIRECT_MAX) {
    const others = Array.from({ length: P }, (_, q) => q).filter((q) => q !== r);
    const all: string[] = new Array(P);
    all[r] = fingerprint;
    await Promise.all([...others.map((q) => io.send(q, fingerprint)), ...others.map(async (q) => void (all[q] = await io.take(q)))]);
    byPrint.clear();
    all.forEach((f, q) => byPrint.set(f, [...(byPrint.get(f) ?? []), q]));
    outcome = verdict(byPrint, all[0]!, what);
  } else {
    const { parent, children } = binomialPlace(r, P);
    for (const c of children) {
      for (const [f, rs] of JSON.parse(await io.take(c)) as [string, number[]][]) byPrint.set(f, [...(byPrint.get(f) ?? []), ...rs]);
    }
    if (parent >= 0) {
      await io.send(parent, JSON.stringify([...byPrint]));
      outcome = JSON.parse(await io.take(parent)) as string;
    } else {
      outcome = verdict(byPrint, fingerprint, what);
    }
    await Promise.all(children.map((c) => io.send(c, JSON.stringify(outcome))));
  }
  if (outcome) throw commError("COLLECTIVE_MISMATCH", outcome);
}
