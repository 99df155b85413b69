/* Reverse-mode automatic differentiation over the built graph.
 *
 * Graph to graph: walking the forward ops backwards, each op's rule emits
 * ordinary builder ops (and a few *_BWD ops) computing its inputs'
 * gradients from its outputs' gradients, so the backward pass is lowered,
 * scheduled and run like the forward one. Only values that depend on a
 * PARAM get gradients; labels, buffers and inputs never do. */
#include "compute/nn_internal.h"

#include <stdlib.h>

static nn_grad_rule rule_for(aigtatt_ir_opcode code)
{
    switch (code) {
    case AIGTATT_OP_CONV2D:
        return aigtatt_nn_grad_conv;
    case AIGTATT_OP_POOL2D:
    case AIGTATT_OP_GLOBAL_AVG_POOL:
        return aigtatt_nn_grad_pool;
    case AIGTATT_OP_BATCH_NORM:
    case AIGTATT_OP_LAYER_NORM:
    case AIGTATT_OP_SOFTMAX:
    case AIGTATT_OP_L2_NORMALIZE:
        return aigtatt_nn_grad_norm;
    case AIGTATT_OP_LINEAR:
    case AIGTATT_OP_MATMUL:
        return aigtatt_nn_grad_linalg;
    case AIGTATT_OP_UNARY:
    case AIGTATT_OP_BINARY:
    case AIGTATT_OP_AFFINE:
    case AIGTATT_OP_CLAMP:
    case AIGTATT_OP_WHERE:
    case AIGTATT_OP_EXPAND:
    case AIGTATT_OP_REDUCE_TO:
        return aigtatt_nn_grad_elementwise;
    case AIGTATT_OP_RESHAPE:
    case AIGTATT_OP_PERMUTE:
    case AIGTATT_OP_ROLL:
    case AIGTATT_OP_SLICE:
    case AIGTATT_OP_CONCAT:
    case AIGTATT_OP_PAD:
        return aigtatt_nn_grad_shape;
    case AIGTATT_OP_REDUCE:
        return aigtatt_nn_grad_reduce;
    case AIGTATT_OP_CROSS_ENTROPY:
    case AIGTATT_OP_DROPOUT:
    case AIGTATT_OP_STOCHASTIC_DEPTH:
    case AIGTATT_OP_ONE_HOT:
        return aigtatt_nn_grad_loss;
    default:
        return NULL;
    }
}

/* Ops whose main output is piecewise constant or integral: nothing flows
 * back through them. */
static int blocks_gradient(const nn_op *op)
{
    return op->code == AIGTATT_OP_ONE_HOT || (op->code == AIGTATT_OP_BINARY && op->ints[0] == AIGTATT_GREATER);
}

static int accumulate(aigtatt_nn *nn, aigtatt_val *slot, aigtatt_val g, aigtatt_val input)
{
    const nn_shape *gs = &nn->v[g].s, *xs = &nn->v[input].s;
    if (!aigtatt_nn_same_dims(gs, xs)) {
        char a[128], b[128];
        aigtatt_nn_fail(nn, "internal: gradient %s for an input of %s", aigtatt_nn_dims_str(gs, a, sizeof a),
                        aigtatt_nn_dims_str(xs, b, sizeof b));
        return 0;
    }
    /* Several uses of one value add up (residual connections). */
    *slot = *slot < 0 ? g : aigtatt_nn_binary(nn, AIGTATT_ADD, *slot, g);
    return *slot >= 0;
}

int aigtatt_nn_autodiff(aigtatt_nn *nn, aigtatt_val loss, aigtatt_val *grads)
{
    size_t nv0 = nn->nv, nops0 = nn->nops;
    char *needs = calloc(nv0 ? nv0 : 1, 1);
    aigtatt_val *g = malloc(sizeof *g * (nv0 ? nv0 : 1));
    if (!needs || !g) {
        free(needs);
        free(g);
        aigtatt_nn_fail(nn, "out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t i = 0; i < nv0; i++) {
        needs[i] = nn->v[i].role == AIGTATT_IR_PARAM;
        g[i] = AIGTATT_NN_INVALID;
    }
    for (size_t k = 0; k < nops0; k++) {
        const nn_op *op = &nn->ops[k];
        if (op->n_out < 1 || blocks_gradient(op) || !rule_for(op->code))
            continue;
        for (int i = 0; i < op->n_in; i++)
            if (op->in[i] >= 0 && needs[op->in[i]])
                needs[op->out[0]] = 1;
    }

    nn->cur = "autodiff";
    nn->grad_of = NULL;
    if (needs[loss]) {
        /* d loss / d loss = 1, in the loss's own (one-element) shape. */
        nn_shape ls = nn->v[loss].s;
        g[loss] = aigtatt_nn_expand(nn, aigtatt_nn_constant(nn, 1.0), &ls);
    }
    for (size_t k = nops0; k-- > 0 && !nn->error;) {
        nn_op op = nn->ops[k]; /* a copy: rules append ops, which may move the array */
        aigtatt_val gy[16] = { 0 };
        int any = 0;
        if (op.n_out < 1)
            continue;
        for (int j = 0; j < op.n_out && j < 16; j++) {
            gy[j] = (size_t)op.out[j] < nv0 ? g[op.out[j]] : AIGTATT_NN_INVALID;
            any |= gy[j] >= 0;
        }
        if (!any)
            continue;
        int *need = calloc((size_t)op.n_in, sizeof *need);
        aigtatt_val *gx = malloc(sizeof *gx * (size_t)op.n_in);
        if (!need || !gx) {
            free(need);
            free(gx);
            aigtatt_nn_fail(nn, "out of memory");
            break;
        }
        int want = 0;
        for (int i = 0; i < op.n_in; i++) {
            need[i] = op.in[i] >= 0 && needs[op.in[i]];
            gx[i] = AIGTATT_NN_INVALID;
            want |= need[i];
        }
        nn_grad_rule rule = rule_for(op.code);
        if (want && !blocks_gradient(&op)) {
            if (!rule) {
                aigtatt_nn_fail(nn, "%s has no gradient", op.where);
            } else {
                nn->grad_of = op.where;
                rule(nn, &op, gy, need, gx);
                for (int i = 0; i < op.n_in && !nn->error; i++)
                    if (need[i] && gx[i] >= 0)
                        accumulate(nn, &g[op.in[i]], gx[i], op.in[i]);
                nn->grad_of = NULL;
            }
        }
        free(need);
        free(gx);
    }
    nn->grad_of = NULL;
    for (size_t i = 0; i < nv0; i++)
        grads[i] = nn->v[i].role == AIGTATT_IR_PARAM ? g[i] : AIGTATT_NN_INVALID;
    free(needs);
    free(g);
    return nn->error ? AIGTATT_ERR_INVALID : AIGTATT_OK;
}
