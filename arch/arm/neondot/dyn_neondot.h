/* Dynamic-range ("hybrid") pieces shared by qk_dynamic_fc_4x16c4__neondot and
 * qk_dynamic_conv2d_4x16c4__neondot: the run-time row quantization, the packed int8 weights with
 * their per-channel float constants, and the SDOT microkernel. Both variants match
 * kernels/ref/dynamic_ref.c bit for bit (SPEC.md §13).
 *
 * Row quantization, as qk_ref_quantize_row:
 * - min and max by FMIN/FMAX. For inputs without NaN they pick the reference's values (at most the
 *   sign of a zero differs, which neither fabsf nor fmin(0, lo) / fmax(0, hi) can see). NaN inputs
 *   are outside the contract: the reference's `<` scan and FMIN treat them differently.
 * - the scale, inverse and (asymmetric) zero point are computed once per row with the reference's
 *   scalar float32 / double expressions; this file is C11 (ISO mode: GCC does not contract), and
 *   none of those expressions has a multiply that could fuse anyway.
 * - q = x * inv as FMUL (plus the offset by FADD in asymmetric mode, after the product is rounded,
 *   as `(float)offset + x * inv`), then FCVTAS: round half away from zero, which is roundf followed
 *   by the int32 cast for every value that can occur here (|x * inv| <= 127 + tiny). The
 *   saturating narrows are the clamp to [-128, 127]; symmetric mode then raises -128 to -127.
 *
 * Epilogues (never FMLA: each product is rounded before it is added, as in the reference):
 * - FC:   dot' = asymmetric ? (int32)((float)dot - (float)row_sum * (float)offset) : dot
 *         y = bias + (float)dot' * (s_row * s_w)        FMUL, FMUL, FADD; FCVTZS for the cast
 * - conv: y = (float)acc * s_w * s_img (+ bias only if there is one: -0 + 0 would turn -0 into +0)
 *   where acc = sum over in-image taps of w * (q - offset). The im2col rows fill taps outside the
 *   image with the offset itself and the kernel subtracts offset * sum_all_taps(w): the filled taps
 *   then add w * offset, which that term cancels, leaving sum_in w*q - offset * sum_in w, the
 *   reference's sum exactly (int32, modulo 2^32 like it).
 *
 * Packed buffer: a 64-byte header (int32 has_bias), then per group of the convolution (one for FC)
 * blocks of 16 output channels, the last one zero-padded:
 *   float bias[16], float w_scale[16], float row_sum_f[16], int32 row_sum[16]     (256 bytes)
 *   int8  w[Kp / 4][16][4]     Kp = round_up(K, 16), zero-padded in k
 * so a 16-byte load of a row of activations covers four k-groups, broadcast lane by lane against 16
 * channels (SDOT by element). Rows of activations are Kp bytes; what lies past K is multiplied by
 * zero weights. */
#ifndef QK_ARM_DYN_NEONDOT_H
#define QK_ARM_DYN_NEONDOT_H

#include <arm_neon.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../neon/f32_neon.h"
#include "qk/float.h"

#define QK_DYN_MR 4
#define QK_DYN_NR 16
#define QK_DYN_HEAD 64

static inline size_t qk_dyn_kp(size_t k) { return (k + 15) / 16 * 16; }
static inline size_t qk_dyn_block_bytes(size_t k) { return 256 + qk_dyn_kp(k) * QK_DYN_NR; }
static inline size_t qk_dyn_group_bytes(size_t n, size_t k) {
  return (n + QK_DYN_NR - 1) / QK_DYN_NR * qk_dyn_block_bytes(k);
}

/* One group: n output channels of k weights each (row-major [n][k]), scales and bias for them. */
static inline void qk_dyn_pack_group(size_t n, size_t k, const int8_t *w, const float *scale, const float *bias,
                                     char *dst) {
  const size_t kp = qk_dyn_kp(k), block = qk_dyn_block_bytes(k);
  for (size_t n0 = 0; n0 < n; n0 += QK_DYN_NR) {
    char *b = dst + n0 / QK_DYN_NR * block;
    float *pb = (float *)b, *ps = pb + QK_DYN_NR, *prf = ps + QK_DYN_NR;
    int32_t *pr = (int32_t *)(prf + QK_DYN_NR);
    int8_t *pw = (int8_t *)(pr + QK_DYN_NR);
    memset(pw, 0, kp * QK_DYN_NR);
    for (size_t j = 0; j < QK_DYN_NR; j++) {
      const size_t o = n0 + j;
      if (o >= n) {
        pb[j] = ps[j] = prf[j] = 0.0f, pr[j] = 0;
        continue;
      }
      int32_t sum = 0;
      for (size_t i = 0; i < k; i++) {
        sum += w[o * k + i];
        pw[(i / 4 * QK_DYN_NR + j) * 4 + i % 4] = w[o * k + i];
      }
      pb[j] = bias ? bias[o] : 0.0f;
      ps[j] = scale[o];
      pr[j] = sum;
      prf[j] = (float)sum; /* the reference's (float)row_sum, rounded once here */
    }
  }
}

/* The reference's quantization parameters from a row's min and max. Returns false for the all-zero
 * case (q = 0, scale 1, offset 0). */
static inline bool qk_dyn_params(float lo, float hi, bool asymmetric, float *scale, float *inv, int32_t *offset) {
  *offset = 0;
  if (!asymmetric) {
    const float range = fabsf(lo) > fabsf(hi) ? fabsf(lo) : fabsf(hi);
    if (range == 0.0f) return *scale = 1.0f, false;
    *scale = range / 127.0f;
    *inv = 127.0f / range;
    return true;
  }
  const double rmin = fmin(0.0, (double)lo), rmax = fmax(0.0, (double)hi);
  if (rmin == rmax) return *scale = 1.0f, false;
  const double qmin = -128.0, qmax = 127.0, s = (rmax - rmin) / (qmax - qmin);
  const double zp_from_min = qmin - rmin / s, zp_from_max = qmax - rmax / s;
  const double err_min = fabs(qmin) + fabs(rmin / s), err_max = fabs(qmax) + fabs(rmax / s);
  const double zp = err_min < err_max ? zp_from_min : zp_from_max;
  *offset = zp <= qmin ? -128 : zp >= qmax ? 127 : (int32_t)round(zp);
  *scale = (float)s;
  *inv = (float)(1.0 / (double)*scale);
  return true;
}

/* 16 quantized values from 16 floats. */
static inline int8x16_t qk_dyn_q16(const float32x4_t v[4], float32x4_t inv, float32x4_t off, bool asymmetric) {
  int32x4_t r[4];
  for (int j = 0; j < 4; j++) {
    float32x4_t t = vmulq_f32(v[j], inv);
    if (asymmetric) t = vaddq_f32(off, t);
    r[j] = vcvtaq_s32_f32(t);
  }
  const int16x8_t a = vcombine_s16(vqmovn_s32(r[0]), vqmovn_s32(r[1]));
  const int16x8_t b = vcombine_s16(vqmovn_s32(r[2]), vqmovn_s32(r[3]));
  const int8x16_t q = vcombine_s8(vqmovn_s16(a), vqmovn_s16(b));
  return asymmetric ? q : vmaxq_s8(q, vdupq_n_s8(-127));
}

/* Quantizes x[0, n) into q[0, n) and zero-fills q[n, n_pad); returns the row's scale and offset. */
static inline void qk_dyn_quantize(const float *x, size_t n, size_t n_pad, bool asymmetric, int8_t *q, float *scale,
                                   int32_t *offset) {
  float32x4_t vlo = vld1q_dup_f32(x), vhi = vlo;
  size_t i = 0;
  if (n >= 16) {
    float32x4_t lo4[4] = {vlo, vlo, vlo, vlo}, hi4[4] = {vlo, vlo, vlo, vlo};
    for (; i + 16 <= n; i += 16)
      for (int j = 0; j < 4; j++) {
        const float32x4_t v = vld1q_f32(x + i + 4 * j);
        lo4[j] = vminq_f32(lo4[j], v), hi4[j] = vmaxq_f32(hi4[j], v);
      }
    vlo = vminq_f32(vminq_f32(lo4[0], lo4[1]), vminq_f32(lo4[2], lo4[3]));
    vhi = vmaxq_f32(vmaxq_f32(hi4[0], hi4[1]), vmaxq_f32(hi4[2], hi4[3]));
  }
  float lo = vminvq_f32(vlo), hi = vmaxvq_f32(vhi);
  for (size_t t = i; t < n; t++) {
    if (x[t] < lo) lo = x[t];
    if (x[t] > hi) hi = x[t];
  }
  float inv = 0.0f;
  if (!qk_dyn_params(lo, hi, asymmetric, scale, &inv, offset)) {
    memset(q, 0, n_pad);
    *offset = 0;
    return;
  }
  const float32x4_t vinv = vdupq_n_f32(inv), voff = vdupq_n_f32((float)*offset);
  float32x4_t v[4];
  for (i = 0; i + 16 <= n; i += 16) {
    for (int j = 0; j < 4; j++) v[j] = vld1q_f32(x + i + 4 * j);
    vst1q_s8(q + i, qk_dyn_q16(v, vinv, voff, asymmetric));
  }
  if (i < n) { /* the tail through the stack: x may end at a guard page */
    float buf[16] = {0};
    int8_t out[16];
    memcpy(buf, x + i, (n - i) * sizeof *buf);
    for (int j = 0; j < 4; j++) v[j] = vld1q_f32(buf + 4 * j);
    vst1q_s8(out, qk_dyn_q16(v, vinv, voff, asymmetric));
    memcpy(q + i, out, n - i);
  }
  memset(q + n, 0, n_pad - n);
}

/* One k-group of 4 (lane L of xv) against the block's 16 channels. A macro: the lane must be a
 * constant. The empty asm keeps GCC 12 from hoisting every weight load of a step ahead of the dots,
 * which would spill accumulators (as in qk_int8_fc_4x16c4__neondot). */
#define QK_DYN_LANE(L)                                                           \
  do {                                                                           \
    const int8x16_t w0 = vld1q_s8(wp), w1 = vld1q_s8(wp + 16);                   \
    const int8x16_t w2 = vld1q_s8(wp + 32), w3 = vld1q_s8(wp + 48);              \
    wp += 64;                                                                    \
    _Pragma("GCC unroll 4") for (size_t r = 0; r < mr; r++) {                    \
      acc[r][0] = vdotq_laneq_s32(acc[r][0], w0, xv[r], L);                      \
      acc[r][1] = vdotq_laneq_s32(acc[r][1], w1, xv[r], L);                      \
      acc[r][2] = vdotq_laneq_s32(acc[r][2], w2, xv[r], L);                      \
      acc[r][3] = vdotq_laneq_s32(acc[r][3], w3, xv[r], L);                      \
    }                                                                            \
    __asm__ volatile("" ::: "memory");                                           \
  } while (0)

/* int32 dot products of mr rows (each kp bytes at a[r]) with one block's 16 channels. */
static inline __attribute__((always_inline)) void qk_dyn_dot(const size_t mr, const int8_t *const a[QK_DYN_MR],
                                                             size_t kp, const int8_t *wp,
                                                             int32x4_t acc[QK_DYN_MR][4]) {
  int8x16_t xv[QK_DYN_MR];
#pragma GCC unroll 4
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) acc[r][j] = vdupq_n_s32(0);
  for (size_t k = 0; k < kp; k += 16) {
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) xv[r] = vld1q_s8(a[r] + k);
    QK_DYN_LANE(0);
    QK_DYN_LANE(1);
    QK_DYN_LANE(2);
    QK_DYN_LANE(3);
  }
}

/* Stores 16 outputs, or the first nr. */
static inline void qk_dyn_store(float *y, const float32x4_t v[4], size_t nr) {
  if (nr == QK_DYN_NR)
    for (int j = 0; j < 4; j++) vst1q_f32(y + 4 * j, v[j]);
  else {
    float buf[16];
    for (int j = 0; j < 4; j++) vst1q_f32(buf + 4 * j, v[j]);
    memcpy(y, buf, nr * sizeof *buf);
  }
}

#endif
