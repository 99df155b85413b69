/* Lowering of 3x3 stride-1 convolutions to the Winograd kernels of
 * od_wino.c (param `convolution: winograd`): forward, backward data and
 * backward weights of the same convolution all take this path, so its
 * weights, their gradient and their optimizer state stay plain [K][C][3][3]
 * (no blocked copy to keep in step). Activations are read and written in
 * the blocked layout their neighbours use when that is nChw8c, or nChw16c
 * with channels in multiples of 16 (so a ResNet's activations need no
 * reorder); anything else (plain, padded blocks) gets a reorder to nChw8c.
 * Everything not eligible goes to oneDNN as before. */
#include "od_internal.h"
#include "od_wino.h"

#include <stdlib.h>
#include <string.h>

/* What a Winograd step needs besides its tensors. */
typedef struct wino_step {
    od_wino_geo g;  /* the whole batch */
    int64_t wk, wc; /* the weights' [K][C] (forward orientation) */
    int flip;       /* backward data: kernel turned and transposed */
    int64_t chunk;  /* unfused: images per pass (the temporaries hold this
                     * many) */
    int64_t tb;     /* fused forward: tiles per block; 0: unfused */
    int sgemm;      /* forward products in oneDNN's sgemm (three passes) */
} wino_step;

/* The transformed tiles take 2.25x the input and output they come from;
 * for large images or batches the step goes through the batch in chunks
 * of images whose temporaries stay under this. */
#define WINO_TEMP_BYTES ((int64_t)256 << 20)

/* The geometry of images n0 .. n0 + chunk - 1 (the last chunk may be
 * shorter), and how far into x and y they start. */
static void chunk_geo(const wino_step *w, int64_t n0, od_wino_geo *c, int64_t *xoff, int64_t *yoff)
{
    const od_wino_geo *g = &w->g;
    int64_t n = g->N - n0 < w->chunk ? g->N - n0 : w->chunk;
    od_wino_geometry(c, n, g->C, g->K, g->H, g->W, g->pad, g->bin, g->bout);
    *xoff = n0 * g->C * g->H * g->W; /* blocked layouts keep each image whole */
    *yoff = n0 * g->K * g->OH * g->OW;
}

int od_wino_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* The convolution op k in the forward orientation: input channels C,
 * output channels K, input H x W, padding; 1 when Winograd can run it. */
static int eligible(od_prog *p, int k, int64_t *N, int64_t *C, int64_t *K, int64_t *H, int64_t *W, int64_t *pad)
{
    const od_op *o = &p->ops[k];
    /* precision bf16 keeps Winograd off, also for a convolution that falls
     * back to f32 (conv_op's retry) */
    if (!p->dev->wino || p->dev->bf16)
        return 0;
    if (o->ints[0] != 1 || o->ints[1] != 1 || o->ints[2] != o->ints[3] || o->ints[2] < 0 || o->ints[2] > 2 ||
        o->ints[4] != 1 || o->ints[5] != 1 || (o->ints[6] > 1))
        return 0;
    const od_val *x, *w;
    if (o->op == AIGTATT_OP_CONV2D) {
        x = &p->v[p->redirect[o->in[0]]];
        w = &p->v[p->redirect[o->in[1]]];
    } else if (o->op == AIGTATT_OP_CONV2D_BWD_DATA) {
        x = &p->v[o->out[0]];
        w = &p->v[p->redirect[o->in[1]]];
    } else {
        x = &p->v[p->redirect[o->in[0]]];
        w = &p->v[o->out[0]];
    }
    if (x->ndim != 4 || w->ndim != 4 || w->shape[2] != 3 || w->shape[3] != 3 || x->dtype != AIGTATT_F32 ||
        w->dtype != AIGTATT_F32 || w->shape[1] != x->shape[1])
        return 0;
    *N = x->shape[0];
    *C = x->shape[1];
    *K = w->shape[0];
    *H = x->shape[2];
    *W = x->shape[3];
    *pad = o->ints[2];
    /* whole channel blocks of 8 (no padded layouts), and enough pixels
     * for tiles to pay */
    return *C % 8 == 0 && *K % 8 == 0 && *H + 2 * *pad - 2 >= 2 && *W + 2 * *pad - 2 >= 2;
}

/* The blocked layout of an activation: nChw16c when its producer chose
 * that, else nChw8c. Returns the block. */
static int act_md(od_prog *p, int v, const dnnl_dims_t dims, int64_t C, dnnl_memory_desc_t *md)
{
    const od_val *V = v >= 0 ? &p->v[p->redirect[v]] : NULL;
    if (V && V->home >= 0 && C % 16 == 0) {
        dnnl_memory_desc_t m16;
        dnnl_memory_desc_init_by_tag(&m16, 4, dims, dnnl_f32, dnnl_nChw16c);
        if (dnnl_memory_desc_equal(&p->t[V->home].md, &m16)) {
            *md = m16;
            return 16;
        }
    }
    dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, dnnl_nChw8c);
    return 8;
}

static int temp(od_prog *p, int64_t floats)
{
    dnnl_memory_desc_t md;
    od_md_plain(&md, 1, &floats, dnnl_f32);
    return od_tensor_new(p, &md, -1, -1);
}

/* Whether the forward (or backward data) runs fused, block by block of
 * tiles, or in three passes over all tiles. Fused keeps V and M in cache
 * but reads U once per block; three passes write and read V and M (36 T
 * (C + K) floats) once but read each U[e] only once. Fused where U is the
 * smaller by 4x: the early, large-image layers of a network. */
static int fused(const od_wino_geo *g) { return g->C * g->K * 4 <= g->T * (g->C + g->K); }

/* t: input, weights, output, U, then either the scratch of the fused
 * schedule (each thread's V and M of a block; t[5] unused) or V and M,
 * then the bias (or -1) */
static int k_forward(od_prog *p, od_step *s)
{
    const wino_step *w = s->aux;
    const float *x = od_ptr(p, s->t[0]), *bias = s->t[6] >= 0 ? od_ptr(p, s->t[6]) : NULL;
    float *y = od_ptr(p, s->t[2]), *U = od_ptr(p, s->t[3]);
    od_wino_weights(od_ptr(p, s->t[1]), w->wk, w->wc, w->flip, !w->sgemm, U);
    if (w->tb > 0) {
        od_wino_forward_fused(&w->g, x, U, bias, y, od_ptr(p, s->t[4]), w->tb, p->dev->threads);
        return AIGTATT_OK;
    }
    float *V = od_ptr(p, s->t[4]), *M = od_ptr(p, s->t[5]);
    for (int64_t n0 = 0; n0 < w->g.N; n0 += w->chunk) {
        od_wino_geo c;
        int64_t xo, yo;
        chunk_geo(w, n0, &c, &xo, &yo);
        od_wino_input(&c, x + xo, V, od_wino_rows(&c));
        if (od_wino_multiply(&c, V, U, M, p->dev->threads, w->sgemm))
            return od_fail(AIGTATT_ERR, "oneDNN's sgemm failed in a Winograd convolution");
        od_wino_output(&c, M, od_wino_rows(&c), bias, y + yo);
    }
    return AIGTATT_OK;
}

/* t: x, dy, dw, V, Mg, dU */
static int k_weights(od_prog *p, od_step *s)
{
    const wino_step *w = s->aux;
    const float *x = od_ptr(p, s->t[0]), *dy = od_ptr(p, s->t[1]);
    float *V = od_ptr(p, s->t[3]), *Mg = od_ptr(p, s->t[4]), *dU = od_ptr(p, s->t[5]);
    for (int64_t n0 = 0; n0 < w->g.N; n0 += w->chunk) {
        od_wino_geo c;
        int64_t xo, yo;
        chunk_geo(w, n0, &c, &xo, &yo);
        od_wino_input(&c, x + xo, V, c.T);
        od_wino_grad_output(&c, dy + yo, Mg);
        if (od_wino_multiply_grad(&c, V, Mg, dU, n0 > 0))
            return od_fail(AIGTATT_ERR, "oneDNN's sgemm failed in a Winograd convolution");
    }
    od_wino_weights_grad(dU, w->wk, w->wc, od_ptr(p, s->t[2]));
    return AIGTATT_OK;
}

int od_wino_lower(od_prog *p, int k)
{
    int64_t N, C, K, H, W, pad;
    if (!eligible(p, k, &N, &C, &K, &H, &W, &pad))
        return 0;
    const od_op *o = &p->ops[k];
    int64_t OH = H + 2 * pad - 2, OW = W + 2 * pad - 2;
    dnnl_dims_t xd = { N, C, H, W }, yd = { N, K, OH, OW }, wd = { K, C, 3, 3 };
    wino_step *ws = od_host->alloc_zero(1, sizeof *ws);
    if (!ws)
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory"), -1;
    ws->wk = K;
    ws->wc = C;
    dnnl_memory_desc_t a, b, wm;
    od_md_plain(&wm, 4, wd, dnnl_f32);
    int t[7] = { -1, -1, -1, -1, -1, -1, -1 };
    od_kernel_fn fn;
    const char *what;
    if (o->op == AIGTATT_OP_CONV2D) {
        int bin = act_md(p, o->in[0], xd, C, &a);
        int bout = bin == 16 && K % 16 == 0 ? 16 : 8;
        dnnl_memory_desc_init_by_tag(&b, 4, yd, dnnl_f32, bout == 16 ? dnnl_nChw16c : dnnl_nChw8c);
        od_wino_geometry(&ws->g, N, C, K, H, W, pad, bin, bout);
        t[0] = od_src(p, o->in[0], &a);
        t[1] = od_src_plain(p, o->in[1], 4, wd);
        if (o->n_in > 2 && o->in[2] >= 0)
            t[6] = od_src_plain(p, o->in[2], 1, &K);
        t[2] = od_dst(p, o->out[0], &b);
        fn = k_forward;
        what = "conv2d_winograd";
    } else if (o->op == AIGTATT_OP_CONV2D_BWD_DATA) {
        /* dX = dY (K channels, OH x OW) convolved with the turned kernel,
         * padding 2 - pad, which gives back H x W. */
        int bin = act_md(p, o->in[0], yd, K, &a);
        int bout = bin == 16 && C % 16 == 0 ? 16 : 8;
        dnnl_memory_desc_init_by_tag(&b, 4, xd, dnnl_f32, bout == 16 ? dnnl_nChw16c : dnnl_nChw8c);
        od_wino_geometry(&ws->g, N, K, C, OH, OW, 2 - pad, bin, bout);
        ws->flip = 1;
        t[0] = od_src(p, o->in[0], &a);
        t[1] = od_src_plain(p, o->in[1], 4, wd);
        t[2] = od_dst(p, o->out[0], &b);
        fn = k_forward;
        what = "conv2d_bwd_data_winograd";
    } else {
        int bin = act_md(p, o->in[0], xd, C, &a);
        int bout = act_md(p, o->in[1], yd, K, &b);
        od_wino_geometry(&ws->g, N, C, K, H, W, pad, bin, bout);
        t[0] = od_src(p, o->in[0], &a);
        t[1] = od_src(p, o->in[1], &b);
        t[2] = od_dst(p, o->out[0], &wm);
        fn = k_weights;
        what = "conv2d_bwd_weight_winograd";
    }
    /* fused: U, and each thread's V and M of one block of tiles; else U
     * and V and M of as many images per pass as fit */
    /* AIGTATT_ONEDNN_WINO_SGEMM=1: the forward's products in oneDNN's
     * sgemm, three passes, as before the backend had its own kernel: to
     * measure one against the other where they may rank otherwise (AVX-512,
     * where sgemm is twice as wide as the AVX2 kernel) */
    ws->sgemm = fn == k_forward && od_env_on("AIGTATT_ONEDNN_WINO_SGEMM");
    if (fn == k_forward && !ws->sgemm && fused(&ws->g)) {
        /* no longer than a thread's share of the tiles (rounded up to 6):
         * the scratch is per thread */
        int64_t share = (ws->g.T + p->dev->threads - 1) / p->dev->threads;
        ws->tb = od_wino_block_tiles(&ws->g);
        if (ws->tb > (share + 5) / 6 * 6)
            ws->tb = (share + 5) / 6 * 6;
        t[3] = temp(p, od_wino_u_floats(&ws->g));
        t[4] = temp(p, p->dev->threads * od_wino_fused_floats(&ws->g, ws->tb));
    } else {
        od_wino_geo one;
        od_wino_geometry(&one, 1, ws->g.C, ws->g.K, ws->g.H, ws->g.W, ws->g.pad, ws->g.bin, ws->g.bout);
        int64_t per_image = (od_wino_v_floats(&one) + od_wino_m_floats(&one)) * (int64_t)sizeof(float);
        int64_t budget = WINO_TEMP_BYTES;
        const char *env = getenv("AIGTATT_ONEDNN_WINO_TEMP_KB"); /* tests: force small chunks */
        if (env && atoll(env) > 0)
            budget = (int64_t)atoll(env) << 10;
        ws->chunk = budget / per_image;
        if (ws->chunk < 1)
            ws->chunk = 1;
        if (ws->chunk > ws->g.N)
            ws->chunk = ws->g.N;
        od_wino_geo g;
        od_wino_geometry(&g, ws->chunk, ws->g.C, ws->g.K, ws->g.H, ws->g.W, ws->g.pad, ws->g.bin, ws->g.bout);
        int u = fn == k_forward ? 3 : 5, v = fn == k_forward ? 4 : 3, m = fn == k_forward ? 5 : 4;
        t[u] = temp(p, od_wino_u_floats(&g));
        t[v] = temp(p, od_wino_v_floats(&g));
        t[m] = temp(p, od_wino_m_floats(&g));
    }
    od_step *s = NULL;
    int ok = 1;
    for (int i = 0; i < 6; i++)
        ok &= t[i] >= 0 || (i == 5 && ws->tb > 0); /* fused: no t[5] */
    if (ok && o->op == AIGTATT_OP_CONV2D && o->n_in > 2 && o->in[2] >= 0 && t[6] < 0)
        ok = 0;
    if (ok)
        s = od_step_kernel(p, what, fn);
    if (!s) {
        od_host->free_mem(ws);
        return -1;
    }
    memcpy(s->t, t, sizeof t);
    s->nt = 7;
    s->aux = ws;
    return 1;
}
