/* Similarity blocks. The builtin product packs a slab of gallery rows
 * transposed, so that the inner loop runs over independent output lanes
 * and vectorises without reassociating any sum: each score is the same
 * float sequence whatever the blocking or thread count. */
#include "sim.h"
#include "emb.h"

#include <aigtatt/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef BM_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#define SLAB 64 /* gallery rows per packed slab: d x 64 floats stay in L2 */

int bm_gemm_have_onednn(void)
{
#ifdef BM_HAVE_DNNL
    return 1;
#else
    return 0;
#endif
}

static int builtin(const float *A, size_t na, const float *B, size_t nb, size_t d, double *out)
{
    float *bt = malloc(d * SLAB * sizeof *bt);
    if (!bt)
        return AIGTATT_ERR_NOMEM;
    for (size_t j0 = 0; j0 < nb; j0 += SLAB) {
        size_t w = nb - j0 < SLAB ? nb - j0 : SLAB;
        for (size_t jj = 0; jj < SLAB; jj++)
            for (size_t k = 0; k < d; k++)
                bt[k * SLAB + jj] = jj < w ? B[(j0 + jj) * d + k] : 0.0f;
        for (size_t i = 0; i < na; i++) {
            float acc[SLAB] = {0};
            const float *a = A + i * d;
            for (size_t k = 0; k < d; k++) {
                const float ak = a[k], *row = bt + k * SLAB;
                for (size_t jj = 0; jj < SLAB; jj++)
                    acc[jj] += ak * row[jj];
            }
            double *o = out + i * nb + j0;
            for (size_t jj = 0; jj < w; jj++)
                o[jj] = acc[jj];
        }
    }
    free(bt);
    return AIGTATT_OK;
}

int bm_sim_block(bm_gemm how, const float *A, size_t na, const float *B, size_t nb, size_t d,
                 double *out, char *err)
{
    if (na == 0 || nb == 0)
        return AIGTATT_OK;
#ifdef BM_HAVE_DNNL
    if (how != BM_GEMM_BUILTIN) {
        float *c = malloc(na * nb * sizeof *c);
        if (!c)
            return AIGTATT_ERR_NOMEM;
        dnnl_status_t st = dnnl_sgemm('N', 'T', (dnnl_dim_t)na, (dnnl_dim_t)nb, (dnnl_dim_t)d, 1.0f,
                                      A, (dnnl_dim_t)d, B, (dnnl_dim_t)d, 0.0f, c, (dnnl_dim_t)nb);
        if (st != dnnl_success) {
            free(c);
            if (err)
                snprintf(err, BM_ERRLEN, "oneDNN sgemm failed (status %d)", (int)st);
            return AIGTATT_ERR;
        }
        for (size_t i = 0; i < na * nb; i++)
            out[i] = c[i];
        free(c);
        return AIGTATT_OK;
    }
#else
    if (how == BM_GEMM_ONEDNN) {
        if (err)
            snprintf(err, BM_ERRLEN, "this build of eval.biometric has no oneDNN; use matmul: builtin");
        return AIGTATT_ERR_INVALID;
    }
#endif
    return builtin(A, na, B, nb, d, out);
}
