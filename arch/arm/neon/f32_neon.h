/* Helpers shared by the armv8-a NEON float-path variants (f32, f16w): the reference's clamp, short
 * loads and stores that never touch a byte past the caller's buffer, and binary16 weight widening.
 * Base armv8-a only: FCVTL (binary16 -> binary32) is part of it, FP16 arithmetic is not. */
#ifndef QK_ARM_F32_NEON_H
#define QK_ARM_F32_NEON_H

#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The references clamp with `v < lo ? lo : v > hi ? hi : v`. FMAX/FMIN differ from that on -0 vs +0
 * (FMAX(-0, +0) is +0, the reference keeps -0) and on NaN bounds, so the compares and selects are
 * spelled out; a NaN v passes through unchanged, as in the reference. */
static inline float32x4_t qk_f32_clamp(float32x4_t v, float32x4_t lo, float32x4_t hi) {
  const uint32x4_t below = vcltq_f32(v, lo), above = vcgtq_f32(v, hi);
  return vbslq_f32(below, lo, vbslq_f32(above, hi, v));
}

/* The first n (< 4) floats of p, other lanes zero; a plain vector load could cross a guard page. */
static inline float32x4_t qk_f32_load_part(const float *p, size_t n) {
  float buf[4] = {0};
  memcpy(buf, p, n * sizeof(float));
  return vld1q_f32(buf);
}

static inline void qk_f32_store_part(float *p, float32x4_t v, size_t n) {
  float buf[4];
  vst1q_f32(buf, v);
  memcpy(p, buf, n * sizeof(float));
}

/* Weights: 4 or 8 consecutive float32 values, or binary16 bit patterns widened in registers
 * (FCVTL / FCVTL2, exact), so an f16w variant sees exactly the values its f32 twin loads. `half`
 * is a constant at every call site. */
static inline __attribute__((always_inline)) float32x4_t qk_w_load4(bool half, const void *p) {
  if (half) return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)p)));
  return vld1q_f32((const float *)p);
}

static inline __attribute__((always_inline)) void qk_w_load8(bool half, const void *p, float32x4_t w[2]) {
  if (half) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16((const uint16_t *)p));
    w[0] = vcvt_f32_f16(vget_low_f16(h));
    w[1] = vcvt_high_f32_f16(h);
  } else {
    w[0] = vld1q_f32((const float *)p);
    w[1] = vld1q_f32((const float *)p + 4);
  }
}

/* Element i of a weight array of either kind, as a pointer. */
static inline __attribute__((always_inline)) const void *qk_w_at(bool half, const void *p, size_t i) {
  return (const char *)p + i * (half ? 2 : 4);
}

#endif
