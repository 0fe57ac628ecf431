/* Generated exactness cases per op family (FC lives in fc_int8_cases.h). Each family gives a case
 * count for a variant and runs case `index` from (seed, index) against the reference. */
#ifndef QK_OP_CASES_H
#define QK_OP_CASES_H

#include "check.h"

size_t conv_case_count(const qk_variant *v);
bool conv_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r);
size_t eltwise_case_count(const qk_variant *v);
bool eltwise_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r);
size_t pool_case_count(const qk_variant *v);
bool pool_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r);
size_t convert_case_count(const qk_variant *v);
bool convert_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r);

size_t i16x8_case_count(const qk_variant *v);
bool i16x8_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r);

size_t add_pot_case_count(const qk_variant *v);
bool add_pot_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r);

size_t float_case_count(const qk_variant *v);
bool float_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r);

/* Shared: record a result with a replayable description. */
void qkc_record(qkc_report *r, const qk_variant *v, uint64_t seed, size_t index, bool ok, const char *what,
                const char *why);
/* Requant (multiplier, shift) that maps an accumulator of rms `acc_rms` to about 30 output steps. */
void qkc_spread_multiplier(qkc_rng *g, double acc_rms, qk_rounding mode, int32_t *m, int32_t *s);
/* Compares n int8 outputs; writes the first difference into why. */
bool qkc_same8(const int8_t *got, const int8_t *want, size_t n, char *why, size_t wlen);

#endif
