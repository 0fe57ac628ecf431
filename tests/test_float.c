/* The float references themselves: binary16 conversion against an independent model of IEEE
 * rounding, exhaustively; and the dynamic-range input quantization on hand-computed rows. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "qk/qk.h"

static uint32_t fbits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

/* Value of a finite half by arithmetic, not bit moves. */
static double half_value(uint16_t h) {
  const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
  const double v = e ? ldexp(1.0 + m / 1024.0, e - 15) : ldexp(m / 1024.0, -14);
  return (h & 0x8000) ? -v : v;
}

Test(f16, widening_is_exact_for_all_halves) {
  for (uint32_t h = 0; h < 65536; h++) {
    const float f = qk_f16_to_f32((uint16_t)h);
    if (((h >> 10) & 0x1F) == 0x1F) {
      if (h & 0x3FF) {
        cr_assert(isnan(f), "0x%04x", h);
        cr_assert(fbits(f) & 0x400000u, "0x%04x must widen to a quiet NaN", h);
        cr_assert_eq((fbits(f) >> 13) & 0x1FFu, h & 0x1FFu, "0x%04x payload lost", h);
      } else {
        cr_assert(isinf(f) && (signbit(f) != 0) == ((h & 0x8000) != 0), "0x%04x", h);
      }
      continue;
    }
    cr_assert_eq((double)f, half_value((uint16_t)h), "0x%04x", h);
    cr_assert_eq(signbit(f) != 0, (h & 0x8000) != 0, "0x%04x sign", h);
    cr_assert_eq(qk_f32_to_f16(f), h, "round trip of 0x%04x", h);
  }
}

Test(f16, midpoints_round_to_even_and_neighbours_to_nearest) {
  for (uint32_t a = 0; a < 0x7BFF; a++) { /* positive finite pairs (a, a+1) */
    const double lo = half_value((uint16_t)a), hi = half_value((uint16_t)(a + 1));
    const float mid = (float)((lo + hi) / 2); /* exact: 12 significant bits */
    cr_assert_eq((double)mid, (lo + hi) / 2);
    const uint16_t even = (a & 1) ? (uint16_t)(a + 1) : (uint16_t)a;
    cr_assert_eq(qk_f32_to_f16(mid), even, "midpoint above 0x%04x", a);
    cr_assert_eq(qk_f32_to_f16(-mid), even | 0x8000, "negative midpoint above 0x%04x", a);
    cr_assert_eq(qk_f32_to_f16(nextafterf(mid, 0.0f)), a, "just below the midpoint above 0x%04x", a);
    cr_assert_eq(qk_f32_to_f16(nextafterf(mid, INFINITY)), a + 1, "just above the midpoint above 0x%04x", a);
  }
}

Test(f16, overflow_underflow_and_nan) {
  cr_expect_eq(qk_f32_to_f16(65504.0f), 0x7BFF);
  cr_expect_eq(qk_f32_to_f16(nextafterf(65520.0f, 0.0f)), 0x7BFF);
  cr_expect_eq(qk_f32_to_f16(65520.0f), 0x7C00, "the overflow threshold rounds to infinity");
  cr_expect_eq(qk_f32_to_f16(-1e30f), 0xFC00);
  cr_expect_eq(qk_f32_to_f16(INFINITY), 0x7C00);
  cr_expect_eq(qk_f32_to_f16(ldexpf(1.0f, -25)), 0x0000, "half the smallest subnormal ties to even (zero)");
  cr_expect_eq(qk_f32_to_f16(nextafterf(ldexpf(1.0f, -25), 1.0f)), 0x0001);
  cr_expect_eq(qk_f32_to_f16(ldexpf(1.0f, -24) * 1.5f), 0x0002, "1.5 subnormal units tie to even (2)");
  cr_expect_eq(qk_f32_to_f16(ldexpf(1023.5f, -24)), 0x0400, "rounds up into the smallest normal");
  cr_expect_eq(qk_f32_to_f16(-0.0f), 0x8000);
  float snan;
  const uint32_t sbits = 0x7F812345u; /* signalling NaN with a payload */
  memcpy(&snan, &sbits, 4);
  cr_expect_eq(qk_f32_to_f16(snan), 0x7E00 | (0x12345 >> 13), "quieted, top payload bits kept");
}

Test(dynamic, symmetric_row_quantization) {
  const float x[4] = {-2.0f, 1.0f, 0.5f, 0.0f};
  int8_t q[4];
  float s;
  int32_t off;
  qk_ref_quantize_row(x, 4, false, q, &s, &off);
  cr_expect_float_eq(s, 2.0f / 127.0f, 0.0f);
  cr_expect(q[0] == -127 && q[1] == 64 && q[2] == 32 && q[3] == 0 && off == 0, "%d %d %d %d", q[0], q[1], q[2], q[3]);
  const float z[3] = {0.0f, -0.0f, 0.0f};
  qk_ref_quantize_row(z, 3, false, q, &s, &off);
  cr_expect(s == 1.0f && q[0] == 0 && q[1] == 0);
}

Test(dynamic, asymmetric_row_quantization) {
  const float x[3] = {0.0f, 1.0f, 2.55f}; /* rmin 0: zero point at the bottom */
  int8_t q[3];
  float s;
  int32_t off;
  qk_ref_quantize_row(x, 3, true, q, &s, &off);
  cr_expect_eq(off, -128);
  cr_expect_float_eq(s, (float)(2.55f / 255.0), 1e-12f);
  cr_expect(q[0] == -128 && q[2] == 127, "%d %d %d", q[0], q[1], q[2]);
  const float neg[2] = {-1.0f, -0.5f}; /* rmax 0: zero point at the top */
  qk_ref_quantize_row(neg, 2, true, q, &s, &off);
  cr_expect_eq(off, 127);
  cr_expect_eq(q[0], -128);
}

/* A hand-worked hybrid depthwise: image {0, 1, 2, 2.55} quantizes asymmetrically to offset -128 and
 * q - offset = {0, 100, 200, 255}; the 2x2 VALID filter {1, 2, 3, -1} sums 200 + 600 - 255 = 545. */
Test(dynamic, dwconv_hand_worked_and_api) {
  const float x[4] = {0.0f, 1.0f, 2.0f, 2.55f}, s_w = 0.5f, bias = 0.25f;
  const int8_t w[4] = {1, 2, 3, -1};
  int8_t q[4];
  float s_img;
  int32_t off;
  qk_ref_quantize_row(x, 4, true, q, &s_img, &off);
  cr_assert(off == -128 && q[1] == -28 && q[2] == 72 && q[3] == 127, "%d %d %d %d", off, q[1], q[2], q[3]);
  const qk_conv2d_dynamic_desc d = {
      .conv = {.batch = 1, .in_h = 2, .in_w = 2, .in_ch = 1, .out_ch = 1, .k_h = 2, .k_w = 2, .stride_h = 1,
               .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .padding = QK_PAD_VALID, .groups = 1,
               .depth_multiplier = 1, .act_min = -INFINITY, .act_max = INFINITY},
      .w_scale = &s_w, .asymmetric = true};
  qk_conv2d_geom g;
  cr_assert_eq(qk_dwconv2d_dynamic_check(&d, &g), QK_OK, "%s", qk_last_error());
  float yr = 0.0f, y = 0.0f;
  cr_assert_eq(qk_ref_dwconv2d_dynamic(&d, &g, w, &bias, x, &yr), QK_OK);
  const float want = 545.0f * (s_w * s_img) + bias; /* the scale product first, then the bias */
  cr_expect(yr == want, "%a vs %a", yr, want);
  qk_dwconv2d_dynamic_op *op = NULL;
  cr_assert_eq(qk_dwconv2d_dynamic_create(&d, w, &bias, &op), QK_OK, "%s", qk_last_error());
  cr_expect_eq(qk_dwconv2d_dynamic_run(op, x, &y), QK_OK);
  cr_expect(y == want, "%s: %a vs %a", qk_dwconv2d_dynamic_variant(op), y, want);
  size_t oh = 0, ow = 0;
  cr_expect(qk_dwconv2d_dynamic_out_shape(op, &oh, &ow) == QK_OK && oh == 1 && ow == 1);
  cr_expect_eq(qk_dwconv2d_dynamic_run(op, NULL, &y), QK_ERR_NULL);
  qk_dwconv2d_dynamic_destroy(op);

  qk_conv2d_dynamic_desc bad = d;
  bad.conv.out_ch = 3; /* not in_ch * depth_multiplier */
  cr_expect_neq(qk_dwconv2d_dynamic_create(&bad, w, &bias, &op), QK_OK);
  cr_expect(op == NULL && strlen(qk_last_error()) > 0);
  const float zero_scale = 0.0f;
  bad = d, bad.w_scale = &zero_scale;
  cr_expect_eq(qk_dwconv2d_dynamic_create(&bad, w, &bias, &op), QK_ERR_PARAM);
  bad = d, bad.w_scale = NULL;
  cr_expect_eq(qk_dwconv2d_dynamic_create(&bad, w, &bias, &op), QK_ERR_NULL);
  cr_expect_eq(qk_dwconv2d_dynamic_create(&d, NULL, &bias, &op), QK_ERR_NULL);
  cr_expect_eq(qk_dwconv2d_dynamic_create(NULL, w, &bias, &op), QK_ERR_NULL);
}
