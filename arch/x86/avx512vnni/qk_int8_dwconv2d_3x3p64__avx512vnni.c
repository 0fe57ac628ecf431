/* int8 DepthwiseConv2D, AVX-512 VNNI: exact with qk_ref_dwconv2d_int8 (SPEC.md §5).
 *
 * Channels are contiguous in NHWC, so a vector holds channels and every int32 lane is one output
 * channel. vpdpbusd adds 4 u8 x s8 products per lane; the 4 bytes of a lane are 4 taps of its
 * channel: 4 input rows of one kernel column, interleaved ahead of the multiply-adds.
 *  - Blocks of 64 channels interleave with two rounds of unpacks (rows to byte pairs to dwords).
 *    Unpacks stay inside 128-bit lanes, so vector q gets channel 16i + 4q + j in lane 4i + j: the
 *    order in which the narrowing packs put bytes back for free.
 *  - A last block of up to 32 channels is cut in slices of 16: a dword permute (vpermd on four
 *    16-byte rows, or vpermt2d on two pairs of 32-byte rows) gathers the 4 rows of 4 channels in
 *    each 128-bit lane and a vpshufb transposes their 4 x 4 bytes (channel j in lane j; there is
 *    no VBMI on Cascade Lake). Results of several pixels or rows share one narrowing. Tails of 16
 *    or 32 channels (MobileNet's 144 and 96) then cost what they compute; longer tails use the
 *    64-channel form with masked loads.
 *  - 3x3 stride 1: an interleaved column of 4 rows serves two output rows (taps w0 w1 w2 0 and
 *    0 w0 w1 w2) and three output columns: 12 vpdpbusd and 4 unpacks per 64 outputs.
 *    3x3 stride 2: output rows 2p and 2p + 1 read input rows 4p .. 4p + 4 (less padding). The
 *    group A(p) of rows 4p .. 4p + 3 serves row 2p (w0 w1 w2 0) and most of row 2p + 1
 *    (0 0 w0 w1); the first row of A(p + 1), which the next pass needs anyway, adds w2 0 0 0. So
 *    each interleaved column of 4 rows serves two output rows, as in stride 1; neighbouring
 *    outputs share a column. Passes walk down vertical strips so that A(p) and A(p + 1) stay
 *    in L1.
 *    Both run in three phases per chunk of outputs (stride 1: up to CHUNK, which may span output
 *    rows; stride 2: a strip): interleave the columns into a buffer; sweep each vector of the
 *    block over the chunk with its weights and requantization constants held in registers
 *    (reloading them per output pixel made the loads, not the arithmetic, the limit), writing
 *    int32 results; narrow and store. The buffers live in the workspace and stay in L1.
 *  - Any other geometry: per output pixel, kernel column by kernel column, 4 kernel rows per
 *    vpdpbusd. Depth multiplier M > 1 first copies each input channel M times into the
 *    workspace, which makes it the M = 1 problem on out_ch channels.
 *
 * Borders: a tap outside the image reads the input zero point (zp bytes in place of the row, or
 * their interleaved constant for a whole column), which is what skipping it means in real
 * terms. Every tap of every
 * pixel therefore adds w * (x + 128) with x ^ 0x80 as the u8 operand, and the pack folds
 * -(zp_in + 128) * sum(w) into the bias for all pixels, borders included.
 *
 * Requantization. The general path is requant.h (64-bit products, any multiplier and shift).
 * The fast path, chosen per block when the pack can prove it exact for every accumulator the
 * block can produce (|acc| is bounded by bias and weights), computes floor((acc m + C) / 2^T)
 * with one double-precision FMA per 8 lanes (IFMA could do the same, but Cascade Lake, the
 * oldest AVX-512 VNNI part, lacks it); requant.h spends about twice the instructions:
 *  - single rounding: C = 2^(T-1), T = 31 - shift. Double rounding: SRDHM then RDBPOT merge into
 *    one floor (requant.h), whose constant is C+ = 2^30 + 2^(30+n) (T = 31 + n, n = -shift) for
 *    acc >= 0 and C+ - 2^31 for acc < 0.
 *  - The pack finds B with B m = C + k 2^T (m's odd part is invertible mod 2^T), so
 *    floor((acc m + C) / 2^T) = floor((acc + B) m / 2^T) - k: the constant moves into the
 *    operand. The accumulator starts at bias + D with D = B mod 2^32, which keeps acc + D inside
 *    [0, 2^32); the high dword E = B >> 32 and the exponent of 2^52 are blended on top, giving
 *    the double 2^52 + acc + B exactly.
 *  - fma(2^52 + acc + B, m 2^-T, 1.5 2^52 - m 2^(52-T) - k + zp_out) rounded toward -inf lands on
 *    the integer grid of [2^52, 2^53): its low dword is the result plus the output zero point.
 *    The FMA rounds once, from the exact value, so the floor is exact.
 *  - Double rounding needs the sign of acc. With a ReLU-like clamp (act_min >= output_zp) it
 *    does not: C+ is right for acc >= 0, and for acc < 0 both constants give results <= 0, which
 *    the clamp maps to act_min. Otherwise the block works on |acc| (both roundings are odd-
 *    symmetric but for exact ties, which the pack proves absent) and negates afterwards.
 *    Single rounding's B is 0 mod 2^32 when T - ctz(m) > 32, so D = 0 and acc + D may wrap: it
 *    works from the plain signed sum instead, taking max(acc, 0) + D under such a clamp (again,
 *    results <= 0 all become act_min) and |acc| + D otherwise; so does any block whose lanes
 *    need different forms.
 * Saturation to int8 and the clamp follow; fast-path results are small, the general path adds
 * the output zero point in wrapping int32 like the reference.
 *
 * Packed buffer: a 64-byte header, one 64-byte descriptor per block, then the blocks, each
 * rows_per_block rows of 64 bytes: first what the fast form reads (row indices R_*: biases, E,
 * FMA multipliers and addends for even and odd lanes, weights [kw][ceil(kh/4)][4]), then the
 * rest (T_*: biases without D, D, 2D, requant.h constants). The other tap placements that 3x3
 * needs (0 w0 w1 w2 for stride 1's second row, 0 0 w0 w1 and w2 0 0 0 for stride 2's) are the
 * weight dwords shifted by a byte or two, made in registers. Rounding and input_zp are taken at
 * pack time, as the FC variants do. */
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
  R_BIAS = 0, /* [4] accumulator start: bias + D - (zp_in + 128) sum(w), wrapping */
  R_E = 4,    /* [4] high dword of the FMA operand; dword 2i+1 serves lane 2i, dword 2i lane 2i+1 */
  R_S = 8,    /* [4][2] m 2^-T for even / odd lanes (doubles) */
  R_C = 16,   /* [4][2] FMA addend for even / odd lanes */
  R_W = 24    /* [k_w][ceil(k_h / 4)][4] weights */
};
/* Rows after the weights (the tail; tail_row() gives its first row). The fast form reads only
 * the rows before it, one contiguous run: with cold weights, those are all that comes from
 * memory (see prefetch_block). */
enum {
  T_BIAS0 = 0, /* [4] R_BIAS without D */
  T_D = 4,     /* [4] D (dwords) */
  T_D2 = 8,    /* [4] 2D */
  T_RQ = 12,   /* [4][QK_RQ512_ROWS] requant.h constants */
  T_ROWS = T_RQ + 4 * QK_RQ512_ROWS
};

/* Requantization of a block: FAST on acc + D; RELU0 on max(acc, 0) + D (from the plain signed
 * sum) when the clamp hides results <= 0; SYM on |acc| + D found from acc + D, sign restored
 * after; SYM0 the same from the plain signed sum; GEN requant.h. */
enum { MODE_FAST, MODE_RELU0, MODE_SYM, MODE_SYM0, MODE_GEN, MODE_COUNT };

typedef struct pk_head {
  uint32_t nblk, rows, ng, rounding, pad[12];
} pk_head;

typedef struct pk_blk {
  uint32_t c0, t, nv;    /* channels [c0, c0 + t) in nv vectors */
  uint32_t sliced;       /* lane j of vector q is channel c0 + 16q + j (else 16(j/4) + 4q + j%4) */
  uint32_t fast_ok, relu0_ok, sym_ok, sym0_ok, pad[8];
} pk_blk;

_Static_assert(sizeof(pk_head) == 64 && sizeof(pk_blk) == 64, "64-byte records");

static const double MAGIC = 6755399441055744.0; /* 1.5 * 2^52 */

static size_t tail_row(size_t k_h, size_t k_w) { return R_W + k_w * ((k_h + 3) / 4) * 4; }

static size_t block_rows(const qk_conv2d_int8_desc *d) { return tail_row(d->k_h, d->k_w) + T_ROWS; }

size_t QK_NAME(_packed_size)(const qk_conv2d_int8_desc *d) {
  const size_t nblk = (d->out_ch + 63) / 64;
  return 64 + nblk * 64 + nblk * block_rows(d) * 64;
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
  bool fast, relu0, sym, sym0; /* the modes this channel allows */
} lane_fast;

/* Fast-path constants for one channel whose accumulator lies in [lo, hi] (see the top). */
static lane_fast lane_constants(int32_t m, int shift, qk_rounding mode, int64_t lo, int64_t hi) {
  lane_fast r = {0, 0x43300000u, 0.0, MAGIC, false, false, false, false};
  if (lo < -(INT64_C(1) << 30) || hi > (INT64_C(1) << 30)) return r;
  if (m == 0) { /* the reference gives 0 whatever acc is, and so does s = 0 */
    r.fast = r.relu0 = r.sym = r.sym0 = true;
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
  r.relu0 = (int64_t)D + hi < (INT64_C(1) << 32);
  r.sym = r.fast && tie_free && (int64_t)D - lo < (INT64_C(1) << 32);
  r.sym0 = tie_free && (int64_t)D + amax < (INT64_C(1) << 32);
  return r;
}

void QK_NAME(_pack)(const qk_conv2d_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed) {
  const size_t O = d->out_ch, KH = d->k_h, KW = d->k_w, ng = (KH + 3) / 4, rows = block_rows(d);
  const size_t nblk = (O + 63) / 64;
  pk_head *h = packed;
  memset(h, 0, sizeof *h);
  h->nblk = (uint32_t)nblk;
  h->rows = (uint32_t)rows;
  h->ng = (uint32_t)ng;
  h->rounding = (uint32_t)d->rounding;
  pk_blk *bi = (pk_blk *)((uint8_t *)packed + 64);
  uint8_t *base = (uint8_t *)packed + 64 + nblk * 64;
  const int64_t xlo = -128 - d->input_zp, xhi = 127 - d->input_zp;
  for (size_t b = 0; b < nblk; b++) {
    pk_blk *info = &bi[b];
    memset(info, 0, sizeof *info);
    const size_t c0 = b * 64, t = O - c0 < 64 ? O - c0 : 64;
    const bool sliced = t <= 32;
    info->c0 = (uint32_t)c0;
    info->t = (uint32_t)t;
    info->nv = (uint32_t)(sliced ? (t + 15) / 16 : 4);
    info->sliced = sliced;
    uint8_t *blk = base + b * rows * 64;
    memset(blk, 0, rows * 64);
    int32_t *row32 = (int32_t *)blk, *tail32 = row32 + tail_row(KH, KW) * 16;
    bool fast_ok = true, relu0_ok = true, sym_ok = true, sym0_ok = true;
    for (int q = 0; q < 4; q++) {
      int32_t mm[16], sh[16];
      for (int l = 0; l < 16; l++) {
        const size_t o = sliced ? 16 * (size_t)q + (size_t)l : 16 * (size_t)(l >> 2) + 4 * (size_t)q + (size_t)(l & 3);
        const bool valid = o < t;
        const size_t ch = c0 + o;
        int64_t lo = 0, hi = 0;
        uint32_t wsum = 0;
        for (size_t ky = 0; ky < KH; ky++)
          for (size_t kx = 0; kx < KW; kx++) {
            const int32_t wv = valid ? w[(ky * KW + kx) * O + ch] : 0;
            wsum += (uint32_t)wv;
            lo += wv > 0 ? wv * xlo : wv * xhi;
            hi += wv > 0 ? wv * xhi : wv * xlo;
            const size_t g = ky / 4, j = ky % 4;
            blk[(R_W + (kx * ng + g) * 4 + (size_t)q) * 64 + (size_t)l * 4 + j] = (uint8_t)wv;
          }
        const int32_t bv = valid && bias ? bias[ch] : 0;
        lo += bv;
        hi += bv;
        mm[l] = valid ? d->multiplier[ch] : 0;
        sh[l] = valid ? d->shift[ch] : 0;
        const lane_fast f = lane_constants(mm[l], sh[l], d->rounding, lo, hi);
        fast_ok &= f.fast;
        relu0_ok &= f.relu0;
        sym_ok &= f.sym;
        sym0_ok &= f.sym0;
        const uint32_t D = f.D;
        const uint32_t b0 = (uint32_t)bv - (uint32_t)(d->input_zp + 128) * wsum;
        tail32[(T_BIAS0 + q) * 16 + l] = (int32_t)b0;
        row32[(R_BIAS + q) * 16 + l] = (int32_t)(b0 + D);
        tail32[(T_D + q) * 16 + l] = (int32_t)D;
        tail32[(T_D2 + q) * 16 + l] = (int32_t)(2 * D);
        row32[(R_E + q) * 16 + (l ^ 1)] = (int32_t)f.E;
        ((double *)(blk + (R_S + 2 * q + (l & 1)) * 64))[l >> 1] = f.s;
        ((double *)(blk + (R_C + 2 * q + (l & 1)) * 64))[l >> 1] = f.c;
      }
      qk_rq512_prepare(tail32 + (T_RQ + (size_t)q * QK_RQ512_ROWS) * 16, mm, sh, d->rounding);
    }
    info->fast_ok = fast_ok;
    info->relu0_ok = relu0_ok;
    info->sym_ok = sym_ok;
    info->sym0_ok = sym0_ok;
  }
}

/* ---------------------------------------------------------------- run */

/* Outputs per chunk of the stride-1 path (32 measured best: the two buffers stay in L1); a chunk
 * needs at most 3 interleaved columns per output. Stride 2 uses strips of CHUNK / 2 outputs and
 * two buffers of 2 STRIP + 1 columns, which fit the same space. */
enum { CHUNK = 32, TB_COLS = 3 * CHUNK, STRIP = CHUNK / 2 };
_Static_assert(2 * (2 * STRIP + 1) <= TB_COLS, "stride-2 buffers fit");
#define WS_TB ((size_t)TB_COLS * 4 * 64)
#define WS_RB ((size_t)CHUNK * 8 * 64)

size_t QK_NAME(_workspace_size)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g) {
  (void)g;
  const size_t ex = d->depth_multiplier > 1 ? qk_round_up(d->batch * d->in_h * d->in_w * d->out_ch, 64) : 0;
  return WS_TB + WS_RB + ex;
}

typedef struct run_ctx {
  const int8_t *x; /* this image */
  int8_t *y;
  __m512i *tb, *rb;    /* interleaved columns, int32 results (workspace) */
  size_t H, W, C, OH, OW, KH, KW, ng, sh, sw, dh, dw, tail;
  long pt, pl;
  bool single;
  __m512i flip, zpv, zpt, zp32, zp2, lo, hi, idx, slice_didx, slice_bidx, slice_p0, slice_p1, gather_idx;
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
  k.d = mode == MODE_FAST ? _mm512_setzero_si512() : R[c->tail + T_D + q];
  k.d2 = mode == MODE_SYM ? R[c->tail + T_D2 + q] : _mm512_setzero_si512();
  return k;
}

/* Even dwords of the FMA operands come from the accumulator, odd ones from E. */
#define EVEN_LANES ((__mmask16)0x5555)

QK_INLINE __m512i rq_core(__m512i a, const rq_regs *k, __m512i idx) {
  const __m512i ae = _mm512_mask_mov_epi32(k->e, EVEN_LANES, a);
  const __m512i ao = _mm512_permutex2var_epi32(a, idx, k->e);
  /* The rounding operand must be a literal constant: a const variable only folds when optimizing,
   * and the -O0 sanitizer build rejects it. */
#define QK_RD (_MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
  const __m512d ye = _mm512_fmadd_round_pd(_mm512_castsi512_pd(ae), k->se, k->ce, QK_RD);
  const __m512d yo = _mm512_fmadd_round_pd(_mm512_castsi512_pd(ao), k->so, k->co, QK_RD);
#undef QK_RD
  return _mm512_mask_shuffle_epi32(_mm512_castpd_si512(ye), 0xAAAA, _mm512_castpd_si512(yo), _MM_PERM_CCAA);
}

/* Accumulators of vector q to int32 results; the fast modes include the output zero point. */
QK_INLINE __m512i rq_one(const int mode, const run_ctx *c, const rq_regs *k, const __m512i *R, int q, __m512i acc) {
  if (mode == MODE_GEN) {
    const void *rq = R + c->tail + T_RQ + q * QK_RQ512_ROWS;
    return c->single ? qk_rq512_single(acc, rq) : qk_rq512_double(acc, rq, true);
  }
  if (mode == MODE_FAST) return rq_core(acc, k, c->idx);
  if (mode == MODE_RELU0)
    return rq_core(_mm512_add_epi32(_mm512_max_epi32(acc, _mm512_setzero_si512()), k->d), k, c->idx);
  __mmask16 neg;
  __m512i a;
  if (mode == MODE_SYM) { /* acc + D < D exactly when acc < 0; then |acc| + D = 2D - (acc + D) */
    neg = _mm512_cmplt_epu32_mask(acc, k->d);
    a = _mm512_mask_sub_epi32(acc, neg, k->d2, acc);
  } else {
    neg = _mm512_movepi32_mask(acc);
    a = _mm512_add_epi32(_mm512_abs_epi32(acc), k->d);
  }
  const __m512i v = rq_core(a, k, c->idx); /* |r| + zp */
  return _mm512_mask_sub_epi32(v, neg, c->zp2, v);
}

/* Four result vectors to 64 int8: for a 64-channel block, one pixel in channel order; for
 * slices, four 16-channel pieces in the order given (dword 4i + q holds bytes 4i .. 4i + 3 of
 * piece q: the 4 x 4 dword transpose puts each piece's 16 bytes together). */
QK_INLINE __m512i narrow(const int mode, const bool sliced, const run_ctx *c, const __m512i *r) {
  __m512i v;
  if (mode == MODE_GEN) {
    v = qk_rq512_narrow(r[0], r[1], r[2], r[3], c->zp32, c->lo, c->hi);
  } else {
    v = _mm512_packs_epi16(_mm512_packs_epi32(r[0], r[1]), _mm512_packs_epi32(r[2], r[3]));
    v = _mm512_min_epi8(_mm512_max_epi8(v, c->lo), c->hi);
  }
  return sliced ? _mm512_permutexvar_epi32(c->gather_idx, v) : v;
}

/* Four rows (x ^ 0x80 already applied) of 64 channels to the dword-interleaved form. */
QK_INLINE void interleave(const __m512i r0, const __m512i r1, const __m512i r2, const __m512i r3, __m512i *t) {
  const __m512i a0 = _mm512_unpacklo_epi8(r0, r1), a1 = _mm512_unpackhi_epi8(r0, r1);
  const __m512i b0 = _mm512_unpacklo_epi8(r2, r3), b1 = _mm512_unpackhi_epi8(r2, r3);
  t[0] = _mm512_unpacklo_epi16(a0, b0);
  t[1] = _mm512_unpackhi_epi16(a0, b0);
  t[2] = _mm512_unpacklo_epi16(a1, b1);
  t[3] = _mm512_unpackhi_epi16(a1, b1);
}

/* An input row (at channel c0) or, outside the image, nothing: its taps read the zero point. */
QK_INLINE const int8_t *row_at(const run_ctx *c, long iy, size_t c0) {
  return iy < 0 || iy >= (long)c->H ? NULL : c->x + (size_t)iy * c->W * c->C + c0;
}

/* Interleaved column ix of rows rp[0..4) (NULL: outside the image), for a block of t channels
 * in nv vectors. */
QK_INLINE void column(const run_ctx *c, const bool sliced, const int8_t *const *rp, long ix, size_t t, size_t nv,
                      __m512i *v) {
  if (ix < 0 || ix >= (long)c->W) {
    for (size_t q = 0; q < nv; q++) v[q] = c->zpt;
    return;
  }
  const size_t off = (size_t)ix * c->C;
  if (!sliced) {
    const __mmask64 m = t >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << t) - 1;
    __m512i r[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
      const __m512i raw = !rp[k] ? c->zpv : t >= 64 ? _mm512_loadu_si512(rp[k] + off)
                                                    : _mm512_maskz_loadu_epi8(m, rp[k] + off);
      r[k] = _mm512_xor_si512(raw, c->flip);
    }
    interleave(r[0], r[1], r[2], r[3], v);
    return;
  }
  /* Slices: gather the 4 rows of 4 channels per 128-bit lane, then transpose their bytes. */
  if (nv == 1) {
    const __mmask16 m = t >= 16 ? (__mmask16)0xFFFF : (__mmask16)(((unsigned)1 << t) - 1);
    const __m128i z = _mm512_castsi512_si128(c->zpv);
    __m128i r[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++)
      r[k] = !rp[k] ? z : t >= 16 ? _mm_loadu_si128((const __m128i *)(const void *)(rp[k] + off))
                                   : _mm_mask_loadu_epi8(z, m, rp[k] + off);
    __m512i raw = _mm512_castsi128_si512(r[0]);
    raw = _mm512_inserti32x4(_mm512_inserti32x4(_mm512_inserti32x4(raw, r[1], 1), r[2], 2), r[3], 3);
    v[0] = _mm512_shuffle_epi8(_mm512_permutexvar_epi32(c->slice_didx, _mm512_xor_si512(raw, c->flip)), c->slice_bidx);
    return;
  }
  /* Two slices: A = rows 0 | 1 and B = rows 2 | 3 as 32-byte halves; one vpermt2d per slice. */
  const __mmask32 m = t >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << t) - 1;
  const __m256i z = _mm512_castsi512_si256(c->zpv);
  __m256i r[4];
#pragma GCC unroll 4
  for (int k = 0; k < 4; k++)
    r[k] = !rp[k] ? z : t >= 32 ? _mm256_loadu_si256((const __m256i *)(const void *)(rp[k] + off))
                                 : _mm256_mask_loadu_epi8(z, m, rp[k] + off);
  const __m512i a = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(r[0]), r[1], 1), c->flip);
  const __m512i b = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(r[2]), r[3], 1), c->flip);
  v[0] = _mm512_shuffle_epi8(_mm512_permutex2var_epi32(a, c->slice_p0, b), c->slice_bidx);
  v[1] = _mm512_shuffle_epi8(_mm512_permutex2var_epi32(a, c->slice_p1, b), c->slice_bidx);
}

/* The accumulators' start: with D for the forms that work on acc + D. */
#define BIAS_ROW(mode) ((mode) == MODE_FAST || (mode) == MODE_SYM ? R_BIAS : c->tail + T_BIAS0)

QK_INLINE __m512i dot3(__m512i acc, __m512i t0, __m512i w0, __m512i t1, __m512i w1, __m512i t2, __m512i w2) {
  acc = _mm512_dpbusd_epi32(acc, t0, w0);
  acc = _mm512_dpbusd_epi32(acc, t1, w1);
  return _mm512_dpbusd_epi32(acc, t2, w2);
}

/* A stride-1 chunk is cut in segments, one per output row pass: segment j has len[j] outputs,
 * output i of it uses buffer columns col[j] + i .. col[j] + i + 2. */
typedef struct segs {
  size_t nseg, len[CHUNK], col[CHUNK];
} segs;

/* Vector q over the chunk, its weights and constants in registers; results for the top and
 * bottom output row of output i go to rb[8 i + q] and rb[8 i + 4 + q]. */
QK_INLINE void sweep(const int mode, const run_ctx *c, const __m512i *R, int q, const segs *sg) {
  const __m512i *wt = R + R_W;
  const __m512i w0 = wt[q], w1 = wt[4 + q], w2 = wt[8 + q];
  /* Taps 0 w0 w1 w2 for the second row: the dword's bytes one place up. */
  const __m512i v0 = _mm512_slli_epi32(w0, 8), v1 = _mm512_slli_epi32(w1, 8), v2 = _mm512_slli_epi32(w2, 8);
  const __m512i bias = R[BIAS_ROW(mode) + q];
  const rq_regs k = rq_load(mode, c, R, q);
  __m512i *rb = c->rb + q;
  for (size_t j = 0; j < sg->nseg; j++) {
    const __m512i *col = c->tb + 4 * sg->col[j] + q;
    __m512i l = col[0], m = col[4];
    for (size_t i = 0; i < sg->len[j]; i++, rb += 8) {
      const __m512i r = col[4 * i + 8];
      rb[0] = rq_one(mode, c, &k, R, q, dot3(bias, l, w0, m, w1, r, w2));
      rb[4] = rq_one(mode, c, &k, R, q, dot3(bias, l, v0, m, v1, r, v2));
      l = m;
      m = r;
    }
  }
}

/* Phase 3: narrows and stores the results of n outputs (rb[8 i + 4 r + q]: output i, row r,
 * vector q) to ytop[i] and ybot[i] (NULL: past the image). */
QK_INLINE void store_results(const int mode, const int NV, const run_ctx *c, size_t n, int8_t *const *ytop,
                             int8_t *const *ybot, __mmask64 tm, size_t t) {
  const __m512i *rb = c->rb;
  if (NV == 0) {
    /* Masked 512-bit stores cost twice plain ones: only the tail block uses them. */
    for (size_t i = 0; i < n; i++) {
      const __m512i top = narrow(mode, false, c, rb + i * 8);
      if (t >= 64) _mm512_storeu_si512(ytop[i], top);
      else _mm512_mask_storeu_epi8(ytop[i], tm, top);
      if (ybot[i]) {
        const __m512i bot = narrow(mode, false, c, rb + i * 8 + 4);
        if (t >= 64) _mm512_storeu_si512(ybot[i], bot);
        else _mm512_mask_storeu_epi8(ybot[i], tm, bot);
      }
    }
    return;
  }
  /* Slices: one narrowing for 4 / NV results (pixel, row), each a piece of 16 NV bytes: a
   * pixel's two rows, and with one slice those of two pixels. */
  const size_t nv = (size_t)NV, step = nv == 2 ? 1 : 2;
  for (size_t i = 0; i < n; i += step) {
    int8_t *dst[4];
    __m512i v[4];
#pragma GCC unroll 2
    for (size_t j = 0; j < step; j++) {
      const size_t it = i + j < n ? i + j : i;
#pragma GCC unroll 2
      for (size_t r = 0; r < 2; r++) {
        const size_t slot = nv == 2 ? r : 2 * r + j;
        dst[slot] = i + j < n ? (r ? ybot[it] : ytop[it]) : NULL;
#pragma GCC unroll 2
        for (size_t q = 0; q < nv; q++) v[slot * nv + q] = rb[it * 8 + r * 4 + q];
      }
    }
    const __m512i out = narrow(mode, true, c, v);
    /* Piece u is bytes [16 NV u, 16 NV (u + 1)); each goes out with its own width. */
    if (nv == 2) {
      if (dst[0]) _mm256_mask_storeu_epi8(dst[0], (__mmask32)tm, _mm512_castsi512_si256(out));
      if (dst[1]) _mm256_mask_storeu_epi8(dst[1], (__mmask32)tm, _mm512_extracti64x4_epi64(out, 1));
    } else {
      if (dst[0]) _mm_mask_storeu_epi8(dst[0], (__mmask16)tm, _mm512_castsi512_si128(out));
      if (dst[1]) _mm_mask_storeu_epi8(dst[1], (__mmask16)tm, _mm512_extracti32x4_epi32(out, 1));
      if (dst[2]) _mm_mask_storeu_epi8(dst[2], (__mmask16)tm, _mm512_extracti32x4_epi32(out, 2));
      if (dst[3]) _mm_mask_storeu_epi8(dst[3], (__mmask16)tm, _mm512_extracti32x4_epi32(out, 3));
    }
  }
}

/* 3x3 stride 1 for one block: passes of two output rows, chunks of up to CHUNK outputs in
 * raster order of (pass, ox). */
QK_INLINE void block_s1(const int mode, const int NV, const run_ctx *c, const pk_blk *bi, const __m512i *R) {
  const bool sliced = NV > 0;
  const size_t c0 = bi->c0, t = bi->t, nv = sliced ? (size_t)NV : 4, O = c->C, OW = c->OW;
  const size_t total = (c->OH + 1) / 2 * OW;
  const __mmask64 tm = t >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << t) - 1;
  segs sg;
  int8_t *ytop[CHUNK], *ybot[CHUNK]; /* each output's store address per row; NULL past the image */
  size_t pass = 0, ox0 = 0;          /* where the next chunk starts */
  for (size_t it0 = 0; it0 < total; it0 += CHUNK) {
    const size_t n = total - it0 < CHUNK ? total - it0 : CHUNK;
    size_t col = 0, done = 0;
    sg.nseg = 0;
    while (done < n) { /* one segment per pass */
      const size_t len = OW - ox0 < n - done ? OW - ox0 : n - done, oy = 2 * pass;
      const int8_t *rp[4];
      for (int k = 0; k < 4; k++) rp[k] = row_at(c, (long)oy - c->pt + k, c0);
      const long ix0 = (long)ox0 - c->pl;
      for (size_t k = 0; k < len + 2; k++) column(c, sliced, rp, ix0 + (long)k, t, nv, c->tb + 4 * (col + k));
      sg.len[sg.nseg] = len;
      sg.col[sg.nseg++] = col;
      for (size_t i = 0; i < len; i++) {
        ytop[done + i] = c->y + (oy * OW + ox0 + i) * O + c0;
        ybot[done + i] = oy + 1 < c->OH ? ytop[done + i] + OW * O : NULL;
      }
      col += len + 2;
      done += len;
      ox0 += len;
      if (ox0 == OW) {
        ox0 = 0;
        pass++;
      }
    }
    for (size_t q = 0; q < nv; q++) sweep(mode, c, R, (int)q, &sg);
    store_results(mode, NV, c, n, ytop, ybot, tm, t);
  }
}

/* Stride 2 along one vertical strip of outputs [ox0, ox0 + n): for each pass p (output rows 2p,
 * 2p + 1), the strip's columns of A(p + 1) are interleaved into the buffer A(p) no longer needs
 * after this pass; results go to rb as in stride 1. */
QK_INLINE void sweep_s2(const int mode, const run_ctx *c, const __m512i *R, int q, size_t n, const __m512i *ta,
                        const __m512i *tn, bool two) {
  const __m512i *w = R + R_W;
  const __m512i w0 = w[q], w1 = w[4 + q], w2 = w[8 + q];
  /* Taps 0 0 w0 w1 and w2 0 0 0: the dword's bytes two places up and down (byte 3 is 0). */
  const __m512i u0 = _mm512_slli_epi32(w0, 16), u1 = _mm512_slli_epi32(w1, 16), u2 = _mm512_slli_epi32(w2, 16);
  const __m512i z0 = _mm512_srli_epi32(w0, 16), z1 = _mm512_srli_epi32(w1, 16), z2 = _mm512_srli_epi32(w2, 16);
  const __m512i bias = R[BIAS_ROW(mode) + q];
  const rq_regs k = rq_load(mode, c, R, q);
  __m512i *rb = c->rb + q;
  __m512i l = ta[q], ln = tn[q];
  for (size_t i = 0; i < n; i++, rb += 8) {
    const __m512i m = ta[(2 * i + 1) * 4 + q], r = ta[(2 * i + 2) * 4 + q];
    rb[0] = rq_one(mode, c, &k, R, q, dot3(bias, l, w0, m, w1, r, w2));
    if (two) {
      const __m512i mn = tn[(2 * i + 1) * 4 + q], rn = tn[(2 * i + 2) * 4 + q];
      const __m512i acc = dot3(dot3(bias, l, u0, m, u1, r, u2), ln, z0, mn, z1, rn, z2);
      rb[4] = rq_one(mode, c, &k, R, q, acc);
      ln = rn;
    }
    l = r;
  }
}

QK_INLINE void block_s2(const int mode, const int NV, const run_ctx *c, const pk_blk *bi, const __m512i *R) {
  const bool sliced = NV > 0;
  const size_t c0 = bi->c0, t = bi->t, nv = sliced ? (size_t)NV : 4, O = c->C, OW = c->OW, OH = c->OH;
  const __mmask64 tm = t >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << t) - 1;
  __m512i *buf[2] = {c->tb, c->tb + 4 * (2 * STRIP + 1)};
  int8_t *ytop[STRIP], *ybot[STRIP];
  for (size_t ox0 = 0; ox0 < OW; ox0 += STRIP) {
    const size_t n = OW - ox0 < STRIP ? OW - ox0 : STRIP, ncol = 2 * n + 1;
    const long ix0 = 2 * (long)ox0 - c->pl;
    /* Interleaved strip columns of the group of input rows starting at iy. */
    #define QK_S2_GROUP(dst, iy)                                                                \
      do {                                                                                    \
        const int8_t *rp[4];                                                                  \
        for (int k_ = 0; k_ < 4; k_++) rp[k_] = row_at(c, (iy) + k_, c0);                     \
        for (size_t k_ = 0; k_ < ncol; k_++) column(c, sliced, rp, ix0 + (long)k_, t, nv, (dst) + 4 * k_); \
      } while (0)
    QK_S2_GROUP(buf[0], -c->pt);
    for (size_t p = 0, cur = 0; 2 * p < OH; p++, cur ^= 1) {
      const bool two = 2 * p + 1 < OH;
      if (two) QK_S2_GROUP(buf[cur ^ 1], 4 * (long)p + 4 - c->pt);
      for (size_t q = 0; q < nv; q++) sweep_s2(mode, c, R, (int)q, n, buf[cur], buf[cur ^ 1], two);
      for (size_t i = 0; i < n; i++) {
        ytop[i] = c->y + (2 * p * OW + ox0 + i) * O + c0;
        ybot[i] = two ? ytop[i] + OW * O : NULL;
      }
      store_results(mode, NV, c, n, ytop, ybot, tm, t);
    }
    #undef QK_S2_GROUP
  }
}

/* Any kernel, stride and dilation: per output pixel, kernel column by kernel column, 4 kernel
 * rows per vpdpbusd. */
QK_INLINE void generic(const int mode, const bool sliced, const run_ctx *c, const pk_blk *bi, const __m512i *R) {
  const size_t c0 = bi->c0, t = bi->t, nv = bi->nv, O = c->C;
  const __mmask64 tm = t >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << t) - 1;
  for (size_t oy = 0; oy < c->OH; oy++)
    for (size_t ox = 0; ox < c->OW; ox++) {
      __m512i acc[4];
      for (size_t q = 0; q < nv; q++) acc[q] = R[BIAS_ROW(mode) + q];
      for (size_t kx = 0; kx < c->KW; kx++) {
        const long ix = (long)(ox * c->sw) - c->pl + (long)(kx * c->dw);
        for (size_t g = 0; g < c->ng; g++) {
          const __m512i *wg = R + R_W + (kx * c->ng + g) * 4;
          const int8_t *rp[4];
          for (size_t j = 0; j < 4; j++) {
            const size_t ky = 4 * g + j;
            rp[j] = ky < c->KH ? row_at(c, (long)(oy * c->sh) - c->pt + (long)(ky * c->dh), c0) : NULL;
          }
          __m512i v[4];
          column(c, sliced, rp, ix, t, nv, v);
          for (size_t q = 0; q < nv; q++) acc[q] = _mm512_dpbusd_epi32(acc[q], v[q], wg[q]);
        }
      }
      __m512i r[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
      for (size_t q = 0; q < nv; q++) {
        const rq_regs k = rq_load(mode, c, R, (int)q);
        r[q] = rq_one(mode, c, &k, R, (int)q, acc[q]);
      }
      _mm512_mask_storeu_epi8(c->y + (oy * c->OW + ox) * O + c0, tm, narrow(mode, sliced, c, r));
    }
}

/* Cold weights: every block's fast-form rows are requested at the start, so they arrive in
 * parallel rather than one block's worth per stall (measured 20 -> 12 us on 7x7x960 with the
 * weights flushed from the caches). */
static void prefetch_block(const uint8_t *blk, size_t nw) {
  for (size_t r = 0; r < nw; r++) _mm_prefetch((const char *)(blk + r * 64), _MM_HINT_T0);
}

typedef void (*blk_fn)(const run_ctx *, const pk_blk *, const __m512i *);
#define QK_BLK_FNS(m)                                                                                          \
  static void s1_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { block_s1(m, 0, c, b, R); }         \
  static void s1a_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { block_s1(m, 1, c, b, R); }        \
  static void s1b_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { block_s1(m, 2, c, b, R); }        \
  static void s2_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { block_s2(m, 0, c, b, R); }         \
  static void s2a_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { block_s2(m, 1, c, b, R); }        \
  static void s2b_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { block_s2(m, 2, c, b, R); }        \
  static void gen_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { generic(m, false, c, b, R); }       \
  static void gens_##m(const run_ctx *c, const pk_blk *b, const __m512i *R) { generic(m, true, c, b, R); }
QK_BLK_FNS(MODE_FAST)
QK_BLK_FNS(MODE_RELU0)
QK_BLK_FNS(MODE_SYM)
QK_BLK_FNS(MODE_SYM0)
QK_BLK_FNS(MODE_GEN)

#define QK_KIND(k) {k##_MODE_FAST, k##_MODE_RELU0, k##_MODE_SYM, k##_MODE_SYM0, k##_MODE_GEN}
/* [kind][mode]: 3x3 stride 1, stride 2 (each for 64-channel blocks, 1 and 2 slices), any other
 * geometry (blocks, slices). */
static const blk_fn blk_fns[8][MODE_COUNT] = {QK_KIND(s1), QK_KIND(s1a), QK_KIND(s1b), QK_KIND(s2),
                                               QK_KIND(s2a), QK_KIND(s2b), QK_KIND(gen), QK_KIND(gens)};

void QK_NAME(_run)(const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g, const void *packed, const int8_t *x,
                   int8_t *y, void *workspace) {
  const pk_head *h = packed;
  const pk_blk *bi = (const pk_blk *)((const uint8_t *)packed + 64);
  const uint8_t *base = (const uint8_t *)packed + 64 + h->nblk * 64;
  const size_t O = d->out_ch, M = d->depth_multiplier;
  int8_t *ws = workspace;
  size_t C = d->in_ch;
  if (M > 1) { /* channel ic becomes channels ic M .. ic M + M - 1 */
    int8_t *xe = ws + WS_TB + WS_RB;
    const size_t pixels = d->batch * d->in_h * d->in_w;
    for (size_t p = 0; p < pixels; p++)
      for (size_t ic = 0; ic < C; ic++) memset(xe + p * O + ic * M, x[p * C + ic], M);
    x = xe;
    C = O;
  }
  /* Slices: row k of channels 4m .. 4m + 3 is dword 4k + m; vpermd makes it dword 4m + k (lane m
   * holds the 4 rows of its 4 channels), vpshufb then turns byte 4k + j of a lane into 4j + k.
   * Their narrowing leaves channels 16q + 4i .. + 3 in dword 4i + q: the same 4 x 4 transpose. */
  int8_t bidx[64];
  int32_t didx[16];
  for (int l = 0; l < 4; l++)
    for (int j = 0; j < 4; j++)
      for (int k = 0; k < 4; k++) bidx[16 * l + 4 * j + k] = (int8_t)(4 * k + j);
  for (int m = 0; m < 4; m++)
    for (int k = 0; k < 4; k++) didx[4 * m + k] = 4 * k + m;
  /* Two slices from A = rows 0 | 1 and B = rows 2 | 3 (32 bytes each): row k's dword m of slice
   * s sits in A (k < 2) or B at dword 8 (k % 2) + 4 s + m; vpermt2d indexes B from 16. */
  int32_t p0[16], p1[16];
  for (int m = 0; m < 4; m++)
    for (int k = 0; k < 4; k++) {
      p0[4 * m + k] = (k >= 2 ? 16 : 0) + 8 * (k % 2) + m;
      p1[4 * m + k] = (k >= 2 ? 16 : 0) + 8 * (k % 2) + 4 + m;
    }
  run_ctx c = {
      .tb = (__m512i *)(void *)ws, .rb = (__m512i *)(void *)(ws + WS_TB),
      .H = d->in_h, .W = d->in_w, .C = C, .OH = g->out_h, .OW = g->out_w, .KH = d->k_h,
      .KW = d->k_w, .ng = h->ng, .tail = tail_row(d->k_h, d->k_w), .sh = d->stride_h, .sw = d->stride_w, .dh = d->dilation_h,
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
      .slice_didx = _mm512_loadu_si512(didx),
      .slice_bidx = _mm512_loadu_si512(bidx),
      .slice_p0 = _mm512_loadu_si512(p0),
      .slice_p1 = _mm512_loadu_si512(p1),
      .gather_idx = _mm512_loadu_si512(didx),
      .zpd = _mm512_set1_pd((double)d->output_zp),
  };
  const bool is3 = d->k_h == 3 && d->k_w == 3 && d->dilation_h == 1 && d->dilation_w == 1;
  const int kind = is3 && d->stride_h == 1 && d->stride_w == 1   ? 0
                   : is3 && d->stride_h == 2 && d->stride_w == 2 ? 3
                                                                 : 6;
  const bool relu = d->act_min >= d->output_zp;
  const size_t nw = c.tail; /* rows the fast form reads */
  for (size_t k = 0; k < h->nblk; k++) prefetch_block(base + k * h->rows * 64, nw);
  for (size_t b = 0; b < d->batch; b++) {
    c.x = x + b * d->in_h * d->in_w * C;
    c.y = y + b * g->out_h * g->out_w * O;
    for (size_t k = 0; k < h->nblk; k++) {
      const pk_blk *info = &bi[k];
      /* Double rounding needs the sign of acc unless the clamp hides results <= 0. */
      const int mode = info->fast_ok && (c.single || relu) ? MODE_FAST
                       : info->relu0_ok && relu             ? MODE_RELU0
                       : info->sym_ok && !c.single          ? MODE_SYM
                       : info->sym0_ok                      ? MODE_SYM0
                                                            : MODE_GEN;
      const int sub = !info->sliced ? 0 : kind == 6 ? 1 : (int)info->nv;
      blk_fns[kind + sub][mode](&c, info, (const __m512i *)(base + k * h->rows * 64));
    }
  }
}
