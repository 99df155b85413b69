/* The ops oneDNN lacks (or where its semantics differ from PyTorch's) run
 * backend.reference's own loops: the op's plain inputs are widened to
 * double, the reference kernel runs, and its outputs (already rounded to
 * float by the same rules) are narrowed back. So the semantics are the
 * reference's by construction; these ops are small in the networks that
 * matter (losses, ArcFace's normalisation, masks) and cost a conversion.
 *
 * The reference's kernels come from plugins/backend/reference/rb_*.c,
 * compiled into this plugin with rb_common.c (its vtable, rb_plugin.c, is
 * not). */
#include "od_internal.h"
#include "rb_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void od_ref_init(const aigtatt_host *host)
{
    rb_host = host;
    rb_who = "backend.onednn";
}

/* Ops that update persistent inputs in place. */
static int updates_inputs(aigtatt_ir_opcode c)
{
    return c == AIGTATT_OP_BATCH_NORM || c == AIGTATT_OP_SGD_UPDATE || c == AIGTATT_OP_ADAM_UPDATE ||
           c == AIGTATT_OP_INCREMENT;
}

static int persistent(aigtatt_ir_role r) { return r == AIGTATT_IR_PARAM || r == AIGTATT_IR_BUFFER || r == AIGTATT_IR_OPT_STATE; }

static void widen(const od_val *V, const void *src, double *d)
{
    for (int64_t i = 0; i < V->numel; i++)
        d[i] = V->dtype == AIGTATT_F32   ? (double)((const float *)src)[i]
             : V->dtype == AIGTATT_F64 ? ((const double *)src)[i]
                                         : (double)((const int64_t *)src)[i];
}

static void narrow(const od_val *V, const double *d, void *dst)
{
    for (int64_t i = 0; i < V->numel; i++) {
        if (V->dtype == AIGTATT_F32)
            ((float *)dst)[i] = (float)d[i];
        else if (V->dtype == AIGTATT_F64)
            ((double *)dst)[i] = d[i];
        else
            ((int64_t *)dst)[i] = (int64_t)d[i];
    }
}

/* aux: the op's tensors, inputs then outputs (-1 absent); i[0] the op. */
static int k_ref(od_prog *p, od_step *s)
{
    const od_op *op = &p->ops[s->i[0]];
    const int *tl = s->aux;
    int n = op->n_in + op->n_out;
    rb_val *vals = od_host->alloc_zero((size_t)n + 1, sizeof *vals);
    int32_t *idx = od_host->alloc_zero((size_t)n + 1, sizeof *idx);
    int rc = AIGTATT_OK;
    if (!vals || !idx) {
        rc = od_fail(AIGTATT_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int j = 0; j < n; j++) {
        int vi = j < op->n_in ? op->in[j] : op->out[j - op->n_in];
        if (vi < 0 || tl[j] < 0) {
            idx[j] = -1;
            continue;
        }
        vi = p->redirect[vi];
        const od_val *V = &p->v[vi];
        rb_val *r = &vals[j];
        r->dtype = V->dtype;
        r->ndim = V->ndim;
        memcpy(r->shape, V->shape, sizeof r->shape);
        r->numel = V->numel;
        r->role = V->role;
        r->first_op = V->first_op;
        r->last_op = V->last_op;
        r->constant = V->constant;
        r->data = od_host->alloc_zero((size_t)V->numel + 1, sizeof(double));
        if (!r->data) {
            rc = od_fail(AIGTATT_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (j < op->n_in)
            widen(V, od_ptr(p, tl[j]), r->data);
        idx[j] = j;
    }
    rb_prog rp = { .nv = (size_t)n, .v = vals, .seed = p->seed };
    rb_op ro = { .op = op->op, .n_in = op->n_in, .n_out = op->n_out, .in = idx, .out = idx + op->n_in };
    memcpy(ro.ints, op->ints, sizeof ro.ints);
    memcpy(ro.reals, op->reals, sizeof ro.reals);
    rc = rb_dispatch(&rp, &ro);
    if (rc != AIGTATT_OK)
        goto done;
    for (int j = op->n_in; j < n; j++)
        if (idx[j] >= 0) {
            rb_round(&vals[j]);
            narrow(&p->v[p->redirect[op->out[j - op->n_in]]], vals[j].data, od_ptr(p, tl[j]));
        }
    if (updates_inputs(op->op))
        for (int j = 0; j < op->n_in; j++) {
            int vi = op->in[j];
            if (idx[j] < 0 || !persistent(p->v[vi].role))
                continue;
            narrow(&p->v[vi], vals[j].data, od_ptr(p, tl[j]));
            p->v[vi].version++;
        }
done:
    if (vals)
        for (int j = 0; j < n; j++)
            od_host->free_mem(vals[j].data);
    od_host->free_mem(vals);
    od_host->free_mem(idx);
    return rc;
}

int od_lower_ref(od_prog *p, int k)
{
    const od_op *op = &p->ops[k];
    int n = op->n_in + op->n_out;
    int *tl = od_host->alloc_zero((size_t)n + 1, sizeof *tl);
    if (!tl)
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
    for (int j = 0; j < op->n_in; j++) {
        int vi = op->in[j];
        /* in-place updates work on the value's own (plain) buffer */
        tl[j] = vi < 0 ? -1
              : (updates_inputs(op->op) && persistent(p->v[vi].role)) ? p->v[vi].home
                                                                      : od_src_plain(p, vi, 0, NULL);
        if (vi >= 0 && tl[j] < 0) {
            od_host->free_mem(tl);
            return AIGTATT_ERR;
        }
        if (vi >= 0 && updates_inputs(op->op) && persistent(p->v[vi].role)) {
            if (p->v[vi].stage >= 0) {
                od_host->free_mem(tl);
                return od_fail(AIGTATT_ERR, "value %d is kept blocked and cannot be updated by a reference kernel", vi);
            }
            p->v[vi].nalt = 0;
        }
    }
    for (int j = 0; j < op->n_out; j++) {
        int vi = op->out[j];
        tl[op->n_in + j] = -1;
        if (vi < 0)
            continue;
        const od_val *V = &p->v[vi];
        dnnl_memory_desc_t md;
        if (V->dtype == AIGTATT_F32) {
            od_md_plain(&md, V->ndim, V->shape, dnnl_f32);
        } else {
            int64_t nb = V->numel * (int64_t)od_esize(V->dtype);
            od_md_plain(&md, 1, &nb, dnnl_u8);
        }
        tl[op->n_in + j] = od_dst(p, vi, &md);
        if (tl[op->n_in + j] < 0) {
            od_host->free_mem(tl);
            return AIGTATT_ERR;
        }
    }
    od_step *s = od_step_kernel(p, "reference", k_ref);
    if (!s) {
        od_host->free_mem(tl);
        return AIGTATT_ERR;
    }
    s->aux = tl;
    s->i[0] = k;
    s->ext = od_host->alloc((size_t)n * sizeof(int) + 1);
    if (!s->ext)
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
    memcpy(s->ext, tl, (size_t)n * sizeof(int));
    s->next = n;
    s->what = od_op_name(op->op);
    return AIGTATT_OK;
}
