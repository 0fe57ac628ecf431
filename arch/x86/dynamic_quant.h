/* Scalar half of the dynamic-range ("hybrid") input quantization shared by the x86 dynamic
 * kernels: from a row's extremes to its scale, zero point and reciprocal, in exactly the
 * operations of qk_ref_quantize_row (TFLite's SymmetricQuantizeFloats / AsymmetricQuantizeFloats),
 * so the vector loops that follow only have to reproduce q = clamp(roundf(off + x * inv)).
 *
 * Why the vector loops can use min/max reductions: the reference keeps the first of equal
 * extremes, which can only differ from a reduction's pick in the sign of a zero; the symmetric
 * range takes fabsf of it and the asymmetric path compares it with 0.0 through fmin / fmax, so
 * neither result depends on that sign. NaN inputs are outside the contract.
 *
 * Rounding, for the vector loops: (int32_t)roundf(v) == cvtt(v + copysign(QKD_HALF_DOWN, v)) with
 * QKD_HALF_DOWN = nextafterf(0.5f, 0) = 0.5 - 2^-25, for every float v; checked exhaustively, all
 * 2^32 inputs against libm's roundf and cvttss2si. Why (v >= 0, n = trunc(v)): if v - n < 0.5,
 * the exact sum is at most n + 1 - ulp(v) - 2^-25, more than half an ulp of the result below n + 1
 * (that ulp is at most 2 ulp(v)), so it cannot round up to n + 1; if v - n >= 0.5 the sum is at
 * least n + 1 - 2^-25, which rounds to n + 1 (a tie only at n = 0, where 1.0 is the even
 * neighbour), and stays below n + 2. From 2^23 on, v is an integer and the addend is under half
 * its ulp. The textbook 0.5 fails at v = 0.5 - 2^-25 (the sum rounds to 1). Inf and NaN give
 * INT_MIN, as cvttss2si does for the reference.
 *
 * Nothing here may be contracted into a fused multiply-add: this file has no product followed by
 * a sum, and the vector code pins its products (qkd_mul / qkd8_mul), so the result does not depend
 * on -ffp-contract (off anyway under the build's -std=c11). */
#ifndef QK_X86_DYNAMIC_QUANT_H
#define QK_X86_DYNAMIC_QUANT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#define QKD_HALF_DOWN 0x1.fffffep-2f

/* Float epilogues of the GEMM engines (see avx512vnni/dynamic_gemm.h). */
enum { QKD_EPI_FC, QKD_EPI_FC_ASYM, QKD_EPI_CONV };

typedef struct qkd_qparams {
  float scale;    /* the row's scale (1 for an all-zero row) */
  float inv;      /* multiplier applied to x before rounding */
  float offset_f; /* (float)offset, added after the multiply (asymmetric only) */
  int32_t offset; /* zero point; 0 when symmetric */
  int32_t qmin;   /* -127 symmetric, -128 asymmetric */
  bool zero;      /* every q is 0: range 0, or an asymmetric row of zeros */
} qkd_qparams;

/* range = max |x_i| of the row. */
static inline qkd_qparams qkd_params_symmetric(float range) {
  qkd_qparams p = {.scale = 1.0f, .inv = 0.0f, .offset_f = 0.0f, .offset = 0, .qmin = -127, .zero = true};
  if (range == 0.0f) return p;
  p.zero = false;
  p.scale = range / 127.0f;
  p.inv = 127.0f / range; /* a float reciprocal, then multiplies: not x / scale */
  return p;
}

/* lo, hi = min and max of the row. Double arithmetic for the nudged zero point, as TFLite. */
static inline qkd_qparams qkd_params_asymmetric(float lo, float hi) {
  qkd_qparams p = {.scale = 1.0f, .inv = 0.0f, .offset_f = 0.0f, .offset = 0, .qmin = -128, .zero = true};
  const double rmin = fmin(0.0, (double)lo), rmax = fmax(0.0, (double)hi);
  if (rmin == rmax) return p;
  p.zero = false;
  const double qlo = -128.0, qhi = 127.0;
  const double s = (rmax - rmin) / (qhi - qlo);
  const double from_min = qlo - rmin / s, from_max = qhi - rmax / s;
  /* The zero point whose end of the range is reproduced with the smaller error wins. */
  const double zp = fabs(qlo) + fabs(rmin / s) < fabs(qhi) + fabs(rmax / s) ? from_min : from_max;
  p.offset = zp <= qlo ? -128 : zp >= qhi ? 127 : (int32_t)round(zp);
  p.scale = (float)s;
  p.inv = (float)(1.0 / (double)p.scale); /* reciprocal of the float scale, in double */
  p.offset_f = (float)p.offset;
  return p;
}

#endif
