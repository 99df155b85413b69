/* Winograd F(4x4, 3x3) convolution kernels of backend.onednn (od_wino.c).
 * Activations are f32 in a blocked layout nChw{b}c with b = 8 or 16 and a
 * channel count that b divides; weights are plain f32 [K][C][3][3]. */
#ifndef OD_WINO_H
#define OD_WINO_H

#include <stdint.h>
#include <oneapi/dnnl/dnnl.h>

/** One convolution as Winograd sees it: input N x C x H x W, output
 *  N x K x OH x OW with OH = H + 2 pad - 2; tiles of 4x4 outputs. */
typedef struct od_wino_geo {
    int64_t N, C, K, H, W, OH, OW, pad;
    int64_t TH, TW, T; /* tiles per column, per row, in all */
    int bin, bout;     /* channel blocks of the input and output layouts */
} od_wino_geo;

void od_wino_geometry(od_wino_geo *g, int64_t N, int64_t C, int64_t K, int64_t H, int64_t W, int64_t pad, int bin,
                      int bout);
/** Floats of the transformed input (36 T C), output (36 T K) and weights
 *  (36 C K). */
static inline int64_t od_wino_v_floats(const od_wino_geo *g) { return 36 * g->T * g->C; }
static inline int64_t od_wino_m_floats(const od_wino_geo *g) { return 36 * g->T * g->K; }
static inline int64_t od_wino_u_floats(const od_wino_geo *g) { return 36 * g->C * g->K; }

/** U = G w G^T for w[K][C][3][3]: U[e][c][k]; with flip, of the kernel
 *  turned 180 degrees, as U[e][k][c] (backward data). */
void od_wino_weights(const float *w, int64_t K, int64_t C, int flip, float *U);
/** dw[K][C][3][3] = G^T dU G for dU[e][c][k]. */
void od_wino_weights_grad(const float *dU, int64_t K, int64_t C, float *dw);
/** V[e][t][c] = B^T d B of x's 6x6 input blocks (zeros outside). */
void od_wino_input(const od_wino_geo *g, const float *x, float *V);
/** y = A^T M A + bias (NULL: none), tile by tile, clipped to OH x OW. */
void od_wino_output(const od_wino_geo *g, const float *M, const float *bias, float *y);
/** Mg[e][t][k] = A dy A^T of dy's 4x4 blocks (zeros past OH x OW). */
void od_wino_grad_output(const od_wino_geo *g, const float *dy, float *Mg);
/** M[e] = V[e] U[e] (T x C by C x K), 36 sgemms; -1 when one fails. */
int od_wino_multiply(const od_wino_geo *g, const float *V, const float *U, float *M);
/** dU[e] = V[e]^T Mg[e] (C x T by T x K), or += with accumulate; -1 when
 *  one fails. */
int od_wino_multiply_grad(const od_wino_geo *g, const float *V, const float *Mg, float *dU, int accumulate);

#endif
