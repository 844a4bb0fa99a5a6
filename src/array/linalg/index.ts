/**
 * The `linalg` namespace (numpy.linalg, dask.array.linalg): norm, and qr, svd, lstsq of tall-and-skinny
 * arrays. One object, so that `import { linalg } from "tessera"` reads as numpy's `np.linalg`.
 */
import { lstsq, qr, svd } from "../tsqr.js";
import { norm } from "./norm.js";

export const linalg = { norm, qr, svd, lstsq };

export type { NormOptions, NormOrd } from "./norm.js";
