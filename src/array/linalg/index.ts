/**
 * The `linalg` namespace (numpy.linalg): norm; qr, svd and lstsq join it here. One object, so that
 * `import { linalg } from "tessera"` reads as numpy's `np.linalg`.
 */
import { norm } from "./norm.js";

export const linalg = { norm };

export type { NormOptions, NormOrd } from "./norm.js";
