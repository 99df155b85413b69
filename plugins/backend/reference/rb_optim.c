/* Optimizer updates, in place on parameters and state, following
 * torch.optim.SGD and torch.optim.Adam/AdamW (1.13, single-tensor path):
 * scalars such as the bias corrections are computed in double like
 * Python's floats, tensors are rounded to their storage precision. */
#include "rb_internal.h"

#include <math.h>

static int sgd(rb_prog *p, const rb_op *op)
{
    rb_val *w = rb_in(p, op, 0), *g = rb_in(p, op, 1), *buf = rb_in(p, op, 2);
    double lr = rb_in(p, op, 3)->data[0];
    int64_t step = (int64_t)rb_in(p, op, 4)->data[0];
    double momentum = op->reals[0], dampening = op->reals[1], wd = op->reals[2];
    int nesterov = (int)op->ints[0], maximize = (int)op->ints[1];
    aigtatt_dtype t = w->dtype;
    for (int64_t i = 0; i < w->numel; i++) {
        double d = maximize ? -g->data[i] : g->data[i];
        if (wd != 0)
            d = rb_round1(t, d + wd * w->data[i]);
        if (momentum != 0) {
            /* the first step starts the buffer at the gradient itself */
            double b = step <= 1 ? d : momentum * buf->data[i] + (1 - dampening) * d;
            buf->data[i] = rb_round1(t, b);
            d = nesterov ? rb_round1(t, d + momentum * buf->data[i]) : buf->data[i];
        }
        w->data[i] = rb_round1(t, w->data[i] - lr * d);
    }
    return AIGTATT_OK;
}

static int adam(rb_prog *p, const rb_op *op)
{
    rb_val *w = rb_in(p, op, 0), *g = rb_in(p, op, 1), *m = rb_in(p, op, 2), *v = rb_in(p, op, 3);
    rb_val *vmax = rb_in(p, op, 4);
    double lr = rb_in(p, op, 5)->data[0];
    double step = rb_in(p, op, 6)->data[0];
    double b1 = op->reals[0], b2 = op->reals[1], eps = op->reals[2], wd = op->reals[3];
    int decoupled = (int)op->ints[0], amsgrad = (int)op->ints[1], maximize = (int)op->ints[2];
    aigtatt_dtype t = w->dtype;
    double bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step);
    double step_size = lr / bc1, bc2_sqrt = sqrt(bc2);
    for (int64_t i = 0; i < w->numel; i++) {
        double gr = maximize ? -g->data[i] : g->data[i];
        if (decoupled)
            w->data[i] = rb_round1(t, w->data[i] * (1 - lr * wd));
        else if (wd != 0)
            gr = rb_round1(t, gr + wd * w->data[i]);
        m->data[i] = rb_round1(t, m->data[i] * b1 + gr * (1 - b1));
        v->data[i] = rb_round1(t, v->data[i] * b2 + gr * gr * (1 - b2));
        double second = v->data[i];
        if (amsgrad) {
            vmax->data[i] = fmax(vmax->data[i], v->data[i]);
            second = vmax->data[i];
        }
        double denom = rb_round1(t, sqrt(second) / bc2_sqrt + eps);
        w->data[i] = rb_round1(t, w->data[i] - step_size * m->data[i] / denom);
    }
    return AIGTATT_OK;
}

int rb_optim(rb_prog *p, const rb_op *op)
{
    switch (op->op) {
    case AIGTATT_OP_SGD_UPDATE:
        return sgd(p, op);
    case AIGTATT_OP_ADAM_UPDATE:
        return adam(p, op);
    case AIGTATT_OP_INCREMENT:
        rb_in(p, op, 0)->data[0] += (double)op->ints[0];
        return AIGTATT_OK;
    default:
        return rb_fail("optim: opcode %d", (int)op->op);
    }
}
