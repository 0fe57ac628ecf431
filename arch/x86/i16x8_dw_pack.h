/* Packed weights and requantization constants of the x86 16x8 DepthwiseConv2D variants
 * (qk_i16x8_dwconv2d_<VL>c__<isa>), shared by the SSE4.1 (VL = 8), AVX2 (16) and AVX-512 (32)
 * files, which differ in vector width, in how a 64-bit lane is shifted and, for AVX-512, in two
 * faster forms (an FMA requantization and paired taps for 3x3 stride 1, both below).
 *
 * Work unit: a group = VL consecutive input channels [cs, cs + VL) and one depth-multiplier index
 * m, producing output channels (cs + i) * M + m. Blocks start at 0, VL, 2VL, ...; the last one ends
 * at C when C >= VL (it overlaps the one before and recomputes identical outputs), so no load leaves
 * a pixel. When C < VL the single block has C valid lanes. Group index = block * M + m.
 *
 * Products: x (int16) times w (int8, widened to int16) with pmaddwd / vpdpwssd, which multiply
 * int16 pairs. Lane pairs (2j, 2j+1) of x share a dword, so each tap has two weight vectors: w_e
 * holds w in even words and 0 in odd ones, w_o the reverse. madd(x, w_e) gives in dword j the
 * product of lane 2j alone, madd(x, w_o) that of lane 2j+1: two exact int32 products per dword
 * and no shuffle of x. Per tap |x * w| <= 32768 * 128 = 2^22, so an int32 sum of up to 511 taps
 * (511 * 2^22 < 2^31) is exact; longer kernels are summed in chunks widened to int64.
 *
 * Requantization (SPEC.md §1.5, qk_mbqm64): out = int32((acc + bias) * rm + 2^(t-1)) >> t) with
 * rm the 15-bit reduced multiplier (< 2^15) and t = 15 - shift in [8, 46]. Per channel
 *   B' = bias * rm + 2^(t-1)  (|bias| <= 2^40: |B'| < 2^56),  B' = Bh * 2^t + Bl, 0 <= Bl < 2^t,
 * so  floor((acc*rm + B') / 2^t) = Bh + floor((acc*rm + Bl) / 2^t), and only its low 32 bits
 * matter (the reference truncates to int32): Bh enters as an int32 add (mod 2^32) after the shift.
 * P = acc*rm + Bl is a 64-bit product of two dword lanes (pmuldq): |acc*rm| < 2^31 * 2^15.
 * Three ways to shift P by a per-lane t, chosen by the variant:
 *   QK_DW16_SRAV    (AVX-512) vpsravq: exact arithmetic shift.
 *   QK_DW16_SRLV    (AVX2) vpsrlvq is logical: Bl carries + 2^62 so P > 0, and the result's excess
 *                   2^(62-t) is taken off Bh (mod 2^32).
 *   QK_DW16_UNIFORM (SSE4.1, no per-lane shifts): one count T >= max t for the group (32 when
 *                   possible); each lane is scaled, rm' = rm << (T-t), Bl' = Bl << (T-t), which
 *                   keeps the floor exact (|P| < 2^62).
 *                   rm' must stay below 2^31 for pmuldq, so T - t <= 16; a group whose shifts
 *                   spread wider is flagged and requantized lane by lane with qk_mbqm64.
 * Lane order: dword j of the even accumulator is lane 2j, of the odd one lane 2j+1. pmuldq reads
 * the even dwords, so the products come in four sets; in 128-bit lane L, 64-bit lane q, set k
 * holds channel 8L + 4q + {0, 2, 1, 3}[k]. shufps then gathers the low dwords of sets (0, 2) into
 * A = lanes 8L + {0, 4, 1, 5} and of sets (1, 3) into B = 8L + {2, 6, 3, 7}; packssdw(A, B) and one
 * pshufb restore channel order. Saturating to int16 before the clamp is exact because the clamp
 * lies inside int16.
 *
 * Packed buffer (64-byte aligned): groups one after the other, each
 *   hdr  int32[16]           [0] = T (uniform mode), [1] = 1 if the group needs the scalar path,
 *                            [2] = 1 if the FMA requantization applies (SRAV mode)
 *   RM   int64[4][VL/4]      multiplier per set (low dword)
 *   BL   int64[4][VL/4]      Bl per set (with the mode's adjustments)
 *   TS   int64[4][VL/4]      shift count per set (per-lane modes)
 *   BH   int32[2][VL/2]      Bh for A and B (mod 2^32)
 *   FB, FM, FC               SRAV mode only: the FMA requantization (qk_dw16_pack_fma)
 *   W    int16[taps][2][VL]  w_e, w_o per tap, taps in filter order ky * k_w + kx
 *   pairs                    SRAV mode, 3x3 only: paired taps (qk_dw16_pack_pairs)
 * then bias int64[O], multiplier int32[O], shift int32[O] for the scalar paths. */
#ifndef QK_X86_I16X8_DW_PACK_H
#define QK_X86_I16X8_DW_PACK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qk/conv.h"
#include "qk/quant.h"

typedef enum qk_dw16_mode { QK_DW16_SRAV, QK_DW16_SRLV, QK_DW16_UNIFORM } qk_dw16_mode;

/* Longest run of taps whose int32 sum cannot overflow: 511 * 2^22 < 2^31 <= 512 * 2^22. */
#define QK_DW16_MAX_TAPS32 511u
/* Chunk length of the widening path (any value <= QK_DW16_MAX_TAPS32). */
#define QK_DW16_CHUNK 256u

enum { QK_DW16_HDR = 64 };

static inline size_t qk_dw16_taps(const qk_conv2d_int8_desc *d) { return d->k_h * d->k_w; }
static inline size_t qk_dw16_blocks(const qk_conv2d_int8_desc *d, size_t vl) { return (d->in_ch + vl - 1) / vl; }
static inline size_t qk_dw16_groups(const qk_conv2d_int8_desc *d, size_t vl) {
  return qk_dw16_blocks(d, vl) * d->depth_multiplier;
}
/* Offsets inside a group. */
static inline size_t qk_dw16_off_rm(void) { return QK_DW16_HDR; }
static inline size_t qk_dw16_off_bl(size_t vl) { return QK_DW16_HDR + 8 * vl; }
static inline size_t qk_dw16_off_ts(size_t vl) { return QK_DW16_HDR + 16 * vl; }
static inline size_t qk_dw16_off_bh(size_t vl) { return QK_DW16_HDR + 24 * vl; }
/* SRAV mode only: the FMA requantization's constants (see qk_dw16_pack_fma). */
static inline size_t qk_dw16_off_fb(size_t vl) { return QK_DW16_HDR + 28 * vl; }
static inline size_t qk_dw16_off_fm(size_t vl) { return QK_DW16_HDR + 32 * vl; }
static inline size_t qk_dw16_off_fc(size_t vl) { return QK_DW16_HDR + 40 * vl; }
static inline size_t qk_dw16_off_w(size_t vl, qk_dw16_mode mode) {
  return QK_DW16_HDR + (mode == QK_DW16_SRAV ? 48 : 28) * vl;
}
/* SRAV mode with a 3x3 kernel: the paired-tap section after W (qk_dw16_pack_pairs). */
static inline int qk_dw16_paired(const qk_conv2d_int8_desc *d, qk_dw16_mode mode) {
  return mode == QK_DW16_SRAV && d->k_h == 3 && d->k_w == 3;
}
static inline size_t qk_dw16_off_pairs(const qk_conv2d_int8_desc *d, size_t vl, qk_dw16_mode mode) {
  return qk_dw16_off_w(vl, mode) + qk_dw16_taps(d) * 4 * vl;
}
/* A multiple of 32 bytes (of 64 for vl >= 16), so every group stays vector-aligned. */
static inline size_t qk_dw16_group_bytes(const qk_conv2d_int8_desc *d, size_t vl, qk_dw16_mode mode) {
  return qk_dw16_off_pairs(d, vl, mode) + (qk_dw16_paired(d, mode) ? 44 * vl : 0);
}
static inline size_t qk_dw16_round64(size_t n) { return (n + 63) & ~(size_t)63; }
static inline size_t qk_dw16_trailer(const qk_conv2d_int8_desc *d, size_t vl, qk_dw16_mode mode) {
  return qk_dw16_round64(qk_dw16_groups(d, vl) * qk_dw16_group_bytes(d, vl, mode));
}
static inline size_t qk_dw16_packed_size(const qk_conv2d_int8_desc *d, size_t vl, qk_dw16_mode mode) {
  return qk_dw16_trailer(d, vl, mode) + qk_dw16_round64(d->out_ch * 16);
}
/* First input channel of block b. */
static inline size_t qk_dw16_block_start(size_t b, size_t nb, size_t C, size_t vl) {
  return b + 1 < nb || C < vl ? b * vl : C - vl;
}
/* A zero row for the taps that fall outside the image (the 16x8 input zero point is 0): W * C
 * elements so interior columns index it like an input row, + vl for the group that starts at the
 * row's last pixel (or is wider than C). */
static inline size_t qk_dw16_workspace_size(const qk_conv2d_int8_desc *d, size_t vl) {
  return qk_dw16_round64((d->in_w * d->in_ch + vl) * sizeof(int16_t));
}

/* Set k, 64-bit lane Q (= 2L + q) of a group: the lane (0 .. vl-1) it holds. */
static inline size_t qk_dw16_set_lane(int k, size_t Q) {
  static const unsigned off[4] = {0, 2, 1, 3};
  return 8 * (Q / 2) + 4 * (Q % 2) + off[k];
}
/* Dword D of A (ab = 0) or B (ab = 1): its lane. */
static inline size_t qk_dw16_ab_lane(int ab, size_t D) {
  static const unsigned off[2][4] = {{0, 4, 1, 5}, {2, 6, 3, 7}};
  return 8 * (D / 4) + off[ab][D % 4];
}

/* FMA requantization (AVX-512, embedded rounding), chosen per group when every lane qualifies:
 *   out = low dword of RD(fma(2^52 + acc + B, rm 2^-t, c)),  c = 1.5 2^52 - rm 2^(52-t) - k + Bh,
 * where the accumulators start at B instead of 0, and B is a solution of B rm = Bl + k 2^t.
 * The double 2^52 + acc + B is built by pairing each accumulator dword with the high dword of
 * 2^52 (needs 0 <= acc + B < 2^32 for every reachable acc, |acc| <= 32768 * sum |w|). The FMA's
 * exact value is (acc rm + Bl) / 2^t + 1.5 2^52 + Bh, inside [2^52, 2^53) where doubles are the
 * integers, so rounding it toward -inf, once, is the floor; its low mantissa dword is the result
 * mod 2^32, as the reference's int32 truncation wants. Requirements: 15 <= t <= 32 (then c and
 * B fit, and 2^52 rm 2^-t is an integer), rm's power-of-two factor 2^a divides Bl (B rm = Bl mod
 * 2^t is solvable: B = (Bl / 2^a) * odd(rm)^-1 mod 2^(t-a), plus any multiple of 2^(t-a), which
 * picks B inside the window), at most QK_DW16_MAX_TAPS32 taps. Written into hdr[2] (1 = use it),
 * FB int32[2][vl/2] (B for the even and odd accumulators), FM and FC double[4][vl/4] (the four
 * unpack sets: in 128-bit lane L, 64-bit lane q, set s holds channel 8L + {0,4,1,5}[s] + 2q). */
static inline void qk_dw16_pack_fma(const qk_conv2d_int8_desc *d, const int8_t *w, uint8_t *g, size_t vl, size_t cs,
                                    size_t m, const int64_t *rm, const int *t, const int64_t *bl, const int64_t *bh) {
  const size_t C = d->in_ch, M = d->depth_multiplier, O = d->out_ch, taps = qk_dw16_taps(d);
  int fast = taps <= QK_DW16_MAX_TAPS32;
  int32_t fb[64];
  double fm[64], fc[64];
  for (size_t i = 0; i < vl; i++) {
    fb[i] = 0, fm[i] = 0.0, fc[i] = 0x1.8p52; /* padding lanes: acc = 0, result 0 */
    if (cs + i >= C) continue;
    const size_t oc = (cs + i) * M + m;
    int64_t amax = 0;
    for (size_t k = 0; k < taps; k++) amax += (int64_t)(w[k * O + oc] < 0 ? -w[k * O + oc] : w[k * O + oc]) * 32768;
    const int T = t[i];
    if (T < 15 || T > 32) {
      fast = 0;
      continue;
    }
    int64_t B = INT64_C(1) << 31, kq = 0; /* rm = 0: the result is Bh whatever B */
    if (rm[i] != 0) {
      const int a = __builtin_ctzll((unsigned long long)rm[i]);
      if (bl[i] & ((INT64_C(1) << a) - 1)) {
        fast = 0;
        continue;
      }
      const uint64_t o = (uint64_t)rm[i] >> a;
      uint64_t inv = o; /* Newton's iteration doubles the correct low bits: 3, 6, ..., 96 */
      for (int r = 0; r < 5; r++) inv *= 2 - o * inv;
      const uint64_t mask = (UINT64_C(1) << (T - a)) - 1;
      const uint64_t b0 = ((uint64_t)(bl[i] >> a) * inv) & mask;
      B = amax + (int64_t)((b0 - (uint64_t)amax) & mask); /* the solution closest above amax */
      kq = (B * rm[i] - bl[i]) >> T;                      /* exact: B rm = Bl mod 2^t */
    }
    if (B < amax || B + amax >= INT64_C(1) << 32) {
      fast = 0;
      continue;
    }
    fb[i] = (int32_t)(uint32_t)(uint64_t)B;
    fm[i] = ldexp((double)rm[i], -T);
    fc[i] = 0x1.8p52 - ldexp((double)rm[i], 52 - T) - (double)kq + (double)(int32_t)(uint32_t)(uint64_t)bh[i];
  }
  ((int32_t *)(void *)g)[2] = fast;
  if (qk_dw16_paired(d, QK_DW16_SRAV)) {
    /* The same constants in the lane order of the paired-tap loop (qk_dw16_pack_pairs). */
    uint8_t *pr = g + qk_dw16_off_pairs(d, vl, QK_DW16_SRAV);
    int32_t *nb = (int32_t *)(void *)(pr + 24 * vl);
    double *nm = (double *)(void *)(pr + 28 * vl), *nc = (double *)(void *)(pr + 36 * vl);
    for (size_t D = 0; D < vl / 2; D++) {
      nb[D] = fb[8 * (D / 4) + D % 4];
      nb[vl / 2 + D] = fb[8 * (D / 4) + 4 + D % 4];
    }
    for (int s = 0; s < 4; s++)
      for (size_t Q = 0; Q < vl / 4; Q++) {
        const size_t i = 8 * (Q / 2) + 2 * (size_t)s + Q % 2;
        nm[s * (vl / 4) + Q] = fm[i];
        nc[s * (vl / 4) + Q] = fc[i];
      }
  }
  int32_t *vb = (int32_t *)(void *)(g + qk_dw16_off_fb(vl));
  double *vm = (double *)(void *)(g + qk_dw16_off_fm(vl)), *vc = (double *)(void *)(g + qk_dw16_off_fc(vl));
  for (size_t D = 0; D < vl / 2; D++) vb[D] = fb[2 * D], vb[vl / 2 + D] = fb[2 * D + 1];
  static const unsigned off[4] = {0, 4, 1, 5};
  for (int s = 0; s < 4; s++)
    for (size_t Q = 0; Q < vl / 4; Q++) {
      const size_t i = 8 * (Q / 2) + off[s] + 2 * (Q % 2);
      vm[s * (vl / 4) + Q] = fm[i];
      vc[s * (vl / 4) + Q] = fc[i];
    }
}

/* Paired taps (AVX-512, 3x3, stride 1): vpdpwssd adds two int16 products per dword, so a dword can
 * carry one channel's taps from two kernel rows. x of rows (ky 0, 1) is interleaved word by word
 * (vpunpcklwd / vpunpckhwd), and row 2 with zeros; in 128-bit lane L, dword j of the low unpack is
 * channel 8L + j and of the high one 8L + 4 + j. An interleaved input column serves the three
 * output columns that use it, so each output pixel costs 12 vpdpwssd (and 4 unpacks) instead of
 * 18. Section layout, after W:
 *   P    int16[3 kx][2 (rows 0-1, row 2)][2 (low, high unpack)][vl]   weight pairs (w_ky0, w_ky1),
 *                                                                     (w_ky2, 0)
 *   NB   int32[2][vl/2], NM, NC double[4][vl/4]   the FMA constants in this lane order: NB for
 *        the low and high accumulators; set s, 64-bit lane Q = 2L + q holds channel 8L + 2s + q. */
static inline void qk_dw16_pack_pairs(const qk_conv2d_int8_desc *d, const int8_t *w, uint8_t *g, size_t vl, size_t cs,
                                      size_t m) {
  const size_t C = d->in_ch, M = d->depth_multiplier, O = d->out_ch;
  int16_t *pw = (int16_t *)(void *)(g + qk_dw16_off_pairs(d, vl, QK_DW16_SRAV));
  for (size_t kx = 0; kx < 3; kx++)
    for (size_t r = 0; r < 2; r++)
      for (size_t h = 0; h < 2; h++)
        for (size_t D = 0; D < vl / 2; D++) {
          const size_t i = 8 * (D / 4) + 4 * h + D % 4; /* lane of dword D */
          int16_t *pair = pw + ((kx * 2 + r) * 2 + h) * vl + 2 * D;
          pair[0] = pair[1] = 0;
          if (cs + i >= C) continue;
          const size_t oc = (cs + i) * M + m;
          pair[0] = w[((r ? 2 : 0) * 3 + kx) * O + oc];
          pair[1] = r ? 0 : w[(1 * 3 + kx) * O + oc];
        }
}

static inline void qk_dw16_pack(const qk_conv2d_int8_desc *d, const int8_t *w, const int64_t *bias, void *packed,
                                size_t vl, qk_dw16_mode mode) {
  const size_t C = d->in_ch, M = d->depth_multiplier, O = d->out_ch, taps = qk_dw16_taps(d);
  const size_t nb = qk_dw16_blocks(d, vl), gb = qk_dw16_group_bytes(d, vl, mode);
  uint8_t *base = packed;
  for (size_t b = 0; b < nb; b++) {
    const size_t cs = qk_dw16_block_start(b, nb, C, vl);
    for (size_t m = 0; m < M; m++) {
      uint8_t *g = base + (b * M + m) * gb;
      memset(g, 0, gb);
      /* Per lane: reduced multiplier, t, Bh, Bl; padding lanes (cs + i >= C) stay 0. */
      int64_t rm[64] = {0}, bl[64] = {0}, bh[64] = {0};
      int t[64];
      int tmin = 99, tmax = 0;
      for (size_t i = 0; i < vl; i++) {
        t[i] = 15;
        if (cs + i >= C) continue;
        const size_t oc = (cs + i) * M + m;
        const int32_t mul = d->multiplier[oc];
        rm[i] = mul < 0x7FFF0000 ? ((int64_t)mul + (1 << 15)) >> 16 : 0x7FFF;
        t[i] = 15 - d->shift[oc];
        const int64_t bp = (bias ? bias[oc] : 0) * rm[i] + (INT64_C(1) << (t[i] - 1));
        bh[i] = bp >> t[i]; /* floor: arithmetic shift */
        bl[i] = bp - bh[i] * (INT64_C(1) << t[i]);
        if (t[i] < tmin) tmin = t[i];
        if (t[i] > tmax) tmax = t[i];
        for (size_t k = 0; k < taps; k++) {
          int16_t *wv = (int16_t *)(void *)(g + qk_dw16_off_w(vl, mode)) + k * 2 * vl;
          wv[(i & 1) * vl + i] = w[k * O + oc]; /* w_e (even lanes) or w_o (odd lanes) */
        }
      }
      int32_t *hdr = (int32_t *)(void *)g;
      if (tmax == 0) tmin = tmax = 15; /* no valid lane */
      /* Uniform mode prefers T >= 32: the result is then the high dword of P shifted right by
       * T - 32 in int32 (no shift at all when T == 32, the usual case: 16 <= t <= 32). */
      const int T = tmin >= 16 && tmax < 32 ? 32 : tmax;
      hdr[0] = T;
      hdr[1] = mode == QK_DW16_UNIFORM && T - tmin > 16;
      for (size_t i = 0; i < vl; i++) {
        if (mode == QK_DW16_SRLV) {
          bl[i] += INT64_C(1) << 62;
          bh[i] -= (int64_t)(uint32_t)(UINT64_C(1) << (62 - t[i])); /* only mod 2^32 matters */
        } else if (mode == QK_DW16_UNIFORM && !hdr[1] && cs + i < C) {
          rm[i] <<= T - t[i];
          bl[i] <<= T - t[i];
        }
      }
      if (mode == QK_DW16_SRAV) qk_dw16_pack_fma(d, w, g, vl, cs, m, rm, t, bl, bh);
      if (qk_dw16_paired(d, mode)) qk_dw16_pack_pairs(d, w, g, vl, cs, m);
      for (int k = 0; k < 4; k++)
        for (size_t Q = 0; Q < vl / 4; Q++) {
          const size_t i = qk_dw16_set_lane(k, Q);
          int64_t *rmv = (int64_t *)(void *)(g + qk_dw16_off_rm()) + k * (vl / 4);
          int64_t *blv = (int64_t *)(void *)(g + qk_dw16_off_bl(vl)) + k * (vl / 4);
          int64_t *tsv = (int64_t *)(void *)(g + qk_dw16_off_ts(vl)) + k * (vl / 4);
          rmv[Q] = rm[i];
          blv[Q] = bl[i];
          tsv[Q] = t[i];
        }
      for (int ab = 0; ab < 2; ab++)
        for (size_t D = 0; D < vl / 2; D++) {
          int32_t *bhv = (int32_t *)(void *)(g + qk_dw16_off_bh(vl)) + ab * (vl / 2);
          bhv[D] = (int32_t)(uint32_t)(uint64_t)bh[qk_dw16_ab_lane(ab, D)];
        }
    }
  }
  uint8_t *tr = base + qk_dw16_trailer(d, vl, mode);
  int64_t *tb = (int64_t *)(void *)tr;
  int32_t *tm = (int32_t *)(void *)(tr + O * 8), *ts = tm + O;
  for (size_t o = 0; o < O; o++) {
    tb[o] = bias ? bias[o] : 0;
    tm[o] = d->multiplier[o];
    ts[o] = d->shift[o];
  }
}

/* Run-time view of a packed buffer. */
typedef struct qk_dw16_ctx {
  const qk_conv2d_int8_desc *d;
  const qk_conv2d_geom *g;
  size_t C, M, O, H, W, taps, nb, gb;
  const uint8_t *groups;
  const int64_t *bias;
  const int32_t *mult, *shift;
  int32_t lo, hi;
} qk_dw16_ctx;

static inline void qk_dw16_ctx_init(qk_dw16_ctx *k, const qk_conv2d_int8_desc *d, const qk_conv2d_geom *g,
                                    const void *packed, size_t vl, qk_dw16_mode mode) {
  k->d = d;
  k->g = g;
  k->C = d->in_ch, k->M = d->depth_multiplier, k->O = d->out_ch, k->H = d->in_h, k->W = d->in_w;
  k->taps = qk_dw16_taps(d);
  k->nb = qk_dw16_blocks(d, vl);
  k->gb = qk_dw16_group_bytes(d, vl, mode);
  k->groups = packed;
  const uint8_t *tr = (const uint8_t *)packed + qk_dw16_trailer(d, vl, mode);
  k->bias = (const int64_t *)(const void *)tr;
  k->mult = (const int32_t *)(const void *)(tr + k->O * 8);
  k->shift = k->mult + k->O;
  k->lo = d->act_min, k->hi = d->act_max;
}

/* Scalar requantization of n lanes of group (cs, m) from their exact sums (the reference's
 * formula): the widening path and the groups flagged in uniform mode. */
static inline void qk_dw16_scalar_out(const qk_dw16_ctx *k, const int64_t *acc, size_t cs, size_t m, int16_t *dst,
                                      size_t n) {
  for (size_t i = 0; i < n; i++) {
    const size_t oc = (cs + i) * k->M + m;
    const int32_t v = qk_mbqm64(acc[i] + k->bias[oc], k->mult[oc], k->shift[oc]);
    dst[i] = (int16_t)(v < k->lo ? k->lo : v > k->hi ? k->hi : v);
  }
}

#endif
