/* f16-weight DepthwiseConv2D, avx2: the binary16 filter (a few KiB, read again for every pixel) is
 * widened once at pack time, then qk_f32_dwconv2d_8c__avx2's code runs, so the outputs are
 * those of the f32 variant on widened weights, bit for bit (arch/x86/f32_dwconv.h). */
#define FD_NAME(s) qk_f16w_dwconv2d_8c__avx2##s
#define FD_HALF 1
#include "f32_vec_avx2.h"
#include "../f32_dwconv.h"
