/* 16x8 DepthwiseConv2D, AVX-512 VNNI, 32 channels per group: bit-exact with qk_ref_dwconv2d_i16x8
 * (SPEC.md §5, MBQM64 of §1.5) for any kernel, stride, dilation, padding and depth multiplier;
 * 3x3 with stride 1 or 2 and multiplier 1 has its own loops (../i16x8_dw_loops.h).
 *
 * Products (../i16x8_dw_pack.h has the arithmetic in full):
 * - 3x3 stride 1, groups on the FMA requantization: paired taps. vpdpwssd adds two int16 products
 *   per dword: kernel rows 0 and 1 of a channel share a dword (x interleaved word by word), row 2
 *   is paired with 0; an interleaved input column serves three output pixels, so a pixel costs 12
 *   vpdpwssd, 4 unpacks and 3 loads (dw_row_pairs below).
 * - Otherwise, per tap: one 64-byte load and two vpdpwssd against the even- and odd-lane weight
 *   vectors: each dword gains one product (the other word of the weight pair is 0).
 * Every sum is an exact int32 (at most 511 taps of |x w| <= 2^22; the non-saturating VNNI add).
 *
 * Requantization:
 * - FMA path (every lane's t in [15, 32], the usual shifts -17..0): the sums start at a per-lane
 *   B, pairing each dword with 2^52's high dword makes the double 2^52 + acc + B, and one vfmadd
 *   rounded toward -inf (embedded rounding) yields the floor on the integer grid of [2^52, 2^53);
 *   the low dwords are MBQM64's results mod 2^32, as the reference's int32 truncation.
 * - Otherwise: four vpmuldq of the accumulators' even and odd dwords by the reduced multiplier,
 *   + Bl, vpsravq by each lane's t, shufps to pick the low dwords, + Bh, packssdw and pshufb to
 *   channel order.
 * Then the clamp in int16 (saturating first is exact: the clamp lies inside int16). With C < 32
 * the single group uses masked loads and stores, which never touch the masked-out bytes. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../i16x8_dw_pack.h"
#include "variants.h"

#define DW_VL 32
#define DW_MODE QK_DW16_SRAV
#define DW_NAME(s) qk_i16x8_dwconv2d_32c__avx512vnni_##s
#define DW_INLINE static inline __attribute__((always_inline))
#define DW_PAIR 1 /* two pixels per step: 32 registers hold both accumulator sets */

/* vpdpwssd has a latency of several cycles: even and odd taps go to separate chains (e0/o0 and
 * e1/o1), merged before requantization. */
typedef struct dw_acc {
  __m512i e0, o0, e1, o1;
} dw_acc;

#define DW_LD(p) _mm512_load_si512((const void *)(p))
/* Round toward -inf, no exceptions: a constant expression, as the intrinsics require. */
#define DW_RD (_MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)

DW_INLINE __mmask32 dw_mask(size_t n) { return n >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << n) - 1; }

DW_INLINE void dw_zero(dw_acc *a) { a->e0 = a->o0 = a->e1 = a->o1 = _mm512_setzero_si512(); }

/* Groups on the FMA requantization start from B (i16x8_dw_pack.h), the others from 0. */
DW_INLINE void dw_begin(dw_acc *a, const uint8_t *g) {
  dw_zero(a);
  if (((const int32_t *)(const void *)g)[2]) {
    a->e0 = DW_LD(g + qk_dw16_off_fb(DW_VL));
    a->o0 = DW_LD(g + qk_dw16_off_fb(DW_VL) + 64);
  }
}

/* Out of line, so the common path keeps x in a register. */
static __attribute__((noinline)) __m512i dw_load_narrow(const int16_t *x, size_t n) {
  return _mm512_maskz_loadu_epi16(dw_mask(n), x);
}

DW_INLINE void dw_mac(dw_acc *a, const int16_t *x, const uint8_t *w, size_t n, int t) {
  const __m512i v = n >= DW_VL ? _mm512_loadu_si512((const void *)x) : dw_load_narrow(x, n);
  if (t & 1) {
    a->e1 = _mm512_dpwssd_epi32(a->e1, v, DW_LD(w));
    a->o1 = _mm512_dpwssd_epi32(a->o1, v, DW_LD(w + 64));
  } else {
    a->e0 = _mm512_dpwssd_epi32(a->e0, v, DW_LD(w));
    a->o0 = _mm512_dpwssd_epi32(a->o0, v, DW_LD(w + 64));
  }
}

/* The two chains' sum stays exact: at most 511 taps in all (i16x8_dw_pack.h). */
DW_INLINE __m512i dw_even(const dw_acc *a) { return _mm512_add_epi32(a->e0, a->e1); }
DW_INLINE __m512i dw_odd(const dw_acc *a) { return _mm512_add_epi32(a->o0, a->o1); }

DW_INLINE void dw_lanes(const dw_acc *a, int32_t out[DW_VL]) {
  _Alignas(64) int32_t e[16], o[16];
  _mm512_store_si512((void *)e, dw_even(a));
  _mm512_store_si512((void *)o, dw_odd(a));
  for (int j = 0; j < 16; j++) out[2 * j] = e[j], out[2 * j + 1] = o[j];
}

DW_INLINE __m512i dw_pick(__m512i a, __m512i b) {
  return _mm512_castps_si512(_mm512_shuffle_ps(_mm512_castsi512_ps(a), _mm512_castsi512_ps(b), _MM_SHUFFLE(2, 0, 2, 0)));
}

/* FMA requantization: the sums (which include B) become the doubles 2^52 + acc + B by pairing each
 * dword with 2^52's high dword, one vfmadd rounded toward -inf gives the floor on the integer grid
 * of [2^52, 2^53), and the low dwords are the results (i16x8_dw_pack.h). Pairing dwords (2L, 2L+1)
 * of the unpacks back with vpshufd-masked moves puts channels 8L..8L+7 in order for vpackssdw. */
DW_INLINE __m512i dw_out_fma(const dw_acc *a, const uint8_t *g) {
  const __m512i e = dw_even(a), o = dw_odd(a), hi = _mm512_set1_epi32(0x43300000);
  const double *fm = (const double *)(const void *)(g + qk_dw16_off_fm(DW_VL));
  const double *fc = (const double *)(const void *)(g + qk_dw16_off_fc(DW_VL));
  const __m512d r0 = _mm512_fmadd_round_pd(_mm512_castsi512_pd(_mm512_unpacklo_epi32(e, hi)), _mm512_load_pd(fm),
                                           _mm512_load_pd(fc), DW_RD);
  const __m512d r1 = _mm512_fmadd_round_pd(_mm512_castsi512_pd(_mm512_unpackhi_epi32(e, hi)), _mm512_load_pd(fm + 8),
                                           _mm512_load_pd(fc + 8), DW_RD);
  const __m512d r2 = _mm512_fmadd_round_pd(_mm512_castsi512_pd(_mm512_unpacklo_epi32(o, hi)), _mm512_load_pd(fm + 16),
                                           _mm512_load_pd(fc + 16), DW_RD);
  const __m512d r3 = _mm512_fmadd_round_pd(_mm512_castsi512_pd(_mm512_unpackhi_epi32(o, hi)), _mm512_load_pd(fm + 24),
                                           _mm512_load_pd(fc + 24), DW_RD);
  const __m512i ra = _mm512_mask_shuffle_epi32(_mm512_castpd_si512(r0), 0xAAAA, _mm512_castpd_si512(r2), _MM_PERM_CDAB);
  const __m512i rb = _mm512_mask_shuffle_epi32(_mm512_castpd_si512(r1), 0xAAAA, _mm512_castpd_si512(r3), _MM_PERM_CDAB);
  return _mm512_packs_epi32(ra, rb);
}

DW_INLINE void dw_out(const dw_acc *a, const uint8_t *g, const qk_dw16_ctx *k, size_t cs, size_t m, int16_t *dst,
                      size_t n) {
  (void)cs, (void)m;
  if (((const int32_t *)(const void *)g)[2]) {
    __m512i v = dw_out_fma(a, g);
    v = _mm512_min_epi16(_mm512_max_epi16(v, _mm512_set1_epi16((int16_t)k->lo)), _mm512_set1_epi16((int16_t)k->hi));
    if (n >= DW_VL) _mm512_storeu_si512((void *)dst, v);
    else _mm512_mask_storeu_epi16(dst, dw_mask(n), v);
    return;
  }
  const uint8_t *rm = g + qk_dw16_off_rm(), *bl = g + qk_dw16_off_bl(DW_VL), *ts = g + qk_dw16_off_ts(DW_VL);
  const uint8_t *bh = g + qk_dw16_off_bh(DW_VL);
  const __m512i e = dw_even(a), o = dw_odd(a);
  __m512i p0 = _mm512_mul_epi32(e, DW_LD(rm));
  __m512i p1 = _mm512_mul_epi32(_mm512_srli_epi64(e, 32), DW_LD(rm + 64));
  __m512i p2 = _mm512_mul_epi32(o, DW_LD(rm + 128));
  __m512i p3 = _mm512_mul_epi32(_mm512_srli_epi64(o, 32), DW_LD(rm + 192));
  p0 = _mm512_srav_epi64(_mm512_add_epi64(p0, DW_LD(bl)), DW_LD(ts));
  p1 = _mm512_srav_epi64(_mm512_add_epi64(p1, DW_LD(bl + 64)), DW_LD(ts + 64));
  p2 = _mm512_srav_epi64(_mm512_add_epi64(p2, DW_LD(bl + 128)), DW_LD(ts + 128));
  p3 = _mm512_srav_epi64(_mm512_add_epi64(p3, DW_LD(bl + 192)), DW_LD(ts + 192));
  const __m512i ra = _mm512_add_epi32(dw_pick(p0, p2), DW_LD(bh));
  const __m512i rb = _mm512_add_epi32(dw_pick(p1, p3), DW_LD(bh + 64));
  const __m512i order = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15));
  __m512i v = _mm512_shuffle_epi8(_mm512_packs_epi32(ra, rb), order);
  v = _mm512_min_epi16(_mm512_max_epi16(v, _mm512_set1_epi16((int16_t)k->lo)), _mm512_set1_epi16((int16_t)k->hi));
  if (n >= DW_VL) _mm512_storeu_si512((void *)dst, v);
  else _mm512_mask_storeu_epi16(dst, dw_mask(n), v);
}

/* ---- 3x3, stride 1, groups on the FMA requantization: paired taps (i16x8_dw_pack.h) ----
 * Along an output row, a window of three interleaved input columns (rows 0-1 as word pairs, row 2
 * paired with 0; low and high unpacks) slides one column per output pixel: 4 unpacks and 3 loads
 * per pixel, 12 vpdpwssd. The accumulators come out in channel order within 128-bit lanes, so the
 * FMA requantization ends with shufps and vpackssdw alone. Columns outside the image are zero. */
typedef struct dw_col {
  __m512i lo01, hi01, lo2, hi2;
} dw_col;

DW_INLINE dw_col dw_column(const int16_t *const rows[3], long ix, size_t W, size_t C, size_t cs, size_t n) {
  dw_col c;
  if (ix < 0 || ix >= (long)W) {
    c.lo01 = c.hi01 = c.lo2 = c.hi2 = _mm512_setzero_si512();
    return c;
  }
  const size_t o = (size_t)ix * C + cs;
  __m512i x0, x1, x2;
  if (n >= DW_VL) {
    x0 = _mm512_loadu_si512((const void *)(rows[0] + o));
    x1 = _mm512_loadu_si512((const void *)(rows[1] + o));
    x2 = _mm512_loadu_si512((const void *)(rows[2] + o));
  } else {
    x0 = _mm512_maskz_loadu_epi16(dw_mask(n), rows[0] + o);
    x1 = _mm512_maskz_loadu_epi16(dw_mask(n), rows[1] + o);
    x2 = _mm512_maskz_loadu_epi16(dw_mask(n), rows[2] + o);
  }
  c.lo01 = _mm512_unpacklo_epi16(x0, x1);
  c.hi01 = _mm512_unpackhi_epi16(x0, x1);
  c.lo2 = _mm512_unpacklo_epi16(x2, _mm512_setzero_si512());
  c.hi2 = _mm512_unpackhi_epi16(x2, _mm512_setzero_si512());
  return c;
}

DW_INLINE __m512i dw_fma_pick(__m512i lo, __m512i hi, const double *nm, const double *nc) {
  const __m512i h = _mm512_set1_epi32(0x43300000);
  const __m512d r0 = _mm512_fmadd_round_pd(_mm512_castsi512_pd(_mm512_unpacklo_epi32(lo, h)), _mm512_load_pd(nm),
                                           _mm512_load_pd(nc), DW_RD);
  const __m512d r1 = _mm512_fmadd_round_pd(_mm512_castsi512_pd(_mm512_unpackhi_epi32(lo, h)), _mm512_load_pd(nm + 8),
                                           _mm512_load_pd(nc + 8), DW_RD);
  const __m512d r2 = _mm512_fmadd_round_pd(_mm512_castsi512_pd(_mm512_unpacklo_epi32(hi, h)), _mm512_load_pd(nm + 16),
                                           _mm512_load_pd(nc + 16), DW_RD);
  const __m512d r3 = _mm512_fmadd_round_pd(_mm512_castsi512_pd(_mm512_unpackhi_epi32(hi, h)), _mm512_load_pd(nm + 24),
                                           _mm512_load_pd(nc + 24), DW_RD);
  const __m512i a = _mm512_castps_si512(
      _mm512_shuffle_ps(_mm512_castpd_ps(r0), _mm512_castpd_ps(r1), _MM_SHUFFLE(2, 0, 2, 0)));
  const __m512i b = _mm512_castps_si512(
      _mm512_shuffle_ps(_mm512_castpd_ps(r2), _mm512_castpd_ps(r3), _MM_SHUFFLE(2, 0, 2, 0)));
  return _mm512_packs_epi32(a, b);
}

DW_INLINE void dw_row_pairs(const qk_dw16_ctx *k, const int16_t *const rows[3], size_t cs, const uint8_t *g,
                            int16_t *yrow, size_t n) {
  const size_t C = k->C, W = k->W, OW = k->g->out_w;
  const long pl = (long)k->g->pad_left;
  const uint8_t *pr = g + qk_dw16_off_pairs(k->d, DW_VL, DW_MODE);
  const __m512i *P = (const __m512i *)(const void *)pr;
  const __m512i b_lo = DW_LD(pr + 24 * DW_VL), b_hi = DW_LD(pr + 24 * DW_VL + 64);
  const double *nm = (const double *)(const void *)(pr + 28 * DW_VL);
  const double *nc = (const double *)(const void *)(pr + 36 * DW_VL);
  const __m512i lo16 = _mm512_set1_epi16((int16_t)k->lo), hi16 = _mm512_set1_epi16((int16_t)k->hi);
  dw_col c0 = dw_column(rows, -pl, W, C, cs, n), c1 = dw_column(rows, 1 - pl, W, C, cs, n);
  dw_col c2 = dw_column(rows, 2 - pl, W, C, cs, n);
  for (size_t ox = 0; ox < OW; ox++) {
    /* Two chains per half (rows 0-1 and row 2) keep the vpdpwssd latency off the critical path. */
    __m512i a01 = b_lo, a2 = _mm512_setzero_si512(), h01 = b_hi, h2 = _mm512_setzero_si512();
    const dw_col *col[3] = {&c0, &c1, &c2};
    for (int kx = 0; kx < 3; kx++) {
      a01 = _mm512_dpwssd_epi32(a01, col[kx]->lo01, P[(kx * 2 + 0) * 2 + 0]);
      h01 = _mm512_dpwssd_epi32(h01, col[kx]->hi01, P[(kx * 2 + 0) * 2 + 1]);
      a2 = _mm512_dpwssd_epi32(a2, col[kx]->lo2, P[(kx * 2 + 1) * 2 + 0]);
      h2 = _mm512_dpwssd_epi32(h2, col[kx]->hi2, P[(kx * 2 + 1) * 2 + 1]);
    }
    __m512i v = dw_fma_pick(_mm512_add_epi32(a01, a2), _mm512_add_epi32(h01, h2), nm, nc);
    v = _mm512_min_epi16(_mm512_max_epi16(v, lo16), hi16);
    int16_t *dst = yrow + ox * C + cs;
    if (n >= DW_VL) _mm512_storeu_si512((void *)dst, v);
    else _mm512_mask_storeu_epi16(dst, dw_mask(n), v);
    c0 = c1;
    c1 = c2;
    c2 = dw_column(rows, (long)ox + 3 - pl, W, C, cs, n);
  }
}

/* The hook of ../i16x8_dw_loops.h: stride-1 3x3 rows of FMA groups. */
#define DW_ROW_S1 1
static void dw_row_s1(const qk_dw16_ctx *k, const int16_t *const rows[3], size_t cs, const uint8_t *g, int16_t *yrow) {
  dw_row_pairs(k, rows, cs, g, yrow, DW_VL);
}
static void dw_row_s1_narrow(const qk_dw16_ctx *k, const int16_t *const rows[3], size_t cs, const uint8_t *g,
                             int16_t *yrow) {
  dw_row_pairs(k, rows, cs, g, yrow, k->C);
}
DW_INLINE bool dw_row_s1_ok(const uint8_t *g) { return ((const int32_t *)(const void *)g)[2] != 0; }

#include "../i16x8_dw_loops.h"
