/* int16 Add, TFLite's power-of-two-scale path, SSE4.1: bit-exact with qk_ref_add_i16_pot
 * (qk/add_i16_pot.h), 8 elements per step.
 *
 * gemmlowp's RoundingDivideByPOT<int16>(x, e) keeps every intermediate in int16, and so does
 * this code: q = x >> e (psraw: a count of 16 or more fills with the sign bit, as (int)x >> e
 * does for int16 x), remainder = x & mask, threshold = (mask >> 1) + (x < 0), q += remainder >
 * threshold, with mask = int16(2^e - 1). For e >= 16 that mask is -1 and the same four steps
 * give +1 / -1 (the reference's quirk), so one formula covers every e in [0, 31]. Then the
 * saturating int16 add (paddsw) and the clamp. The tail (< 8 elements) goes through a stack
 * buffer, so nothing past the tensors is touched. */
#include <smmintrin.h>
#include <stdint.h>
#include <string.h>

#include "variants.h"

typedef struct pot_k {
  __m128i cnt, mask, half, lo, hi;
} pot_k;

static inline __attribute__((always_inline)) __m128i pot8(const pot_k *k, __m128i s, __m128i p) {
  const __m128i thr = _mm_sub_epi16(k->half, _mm_cmplt_epi16(s, _mm_setzero_si128()));
  const __m128i q = _mm_sub_epi16(_mm_sra_epi16(s, k->cnt), _mm_cmpgt_epi16(_mm_and_si128(s, k->mask), thr));
  return _mm_min_epi16(_mm_max_epi16(_mm_adds_epi16(q, p), k->lo), k->hi);
}

void qk_i16x8_add_pot__sse41_run(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2,
                                 int16_t *y) {
  const int first_plain = p->input1_shift == 0;
  const int16_t *pl = first_plain ? x1 : x2, *sh = first_plain ? x2 : x1;
  const int e = first_plain ? -p->input2_shift : -p->input1_shift;
  const int16_t mask = (int16_t)(uint16_t)((UINT64_C(1) << e) - 1u);
  const pot_k k = {_mm_cvtsi32_si128(e), _mm_set1_epi16(mask), _mm_set1_epi16((int16_t)(mask >> 1)),
                   _mm_set1_epi16((int16_t)p->act_min), _mm_set1_epi16((int16_t)p->act_max)};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i s = _mm_loadu_si128((const __m128i *)(const void *)(sh + i));
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(pl + i));
    _mm_storeu_si128((__m128i *)(void *)(y + i), pot8(&k, s, v));
  }
  if (i < n) {
    _Alignas(16) int16_t bs[8] = {0}, bp[8] = {0}, by[8];
    memcpy(bs, sh + i, (n - i) * sizeof *bs);
    memcpy(bp, pl + i, (n - i) * sizeof *bp);
    _mm_store_si128((__m128i *)(void *)by, pot8(&k, _mm_load_si128((const __m128i *)(void *)bs),
                                                _mm_load_si128((const __m128i *)(void *)bp)));
    memcpy(y + i, by, (n - i) * sizeof *by);
  }
}
