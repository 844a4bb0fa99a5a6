/** The linalg namespace, as numpy.linalg / dask.array.linalg. */
import { lstsq, qr, svd } from "./tsqr.js";

export const linalg = { qr, svd, lstsq };
