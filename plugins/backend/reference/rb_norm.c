/* Batch norm (train and eval, running-stat update) and layer norm, with
 * their backward ops. Statistics in double, two passes (no E[x^2]-E[x]^2
 * cancellation). */
#include "rb_internal.h"

#include <math.h>

/* x [N, C, S...] as N * C planes of S elements. */
static void bn_dims(const rb_val *x, int64_t *n, int64_t *c, int64_t *s)
{
    *n = x->shape[0];
    *c = x->shape[1];
    *s = rb_prod(x->shape, 2, x->ndim);
}

static int batch_norm(rb_prog *p, const rb_op *op)
{
    rb_val *x = rb_in(p, op, 0), *w = rb_in(p, op, 1), *b = rb_in(p, op, 2);
    rb_val *rm = rb_in(p, op, 3), *rv = rb_in(p, op, 4), *nbt = rb_in(p, op, 5);
    rb_val *y = rb_out(p, op, 0), *sm = rb_out(p, op, 1), *si = rb_out(p, op, 2);
    int batch_stats = (int)op->ints[0], update = (int)op->ints[1];
    double momentum = op->reals[0], eps = op->reals[1];
    int64_t N, C, S;
    bn_dims(x, &N, &C, &S);
    double m_count = (double)(N * S);
    if (update && nbt) {
        nbt->data[0] += 1;
    }
    /* PyTorch's momentum=None: a cumulative average over the batches seen. */
    double factor = momentum >= 0 ? momentum : (nbt ? 1.0 / nbt->data[0] : 0.0);
    for (int64_t c = 0; c < C; c++) {
        double mean, invstd;
        if (batch_stats) {
            double s = 0, v = 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t k = 0; k < S; k++)
                    s += x->data[(n * C + c) * S + k];
            mean = s / m_count;
            for (int64_t n = 0; n < N; n++)
                for (int64_t k = 0; k < S; k++) {
                    double d = x->data[(n * C + c) * S + k] - mean;
                    v += d * d;
                }
            double var = v / m_count;
            invstd = 1.0 / sqrt(var + eps);
            if (sm)
                sm->data[c] = mean;
            if (si)
                si->data[c] = invstd;
            if (update) {
                rm->data[c] = rb_round1(rm->dtype, (1 - factor) * rm->data[c] + factor * mean);
                rv->data[c] = rb_round1(rv->dtype, (1 - factor) * rv->data[c] + factor * v / (m_count - 1));
            }
        } else {
            mean = rm->data[c];
            invstd = 1.0 / sqrt(rv->data[c] + eps);
        }
        double gw = w ? w->data[c] : 1.0, gb = b ? b->data[c] : 0.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < S; k++) {
                int64_t i = (n * C + c) * S + k;
                y->data[i] = (x->data[i] - mean) * invstd * gw + gb;
            }
    }
    return AIGTATT_OK;
}

static int batch_norm_bwd(rb_prog *p, const rb_op *op)
{
    rb_val *dy = rb_in(p, op, 0), *x = rb_in(p, op, 1), *w = rb_in(p, op, 2);
    rb_val *mv = rb_in(p, op, 3), *sv = rb_in(p, op, 4);
    rb_val *dx = rb_out(p, op, 0), *dw = rb_out(p, op, 1), *db = rb_out(p, op, 2);
    int batch_stats = (int)op->ints[0];
    int64_t N, C, S;
    bn_dims(x, &N, &C, &S);
    double M = (double)(N * S);
    for (int64_t c = 0; c < C; c++) {
        double mean = mv->data[c];
        /* training: saved invstd; inference: running variance */
        double invstd = batch_stats ? sv->data[c] : 1.0 / sqrt(sv->data[c] + op->reals[0]);
        double sdy = 0, sdyx = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < S; k++) {
                int64_t i = (n * C + c) * S + k;
                sdy += dy->data[i];
                sdyx += dy->data[i] * (x->data[i] - mean) * invstd;
            }
        if (dw)
            dw->data[c] = sdyx;
        if (db)
            db->data[c] = sdy;
        if (!dx)
            continue;
        double gw = w ? w->data[c] : 1.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < S; k++) {
                int64_t i = (n * C + c) * S + k;
                if (batch_stats) {
                    double xhat = (x->data[i] - mean) * invstd;
                    dx->data[i] = gw * invstd * (dy->data[i] - sdy / M - xhat * sdyx / M);
                } else {
                    dx->data[i] = gw * invstd * dy->data[i];
                }
            }
    }
    return AIGTATT_OK;
}

static int layer_norm(rb_prog *p, const rb_op *op)
{
    rb_val *x = rb_in(p, op, 0), *w = rb_in(p, op, 1), *b = rb_in(p, op, 2);
    rb_val *y = rb_out(p, op, 0), *mo = rb_out(p, op, 1), *ro = rb_out(p, op, 2);
    int64_t inner = rb_prod(x->shape, x->ndim - (int)op->ints[0], x->ndim), rows = x->numel / inner;
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x->data + r * inner;
        double s = 0, v = 0;
        for (int64_t j = 0; j < inner; j++)
            s += xr[j];
        double mean = s / (double)inner;
        for (int64_t j = 0; j < inner; j++)
            v += (xr[j] - mean) * (xr[j] - mean);
        double rstd = 1.0 / sqrt(v / (double)inner + op->reals[0]);
        if (mo)
            mo->data[r] = mean;
        if (ro)
            ro->data[r] = rstd;
        for (int64_t j = 0; j < inner; j++)
            y->data[r * inner + j] = (xr[j] - mean) * rstd * (w ? w->data[j] : 1.0) + (b ? b->data[j] : 0.0);
    }
    return AIGTATT_OK;
}

static int layer_norm_bwd(rb_prog *p, const rb_op *op)
{
    rb_val *dy = rb_in(p, op, 0), *x = rb_in(p, op, 1), *w = rb_in(p, op, 2);
    rb_val *mv = rb_in(p, op, 3), *rv = rb_in(p, op, 4);
    rb_val *dx = rb_out(p, op, 0), *dw = rb_out(p, op, 1), *db = rb_out(p, op, 2);
    int64_t inner = rb_prod(x->shape, x->ndim - (int)op->ints[0], x->ndim), rows = x->numel / inner;
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x->data + r * inner, *gr = dy->data + r * inner;
        double mean = mv->data[r], rstd = rv->data[r];
        /* with g = dy * w: dx = rstd (g - mean(g) - xhat mean(g xhat)) */
        double sg = 0, sgx = 0;
        for (int64_t j = 0; j < inner; j++) {
            double g = gr[j] * (w ? w->data[j] : 1.0), xhat = (xr[j] - mean) * rstd;
            sg += g;
            sgx += g * xhat;
            if (dw)
                dw->data[j] += gr[j] * xhat;
            if (db)
                db->data[j] += gr[j];
        }
        if (!dx)
            continue;
        for (int64_t j = 0; j < inner; j++) {
            double g = gr[j] * (w ? w->data[j] : 1.0), xhat = (xr[j] - mean) * rstd;
            dx->data[r * inner + j] = rstd * (g - sg / (double)inner - xhat * sgx / (double)inner);
        }
    }
    return AIGTATT_OK;
}

int rb_norm(rb_prog *p, const rb_op *op)
{
    switch (op->op) {
    case AIGTATT_OP_BATCH_NORM:
        return batch_norm(p, op);
    case AIGTATT_OP_BATCH_NORM_BWD:
        return batch_norm_bwd(p, op);
    case AIGTATT_OP_LAYER_NORM:
        return layer_norm(p, op);
    case AIGTATT_OP_LAYER_NORM_BWD:
        return layer_norm_bwd(p, op);
    default:
        return rb_fail("norm: opcode %d", (int)op->op);
    }
}
