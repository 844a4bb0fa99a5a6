/**
 * A plan's canonical text and its hash. Every rank lowers its graph to a plan and the ranks compare
 * hashes before computing: equal hashes mean the same tasks over the same inputs (inputs enter by their
 * content fingerprint). The text is also how a plan is cached or sent to another process.
 */
import { createHash } from "node:crypto";
import type { Plan } from "./types.js";

/** JSON with typed arrays as tagged arrays and non-finite numbers and -0 spelled out (JSON has neither). */
export function serializePlan(plan: Plan): string {
  return JSON.stringify(plan, (_k, v: unknown) => {
    if (typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0))) return { $num: Object.is(v, -0) ? "-0" : String(v) };
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      return { $typed: v.constructor.name, values: Array.from(v as unknown as ArrayLike<number>, (x) => (Object.is(x, -0) ? "-0" : Number.isFinite(x) ? x : String(x))) };
    }
    return v;
  });
}

const TYPED: Record<string, new (values: number[]) => ArrayBufferView> = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint8Array,
};

/** The inverse of serializePlan. */
export function deserializePlan(text: string): Plan {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === "object" && "$num" in v) return Number((v as { $num: string }).$num);
    if (v && typeof v === "object" && "$typed" in v) {
      const t = v as { $typed: string; values: (number | string)[] };
      const C = TYPED[t.$typed];
      if (!C) throw new Error(`a serialized plan holds an unknown typed array ${t.$typed}`);
      return new C(t.values.map(Number));
    }
    return v;
  }) as Plan;
}

export function planHash(plan: Plan): string {
  return createHash("sha256").update(serializePlan(plan)).digest("hex");
}
