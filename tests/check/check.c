/* Per-op dispatch of the generated exactness cases. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fc_int8_cases.h"
#include "op_cases.h"

static const qk_variant *cached_for;
static fc_case_list cached;

static const fc_case_list *cases_for(const qk_variant *v) {
  if (cached_for != v) {
    fc_int8_build_cases(v, &cached);
    cached_for = v;
  }
  return &cached;
}

size_t qkc_case_count(const qk_variant *v) {
  if (v->path == QK_PATH_F32 || v->path == QK_PATH_F16W || v->path == QK_PATH_DYNAMIC || v->path == QK_PATH_F16)
    return float_case_count(v);
  if (v->path == QK_PATH_I16X8) return i16x8_case_count(v);
  if (v->path != QK_PATH_INT8) return 0;
  switch (v->op) {
    case QK_OP_FC: return cases_for(v)->n;
    case QK_OP_CONV2D:
    case QK_OP_DWCONV2D: return conv_case_count(v);
    case QK_OP_ADD:
    case QK_OP_MUL: return eltwise_case_count(v);
    case QK_OP_AVGPOOL:
    case QK_OP_MAXPOOL: return pool_case_count(v);
    case QK_OP_QUANTIZE:
    case QK_OP_DEQUANTIZE:
    case QK_OP_REQUANTIZE: return convert_case_count(v);
    default: return 0;
  }
}

bool qkc_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r) {
  if (index >= qkc_case_count(v)) {
    snprintf(r->first_failure, sizeof r->first_failure, "%s has no case %zu", v->name, index);
    r->failed++;
    return false;
  }
  if (v->path == QK_PATH_F32 || v->path == QK_PATH_F16W || v->path == QK_PATH_DYNAMIC || v->path == QK_PATH_F16)
    return float_run_case(v, seed, index, r);
  if (v->path == QK_PATH_I16X8) return i16x8_run_case(v, seed, index, r);
  switch (v->op) {
    case QK_OP_CONV2D:
    case QK_OP_DWCONV2D: return conv_run_case(v, seed, index, r);
    case QK_OP_ADD:
    case QK_OP_MUL: return eltwise_run_case(v, seed, index, r);
    case QK_OP_AVGPOOL:
    case QK_OP_MAXPOOL: return pool_run_case(v, seed, index, r);
    case QK_OP_QUANTIZE:
    case QK_OP_DEQUANTIZE:
    case QK_OP_REQUANTIZE: return convert_run_case(v, seed, index, r);
    default: return fc_int8_run_case(v, &cases_for(v)->v[index], seed, index, r);
  }
}

void qkc_check_variant(const qk_variant *v, uint64_t seed, FILE *out, qkc_report *r) {
  const size_t n = qkc_case_count(v);
  for (size_t i = 0; i < n; i++) qkc_run_case(v, seed, i, r);
  if (out) {
    fprintf(out, "%-40s %5zu cases  %5zu passed  %3zu failed  %3zu mistrusted", v->name, r->cases, r->passed,
            r->failed, r->mistrusted);
    const bool bounded = (v->path == QK_PATH_F32 || v->path == QK_PATH_F16W || v->path == QK_PATH_F16) &&
                         (v->op == QK_OP_FC || v->op == QK_OP_CONV2D || v->op == QK_OP_DWCONV2D || v->op == QK_OP_AVGPOOL);
    if (bounded) fprintf(out, "  max error %.3f of bound", r->max_err_ratio);
    fputc('\n', out);
    if (r->failed) fprintf(out, "  FAIL %s\n", r->first_failure);
    if (r->mistrusted) fprintf(out, "  MISTRUSTED %s\n", r->first_mistrusted);
  }
}
