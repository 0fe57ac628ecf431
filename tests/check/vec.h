/* Shared pieces of the golden-vector runner: per-file context, tensors, params. */
#ifndef QK_VEC_H
#define QK_VEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "check.h"

enum { MAX_ROWS = 32, MAX_DIMS = 8 };

typedef struct row {
  char name[80];
  size_t run, passed, failed, skipped;
  const char *skip_reason;
  char first[400];
} row;

typedef struct file_ctx {
  const char *path;
  size_t line;
  row rows[MAX_ROWS];
  int nrows;
  int errors;
  size_t cases;
  FILE *out;
} file_ctx;

typedef struct tensor {
  char dtype[12];
  int ndim;
  int64_t shape[MAX_DIMS];
  size_t n;
  int64_t *i; /* integer tensors */
  double *f;  /* float tensors (float32 values widened exactly) */
} tensor;

void vec_tensor_free(tensor *t);
void vec_error(file_ctx *c, const char *fmt, const char *a, const char *b);
row *vec_row(file_ctx *c, const char *name);
void vec_result(row *r, bool ok, const char *case_id, const char *detail);
bool vec_tensor(file_ctx *c, json_object *tensors, const char *name, tensor *t, bool *is_null);
bool vec_int(file_ctx *c, json_object *params, const char *key, int64_t lo, int64_t hi, int64_t *v);
bool vec_double(file_ctx *c, json_object *params, const char *key, double *v);
bool vec_int_array(file_ctx *c, json_object *params, const char *key, size_t n, int32_t *out);
int vec_rounding_modes(file_ctx *c, json_object *line);
/* Derived clamp from fused_activation (unless activation_override) must equal [amin, amax]. */
bool vec_activation_matches(json_object *params, float s_out, int32_t zp_out, int64_t amin, int64_t amax,
                            char *detail, size_t dlen);
/* Right-aligns a shape of rank <= 4 into 4-D, numpy style; false above rank 4. */
bool vec_shape4(const tensor *t, size_t s[4]);
bool vec_compare_int8(const int8_t *got, const tensor *exp, char *detail, size_t dlen);
/* Runs fn on every runnable variant of (op, path) and records a row per variant. */
typedef bool (*vec_variant_fn)(const qk_variant *v, void *ctx, char *detail, size_t dlen);
void vec_each_variant(file_ctx *c, qk_op op, qk_path path, const char *case_id, vec_variant_fn fn, void *ctx);

void vec_run_fc_int8(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id);
void vec_run_conv_int8(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id,
                       bool depthwise);
void vec_run_eltwise_int8(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id,
                          bool mul);
void vec_run_pool_int8(file_ctx *c, json_object *params, json_object *tensors, const char *id, bool max);
void vec_run_convert(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id,
                     const char *op, const char *path);

void vec_run_fc_i16x8(file_ctx *c, json_object *params, json_object *tensors, const char *id);
void vec_run_conv_i16x8(file_ctx *c, json_object *params, json_object *tensors, const char *id, bool depthwise);
void vec_run_add_i16(file_ctx *c, json_object *line, json_object *params, json_object *tensors, const char *id);
bool vec_compare_int16(const int16_t *got, const tensor *exp, char *detail, size_t dlen);

#endif
