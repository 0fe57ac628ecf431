/* Reference int8 Add (three roundings) and Mul, SPEC.md §6-§7, with 4-D broadcasting. */
#include "qk/eltwise.h"
#include "qk/quant.h"
#include "internal.h"

static int8_t clamp8(int32_t v, int32_t lo, int32_t hi) { return (int8_t)(v < lo ? lo : v > hi ? hi : v); }

void qk_ref_add_int8(const qk_add_int8_params *p, const size_t s1[4], const int8_t *x1,
                     const size_t s2[4], const int8_t *x2, int8_t *y) {
  size_t o[4];
  for (int i = 0; i < 4; i++) o[i] = s1[i] > s2[i] ? s1[i] : s2[i];
  size_t k = 0;
  for (size_t n = 0; n < o[0]; n++)
    for (size_t h = 0; h < o[1]; h++)
      for (size_t w = 0; w < o[2]; w++)
        for (size_t c = 0; c < o[3]; c++, k++) {
          const int32_t v1 = (x1[qk_bcast_index(s1, n, h, w, c)] - p->input1_zp) * (1 << p->left_shift);
          const int32_t v2 = (x2[qk_bcast_index(s2, n, h, w, c)] - p->input2_zp) * (1 << p->left_shift);
          const int32_t r1 = qk_mbqm32(v1, p->input1_multiplier, p->input1_shift, p->rounding);
          const int32_t r2 = qk_mbqm32(v2, p->input2_multiplier, p->input2_shift, p->rounding);
          const int32_t sum = qk_wrap_add32(r1, r2);
          const int32_t r = qk_wrap_add32(qk_mbqm32(sum, p->output_multiplier, p->output_shift, p->rounding), p->output_zp);
          y[k] = clamp8(r, p->act_min, p->act_max);
        }
}

void qk_ref_mul_int8(const qk_mul_int8_params *p, const size_t s1[4], const int8_t *x1,
                     const size_t s2[4], const int8_t *x2, int8_t *y) {
  size_t o[4];
  for (int i = 0; i < 4; i++) o[i] = s1[i] > s2[i] ? s1[i] : s2[i];
  size_t k = 0;
  for (size_t n = 0; n < o[0]; n++)
    for (size_t h = 0; h < o[1]; h++)
      for (size_t w = 0; w < o[2]; w++)
        for (size_t c = 0; c < o[3]; c++, k++) {
          const int32_t prod = (x1[qk_bcast_index(s1, n, h, w, c)] - p->input1_zp) * (x2[qk_bcast_index(s2, n, h, w, c)] - p->input2_zp);
          const int32_t r = qk_wrap_add32(qk_mbqm32(prod, p->output_multiplier, p->output_shift, p->rounding), p->output_zp);
          y[k] = clamp8(r, p->act_min, p->act_max);
        }
}
