/* int8 fully connected, AVX-512 VNNI: tiles of 6 rows x 64 channels, K packed by 4 for vpdpbusd.
 * Exact with qk_ref_fc_int8. vpdpbusd multiplies u8 by s8, so activations are turned into u8 by
 * x ^ 0x80 (= x + 128) and the pack folds bias[o] - (zp_in + 128) * sum_k w[o,k] into the
 * accumulators' initial value; every sum wraps in 32 bits like the reference's.
 *
 * Requantization: per block, the one-FMA form of requant_fma.h where the pack proves it exact
 * (the pack takes the rounding, zero points and clamp from the descriptor), else requant.h; for
 * small K the epilogue, not the multiply-adds, is most of the work.
 *
 * Packed buffer: one block per 64 channels; the last block holds only the nv = ceil(rest / 16)
 * vectors it needs, so small N wastes no lanes. Block: [header 64 B (requant mode) | bias + D
 * nv x 64 B | bias nv x 64 B | requant nv x QK_RQ512_BYTES | FMA requant nv x QK_FQ512_BYTES |
 * weights: Kp/4 groups x nv x 64 B], Kp = K rounded up to 4, zero padded.
 * Narrow blocks use 12-row tiles so a tile still has >= 12 independent accumulators. */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "qk/fc.h"
#include "internal.h"
#include "variants.h"
#include "requant.h"
#include "requant_fma.h"

#define QK_NAME(s) qk_int8_fc_6x64c4__avx512vnni##s

enum { MR = 6, NR = 64, MP = 12 /* rows per converted panel */ };
/* Panel row length: MP x KC bytes on the stack. Longer rows run in chunks of KC with partial
 * accumulators kept in a small stack buffer; re-converting per block costs 1/64 of the MACs. */
enum { KC = 2048 };
/* Weight prefetch distance for the tiles that stream the weights from memory: those of 1-2 rows
 * and those of the first panel, which meet every block first. */
enum { PF_BYTES = 2048 };

#define QK_INLINE static inline __attribute__((always_inline))

/* Offsets inside a block of nv vectors. */
static size_t off_bias(void) { return 64; }
static size_t off_bias0(size_t nv) { return 64 + nv * 64; }
static size_t off_rq(size_t nv) { return 64 + nv * 128; }
static size_t off_fq(size_t nv) { return off_rq(nv) + nv * QK_RQ512_BYTES; }
static size_t off_w(size_t nv) { return off_fq(nv) + nv * QK_FQ512_BYTES; }
static size_t block_bytes(size_t nv, size_t k) { return off_w(nv) + qk_round_up(k, 4) * 16 * nv; }

/* Requantization of a block: requant.h's single rounding, double, double with left shifts; or
 * requant_fma.h's FAST, SYM (both start from bias + D) and SYM0 (from the bias). */
enum { RQ_SINGLE, RQ_DOUBLE, RQ_DOUBLE_LS, RQ_FAST, RQ_SYM, RQ_SYM0 };
static size_t last_nv(size_t n) { return (n - (n - 1) / NR * NR + 15) / 16; }

size_t QK_NAME(_packed_size)(size_t n, size_t k) {
  return (n - 1) / NR * block_bytes(4, k) + block_bytes(last_nv(n), k);
}

void QK_NAME(_pack)(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed) {
  const size_t N = d->out_ch, K = d->in_ch, groups = qk_round_up(K, 4) / 4;
  const bool single = d->rounding == QK_ROUND_SINGLE, relu = d->act_min >= d->output_zp;
  const int64_t xlo = -128 - d->input_zp, xhi = 127 - d->input_zp;
  uint8_t *blk = packed;
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    const size_t nv = N - n0 >= NR ? 4 : last_nv(N);
    int32_t *b = (int32_t *)(blk + off_bias()), *b0 = (int32_t *)(blk + off_bias0(nv));
    int8_t *wp = (int8_t *)(blk + off_w(nv));
    bool fast = true, sym = true, sym0 = true;
    for (size_t j = 0; j < nv; j++) {
      int32_t m[16], sh[16];
      uint8_t *fq = blk + off_fq(nv) + j * QK_FQ512_BYTES;
      memset(fq, 0, QK_FQ512_BYTES);
      for (int l = 0; l < 16; l++) {
        const size_t o = n0 + (size_t)qk_rq512_channel((int)nv, (int)j, l);
        uint32_t sum = 0;
        int64_t lo = 0, hi = 0;
        for (size_t g = 0; g < groups; g++)
          for (size_t q = 0; q < 4; q++) {
            const size_t k = 4 * g + q;
            const int8_t v = o < N && k < K ? w[o * K + k] : 0;
            wp[(g * nv + j) * 64 + (size_t)l * 4 + q] = v;
            sum += (uint32_t)(int32_t)v;
            lo += v > 0 ? v * xlo : v * xhi;
            hi += v > 0 ? v * xhi : v * xlo;
          }
        const int32_t bv = o < N && bias ? bias[o] : 0;
        m[l] = o < N ? d->multiplier[o] : 0;
        sh[l] = o < N ? d->shift[o] : 0;
        const qk_fq_lane f = qk_fq_lane_constants(m[l], sh[l], d->rounding, lo + bv, hi + bv, d->output_zp);
        fast &= f.fast;
        sym &= f.sym;
        sym0 &= f.sym0;
        qk_fq_put(fq, l, &f);
        b0[j * 16 + (size_t)l] = (int32_t)((uint32_t)bv - (uint32_t)(d->input_zp + 128) * sum);
        b[j * 16 + (size_t)l] = (int32_t)((uint32_t)b0[j * 16 + (size_t)l] + f.d);
      }
      qk_rq512_prepare((int32_t *)(blk + off_rq(nv) + j * QK_RQ512_BYTES), m, sh, d->rounding);
    }
    const int32_t mode = fast && (single || relu) ? RQ_FAST
                         : sym && !single         ? RQ_SYM
                         : sym0                   ? RQ_SYM0
                         : single                 ? RQ_SINGLE
                         : qk_rq512_any_left_shift(blk + off_rq(nv), nv) ? RQ_DOUBLE_LS : RQ_DOUBLE;
    memset(blk, 0, 64);
    memcpy(blk, &mode, sizeof mode);
    blk += block_bytes(nv, K);
  }
}

/* x ^ 0x80 for `rows` rows of `len` bytes (stride ldx) into the panel (stride lda, a multiple of
 * 64 >= len): masked loads never touch a byte past a row; the panel's tail gets harmless 0x80s
 * (their weights are zero). */
static void convert(size_t rows, const int8_t *x, size_t ldx, size_t len, uint8_t *panel, size_t lda) {
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  for (size_t r = 0; r < rows; r++)
    for (size_t k = 0; k < len; k += 64) {
      const size_t left = len - k;
      const __mmask64 mask = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
      const __m512i v = _mm512_maskz_loadu_epi8(mask, x + r * ldx + k);
      _mm512_store_si512(panel + r * lda + k, _mm512_xor_si512(v, flip));
    }
}

typedef struct run_ctx {
  __m512i zp, zp2, lo, hi;
} run_ctx;

typedef struct tile_args {
  const uint8_t *a; /* converted rows, stride lda */
  size_t lda, groups;
  const __m512i *w;     /* weights of these groups: nv vectors per group */
  const int32_t *init;  /* row r, vector j starts from init[r * init_stride + 16 j] */
  size_t init_stride;   /* 0: the packed bias, shared by all rows */
  const uint8_t *rq;    /* requant constants; NULL: store raw accumulators to part */
  const uint8_t *fq;    /* FMA requant constants */
  int rq_mode;
  int32_t *part;        /* [mr][nv][16] */
  int8_t *y;
  size_t ldy;
  __mmask64 smask; /* valid output bytes of the block */
  bool pf;         /* prefetch the weights ahead */
} tile_args;

/* Requantizes and stores the mr x nv accumulators; mode is a constant in each copy. */
QK_INLINE void epilogue(const size_t mr, const size_t nv, const int mode, const run_ctx *c,
                        const tile_args *t, __m512i acc[][4]) {
  if (mode >= RQ_FAST) {
    /* A vector at a time down the rows: its 8 constants stay in registers (per row they were
     * most of the loads), the accumulators make the round trip through the stack instead. */
#pragma GCC unroll 4
    for (size_t j = 0; j < nv; j++) {
      const qk_fq_regs k = qk_fq_load(t->fq + j * QK_FQ512_BYTES);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
        acc[r][j] = mode == RQ_FAST  ? qk_fq_core(acc[r][j], &k)
                    : mode == RQ_SYM ? qk_fq_sym(acc[r][j], &k, c->zp2)
                                     : qk_fq_sym0(acc[r][j], &k, c->zp2);
    }
  }
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++) {
    __m512i v[4];
    if (mode >= RQ_FAST) {
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) v[j] = acc[r][j];
    } else {
      const uint8_t *rq = t->rq;
      /* Keeps the constants as memory operands: hoisted out of the row loop, GCC spills them. */
      __asm__("" : "+r"(rq));
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++)
        v[j] = mode == RQ_SINGLE   ? qk_rq512_single(acc[r][j], rq + j * QK_RQ512_BYTES)
               : mode == RQ_DOUBLE ? qk_rq512_double(acc[r][j], rq + j * QK_RQ512_BYTES, false)
                                   : qk_rq512_double(acc[r][j], rq + j * QK_RQ512_BYTES, true);
    }
    /* Missing vectors repeat present ones; qk_rq512_gather drops their bytes. The FMA forms
     * already include the output zero point. */
    const __m512i v1 = v[nv > 1], v2 = v[nv > 2 ? 2 : 0], v3 = v[nv > 3 ? 3 : nv > 1];
    __m512i out = mode >= RQ_FAST ? qk_rq512_pack8(v[0], v1, v2, v3, c->lo, c->hi)
                                  : qk_rq512_narrow(v[0], v1, v2, v3, c->zp, c->lo, c->hi);
    if (nv < 4) out = qk_rq512_gather(out, (int)nv);
    _mm512_mask_storeu_epi8(t->y + r * t->ldy, t->smask, out);
  }
}

QK_INLINE void tile(const size_t mr, const size_t nv, const run_ctx *c, const tile_args *t) {
  __m512i acc[MP][4];
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
    for (size_t j = 0; j < nv; j++)
      acc[r][j] = _mm512_loadu_si512(t->init + r * t->init_stride + 16 * j);
  const uint8_t *a = t->a;
  const size_t lda = t->lda;
  const __m512i *w = t->w;
  size_t g = t->groups;
  if (mr == 1) {
    /* One row has only nv dependency chains: split K over 4 sets to cover vpdpbusd latency. */
    __m512i more[3][4];
#pragma GCC unroll 3
    for (int s = 0; s < 3; s++)
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) more[s][j] = _mm512_setzero_si512();
    for (; g >= 4; g -= 4, w += 4 * nv, a += 16) {
#pragma GCC unroll 4
      for (size_t off = 0; off < 4 * nv * sizeof *w; off += 64)
        _mm_prefetch((const char *)w + PF_BYTES + off, _MM_HINT_T0);
      int32_t a4[4];
      memcpy(a4, a, 16);
#pragma GCC unroll 4
      for (size_t s = 0; s < 4; s++) {
        const __m512i b = _mm512_set1_epi32(a4[s]);
#pragma GCC unroll 4
        for (size_t j = 0; j < nv; j++) {
          __m512i *d = s ? &more[s - 1][j] : &acc[0][j];
          *d = _mm512_dpbusd_epi32(*d, b, _mm512_load_si512(w + s * nv + j));
        }
      }
    }
#pragma GCC unroll 4
    for (size_t j = 0; j < nv; j++)
      acc[0][j] = _mm512_add_epi32(_mm512_add_epi32(acc[0][j], more[0][j]),
                            _mm512_add_epi32(more[1][j], more[2][j]));
  }
  for (; g; g--, w += nv, a += 4) {
    if (mr <= 2 || t->pf)
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) _mm_prefetch((const char *)(w + j) + PF_BYTES, _MM_HINT_T0);
    __m512i wv[4];
#pragma GCC unroll 4
    for (size_t j = 0; j < nv; j++) wv[j] = _mm512_load_si512(w + j);
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++) {
      int32_t a4;
      memcpy(&a4, a + r * lda, 4);
      const __m512i b = _mm512_set1_epi32(a4);
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], b, wv[j]);
    }
  }
  if (!t->rq) {
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
      for (size_t j = 0; j < nv; j++) _mm512_storeu_si512(t->part + (r * nv + j) * 16, acc[r][j]);
    return;
  }
  switch (t->rq_mode) {
  case RQ_FAST: epilogue(mr, nv, RQ_FAST, c, t, acc); break;
  case RQ_SYM: epilogue(mr, nv, RQ_SYM, c, t, acc); break;
  case RQ_SYM0: epilogue(mr, nv, RQ_SYM0, c, t, acc); break;
  case RQ_DOUBLE: epilogue(mr, nv, RQ_DOUBLE, c, t, acc); break;
  case RQ_SINGLE: epilogue(mr, nv, RQ_SINGLE, c, t, acc); break;
  default: epilogue(mr, nv, RQ_DOUBLE_LS, c, t, acc); break;
  }
}

typedef void (*tile_fn)(const run_ctx *, const tile_args *);
#define QK_TILE(mr, nv) \
  static void tile_##mr##x##nv(const run_ctx *c, const tile_args *t) { tile(mr, nv, c, t); }
#define QK_TILES(mr) QK_TILE(mr, 1) QK_TILE(mr, 2) QK_TILE(mr, 3) QK_TILE(mr, 4)
QK_TILES(1)
QK_TILES(2)
QK_TILES(3)
QK_TILES(4)
QK_TILES(5)
QK_TILES(6)
QK_TILE(12, 1)
QK_TILE(12, 2)
#define QK_ROW(mr) {tile_##mr##x1, tile_##mr##x2, tile_##mr##x3, tile_##mr##x4}
static const tile_fn tiles[MR + 1][4] = {
    {NULL, NULL, NULL, NULL}, QK_ROW(1), QK_ROW(2), QK_ROW(3), QK_ROW(4), QK_ROW(5), QK_ROW(6)};

/* One block for the mr rows of a panel: 12-row tiles where they fit in registers, else 6. */
static void block(const run_ctx *c, const tile_args *t, size_t mr, size_t nv) {
  if (mr == MP && nv <= 2) {
    (nv == 1 ? tile_12x1 : tile_12x2)(c, t);
    return;
  }
  tile_args s = *t;
  for (size_t r = 0; r < mr; r += MR) {
    const size_t n = mr - r < MR ? mr - r : MR;
    s.a = t->a + r * t->lda;
    s.y = t->y + r * t->ldy;
    tiles[n][nv - 1](c, &s);
  }
}

void QK_NAME(_run)(const qk_fc_int8_desc *d, const void *packed, size_t batch, const int8_t *x,
                   int8_t *y) {
  const run_ctx c = {
      .zp = _mm512_set1_epi32(d->output_zp),
      .zp2 = _mm512_set1_epi32(2 * d->output_zp),
      .lo = _mm512_set1_epi8((char)d->act_min),
      .hi = _mm512_set1_epi8((char)d->act_max),
  };
  const size_t K = d->in_ch, N = d->out_ch, groups = qk_round_up(K, 4) / 4;
  _Alignas(64) uint8_t panel[MP * KC];
  const size_t lda = K > KC ? KC : qk_round_up(K, 64);
  for (size_t m = 0; m < batch; m += MP) {
    const size_t mr = batch - m < MP ? batch - m : MP;
    const int8_t *xm = x + m * K;
    if (K <= KC) convert(mr, xm, K, K, panel, lda);
    const uint8_t *blk = packed;
    for (size_t n0 = 0; n0 < N; n0 += NR) {
      const size_t nv = N - n0 >= NR ? 4 : last_nv(N), left = N - n0;
      int32_t mode;
      memcpy(&mode, blk, sizeof mode);
      tile_args t = {
          .a = panel, .lda = lda, .groups = groups,
          .w = (const __m512i *)(blk + off_w(nv)),
          .init = (const int32_t *)(blk + (mode == RQ_FAST || mode == RQ_SYM ? off_bias() : off_bias0(nv))),
          .init_stride = 0,
          .rq = blk + off_rq(nv), .fq = blk + off_fq(nv), .part = NULL, .rq_mode = mode,
          .y = y + m * N + n0, .ldy = N,
          .smask = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1),
          .pf = m == 0,
      };
      if (K <= KC) {
        block(&c, &t, mr, nv);
      } else {
        /* Rows of MR at a time so the partial sums fit a small stack buffer. */
        _Alignas(64) int32_t part[MR * 4 * 16];
        for (size_t r = 0; r < mr; r += MR) {
          const size_t n = mr - r < MR ? mr - r : MR;
          tile_args s = t;
          s.y = t.y + r * N;
          for (size_t g0 = 0; g0 < groups; g0 += KC / 4) {
            const size_t len = K - 4 * g0 < KC ? K - 4 * g0 : KC;
            convert(n, xm + r * K + 4 * g0, K, len, panel, lda);
            s.groups = (len + 3) / 4;
            s.w = t.w + g0 * nv;
            if (g0) {
              s.init = part;
              s.init_stride = nv * 16;
            }
            s.rq = g0 + KC / 4 >= groups ? t.rq : NULL;
            s.part = part;
            tiles[n][nv - 1](&c, &s);
          }
        }
      }
      blk += block_bytes(nv, K);
    }
  }
}
