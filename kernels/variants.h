/* Declarations of every variant's functions, expanded from variants.def. */
#ifndef QK_VARIANTS_H
#define QK_VARIANTS_H

#include "qk/fc.h"
#include "qk_config.h"

#define QK_DECL_FC_INT8(name)                                                                     \
  size_t name##_packed_size(size_t out_ch, size_t in_ch);                                        \
  void name##_pack(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias, void *packed); \
  void name##_run(const qk_fc_int8_desc *d, const void *packed, size_t batch, const int8_t *x,    \
                  int8_t *y);

#define QK_VARIANT(op, path, isa, name, mr, nr, kr) QK_DECL_##op##_##path(name)
#include "variants.def"
#undef QK_VARIANT

#endif
