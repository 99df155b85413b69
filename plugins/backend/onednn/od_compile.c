/* Tensors, layouts and steps, and the memory plan: the machinery od_ops.c
 * uses to lower each IR op. */
#define _GNU_SOURCE 1 /* qsort_r */
#include "od_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <oneapi/dnnl/dnnl_debug.h>

dnnl_data_type_t od_dt(aigtatt_dtype t)
{
    return t == AIGTATT_F32 ? dnnl_f32 : t == AIGTATT_BF16 ? dnnl_bf16 : dnnl_u8;
}

size_t od_esize(aigtatt_dtype t)
{
    return t == AIGTATT_F32 ? 4 : t == AIGTATT_BF16 ? 2 : 8;
}

int od_check(dnnl_status_t st, const char *what)
{
    if (st == dnnl_success)
        return AIGTATT_OK;
    return od_fail(st == dnnl_out_of_memory ? AIGTATT_ERR_NOMEM : AIGTATT_ERR, "%s: oneDNN says %s", what,
                   dnnl_status2str(st));
}

void od_md_plain(dnnl_memory_desc_t *md, int ndim, const int64_t *dims, dnnl_data_type_t dt)
{
    dnnl_dims_t d, st;
    int n = ndim > 0 ? ndim : 1;
    for (int i = 0; i < n; i++)
        d[i] = ndim > 0 ? dims[i] : 1;
    dnnl_dim_t s = 1;
    for (int i = n - 1; i >= 0; i--) {
        st[i] = s;
        s *= d[i];
    }
    dnnl_memory_desc_init_by_strides(md, n, d, dt, st);
}

void od_md_any(dnnl_memory_desc_t *md, int ndim, const int64_t *dims, dnnl_data_type_t dt)
{
    dnnl_dims_t d;
    for (int i = 0; i < ndim; i++)
        d[i] = dims[i];
    dnnl_memory_desc_init_by_tag(md, ndim, d, dt, dnnl_format_tag_any);
}

dnnl_data_type_t od_act_dt(const od_prog *p) { return p->dev->bf16 && !p->no_bf16 ? dnnl_bf16 : dnnl_f32; }

int od_md_is_plain(const dnnl_memory_desc_t *md)
{
    if (md->format_kind != dnnl_blocked || md->format_desc.blocking.inner_nblks != 0 || md->offset0 != 0)
        return 0;
    dnnl_dim_t s = 1;
    for (int i = md->ndims - 1; i >= 0; i--) {
        if (md->padded_dims[i] != md->dims[i])
            return 0;
        if (md->dims[i] != 1 && md->format_desc.blocking.strides[i] != s)
            return 0;
        s *= md->dims[i];
    }
    return 1;
}

od_layout od_md_layout(const dnnl_memory_desc_t *md)
{
    if (od_md_is_plain(md))
        return OD_LAYOUT_PLAIN;
    if (md->ndims != 4)
        return OD_LAYOUT_OTHER;
    static const struct {
        dnnl_format_tag_t tag;
        od_layout layout;
    } t[] = { { dnnl_aBcd8b, OD_LAYOUT_NCHW8C }, { dnnl_aBcd16b, OD_LAYOUT_NCHW16C }, { dnnl_acdb, OD_LAYOUT_NHWC } };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dnnl_memory_desc_t r;
        if (dnnl_memory_desc_init_by_tag(&r, 4, md->dims, md->data_type, t[i].tag) == dnnl_success &&
            dnnl_memory_desc_equal(&r, md))
            return t[i].layout;
    }
    return OD_LAYOUT_OTHER;
}

const char *od_md_layout_name(const dnnl_memory_desc_t *md)
{
    static const char *const names[] = { "plain", "nChw8c", "nChw16c", "nhwc", "blocked" };
    return names[od_md_layout(md)];
}

void od_step_describe(od_prog *p, const od_step *s, char *buf, size_t n)
{
    const char *impl = "";
    int ta = -1;
    if (s->prim) {
        const_dnnl_primitive_desc_t pd = NULL;
        dnnl_primitive_get_primitive_desc(s->prim, &pd);
        if (pd)
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        ta = s->nargs > 0 ? s->arg_t[0] : -1;
    } else {
        impl = "c";
        ta = s->nt > 0 ? s->t[0] : -1;
    }
    size_t k = (size_t)snprintf(buf, n, "%s", impl ? impl : "");
    if (ta < 0 || k + 40 >= n)
        return;
    const dnnl_memory_desc_t *m = &p->t[ta].md;
    k += (size_t)snprintf(buf + k, n - k, " [%s %s", m->data_type == dnnl_bf16 ? "bf16" : "f32", od_md_layout_name(m));
    for (int d = 0; d < m->ndims && k + 24 < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", d ? "x" : " ", (long long)m->dims[d]);
    if (k + 1 < n)
        snprintf(buf + k, n - k, "]");
}

int od_vdims(const od_val *v, int64_t *dims)
{
    if (v->ndim == 0) {
        dims[0] = 1;
        return 1;
    }
    for (int i = 0; i < v->ndim; i++)
        dims[i] = v->shape[i];
    return v->ndim;
}

/* The plain md of a value: its dims for F32, bytes for the others (they
 * never reach a primitive). */
static void val_md(const od_val *v, dnnl_memory_desc_t *md)
{
    if (v->dtype == AIGTATT_F32) {
        od_md_plain(md, v->ndim, v->shape, dnnl_f32);
    } else {
        int64_t n = v->numel * (int64_t)od_esize(v->dtype);
        od_md_plain(md, 1, &n, dnnl_u8);
    }
}

static int same_dims(const dnnl_memory_desc_t *md, const od_val *v)
{
    int64_t d[OD_MAXD];
    int n = od_vdims(v, d);
    if (md->ndims != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (md->dims[i] != d[i])
            return 0;
    return 1;
}

/* ---- buffers and tensors ---- */

#define GROW(arr, n, cap)                                                               \
    do {                                                                                \
        if ((n) == (cap)) {                                                             \
            size_t nc = (cap) ? 2 * (cap) : 256;                                        \
            void *np = od_host->realloc_mem((arr), nc * sizeof *(arr));                 \
            if (!np)                                                                    \
                return -1;                                                              \
            (arr) = np;                                                                 \
            memset((arr) + (cap), 0, (nc - (cap)) * sizeof *(arr));                     \
            (cap) = nc;                                                                 \
        }                                                                               \
    } while (0)

int od_buf_new(od_prog *p, size_t size, int persistent)
{
    GROW(p->b, p->nb, p->capb);
    od_buf *b = &p->b[p->nb];
    b->size = size ? size : 1;
    b->first = b->last = -1;
    b->persistent = persistent;
    b->last_ir = -1;
    return (int)p->nb++;
}

int od_tensor_new(od_prog *p, const dnnl_memory_desc_t *md, int buf, int value)
{
    if (buf < 0) {
        buf = od_buf_new(p, dnnl_memory_desc_get_size(md), 0);
        if (buf < 0)
            return od_fail(AIGTATT_ERR_NOMEM, "out of memory"), -1;
    }
    GROW(p->t, p->nt, p->capt);
    od_tensor *t = &p->t[p->nt];
    t->md = *md;
    t->buf = buf;
    t->value = value;
    /* A buffer lives at least as long as the values in it; an anonymous
     * tensor (workspace, statistics) is never taken over in place. */
    int last = value >= 0 ? p->v[value].last_op : INT_MAX;
    if (p->b[buf].last_ir < last)
        p->b[buf].last_ir = last;
    return (int)p->nt++;
}

static int view(od_prog *p, int t, const dnnl_memory_desc_t *md)
{
    if (dnnl_memory_desc_equal(&p->t[t].md, md))
        return t;
    return od_tensor_new(p, md, p->t[t].buf, p->t[t].value);
}

static int redirect(od_prog *p, int v) { return v >= 0 && p->redirect ? p->redirect[v] : v; }

static void add_alt(od_val *V, int t)
{
    if (V->nalt < OD_MAXALT)
        V->alt[V->nalt++] = t;
}

/* Persistent values whose copies in other layouts are worth keeping across
 * runs (weights): the reorder then only runs after the value changed. */

/* A reorder from `src` into a new tensor of value v in layout md. */
static int make_alt(od_prog *p, int v, int src, const dnnl_memory_desc_t *md)
{
    od_val *V = &p->v[v];
    int buf = -1;
    if (od_cacheable(V)) {
        buf = od_buf_new(p, dnnl_memory_desc_get_size(md), 1);
        if (buf < 0)
            return od_fail(AIGTATT_ERR_NOMEM, "out of memory"), -1;
    }
    int t = od_tensor_new(p, md, buf, v);
    if (t < 0 || od_step_reorder(p, src, t) != AIGTATT_OK)
        return -1;
    if (od_cacheable(V)) {
        od_step *s = &p->s[p->ns - 1];
        s->key[0] = v;
        s->nkey = 1;
    }
    add_alt(&p->v[v], t);
    return t;
}

/* Plain f32: what set()/get() and the C kernels read (precision bf16 also
 * makes plain bf16 tensors, which are not). */
static int plain_f32(const dnnl_memory_desc_t *md) { return md->data_type == dnnl_f32 && od_md_is_plain(md); }

/* v's data in plain f32 layout with its own dims. */
static int plain_of(od_prog *p, int v)
{
    od_val *V = &p->v[v];
    if (V->home < 0) {
        od_fail(AIGTATT_ERR, "op %d reads value %d before it is written", p->cur, v);
        return -1;
    }
    if (plain_f32(&p->t[V->home].md) && same_dims(&p->t[V->home].md, V))
        return V->home;
    for (int i = 0; i < V->nalt; i++)
        if (plain_f32(&p->t[V->alt[i]].md) && same_dims(&p->t[V->alt[i]].md, V))
            return V->alt[i];
    dnnl_memory_desc_t md;
    val_md(V, &md);
    return make_alt(p, v, V->home, &md);
}

int od_src(od_prog *p, int v, const dnnl_memory_desc_t *want)
{
    v = redirect(p, v);
    if (v < 0)
        return -1;
    od_val *V = &p->v[v];
    if (V->home < 0) {
        od_fail(AIGTATT_ERR, "op %d reads value %d before it is written", p->cur, v);
        return -1;
    }
    if (!want || dnnl_memory_desc_equal(&p->t[V->home].md, want))
        return V->home;
    if (V->dtype != AIGTATT_F32)
        return V->home; /* bytes: no layouts */
    if (plain_f32(want)) {
        int t = plain_of(p, v);
        return t < 0 ? -1 : view(p, t, want);
    }
    for (int i = 0; i < V->nalt; i++)
        if (dnnl_memory_desc_equal(&p->t[V->alt[i]].md, want))
            return V->alt[i];
    int src = V->home;
    if (!same_dims(want, V)) { /* grouped weights: reorder from a plain view with the wanted dims */
        int pt = plain_of(p, v);
        if (pt < 0)
            return -1;
        dnnl_memory_desc_t pm;
        od_md_plain(&pm, want->ndims, want->dims, dnnl_f32);
        src = view(p, pt, &pm);
        if (src < 0)
            return -1;
    }
    return make_alt(p, v, src, want);
}

int od_src_plain(od_prog *p, int v, int ndim, const int64_t *dims)
{
    v = redirect(p, v);
    if (v < 0)
        return -1;
    od_val *V = &p->v[v];
    if (V->dtype != AIGTATT_F32)
        return od_src(p, v, NULL);
    dnnl_memory_desc_t md;
    if (dims)
        od_md_plain(&md, ndim, dims, dnnl_f32);
    else
        val_md(V, &md);
    return od_src(p, v, &md);
}

void od_set_home(od_prog *p, int v, int t)
{
    p->v[v].home = t;
    p->v[v].nalt = 0;
    od_buf *b = &p->b[p->t[t].buf];
    if (b->last_ir < p->v[v].last_op)
        b->last_ir = p->v[v].last_op;
}

/* 1 when a step made so far touches buffer b. */
static int buf_in_steps(const od_prog *p, int b)
{
    for (size_t i = 0; i < p->ns; i++) {
        const od_step *s = &p->s[i];
        for (int j = 0; j < s->nargs; j++)
            if (p->t[s->arg_t[j]].buf == b)
                return 1;
        for (int j = 0; j < s->nt; j++)
            if (s->t[j] >= 0 && p->t[s->t[j]].buf == b)
                return 1;
        for (int j = 0; j < s->next; j++)
            if (s->ext[j] >= 0 && p->t[s->ext[j]].buf == b)
                return 1;
    }
    return 0;
}

int od_relayout(od_prog *p, int v, const dnnl_memory_desc_t *md)
{
    od_val *V = &p->v[v];
    if (V->dtype != AIGTATT_F32 || (V->role != AIGTATT_IR_PARAM && V->role != AIGTATT_IR_OPT_STATE))
        return -1;
    if (dnnl_memory_desc_equal(&p->t[V->home].md, md))
        return 0;
    if (V->stage >= 0 || !od_md_is_plain(&p->t[V->home].md))
        return -1;
    /* A step already reads the plain copy (a Winograd convolution sharing
     * this weight, a reorder made for another op): after the move that
     * copy would only be refreshed by set(), and the step would read the
     * weights from before the last update. */
    if (buf_in_steps(p, p->t[V->home].buf))
        return -1;
    int b = od_buf_new(p, dnnl_memory_desc_get_size(md), 1);
    if (b < 0)
        return -1;
    int t = od_tensor_new(p, md, b, v);
    if (t < 0)
        return -1;
    /* the plain copy seen with the layout's dims (grouped weights are 5-d) */
    dnnl_memory_desc_t pm;
    od_md_plain(&pm, md->ndims, md->dims, dnnl_f32);
    int st = view(p, V->home, &pm);
    if (st < 0)
        return -1;
    V->stage = st;
    V->home = t;
    V->nalt = 0;
    p->t[t].used = p->t[V->stage].used = 1;
    return 0;
}

int od_dst(od_prog *p, int v, const dnnl_memory_desc_t *md)
{
    if (v < 0)
        return od_tensor_new(p, md, -1, -1);
    od_val *V = &p->v[v];
    if (V->dtype != AIGTATT_F32) {
        if (V->home >= 0)
            return V->home;
        dnnl_memory_desc_t m;
        val_md(V, &m);
        int t = od_tensor_new(p, &m, -1, v);
        if (t >= 0)
            V->home = t;
        return t;
    }
    if (V->role == AIGTATT_IR_TEMP) {
        if (plain_f32(md) && !same_dims(md, V)) { /* home in its own dims, a view for the op */
            dnnl_memory_desc_t m;
            val_md(V, &m);
            int h = od_tensor_new(p, &m, -1, v);
            if (h < 0)
                return -1;
            V->home = h;
            V->nalt = 0;
            return view(p, h, md);
        }
        int t = od_tensor_new(p, md, -1, v);
        if (t >= 0) {
            V->home = t;
            V->nalt = 0;
        }
        return t;
    }
    /* Outputs and in-place results live plain in their own buffer. */
    V->nalt = 0;
    if (plain_f32(md))
        return view(p, V->home, md);
    int t = od_tensor_new(p, md, -1, -1);
    if (t < 0)
        return -1;
    dnnl_memory_desc_t pm;
    od_md_plain(&pm, md->ndims, md->dims, dnnl_f32);
    int h = view(p, V->home, &pm);
    if (h < 0 || p->npend == 8)
        return od_fail(AIGTATT_ERR, "too many pending reorders"), -1;
    p->pend_src[p->npend] = t;
    p->pend_dst[p->npend] = h;
    p->npend++;
    return t;
}

int od_dst_inplace(od_prog *p, int v, const dnnl_memory_desc_t *md, int src)
{
    if (v >= 0 && src >= 0 && p->v[v].role == AIGTATT_IR_TEMP && p->v[v].dtype == AIGTATT_F32) {
        od_tensor *T = &p->t[src];
        od_buf *B = &p->b[T->buf];
        if (!B->persistent && B->last_ir <= p->cur && dnnl_memory_desc_equal(&T->md, md)) {
            int t = od_tensor_new(p, md, T->buf, v);
            if (t >= 0) {
                p->v[v].home = t;
                p->v[v].nalt = 0;
            }
            return t;
        }
    }
    return od_dst(p, v, md);
}

/* ---- steps ---- */

od_step *od_step_new(od_prog *p, const char *what)
{
    if (p->ns == p->caps) {
        size_t nc = p->caps ? 2 * p->caps : 256;
        od_step *ns = od_host->realloc_mem(p->s, nc * sizeof *ns);
        if (!ns) {
            od_fail(AIGTATT_ERR_NOMEM, "out of memory");
            return NULL;
        }
        memset(ns + p->caps, 0, (nc - p->caps) * sizeof *ns);
        p->s = ns;
        p->caps = nc;
    }
    od_step *s = &p->s[p->ns++];
    memset(s, 0, sizeof *s);
    s->op = p->cur;
    s->what = what;
    return s;
}

dnnl_primitive_attr_t od_attr(const dnnl_post_ops_t po)
{
    dnnl_primitive_attr_t a = NULL;
    if (dnnl_primitive_attr_create(&a) != dnnl_success)
        return NULL;
    dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user);
    if (po)
        dnnl_primitive_attr_set_post_ops(a, po);
    return a;
}

dnnl_memory_desc_t od_qmd(const_dnnl_primitive_desc_t pd, dnnl_query_t q)
{
    const dnnl_memory_desc_t *m = dnnl_primitive_desc_query_md(pd, q, 0);
    dnnl_memory_desc_t r;
    if (m)
        r = *m;
    else
        memset(&r, 0, sizeof r);
    return r;
}

od_step *od_step_prim(od_prog *p, const char *what, dnnl_primitive_desc_t pd)
{
    od_step *s = od_step_new(p, what);
    if (!s) {
        dnnl_primitive_desc_destroy(pd);
        return NULL;
    }
    dnnl_status_t st = dnnl_primitive_create(&s->prim, pd);
    if (st == dnnl_success) {
        const dnnl_memory_desc_t *sm = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        if (sm && sm->ndims > 0) {
            s->scratch_md = *sm;
            size_t sz = dnnl_memory_desc_get_size(sm);
            if (sz > p->scratch_size)
                p->scratch_size = sz;
        }
    }
    dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) {
        p->ns--;
        od_check(st, what);
        return NULL;
    }
    p->nprims++;
    return s;
}

void od_step_arg(od_step *s, int arg, int tensor)
{
    if (tensor < 0 || s->nargs == OD_MAXARGS)
        return;
    s->arg_id[s->nargs] = arg;
    s->arg_t[s->nargs] = tensor;
    s->nargs++;
}

od_step *od_step_kernel(od_prog *p, const char *what, od_kernel_fn fn)
{
    od_step *s = od_step_new(p, what);
    if (s) {
        s->fn = fn;
        for (int i = 0; i < OD_MAXT; i++)
            s->t[i] = -1;
        p->nkernels++;
    }
    return s;
}

int od_step_reorder(od_prog *p, int src, int dst)
{
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t a = od_attr(NULL);
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, &p->t[src].md, p->dev->engine, &p->t[dst].md,
                                                          p->dev->engine, a);
    dnnl_primitive_attr_destroy(a);
    if (st != dnnl_success)
        return od_check(st, "reorder");
    od_step *s = od_step_prim(p, "reorder", pd);
    if (!s)
        return AIGTATT_ERR;
    od_step_arg(s, DNNL_ARG_FROM, src);
    od_step_arg(s, DNNL_ARG_TO, dst);
    p->nreorders++;
    return AIGTATT_OK;
}

int od_flush(od_prog *p)
{
    int n = p->npend;
    p->npend = 0;
    for (int i = 0; i < n; i++)
        if (od_step_reorder(p, p->pend_src[i], p->pend_dst[i]) != AIGTATT_OK)
            return AIGTATT_ERR;
    return AIGTATT_OK;
}

/* ---- the memory plan ---- */

static size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

typedef struct placed {
    size_t off, size;
    int first, last;
} placed;

/* Buffers by decreasing size, then first use (qsort_r: programs may be
 * compiled on several threads at once). */
static int cmp_size_desc(const void *a, const void *b, void *ctx)
{
    const od_buf *B = ctx;
    int x = *(const int *)a, y = *(const int *)b;
    if (B[x].size != B[y].size)
        return B[x].size < B[y].size ? 1 : -1;
    return B[x].first - B[y].first;
}

static int cmp_off(const void *a, const void *b)
{
    const placed *x = *(const placed *const *)a, *y = *(const placed *const *)b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static void touch(od_prog *p, int t, int step)
{
    if (t < 0)
        return;
    od_buf *b = &p->b[p->t[t].buf];
    if (b->first < 0 || step < b->first)
        b->first = step;
    if (step > b->last)
        b->last = step;
}

/* Greedy best-fit by decreasing size: each buffer goes at the lowest offset
 * where it overlaps no already placed buffer alive at the same time. */
static int plan(od_prog *p)
{
    for (size_t i = 0; i < p->ns; i++) {
        od_step *s = &p->s[i];
        for (int j = 0; j < s->nargs; j++) {
            touch(p, s->arg_t[j], (int)i);
            p->t[s->arg_t[j]].used = 1;
        }
        for (int j = 0; j < s->nt; j++)
            touch(p, s->t[j], (int)i);
        for (int j = 0; j < s->next; j++)
            touch(p, s->ext[j], (int)i);
    }
    int *order = od_host->alloc((p->nb + 1) * sizeof *order);
    placed *pl = od_host->alloc((p->nb + 1) * sizeof *pl);
    placed **live = od_host->alloc((p->nb + 1) * sizeof *live);
    if (!order || !pl || !live) {
        od_host->free_mem(order);
        od_host->free_mem(pl);
        od_host->free_mem(live);
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < p->nb; i++)
        if (!p->b[i].persistent && p->b[i].first >= 0)
            order[n++] = (int)i;
    qsort_r(order, n, sizeof *order, cmp_size_desc, p->b);
    size_t total = 0, npl = 0;
    for (size_t k = 0; k < n; k++) {
        od_buf *b = &p->b[order[k]];
        size_t sz = align_up(b->size, 64), nl = 0;
        for (size_t j = 0; j < npl; j++)
            if (!(pl[j].last < b->first || b->last < pl[j].first))
                live[nl++] = &pl[j];
        qsort(live, nl, sizeof *live, cmp_off);
        size_t off = 0;
        for (size_t j = 0; j < nl; j++) {
            if (off + sz <= live[j]->off)
                break;
            size_t end = live[j]->off + live[j]->size;
            if (end > off)
                off = end;
        }
        b->offset = off;
        pl[npl++] = (placed){ off, sz, b->first, b->last };
        if (off + sz > total)
            total = off + sz;
    }
    od_host->free_mem(order);
    od_host->free_mem(pl);
    od_host->free_mem(live);
    p->arena_size = total;
    if (total) {
        p->arena = aligned_alloc(4096, align_up(total, 4096));
        if (!p->arena)
            return od_fail(AIGTATT_ERR_NOMEM, "out of memory for %zu MiB of activations", total >> 20);
    }
    for (size_t i = 0; i < p->nb; i++) {
        od_buf *b = &p->b[i];
        if (b->persistent) {
            b->ptr = aligned_alloc(64, align_up(b->size, 64));
            if (!b->ptr)
                return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
            memset(b->ptr, 0, align_up(b->size, 64));
            p->persistent_bytes += b->size;
        } else if (b->first >= 0) {
            b->ptr = (char *)p->arena + b->offset;
        }
    }
    if (p->scratch_size) {
        p->scratch = aligned_alloc(4096, align_up(p->scratch_size, 4096));
        if (!p->scratch)
            return od_fail(AIGTATT_ERR_NOMEM, "out of memory for the scratchpad");
    }
    return AIGTATT_OK;
}

/* Memory objects for every tensor a primitive touches, and the argument
 * lists of the steps. */
static int bind(od_prog *p)
{
    for (size_t i = 0; i < p->nt; i++) {
        od_tensor *t = &p->t[i];
        if (!t->used)
            continue;
        dnnl_status_t st = dnnl_memory_create(&t->mem, &t->md, p->dev->engine, p->b[t->buf].ptr);
        if (st != dnnl_success)
            return od_check(st, "memory");
    }
    for (size_t i = 0; i < p->nv; i++) {
        od_val *V = &p->v[i];
        if (V->stage < 0)
            continue;
        for (int dir = 0; dir < 2; dir++) {
            const dnnl_memory_desc_t *a = &p->t[dir ? V->home : V->stage].md, *b = &p->t[dir ? V->stage : V->home].md;
            dnnl_primitive_desc_t pd = NULL;
            dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, a, p->dev->engine, b, p->dev->engine, NULL);
            if (st == dnnl_success) {
                st = dnnl_primitive_create(dir ? &V->from_home : &V->to_home, pd);
                dnnl_primitive_desc_destroy(pd);
            }
            if (st != dnnl_success)
                return od_check(st, "weights layout");
        }
    }
    for (size_t i = 0; i < p->ns; i++) {
        od_step *s = &p->s[i];
        for (int j = 0; j < s->nargs; j++) {
            s->args[j].arg = s->arg_id[j];
            s->args[j].memory = p->t[s->arg_t[j]].mem;
        }
        if (s->prim && s->scratch_md.ndims > 0) {
            dnnl_status_t st = dnnl_memory_create(&s->scratch, &s->scratch_md, p->dev->engine, p->scratch);
            if (st != dnnl_success)
                return od_check(st, "scratchpad");
        }
    }
    return AIGTATT_OK;
}

/* ---- compile ---- */

static const char *op_name(aigtatt_ir_opcode c)
{
    switch (c) {
#define N(x)               \
    case AIGTATT_OP_##x: \
        return #x;
        N(CONV2D) N(BATCH_NORM) N(LAYER_NORM) N(LINEAR) N(MATMUL) N(POOL2D) N(GLOBAL_AVG_POOL) N(UNARY) N(BINARY)
        N(AFFINE) N(CLAMP) N(WHERE) N(RESHAPE) N(PERMUTE) N(ROLL) N(SLICE) N(CONCAT) N(PAD) N(REDUCE) N(SOFTMAX)
        N(L2_NORMALIZE) N(DROPOUT) N(STOCHASTIC_DEPTH) N(ONE_HOT) N(CROSS_ENTROPY) N(EXPAND) N(CONV2D_BWD_DATA)
        N(CONV2D_BWD_WEIGHT) N(BATCH_NORM_BWD) N(LAYER_NORM_BWD) N(POOL2D_BWD) N(UNARY_BWD) N(SOFTMAX_BWD)
        N(L2_NORMALIZE_BWD) N(CROSS_ENTROPY_BWD) N(REDUCE_TO) N(BINARY_BWD) N(CLAMP_BWD) N(SLICE_BWD)
        N(REDUCE_MAX_BWD) N(SGD_UPDATE) N(ADAM_UPDATE) N(INCREMENT)
#undef N
    }
    return "?";
}

const char *od_op_name(aigtatt_ir_opcode c) { return op_name(c); }

static int is_update(aigtatt_ir_opcode c) { return c == AIGTATT_OP_SGD_UPDATE || c == AIGTATT_OP_ADAM_UPDATE || c == AIGTATT_OP_INCREMENT; }

int od_compile_ir(od_device *dev, const aigtatt_ir *ir, od_prog **out)
{
    *out = NULL;
    if (!ir || ir->struct_size < offsetof(aigtatt_ir, seed) + sizeof(uint64_t))
        return od_fail(AIGTATT_ERR_INVALID, "IR struct too small");
    od_prog *p = od_host->alloc_zero(1, sizeof *p);
    if (!p)
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
    p->dev = dev;
    p->nv = ir->n_values;
    p->nops = ir->n_ops;
    p->seed = ir->seed;
    p->cur = -1;
    size_t nidx = 0;
    for (size_t k = 0; k < ir->n_ops; k++) {
        aigtatt_ir_op o;
        memset(&o, 0, sizeof o);
        memcpy(&o, (const char *)ir->ops + k * ir->op_size, ir->op_size < sizeof o ? ir->op_size : sizeof o);
        nidx += (size_t)o.n_in + (size_t)o.n_out;
    }
    p->v = od_host->alloc_zero(p->nv + 1, sizeof *p->v);
    p->ops = od_host->alloc_zero(p->nops + 1, sizeof *p->ops);
    p->idx = od_host->alloc_zero(nidx + 1, sizeof *p->idx);
    p->skip = od_host->alloc_zero(p->nops + 1, sizeof *p->skip);
    p->ws = od_host->alloc_zero(p->nops + 1, sizeof *p->ws);
    p->fwd_pd = od_host->alloc_zero(p->nops + 1, sizeof *p->fwd_pd);
    p->redirect = od_host->alloc_zero(p->nv + 1, sizeof *p->redirect);
    int rc = AIGTATT_OK;
    if (!p->v || !p->ops || !p->idx || !p->skip || !p->ws || !p->fwd_pd || !p->redirect) {
        rc = od_fail(AIGTATT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < p->nv; i++) {
        aigtatt_ir_value w;
        memset(&w, 0, sizeof w);
        memcpy(&w, (const char *)ir->values + i * ir->value_size,
               ir->value_size < sizeof w ? ir->value_size : sizeof w);
        od_val *v = &p->v[i];
        if (w.ndim < 0 || w.ndim > OD_MAXD) {
            rc = od_fail(AIGTATT_ERR_INVALID, "value %zu has %d dimensions", i, (int)w.ndim);
            goto fail;
        }
        if (w.dtype == AIGTATT_BF16) {
            rc = od_fail(AIGTATT_ERR_INVALID, "value %zu is BF16: the bf16 mode is not implemented yet", i);
            goto fail;
        }
        if (w.dtype != AIGTATT_F32 && w.dtype != AIGTATT_F64 && w.dtype != AIGTATT_I64) {
            rc = od_fail(AIGTATT_ERR_INVALID, "value %zu has unknown dtype %d", i, (int)w.dtype);
            goto fail;
        }
        v->dtype = w.dtype;
        v->ndim = w.ndim;
        v->numel = 1;
        for (int d = 0; d < w.ndim; d++) {
            v->shape[d] = w.shape[d];
            v->numel *= w.shape[d];
        }
        v->role = w.role;
        v->first_op = w.first_op;
        v->last_op = w.last_op;
        v->constant = w.constant;
        v->home = -1;
        v->stage = -1;
        p->redirect[i] = (int)i;
    }
    size_t at = 0;
    for (size_t k = 0; k < p->nops; k++) {
        aigtatt_ir_op o;
        memset(&o, 0, sizeof o);
        memcpy(&o, (const char *)ir->ops + k * ir->op_size, ir->op_size < sizeof o ? ir->op_size : sizeof o);
        od_op *q = &p->ops[k];
        q->op = o.op;
        q->n_in = o.n_in;
        q->n_out = o.n_out;
        q->in = p->idx + at;
        q->out = p->idx + at + o.n_in;
        for (int i = 0; i < o.n_in; i++)
            q->in[i] = o.in[i];
        for (int j = 0; j < o.n_out; j++)
            q->out[j] = o.out[j];
        memcpy(q->ints, o.ints, sizeof q->ints);
        memcpy(q->reals, o.reals, sizeof q->reals);
        at += (size_t)o.n_in + (size_t)o.n_out;
        p->ws[k] = -1;
        if ((int)q->op >= 101 && !is_update(q->op))
            p->training = 1;
        for (int i = 0; i < o.n_in + o.n_out; i++) {
            int32_t vi = q->in[i];
            if (vi < -1 || vi >= (int32_t)p->nv) {
                rc = od_fail(AIGTATT_ERR_INVALID, "op %zu refers to value %d of %zu", k, (int)vi, p->nv);
                goto fail;
            }
            if (vi < 0)
                continue;
            if (i < o.n_in)
                p->v[vi].readers++;
            /* F64 values only as the learning rate the updates read. */
            if (p->v[vi].dtype == AIGTATT_F64 && !is_update(q->op)) {
                rc = od_fail(AIGTATT_ERR_INVALID,
                             "%s reads F64 value %d: this backend runs F32 networks (F64 lowerings, as the gradient "
                             "checks use, run on backend.reference)",
                             op_name(q->op), (int)vi);
                goto fail;
            }
        }
    }
    /* Everything set() and get() reach lives plain in its own buffer. */
    for (size_t i = 0; i < p->nv; i++) {
        od_val *v = &p->v[i];
        if (v->role == AIGTATT_IR_TEMP)
            continue;
        dnnl_memory_desc_t md;
        val_md(v, &md);
        int b = od_buf_new(p, (size_t)v->numel * od_esize(v->dtype), 1);
        if (b < 0 || (v->home = od_tensor_new(p, &md, b, (int)i)) < 0) {
            rc = od_fail(AIGTATT_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    if (dev->fuse && (rc = od_fuse_plan(p)) != AIGTATT_OK)
        goto fail;
    for (size_t k = 0; k < p->nops; k++) {
        p->cur = (int)k;
        if (p->skip[k])
            continue;
        rc = od_lower_op(p, (int)k);
        if (rc == AIGTATT_OK)
            rc = od_flush(p);
        if (rc != AIGTATT_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", od_host->last_error ? od_host->last_error() : "");
            rc = od_fail(rc, "op %zu (%s): %s", k, op_name(p->ops[k].op), msg);
            goto fail;
        }
    }
    p->cur = -1;
    if ((rc = plan(p)) != AIGTATT_OK || (rc = bind(p)) != AIGTATT_OK)
        goto fail;
    /* Constants: their value, once. */
    for (size_t i = 0; i < p->nv; i++) {
        od_val *v = &p->v[i];
        if (v->role != AIGTATT_IR_CONSTANT)
            continue;
        void *d = p->b[p->t[v->home].buf].ptr;
        for (int64_t j = 0; j < v->numel; j++) {
            if (v->dtype == AIGTATT_F32)
                ((float *)d)[j] = (float)v->constant;
            else if (v->dtype == AIGTATT_F64)
                ((double *)d)[j] = v->constant;
            else
                ((int64_t *)d)[j] = (int64_t)v->constant;
        }
    }
    for (size_t k = 0; k < p->nops; k++)
        if (p->fwd_pd[k]) {
            dnnl_primitive_desc_destroy(p->fwd_pd[k]);
            p->fwd_pd[k] = NULL;
        }
    if (dev->verbose) {
        for (size_t i = 0; i < p->ns; i++) {
            od_step *s = &p->s[i];
            char d[224];
            od_step_describe(p, s, d, sizeof d);
            od_host->log(AIGTATT_LOG_INFO, "backend.onednn: step %zu op %d %s %s", i, s->op, s->what, d);
        }
    }
    od_host->log(AIGTATT_LOG_DEBUG,
                 "backend.onednn: %zu ops -> %zu steps (%d primitives, %d reorders, %d C kernels, %d ops fused); "
                 "%zu MiB arena, %zu MiB persistent, %zu MiB scratchpad",
                 p->nops, p->ns, p->nprims, p->nreorders, p->nkernels, p->nfused, p->arena_size >> 20,
                 p->persistent_bytes >> 20, p->scratch_size >> 20);
    *out = p;
    return AIGTATT_OK;
fail:
    od_prog_free(p);
    return rc;
}

void od_prog_free(od_prog *p)
{
    if (!p)
        return;
    od_fuse_free(p);
    for (size_t i = 0; i < p->ns; i++) {
        if (p->s[i].prim)
            dnnl_primitive_destroy(p->s[i].prim);
        if (p->s[i].scratch)
            dnnl_memory_destroy(p->s[i].scratch);
        od_host->free_mem(p->s[i].aux);
        od_host->free_mem(p->s[i].ext);
    }
    for (size_t i = 0; i < p->nt; i++)
        if (p->t[i].mem)
            dnnl_memory_destroy(p->t[i].mem);
    for (size_t i = 0; p->v && i < p->nv; i++) {
        if (p->v[i].to_home)
            dnnl_primitive_destroy(p->v[i].to_home);
        if (p->v[i].from_home)
            dnnl_primitive_destroy(p->v[i].from_home);
    }
    for (size_t i = 0; i < p->nb; i++)
        if (p->b[i].persistent)
            free(p->b[i].ptr);
    if (p->fwd_pd)
        for (size_t k = 0; k < p->nops; k++)
            if (p->fwd_pd[k])
                dnnl_primitive_desc_destroy(p->fwd_pd[k]);
    free(p->arena);
    free(p->scratch);
    od_host->free_mem(p->s);
    od_host->free_mem(p->t);
    od_host->free_mem(p->b);
    od_host->free_mem(p->v);
    od_host->free_mem(p->ops);
    od_host->free_mem(p->idx);
    od_host->free_mem(p->skip);
    od_host->free_mem(p->ws);
    od_host->free_mem(p->fwd_pd);
    od_host->free_mem(p->redirect);
    od_host->free_mem(p);
}
