/* Initial values of parameters, buffers and optimizer state, with
 * torch.nn.init's distributions drawn from the core's generator. Each
 * tensor's generator is seeded from (seed, name), so the values do not
 * depend on the order of declaration or on other layers. */
#include "compute/nn_internal.h"
#include "util/hash.h"
#include "util/rng.h"

#include <math.h>
#include <stdlib.h>

/* torch.nn.init._calculate_fan_in_and_fan_out */
static void fans(const aigtatt_ir_value *v, double *fan_in, double *fan_out)
{
    double rf = 1;
    for (int i = 2; i < v->ndim; i++)
        rf *= (double)v->shape[i];
    *fan_in = (double)v->shape[1] * rf;
    *fan_out = (double)v->shape[0] * rf;
}

static double draw(aigtatt_rng *r, const aigtatt_nn_init *in, const aigtatt_ir_value *v)
{
    double fi, fo;
    switch (in->kind) {
    case AIGTATT_INIT_ZEROS:
        return 0;
    case AIGTATT_INIT_ONES:
        return 1;
    case AIGTATT_INIT_CONSTANT:
        return in->a;
    case AIGTATT_INIT_NORMAL:
        return in->a + in->b * aigtatt_rng_normal(r);
    case AIGTATT_INIT_UNIFORM:
        return in->a + (in->b - in->a) * aigtatt_rng_uniform(r);
    case AIGTATT_INIT_KAIMING_NORMAL:
        fans(v, &fi, &fo);
        return sqrt(2.0 / fo) * aigtatt_rng_normal(r);
    case AIGTATT_INIT_KAIMING_UNIFORM: {
        /* gain sqrt(2 / (1 + a^2)) with a = sqrt(5), bound sqrt(3) * gain
         * / sqrt(fan_in) = 1 / sqrt(fan_in) */
        fans(v, &fi, &fo);
        double bound = 1.0 / sqrt(fi);
        return -bound + 2 * bound * aigtatt_rng_uniform(r);
    }
    case AIGTATT_INIT_TRUNC_NORMAL: {
        double bound = in->a > 0 ? in->a : 2.0, x;
        do
            x = in->b * aigtatt_rng_normal(r);
        while (x < -bound || x > bound);
        return x;
    }
    }
    return 0;
}

int aigtatt_nn_init_value(const aigtatt_nn_lowered *l, int32_t vi, uint64_t seed, void *data, size_t nbytes)
{
    const aigtatt_ir *ir = aigtatt_nn_lowered_ir(l);
    if (vi < 0 || (size_t)vi >= ir->n_values) {
        aigtatt_set_error("init: no value %d", (int)vi);
        return AIGTATT_ERR_INVALID;
    }
    const aigtatt_ir_value *v = &ir->values[vi];
    if (nbytes != aigtatt_nn_value_bytes(v) || v->dtype == AIGTATT_BF16) {
        aigtatt_set_error("init: \"%s\" takes %zu bytes, not %zu", v->name ? v->name : "?", aigtatt_nn_value_bytes(v),
                          nbytes);
        return AIGTATT_ERR_INVALID;
    }
    const aigtatt_nn_init *in = aigtatt_nn_lowered_init(l, vi);
    aigtatt_rng r;
    aigtatt_rng_seed(&r, aigtatt_seed_derive(seed, v->name ? v->name : "", 0));
    int64_t n = aigtatt_nn_value_numel(v);
    for (int64_t i = 0; i < n; i++) {
        double x = draw(&r, in, v);
        if (v->dtype == AIGTATT_F32)
            ((float *)data)[i] = (float)x;
        else if (v->dtype == AIGTATT_F64)
            ((double *)data)[i] = x;
        else
            ((int64_t *)data)[i] = (int64_t)x;
    }
    return AIGTATT_OK;
}

int aigtatt_nn_init_program(const aigtatt_nn_lowered *l, uint64_t seed, const aigtatt_backend_vtable *be,
                            void *program)
{
    const aigtatt_ir *ir = aigtatt_nn_lowered_ir(l);
    for (size_t i = 0; i < ir->n_values; i++) {
        const aigtatt_ir_value *v = &ir->values[i];
        if (v->role != AIGTATT_IR_PARAM && v->role != AIGTATT_IR_BUFFER && v->role != AIGTATT_IR_OPT_STATE)
            continue;
        size_t nb = aigtatt_nn_value_bytes(v);
        void *buf = malloc(nb ? nb : 1);
        if (!buf) {
            aigtatt_set_error("out of memory initialising \"%s\"", v->name);
            return AIGTATT_ERR_NOMEM;
        }
        int rc = aigtatt_nn_init_value(l, (int32_t)i, seed, buf, nb);
        if (rc == AIGTATT_OK)
            rc = be->set(program, (int32_t)i, buf, nb);
        free(buf);
        if (rc != AIGTATT_OK)
            return rc;
    }
    return AIGTATT_OK;
}
