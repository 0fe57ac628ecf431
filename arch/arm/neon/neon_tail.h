/* Tail loads and stores for the armv8-a NEON variants of the non-FC ops (depthwise, add, mul,
 * pools, converts). Buffers may end exactly at a guard page and may be unaligned, so a vector
 * access is only issued where all its bytes belong to the caller's buffer; the rest goes through
 * a 16-byte stack buffer. Base armv8-a only. */
#ifndef QK_ARM_NEON_TAIL_H
#define QK_ARM_NEON_TAIL_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The first n (< 16) bytes of p; the other lanes are zero. */
static inline int8x16_t qk_neon_load_s8x16_part(const int8_t *p, size_t n) {
  int8_t buf[16] = {0};
  memcpy(buf, p, n);
  return vld1q_s8(buf);
}

/* 16 bytes at p when they all lie before end, else only those that do (the rest read as zero).
 * Lanes past the caller's data are computed and then never stored. */
static inline int8x16_t qk_neon_load_s8x16_upto(const int8_t *p, const int8_t *end) {
  const size_t avail = (size_t)(end - p);
  return avail >= 16 ? vld1q_s8(p) : qk_neon_load_s8x16_part(p, avail);
}

/* The first n (< 16) floats of p; the other lanes are zero. */
static inline void qk_neon_load_f32x16_part(const float *p, size_t n, float32x4_t v[4]) {
  float buf[16] = {0};
  memcpy(buf, p, n * sizeof(float));
  for (int i = 0; i < 4; i++) v[i] = vld1q_f32(buf + 4 * i);
}

/* Stores the first n (< 16) floats of v. */
static inline void qk_neon_store_f32x16_part(float *p, const float32x4_t v[4], size_t n) {
  float buf[16];
  for (int i = 0; i < 4; i++) vst1q_f32(buf + 4 * i, v[i]);
  memcpy(p, buf, n * sizeof(float));
}

#endif
