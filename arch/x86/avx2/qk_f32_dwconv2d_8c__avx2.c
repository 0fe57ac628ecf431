/* f32 DepthwiseConv2D, avx2: channels in vectors of 8, 3x3 taps held in registers across a row
 * (arch/x86/f32_dwconv.h). */
#define FD_NAME(s) qk_f32_dwconv2d_8c__avx2##s
#define FD_HALF 0
#include "f32_vec_avx2.h"
#include "../f32_dwconv.h"
