/**
 * A fingerprint of the graph a compute() runs: every rank must build the same one. Structural (node
 * ids may differ between processes), with data hashed by content.
 */
import { createHash } from "node:crypto";
import type { OutputRequest } from "./lower.js";
import { inputsOf, type Node } from "./nodes.js";

export function fingerprint(outputs: OutputRequest[]): string {
  const h = createHash("sha256");
  const order = new Map<number, number>(); // node id -> position in DFS order
  const visit = (n: Node): number => {
    const have = order.get(n.id);
    if (have !== undefined) return have;
    const kids = inputsOf(n).map(visit);
    const pos = order.size;
    order.set(n.id, pos);
    const { id: _id, ...rest } = n as Node & Record<string, unknown>;
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) {
      if (k === "input" || k === "home" || k === "addr") continue;
      if (k === "args" && n.kind === "map") fields[k] = (v as unknown[]).map((a) => (typeof a === "number" ? String(a) : `#${order.get((a as Node).id)}`));
      else if (k === "data") fields[k] = createHash("sha256").update(new Uint8Array((v as ArrayBufferView).buffer, (v as ArrayBufferView).byteOffset, (v as ArrayBufferView).byteLength)).digest("hex");
      else fields[k] = v;
    }
    h.update(JSON.stringify([pos, kids, fields]));
    return pos;
  };
  for (const o of outputs) h.update(JSON.stringify(["out", visit(o.node), o.chunks, !!o.keep]));
  return h.digest("hex");
}
