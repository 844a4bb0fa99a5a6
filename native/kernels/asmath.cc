// Line-by-line port of AssemblyScript 0.28's std Math (see asmath.h). Every integer type follows the
// AssemblyScript source (u32 wrap-around in comparisons included); shifts follow wasm (count mod 64).
#include "asmath.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "asmath_tables.h"

namespace tk::asmath {
namespace {

inline double f64(uint64_t u) { double d; std::memcpy(&d, &u, 8); return d; }
inline uint64_t u64(double d) { uint64_t u; std::memcpy(&u, &d, 8); return u; }
inline uint64_t shl(uint64_t x, uint64_t n) { return x << (n & 63); }  // wasm i64.shl
inline uint64_t shr(uint64_t x, uint64_t n) { return x >> (n & 63); }  // wasm i64.shr_u
inline uint64_t clz64(uint64_t x) { return x == 0 ? 64 : (uint64_t)__builtin_clzll(x); }

// ---- exp (util/math.ts exp_lut)
constexpr int EXP_TABLE_BITS = 7;

inline double specialcase(double tmp, uint64_t sbits, uint64_t ki) {
  const double Ox1p_1022 = f64(0x0010000000000000ULL), Ox1p1009 = f64(0x7F00000000000000ULL);
  double scale;
  if (!(ki & 0x80000000ULL)) {
    sbits -= uint64_t(1009) << 52;
    scale = f64(sbits);
    return Ox1p1009 * (scale + scale * tmp);
  }
  sbits += uint64_t(1022) << 52;
  scale = f64(sbits);
  double y = scale + scale * tmp;
  if (std::fabs(y) < 1.0) {
    double one = std::copysign(1.0, y);
    double lo = scale - y + scale * tmp;
    double hi = one + y;
    lo = one - hi + y + lo;
    y = (hi + lo) - one;
    if (y == 0.0) y = f64(sbits & 0x8000000000000000ULL);
  }
  return y * Ox1p_1022;
}

const double InvLn2N = f64(0x3FF71547652B82FEULL) * (1 << EXP_TABLE_BITS);
const double NegLn2hiN = f64(0xBF762E42FEFA0000ULL), NegLn2loN = f64(0xBD0CF79ABC9E3B3AULL);
const double Shift = f64(0x4338000000000000ULL);
const double EC2 = f64(0x3FDFFFFFFFFFFDBDULL), EC3 = f64(0x3FC555555555543CULL), EC4 = f64(0x3FA55555CF172B91ULL),
             EC5 = f64(0x3F81111167A4D017ULL);

// ---- pow helpers (util/math.ts)
constexpr uint32_t SIGN_BIAS = 0x800u << EXP_TABLE_BITS;

inline int checkint(uint64_t iy) {
  uint64_t e = iy >> 52 & 0x7FF;
  if (e < 0x3FF) return 0;
  if (e > 0x3FF + 52) return 2;
  e = shl(1, 0x3FF + 52 - e);
  if (iy & (e - 1)) return 0;
  if (iy & e) return 1;
  return 2;
}
inline double xflow(uint32_t sign, double y) { return (sign ? -y : y) * y; }
inline double uflow(uint32_t sign) { return xflow(sign, f64(0x1000000000000000ULL)); }
inline double oflow(uint32_t sign) { return xflow(sign, f64(0x7000000000000000ULL)); }
inline bool zeroinfnan(uint64_t u) { return (u << 1) - 1 >= 0xFFE0000000000000ULL - 1; }

inline double log_inline(uint64_t ix, double& log_tail) {
  constexpr int N_MASK = (1 << 7) - 1;
  const double Ln2hi = f64(0x3FE62E42FEFA3800ULL), Ln2lo = f64(0x3D2EF35793C76730ULL);
  const double A0 = f64(0xBFE0000000000000ULL), A1 = f64(0xBFE5555555555560ULL), A2 = f64(0x3FE0000000000006ULL),
               A3 = f64(0x3FE999999959554EULL), A4 = f64(0xBFE555555529A47AULL), A5 = f64(0xBFF2495B9B4845E9ULL),
               A6 = f64(0x3FF0002B8B263FC3ULL);
  uint64_t tmp = ix - 0x3fE6955500000000ULL;
  size_t i = (size_t)((tmp >> (52 - 7)) & N_MASK);
  int64_t k = (int64_t)tmp >> 52;
  uint64_t iz = ix - (tmp & (uint64_t(0xFFF) << 52));
  double z = f64(iz);
  double kd = (double)k;
  double invc = f64(POW_LOG_DATA_TAB[4 * i]);
  double logc = f64(POW_LOG_DATA_TAB[4 * i + 2]);
  double logctail = f64(POW_LOG_DATA_TAB[4 * i + 3]);
  double zhi = f64((iz + uint64_t(0x80000000)) & 0xFFFFFFFF00000000ULL);
  double zlo = z - zhi;
  double rhi = zhi * invc - 1.0;
  double rlo = zlo * invc;
  double r = rhi + rlo;
  double t1 = kd * Ln2hi + logc;
  double t2 = t1 + r;
  double lo1 = kd * Ln2lo + logctail;
  double lo2 = t1 - t2 + r;
  double ar = A0 * r;
  double ar2 = r * ar;
  double ar3 = r * ar2;
  double arhi = A0 * rhi;
  double arhi2 = rhi * arhi;
  double hi = t2 + arhi2;
  double lo3 = rlo * (ar + arhi);
  double lo4 = t2 - hi + arhi2;
  double p = ar3 * (A1 + r * A2 + ar2 * (A3 + r * A4 + ar2 * (A5 + r * A6)));
  double lo = lo1 + lo2 + lo3 + lo4 + p;
  double y = hi + lo;
  log_tail = hi - y + lo;
  return y;
}

inline double exp_inline(double x, double xtail, uint32_t sign_bias) {
  constexpr uint64_t N_MASK = (1 << EXP_TABLE_BITS) - 1;
  uint64_t ux = u64(x);
  uint32_t abstop = (uint32_t)(ux >> 52) & 0x7FF;
  if (abstop - 0x3C9 >= 0x03F) {
    if (abstop - 0x3C9 >= 0x80000000u) return sign_bias ? -1.0 : 1.0;
    if (abstop >= 0x409) return (int64_t)ux < 0 ? uflow(sign_bias) : oflow(sign_bias);
    abstop = 0;
  }
  double z = InvLn2N * x;
  double kd = z + Shift;
  uint64_t ki = u64(kd);
  kd -= Shift;
  double r = x + kd * NegLn2hiN + kd * NegLn2loN;
  r += xtail;
  size_t idx = (size_t)((ki & N_MASK) << 1);
  uint64_t top = (ki + sign_bias) << (52 - EXP_TABLE_BITS);
  double tail = f64(EXP_DATA_TAB[idx]);
  uint64_t sbits = EXP_DATA_TAB[idx + 1] + top;
  double r2 = r * r;
  double tmp = tail + r + r2 * (EC2 + r * EC3) + r2 * r2 * (EC4 + r * EC5);
  if (abstop == 0) return specialcase(tmp, sbits, ki);
  double scale = f64(sbits);
  return scale + scale * tmp;
}

inline double pow_lut(double x, double y) {
  const double Ox1p52 = f64(0x4330000000000000ULL);
  uint32_t sign_bias = 0;
  uint64_t ix = u64(x), iy = u64(y);
  uint64_t topx = ix >> 52, topy = iy >> 52;
  if (topx - 0x001 >= 0x7FF - 0x001 || (topy & 0x7FF) - 0x3BE >= 0x43e - 0x3BE) {
    if (zeroinfnan(iy)) {
      if ((iy << 1) == 0) return 1.0;
      if (ix == 0x3FF0000000000000ULL) return NAN;
      if ((ix << 1) > 0xFFE0000000000000ULL || (iy << 1) > 0xFFE0000000000000ULL) return x + y;
      if ((ix << 1) == 0x7FE0000000000000ULL) return NAN;
      if (((ix << 1) < 0x7FE0000000000000ULL) == !(iy >> 63)) return 0;
      return y * y;
    }
    if (zeroinfnan(ix)) {
      double x2 = x * x;
      if ((int32_t)(ix >> 63) && checkint(iy) == 1) x2 = -x2;
      return (int64_t)iy < 0 ? 1 / x2 : x2;
    }
    if ((int64_t)ix < 0) {
      int yint = checkint(iy);
      if (yint == 0) return (x - x) / (x - x);
      if (yint == 1) sign_bias = SIGN_BIAS;
      ix &= 0x7FFFFFFFFFFFFFFFULL;
      topx &= 0x7FF;
    }
    if ((topy & 0x7FF) - 0x3BE >= 0x43E - 0x3BE) {
      if (ix == 0x3FF0000000000000ULL) return 1;
      if ((topy & 0x7FF) < 0x3BE) return 1;
      return (ix > 0x3FF0000000000000ULL) == (topy < 0x800) ? INFINITY : 0;
    }
    if (topx == 0) {
      ix = u64(x * Ox1p52);
      ix &= 0x7FFFFFFFFFFFFFFFULL;
      ix -= uint64_t(52) << 52;
    }
  }
  double lo;
  double hi = log_inline(ix, lo);
  double yhi = f64(iy & 0xFFFFFFFFF8000000ULL);
  double ylo = y - yhi;
  double lhi = f64(u64(hi) & 0xFFFFFFFFF8000000ULL);
  double llo = hi - lhi + lo;
  double ehi = yhi * lhi;
  double elo = ylo * lhi + y * llo;
  return exp_inline(ehi, elo, sign_bias);
}

// ---- sin / cos (math.ts: rempio2, sin_kern, cos_kern)
inline uint64_t umuldi(uint64_t u, uint64_t v, uint64_t& hi128) {
  uint64_t u1 = u & 0xFFFFFFFF, v1 = v & 0xFFFFFFFF;
  u >>= 32;
  v >>= 32;
  uint64_t t = u1 * v1;
  uint64_t w0 = t & 0xFFFFFFFF;
  t = u * v1 + (t >> 32);
  uint64_t w1 = t >> 32;
  t = u1 * v + (t & 0xFFFFFFFF);
  hi128 = u * v + w1 + (t >> 32);
  return (t << 32) + w0;
}

inline uint64_t pio2_right(uint64_t q0, uint64_t q1, double& y0, double& y1) {
  const uint64_t p0 = 0xC4C6628B80DC1CD1ULL, p1 = 0xC90FDAA22168C234ULL;
  const double Ox1p_64 = f64(0x3BF0000000000000ULL), Ox1p_75 = f64(0x3B40000000000000ULL);
  uint64_t shift = clz64(q1);
  q1 = shl(q1, shift) | shr(q0, 64 - shift);
  q0 = shl(q0, shift);
  uint64_t hi;
  uint64_t lo = umuldi(p1, q1, hi);
  uint64_t ahi = hi >> 11;
  uint64_t alo = lo >> 11 | hi << 53;
  uint64_t blo = (uint64_t)(Ox1p_75 * (double)p0 * (double)q1 + Ox1p_75 * (double)p1 * (double)q0);
  y0 = (double)(ahi + (uint64_t)(lo < blo));
  y1 = Ox1p_64 * (double)(alo + blo);
  return shift;
}

inline int32_t pio2_large_quot(uint64_t u, double& y0, double& y1) {
  int64_t magnitude = (int64_t)(u & 0x7FFFFFFFFFFFFFFFULL);
  int64_t offset = (magnitude >> 52) - 1045;
  int64_t shift = offset & 63;
  const uint64_t* tbl = PIO2_TABLE + (int32_t)(offset >> 6);
  uint64_t s0, s1, s2;
  uint64_t b0 = tbl[0], b1 = tbl[1], b2 = tbl[2];
  if (shift) {
    int64_t rshift = 64 - shift;
    uint64_t b3 = tbl[3];
    s0 = shr(b1, rshift) | shl(b0, shift);
    s1 = shr(b2, rshift) | shl(b1, shift);
    s2 = shr(b3, rshift) | shl(b2, shift);
  } else {
    s0 = b0;
    s1 = b1;
    s2 = b2;
  }
  uint64_t significand = (u & 0x000FFFFFFFFFFFFFULL) | 0x0010000000000000ULL;
  uint64_t bhi;
  uint64_t blo = umuldi(s1, significand, bhi);
  uint64_t ahi = s0 * significand;
  uint64_t clo = (s2 >> 32) * (significand >> 32);
  uint64_t plo = blo + clo;
  uint64_t phi = ahi + bhi + (uint64_t)(plo < clo);
  uint64_t rlo = plo << 2;
  uint64_t rhi = phi << 2 | plo >> 62;
  int64_t slo = (int64_t)rhi >> 63;
  int64_t shi = slo >> 1;
  int64_t q = ((int64_t)phi >> 62) - slo;
  uint64_t shifter = 0x3CB0000000000000ULL - (pio2_right(rlo ^ (uint64_t)slo, rhi ^ (uint64_t)shi, y0, y1) << 52);
  uint64_t signbit = (u ^ rhi) & 0x8000000000000000ULL;
  double coeff = f64(shifter | signbit);
  y0 *= coeff;
  y1 *= coeff;
  return (int32_t)q;
}

inline int32_t rempio2(double x, uint64_t u, uint32_t sign, double& y0out, double& y1out) {
  const double pio2_1 = f64(0x3FF921FB54400000ULL), pio2_1t = f64(0x3DD0B4611A626331ULL),
               pio2_2 = f64(0x3DD0B4611A600000ULL), pio2_2t = f64(0x3BA3198A2E037073ULL),
               pio2_3 = f64(0x3BA3198A2E000000ULL), pio2_3t = f64(0x397B839A252049C1ULL),
               invpio2 = f64(0x3FE45F306DC9C883ULL);
  uint32_t ix = (uint32_t)(u >> 32) & 0x7FFFFFFF;
  if (ix < 0x4002D97C) {
    int32_t q = 1;
    double z, y0, y1;
    if (!sign) {
      z = x - pio2_1;
      if (ix != 0x3FF921FB) {
        y0 = z - pio2_1t;
        y1 = (z - y0) - pio2_1t;
      } else {
        z -= pio2_2;
        y0 = z - pio2_2t;
        y1 = (z - y0) - pio2_2t;
      }
    } else {
      z = x + pio2_1;
      if (ix != 0x3FF921FB) {
        y0 = z + pio2_1t;
        y1 = (z - y0) + pio2_1t;
      } else {
        z += pio2_2;
        y0 = z + pio2_2t;
        y1 = (z - y0) + pio2_2t;
      }
      q = -1;
    }
    y0out = y0;
    y1out = y1;
    return q;
  }
  if (ix < 0x413921FB) {
    double q = std::nearbyint(x * invpio2);
    double r = x - q * pio2_1;
    double w = q * pio2_1t;
    uint32_t j = ix >> 20;
    double y0 = r - w;
    uint32_t hi = (uint32_t)(u64(y0) >> 32);
    uint32_t i = j - ((hi >> 20) & 0x7FF);
    if (i > 16) {
      double t = r;
      w = q * pio2_2;
      r = t - w;
      w = q * pio2_2t - ((t - r) - w);
      y0 = r - w;
      hi = (uint32_t)(u64(y0) >> 32);
      i = j - ((hi >> 20) & 0x7FF);
      if (i > 49) {
        double t2 = r;
        w = q * pio2_3;
        r = t2 - w;
        w = q * pio2_3t - ((t2 - r) - w);
        y0 = r - w;
      }
    }
    double y1 = (r - y0) - w;
    y0out = y0;
    y1out = y1;
    return (int32_t)q;
  }
  int32_t q = pio2_large_quot(u, y0out, y1out);
  return sign ? -q : q;
}

inline double sin_kern(double x, double y, int iy) {
  const double S1 = f64(0xBFC5555555555549ULL), S2 = f64(0x3F8111111110F8A6ULL), S3 = f64(0xBF2A01A019C161D5ULL),
               S4 = f64(0x3EC71DE357B1FE7DULL), S5 = f64(0xBE5AE5E68A2B9CEBULL), S6 = f64(0x3DE5D93A5ACFD57CULL);
  double z = x * x;
  double w = z * z;
  double r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
  double v = z * x;
  if (!iy) return x + v * (S1 + z * r);
  return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

inline double cos_kern(double x, double y) {
  const double C1 = f64(0x3FA555555555554CULL), C2 = f64(0xBF56C16C16C15177ULL), C3 = f64(0x3EFA01A019CB1590ULL),
               C4 = f64(0xBE927E4F809C52ADULL), C5 = f64(0x3E21EE9EBDB4B1C4ULL), C6 = f64(0xBDA8FAE9BE8838D4ULL);
  double z = x * x;
  double w = z * z;
  double r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
  double hz = 0.5 * z;
  w = 1.0 - hz;
  return w + (((1.0 - w) - hz) + (z * r - x * y));
}

}  // namespace

double exp(double x) {
  constexpr uint64_t N_MASK = (1 << EXP_TABLE_BITS) - 1;
  uint64_t ux = u64(x);
  uint32_t abstop = (uint32_t)(ux >> 52) & 0x7FF;
  if (abstop - 0x3C9 >= 0x03F) {
    if (abstop - 0x3C9 >= 0x80000000u) return 1;
    if (abstop >= 0x409) {
      if (ux == 0xFFF0000000000000ULL) return 0;
      if (abstop >= 0x7FF) return 1.0 + x;
      return (int64_t)ux < 0 ? 0 : INFINITY;
    }
    abstop = 0;
  }
  double z = InvLn2N * x;
  double kd = z + Shift;
  uint64_t ki = u64(kd);
  kd -= Shift;
  double r = x + kd * NegLn2hiN + kd * NegLn2loN;
  size_t idx = (size_t)((ki & N_MASK) << 1);
  uint64_t top = ki << (52 - EXP_TABLE_BITS);
  double tail = f64(EXP_DATA_TAB[idx]);
  uint64_t sbits = EXP_DATA_TAB[idx + 1] + top;
  double r2 = r * r;
  double tmp = tail + r + r2 * (EC2 + r * EC3) + r2 * r2 * (EC4 + r * EC5);
  if (abstop == 0) return specialcase(tmp, sbits, ki);
  double scale = f64(sbits);
  return scale + scale * tmp;
}

double log(double x) {
  constexpr uint64_t N_MASK = (1 << 7) - 1;
  const double B0 = f64(0xBFE0000000000000ULL), B1 = f64(0x3FD5555555555577ULL), B2 = f64(0xBFCFFFFFFFFFFDCBULL),
               B3 = f64(0x3FC999999995DD0CULL), B4 = f64(0xBFC55555556745A7ULL), B5 = f64(0x3FC24924A344DE30ULL),
               B6 = f64(0xBFBFFFFFA4423D65ULL), B7 = f64(0x3FBC7184282AD6CAULL), B8 = f64(0xBFB999EB43B068FFULL),
               B9 = f64(0x3FB78182F7AFD085ULL), B10 = f64(0xBFB5521375D145CDULL);
  const double A0 = f64(0xBFE0000000000001ULL), A1 = f64(0x3FD555555551305BULL), A2 = f64(0xBFCFFFFFFFEB4590ULL),
               A3 = f64(0x3FC999B324F10111ULL), A4 = f64(0xBFC55575E506C89FULL);
  const uint64_t LO = 0x3FEE000000000000ULL, HI = 0x3FF1090000000000ULL;
  const double Ln2hi = f64(0x3FE62E42FEFA3800ULL), Ln2lo = f64(0x3D2EF35793C76730ULL),
               Ox1p27 = f64(0x41A0000000000000ULL), Ox1p52 = f64(0x4330000000000000ULL);
  uint64_t ix = u64(x);
  if (ix - LO < HI - LO) {
    double r = x - 1.0;
    double r2 = r * r;
    double r3 = r2 * r;
    double y = r3 * (B1 + r * B2 + r2 * B3 + r3 * (B4 + r * B5 + r2 * B6 + r3 * (B7 + r * B8 + r2 * B9 + r3 * B10)));
    double w = r * Ox1p27;
    double rhi = r + w - w;
    double rlo = r - rhi;
    w = rhi * rhi * B0;
    double hi = r + w;
    double lo = r - hi + w;
    lo += B0 * rlo * (rhi + r);
    return y + lo + hi;
  }
  uint32_t top = (uint32_t)(ix >> 48);
  if (top - 0x0010 >= 0x7FF0 - 0x0010) {
    if ((ix << 1) == 0) return -1.0 / (x * x);
    if (ix == u64(INFINITY)) return x;
    if ((top & 0x8000) || (top & 0x7FF0) == 0x7FF0) return (x - x) / (x - x);
    ix = u64(x * Ox1p52);
    ix -= uint64_t(52) << 52;
  }
  uint64_t tmp = ix - 0x3FE6000000000000ULL;
  size_t i = (size_t)((tmp >> (52 - 7)) & N_MASK);
  int64_t k = (int64_t)tmp >> 52;
  uint64_t iz = ix - (tmp & (uint64_t(0xFFF) << 52));
  double invc = f64(LOG_DATA_TAB1[2 * i]);
  double logc = f64(LOG_DATA_TAB1[2 * i + 1]);
  double z = f64(iz);
  double chi = f64(LOG_DATA_TAB2[2 * i]);
  double clo = f64(LOG_DATA_TAB2[2 * i + 1]);
  double r = (z - chi - clo) * invc;
  double kd = (double)k;
  double w = kd * Ln2hi + logc;
  double hi = w + r;
  double lo = w - hi + r + kd * Ln2lo;
  double r2 = r * r;
  return lo + r2 * A0 + r * r2 * (A1 + r * A2 + r2 * (A3 + r * A4)) + hi;
}

double pow(double x, double y) {
  if (std::fabs(y) <= 2) {
    if (y == 2.0) return x * x;
    if (y == 0.5) return x != -INFINITY ? std::fabs(std::sqrt(x)) : INFINITY;
    if (y == -1.0) return 1 / x;
    if (y == 1.0) return x;
    if (y == 0.0) return 1.0;
  }
  return pow_lut(x, y);
}

double sin(double x) {
  uint64_t u = u64(x);
  uint32_t ux = (uint32_t)(u >> 32);
  uint32_t sign = ux >> 31;
  ux &= 0x7FFFFFFF;
  if (ux <= 0x3FE921FB) {
    if (ux < 0x3E500000) return x;
    return sin_kern(x, 0.0, 0);
  }
  if (ux >= 0x7FF00000) return x - x;
  double y0, y1;
  int32_t n = rempio2(x, u, sign, y0, y1);
  x = n & 1 ? cos_kern(y0, y1) : sin_kern(y0, y1, 1);
  return n & 2 ? -x : x;
}

double cos(double x) {
  uint64_t u = u64(x);
  uint32_t ux = (uint32_t)(u >> 32);
  uint32_t sign = ux >> 31;
  ux &= 0x7FFFFFFF;
  if (ux <= 0x3FE921FB) {
    if (ux < 0x3E46A09E) return 1.0;
    return cos_kern(x, 0);
  }
  if (ux >= 0x7FF00000) return x - x;
  double y0, y1;
  int32_t n = rempio2(x, u, sign, y0, y1);
  x = n & 1 ? sin_kern(y0, y1, 1) : cos_kern(y0, y1);
  return (n + 1) & 2 ? -x : x;
}

}  // namespace tk::asmath
