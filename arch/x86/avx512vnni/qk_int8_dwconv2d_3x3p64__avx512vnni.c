/* int8 DepthwiseConv2D, AVX-512 VNNI: exact with qk_ref_dwconv2d_int8 (SPEC.md §5).
 *
 * Channels are contiguous in NHWC, so a vector holds channels and every int32 lane is one output
 * channel. vpdpbusd adds 4 u8 x s8 products per lane; the 4 bytes of a lane are 4 taps of its
 * channel, 4 input rows of one column, interleaved by two rounds of unpacks (rows to byte pairs to
 * dwords). Unpacks stay inside 128-bit lanes, so from 64 channels vector q gets channel
 * 16i + 4q + j in lane 4i + j: the order in which the narrowing packs put bytes back for free.
 *  - 3x3 stride 1 (the hot path): one column of 4 rows serves two output rows (taps w0 w1 w2 0 and
 *    0 w0 w1 w2) and three output columns, so each column is interleaved once: 12 vpdpbusd and
 *    4 unpacks per 64 outputs. Channel tails of 1..16 or 17..32 pack 4 or 2 pixels side by side
 *    in the vector (P) instead of wasting lanes; a neighbouring column is then the vector shifted
 *    by one pixel (valignq), as the unpacks commute with whole-lane moves.
 *  - 3x3 stride 2: a column of 3 rows, shared by two neighbouring outputs.
 *  - any other geometry: per output pixel, taps in groups of 4 rows of one kernel column.
 * Depth multiplier M > 1 first copies each input channel M times into the workspace, which makes
 * it the M = 1 problem on out_ch channels.
 *
 * Borders: a tap outside the image reads the input zero point (a workspace row of zp bytes, or
 * its interleaved constant), which is what skipping it means in real terms. Every tap of every
 * pixel therefore adds w * (x + 128) with x ^ 0x80 as the u8 operand, and the pack folds
 * -(zp_in + 128) * sum(w) into the bias for all pixels, borders included.
 *
 * Requantization. The general path is requant.h (64-bit products, any multiplier and shift).
 * The fast path, taken per block of 64 channels when the pack can prove it exact for every
 * accumulator the block can produce (|acc| is bounded by bias and weights), computes
 * floor((acc * m + C) / 2^T) with one double-precision FMA per 8 lanes:
 *  - single rounding: C = 2^(T-1), T = 31 - shift. Double rounding: SRDHM then RDBPOT merge into
 *    one floor (requant.h), whose constant is C+ = 2^30 + 2^(30+n) (T = 31 + n, n = -shift) for
 *    acc >= 0 and C+ - 2^31 for acc < 0.
 *  - The pack finds B with B * m = C + k 2^T (m's odd part is invertible mod 2^T), so
 *    floor((acc*m + C) / 2^T) = floor((acc + B) * m / 2^T) - k: the constant moves into the
 *    operand. The accumulator starts at bias + D with D = B mod 2^32, which keeps acc + D inside
 *    [0, 2^32); the high dword E = B >> 32 and the exponent of 2^52 are blended on top, giving
 *    the double 2^52 + acc + B exactly.
 *  - fma((2^52 + acc + B), m 2^-T, 1.5 2^52 - m 2^(52-T) - k) rounded toward -inf lands on the
 *    integer grid of [2^52, 2^53): its low dword is the result. The FMA rounds once, from the
 *    exact value, so the floor is exact; nothing of the 64-bit shift machinery is needed.
 *  - Double rounding needs the sign of acc. With a ReLU-like clamp (act_min >= output_zp) it
 *    does not: C+ is right for acc >= 0, and for acc < 0 both constants give results <= 0, which
 *    the clamp maps to act_min. Otherwise the block works on |acc| (odd symmetry of round half
 *    away from zero, exact when no |acc| in range hits an exact tie, which the pack checks) and
 *    negates afterwards.
 * Output zero point, saturation to int8 and the clamp follow (int16 saturation is exact because
 * fast-path results are small; the general path adds the zero point in wrapping int32).
 *
 * Packed buffer: a 64-byte header, one 64-byte descriptor per block, then the blocks, each
 * rows_per_block rows of 64 bytes (row indices R_*): bias, D, 2D, E, FMA multipliers and
 * addends for even and odd lanes, requant.h constants, then weights [kw][ceil(kh/4)][4] and,
 * for 3x3, the row-shifted copy for the second output row [3][4]. Rounding and input_zp are
 * taken at pack time, as the FC variants do. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/conv.h"
#include "internal.h"
#include "variants.h"
#include "requant.h"

#define QK_NAME(s) qk_int8_dwconv2d_3x3p64__avx512vnni##s
#define QK_INLINE static inline __attribute__((always_inline))

__extension__ typedef unsigned __int128 qk_u128;

/* Row indices inside a block (rows of 64 bytes). */
enum {
  R_BIAS = 0,  /* [4] accumulator start: bias + D - (zp_in + 128) sum(w), wrapping */
  R_BIAS0 = 4, /* [4] the same without D */
  R_D = 8,     /* [4] D (dwords) */
  R_D2 = 12,   /* [4] 2D */
  R_E = 16,    /* [4] high dword of the FMA operand; dword 2i+1 serves lane 2i, dword 2i lane 2i+1 */
  R_S = 20,    /* [4][2] m 2^-T for even / odd lanes (doubles) */
  R_C = 28,    /* [4][2] FMA addend for even / odd lanes */
  R_RQ = 36,   /* [4][QK_RQ512_ROWS] requant.h constants */
  R_W = R_RQ + 4 * QK_RQ512_ROWS
};

/* Requantization of a block: FAST on acc + D; SYM on |acc| + D found from acc + D, sign restored
 * after; SYM0 the same when D = 0 (the accumulator is then the plain signed sum); GEN requant.h. */
enum { MODE_FAST, MODE_SYM, MODE_SYM0, MODE_GEN, MODE_COUNT };

typedef struct pk_head {
  uint32_t nblk, rows, kh, kw, ng, wb, rounding, pad[9];
} pk_head;

typedef struct pk_blk {
  uint32_t c0, t, P, cw; /* channels [c0, c0 + t), P pixels of cw channels per vector */
  uint32_t fast_ok, sym_ok, sym0_ok, pad[9];
} pk_blk;

_Static_assert(sizeof(pk_head) == 64 && sizeof(pk_blk) == 64, "64-byte records");

static const double MAGIC = 6755399441055744.0; /* 1.5 * 2^52 */

/* ---------------------------------------------------------------- plan (shared by pack and run) */

typedef struct plan {
  size_t nblk, rows, ng, tail_p;
  bool wb, s1;
} plan;

static bool fast_s1(const qk_conv2d_int8_desc *d, size_t *pad_left) {
  size_t ow = 0, pl = 0;
  if (d->k_h != 3 || d->k_w != 3 || d->stride_h != 1 || d->stride_w != 1 || d->dilation_h != 1 ||
      d->dilation_w != 1)
    return false;
  if (qk_conv_out_size(d->padding, d->in_w, 3, 1, 1, &ow, &pl) != QK_OK) return false;
  if (pad_left) *pad_left = pl;
  return pl <= 1;
}

static plan make_plan(const qk_conv2d_int8_desc *d) {
  plan p;
  const size_t O = d->out_ch, t = O % 64;
  p.s1 = fast_s1(d, NULL);
  p.nblk = (O + 63) / 64;
  p.ng = (d->k_h + 3) / 4;
  p.wb = d->k_h == 3 && d->k_w == 3;
  p.rows = R_W + d->k_w * p.ng * 4 + (p.wb ? 12 : 0);
  p.tail_p = !t || !p.s1 ? 1 : t <= 16 ? 4 : t <= 32 ? 2 : 1;
  return p;
}

size_t QK_NAME(_packed_size)(const qk_conv2d_int8_desc *d) {
  const plan p = make_plan(d);
  return 64 + p.nblk * 64 + p.nblk * p.rows * 64;
}

/* ---------------------------------------------------------------- pack */

static uint64_t inverse_mod64(uint64_t a) { /* a odd; Newton doubles the correct bits */
  uint64_t x = a;
  for (int i = 0; i < 6; i++) x *= 2 - a * x;
  return x;
}

typedef struct lane_fast {
  uint32_t D, E;
  double s, c;
  bool fast, sym, sym0; /* the modes this channel allows */
} lane_fast;

/* Fast-path constants for one channel whose accumulator lies in [lo, hi] (see the top). */
static lane_fast lane_constants(int32_t m, int shift, qk_rounding mode, int64_t lo, int64_t hi) {
  lane_fast r = {0, 0x43300000u, 0.0, MAGIC, false, false, false};
  if (lo < -(INT64_C(1) << 30) || hi > (INT64_C(1) << 30)) return r;
  if (m == 0) { /* the reference gives 0 whatever acc is, and so does s = 0 */
    r.fast = r.sym = r.sym0 = true;
    return r;
  }
  if (shift > 0) return r; /* left shifts wrap in int32 (double) or need T < 31 */
  int T;
  uint64_t C;
  if (mode == QK_ROUND_SINGLE) {
    T = 31 - shift;
    C = UINT64_C(1) << (T - 1);
  } else {
    const int n = -shift;
    T = 31 + n;
    C = (UINT64_C(1) << 30) + (n ? UINT64_C(1) << (30 + n) : 0);
  }
  if (T > 52) return r;
  /* C is a multiple of 2^30 and m < 2^31 has at most 30 trailing zeros, so B exists. */
  const int v = __builtin_ctz((uint32_t)m), tv = T - v;
  const uint64_t mask = (UINT64_C(1) << tv) - 1, inv = inverse_mod64((uint64_t)m >> v);
  uint64_t B = ((C >> v) * inv) & mask;
  if (tv < 32 && lo < 0 && B < (uint64_t)-lo) B += ((uint64_t)-lo - B + mask) >> tv << tv;
  /* D = B mod 2^32 when tv >= 32, else B itself. Single rounding's C = 2^(T-1) makes it 0 for
   * tv > 32, which only the SYM0 form can use. */
  const uint32_t D = (uint32_t)B;
  const int64_t amax = hi > -lo ? hi : -lo;
  if (B + (uint64_t)amax >= (UINT64_C(1) << 52)) return r;
  const qk_u128 bm = (qk_u128)B * (uint64_t)m;
  const uint64_t k = (uint64_t)(bm >> T);
  r.D = D;
  r.E = 0x43300000u + (uint32_t)(B >> 32);
  r.s = (double)m / (double)(UINT64_C(1) << T);
  r.c = MAGIC - (double)((uint64_t)m << (52 - T)) - (double)k;
  /* Smallest a >= 1 with a*m + C = 0 mod 2^T: there sign(acc) floor((|acc| m + C) / 2^T) is one
   * off (both roundings are odd-symmetric but for exact ties). */
  const uint64_t amin = ((0 - (C >> v)) * inv) & mask;
  const bool tie_free = (int64_t)amin > -lo;
  r.fast = (int64_t)D + lo >= 0 && (int64_t)D + hi < (INT64_C(1) << 32);
  r.sym = r.fast && tie_free && (int64_t)D - lo < (INT64_C(1) << 32);
  r.sym0 = D == 0 && tie_free;
  return r;
}

void QK_NAME(_pack)(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed) {
  const plan p = make_plan(d);
  const size_t O = d->out_ch, KH = d->k_h, KW = d->k_w;
  pk_head *h = packed;
  memset(h, 0, sizeof *h);
  h->nblk = (uint32_t)p.nblk;
  h->rows = (uint32_t)p.rows;
  h->kh = (uint32_t)KH;
  h->kw = (uint32_t)KW;
  h->ng = (uint32_t)p.ng;
  h->wb = p.wb;
  h->rounding = (uint32_t)d->rounding;
  pk_blk *bi = (pk_blk *)((uint8_t *)packed + 64);
  uint8_t *base = (uint8_t *)packed + 64 + p.nblk * 64;
  const int64_t xlo = -128 - d->input_zp, xhi = 127 - d->input_zp;
  for (size_t b = 0; b < p.nblk; b++) {
    pk_blk *info = &bi[b];
    memset(info, 0, sizeof *info);
    const size_t c0 = b * 64, t = O - c0 < 64 ? O - c0 : 64;
    const size_t P = b + 1 == p.nblk && t < 64 ? p.tail_p : 1, cw = 64 / P;
    info->c0 = (uint32_t)c0;
    info->t = (uint32_t)t;
    info->P = (uint32_t)P;
    info->cw = (uint32_t)cw;
    uint8_t *blk = base + b * p.rows * 64;
    memset(blk, 0, p.rows * 64);
    int32_t *row32 = (int32_t *)blk;
    bool fast_ok = true, sym_ok = true, sym0_ok = true;
    for (int q = 0; q < 4; q++) {
      int32_t mm[16], sh[16];
      for (int l = 0; l < 16; l++) {
        const size_t o = 16 * (size_t)(l >> 2) + 4 * (size_t)q + (size_t)(l & 3), s = o % cw;
        const bool valid = s < t;
        const size_t ch = c0 + s;
        int64_t lo = 0, hi = 0;
        uint32_t wsum = 0;
        for (size_t ky = 0; ky < KH; ky++)
          for (size_t kx = 0; kx < KW; kx++) {
            const int32_t wv = valid ? w[(ky * KW + kx) * O + ch] : 0;
            wsum += (uint32_t)wv;
            lo += wv > 0 ? wv * xlo : wv * xhi;
            hi += wv > 0 ? wv * xhi : wv * xlo;
            const size_t g = ky / 4, j = ky % 4;
            blk[(R_W + (kx * p.ng + g) * 4 + (size_t)q) * 64 + (size_t)l * 4 + j] = (uint8_t)wv;
            if (p.wb) blk[(R_W + KW * p.ng * 4 + kx * 4 + (size_t)q) * 64 + (size_t)l * 4 + ky + 1] = (uint8_t)wv;
          }
        const int32_t bv = valid && bias ? bias[ch] : 0;
        lo += bv;
        hi += bv;
        mm[l] = valid ? d->multiplier[ch] : 0;
        sh[l] = valid ? d->shift[ch] : 0;
        const lane_fast f = lane_constants(mm[l], sh[l], d->rounding, lo, hi);
        fast_ok &= f.fast;
        sym_ok &= f.sym;
        sym0_ok &= f.sym0;
        const uint32_t D = f.D;
        row32[(R_BIAS0 + q) * 16 + l] = (int32_t)((uint32_t)bv - (uint32_t)(d->input_zp + 128) * wsum);
        row32[(R_BIAS + q) * 16 + l] = (int32_t)((uint32_t)row32[(R_BIAS0 + q) * 16 + l] + D);
        row32[(R_D + q) * 16 + l] = (int32_t)D;
        row32[(R_D2 + q) * 16 + l] = (int32_t)(2 * D);
        row32[(R_E + q) * 16 + (l ^ 1)] = (int32_t)f.E;
        ((double *)(blk + (R_S + 2 * q + (l & 1)) * 64))[l >> 1] = f.s;
        ((double *)(blk + (R_C + 2 * q + (l & 1)) * 64))[l >> 1] = f.c;
      }
      qk_rq512_prepare((int32_t *)(blk + (R_RQ + (size_t)q * QK_RQ512_ROWS) * 64), mm, sh, d->rounding);
    }
    info->fast_ok = fast_ok;
    info->sym_ok = sym_ok;
    info->sym0_ok = sym0_ok;
  }
}

/* ---------------------------------------------------------------- run */

size_t QK_NAME(_workspace_size)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  (void)g;
  const size_t ex = d->depth_multiplier > 1 ? qk_round_up(d->batch * d->in_h * d->in_w * d->out_ch, 64) : 0;
  return 128 + ex;
}

typedef struct run_ctx {
  const int8_t *x; /* this image */
  int8_t *y;
  const int8_t *zprow; /* >= 128 bytes of input_zp */
  size_t H, W, C, OH, OW, KH, KW, ng, sh, sw, dh, dw;
  long pt, pl;
  bool single;
  __m512i flip, zpv, zpt, zp32, zp2, lo, hi, idx;
  __m512d zpd;
} run_ctx;

/* One vector's fast-path constants, held in registers across a sweep. The output zero point is
 * added to the FMA addend (exact: an integer-valued double far below 2^53). */
typedef struct rq_regs {
  __m512i e, d, d2;
  __m512d se, so, ce, co;
} rq_regs;

QK_INLINE rq_regs rq_load(const int mode, const run_ctx *c, const __m512i *R, int q) {
  rq_regs k;
  k.e = R[R_E + q];
  k.se = _mm512_castsi512_pd(R[R_S + 2 * q]);
  k.so = _mm512_castsi512_pd(R[R_S + 2 * q + 1]);
  k.ce = _mm512_add_pd(_mm512_castsi512_pd(R[R_C + 2 * q]), c->zpd);
  k.co = _mm512_add_pd(_mm512_castsi512_pd(R[R_C + 2 * q + 1]), c->zpd);
  k.d = mode == MODE_SYM ? R[R_D + q] : _mm512_setzero_si512();
  k.d2 = mode == MODE_SYM ? R[R_D2 + q] : _mm512_setzero_si512();
  return k;
}

/* Even dwords of the FMA operands come from the accumulator, odd ones from E. */
#define EVEN_LANES ((__mmask16)0x5555)

QK_INLINE __m512i rq_core(__m512i a, const rq_regs *k, __m512i idx) {
  const __m512i ae = _mm512_mask_mov_epi32(k->e, EVEN_LANES, a);
  const __m512i ao = _mm512_permutex2var_epi32(a, idx, k->e);
  const __m512d ye = _mm512_fmadd_round_pd(_mm512_castsi512_pd(ae), k->se, k->ce, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m512d yo = _mm512_fmadd_round_pd(_mm512_castsi512_pd(ao), k->so, k->co, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  return _mm512_mask_shuffle_epi32(_mm512_castpd_si512(ye), 0xAAAA, _mm512_castpd_si512(yo), _MM_PERM_CCAA);
}

/* Accumulators of vector q to int32 results; the fast modes include the output zero point. */
QK_INLINE __m512i rq_one(const int mode, const run_ctx *c, const rq_regs *k, const __m512i *R, int q, __m512i acc) {
  if (mode == MODE_GEN) {
    const void *rq = R + R_RQ + q * QK_RQ512_ROWS;
    return c->single ? qk_rq512_single(acc, rq) : qk_rq512_double(acc, rq, true);
  }
  if (mode == MODE_FAST) return rq_core(acc, k, c->idx);
  __mmask16 neg;
  __m512i a;
  if (mode == MODE_SYM) { /* acc + D < D exactly when acc < 0; then |acc| + D = 2D - (acc + D) */
    neg = _mm512_cmplt_epu32_mask(acc, k->d);
    a = _mm512_mask_sub_epi32(acc, neg, k->d2, acc);
  } else {
    neg = _mm512_movepi32_mask(acc);
    a = _mm512_abs_epi32(acc);
  }
  const __m512i v = rq_core(a, k, c->idx); /* |r| + zp */
  return _mm512_mask_sub_epi32(v, neg, c->zp2, v);
}

/* Four result vectors of one pixel (or P pixels) to 64 int8 in channel order. */
QK_INLINE __m512i narrow4(const int mode, const run_ctx *c, const __m512i *r) {
  if (mode == MODE_GEN) return qk_rq512_narrow(r[0], r[1], r[2], r[3], c->zp32, c->lo, c->hi);
  const __m512i v = _mm512_packs_epi16(_mm512_packs_epi32(r[0], r[1]), _mm512_packs_epi32(r[2], r[3]));
  return _mm512_min_epi8(_mm512_max_epi8(v, c->lo), c->hi);
}

/* Four rows (x ^ 0x80 already applied) to the dword-interleaved form: t[q] lane 4i + j holds the
 * 4 rows of channel 16i + 4q + j. */
QK_INLINE void interleave(const __m512i r0, const __m512i r1, const __m512i r2, const __m512i r3, __m512i *t) {
  const __m512i a0 = _mm512_unpacklo_epi8(r0, r1), a1 = _mm512_unpackhi_epi8(r0, r1);
  const __m512i b0 = _mm512_unpacklo_epi8(r2, r3), b1 = _mm512_unpackhi_epi8(r2, r3);
  t[0] = _mm512_unpacklo_epi16(a0, b0);
  t[1] = _mm512_unpackhi_epi16(a0, b0);
  t[2] = _mm512_unpacklo_epi16(a1, b1);
  t[3] = _mm512_unpackhi_epi16(a1, b1);
}

/* An input row as a base pointer (already at channel c0) and a pixel step; rows outside the
 * image read the zp row with step 0. */
typedef struct row_ref {
  const int8_t *p;
  size_t step;
  bool zp;
} row_ref;

QK_INLINE row_ref row_at(const run_ctx *c, long iy, size_t c0) {
  row_ref r;
  if (iy < 0 || iy >= (long)c->H) {
    r.p = c->zprow;
    r.step = 0;
    r.zp = true;
  } else {
    r.p = c->x + (size_t)iy * c->W * c->C + c0;
    r.step = c->C;
    r.zp = false;
  }
  return r;
}

/* Interleaved column ix of rows rr[0..nr) (nr = 3 repeats the last row), 64 channels. */
QK_INLINE void column(const run_ctx *c, const row_ref *rr, const int nr, long ix, __mmask64 tm, __m512i *t) {
  if (ix < 0 || ix >= (long)c->W) {
    t[0] = t[1] = t[2] = t[3] = c->zpt;
    return;
  }
  __m512i r[4];
#pragma GCC unroll 4
  for (int k = 0; k < nr; k++)
    r[k] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(tm, rr[k].p + (size_t)ix * rr[k].step), c->flip);
  interleave(r[0], r[1], r[2], nr == 4 ? r[3] : r[2], t);
}

/* P pixels of cw = 64 / P channels (the channel tail) from row r, pixels p0 .. p0 + P - 1. */
QK_INLINE __m512i row_pixels(const int P, const run_ctx *c, const row_ref *r, long p0, size_t t) {
  if (r->zp) return c->zpv;
  const size_t cw = 64 / (size_t)P;
  const long W = (long)c->W;
  if (r->step == cw && t == cw) { /* the whole tensor is one tail: P pixels are contiguous */
    const long a = p0 < 0 ? 0 : p0, b = p0 + P > W ? W : p0 + P;
    if (a >= b) return c->zpv;
    const __mmask64 m = (b - a == P ? ~(__mmask64)0 : (((__mmask64)1 << ((b - a) * (long)cw)) - 1))
                        << ((a - p0) * (long)cw);
    const uintptr_t at = (uintptr_t)r->p + (uintptr_t)(p0 * (long)cw);
    return _mm512_mask_loadu_epi8(c->zpv, m, (const void *)at);
  }
  __m512i v = c->zpv;
  if (P == 2) {
    const __mmask32 m = t >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << t) - 1;
    const __m256i z = _mm512_castsi512_si256(c->zpv);
    if (p0 >= 0 && p0 < W) v = _mm512_inserti64x4(v, _mm256_mask_loadu_epi8(z, m, r->p + (size_t)p0 * r->step), 0);
    if (p0 + 1 >= 0 && p0 + 1 < W)
      v = _mm512_inserti64x4(v, _mm256_mask_loadu_epi8(z, m, r->p + (size_t)(p0 + 1) * r->step), 1);
  } else {
    const __mmask16 m = t >= 16 ? (__mmask16)0xFFFF : (__mmask16)(((unsigned)1 << t) - 1);
    const __m128i z = _mm512_castsi512_si128(c->zpv);
    if (p0 >= 0 && p0 < W) v = _mm512_inserti32x4(v, _mm_mask_loadu_epi8(z, m, r->p + (size_t)p0 * r->step), 0);
    if (p0 + 1 >= 0 && p0 + 1 < W)
      v = _mm512_inserti32x4(v, _mm_mask_loadu_epi8(z, m, r->p + (size_t)(p0 + 1) * r->step), 1);
    if (p0 + 2 >= 0 && p0 + 2 < W)
      v = _mm512_inserti32x4(v, _mm_mask_loadu_epi8(z, m, r->p + (size_t)(p0 + 2) * r->step), 2);
    if (p0 + 3 >= 0 && p0 + 3 < W)
      v = _mm512_inserti32x4(v, _mm_mask_loadu_epi8(z, m, r->p + (size_t)(p0 + 3) * r->step), 3);
  }
  return v;
}

QK_INLINE void column_p(const int P, const run_ctx *c, const row_ref *rr, long p0, size_t t, __m512i *v) {
  const __m512i r0 = _mm512_xor_si512(row_pixels(P, c, &rr[0], p0, t), c->flip);
  const __m512i r1 = _mm512_xor_si512(row_pixels(P, c, &rr[1], p0, t), c->flip);
  const __m512i r2 = _mm512_xor_si512(row_pixels(P, c, &rr[2], p0, t), c->flip);
  const __m512i r3 = _mm512_xor_si512(row_pixels(P, c, &rr[3], p0, t), c->flip);
  interleave(r0, r1, r2, r3, v);
}

/* Stores pixels ox .. ox + P - 1 (those < OW) of the narrowed vector, t channels each. */
QK_INLINE void store_p(const int P, const run_ctx *c, int8_t *yrow, size_t ox, size_t t, __m512i out) {
  const size_t cw = 64 / (size_t)P, O = c->C;
  const size_t n = c->OW - ox < (size_t)P ? c->OW - ox : (size_t)P;
  const __mmask64 tm = t >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << t) - 1;
  if (O == cw && t == cw) {
    const __mmask64 m = n * cw >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (n * cw)) - 1;
    _mm512_mask_storeu_epi8(yrow + ox * O, m, out);
    return;
  }
  /* Pixel i sits at bytes [i cw, i cw + t): store the vector shifted back by i cw with only
   * those bytes enabled; masked-off bytes are never touched. */
  for (size_t i = 0; i < n; i++) {
    const uintptr_t at = (uintptr_t)(yrow + (ox + i) * O) - i * cw;
    _mm512_mask_storeu_epi8((void *)at, tm << (i * cw), out);
  }
}

/* The accumulators' start: with D for the forms that work on acc + D. */
#define BIAS_ROW(mode) ((mode) == MODE_FAST || (mode) == MODE_SYM ? R_BIAS : R_BIAS0)

QK_INLINE __m512i dot3(__m512i acc, __m512i t0, __m512i w0, __m512i t1, __m512i w1, __m512i t2, __m512i w2) {
  acc = _mm512_dpbusd_epi32(acc, t0, w0);
  acc = _mm512_dpbusd_epi32(acc, t1, w1);
  return _mm512_dpbusd_epi32(acc, t2, w2);
}

/* Output pixels (P = 1) or pixel groups per chunk. A chunk's interleaved columns and int32
 * results live in two stack buffers that stay in L1. */
enum { CHUNK = 16, TB_COLS = 2 * CHUNK + 1 };

/* One quartet q over n outputs of the chunk, its weights and constants in registers:
 * stride 1 (P = 1): output i uses columns i, i + 1, i + 2 of tb, rows oy and oy + 1;
 * stride 1 (P > 1): group i uses B(i - 1), B(i), B(i + 1) at tb columns i, i + 1, i + 2;
 * stride 2: output i uses columns 2i, 2i + 1, 2i + 2, row oy only. */
QK_INLINE void sweep(const int mode, const int P, const bool s2, const run_ctx *c, const __m512i *R, int q, size_t n,
                     const __m512i *tb, __m512i *rb) {
  const __m512i *wt = R + R_W, *wb = R + R_W + 12;
  const __m512i w0 = wt[q], w1 = wt[4 + q], w2 = wt[8 + q];
  const __m512i v0 = s2 ? w0 : wb[q], v1 = s2 ? w1 : wb[4 + q], v2 = s2 ? w2 : wb[8 + q];
  const __m512i bias = R[BIAS_ROW(mode) + q];
  const rq_regs k = rq_load(mode, c, R, q);
  const int sh = 8 / P; /* qwords per pixel */
  __m512i ta = tb[q], tm = tb[4 + q];
  for (size_t i = 0; i < n; i++) {
    __m512i l, m, r;
    if (s2) {
      m = tb[(2 * i + 1) * 4 + q];
      const __m512i nx = tb[(2 * i + 2) * 4 + q];
      l = ta;
      r = nx;
      ta = nx;
    } else {
      const __m512i nx = tb[(i + 2) * 4 + q];
      if (P == 1) {
        l = ta;
        m = tm;
        r = nx;
      } else {
        l = _mm512_alignr_epi64(tm, ta, 8 - sh);
        m = tm;
        r = _mm512_alignr_epi64(nx, tm, sh);
      }
      ta = tm;
      tm = nx;
    }
    rb[i * 8 + q] = rq_one(mode, c, &k, R, q, dot3(bias, l, w0, m, w1, r, w2));
    if (!s2) rb[i * 8 + 4 + q] = rq_one(mode, c, &k, R, q, dot3(bias, l, v0, m, v1, r, v2));
  }
}

/* 3x3, stride 1 (two output rows oy, oy + 1) or 2 (one row), for P pixels per vector. */
QK_INLINE void pass3x3(const int mode, const int P, const bool s2, const run_ctx *c, const pk_blk *bi,
                       const __m512i *R, size_t oy, __m512i *tb, __m512i *rb) {
  const size_t c0 = bi->c0, O = c->C, t = bi->t;
  const __mmask64 tm = t >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << t) - 1;
  row_ref rr[4];
  for (int k = 0; k < 4; k++) rr[k] = row_at(c, (long)(s2 ? 2 * oy : oy) - c->pt + k, c0);
  const bool two = !s2 && oy + 1 < c->OH;
  const size_t items = (c->OW + (size_t)P - 1) / (size_t)P;
  const long off = 1 - c->pl; /* P > 1: the centre column of output P j + i is P j + off + i */
  for (size_t i0 = 0; i0 < items; i0 += CHUNK) {
    const size_t n = items - i0 < CHUNK ? items - i0 : CHUNK;
    if (s2)
      for (size_t k = 0; k < 2 * n + 1; k++) column(c, rr, 3, 2 * (long)i0 - c->pl + (long)k, tm, tb + 4 * k);
    else if (P == 1)
      for (size_t k = 0; k < n + 2; k++) column(c, rr, 4, (long)i0 - c->pl + (long)k, tm, tb + 4 * k);
    else
      for (size_t k = 0; k < n + 2; k++) column_p(P, c, rr, P * ((long)(i0 + k) - 1) + off, t, tb + 4 * k);
    for (int q = 0; q < 4; q++) sweep(mode, P, s2, c, R, q, n, tb, rb);
    for (size_t i = 0; i < n; i++)
      for (size_t row = 0; row < (two ? 2u : 1u); row++) {
        const __m512i out = narrow4(mode, c, rb + i * 8 + row * 4);
        int8_t *yrow = c->y + (oy + row) * c->OW * O + c0;
        if (P == 1) _mm512_mask_storeu_epi8(yrow + (i0 + i) * O, tm, out);
        else store_p(P, c, yrow, (i0 + i) * (size_t)P, t, out);
      }
  }
}

QK_INLINE void block3x3(const int mode, const int P, const bool s2, const run_ctx *c, const pk_blk *bi,
                        const __m512i *R) {
  __m512i tb[TB_COLS * 4], rb[CHUNK * 8];
  for (size_t oy = 0; oy < c->OH; oy += s2 ? 1 : 2) pass3x3(mode, P, s2, c, bi, R, oy, tb, rb);
}

/* Any kernel, stride and dilation: per output pixel, kernel column by kernel column, 4 kernel
 * rows per vpdpbusd. */
QK_INLINE void generic(const int mode, const run_ctx *c, const pk_blk *bi, const __m512i *R) {
  const size_t c0 = bi->c0, O = c->C;
  const __mmask64 tm = bi->t >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << bi->t) - 1;
  for (size_t oy = 0; oy < c->OH; oy++)
    for (size_t ox = 0; ox < c->OW; ox++) {
      __m512i acc[4];
      for (int q = 0; q < 4; q++) acc[q] = R[BIAS_ROW(mode) + q];
      for (size_t kx = 0; kx < c->KW; kx++) {
        const long ix = (long)(ox * c->sw) - c->pl + (long)(kx * c->dw);
        for (size_t g = 0; g < c->ng; g++) {
          const __m512i *wg = R + R_W + (kx * c->ng + g) * 4;
          row_ref rr[4];
          for (size_t j = 0; j < 4; j++) {
            const size_t ky = 4 * g + j;
            rr[j] = row_at(c, ky < c->KH ? (long)(oy * c->sh) - c->pt + (long)(ky * c->dh) : -1, c0);
          }
          __m512i t[4];
          column(c, rr, 4, ix, tm, t);
          for (int q = 0; q < 4; q++) acc[q] = _mm512_dpbusd_epi32(acc[q], t[q], wg[q]);
        }
      }
      __m512i r[4];
      for (int q = 0; q < 4; q++) {
        const rq_regs k = rq_load(mode, c, R, q);
        r[q] = rq_one(mode, c, &k, R, q, acc[q]);
      }
      _mm512_mask_storeu_epi8(c->y + (oy * c->OW + ox) * O + c0, tm, narrow4(mode, c, r));
    }
}

typedef void (*blk_fn)(const run_ctx *, const pk_blk *, const __m512i *);
#define QK_BLK_FNS(m)                                                                                          \
  static void s1_1_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { block3x3(m, 1, false, c, b, R); } \
  static void s1_2_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { block3x3(m, 2, false, c, b, R); } \
  static void s1_4_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { block3x3(m, 4, false, c, b, R); } \
  static void s2_1_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { block3x3(m, 1, true, c, b, R); }  \
  static void gen_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { generic(m, c, b, R); }
QK_BLK_FNS(MODE_FAST)
QK_BLK_FNS(MODE_SYM)
QK_BLK_FNS(MODE_SYM0)
QK_BLK_FNS(MODE_GEN)

#define QK_KIND(k) {k##_MODE_FAST, k##_MODE_SYM, k##_MODE_SYM0, k##_MODE_GEN}
/* [kind][mode]: kinds s1 P=1, s1 P=2, s1 P=4, s2, generic. */
static const blk_fn blk_fns[5][MODE_COUNT] = {QK_KIND(s1_1), QK_KIND(s1_2), QK_KIND(s1_4), QK_KIND(s2_1),
                                               QK_KIND(gen)};

void QK_NAME(_run)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed, const int8_t *x,
                   int8_t *y, void *workspace) {
  const pk_head *h = packed;
  const pk_blk *bi = (const pk_blk *)((const uint8_t *)packed + 64);
  const uint8_t *base = (const uint8_t *)packed + 64 + h->nblk * 64;
  const size_t O = d->out_ch, M = d->depth_multiplier;
  int8_t *ws = workspace;
  memset(ws, d->input_zp, 128);
  size_t C = d->in_ch;
  if (M > 1) { /* channel ic becomes channels ic M .. ic M + M - 1 */
    int8_t *xe = ws + 128;
    const size_t pixels = d->batch * d->in_h * d->in_w;
    for (size_t p = 0; p < pixels; p++)
      for (size_t ic = 0; ic < C; ic++) memset(xe + p * O + ic * M, x[p * C + ic], M);
    x = xe;
    C = O;
  }
  run_ctx c = {
      .zprow = ws, .H = d->in_h, .W = d->in_w, .C = C, .OH = g->out_h, .OW = g->out_w, .KH = d->k_h,
      .KW = d->k_w, .ng = h->ng, .sh = d->stride_h, .sw = d->stride_w, .dh = d->dilation_h,
      .dw = d->dilation_w, .pt = (long)g->pad_top, .pl = (long)g->pad_left,
      .single = h->rounding == QK_ROUND_SINGLE,
      .flip = _mm512_set1_epi8((char)0x80),
      .zpv = _mm512_set1_epi8((char)d->input_zp),
      .zpt = _mm512_set1_epi8((char)(d->input_zp ^ 0x80)),
      .zp32 = _mm512_set1_epi32(d->output_zp),
      .zp2 = _mm512_set1_epi32(2 * d->output_zp),
      .lo = _mm512_set1_epi8((char)d->act_min),
      .hi = _mm512_set1_epi8((char)d->act_max),
      .idx = _mm512_set_epi32(30, 15, 28, 13, 26, 11, 24, 9, 22, 7, 20, 5, 18, 3, 16, 1),
      .zpd = _mm512_set1_pd((double)d->output_zp),
  };
  const bool is3 = d->k_h == 3 && d->k_w == 3 && d->dilation_h == 1 && d->dilation_w == 1;
  const bool s1 = is3 && d->stride_h == 1 && d->stride_w == 1 && g->pad_left <= 1;
  const bool s2 = is3 && d->stride_h == 2 && d->stride_w == 2;
  const bool relu = d->act_min >= d->output_zp;
  for (size_t b = 0; b < d->batch; b++) {
    c.x = x + b * d->in_h * d->in_w * C;
    c.y = y + b * g->out_h * g->out_w * O;
    for (size_t k = 0; k < h->nblk; k++) {
      const pk_blk *info = &bi[k];
      /* Double rounding needs the sign of acc unless the clamp hides negative results. */
      const int mode = info->fast_ok && (c.single || relu) ? MODE_FAST
                       : info->sym_ok && !c.single          ? MODE_SYM
                       : info->sym0_ok                      ? MODE_SYM0
                                                            : MODE_GEN;
      const int kind = s1 ? (info->P == 4 ? 2 : info->P == 2 ? 1 : 0) : s2 ? 3 : 4;
      blk_fns[kind][mode](&c, info, (const __m512i *)(base + k * h->rows * 64));
    }
  }
}
