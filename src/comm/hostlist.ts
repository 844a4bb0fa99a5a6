/**
 * Expansion of SLURM's compressed host lists: `n[01-04,07]` → n01 n02 n03 n04 n07, `a[1-2]b,c` → a1b a2b c,
 * `r[1-2]n[1-2]` → r1n1 r1n2 r2n1 r2n2. Zero padding is kept (the width of a range's lower bound).
 */
import { commError } from "./errors.js";

const MAX_HOSTS = 1_000_000;

/** Splits at commas that are outside brackets. */
function splitTop(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === "[") depth++;
    else if (c === "]") {
      depth--;
      if (depth < 0) throw bad(list, "an unmatched ']'");
    } else if (c === "," && depth === 0) {
      out.push(list.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw bad(list, "an unmatched '['");
  out.push(list.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

function bad(list: string, what: string) {
  return commError("INVALID_ARGUMENT", `host list ${JSON.stringify(list)} has ${what}`);
}

/** The values of one bracket's contents, `01-04,07` → ["01","02","03","04","07"]. */
function expandRanges(body: string, list: string): string[] {
  const out: string[] = [];
  for (const piece of body.split(",")) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(piece);
    if (!m) throw bad(list, `a bad range ${JSON.stringify(piece)}`);
    const lo = m[1]!;
    const hi = m[2] ?? lo;
    const a = Number(lo);
    const b = Number(hi);
    if (b < a) throw bad(list, `a descending range ${JSON.stringify(piece)}`);
    if (out.length + (b - a + 1) > MAX_HOSTS) throw bad(list, "more than a million hosts");
    const width = lo.length;
    for (let v = a; v <= b; v++) out.push(String(v).padStart(width, "0"));
  }
  return out;
}

function expandOne(pattern: string, list: string): string[] {
  const open = pattern.indexOf("[");
  if (open < 0) return [pattern];
  const close = pattern.indexOf("]", open);
  if (close < 0) throw bad(list, "an unmatched '['");
  const prefix = pattern.slice(0, open);
  const values = expandRanges(pattern.slice(open + 1, close), list);
  const rests = expandOne(pattern.slice(close + 1), list);
  const out: string[] = [];
  for (const v of values) for (const r of rests) out.push(prefix + v + r);
  if (out.length > MAX_HOSTS) throw bad(list, "more than a million hosts");
  return out;
}

/** Expands a SLURM host list (as in SLURM_STEP_NODELIST) into host names, in order. */
export function expandHostlist(list: string): string[] {
  const out: string[] = [];
  for (const p of splitTop(list)) for (const h of expandOne(p, list)) out.push(h); // no push(...): a range may hold a million hosts
  return out;
}
