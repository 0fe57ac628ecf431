/* Dynamic-range FC, AVX-VNNI: u8 x s8 vpdpbusd tiles of dynamic_gemm.h (tile 6x16c4) under the
 * shared op code of ../dynamic_fc_ops.h, which documents the workspace and the exactness argument. */
#include <string.h>

#include "qk/float.h"
#include "variants.h"
#include "dynamic_gemm.h"

#define QK_NAME(s) qk_dynamic_fc_6x16c4__avxvnni##s
#include "../dynamic_fc_ops.h"
