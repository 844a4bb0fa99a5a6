/**
 * How run.js prints a result. JSON has no NaN or infinities (JSON.stringify writes them as null, which
 * reads back as a different value), so run.js writes them faithfully in one of two spellings:
 * - plain output (for people and for Python): bare `NaN`, `Infinity`, `-Infinity`, as Python's json.dumps
 *   writes them and json.loads and JSON5 read them back;
 * - `--json` (for strict JSON parsers: JSON.parse, jq): the strings "NaN", "Infinity", "-Infinity", the
 *   convention Zarr uses for fill values, so the output stays valid JSON (RFC 8259).
 */
import { randomBytes } from "node:crypto";

const SPELLING = (v: number) => (Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");

/** JSON of `value`, with non-finite numbers bare (`strict` false) or as strings (`strict` true). */
export function formatResult(value: unknown, strict: boolean): string {
  if (strict) return JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? SPELLING(v) : v)) ?? "null";
  // mark each non-finite number with a string no value contains, then unquote the marks
  const mark = `\u0000${randomBytes(8).toString("hex")}:`;
  const text = JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? mark + SPELLING(v) : v)) ?? "null";
  const quoted = JSON.stringify(mark).slice(0, -1); // the mark as it appears inside a JSON string
  return text.replaceAll(new RegExp(`${escapeRegExp(quoted)}(NaN|Infinity|-Infinity)"`, "g"), "$1");
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
