/* backend.reference: a plain-C interpreter of the compute IR, for
 * correctness (gradient checks, parity references for the fast backends)
 * rather than speed. Temps live only from the op that writes them to the
 * last op that reads them, following the IR's live ranges. */
#include "rb_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- the vtable ---- */

static int rb_open(const aigtatt_params *params, void **device)
{
    static int token;
    *device = &token; /* nothing to open: the CPU is always there */
    return AIGTATT_OK;
}

static void rb_close(void *device) { (void)device; }

static void rb_release(void *program)
{
    rb_prog *p = program;
    if (!p)
        return;
    for (size_t i = 0; i < p->nv; i++)
        rb_host->free_mem(p->v[i].data);
    rb_host->free_mem(p->v);
    rb_host->free_mem(p->ops);
    rb_host->free_mem(p->idx);
    rb_host->free_mem(p);
}

static int alloc_val(rb_val *v)
{
    if (v->data)
        return AIGTATT_OK;
    v->data = rb_host->alloc_zero((size_t)v->numel, sizeof(double));
    if (!v->data)
        return rb_fail("out of memory for a value of %lld elements", (long long)v->numel);
    return AIGTATT_OK;
}

static int rb_compile(void *device, const aigtatt_ir *ir, void **program)
{
    *program = NULL;
    if (!ir || ir->struct_size < offsetof(aigtatt_ir, seed) + sizeof(uint64_t))
        return rb_fail("IR struct too small");
    rb_prog *p = rb_host->alloc_zero(1, sizeof *p);
    if (!p)
        return rb_fail("out of memory");
    p->nv = ir->n_values;
    p->nops = ir->n_ops;
    p->seed = ir->seed;
    size_t nidx = 0;
    for (size_t k = 0; k < ir->n_ops; k++) {
        aigtatt_ir_op o;
        memset(&o, 0, sizeof o);
        memcpy(&o, (const char *)ir->ops + k * ir->op_size, ir->op_size < sizeof o ? ir->op_size : sizeof o);
        nidx += (size_t)o.n_in + (size_t)o.n_out;
    }
    p->v = rb_host->alloc_zero(p->nv ? p->nv : 1, sizeof *p->v);
    p->ops = rb_host->alloc_zero(p->nops ? p->nops : 1, sizeof *p->ops);
    p->idx = rb_host->alloc_zero(nidx ? nidx : 1, sizeof *p->idx);
    if (!p->v || !p->ops || !p->idx) {
        rb_release(p);
        return rb_fail("out of memory");
    }
    for (size_t i = 0; i < p->nv; i++) {
        aigtatt_ir_value w;
        memset(&w, 0, sizeof w);
        memcpy(&w, (const char *)ir->values + i * ir->value_size,
               ir->value_size < sizeof w ? ir->value_size : sizeof w);
        rb_val *v = &p->v[i];
        if (w.ndim < 0 || w.ndim > RB_MAXD) {
            rb_release(p);
            return rb_fail("value %zu has %d dimensions", i, (int)w.ndim);
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
        if (v->role != AIGTATT_IR_TEMP) { /* persistent, inputs, outputs, constants */
            if (alloc_val(v) != AIGTATT_OK) {
                rb_release(p);
                return AIGTATT_ERR_NOMEM;
            }
            if (v->role == AIGTATT_IR_CONSTANT)
                v->data[0] = rb_round1(v->dtype, v->constant);
        }
    }
    size_t at = 0;
    for (size_t k = 0; k < p->nops; k++) {
        aigtatt_ir_op o;
        memset(&o, 0, sizeof o);
        memcpy(&o, (const char *)ir->ops + k * ir->op_size, ir->op_size < sizeof o ? ir->op_size : sizeof o);
        rb_op *q = &p->ops[k];
        q->op = o.op;
        q->n_in = o.n_in;
        q->n_out = o.n_out;
        q->in = p->idx + at;
        q->out = p->idx + at + o.n_in;
        for (int i = 0; i < o.n_in; i++)
            q->in[i] = o.in[i];
        for (int j = 0; j < o.n_out; j++)
            q->out[j] = o.out[j];
        for (int i = 0; i < o.n_in + o.n_out; i++)
            if (q->in[i] < -1 || q->in[i] >= (int32_t)p->nv) {
                rb_release(p);
                return rb_fail("op %zu refers to value %d of %zu", k, (int)q->in[i], p->nv);
            }
        memcpy(q->ints, o.ints, sizeof q->ints);
        memcpy(q->reals, o.reals, sizeof q->reals);
        at += (size_t)o.n_in + (size_t)o.n_out;
    }
    *program = p;
    return AIGTATT_OK;
}

static int check_io(rb_prog *p, int32_t vi, size_t nbytes, int writing, rb_val **out)
{
    if (!p || vi < 0 || (size_t)vi >= p->nv)
        return rb_fail("no value %d", (int)vi);
    rb_val *v = &p->v[vi];
    if (v->role == AIGTATT_IR_TEMP || v->role == AIGTATT_IR_CONSTANT)
        return rb_fail("value %d is a %s and cannot be %s", (int)vi,
                       v->role == AIGTATT_IR_TEMP ? "temporary" : "constant", writing ? "set" : "read");
    if (writing && v->role == AIGTATT_IR_OUTPUT)
        return rb_fail("value %d is an output and cannot be set", (int)vi);
    size_t e = v->dtype == AIGTATT_BF16 ? 2 : v->dtype == AIGTATT_F32 ? 4 : 8;
    if (nbytes != (size_t)v->numel * e)
        return rb_fail("value %d holds %zu bytes, not %zu", (int)vi, (size_t)v->numel * e, nbytes);
    *out = v;
    return AIGTATT_OK;
}

static int rb_set(void *program, int32_t vi, const void *data, size_t nbytes)
{
    rb_val *v;
    int rc = check_io(program, vi, nbytes, 1, &v);
    if (rc != AIGTATT_OK)
        return rc;
    for (int64_t i = 0; i < v->numel; i++) {
        switch (v->dtype) {
        case AIGTATT_F32:
            v->data[i] = ((const float *)data)[i];
            break;
        case AIGTATT_F64:
            v->data[i] = ((const double *)data)[i];
            break;
        case AIGTATT_I64:
            v->data[i] = (double)((const int64_t *)data)[i];
            break;
        case AIGTATT_BF16: {
            uint32_t u = (uint32_t)((const uint16_t *)data)[i] << 16;
            float f;
            memcpy(&f, &u, 4);
            v->data[i] = f;
            break;
        }
        }
    }
    return AIGTATT_OK;
}

static int rb_get(void *program, int32_t vi, void *data, size_t nbytes)
{
    rb_val *v;
    int rc = check_io(program, vi, nbytes, 0, &v);
    if (rc != AIGTATT_OK)
        return rc;
    for (int64_t i = 0; i < v->numel; i++) {
        double x = v->data[i];
        switch (v->dtype) {
        case AIGTATT_F32:
            ((float *)data)[i] = (float)x;
            break;
        case AIGTATT_F64:
            ((double *)data)[i] = x;
            break;
        case AIGTATT_I64:
            ((int64_t *)data)[i] = (int64_t)x;
            break;
        case AIGTATT_BF16: {
            float f = rb_bf16_round((float)x);
            uint32_t u;
            memcpy(&u, &f, 4);
            ((uint16_t *)data)[i] = (uint16_t)(u >> 16);
            break;
        }
        }
    }
    return AIGTATT_OK;
}


static void free_temps(rb_prog *p)
{
    for (size_t i = 0; i < p->nv; i++)
        if (p->v[i].role == AIGTATT_IR_TEMP) {
            rb_host->free_mem(p->v[i].data);
            p->v[i].data = NULL;
        }
}

static int rb_run(void *program)
{
    rb_prog *p = program;
    for (size_t k = 0; k < p->nops; k++) {
        const rb_op *op = &p->ops[k];
        /* Outputs start zeroed: scatter kernels (backward data, reduce_to)
         * accumulate into them. */
        for (int j = 0; j < op->n_out; j++) {
            rb_val *v = rb_out(p, op, j);
            if (!v)
                continue;
            if (alloc_val(v) != AIGTATT_OK) {
                free_temps(p);
                return AIGTATT_ERR_NOMEM;
            }
            memset(v->data, 0, sizeof(double) * (size_t)v->numel);
        }
        for (int i = 0; i < op->n_in; i++) {
            rb_val *v = rb_in(p, op, i);
            if (v && !v->data) {
                free_temps(p);
                return rb_fail("op %zu reads value %d before it is written", k, (int)op->in[i]);
            }
        }
        int rc = rb_dispatch(p, op);
        if (rc != AIGTATT_OK) {
            free_temps(p);
            return rc;
        }
        for (int j = 0; j < op->n_out; j++)
            rb_round(rb_out(p, op, j));
        /* Temps whose last reader this was are dead now. */
        for (int i = 0; i < op->n_in + op->n_out; i++) {
            int32_t vi = op->in[i];
            if (vi < 0)
                continue;
            rb_val *v = &p->v[vi];
            if (v->role == AIGTATT_IR_TEMP && v->last_op <= (int32_t)k) {
                rb_host->free_mem(v->data);
                v->data = NULL;
            }
        }
        if (rb_host->cancelled && rb_host->cancelled()) {
            free_temps(p);
            return AIGTATT_ERR_CANCELLED;
        }
    }
    free_temps(p);
    return AIGTATT_OK;
}

static const aigtatt_backend_vtable rb_vtable = {
    /* .struct_size = */ sizeof(aigtatt_backend_vtable),
    /* .open = */ rb_open,
    /* .close = */ rb_close,
    /* .compile = */ rb_compile,
    /* .release = */ rb_release,
    /* .set = */ rb_set,
    /* .get = */ rb_get,
    /* .run = */ rb_run,
};

static const aigtatt_component_desc rb_component = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_BACKEND,
    .name = "backend.reference",
    .version = "1.0.0",
    .summary = "Plain-C reference backend: exact loops in double, fp32 storage; for checks, not speed",
    .doc = "Runs every op of the compute IR with straightforward loops, accumulating in double and "
           "rounding each F32 result to float, or exactly in F64 when the network is lowered in double. "
           "Used for gradient checks and as the parity reference of the fast backends.",
    .vtable = &rb_vtable,
};

static const aigtatt_component_desc *const rb_components[] = { &rb_component, NULL };

static int rb_init(const aigtatt_host *host)
{
    rb_host = host;
    return AIGTATT_OK;
}

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-backend-reference", .version = "1.0.0", .license = "MIT",
                      .description = "The reference compute backend (plain C)", .components = rb_components,
                      .init = rb_init);
