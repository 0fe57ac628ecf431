/* Dynamic-range Conv2D, AVX2: int16 x int8 vpmaddwd tiles of dynamic_gemm.h (tile 6x16c2) under the
 * shared op code of ../dynamic_conv_ops.h, which documents the workspace and the exactness argument. */
#include <string.h>

#include "qk/float.h"
#include "variants.h"
#include "dynamic_gemm.h"

#define QK_NAME(s) qk_dynamic_conv2d_6x16c2__avx2##s
#include "../dynamic_conv_ops.h"
