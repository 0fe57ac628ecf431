/* IEEE binary16 <-> binary32 by bit manipulation (no compiler intrinsics, no _Float16): the
 * reference every conversion variant is checked against, over all 65,536 halves. */
#include <string.h>

#include "qk/float.h"

static uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

uint16_t qk_f32_to_f16(float f) {
  const uint32_t u = bits_of(f);
  const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  const uint32_t exp = (u >> 23) & 0xFFu, man = u & 0x7FFFFFu;
  if (exp == 0xFF) /* infinity, or NaN made quiet with its top payload bits */
    return (uint16_t)(sign | 0x7C00u | (man ? 0x200u | (man >> 13) : 0u));
  const int e = (int)exp - 127 + 15; /* biased half exponent */
  if (e >= 31) return (uint16_t)(sign | 0x7C00u);
  if (e <= 0) {
    if (e < -10) return sign; /* below half the smallest subnormal: rounds to zero */
    /* Subnormal: the implicit bit joins the mantissa, which shifts right by 14 - e. */
    const uint32_t m = man | 0x800000u;
    const int shift = 14 - e;
    const uint32_t half = m >> shift, rem = m & ((1u << shift) - 1u), mid = 1u << (shift - 1);
    const uint32_t r = half + (rem > mid || (rem == mid && (half & 1u)));
    return (uint16_t)(sign | r); /* r == 0x400 carries into the smallest normal, as it should */
  }
  const uint32_t half = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1FFFu;
  const uint32_t r = half + (rem > 0x1000u || (rem == 0x1000u && (half & 1u)));
  return (uint16_t)(sign | r); /* a carry out of the mantissa bumps the exponent, up to infinity */
}

float qk_f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
  if (exp == 0x1F) return float_of(sign | 0x7F800000u | (man ? 0x400000u | (man << 13) : 0u));
  if (exp == 0) {
    if (man == 0) return float_of(sign);
    /* Subnormal half: normalise into a float32 exponent. */
    int e = -14;
    uint32_t m = man;
    while (!(m & 0x400u)) m <<= 1, e--;
    return float_of(sign | ((uint32_t)(e + 127) << 23) | ((m & 0x3FFu) << 13));
  }
  return float_of(sign | ((exp - 15 + 127) << 23) | (man << 13));
}

void qk_ref_f32_to_f16(const float *x, size_t n, uint16_t *y) {
  for (size_t i = 0; i < n; i++) y[i] = qk_f32_to_f16(x[i]);
}

void qk_ref_f16_to_f32(const uint16_t *x, size_t n, float *y) {
  for (size_t i = 0; i < n; i++) y[i] = qk_f16_to_f32(x[i]);
}
