/* one_hot, cross entropy (mean over the labels that are not -100) and the
 * random masks of dropout and stochastic depth. */
#include "rb_internal.h"

#include <math.h>

/* The mask generator every backend shares (docs/compute-ir.md): a
 * counter-based hash, so element i's draw does not depend on threads or
 * order. */
static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double draw(uint64_t seed, int64_t salt, int64_t step, int64_t i)
{
    uint64_t h = mix(mix(mix(seed ^ (uint64_t)salt) ^ (uint64_t)step) ^ (uint64_t)i);
    return (double)(h >> 11) * 0x1.0p-53;
}

static int label_at(const rb_val *labels, int64_t i, int64_t classes, int64_t ignore, int64_t *out)
{
    double v = labels->data[i];
    int64_t l = (int64_t)v;
    if (l == ignore) {
        *out = -1;
        return AIGTATT_OK;
    }
    if (!(v >= 0) || l >= classes)
        return rb_fail("label %lld at index %lld is outside [0, %lld)", (long long)l, (long long)i, (long long)classes);
    *out = l;
    return AIGTATT_OK;
}

int rb_loss(rb_prog *p, const rb_op *op)
{
    rb_val *y = rb_out(p, op, 0);
    switch (op->op) {
    case AIGTATT_OP_ONE_HOT: {
        rb_val *l = rb_in(p, op, 0);
        int64_t C = op->ints[0];
        for (int64_t i = 0; i < l->numel; i++) {
            int64_t k = -1;
            int rc = label_at(l, i, C, INT64_MIN, &k);
            if (rc != AIGTATT_OK)
                return rc;
            if (y)
                y->data[i * C + k] = 1.0;
        }
        return AIGTATT_OK;
    }
    case AIGTATT_OP_CROSS_ENTROPY:
    case AIGTATT_OP_CROSS_ENTROPY_BWD: {
        int bwd = op->op == AIGTATT_OP_CROSS_ENTROPY_BWD;
        rb_val *x = rb_in(p, op, bwd ? 1 : 0), *l = rb_in(p, op, bwd ? 2 : 1);
        int64_t N = x->shape[0], C = x->shape[1], count = 0;
        double total = 0;
        for (int64_t n = 0; n < N; n++) {
            int64_t k = -1;
            int rc = label_at(l, n, C, op->ints[0], &k);
            if (rc != AIGTATT_OK)
                return rc;
            count += k >= 0;
        }
        double scale = bwd ? rb_in(p, op, 0)->data[0] / (double)count : 0;
        for (int64_t n = 0; n < N; n++) {
            int64_t k = -1;
            label_at(l, n, C, op->ints[0], &k);
            if (k < 0)
                continue; /* ignored rows: no loss, zero gradient */
            const double *r = x->data + n * C;
            double mx = -INFINITY, s = 0;
            for (int64_t c = 0; c < C; c++)
                mx = fmax(mx, r[c]);
            for (int64_t c = 0; c < C; c++)
                s += exp(r[c] - mx);
            double lse = mx + log(s);
            if (!bwd) {
                total += lse - r[k];
                continue;
            }
            for (int64_t c = 0; c < C; c++)
                y->data[n * C + c] = scale * (exp(r[c] - lse) - (c == k ? 1.0 : 0.0));
        }
        if (!bwd && y)
            y->data[0] = count ? total / (double)count : NAN;
        return AIGTATT_OK;
    }
    case AIGTATT_OP_DROPOUT:
    case AIGTATT_OP_STOCHASTIC_DEPTH: {
        rb_val *x = rb_in(p, op, 0), *st = rb_in(p, op, 1), *mask = rb_out(p, op, 1);
        double prob = op->reals[0], keep = 1.0 - prob;
        int64_t step = st ? (int64_t)st->data[0] : 0;
        /* one draw per element (dropout) or per sample (stochastic depth) */
        int64_t per = op->op == AIGTATT_OP_DROPOUT ? 1 : x->numel / x->shape[0];
        double scale = rb_round1(y->dtype, keep > 0 ? 1.0 / keep : 0.0);
        for (int64_t i = 0; i < x->numel; i += per) {
            double m = draw(p->seed, op->ints[0], step, i / per) < keep ? scale : 0.0;
            if (mask)
                mask->data[i / per] = m;
            for (int64_t j = i; j < i + per; j++)
                y->data[j] = x->data[j] * m;
        }
        return AIGTATT_OK;
    }
    default:
        return rb_fail("loss: opcode %d", (int)op->op);
    }
}
