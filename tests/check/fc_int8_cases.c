/* Exactness cases for int8 fully connected, derived from each variant's tile (XNNPACK's tester
 * idea): K below, at, above and multiples of the K block and every tail up to twice a 64-byte
 * vector; N and M edges; adversarial zero points, shifts over the whole contract, exact ties,
 * saturation, narrow clamps, wrap-around accumulators; then random shapes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fc_int8_cases.h"

enum { K_SWEEP = 128 };

static void add(fc_case_list *l, fc_case c) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 256;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
    if (!l->v) abort();
  }
  l->v[l->n++] = c;
}

static fc_case base(size_t M, size_t N, size_t K, unsigned salt) {
  fc_case c = {.M = M, .N = N, .K = K, .zp_in = FC_RANDOM_ZP, .zp_out = FC_RANDOM_ZP,
               .act_min = -128, .act_max = 127, .rounding = (qk_rounding)(salt & 1),
               .mult = FC_MULT_SPREAD, .data = FC_DATA_RANDOM, .bias = FC_BIAS_RANDOM};
  return c;
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

void fc_int8_build_cases(const qk_variant *v, fc_case_list *l) {
  const size_t mr = max_sz(v->mr, 1), nr = max_sz(v->nr, 1), kr = max_sz(v->kr, 1);
  const size_t n_edge = max_sz(2 * nr + 1, 33), m_edge = max_sz(2 * mr + 1, 9);
  unsigned salt = 0;
  l->n = 0;

  for (size_t k = 1; k <= max_sz(K_SWEEP, 4 * kr); k++) add(l, base(mr + 1, nr + 1, k, salt++));
  const size_t kspecial[] = {kr - 1, kr, kr + 1, 8 * kr - 1, 8 * kr, 8 * kr + 1, 255, 256, 257, 1000, 1280};
  for (size_t i = 0; i < sizeof kspecial / sizeof *kspecial; i++)
    if (kspecial[i]) add(l, base(2, 2 * nr + 3, kspecial[i], salt++));
  for (size_t n = 1; n <= n_edge; n++) {
    add(l, base(mr, n, 2 * kr + 3, salt++));
    add(l, base(1, n, 64, salt++));
  }
  for (size_t m = 1; m <= m_edge; m++) add(l, base(m, nr + 5, 37, salt++));
  add(l, base(4 * mr + 3, 3 * nr + 1, 29, salt++));

  /* Adversarial parameters on a few tile-derived shapes. */
  const size_t shapes[][3] = {{mr + 1, nr + 3, 33}, {1, 2 * nr + 1, 67}, {2 * mr + 1, nr, 4 * kr + 1}};
  for (size_t s = 0; s < 3; s++) {
    const size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
    for (int r = 0; r < 2; r++) {
      const int32_t zps[] = {-128, 127};
      for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
          fc_case c = base(M, N, K, (unsigned)r);
          c.zp_in = zps[a];
          c.zp_out = zps[b];
          add(l, c);
        }
      fc_case c = base(M, max_sz(N, 62), K, (unsigned)r);
      c.mult = FC_MULT_ALL_SHIFTS; /* every shift in [-31, 30] with 0, 2^30, INT32_MAX, random */
      c.data = FC_DATA_EXTREME;
      c.bias = FC_BIAS_EXTREME;
      add(l, c);
      c.data = FC_DATA_RANDOM;
      c.bias = FC_BIAS_RANDOM;
      add(l, c);
      c = base(M, N, K, (unsigned)r);
      c.mult = FC_MULT_TIES;
      c.data = FC_DATA_SMALL;
      add(l, c);
      c.bias = FC_BIAS_NONE;
      add(l, c);
      c = base(M, N, K, (unsigned)r);
      c.mult = FC_MULT_SATURATE;
      add(l, c);
      c = base(M, N, K, (unsigned)r);
      c.act_min = c.act_max = FC_RANDOM_ZP; /* a single allowed value */
      add(l, c);
      c.act_min = -1;
      c.act_max = 1;
      add(l, c);
      c.act_min = FC_CLAMP_RELU; /* [zp_out, 127] */
      c.act_max = 127;
      add(l, c);
      c = base(M, N, K, (unsigned)r);
      c.bias = FC_BIAS_NONE;
      add(l, c);
    }
  }
  /* Accumulators that wrap int32: all products (-128)*(-128-127) over K > 2^31/32640. */
  for (int r = 0; r < 2; r++) {
    fc_case c = base(2, nr + 1, 65800 + (size_t)r * 3, (unsigned)r);
    c.zp_in = 127;
    c.data = FC_DATA_ALL_MIN;
    c.mult = FC_MULT_ALL_SHIFTS;
    add(l, c);
  }
  /* Realistic shapes: MobileNetV2's last pointwise and its classifier. */
  add(l, base(49, 1280, 320, 0));
  add(l, base(1, 1000, 1280, 1));
  /* Random shapes and parameters. */
  for (int i = 0; i < 48; i++) {
    fc_case c = base(0, 0, 0, (unsigned)i);
    c.random_shape = true;
    c.max_n = 3 * nr + 7;
    add(l, c);
  }
}
