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
/** Rows of V and M in od_wino_multiply: the tiles rounded up to 6. Then
 *  the floats of the transformed input (36 rows C), output (36 rows K) and
 *  weights (36 C K). */
static inline int64_t od_wino_rows(const od_wino_geo *g) { return (g->T + 5) / 6 * 6; }
static inline int64_t od_wino_v_floats(const od_wino_geo *g) { return 36 * od_wino_rows(g) * g->C; }
static inline int64_t od_wino_m_floats(const od_wino_geo *g) { return 36 * od_wino_rows(g) * g->K; }
static inline int64_t od_wino_u_floats(const od_wino_geo *g) { return 36 * g->C * g->K; }

/** U = G w G^T for w[K][C][3][3]: U[e] is C x K (forward) or, with flip,
 *  of the kernel turned 180 degrees, K x C (backward data). packed: stored
 *  as panels of 16 columns (the last 8 wide where 16 does not divide the
 *  columns), each panel's rows in order, what od_wino_gemm reads; else
 *  plain row-major (oneDNN's sgemm). */
void od_wino_weights(const float *w, int64_t K, int64_t C, int flip, int packed, float *U);
/** dw[K][C][3][3] = G^T dU G for dU[e][c][k]. */
void od_wino_weights_grad(const float *dU, int64_t K, int64_t C, float *dw);
/** V[e][t][c] = B^T d B of x's 6x6 input blocks (zeros outside), rows
 *  (>= T) rows per e, the rows past T zeros. */
void od_wino_input(const od_wino_geo *g, const float *x, float *V, int64_t rows);
/** y = A^T M A + bias (NULL: none), tile by tile, clipped to OH x OW; M
 *  has rows rows per e. */
void od_wino_output(const od_wino_geo *g, const float *M, int64_t rows, const float *bias, float *y);
/** Mg[e][t][k] = A dy A^T of dy's 4x4 blocks (zeros past OH x OW). */
void od_wino_grad_output(const od_wino_geo *g, const float *dy, float *Mg);
/** M[e] = V[e] U[e] for V and M of od_wino_rows(g) rows per e (V from
 *  od_wino_input with that many rows); the 36 products spread over
 *  `threads` threads, in od_wino_gemm on U packed by od_wino_weights, or
 *  with sgemm in oneDNN's sgemm on U plain. -1 when an sgemm fails. */
int od_wino_multiply(const od_wino_geo *g, const float *V, const float *U, float *M, int threads, int sgemm);
/** dU[e] = V[e]^T Mg[e] (C x T by T x K, V and Mg of T rows per e, dU plain
 *  [e][c][k]), or += with accumulate; oneDNN's sgemm. -1 when one fails. */
int od_wino_multiply_grad(const od_wino_geo *g, const float *V, const float *Mg, float *dU, int accumulate);
/** M = V U for rows (a multiple of 6) x C by C x K (K a multiple of 8):
 *  V row-major with leading dimension ldv, U one e's packed panels (as
 *  od_wino_weights writes them), M row-major with ldm; one thread. */
void od_wino_gemm(int64_t rows, int64_t C, int64_t K, const float *V, int64_t ldv, const float *U, float *M,
                  int64_t ldm);
/** Tiles per block of the fused forward for this geometry (a multiple of
 *  6), and the floats of scratch each thread needs for blocks of tb. */
int64_t od_wino_block_tiles(const od_wino_geo *g);
int64_t od_wino_fused_floats(const od_wino_geo *g, int64_t tb);
/** y = A^T [U .* (B^T x B)] A + bias, the transforms and products done
 *  block by block (tb tiles, od_wino_block_tiles) so that each block's V
 *  and M stay in cache: threads take contiguous ranges of tiles. scratch:
 *  threads x od_wino_fused_floats(g, tb) floats. */
void od_wino_forward_fused(const od_wino_geo *g, const float *x, const float *U, const float *bias, float *y,
                           float *scratch, int64_t tb, int threads);

#endif
