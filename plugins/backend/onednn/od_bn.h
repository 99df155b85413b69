/* backend.onednn: the backend's own batch norm (training and inference,
 * forward and backward, optionally with the following ReLU fused) on f32
 * or bf16 activations in the layouts oneDNN gives the neighbouring
 * convolutions: plain NCHW, blocked nChw8c / nChw16c, and channels-last
 * NHWC. Statistics, scale/shift and gradients of the affine parameters are
 * f32 (accumulated in double); bf16 data are read exactly and written
 * rounded to nearest even, as oneDNN rounds.
 *
 * Pure functions on pointers: od_kernels.c wraps them as steps, and
 * tests/onednn/test_bn_kernels.c calls them directly on hand-made buffers
 * of every layout. */
#ifndef OD_BN_H
#define OD_BN_H

#include <stdint.h>

/** Where element (n, c, i) of an [N, C, HW] activation lives: channels are
 *  taken in groups of L (a "block"); channel c = cb * L + l sits at
 *  n * sN + cb * sB + i * sI + l. */
typedef struct od_bn_geo {
    int64_t N, C, HW;
    int64_t L;          /* 1 (plain), 8 or 16 */
    int64_t sN, sB, sI; /* strides in elements */
    int bf16;           /* elements are bf16 (else f32) */
    int rows;           /* NHWC: threads split the pixels (rows of C) rather than the channel blocks */
    int64_t n0, n1;     /* the images a block loop covers (od_bn_geo_make: all) */
} od_bn_geo;

/** Layout codes for od_bn_geo_make: plain, blocked by 8 or 16, NHWC. */
enum { OD_BN_PLAIN = 1, OD_BN_BLOCK8 = 8, OD_BN_BLOCK16 = 16, OD_BN_NHWC = -1 };

/** Fills *g for the layout code; returns 0, or -1 when C does not divide
 *  into the layout's blocks (8 or 16; NHWC needs C a multiple of 8). */
int od_bn_geo_make(od_bn_geo *g, int64_t N, int64_t C, int64_t HW, int layout, int bf16);

/** Forward. x, y: activations in g's layout (y may be x). w, b: scale and
 *  shift [C] or NULL (1 and 0). Batch statistics when bs (then sm / si,
 *  if not NULL, get the mean and 1/sqrt(var + eps), and with upd the
 *  running rm / rv move by factor, with the unbiased variance, as
 *  PyTorch), else the running statistics normalise. relu: y = max(y, 0).
 *  Threads (OpenMP) split the channel blocks, or the pixels for NHWC.
 *  Returns 0, or -1 when out of memory (NHWC's per-thread sums). */
int od_bn_forward(const od_bn_geo *g, const void *x, void *y, const float *w, const float *b, float *rm,
                  float *rv, float *sm, float *si, int relu, int bs, int upd, double factor, double eps);

/** Backward. dy, x: as the forward's; mean / sv: the saved mean and invstd
 *  (train) or the running mean and variance; w: scale or NULL; fb: the
 *  forward's shift when its ReLU was fused (the mask x * scale + shift > 0
 *  is recomputed bit for bit), else NULL. dx (may be dy; NULL: not
 *  wanted), dw, db [C] (NULL: not wanted). Returns 0, or -1 when out of
 *  memory. */
int od_bn_backward(const od_bn_geo *g, const void *dy, const void *x, const float *w, const float *mean,
                   const float *sv, const float *fb, int relu, int train, double eps, void *dx, float *dw,
                   float *db);

/** bf16 (the high half of a float) to float and back, rounding to nearest
 *  even; NaN stays NaN. */
float od_bf16_to_f32(uint16_t h);
uint16_t od_f32_to_bf16(float f);

#endif
