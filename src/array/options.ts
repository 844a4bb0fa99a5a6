/**
 * Checks of the option objects and paths the API takes: one place, so every function refuses an unknown
 * option, a non-object or an empty path with the same code and wording.
 */
import { invalid, show } from "../errors.js";

/** opts (undefined: {}) as an object with only `allowed` keys; `fn` names the caller in errors. */
export function checkOptions<T extends object = Record<string, unknown>>(opts: unknown, allowed: readonly string[], fn: string): Partial<T> {
  if (opts === undefined) return {};
  if (typeof opts === "string") throw invalid("INVALID_ARGUMENT", `${fn} options ${show(opts)} must be an object (a dtype goes in { dtype: ${show(opts)} })`);
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) throw invalid("INVALID_ARGUMENT", `${fn} options ${show(opts)} must be an object`);
  for (const k of Object.keys(opts)) if (!allowed.includes(k)) throw invalid("INVALID_ARGUMENT", `${fn} has no option ${show(k)}; it takes ${allowed.join(", ")}`);
  return opts as Partial<T>;
}

/** A path given to the API: a non-empty string. */
export function checkPath(path: unknown, fn: string, what = "path"): string {
  if (typeof path !== "string" || path === "") throw invalid("INVALID_ARGUMENT", `${fn} ${what} ${show(path)} must be a non-empty string`);
  return path;
}
