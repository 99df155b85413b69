/* Cosine similarity blocks: dot products of L2-normalised rows. */
#ifndef BM_SIM_H
#define BM_SIM_H

#include <stddef.h>

/* Which matrix product computes the blocks. */
typedef enum bm_gemm {
    BM_GEMM_AUTO = 0,    /* oneDNN when built with it, else builtin */
    BM_GEMM_BUILTIN = 1, /* portable; bit-identical for any thread count */
    BM_GEMM_ONEDNN = 2   /* dnnl_sgemm, multi-threaded inside */
} bm_gemm;

/* Non-zero when this build has oneDNN. */
int bm_gemm_have_onednn(void);

/* out[i * nb + j] = <A_i, B_j> for i < na, j < nb; A is na x d and B nb x d,
 * both row-major float; the products are accumulated in float (scores
 * have float32 precision, like numpy on float32 embeddings). Returns 0, or
 * AIGTATT_ERR_NOMEM / AIGTATT_ERR (oneDNN failure, text in err). */
int bm_sim_block(bm_gemm how, const float *A, size_t na, const float *B, size_t nb, size_t d,
                 double *out, char *err);

#endif
