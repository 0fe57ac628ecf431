/* f32 DepthwiseConv2D, sse41: channels in vectors of 4, 3x3 taps held in registers across a row
 * (arch/x86/f32_dwconv.h). */
#define FD_NAME(s) qk_f32_dwconv2d_4c__sse41##s
#define FD_HALF 0
#include "f32_vec_sse41.h"
#include "../f32_dwconv.h"
