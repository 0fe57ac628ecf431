/* Dynamic-range Conv2D, AVX-512 VNNI: u8 x s8 vpdpbusd tiles of dynamic_gemm.h (tile 6x64c4) under the
 * shared op code of ../dynamic_conv_ops.h, which documents the workspace and the exactness argument. */
#include <string.h>

#include "qk/float.h"
#include "variants.h"
#include "dynamic_gemm.h"

#define QK_NAME(s) qk_dynamic_conv2d_6x64c4__avx512vnni##s
#include "../dynamic_conv_ops.h"
