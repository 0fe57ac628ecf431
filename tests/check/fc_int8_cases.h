#ifndef QK_FC_INT8_CASES_H
#define QK_FC_INT8_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include "qk/qk.h"
#include "check.h"

#define FC_RANDOM_ZP INT32_MIN  /* drawn from the case's generator */
#define FC_CLAMP_RELU (INT32_MIN + 1)

typedef enum { FC_MULT_SPREAD, FC_MULT_ALL_SHIFTS, FC_MULT_TIES, FC_MULT_SATURATE } fc_mult;
typedef enum { FC_DATA_RANDOM, FC_DATA_EXTREME, FC_DATA_SMALL, FC_DATA_ALL_MIN } fc_data;
typedef enum { FC_BIAS_RANDOM, FC_BIAS_NONE, FC_BIAS_EXTREME } fc_bias;

typedef struct fc_case {
  size_t M, N, K;
  int32_t zp_in, zp_out, act_min, act_max;
  qk_rounding rounding;
  fc_mult mult;
  fc_data data;
  fc_bias bias;
  bool random_shape;
  size_t max_n;
} fc_case;

typedef struct fc_case_list {
  fc_case *v;
  size_t n, cap;
} fc_case_list;

void fc_int8_build_cases(const qk_variant *v, fc_case_list *l);
/* Runs one case (materialized from its generator) against the reference. */
bool fc_int8_run_case(const qk_variant *v, const fc_case *c, uint64_t seed, size_t index,
                      qkc_report *r);

#endif
