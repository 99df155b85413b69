/* One IR op -> oneDNN primitives (or C kernels). Layout policy: a
 * primitive that can choose (convolution, pooling) gets format "any" or the
 * layout its input already has; element-wise and normalisation primitives
 * work in their input's layout; everything that needs plain data gets a
 * plain copy from od_src(). Ops oneDNN lacks, or cases where its semantics
 * differ from PyTorch's, run backend.reference's loops (od_ref.c). */
#include "od_internal.h"
#include "od_bn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static od_val *val(od_prog *p, int v) { return &p->v[p->redirect[v]]; }
static dnnl_engine_t eng(od_prog *p) { return p->dev->engine; }

static int md_padded(const dnnl_memory_desc_t *md)
{
    for (int i = 0; i < md->ndims; i++)
        if (md->padded_dims[i] != md->dims[i])
            return 1;
    return 0;
}

/* The layout v is in when a primitive may keep it: its home, unless that
 * has padded blocks (an element-wise op would write f(0) != 0 into the
 * padding), then plain. */
static int src_keep(od_prog *p, int v)
{
    int t = od_src(p, v, NULL);
    if (t < 0)
        return -1;
    if (md_padded(&p->t[t].md))
        return od_src_plain(p, v, 0, NULL);
    return t;
}

/* The md to ask a choosing primitive for v: its blocked home layout when it
 * has one with these dims, else "any". */
static dnnl_memory_desc_t want_md(od_prog *p, int v, int ndim, const int64_t *dims)
{
    dnnl_memory_desc_t md;
    od_val *V = val(p, v);
    if (V->home >= 0) {
        const dnnl_memory_desc_t *h = &p->t[V->home].md;
        int ok = h->ndims == ndim && !od_md_is_plain(h) && h->format_kind == dnnl_blocked &&
                 h->data_type == od_act_dt(p);
        for (int i = 0; ok && i < ndim; i++)
            ok = h->dims[i] == dims[i];
        if (ok)
            return *h;
    }
    od_md_any(&md, ndim, dims, od_act_dt(p));
    return md;
}

static int pd_create(dnnl_primitive_desc_t *pd, const void *desc, const_dnnl_primitive_attr_t attr, od_prog *p,
                     const_dnnl_primitive_desc_t hint)
{
    return dnnl_primitive_desc_create(pd, desc, attr, eng(p), hint) == dnnl_success ? 0 : -1;
}

/* ---- convolution ---- */

typedef struct conv_geo {
    int64_t src[4], wei[5], bias[1], dst[4];
    int wnd;
    dnnl_dims_t strides, dil, pl, pr;
} conv_geo;

static void conv_geometry(const od_op *o, const od_val *x, const od_val *w, const od_val *y, conv_geo *g)
{
    int64_t groups = o->ints[6] > 0 ? o->ints[6] : 1;
    for (int i = 0; i < 4; i++) {
        g->src[i] = x->shape[i];
        g->dst[i] = y->shape[i];
    }
    int64_t O = w->shape[0];
    if (groups > 1) {
        g->wnd = 5;
        g->wei[0] = groups;
        g->wei[1] = O / groups;
        g->wei[2] = w->shape[1];
        g->wei[3] = w->shape[2];
        g->wei[4] = w->shape[3];
    } else {
        g->wnd = 4;
        for (int i = 0; i < 4; i++)
            g->wei[i] = w->shape[i];
    }
    g->bias[0] = O;
    g->strides[0] = o->ints[0];
    g->strides[1] = o->ints[1];
    g->pl[0] = g->pr[0] = o->ints[2];
    g->pl[1] = g->pr[1] = o->ints[3];
    g->dil[0] = o->ints[4] - 1;
    g->dil[1] = o->ints[5] - 1;
}

static int conv_fwd_pd(od_prog *p, const conv_geo *g, const dnnl_memory_desc_t *src, int bias,
                       dnnl_prop_kind_t prop, const_dnnl_primitive_attr_t attr, dnnl_primitive_desc_t *pd)
{
    dnnl_memory_desc_t w, b, d;
    od_md_any(&w, g->wnd, g->wei, od_act_dt(p));
    od_md_plain(&b, 1, g->bias, dnnl_f32);
    od_md_any(&d, 4, g->dst, od_act_dt(p));
    dnnl_convolution_desc_t cd;
    if (dnnl_dilated_convolution_forward_desc_init(&cd, prop, p->dev->conv_alg, src, &w, bias ? &b : NULL,
                                                   &d, g->strides, g->dil, g->pl, g->pr) != dnnl_success)
        return -1;
    return pd_create(pd, &cd, attr, p, NULL);
}

static int conv2d(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], w = o->in[1], b = o->n_in > 2 ? o->in[2] : -1, y = o->out[0];
    conv_geo g;
    conv_geometry(o, val(p, x), val(p, w), &p->v[y], &g);
    dnnl_memory_desc_t src = want_md(p, x, 4, g.src);
    dnnl_primitive_attr_t a = od_attr(NULL);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_prop_kind_t prop = p->training ? dnnl_forward_training : dnnl_forward_inference;
    int bad = conv_fwd_pd(p, &g, &src, b >= 0, prop, a, &pd);
    if (bad && src.format_kind != dnnl_format_kind_any) {
        od_md_any(&src, 4, g.src, od_act_dt(p));
        bad = conv_fwd_pd(p, &g, &src, b >= 0, prop, a, &pd);
    }
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_fail(AIGTATT_ERR, "no oneDNN convolution for these shapes");
    dnnl_memory_desc_t sm = od_qmd(pd, dnnl_query_src_md), wm = od_qmd(pd, dnnl_query_weights_md),
                       dm = od_qmd(pd, dnnl_query_dst_md);
    /* Training: the weights (and later their optimizer state) stay in this
     * convolution's layout, so neither the forward nor the update needs a
     * reorder; set()/get() convert. */
    if (p->training && p->dev->fuse && !p->dev->bf16 && val(p, w)->role == AIGTATT_IR_PARAM)
        od_relayout(p, p->redirect[w], &wm);
    /* In bf16 the f32 master weights stay plain; the bf16 copy the
     * convolution reads is a cached reorder, redone after each update. */
    int tx = od_src(p, x, &sm), tw = od_src(p, w, &wm), tb = b >= 0 ? od_src_plain(p, b, 1, g.bias) : -1;
    int ty = od_dst(p, y, &dm);
    if (tx < 0 || tw < 0 || (b >= 0 && tb < 0) || ty < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "conv2d", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_WEIGHTS, tw);
    od_step_arg(s, DNNL_ARG_BIAS, tb);
    od_step_arg(s, DNNL_ARG_DST, ty);
    return AIGTATT_OK;
}

static int conv_bwd_data(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int dy = o->in[0], w = o->in[1], dx = o->out[0];
    conv_geo g;
    conv_geometry(o, &p->v[dx], val(p, w), val(p, dy), &g);
    dnnl_memory_desc_t src, wa, dd = want_md(p, dy, 4, g.dst);
    od_md_any(&src, 4, g.src, od_act_dt(p));
    od_md_any(&wa, g.wnd, g.wei, od_act_dt(p));
    dnnl_primitive_attr_t a = od_attr(NULL);
    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    int bad = conv_fwd_pd(p, &g, &src, 0, dnnl_forward_training, a, &hint);
    for (int tries = 0; !bad && tries < 2; tries++) {
        dnnl_convolution_desc_t cd;
        bad = dnnl_dilated_convolution_backward_data_desc_init(&cd, p->dev->conv_alg, &src, &wa, &dd,
                                                               g.strides, g.dil, g.pl, g.pr) != dnnl_success ||
              pd_create(&pd, &cd, a, p, hint);
        if (!bad)
            break;
        if (dd.format_kind == dnnl_format_kind_any)
            break;
        od_md_any(&dd, 4, g.dst, od_act_dt(p));
        bad = 0;
    }
    if (hint)
        dnnl_primitive_desc_destroy(hint);
    dnnl_primitive_attr_destroy(a);
    if (bad || !pd)
        return od_fail(AIGTATT_ERR, "no oneDNN backward-data convolution for these shapes");
    dnnl_memory_desc_t sm = od_qmd(pd, dnnl_query_diff_src_md), wm = od_qmd(pd, dnnl_query_weights_md),
                       dm = od_qmd(pd, dnnl_query_diff_dst_md);
    int tdy = od_src(p, dy, &dm), tw = od_src(p, w, &wm), tdx = od_dst(p, dx, &sm);
    if (tdy < 0 || tw < 0 || tdx < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "conv2d_bwd_data", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_DIFF_DST, tdy);
    od_step_arg(s, DNNL_ARG_WEIGHTS, tw);
    od_step_arg(s, DNNL_ARG_DIFF_SRC, tdx);
    return AIGTATT_OK;
}

static int conv_bwd_weight(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], dy = o->in[1], dw = o->out[0];
    conv_geo g;
    conv_geometry(o, val(p, x), &p->v[dw], val(p, dy), &g);
    dnnl_memory_desc_t src = want_md(p, x, 4, g.src), wa, dd = want_md(p, dy, 4, g.dst);
    od_md_any(&wa, g.wnd, g.wei, dnnl_f32); /* weight gradients stay f32 */
    /* The parameter this is the gradient of, when an update reads it: its
     * layout, if the implementation oneDNN picks for it is the one it
     * picks anyway. */
    int param = -1;
    for (size_t j = (size_t)k + 1; j < p->nops && param < 0; j++)
        if ((p->ops[j].op == AIGTATT_OP_SGD_UPDATE || p->ops[j].op == AIGTATT_OP_ADAM_UPDATE) && p->ops[j].in[1] == dw)
            param = p->ops[j].in[0];
    dnnl_memory_desc_t pw;
    int prefer = param >= 0 && p->v[param].stage >= 0;
    if (prefer)
        pw = p->t[p->v[param].home].md;
    dnnl_primitive_attr_t a = od_attr(NULL);
    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    int bad = 1;
    for (int tries = 0; tries < 2; tries++) {
        if (tries && pd) {
            /* The layouts the neighbours chose got only oneDNN's reference
             * kernel (it happens on tiny feature maps, 2x2 in layer4 of a
             * 64x64 input): try the layouts oneDNN prefers, and keep the
             * reference kernel only if they do no better. */
            const char *impl = "";
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
            if (!impl || strncmp(impl, "ref", 3))
                break;
        }
        if (tries) { /* let oneDNN choose everything */
            od_md_any(&src, 4, g.src, od_act_dt(p));
            od_md_any(&dd, 4, g.dst, od_act_dt(p));
        }
        if (hint)
            dnnl_primitive_desc_destroy(hint);
        hint = NULL;
        if (conv_fwd_pd(p, &g, &src, 0, dnnl_forward_training, a, &hint))
            continue;
        dnnl_convolution_desc_t cd;
        dnnl_primitive_desc_t first = pd;
        pd = NULL;
        bad = dnnl_dilated_convolution_backward_weights_desc_init(&cd, p->dev->conv_alg, &src, &wa, NULL, &dd,
                                                                  g.strides, g.dil, g.pl, g.pr) != dnnl_success ||
              pd_create(&pd, &cd, a, p, hint);
        if (first) {
            const char *impl = "";
            if (!bad)
                dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
            if (bad || !impl || !strncmp(impl, "ref", 3)) {
                if (!bad)
                    dnnl_primitive_desc_destroy(pd);
                pd = first; /* no better: the first one stays */
                bad = 0;
                break;
            }
            dnnl_primitive_desc_destroy(first);
        }
        if (!bad && prefer) {
            dnnl_primitive_desc_t pd2 = NULL;
            const char *i1 = "", *i2 = "";
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &i1);
            if (dnnl_dilated_convolution_backward_weights_desc_init(&cd, p->dev->conv_alg, &src, &pw, NULL, &dd,
                                                                    g.strides, g.dil, g.pl, g.pr) == dnnl_success &&
                !pd_create(&pd2, &cd, a, p, hint)) {
                dnnl_primitive_desc_query(pd2, dnnl_query_impl_info_str, 0, &i2);
                if (i1 && i2 && !strcmp(i1, i2)) {
                    dnnl_primitive_desc_destroy(pd);
                    pd = pd2;
                } else {
                    dnnl_primitive_desc_destroy(pd2);
                }
            }
        }
    }
    if (hint)
        dnnl_primitive_desc_destroy(hint);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_fail(AIGTATT_ERR, "no oneDNN backward-weights convolution for these shapes");
    dnnl_memory_desc_t sm = od_qmd(pd, dnnl_query_src_md), wm = od_qmd(pd, dnnl_query_diff_weights_md),
                       dm = od_qmd(pd, dnnl_query_diff_dst_md);
    int tx = od_src(p, x, &sm), tdy = od_src(p, dy, &dm), tdw = od_dst(p, dw, &wm);
    if (tx < 0 || tdy < 0 || tdw < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "conv2d_bwd_weight", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_DIFF_DST, tdy);
    od_step_arg(s, DNNL_ARG_DIFF_WEIGHTS, tdw);
    return AIGTATT_OK;
}

/* Backward weights of a one-group, undilated convolution as one oneDNN
 * matmul over the output pixels: dW[K][kh kw C] = dY^T col, with dY as an
 * (N OH OW) x K matrix (what it is in NHWC, the layout oneDNN 2.6 picks for
 * bf16 activations on AMX CPUs) and col the (N OH OW) x (kh kw C) matrix
 * of the input patches each output pixel sees (im2col, from NHWC X; for a
 * 1x1, stride-1, unpadded convolution X itself). Why: on AMX CPUs oneDNN
 * 2.6's backward-weights convolutions take 3.4x the time of the same
 * convolution forward (docs/performance.md), and a matmul is the operation
 * its AMX kernels are built around. When it is taken: want_bwd_weight_matmul()
 * below. On other layouts X and dY are reordered to NHWC
 * first, which costs more than it can save, but keeps the path testable
 * anywhere. The gradient comes out in [K][kh][kw][C] order (ohwi), and is
 * reordered where its parameter lives otherwise. Returns 1 lowered, 0 not
 * taken, -1 error. */
static int matmul_step(od_prog *p, const char *what, int ta, const dnnl_memory_desc_t *am, int tb,
                       const dnnl_memory_desc_t *bm, int tbias, const dnnl_memory_desc_t *biasm, int ty,
                       const dnnl_memory_desc_t *ym);

/* The patches for conv_bwd_weight_matmul. */
typedef struct im2col_geo {
    int64_t N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw;
    size_t esize;
} im2col_geo;

/* t: x (NHWC), col ((N OH OW) x (kh kw C), zeros where a tap falls in the
 * padding). The kw taps of one kernel row read consecutive input pixels,
 * which NHWC keeps contiguous: one copy per kernel row instead of one per
 * tap (the stem's 3-channel taps are 6 bytes each). */
static int k_im2col(od_prog *p, od_step *s)
{
    const im2col_geo *g = s->aux;
    const char *x = od_ptr(p, s->t[0]);
    char *col = od_ptr(p, s->t[1]);
    size_t px = (size_t)g->C * g->esize, patch = px * (size_t)(g->kh * g->kw), row = px * (size_t)g->kw;
#pragma omp parallel for collapse(2) schedule(static) num_threads(p->dev->threads)
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t oh = 0; oh < g->OH; oh++)
            for (int64_t ow = 0; ow < g->OW; ow++) {
                char *d = col + (size_t)((n * g->OH + oh) * g->OW + ow) * patch;
                int64_t iw0 = ow * g->sw - g->pw;
                /* the taps of a kernel row inside the image: j in [j0, j1) */
                int64_t j0 = iw0 < 0 ? -iw0 : 0, j1 = g->W - iw0 < g->kw ? g->W - iw0 : g->kw;
                if (j1 < j0)
                    j1 = j0;
                for (int64_t i = 0; i < g->kh; i++, d += row) {
                    int64_t ih = oh * g->sh - g->ph + i;
                    if (ih < 0 || ih >= g->H || j0 >= j1) {
                        memset(d, 0, row);
                        continue;
                    }
                    if (j0 > 0)
                        memset(d, 0, (size_t)j0 * px);
                    memcpy(d + (size_t)j0 * px, x + (size_t)((n * g->H + ih) * g->W + iw0 + j0) * px,
                           (size_t)(j1 - j0) * px);
                    if (j1 < g->kw)
                        memset(d + (size_t)j1 * px, 0, (size_t)(g->kw - j1) * px);
                }
            }
    return AIGTATT_OK;
}

/* Whether a convolution's backward weights take the matmul path. Measured
 * on a 2-core AMX VM (docs/performance.md, sessions 10 and 11): a bf16
 * ResNet-50 step spent 0.335 s in oneDNN's backward-weights convolutions
 * against 0.244 s for im2col + matmul, so bf16 on an AMX CPU takes it by
 * default, but not for inputs of under 16 channels (the 7x7 stem: the
 * matmul is no faster than its direct convolution) and, for convolutions
 * that need im2col, not below 256 output channels: there the matmul
 * (K x P by P x kh kw C with K small and P large) lost 2-3x to oneDNN's
 * own kernel (ResNet-18's 64-channel 3x3 convolutions at 56x56: 20 ms
 * against 3-7 ms each; 128 channels: 10 ms against 3-5.5 ms; 512
 * channels: 8 ms against 9-20 ms). Plain 1x1 convolutions need no im2col
 * and take the matmul at any width. Elsewhere the direct convolution
 * stays (fp32 gained nothing on AVX2). AIGTATT_ONEDNN_MATMUL_IM2COL=1
 * forces it for every eligible convolution, =0 turns it off;
 * AIGTATT_ONEDNN_MATMUL_1X1=1 adds the plain 1x1 ones elsewhere. */
enum { BWD_WEIGHT_MATMUL_MIN_K = 256 };
static int want_bwd_weight_matmul(od_prog *p, int plain_1x1, int64_t C, int64_t K)
{
    const char *e = getenv("AIGTATT_ONEDNN_MATMUL_IM2COL");
    if (e && *e)
        return atoi(e) > 0;
    if (plain_1x1 && od_env_on("AIGTATT_ONEDNN_MATMUL_1X1"))
        return 1;
    static int amx = -1;
    if (amx < 0)
        amx = dnnl_get_effective_cpu_isa() >= dnnl_cpu_isa_avx512_core_amx;
    return amx && od_act_dt(p) == dnnl_bf16 && C >= 16 && (plain_1x1 || K >= BWD_WEIGHT_MATMUL_MIN_K);
}

static int conv_bwd_weight_matmul(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], dy = o->in[1], dw = o->out[0];
    const od_val *X = val(p, x), *DY = val(p, dy), *DW = &p->v[dw];
    if (X->ndim != 4 || DY->ndim != 4 || DW->ndim != 4 || o->ints[4] != 1 || o->ints[5] != 1 || o->ints[6] > 1 ||
        DW->dtype != AIGTATT_F32)
        return 0;
    int64_t N = X->shape[0], C = X->shape[1], H = X->shape[2], W = X->shape[3], K = DW->shape[0];
    int64_t kh = DW->shape[2], kw = DW->shape[3], OH = DY->shape[2], OW = DY->shape[3];
    int plain_1x1 = kh == 1 && kw == 1 && o->ints[0] == 1 && o->ints[1] == 1 && o->ints[2] == 0 &&
                    o->ints[3] == 0 && OH == H && OW == W;
    if (!want_bwd_weight_matmul(p, plain_1x1, C, K))
        return 0;
    int64_t P = N * OH * OW, KC = kh * kw * C;
    dnnl_data_type_t dt = od_act_dt(p);
    dnnl_dims_t xd = { N, C, H, W }, yd = { N, K, OH, OW }, wd = { K, C, kh, kw };
    dnnl_memory_desc_t xm, ym, wm;
    dnnl_memory_desc_init_by_tag(&xm, 4, xd, dt, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(&ym, 4, yd, dt, dnnl_nhwc);
    if (kh * kw == 1) /* the same bytes as plain, and what the update reads */
        od_md_plain(&wm, 4, wd, dnnl_f32);
    else
        dnnl_memory_desc_init_by_tag(&wm, 4, wd, dnnl_f32, dnnl_ohwi);
    /* A = dY^T (K x P, a transposed view), B = col (P x kh kw C), D = dW
     * (K x kh kw C) */
    dnnl_memory_desc_t am, bm, dm;
    dnnl_dims_t ad = { K, P }, as = { 1, K }, bd = { P, KC }, bs = { KC, 1 }, dd = { K, KC }, ds = { KC, 1 };
    dnnl_memory_desc_init_by_strides(&am, 2, ad, dt, as);
    dnnl_memory_desc_init_by_strides(&bm, 2, bd, dt, bs);
    dnnl_memory_desc_init_by_strides(&dm, 2, dd, dnnl_f32, ds);
    /* whether oneDNN has such a matmul at all, before any reorder is
     * added: without one the convolution lowers as usual */
    dnnl_matmul_desc_t probe;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_matmul_desc_init(&probe, &am, &bm, NULL, &dm) != dnnl_success || pd_create(&pd, &probe, NULL, p, NULL))
        return 0;
    dnnl_primitive_desc_destroy(pd);
    int tx = od_src(p, x, &xm), tdy = od_src(p, dy, &ym), tdw = od_dst(p, dw, &wm);
    if (tx < 0 || tdy < 0 || tdw < 0)
        return -1;
    int tb = tx;
    if (!plain_1x1) {
        im2col_geo *g = od_host->alloc_zero(1, sizeof *g);
        if (!g)
            return od_fail(AIGTATT_ERR_NOMEM, "out of memory"), -1;
        *g = (im2col_geo){ .N = N, .C = C, .H = H, .W = W, .OH = OH, .OW = OW, .kh = kh, .kw = kw,
                           .sh = o->ints[0], .sw = o->ints[1], .ph = o->ints[2], .pw = o->ints[3],
                           .esize = dt == dnnl_bf16 ? 2 : 4 };
        dnnl_memory_desc_t cm;
        dnnl_dims_t cd = { P, KC };
        dnnl_memory_desc_init_by_tag(&cm, 2, cd, dt, dnnl_ab);
        tb = od_tensor_new(p, &cm, -1, -1);
        od_step *s = tb >= 0 ? od_step_kernel(p, "im2col", k_im2col) : NULL;
        if (!s) {
            od_host->free_mem(g);
            return -1;
        }
        s->t[0] = tx;
        s->t[1] = tb;
        s->nt = 2;
        s->aux = g;
    }
    int r = matmul_step(p, "conv2d_bwd_weight_matmul", tdy, &am, tb, &bm, -1, NULL, tdw, &dm);
    if (r > 0)
        return od_fail(AIGTATT_ERR, "oneDNN has no matmul for a convolution's backward weights (%lld x %lld "
                                    "by %lld x %lld)",
                       (long long)K, (long long)P, (long long)P, (long long)KC),
               -1;
    return r ? -1 : 1;
}

/* ---- batch norm ---- */

/* The layouts od_bn.c handles (f32 or bf16): plain, nChw8c, nChw16c,
 * NHWC, without padded channels; *B gets the layout code (OD_BN_*). */
static int bn_native_layout(od_prog *p, const dnnl_memory_desc_t *md, int64_t *B)
{
    if (!p->dev->native_bn || md->ndims < 2 || (md->data_type != dnnl_f32 && md->data_type != dnnl_bf16))
        return 0;
    int64_t C = md->dims[1];
    switch (od_md_layout(md)) {
    case OD_LAYOUT_PLAIN:
        *B = OD_BN_PLAIN;
        return 1;
    case OD_LAYOUT_NCHW8C:
        *B = OD_BN_BLOCK8;
        return C % 8 == 0;
    case OD_LAYOUT_NCHW16C:
        *B = OD_BN_BLOCK16;
        return C % 16 == 0;
    case OD_LAYOUT_NHWC:
        *B = OD_BN_NHWC;
        return C % 8 == 0;
    default:
        return 0;
    }
}

static void bn_geo_ints(od_step *s, const od_val *X, int64_t B)
{
    int64_t hw = 1;
    for (int d = 2; d < X->ndim; d++)
        hw *= X->shape[d];
    s->i[0] = X->shape[0];
    s->i[1] = X->shape[1];
    s->i[2] = hw;
    s->i[3] = B;
}

static int batch_norm_native(od_prog *p, int k, int tx, int64_t B, int fuse_relu)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], w = o->in[1], b = o->in[2], rm = o->in[3], rv = o->in[4], nbt = o->in[5];
    int sm = o->n_out > 1 ? o->out[1] : -1, si = o->n_out > 2 ? o->out[2] : -1;
    int bs = (int)o->ints[0], upd = (int)o->ints[1];
    od_val *X = val(p, x);
    int64_t C = X->shape[1];
    dnnl_memory_desc_t xm = p->t[tx].md, cm;
    od_md_plain(&cm, 1, &C, dnnl_f32);
    int yv = fuse_relu ? p->ops[fuse_relu - 1].out[0] : o->out[0];
    int ty = od_dst_inplace(p, yv, &xm, tx);
    int tw = w >= 0 ? od_src_plain(p, w, 1, &C) : -1, tb = b >= 0 ? od_src_plain(p, b, 1, &C) : -1;
    int trm = rm >= 0 ? od_src(p, rm, NULL) : -1, trv = rv >= 0 ? od_src(p, rv, NULL) : -1;
    int tn = nbt >= 0 ? od_src(p, nbt, NULL) : -1;
    int tsm = bs && sm >= 0 ? od_dst(p, sm, &cm) : -1, tsi = bs && si >= 0 ? od_dst(p, si, &cm) : -1;
    if (ty < 0 || (w >= 0 && tw < 0) || (b >= 0 && tb < 0) || (bs && sm >= 0 && tsm < 0) || (bs && si >= 0 && tsi < 0))
        return AIGTATT_ERR;
    od_step *s = od_step_kernel(p, fuse_relu ? "batch_norm+relu" : "batch_norm", od_k_bn_fwd);
    if (!s)
        return AIGTATT_ERR;
    int t[9] = { tx, ty, tw, tb, trm, trv, tn, tsm, tsi };
    for (int i = 0; i < 9; i++)
        s->t[i] = t[i];
    s->nt = 9;
    bn_geo_ints(s, X, B);
    s->i[4] = (fuse_relu ? 1 : 0) | (bs ? 2 : 0) | (bs && upd ? 4 : 0);
    s->i[5] = rm >= 0 ? rm : 0;
    s->i[6] = rv >= 0 ? rv : 0;
    s->i[7] = nbt >= 0 ? nbt : 0;
    s->f[0] = o->reals[0];
    s->f[1] = o->reals[1];
    if (fuse_relu)
        p->ws[k] = -2; /* the backward takes the ReLU's mask from its output */
    if (bs && upd) {
        if (rm >= 0)
            p->v[rm].nalt = 0;
        if (rv >= 0)
            p->v[rv].nalt = 0;
    }
    return AIGTATT_OK;
}

static int batch_norm(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], w = o->in[1], b = o->in[2], rm = o->in[3], rv = o->in[4], nbt = o->in[5];
    int y = o->out[0], sm = o->n_out > 1 ? o->out[1] : -1, si = o->n_out > 2 ? o->out[2] : -1;
    int bs = (int)o->ints[0], upd = (int)o->ints[1];
    if (!bs && (rm < 0 || rv < 0))
        return od_lower_ref(p, k);
    int64_t C = val(p, x)->shape[1];
    int fuse_relu = od_bn_relu_fused(p, k);
    int tx = od_src(p, x, NULL);
    if (tx < 0)
        return AIGTATT_ERR;
    int64_t B;
    if (bn_native_layout(p, &p->t[tx].md, &B))
        return batch_norm_native(p, k, tx, B, fuse_relu);
    dnnl_memory_desc_t xm = p->t[tx].md, cm;
    od_md_plain(&cm, 1, &C, dnnl_f32);
    unsigned flags = (w >= 0 ? dnnl_use_scale : 0) | (b >= 0 ? dnnl_use_shift : 0) |
                     (bs ? 0 : dnnl_use_global_stats) | (fuse_relu ? dnnl_fuse_norm_relu : 0);
    dnnl_prop_kind_t prop = bs || fuse_relu ? dnnl_forward_training : dnnl_forward_inference;
    dnnl_batch_normalization_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    int bad = dnnl_batch_normalization_forward_desc_init(&d, prop, &xm, (float)o->reals[1], flags) != dnnl_success ||
              pd_create(&pd, &d, a, p, NULL);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_fail(AIGTATT_ERR, "no oneDNN batch normalization for this layout");
    /* With ReLU fused the step writes the ReLU's output instead. */
    int yv = fuse_relu ? p->ops[fuse_relu - 1].out[0] : y;
    int ty = od_dst_inplace(p, yv, &xm, tx);
    int tw = w >= 0 ? od_src_plain(p, w, 1, &C) : -1, tb = b >= 0 ? od_src_plain(p, b, 1, &C) : -1;
    int tmean, tvar, tws = -1;
    if (bs) {
        tmean = od_dst(p, sm, &cm);
        tvar = od_tensor_new(p, &cm, -1, -1);
    } else {
        tmean = od_src_plain(p, rm, 1, &C);
        tvar = od_src_plain(p, rv, 1, &C);
    }
    if (fuse_relu) {
        dnnl_memory_desc_t wsm = od_qmd(pd, dnnl_query_workspace_md);
        tws = od_tensor_new(p, &wsm, -1, -1);
        p->ws[k] = tws;
        dnnl_primitive_desc_clone(&p->fwd_pd[k], pd);
    }
    if (ty < 0 || (w >= 0 && tw < 0) || (b >= 0 && tb < 0) || tmean < 0 || tvar < 0 || (fuse_relu && tws < 0)) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, fuse_relu ? "batch_norm+relu" : "batch_norm", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_DST, ty);
    od_step_arg(s, DNNL_ARG_SCALE, tw);
    od_step_arg(s, DNNL_ARG_SHIFT, tb);
    od_step_arg(s, DNNL_ARG_MEAN, tmean);
    od_step_arg(s, DNNL_ARG_VARIANCE, tvar);
    od_step_arg(s, DNNL_ARG_WORKSPACE, tws);
    if (!bs || (si < 0 && !upd))
        return AIGTATT_OK;
    /* save_invstd and the running statistics, from oneDNN's mean and
     * (biased) variance. */
    int tinv = si >= 0 ? od_dst(p, si, &cm) : -1;
    int trm = upd && rm >= 0 ? od_src(p, rm, NULL) : -1, trv = upd && rv >= 0 ? od_src(p, rv, NULL) : -1;
    int tn = upd && nbt >= 0 ? od_src(p, nbt, NULL) : -1;
    if ((si >= 0 && tinv < 0))
        return AIGTATT_ERR;
    s = od_step_kernel(p, "batch_norm_stats", od_k_bn_stats);
    if (!s)
        return AIGTATT_ERR;
    s->t[0] = tmean;
    s->t[1] = tvar;
    s->t[2] = tinv;
    s->t[3] = trm;
    s->t[4] = trv;
    s->t[5] = tn;
    s->nt = 6;
    s->i[0] = upd;
    s->i[1] = C;
    s->i[2] = val(p, x)->numel / C;
    s->i[3] = rm >= 0 ? p->redirect[rm] : -1;
    s->i[4] = rv >= 0 ? p->redirect[rv] : -1;
    s->i[5] = nbt >= 0 ? p->redirect[nbt] : -1;
    s->f[0] = o->reals[0];
    s->f[1] = o->reals[1];
    return AIGTATT_OK;
}

/* var = 1/invstd^2 - eps into a new [n] tensor (oneDNN's backward takes
 * the variance; the IR keeps invstd). */
static int var_from_invstd(od_prog *p, int inv, int64_t n, double eps)
{
    dnnl_memory_desc_t cm;
    od_md_plain(&cm, 1, &n, dnnl_f32);
    int ti = od_src_plain(p, inv, 1, &n), tv = od_tensor_new(p, &cm, -1, -1);
    if (ti < 0 || tv < 0)
        return -1;
    od_step *s = od_step_kernel(p, "var_from_invstd", od_k_var_from_invstd);
    if (!s)
        return -1;
    s->t[0] = ti;
    s->t[1] = tv;
    s->nt = 2;
    s->i[0] = n;
    s->f[0] = eps;
    return tv;
}

static int batch_norm_bwd(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int dy = o->in[0], x = o->in[1], w = o->in[2], m = o->in[3], sv = o->in[4];
    int dx = o->out[0], dw = o->n_out > 1 ? o->out[1] : -1, db = o->n_out > 2 ? o->out[2] : -1;
    int train = (int)o->ints[0];
    int64_t C = val(p, x)->shape[1];
    /* A ReLU fused into the forward: its backward is fused here too. */
    int fwd = -1;
    int fused = od_bn_bwd_fused(p, k, &fwd, &dy);
    int need = dw >= 0 || db >= 0;
    {
        int tx0 = od_src(p, x, NULL);
        int64_t B;
        if (tx0 < 0)
            return AIGTATT_ERR;
        if (fused ? p->ws[fwd] == -2 : bn_native_layout(p, &p->t[tx0].md, &B)) {
            dnnl_memory_desc_t xm0 = p->t[tx0].md, cm0;
            if (!bn_native_layout(p, &xm0, &B)) /* same layout as the forward's */
                return od_fail(AIGTATT_ERR, "batch norm backward: x changed layout");
            od_md_plain(&cm0, 1, &C, dnnl_f32);
            /* the fused ReLU's mask is recomputed from x and the forward's
             * affine transform (its bias is not a backward input) */
            int fbias = fused ? p->ops[fwd].in[2] : -1;
            int tdy = od_src(p, dy, &xm0), ty = fbias >= 0 ? od_src_plain(p, fbias, 1, &C) : -1;
            int tm = od_src_plain(p, m, 1, &C), tv = od_src_plain(p, sv, 1, &C);
            int tw = w >= 0 ? od_src_plain(p, w, 1, &C) : -1;
            int tdx = dx >= 0 ? od_dst_inplace(p, dx, &xm0, tdy) : -1;
            int tdw = dw >= 0 ? od_dst(p, dw, &cm0) : -1, tdb = db >= 0 ? od_dst(p, db, &cm0) : -1;
            if (tdy < 0 || (fbias >= 0 && ty < 0) || tm < 0 || tv < 0 || (w >= 0 && tw < 0) || (dx >= 0 && tdx < 0) ||
                (dw >= 0 && tdw < 0) || (db >= 0 && tdb < 0))
                return AIGTATT_ERR;
            od_step *s = od_step_kernel(p, fused ? "batch_norm_bwd+relu" : "batch_norm_bwd", od_k_bn_bwd);
            if (!s)
                return AIGTATT_ERR;
            int t[9] = { tdy, tx0, tw, tm, tv, ty, tdx, tdw, tdb };
            for (int i = 0; i < 9; i++)
                s->t[i] = t[i];
            s->nt = 9;
            bn_geo_ints(s, val(p, x), B);
            s->i[4] = train;
            s->i[5] = fused;
            s->f[0] = o->reals[0];
            return AIGTATT_OK;
        }
        if (fused && (p->ws[fwd] < 0 || !p->fwd_pd[fwd]))
            return od_fail(AIGTATT_ERR, "batch norm backward: the fused forward left no workspace");
    }
    unsigned flags = (w >= 0 ? dnnl_use_scale : 0) | (need && db >= 0 ? dnnl_use_shift : 0) |
                     (train ? 0 : dnnl_use_global_stats) | (fused ? dnnl_fuse_norm_relu : 0);
    dnnl_prop_kind_t prop = need ? dnnl_backward : dnnl_backward_data;
    int tx = od_src(p, x, NULL);
    if (tx < 0)
        return AIGTATT_ERR;
    dnnl_memory_desc_t xm = p->t[tx].md, cm;
    od_md_plain(&cm, 1, &C, dnnl_f32);
    float eps = (float)o->reals[0];
    dnnl_primitive_attr_t a = od_attr(NULL);
    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    dnnl_batch_normalization_desc_t d;
    int bad = 0;
    if (fused) {
        hint = p->fwd_pd[fwd];
        p->fwd_pd[fwd] = NULL;
    } else {
        unsigned ff = (flags & ~(unsigned)dnnl_use_shift) | (w >= 0 ? dnnl_use_scale : 0);
        bad = dnnl_batch_normalization_forward_desc_init(&d, dnnl_forward_training, &xm, eps, ff) != dnnl_success ||
              pd_create(&hint, &d, a, p, NULL);
    }
    if (!bad)
        bad = dnnl_batch_normalization_backward_desc_init(&d, prop, &xm, &xm, eps, flags) != dnnl_success ||
              pd_create(&pd, &d, a, p, hint);
    if (hint)
        dnnl_primitive_desc_destroy(hint);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_fail(AIGTATT_ERR, "no oneDNN batch normalization backward for this layout");
    int tm = od_src_plain(p, m, 1, &C);
    int tv = train ? var_from_invstd(p, sv, C, o->reals[0]) : od_src_plain(p, sv, 1, &C);
    int tw = w >= 0 ? od_src_plain(p, w, 1, &C) : -1;
    int tdy = od_src(p, dy, &xm);
    int tdx = od_dst_inplace(p, dx, &xm, tdy);
    int tdw = need && w >= 0 ? od_dst(p, dw, &cm) : -1;
    int tdb = need && db >= 0 ? od_dst(p, db, &cm) : -1;
    if (tm < 0 || tv < 0 || (w >= 0 && tw < 0) || tdy < 0 || tdx < 0 || (need && w >= 0 && tdw < 0) ||
        (need && db >= 0 && tdb < 0)) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, fused ? "batch_norm_bwd+relu" : "batch_norm_bwd", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_DIFF_DST, tdy);
    od_step_arg(s, DNNL_ARG_MEAN, tm);
    od_step_arg(s, DNNL_ARG_VARIANCE, tv);
    od_step_arg(s, DNNL_ARG_SCALE, tw);
    od_step_arg(s, DNNL_ARG_WORKSPACE, fused ? p->ws[fwd] : -1);
    od_step_arg(s, DNNL_ARG_DIFF_SRC, tdx);
    od_step_arg(s, DNNL_ARG_DIFF_SCALE, tdw);
    od_step_arg(s, DNNL_ARG_DIFF_SHIFT, tdb);
    /* oneDNN 2.6 wants a shift with use_shift though the gradients do not
     * depend on it: any finite [C] tensor does. */
    if (tdb >= 0)
        od_step_arg(s, DNNL_ARG_SHIFT, tm);
    return AIGTATT_OK;
}

/* ---- layer norm (over the last dims, seen as [rows, inner]) ---- */

static int layer_norm(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], w = o->n_in > 1 ? o->in[1] : -1, b = o->n_in > 2 ? o->in[2] : -1;
    int y = o->out[0], mo = o->n_out > 1 ? o->out[1] : -1, ro = o->n_out > 2 ? o->out[2] : -1;
    od_val *X = val(p, x);
    int nd = (int)o->ints[0];
    int64_t inner = 1;
    for (int i = X->ndim - nd; i < X->ndim; i++)
        inner *= X->shape[i];
    int64_t dims[2] = { X->numel / inner, inner };
    dnnl_memory_desc_t md, sm;
    od_md_plain(&md, 2, dims, dnnl_f32);
    od_md_plain(&sm, 1, dims, dnnl_f32);
    int stats = mo >= 0 || ro >= 0;
    unsigned flags = (w >= 0 ? dnnl_use_scale : 0) | (b >= 0 ? dnnl_use_shift : 0);
    dnnl_layer_normalization_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    int bad = dnnl_layer_normalization_forward_desc_init(&d, stats ? dnnl_forward_training : dnnl_forward_inference,
                                                         &md, &sm, (float)o->reals[0], flags) != dnnl_success ||
              pd_create(&pd, &d, a, p, NULL);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_lower_ref(p, k);
    int tx = od_src_plain(p, x, 2, dims);
    int tw = w >= 0 ? od_src_plain(p, w, 1, &inner) : -1, tb = b >= 0 ? od_src_plain(p, b, 1, &inner) : -1;
    int ty = od_dst_inplace(p, y, &md, tx);
    int tm = stats ? od_dst(p, mo, &sm) : -1, tv = stats ? od_tensor_new(p, &sm, -1, -1) : -1;
    if (tx < 0 || (w >= 0 && tw < 0) || (b >= 0 && tb < 0) || ty < 0 || (stats && (tm < 0 || tv < 0))) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "layer_norm", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_DST, ty);
    od_step_arg(s, DNNL_ARG_SCALE, tw);
    od_step_arg(s, DNNL_ARG_SHIFT, tb);
    od_step_arg(s, DNNL_ARG_MEAN, tm);
    od_step_arg(s, DNNL_ARG_VARIANCE, tv);
    if (ro < 0)
        return AIGTATT_OK;
    int tr = od_dst(p, ro, &sm);
    if (tr < 0)
        return AIGTATT_ERR;
    s = od_step_kernel(p, "layer_norm_stats", od_k_ln_stats);
    if (!s)
        return AIGTATT_ERR;
    s->t[0] = tv;
    s->t[1] = tr;
    s->nt = 2;
    s->i[0] = dims[0];
    s->f[0] = o->reals[0];
    return AIGTATT_OK;
}

static int layer_norm_bwd(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int dy = o->in[0], x = o->in[1], w = o->in[2], m = o->in[3], r = o->in[4];
    int dx = o->out[0], dw = o->n_out > 1 ? o->out[1] : -1, db = o->n_out > 2 ? o->out[2] : -1;
    od_val *X = val(p, x);
    int nd = (int)o->ints[0];
    int64_t inner = 1;
    for (int i = X->ndim - nd; i < X->ndim; i++)
        inner *= X->shape[i];
    int64_t dims[2] = { X->numel / inner, inner };
    dnnl_memory_desc_t md, sm, im;
    od_md_plain(&md, 2, dims, dnnl_f32);
    od_md_plain(&sm, 1, dims, dnnl_f32);
    od_md_plain(&im, 1, &inner, dnnl_f32);
    int need = dw >= 0 || db >= 0;
    unsigned flags = (w >= 0 ? dnnl_use_scale : 0) | (need && db >= 0 ? dnnl_use_shift : 0);
    dnnl_layer_normalization_desc_t d;
    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    /* eps 0 with var = 1/rstd^2: oneDNN recomputes exactly the saved rstd. */
    int bad = dnnl_layer_normalization_forward_desc_init(&d, dnnl_forward_training, &md, &sm, 0.f,
                                                         flags & ~(unsigned)dnnl_use_shift) != dnnl_success ||
              pd_create(&hint, &d, a, p, NULL);
    if (!bad)
        bad = dnnl_layer_normalization_backward_desc_init(&d, need ? dnnl_backward : dnnl_backward_data, &md, &md, &sm,
                                                          0.f, flags) != dnnl_success ||
              pd_create(&pd, &d, a, p, hint);
    if (hint)
        dnnl_primitive_desc_destroy(hint);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_lower_ref(p, k);
    int tx = od_src_plain(p, x, 2, dims), tdy = od_src_plain(p, dy, 2, dims), tm = od_src_plain(p, m, 1, dims);
    int tv = var_from_invstd(p, r, dims[0], 0.0), tw = w >= 0 ? od_src_plain(p, w, 1, &inner) : -1;
    int tdx = od_dst_inplace(p, dx, &md, tdy);
    int tdw = need && w >= 0 ? od_dst(p, dw, &im) : -1, tdb = need && db >= 0 ? od_dst(p, db, &im) : -1;
    if (tx < 0 || tdy < 0 || tm < 0 || tv < 0 || (w >= 0 && tw < 0) || tdx < 0 || (need && w >= 0 && tdw < 0) ||
        (need && db >= 0 && tdb < 0)) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "layer_norm_bwd", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_DIFF_DST, tdy);
    od_step_arg(s, DNNL_ARG_MEAN, tm);
    od_step_arg(s, DNNL_ARG_VARIANCE, tv);
    od_step_arg(s, DNNL_ARG_SCALE, tw);
    od_step_arg(s, DNNL_ARG_DIFF_SRC, tdx);
    od_step_arg(s, DNNL_ARG_DIFF_SCALE, tdw);
    od_step_arg(s, DNNL_ARG_DIFF_SHIFT, tdb);
    /* oneDNN 2.6 wants a shift with use_shift though the gradients do not
     * depend on it: any finite [C] tensor does. */
    if (tdb >= 0)
        od_step_arg(s, DNNL_ARG_SHIFT, tm);
    return AIGTATT_OK;
}

/* ---- linear algebra: oneDNN matmul on plain data, transposes as strides ---- */

static int matmul_step(od_prog *p, const char *what, int ta, const dnnl_memory_desc_t *am, int tb,
                       const dnnl_memory_desc_t *bm, int tbias, const dnnl_memory_desc_t *biasm, int ty,
                       const dnnl_memory_desc_t *ym)
{
    dnnl_matmul_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    int bad = dnnl_matmul_desc_init(&d, am, bm, biasm, ym) != dnnl_success || pd_create(&pd, &d, a, p, NULL);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return 1;
    /* The operands are views of plain buffers with the strides above. */
    int va = od_tensor_new(p, am, p->t[ta].buf, p->t[ta].value);
    int vb = od_tensor_new(p, bm, p->t[tb].buf, p->t[tb].value);
    int vy = od_tensor_new(p, ym, p->t[ty].buf, p->t[ty].value);
    if (va < 0 || vb < 0 || vy < 0) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    od_step *s = od_step_prim(p, what, pd);
    if (!s)
        return -1;
    od_step_arg(s, DNNL_ARG_SRC, va);
    od_step_arg(s, DNNL_ARG_WEIGHTS, vb);
    od_step_arg(s, DNNL_ARG_BIAS, tbias);
    od_step_arg(s, DNNL_ARG_DST, vy);
    return 0;
}

static int linear(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], w = o->in[1], b = o->n_in > 2 ? o->in[2] : -1, y = o->out[0];
    od_val *W = val(p, w);
    int64_t in = W->shape[1], out = W->shape[0], rows = val(p, x)->numel / in;
    int64_t xd[2] = { rows, in }, yd[2] = { rows, out }, bd[2] = { 1, out };
    dnnl_memory_desc_t xm, wm, bm, ym;
    od_md_plain(&xm, 2, xd, dnnl_f32);
    od_md_plain(&ym, 2, yd, dnnl_f32);
    od_md_plain(&bm, 2, bd, dnnl_f32);
    dnnl_dims_t wdims = { in, out }, wst = { 1, in };
    dnnl_memory_desc_init_by_strides(&wm, 2, wdims, dnnl_f32, wst);
    int tx = od_src_plain(p, x, 2, xd), tw = od_src_plain(p, w, 0, NULL), tb = b >= 0 ? od_src_plain(p, b, 2, bd) : -1;
    int ty = od_dst(p, y, &ym);
    if (tx < 0 || tw < 0 || (b >= 0 && tb < 0) || ty < 0)
        return AIGTATT_ERR;
    int r = matmul_step(p, "linear", tx, &xm, tw, &wm, tb, b >= 0 ? &bm : NULL, ty, &ym);
    if (r > 0)
        return od_lower_ref(p, k);
    return r ? AIGTATT_ERR : AIGTATT_OK;
}

/* Operand v of a batched matmul as an n-d md [..., r, c] over its plain
 * buffer, transposed through strides when t. */
static void mm_operand(const od_val *V, int n, int t, dnnl_memory_desc_t *md)
{
    int64_t sh[OD_MAXD], st[OD_MAXD];
    int off = n - V->ndim;
    for (int i = 0; i < n; i++)
        sh[i] = i < off ? 1 : V->shape[i - off];
    int64_t s = 1;
    for (int i = n - 1; i >= 0; i--) {
        st[i] = s;
        s *= sh[i];
    }
    dnnl_dims_t d, ds;
    for (int i = 0; i < n; i++) {
        d[i] = sh[i];
        ds[i] = st[i];
    }
    if (t) {
        d[n - 2] = sh[n - 1];
        d[n - 1] = sh[n - 2];
        ds[n - 2] = st[n - 1];
        ds[n - 1] = st[n - 2];
    }
    dnnl_memory_desc_init_by_strides(md, n, d, dnnl_f32, ds);
}

static int matmul(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int a = o->in[0], b = o->in[1], y = o->out[0];
    od_val *Y = &p->v[y];
    int n = Y->ndim;
    dnnl_memory_desc_t am, bm, ym;
    mm_operand(val(p, a), n, (int)o->ints[0], &am);
    mm_operand(val(p, b), n, (int)o->ints[1], &bm);
    od_md_plain(&ym, n, Y->shape, dnnl_f32);
    int ta = od_src_plain(p, a, 0, NULL), tb = od_src_plain(p, b, 0, NULL), ty = od_dst(p, y, &ym);
    if (ta < 0 || tb < 0 || ty < 0)
        return AIGTATT_ERR;
    int r = matmul_step(p, "matmul", ta, &am, tb, &bm, -1, NULL, ty, &ym);
    if (r > 0)
        return od_lower_ref(p, k);
    return r ? AIGTATT_ERR : AIGTATT_OK;
}

/* ---- pooling ---- */

typedef struct pool_geo {
    dnnl_dims_t strides, kernel, dil, pl, pr;
    int64_t src[4], dst[4];
    dnnl_alg_kind_t alg;
    int exact; /* oneDNN's divisor matches PyTorch's */
} pool_geo;

static void pool_geometry(const od_op *o, const od_val *x, const od_val *y, pool_geo *g)
{
    int max = (int)o->ints[0], include = (int)o->ints[8];
    for (int i = 0; i < 4; i++) {
        g->src[i] = x->shape[i];
        g->dst[i] = y->shape[i];
    }
    g->exact = 1;
    for (int i = 0; i < 2; i++) {
        int64_t k = o->ints[1 + i], s = o->ints[3 + i], pad = o->ints[5 + i], in = x->shape[2 + i],
                out = y->shape[2 + i];
        int64_t pr = (out - 1) * s + k - in - pad;
        g->kernel[i] = k;
        g->strides[i] = s;
        g->dil[i] = 0;
        g->pl[i] = pad;
        g->pr[i] = pr > 0 ? pr : 0;
        /* torch clips an average's window to input + padding: oneDNN's
         * include-padding divisor is the kernel size, so windows reaching
         * past the right padding (ceil_mode) differ. */
        if (!max && include && pr > pad)
            g->exact = 0;
    }
    g->alg = max ? dnnl_pooling_max : include ? dnnl_pooling_avg_include_padding : dnnl_pooling_avg_exclude_padding;
}

static int same_pool(const od_op *a, const od_op *b)
{
    for (int i = 0; i < 9; i++)
        if (a->ints[i] != b->ints[i])
            return 0;
    return 1;
}

static int pool2d(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], y = o->out[0];
    pool_geo g;
    pool_geometry(o, val(p, x), &p->v[y], &g);
    if (!g.exact)
        return od_lower_ref(p, k);
    /* Max pooling's backward needs the forward's workspace (argmax). */
    int bwd = 0;
    for (size_t j = (size_t)k + 1; j < p->nops && g.alg == dnnl_pooling_max; j++)
        if (p->ops[j].op == AIGTATT_OP_POOL2D_BWD && p->ops[j].in[1] == x && same_pool(&p->ops[j], o))
            bwd = 1;
    int tx = od_src(p, x, NULL);
    if (tx < 0)
        return AIGTATT_ERR;
    dnnl_memory_desc_t xm = p->t[tx].md, dm;
    od_md_any(&dm, 4, g.dst, xm.data_type);
    dnnl_pooling_v2_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    int bad = dnnl_pooling_v2_forward_desc_init(&d, bwd ? dnnl_forward_training : dnnl_forward_inference, g.alg, &xm,
                                                &dm, g.strides, g.kernel, g.dil, g.pl, g.pr) != dnnl_success ||
              pd_create(&pd, &d, a, p, NULL);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_lower_ref(p, k);
    dm = od_qmd(pd, dnnl_query_dst_md);
    int ty = od_dst(p, y, &dm), tws = -1;
    if (bwd) {
        dnnl_memory_desc_t wsm = od_qmd(pd, dnnl_query_workspace_md);
        if (wsm.ndims > 0) {
            tws = od_tensor_new(p, &wsm, -1, -1);
            p->ws[k] = tws;
        }
        dnnl_primitive_desc_clone(&p->fwd_pd[k], pd);
    }
    if (ty < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "pool2d", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_DST, ty);
    od_step_arg(s, DNNL_ARG_WORKSPACE, tws);
    return AIGTATT_OK;
}

static int pool2d_bwd(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int dy = o->in[0], x = o->in[1], dx = o->out[0];
    pool_geo g;
    pool_geometry(o, val(p, x), val(p, dy), &g);
    int fwd = -1;
    for (int j = k - 1; j >= 0; j--)
        if (p->ops[j].op == AIGTATT_OP_POOL2D && p->ops[j].in[0] == x && same_pool(&p->ops[j], o)) {
            fwd = j;
            break;
        }
    if (!g.exact || (g.alg == dnnl_pooling_max && (fwd < 0 || !p->fwd_pd[fwd])))
        return od_lower_ref(p, k);
    int tx = od_src(p, x, NULL);
    if (tx < 0)
        return AIGTATT_ERR;
    dnnl_memory_desc_t xm = p->t[tx].md, dm;
    dnnl_primitive_attr_t a = od_attr(NULL);
    dnnl_primitive_desc_t hint = fwd >= 0 ? p->fwd_pd[fwd] : NULL, pd = NULL;
    dnnl_pooling_v2_desc_t d;
    int bad = 0;
    if (!hint) {
        od_md_any(&dm, 4, g.dst, xm.data_type);
        bad = dnnl_pooling_v2_forward_desc_init(&d, dnnl_forward_training, g.alg, &xm, &dm, g.strides, g.kernel, g.dil,
                                                g.pl, g.pr) != dnnl_success ||
              pd_create(&hint, &d, a, p, NULL);
    }
    if (!bad) {
        dm = od_qmd(hint, dnnl_query_dst_md);
        xm = od_qmd(hint, dnnl_query_src_md);
        bad = dnnl_pooling_v2_backward_desc_init(&d, g.alg, &xm, &dm, g.strides, g.kernel, g.dil, g.pl, g.pr) !=
                  dnnl_success ||
              pd_create(&pd, &d, a, p, hint);
    }
    if (hint && (fwd < 0 || hint != p->fwd_pd[fwd]))
        dnnl_primitive_desc_destroy(hint);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_lower_ref(p, k);
    dnnl_memory_desc_t ddm = od_qmd(pd, dnnl_query_diff_dst_md), dsm = od_qmd(pd, dnnl_query_diff_src_md);
    int tdy = od_src(p, dy, &ddm), tdx = od_dst(p, dx, &dsm);
    if (tdy < 0 || tdx < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "pool2d_bwd", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_DIFF_DST, tdy);
    od_step_arg(s, DNNL_ARG_DIFF_SRC, tdx);
    if (g.alg == dnnl_pooling_max)
        od_step_arg(s, DNNL_ARG_WORKSPACE, p->ws[fwd]);
    return AIGTATT_OK;
}

static int global_avg_pool(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], y = o->out[0];
    od_val *X = val(p, x);
    int tx = od_src(p, x, NULL);
    if (tx < 0)
        return AIGTATT_ERR;
    dnnl_memory_desc_t xm = p->t[tx].md, dm;
    int64_t dd[4] = { X->shape[0], X->shape[1], 1, 1 };
    od_md_any(&dm, 4, dd, xm.data_type);
    dnnl_dims_t st = { 1, 1 }, kr = { X->shape[2], X->shape[3] }, z = { 0, 0 };
    dnnl_pooling_v2_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    int bad = dnnl_pooling_v2_forward_desc_init(&d, dnnl_forward_inference, dnnl_pooling_avg_exclude_padding, &xm, &dm,
                                                st, kr, z, z, z) != dnnl_success ||
              pd_create(&pd, &d, a, p, NULL);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_lower_ref(p, k);
    dm = od_qmd(pd, dnnl_query_dst_md);
    int ty = od_dst(p, y, &dm);
    if (ty < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "global_avg_pool", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_DST, ty);
    return AIGTATT_OK;
}

/* ---- element-wise ---- */

typedef struct elt {
    dnnl_alg_kind_t alg;
    float alpha, beta;
    int ok;
} elt;

static elt unary_alg(int fn, int bwd)
{
    switch ((aigtatt_unary)fn) {
    case AIGTATT_RELU:
        return (elt){ bwd ? dnnl_eltwise_relu_use_dst_for_bwd : dnnl_eltwise_relu, 0.f, 0.f, 1 };
    case AIGTATT_RELU6:
        return (elt){ bwd ? dnnl_eltwise_clip_v2_use_dst_for_bwd : dnnl_eltwise_clip_v2, 0.f, 6.f, 1 };
    case AIGTATT_HARDSWISH:
        return (elt){ dnnl_eltwise_hardswish, 0.f, 0.f, 1 };
    case AIGTATT_SILU:
        return (elt){ dnnl_eltwise_swish, 1.f, 0.f, 1 };
    case AIGTATT_GELU:
        return (elt){ dnnl_eltwise_gelu_erf, 0.f, 0.f, 1 };
    case AIGTATT_GELU_TANH:
        return (elt){ dnnl_eltwise_gelu_tanh, 0.f, 0.f, 1 };
    case AIGTATT_SIGMOID:
        return (elt){ bwd ? dnnl_eltwise_logistic_use_dst_for_bwd : dnnl_eltwise_logistic, 0.f, 0.f, 1 };
    case AIGTATT_TANH:
        return (elt){ bwd ? dnnl_eltwise_tanh_use_dst_for_bwd : dnnl_eltwise_tanh, 0.f, 0.f, 1 };
    case AIGTATT_EXP:
        return (elt){ bwd ? dnnl_eltwise_exp_use_dst_for_bwd : dnnl_eltwise_exp, 0.f, 0.f, 1 };
    case AIGTATT_LOG:
        return (elt){ dnnl_eltwise_log, 0.f, 0.f, 1 };
    case AIGTATT_SQRT:
        return (elt){ bwd ? dnnl_eltwise_sqrt_use_dst_for_bwd : dnnl_eltwise_sqrt, 0.f, 0.f, 1 };
    case AIGTATT_NEG:
        return (elt){ dnnl_eltwise_linear, -1.f, 0.f, !bwd };
    case AIGTATT_ABS:
        return (elt){ dnnl_eltwise_abs, 0.f, 0.f, 1 };
    case AIGTATT_HARDSIGMOID: /* not in oneDNN 2.6 */
        break;
    }
    return (elt){ 0, 0.f, 0.f, 0 };
}

/* y = f(x) in x's layout, in place when x dies here. */
static int eltwise_fwd(od_prog *p, int k, int x, int y, elt e, const char *what)
{
    int tx = src_keep(p, x);
    if (tx < 0)
        return AIGTATT_ERR;
    dnnl_memory_desc_t md = p->t[tx].md;
    dnnl_eltwise_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    int bad = dnnl_eltwise_forward_desc_init(&d, dnnl_forward_inference, e.alg, &md, e.alpha, e.beta) != dnnl_success ||
              pd_create(&pd, &d, a, p, NULL);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_lower_ref(p, k);
    int ty = od_dst_inplace(p, y, &md, tx);
    if (ty < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, what, pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_DST, ty);
    return AIGTATT_OK;
}

static int unary(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    elt e = unary_alg((int)o->ints[0], 0);
    if (!e.ok)
        return od_lower_ref(p, k);
    return eltwise_fwd(p, k, o->in[0], o->out[0], e, "unary");
}

static int unary_bwd(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int dy = o->in[0], t = o->in[1], dx = o->out[0];
    elt e = unary_alg((int)o->ints[0], 1);
    if (!e.ok)
        return od_lower_ref(p, k);
    int use_dst = e.alg == dnnl_eltwise_relu_use_dst_for_bwd || e.alg == dnnl_eltwise_clip_v2_use_dst_for_bwd ||
                  e.alg == dnnl_eltwise_logistic_use_dst_for_bwd || e.alg == dnnl_eltwise_tanh_use_dst_for_bwd ||
                  e.alg == dnnl_eltwise_exp_use_dst_for_bwd || e.alg == dnnl_eltwise_sqrt_use_dst_for_bwd;
    int tt = src_keep(p, t);
    if (tt < 0)
        return AIGTATT_ERR;
    dnnl_memory_desc_t md = p->t[tt].md;
    dnnl_eltwise_desc_t d;
    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    int bad = dnnl_eltwise_forward_desc_init(&d, dnnl_forward_training, e.alg, &md, e.alpha, e.beta) != dnnl_success ||
              pd_create(&hint, &d, a, p, NULL);
    if (!bad)
        bad = dnnl_eltwise_backward_desc_init(&d, e.alg, &md, &md, e.alpha, e.beta) != dnnl_success ||
              pd_create(&pd, &d, a, p, hint);
    if (hint)
        dnnl_primitive_desc_destroy(hint);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_lower_ref(p, k);
    int tdy = od_src(p, dy, &md), tdx = od_dst_inplace(p, dx, &md, tdy);
    if (tdy < 0 || tdx < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "unary_bwd", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_DIFF_DST, tdy);
    od_step_arg(s, use_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, tt);
    od_step_arg(s, DNNL_ARG_DIFF_SRC, tdx);
    return AIGTATT_OK;
}

static int binary(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int a = o->in[0], b = o->in[1], y = o->out[0];
    aigtatt_binary fn = (aigtatt_binary)o->ints[0];
    static const dnnl_alg_kind_t algs[] = { 0, dnnl_binary_add, dnnl_binary_sub, dnnl_binary_mul, dnnl_binary_div,
                                            dnnl_binary_max, dnnl_binary_min, dnnl_binary_gt };
    if (fn < AIGTATT_ADD || fn > AIGTATT_GREATER)
        return od_lower_ref(p, k);
    od_val *Y = &p->v[y];
    int commutes = fn == AIGTATT_ADD || fn == AIGTATT_MUL || fn == AIGTATT_MAXIMUM || fn == AIGTATT_MINIMUM;
    if (!od_same_shape(val(p, a), Y) && od_same_shape(val(p, b), Y) && commutes) {
        int t = a;
        a = b;
        b = t;
    }
    /* oneDNN broadcasts only its second source. */
    if (!od_same_shape(val(p, a), Y))
        return od_lower_ref(p, k);
    dnnl_post_ops_t po = NULL;
    int yv = y;
    od_binary_fused(p, k, &po, &yv);
    int64_t bd[OD_MAXD];
    od_val *B = val(p, b);
    int n = Y->ndim > 0 ? Y->ndim : 1;
    for (int i = 0; i < n; i++) {
        int j = i - (n - B->ndim);
        bd[i] = j < 0 ? 1 : B->shape[j];
    }
    for (int plain = 0; plain < 2; plain++) {
        int ta = plain ? od_src_plain(p, a, 0, NULL) : src_keep(p, a);
        if (ta < 0)
            break;
        dnnl_memory_desc_t am = p->t[ta].md, bm;
        int tb;
        if (od_same_shape(B, Y)) {
            tb = od_src(p, b, &am);
            bm = am;
        } else {
            od_md_plain(&bm, n, bd, dnnl_f32);
            tb = od_src_plain(p, b, n, bd);
        }
        if (tb < 0)
            break;
        dnnl_binary_desc_t d;
        dnnl_primitive_desc_t pd = NULL;
        dnnl_primitive_attr_t at = od_attr(po);
        int bad = dnnl_binary_desc_init(&d, algs[fn], &am, &bm, &am) != dnnl_success || pd_create(&pd, &d, at, p, NULL);
        dnnl_primitive_attr_destroy(at);
        if (bad) {
            if (od_md_is_plain(&am))
                break;
            continue;
        }
        int ty = p->t[tb].buf == p->t[ta].buf ? od_dst(p, yv, &am) : od_dst_inplace(p, yv, &am, ta);
        if (ty < 0) {
            dnnl_primitive_desc_destroy(pd);
            break;
        }
        od_step *s = od_step_prim(p, po ? "binary+relu" : "binary", pd);
        if (po)
            dnnl_post_ops_destroy(po);
        if (!s)
            return AIGTATT_ERR;
        od_step_arg(s, DNNL_ARG_SRC_0, ta);
        od_step_arg(s, DNNL_ARG_SRC_1, tb);
        od_step_arg(s, DNNL_ARG_DST, ty);
        return AIGTATT_OK;
    }
    if (po)
        return od_fail(AIGTATT_ERR, "no oneDNN binary primitive for a fused op");
    return od_lower_ref(p, k);
}

static int affine(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    return eltwise_fwd(p, k, o->in[0], o->out[0], (elt){ dnnl_eltwise_linear, (float)o->reals[0], (float)o->reals[1], 1 },
                       "affine");
}

static int clamp(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    return eltwise_fwd(p, k, o->in[0], o->out[0], (elt){ dnnl_eltwise_clip, (float)o->reals[0], (float)o->reals[1], 1 },
                       "clamp");
}

/* ---- reductions ---- */

static int reduction(od_prog *p, int k, int x, int y, dnnl_alg_kind_t alg, const int64_t *dd, int n)
{
    int tx = src_keep(p, x);
    if (tx < 0)
        return AIGTATT_ERR;
    dnnl_memory_desc_t xm = p->t[tx].md, dm;
    od_md_plain(&dm, n, dd, dnnl_f32);
    int same = xm.ndims == n;
    for (int i = 0; same && i < n; i++)
        same = xm.dims[i] == dd[i];
    if (same) { /* nothing to reduce: a copy */
        int ty = od_dst(p, y, &dm);
        return ty < 0 ? AIGTATT_ERR : od_step_reorder(p, tx, ty);
    }
    dnnl_reduction_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    int bad = dnnl_reduction_desc_init(&d, alg, &xm, &dm, 0.f, 0.f) != dnnl_success || pd_create(&pd, &d, a, p, NULL);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_lower_ref(p, k);
    int ty = od_dst(p, y, &dm);
    if (ty < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "reduce", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_DST, ty);
    return AIGTATT_OK;
}

static int reduce(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    od_val *X = val(p, o->in[0]);
    static const dnnl_alg_kind_t algs[] = { 0, dnnl_reduction_sum, dnnl_reduction_mean, dnnl_reduction_max };
    if (o->ints[0] < AIGTATT_REDUCE_SUM || o->ints[0] > AIGTATT_REDUCE_MAX || X->ndim == 0)
        return od_lower_ref(p, k);
    int64_t dd[OD_MAXD];
    for (int i = 0; i < X->ndim; i++)
        dd[i] = (o->ints[1] >> i) & 1 ? 1 : X->shape[i];
    return reduction(p, k, o->in[0], o->out[0], algs[o->ints[0]], dd, X->ndim);
}

static int reduce_to(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    od_val *G = val(p, o->in[0]), *Y = &p->v[o->out[0]];
    if (G->ndim == 0)
        return od_lower_ref(p, k);
    int64_t dd[OD_MAXD];
    for (int i = 0; i < G->ndim; i++) {
        int j = i - (G->ndim - Y->ndim);
        dd[i] = j < 0 ? 1 : Y->shape[j];
    }
    return reduction(p, k, o->in[0], o->out[0], dnnl_reduction_sum, dd, G->ndim);
}

/* ---- softmax ---- */

static int softmax(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], y = o->out[0], axis = (int)o->ints[0];
    int tx = od_src_plain(p, x, 0, NULL);
    if (tx < 0)
        return AIGTATT_ERR;
    dnnl_memory_desc_t md = p->t[tx].md;
    dnnl_softmax_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    int bad = dnnl_softmax_forward_desc_init(&d, dnnl_forward_training, &md, axis) != dnnl_success ||
              pd_create(&pd, &d, a, p, NULL);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_lower_ref(p, k);
    int ty = od_dst_inplace(p, y, &md, tx);
    if (ty < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "softmax", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_DST, ty);
    return AIGTATT_OK;
}

static int softmax_bwd(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int dy = o->in[0], y = o->in[1], dx = o->out[0], axis = (int)o->ints[0];
    int ty = od_src_plain(p, y, 0, NULL), tdy = od_src_plain(p, dy, 0, NULL);
    if (ty < 0 || tdy < 0)
        return AIGTATT_ERR;
    dnnl_memory_desc_t md = p->t[ty].md;
    dnnl_softmax_desc_t d;
    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    int bad = dnnl_softmax_forward_desc_init(&d, dnnl_forward_training, &md, axis) != dnnl_success ||
              pd_create(&hint, &d, a, p, NULL);
    if (!bad)
        bad = dnnl_softmax_backward_desc_init(&d, &md, &md, axis) != dnnl_success || pd_create(&pd, &d, a, p, hint);
    if (hint)
        dnnl_primitive_desc_destroy(hint);
    dnnl_primitive_attr_destroy(a);
    if (bad)
        return od_lower_ref(p, k);
    int tdx = od_dst_inplace(p, dx, &md, tdy);
    if (tdx < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "softmax_bwd", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_DIFF_DST, tdy);
    od_step_arg(s, DNNL_ARG_DST, ty);
    od_step_arg(s, DNNL_ARG_DIFF_SRC, tdx);
    return AIGTATT_OK;
}

/* ---- shape ---- */

static int reshape(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], y = o->out[0];
    od_val *X = val(p, x), *Y = &p->v[y];
    int tx = od_src_plain(p, x, Y->ndim, Y->shape);
    if (tx < 0)
        return AIGTATT_ERR;
    if (X->role == AIGTATT_IR_TEMP && Y->role == AIGTATT_IR_TEMP) { /* the same bytes under another name */
        int t = od_tensor_new(p, &p->t[tx].md, p->t[tx].buf, y);
        if (t < 0)
            return AIGTATT_ERR;
        od_set_home(p, y, t);
        return AIGTATT_OK;
    }
    int ty = od_dst(p, y, &p->t[tx].md);
    if (ty < 0)
        return AIGTATT_ERR;
    od_step *s = od_step_kernel(p, "copy", od_k_copy);
    if (!s)
        return AIGTATT_ERR;
    s->t[0] = tx;
    s->t[1] = ty;
    s->nt = 2;
    s->i[0] = Y->numel * (int64_t)od_esize(Y->dtype);
    return AIGTATT_OK;
}

static int permute(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], y = o->out[0];
    od_val *X = val(p, x), *Y = &p->v[y];
    if (X->dtype != AIGTATT_F32 || Y->ndim < 1)
        return od_lower_ref(p, k);
    int tx = od_src_plain(p, x, 0, NULL);
    if (tx < 0)
        return AIGTATT_ERR;
    int64_t xs[OD_MAXD], s = 1;
    for (int d = X->ndim - 1; d >= 0; d--) {
        xs[d] = s;
        s *= X->shape[d];
    }
    dnnl_dims_t dims, st;
    for (int d = 0; d < Y->ndim; d++) {
        dims[d] = Y->shape[d];
        st[d] = xs[o->ints[d]];
    }
    dnnl_memory_desc_t vm, ym;
    dnnl_memory_desc_init_by_strides(&vm, Y->ndim, dims, dnnl_f32, st);
    od_md_plain(&ym, Y->ndim, Y->shape, dnnl_f32);
    int tv = od_tensor_new(p, &vm, p->t[tx].buf, p->t[tx].value), ty = od_dst(p, y, &ym);
    if (tv < 0 || ty < 0)
        return AIGTATT_ERR;
    return od_step_reorder(p, tv, ty);
}

static int concat(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int y = o->out[0], axis = (int)o->ints[0], n = o->n_in;
    od_val *Y = &p->v[y];
    if (n > OD_MAXARGS - 2 || Y->dtype != AIGTATT_F32 || Y->ndim < 1)
        return od_lower_ref(p, k);
    dnnl_memory_desc_t mds[OD_MAXARGS], ym;
    int ts[OD_MAXARGS];
    for (int i = 0; i < n; i++) {
        ts[i] = od_src_plain(p, o->in[i], 0, NULL);
        if (ts[i] < 0)
            return AIGTATT_ERR;
        mds[i] = p->t[ts[i]].md;
    }
    od_md_plain(&ym, Y->ndim, Y->shape, dnnl_f32);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    dnnl_status_t st = dnnl_concat_primitive_desc_create(&pd, &ym, n, axis, mds, a, p->dev->engine);
    dnnl_primitive_attr_destroy(a);
    if (st != dnnl_success)
        return od_lower_ref(p, k);
    int ty = od_dst(p, y, &ym);
    if (ty < 0) {
        dnnl_primitive_desc_destroy(pd);
        return AIGTATT_ERR;
    }
    od_step *s = od_step_prim(p, "concat", pd);
    if (!s)
        return AIGTATT_ERR;
    for (int i = 0; i < n; i++)
        od_step_arg(s, DNNL_ARG_MULTIPLE_SRC + i, ts[i]);
    od_step_arg(s, DNNL_ARG_DST, ty);
    return AIGTATT_OK;
}

static int expand(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int x = o->in[0], y = o->out[0];
    od_val *X = val(p, x), *Y = &p->v[y];
    if (Y->dtype != AIGTATT_F32)
        return od_lower_ref(p, k);
    int tx = od_src_plain(p, x, 0, NULL), ty;
    dnnl_memory_desc_t ym;
    od_md_plain(&ym, Y->ndim, Y->shape, dnnl_f32);
    ty = od_dst(p, y, &ym);
    if (tx < 0 || ty < 0)
        return AIGTATT_ERR;
    int64_t *aux = od_host->alloc_zero(2 * OD_MAXD + 1, sizeof *aux);
    if (!aux)
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
    /* aux: y's dims, then x's strides broadcast to them (0 = stretched) */
    int n = Y->ndim;
    int64_t s = 1;
    for (int d = n - 1; d >= 0; d--) {
        int j = d - (n - X->ndim);
        aux[d] = Y->shape[d];
        aux[OD_MAXD + d] = (j < 0 || X->shape[j] == 1) ? 0 : s;
        if (j >= 0)
            s *= X->shape[j];
    }
    od_step *st = od_step_kernel(p, "expand", od_k_expand);
    if (!st) {
        od_host->free_mem(aux);
        return AIGTATT_ERR;
    }
    st->t[0] = tx;
    st->t[1] = ty;
    st->nt = 2;
    st->i[0] = n;
    st->i[1] = Y->numel;
    st->aux = aux;
    return AIGTATT_OK;
}

/* ---- optimizer updates (in place on persistent values) ---- */

static void mutated(od_prog *p, int v)
{
    if (v >= 0)
        p->v[v].nalt = 0; /* copies made before the update are stale */
}

/* Consecutive SGD updates with the same hyper-parameters, learning rate
 * and step become one multi-tensor step (one parallel region over all
 * their elements, like torch's foreach path). aux: per tensor the param,
 * grad and momentum-buffer tensors and the value indices; i[0] count. */
static int same_sgd(const od_op *a, const od_op *b)
{
    return b->op == AIGTATT_OP_SGD_UPDATE && a->in[3] == b->in[3] && a->in[4] == b->in[4] &&
           (a->in[2] >= 0) == (b->in[2] >= 0) && a->ints[0] == b->ints[0] && a->ints[1] == b->ints[1] &&
           !memcmp(a->reals, b->reals, sizeof a->reals);
}

static int sgd(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int lr = o->in[3], step = o->in[4];
    if (p->v[o->in[0]].dtype != AIGTATT_F32 || p->v[o->in[0]].role == AIGTATT_IR_TEMP)
        return od_lower_ref(p, k);
    int n = 0;
    for (size_t j = (size_t)k; j < p->nops && same_sgd(o, &p->ops[j]) && p->v[p->ops[j].in[0]].dtype == AIGTATT_F32 &&
                               p->v[p->ops[j].in[0]].role != AIGTATT_IR_TEMP;
         j++)
        n++;
    int64_t *aux = od_host->alloc_zero((size_t)n * 6 + 1, sizeof *aux);
    if (!aux)
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
    for (int j = 0; j < n; j++) {
        const od_op *q = &p->ops[k + j];
        int w = q->in[0], buf = q->in[2];
        /* gradient and momentum in the parameter's layout (blocked for
         * convolution weights in training) */
        dnnl_memory_desc_t wm = p->t[p->v[w].home].md;
        int tg = od_src(p, q->in[1], &wm);
        if (tg < 0 || (buf >= 0 && od_relayout(p, buf, &wm) < 0)) {
            od_host->free_mem(aux);
            return tg < 0 ? AIGTATT_ERR : od_fail(AIGTATT_ERR, "momentum buffer %d cannot follow its parameter's layout", buf);
        }
        aux[6 * j + 0] = p->v[w].home;
        aux[6 * j + 1] = tg;
        aux[6 * j + 2] = buf >= 0 ? p->v[buf].home : -1;
        aux[6 * j + 3] = (int64_t)(dnnl_memory_desc_get_size(&wm) / 4);
        aux[6 * j + 4] = w;
        aux[6 * j + 5] = buf;
        mutated(p, w);
        mutated(p, buf);
        if (j)
            p->skip[k + j] = 1;
    }
    od_step *s = od_step_kernel(p, "sgd_update", od_k_sgd);
    if (!s) {
        od_host->free_mem(aux);
        return AIGTATT_ERR;
    }
    s->aux = aux;
    s->ext = od_host->alloc((size_t)n * 3 * sizeof(int) + 1);
    if (!s->ext)
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
    for (int j = 0; j < 3 * n; j++)
        s->ext[j] = (int)aux[6 * (j / 3) + j % 3];
    s->next = 3 * n;
    s->t[0] = p->v[lr].home;
    s->t[1] = p->v[step].home;
    s->nt = 2;
    s->i[0] = n;
    s->i[1] = o->ints[0];
    s->i[2] = o->ints[1];
    s->i[5] = p->v[lr].dtype == AIGTATT_F64;
    s->f[0] = o->reals[0];
    s->f[1] = o->reals[1];
    s->f[2] = o->reals[2];
    return AIGTATT_OK;
}

static int adam(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int w = o->in[0], g = o->in[1], m = o->in[2], v = o->in[3], vmax = o->in[4], lr = o->in[5], step = o->in[6];
    od_val *W = &p->v[w];
    if (W->dtype != AIGTATT_F32 || W->role == AIGTATT_IR_TEMP)
        return od_lower_ref(p, k);
    dnnl_memory_desc_t wm = p->t[W->home].md;
    int tg = od_src(p, g, &wm);
    if (tg < 0)
        return AIGTATT_ERR;
    if (od_relayout(p, m, &wm) < 0 || od_relayout(p, v, &wm) < 0 || (vmax >= 0 && od_relayout(p, vmax, &wm) < 0))
        return od_fail(AIGTATT_ERR, "Adam state cannot follow its parameter's layout");
    od_step *s = od_step_kernel(p, "adam_update", od_k_adam);
    if (!s)
        return AIGTATT_ERR;
    s->t[0] = W->home;
    s->t[1] = tg;
    s->t[2] = p->v[m].home;
    s->t[3] = p->v[v].home;
    s->t[4] = vmax >= 0 ? p->v[vmax].home : -1;
    s->t[5] = p->v[lr].home;
    s->t[6] = p->v[step].home;
    s->nt = 7;
    s->i[0] = (int64_t)(dnnl_memory_desc_get_size(&wm) / 4);
    s->i[1] = o->ints[0];
    s->i[2] = o->ints[1];
    s->i[3] = o->ints[2];
    s->i[4] = w;
    s->i[5] = p->v[lr].dtype == AIGTATT_F64;
    for (int i = 0; i < 4; i++)
        s->f[i] = o->reals[i];
    mutated(p, w);
    mutated(p, m);
    mutated(p, v);
    mutated(p, vmax);
    return AIGTATT_OK;
}

static int increment(od_prog *p, int k)
{
    const od_op *o = &p->ops[k];
    int v = o->in[0];
    if (p->v[v].dtype != AIGTATT_I64 || p->v[v].role == AIGTATT_IR_TEMP)
        return od_lower_ref(p, k);
    od_step *s = od_step_kernel(p, "increment", od_k_increment);
    if (!s)
        return AIGTATT_ERR;
    s->t[0] = p->v[v].home;
    s->nt = 1;
    s->i[0] = o->ints[0];
    s->i[1] = p->v[v].numel;
    s->i[2] = v;
    return AIGTATT_OK;
}

static int conv2d_fused_or_not(od_prog *p, int k)
{
    int r = od_conv_fused(p, k);
    if (!r)
        r = od_wino_lower(p, k);
    return r > 0 ? AIGTATT_OK : r < 0 ? AIGTATT_ERR : conv2d(p, k);
}

static int wino_or_bwd_data(od_prog *p, int k)
{
    int r = od_wino_lower(p, k);
    return r > 0 ? AIGTATT_OK : r < 0 ? AIGTATT_ERR : conv_bwd_data(p, k);
}

static int wino_or_bwd_weight(od_prog *p, int k)
{
    int r = od_wino_lower(p, k);
    if (!r)
        r = conv_bwd_weight_matmul(p, k);
    return r > 0 ? AIGTATT_OK : r < 0 ? AIGTATT_ERR : conv_bwd_weight(p, k);
}

/* In precision bf16 a convolution oneDNN has no bf16 kernel for runs in
 * f32 (its inputs are converted by reorders). The lowerings fail before
 * they add any step, so trying again is safe. */
static int conv_op(od_prog *p, int k, int (*lower)(od_prog *, int))
{
    int rc = lower(p, k);
    if (rc == AIGTATT_OK || !p->dev->bf16)
        return rc;
    p->no_bf16 = 1;
    rc = lower(p, k);
    p->no_bf16 = 0;
    return rc;
}

int od_lower_op(od_prog *p, int k)
{
    switch (p->ops[k].op) {
    case AIGTATT_OP_CONV2D:
        return conv_op(p, k, conv2d_fused_or_not);
    case AIGTATT_OP_CONV2D_BWD_DATA:
        return conv_op(p, k, wino_or_bwd_data);
    case AIGTATT_OP_CONV2D_BWD_WEIGHT:
        return conv_op(p, k, wino_or_bwd_weight);
    case AIGTATT_OP_BATCH_NORM:
        return batch_norm(p, k);
    case AIGTATT_OP_BATCH_NORM_BWD:
        return batch_norm_bwd(p, k);
    case AIGTATT_OP_LAYER_NORM:
        return layer_norm(p, k);
    case AIGTATT_OP_LAYER_NORM_BWD:
        return layer_norm_bwd(p, k);
    case AIGTATT_OP_LINEAR:
        return linear(p, k);
    case AIGTATT_OP_MATMUL:
        return matmul(p, k);
    case AIGTATT_OP_POOL2D:
        return pool2d(p, k);
    case AIGTATT_OP_POOL2D_BWD:
        return pool2d_bwd(p, k);
    case AIGTATT_OP_GLOBAL_AVG_POOL:
        return global_avg_pool(p, k);
    case AIGTATT_OP_UNARY:
        return unary(p, k);
    case AIGTATT_OP_UNARY_BWD:
        return unary_bwd(p, k);
    case AIGTATT_OP_BINARY:
        return binary(p, k);
    case AIGTATT_OP_AFFINE:
        return affine(p, k);
    case AIGTATT_OP_CLAMP:
        return clamp(p, k);
    case AIGTATT_OP_REDUCE:
        return reduce(p, k);
    case AIGTATT_OP_REDUCE_TO:
        return reduce_to(p, k);
    case AIGTATT_OP_SOFTMAX:
        return softmax(p, k);
    case AIGTATT_OP_SOFTMAX_BWD:
        return softmax_bwd(p, k);
    case AIGTATT_OP_RESHAPE:
        return reshape(p, k);
    case AIGTATT_OP_PERMUTE:
        return permute(p, k);
    case AIGTATT_OP_CONCAT:
        return concat(p, k);
    case AIGTATT_OP_EXPAND:
        return expand(p, k);
    case AIGTATT_OP_SGD_UPDATE:
        return sgd(p, k);
    case AIGTATT_OP_ADAM_UPDATE:
        return adam(p, k);
    case AIGTATT_OP_INCREMENT:
        return increment(p, k);
    default:
        /* WHERE, ROLL, SLICE(_BWD), PAD, L2_NORMALIZE(_BWD), DROPOUT,
         * STOCHASTIC_DEPTH, ONE_HOT, CROSS_ENTROPY(_BWD), BINARY_BWD,
         * CLAMP_BWD, REDUCE_MAX_BWD */
        return od_lower_ref(p, k);
    }
}
