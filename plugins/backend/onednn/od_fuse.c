/* Fusions, decided on the whole IR before lowering (param `fuse`). Each
 * keeps the result within fp32 rounding of the unfused ops:
 *
 *  - training, batch norm (batch statistics) whose output only a ReLU
 *    reads: one oneDNN batch norm with fuse_norm_relu writes the ReLU's
 *    output and a bit mask; the ReLU backward that only feeds this batch
 *    norm's backward is folded into it (ReLU mask applied inside).
 *  - add whose output only a ReLU reads: binary add with a ReLU post-op.
 *  - inference, convolution -> [batch norm on running stats] -> [add of
 *    another tensor] -> [ReLU], each intermediate read only by the next:
 *    the batch norm is folded into the convolution's weights and bias
 *    (recomputed only when one of them changes), the add becomes a sum
 *    post-op accumulating into a buffer that holds the other tensor
 *    (taken over when that tensor dies here), the ReLU an eltwise
 *    post-op. */
#include "od_internal.h"

#include <string.h>

typedef struct conv_fuse {
    int bn, add, relu;   /* op indices or -1 */
    int other;           /* value added (sum post-op) or -1 */
    int out;             /* the value the fused step produces */
} conv_fuse;

typedef struct fuse_info {
    int *bn_relu;        /* per op: BN op -> its ReLU op + 1 */
    int *bn_bwd_fwd;     /* per op: BN_BWD op -> forward BN op + 1 */
    int *bn_bwd_dy;      /* per op: BN_BWD op -> value to read as dy */
    int *add_relu;       /* per op: add op -> its ReLU op + 1 */
    conv_fuse *conv;     /* per op: conv fusion (bn/add/relu -1 = none) */
} fuse_info;

/* One set of tables per compile; compiles run one at a time per program
 * but several programs may compile in parallel threads, so the tables
 * hang off the program. */
static fuse_info *info(od_prog *p) { return (fuse_info *)p->fuse; }

/* The only op reading value v (readers == 1), or -1. */
static int sole_reader(od_prog *p, int v, int from)
{
    if (v < 0 || p->v[v].readers != 1 || p->v[v].role != AIGTATT_IR_TEMP)
        return -1;
    for (size_t k = (size_t)from; k < p->nops; k++)
        for (int i = 0; i < p->ops[k].n_in; i++)
            if (p->ops[k].in[i] == v)
                return (int)k;
    return -1;
}

static int is_relu(const od_op *o) { return o->op == AIGTATT_OP_UNARY && o->ints[0] == AIGTATT_RELU; }

void od_fuse_free(od_prog *p)
{
    fuse_info *f = info(p);
    if (!f)
        return;
    od_host->free_mem(f->bn_relu);
    od_host->free_mem(f->bn_bwd_fwd);
    od_host->free_mem(f->bn_bwd_dy);
    od_host->free_mem(f->add_relu);
    od_host->free_mem(f->conv);
    od_host->free_mem(f);
    p->fuse = NULL;
}

/* On an AVX-512 machine test network/train_winograd (8-channel nChw8c
 * activations next to the backend's Winograd) had its first loss 1.5%
 * off when fused and was right unfused or 16 channels wide; of the
 * fusions, only oneDNN 2.6's binary with a ReLU post-op has no other test
 * in that layout there. So on AVX-512 the add and the ReLU stay two steps
 * unless the channels fill 16-lane blocks. (Not yet re-run on such a
 * machine with this change.) */
static int add_relu_safe(const od_val *y)
{
    static int avx512 = -1;
    if (avx512 < 0) {
        __builtin_cpu_init();
        avx512 = __builtin_cpu_supports("avx512f");
    }
    return !avx512 || y->ndim < 2 || y->shape[1] % 16 == 0;
}

int od_fuse_plan(od_prog *p)
{
    fuse_info *f = od_host->alloc_zero(1, sizeof *f);
    if (!f)
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
    p->fuse = f;
    size_t n = p->nops + 1;
    f->bn_relu = od_host->alloc_zero(n, sizeof(int));
    f->bn_bwd_fwd = od_host->alloc_zero(n, sizeof(int));
    f->bn_bwd_dy = od_host->alloc_zero(n, sizeof(int));
    f->add_relu = od_host->alloc_zero(n, sizeof(int));
    f->conv = od_host->alloc_zero(n, sizeof(conv_fuse));
    if (!f->bn_relu || !f->bn_bwd_fwd || !f->bn_bwd_dy || !f->add_relu || !f->conv)
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < p->nops; k++)
        f->conv[k] = (conv_fuse){ -1, -1, -1, -1, -1 };

    for (size_t k = 0; k < p->nops; k++) {
        const od_op *o = &p->ops[k];
        if (p->skip[k])
            continue;
        /* inference: conv -> [BN] -> [add] -> [ReLU] */
        if (o->op == AIGTATT_OP_CONV2D && !p->training) {
            conv_fuse c = { -1, -1, -1, -1, o->out[0] };
            int y = o->out[0], r = sole_reader(p, y, (int)k + 1);
            if (r >= 0 && p->ops[r].op == AIGTATT_OP_BATCH_NORM && p->ops[r].in[0] == y && !p->ops[r].ints[0] &&
                p->ops[r].in[3] >= 0 && p->ops[r].in[4] >= 0) {
                c.bn = r;
                y = p->ops[r].out[0];
                r = sole_reader(p, y, r + 1);
            }
            if (r >= 0 && p->ops[r].op == AIGTATT_OP_BINARY && p->ops[r].ints[0] == AIGTATT_ADD) {
                const od_op *a = &p->ops[r];
                int other = a->in[0] == y ? a->in[1] : a->in[0];
                /* the other operand must exist before this convolution
                 * (else the add fuses into the other branch's one) */
                if (a->in[0] != a->in[1] && p->v[other].first_op < (int)k && od_same_shape(&p->v[other], &p->v[y]) &&
                    od_same_shape(&p->v[a->out[0]], &p->v[y]) && p->v[other].dtype == AIGTATT_F32) {
                    c.add = r;
                    c.other = other;
                    y = a->out[0];
                    r = sole_reader(p, y, r + 1);
                }
            }
            if (r >= 0 && is_relu(&p->ops[r]) && p->ops[r].in[0] == y) {
                c.relu = r;
                y = p->ops[r].out[0];
            }
            if (c.bn >= 0 || c.add >= 0 || c.relu >= 0) {
                c.out = y;
                f->conv[k] = c;
                if (c.bn >= 0)
                    p->skip[c.bn] = 1;
                if (c.add >= 0)
                    p->skip[c.add] = 1;
                if (c.relu >= 0)
                    p->skip[c.relu] = 1;
                p->nfused += (c.bn >= 0) + (c.add >= 0) + (c.relu >= 0);
            }
            continue;
        }
        /* batch norm -> ReLU (and their backward) */
        if (o->op == AIGTATT_OP_BATCH_NORM && o->ints[0]) {
            int y = o->out[0], r = sole_reader(p, y, (int)k + 1);
            if (r < 0 || !is_relu(&p->ops[r]) || p->ops[r].in[0] != y)
                continue;
            f->bn_relu[k] = r + 1;
            p->skip[r] = 1;
            p->nfused++;
            int yr = p->ops[r].out[0];
            /* the ReLU backward (t = the ReLU's output) feeding only this
             * batch norm's backward */
            for (size_t u = (size_t)r + 1; u < p->nops; u++) {
                const od_op *ub = &p->ops[u];
                if (ub->op != AIGTATT_OP_UNARY_BWD || ub->ints[0] != AIGTATT_RELU || ub->in[1] != yr)
                    continue;
                int g = ub->out[0], b = sole_reader(p, g, (int)u + 1);
                if (b < 0 || p->ops[b].op != AIGTATT_OP_BATCH_NORM_BWD || p->ops[b].in[0] != g ||
                    p->ops[b].in[1] != o->in[0] || !p->ops[b].ints[0] || p->ops[b].in[4] != o->out[2])
                    break;
                f->bn_bwd_fwd[b] = (int)k + 1;
                f->bn_bwd_dy[b] = ub->in[0];
                p->skip[u] = 1;
                p->nfused++;
                /* dy is now read by the batch norm's backward */
                if (p->v[ub->in[0]].last_op < b)
                    p->v[ub->in[0]].last_op = b;
                break;
            }
            continue;
        }
        if (o->op == AIGTATT_OP_BINARY && o->ints[0] == AIGTATT_ADD) {
            int y = o->out[0], r = sole_reader(p, y, (int)k + 1);
            /* only where binary() lowers the add on oneDNN (one operand of
             * the output's shape, the other broadcast): the reference
             * fallback would not apply the ReLU */
            int onednn_add = od_same_shape(&p->v[o->in[0]], &p->v[y]) || od_same_shape(&p->v[o->in[1]], &p->v[y]);
            if (r >= 0 && is_relu(&p->ops[r]) && p->ops[r].in[0] == y && p->v[y].dtype == AIGTATT_F32 &&
                add_relu_safe(&p->v[y]) && onednn_add) {
                f->add_relu[k] = r + 1;
                p->skip[r] = 1;
                p->nfused++;
            }
        }
    }
    return AIGTATT_OK;
}

int od_bn_relu_fused(od_prog *p, int k) { return info(p) ? info(p)->bn_relu[k] : 0; }

int od_bn_bwd_fused(od_prog *p, int k, int *fwd_op, int *dy_value)
{
    fuse_info *f = info(p);
    if (!f || !f->bn_bwd_fwd[k])
        return 0;
    int fwd = f->bn_bwd_fwd[k] - 1;
    *fwd_op = fwd;
    *dy_value = f->bn_bwd_dy[k];
    return 1;
}

int od_binary_fused(od_prog *p, int k, dnnl_post_ops_t *po, int *yv)
{
    fuse_info *f = info(p);
    if (!f || !f->add_relu[k])
        return 0;
    if (dnnl_post_ops_create(po) != dnnl_success)
        return 0;
    dnnl_post_ops_append_eltwise(*po, 1.f, dnnl_eltwise_relu, 0.f, 0.f);
    *yv = p->ops[f->add_relu[k] - 1].out[0];
    return 1;
}

/* ---- inference convolution with its fused tail ---- */

/* Whether buffer `buf` holds a tensor of value v. */
static int holds(od_prog *p, int v, int buf)
{
    const od_val *V = &p->v[v];
    if (V->home >= 0 && p->t[V->home].buf == buf)
        return 1;
    for (int i = 0; i < V->nalt; i++)
        if (p->t[V->alt[i]].buf == buf)
            return 1;
    return 0;
}

/* Whether `other`'s buffer may be overwritten at op k: no op after k but
 * the fused add reads it, and no op before the add reads anything else
 * living in that buffer. */
static int other_dies(od_prog *p, int k, int other, int add, int buf)
{
    if (p->v[other].role != AIGTATT_IR_TEMP || p->b[buf].last_ir > add)
        return 0;
    for (int j = k + 1; j < add; j++)
        for (int i = 0; !p->skip[j] && i < p->ops[j].n_in; i++)
            if (p->ops[j].in[i] >= 0 && holds(p, p->ops[j].in[i], buf))
                return 0;
    for (size_t j = (size_t)k + 1; j < p->nops; j++) {
        if ((int)j == add)
            continue;
        for (int i = 0; i < p->ops[j].n_in; i++)
            if (p->ops[j].in[i] == other)
                return 0;
    }
    return 1;
}

/* The step runs again only when one of vals changes; with a computed
 * value among them (a weight made from a parameter) it runs every time. */
static void key6(od_prog *p, od_step *s, const int *vals)
{
    s->nkey = 0;
    for (int i = 0; i < 6; i++)
        if (vals[i] >= 0 && !od_cacheable(&p->v[vals[i]])) {
            s->nkey = 0;
            return;
        }
    for (int i = 0; i < 6; i++)
        if (vals[i] >= 0)
            s->key[s->nkey++] = vals[i];
}

int od_conv_fused(od_prog *p, int k)
{
    fuse_info *f = info(p);
    if (!f || (f->conv[k].bn < 0 && f->conv[k].add < 0 && f->conv[k].relu < 0))
        return 0;
    conv_fuse c = f->conv[k];
    const od_op *o = &p->ops[k];
    const od_op *bn = c.bn >= 0 ? &p->ops[c.bn] : NULL;
    int x = o->in[0], w = o->in[1], b = o->n_in > 2 ? o->in[2] : -1;
    const od_val *X = &p->v[x], *W = &p->v[w], *Y = &p->v[o->out[0]];
    int64_t groups = o->ints[6] > 0 ? o->ints[6] : 1, O = W->shape[0];
    int64_t src[4], dst[4], wei[5], bias[1] = { O };
    int wnd = groups > 1 ? 5 : 4;
    for (int i = 0; i < 4; i++) {
        src[i] = X->shape[i];
        dst[i] = Y->shape[i];
    }
    if (groups > 1) {
        wei[0] = groups;
        wei[1] = O / groups;
        for (int i = 1; i < 4; i++)
            wei[i + 1] = W->shape[i];
    } else {
        for (int i = 0; i < 4; i++)
            wei[i] = W->shape[i];
    }
    dnnl_dims_t strides = { o->ints[0], o->ints[1] }, dil = { o->ints[4] - 1, o->ints[5] - 1 },
                pad = { o->ints[2], o->ints[3] };
    dnnl_memory_desc_t sm, wm, bm, dm;
    int tx0 = od_src(p, x, NULL);
    if (tx0 < 0)
        return -1;
    if (!od_md_is_plain(&p->t[tx0].md) && p->t[tx0].md.ndims == 4 && p->t[tx0].md.data_type == od_act_dt(p))
        sm = p->t[tx0].md;
    else
        od_md_any(&sm, 4, src, od_act_dt(p));
    od_md_any(&wm, wnd, wei, od_act_dt(p));
    od_md_plain(&bm, 1, bias, dnnl_f32);
    od_md_any(&dm, 4, dst, od_act_dt(p));
    dnnl_post_ops_t po = NULL;
    dnnl_post_ops_create(&po);
    if (c.add >= 0)
        dnnl_post_ops_append_sum(po, 1.f);
    if (c.relu >= 0)
        dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f);
    dnnl_primitive_attr_t a = od_attr(po);
    dnnl_post_ops_destroy(po);
    int has_bias = b >= 0 || bn;
    dnnl_convolution_desc_t cd;
    dnnl_primitive_desc_t pd = NULL;
    int bad = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, p->dev->conv_alg, &sm, &wm,
                                                         has_bias ? &bm : NULL, &dm, strides, dil, pad, pad) !=
                  dnnl_success ||
              dnnl_primitive_desc_create(&pd, &cd, a, p->dev->engine, NULL) != dnnl_success;
    if (bad && sm.format_kind != dnnl_format_kind_any) {
        od_md_any(&sm, 4, src, od_act_dt(p));
        bad = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, p->dev->conv_alg, &sm, &wm,
                                                         has_bias ? &bm : NULL, &dm, strides, dil, pad, pad) !=
                  dnnl_success ||
              dnnl_primitive_desc_create(&pd, &cd, a, p->dev->engine, NULL) != dnnl_success;
    }
    dnnl_primitive_attr_destroy(a);
    if (bad) {
        od_fail(AIGTATT_ERR, "no oneDNN convolution with these post-ops");
        return -1;
    }
    sm = od_qmd(pd, dnnl_query_src_md);
    wm = od_qmd(pd, dnnl_query_weights_md);
    dm = od_qmd(pd, dnnl_query_dst_md);
    int tx = od_src(p, x, &sm), tw, tb = -1;
    if (bn) {
        /* folded weights and bias, kept across runs, recomputed when any
         * of w, b, gamma, beta, mean, var changes */
        int keys[6] = { w, b, bn->in[1], bn->in[2], bn->in[3], bn->in[4] };
        dnnl_memory_desc_t wp;
        od_md_plain(&wp, W->ndim, W->shape, dnnl_f32);
        int bw = od_buf_new(p, dnnl_memory_desc_get_size(&wp), 1), bb = od_buf_new(p, (size_t)O * 4, 1);
        if (bw < 0 || bb < 0)
            return -1;
        int twf = od_tensor_new(p, &wp, bw, -1), tbf = od_tensor_new(p, &bm, bb, -1);
        int t[6];
        for (int i = 0; i < 6; i++)
            t[i] = keys[i] >= 0 ? od_src_plain(p, keys[i], 0, NULL) : -1;
        if (twf < 0 || tbf < 0 || t[0] < 0 || t[4] < 0 || t[5] < 0)
            return -1;
        od_step *s = od_step_kernel(p, "fold_bn", od_k_fold_bn);
        if (!s)
            return -1;
        for (int i = 0; i < 6; i++)
            s->t[i] = t[i];
        s->t[6] = twf;
        s->t[7] = tbf;
        s->nt = 8;
        s->i[0] = O;
        s->i[1] = W->numel / O;
        s->f[0] = bn->reals[1];
        key6(p, s, keys);
        tb = tbf;
        tw = twf;
        if (!dnnl_memory_desc_equal(&wm, &p->t[twf].md)) {
            dnnl_memory_desc_t wv;
            od_md_plain(&wv, wnd, wei, dnnl_f32);
            int src_view = od_tensor_new(p, &wv, bw, -1), bwb = od_buf_new(p, dnnl_memory_desc_get_size(&wm), 1);
            if (src_view < 0 || bwb < 0 || (tw = od_tensor_new(p, &wm, bwb, -1)) < 0 ||
                od_step_reorder(p, src_view, tw) != AIGTATT_OK)
                return -1;
            key6(p, &p->s[p->ns - 1], keys);
        }
    } else {
        tw = od_src(p, w, &wm);
        tb = b >= 0 ? od_src_plain(p, b, 1, bias) : -1;
    }
    if (tx < 0 || tw < 0 || (has_bias && tb < 0)) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    /* The destination: with a sum post-op it must hold `other` first. */
    int ty;
    if (c.add >= 0) {
        int to = od_src(p, c.other, &dm);
        if (to < 0) {
            dnnl_primitive_desc_destroy(pd);
            return -1;
        }
        od_buf *ob = &p->b[p->t[to].buf];
        /* written in place of `other` when nothing reads it later, unless
         * the convolution reads that buffer too (other is its input x):
         * a convolution's output may not overwrite what it reads */
        if (p->v[c.out].role == AIGTATT_IR_TEMP && !ob->persistent && other_dies(p, k, c.other, c.add, p->t[to].buf) &&
            p->t[to].value == c.other && p->t[to].buf != p->t[tx].buf) {
            ty = od_tensor_new(p, &dm, p->t[to].buf, c.out);
            if (ty >= 0)
                od_set_home(p, c.out, ty);
        } else {
            ty = od_dst(p, c.out, &dm);
            if (ty >= 0 && od_step_reorder(p, to, ty) != AIGTATT_OK)
                ty = -1;
        }
    } else {
        ty = od_dst(p, c.out, &dm);
    }
    if (ty < 0) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    od_step *s = od_step_prim(p, bn ? "conv2d+bn" : "conv2d+post-ops", pd);
    if (!s)
        return -1;
    od_step_arg(s, DNNL_ARG_SRC, tx);
    od_step_arg(s, DNNL_ARG_WEIGHTS, tw);
    od_step_arg(s, DNNL_ARG_BIAS, tb);
    od_step_arg(s, DNNL_ARG_DST, ty);
    return 1;
}
