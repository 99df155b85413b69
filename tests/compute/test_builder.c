/* The builder's contract: sticky first errors naming the op and the scope
 * path, state_dict names, shape inference, lowering (roles, live ranges,
 * dead-op removal), initialisers and the random masks. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "util/error.h"

static const aigtatt_nn_api *A;
static aigtatt_nn_init zeros = { .kind = AIGTATT_INIT_ZEROS };

static void setup(void) { A = aigtatt_nn_api_get(); }

TestSuite(builder, .init = setup);

static aigtatt_val param4(aigtatt_nn *nn, const char *name, int64_t a, int64_t b, int64_t c, int64_t d,
                          aigtatt_nn_init init)
{
    return A->param(nn, name, 4, (int64_t[]){ a, b, c, d }, init);
}

Test(builder, sticky_error_names_op_and_scope)
{
    aigtatt_nn *nn = aigtatt_nn_new(0, 1);
    aigtatt_val x = A->input(nn, "image", AIGTATT_F32, 4, (int64_t[]){ 2, 3, 8, 8 });
    A->push(nn, "layer1");
    A->push(nn, "0");
    A->push(nn, "conv1");
    aigtatt_val w = param4(nn, "weight", 8, 4, 3, 3, zeros);
    A->pop(nn);
    cr_assert_eq(A->status(nn, NULL), AIGTATT_OK);
    aigtatt_val y = A->conv2d(nn, x, w, AIGTATT_NN_INVALID, NULL);
    cr_assert_eq(y, AIGTATT_NN_INVALID);
    const char *msg;
    cr_assert_eq(A->status(nn, &msg), AIGTATT_ERR_INVALID);
    cr_assert(strstr(msg, "conv2d at layer1.0:") && strstr(msg, "3 channels"), "message: %s", msg);
    /* Later ops are no-ops and the first error stays. */
    cr_assert_eq(A->unary(nn, AIGTATT_RELU, x), AIGTATT_NN_INVALID);
    cr_assert_eq(A->reshape(nn, x, 1, (int64_t[]){ 7 }), AIGTATT_NN_INVALID);
    const char *again;
    A->status(nn, &again);
    cr_assert_str_eq(again, msg);
    aigtatt_nn_lowered *l;
    cr_assert_neq(aigtatt_nn_lower(nn, NULL, &l), AIGTATT_OK);
    cr_assert(strstr(aigtatt_last_error(), "conv2d at layer1.0"));
    aigtatt_nn_free(nn);
}

Test(builder, messages_for_common_mistakes)
{
    struct {
        const char *want;
    } cases[] = { { "do not broadcast" }, { "cannot reshape" }, { "twice" }, { "already used" },
                  { "pop without" }, { "inner dimensions" }, { "more than 1 value per channel" } };
    for (int k = 0; k < 7; k++) {
        aigtatt_nn *nn = aigtatt_nn_new(1, 1);
        aigtatt_val a = A->input(nn, "a", AIGTATT_F32, 2, (int64_t[]){ 2, 3 });
        aigtatt_val b = A->input(nn, "b", AIGTATT_F32, 2, (int64_t[]){ 4, 3 });
        switch (k) {
        case 0:
            A->binary(nn, AIGTATT_ADD, a, b);
            break;
        case 1:
            A->reshape(nn, a, 2, (int64_t[]){ 4, 2 });
            break;
        case 2:
            A->permute(nn, a, 2, (int[]){ 1, 1 });
            break;
        case 3:
            A->param(nn, "w", 1, (int64_t[]){ 3 }, zeros);
            A->param(nn, "w", 1, (int64_t[]){ 3 }, zeros);
            break;
        case 4:
            A->pop(nn);
            break;
        case 5:
            A->matmul(nn, a, b, 0, 0);
            break;
        case 6: {
            aigtatt_val x = A->input(nn, "x", AIGTATT_F32, 4, (int64_t[]){ 1, 2, 1, 1 });
            A->batch_norm(nn, x, -1, -1, -1, -1, -1, 0.1, 1e-5);
            break;
        }
        }
        const char *msg;
        cr_assert_eq(A->status(nn, &msg), AIGTATT_ERR_INVALID, "case %d", k);
        cr_assert(strstr(msg, cases[k].want), "case %d: %s", k, msg);
        aigtatt_nn_free(nn);
    }
}

/* Extreme arguments a plugin might pass: an error that names the op, not a
 * crash (a division by zero after 64-bit overflow, signed overflow), a
 * hang (rejection sampling that never accepts) or a name bound twice. */
Test(builder, extreme_arguments_fail_cleanly)
{
    struct {
        const char *want;
    } cases[] = { { "reshape: dimension 2" }, { "init" }, { "already used" }, { "conv2d: dilation" } };
    for (int k = 0; k < 4; k++) {
        aigtatt_nn *nn = aigtatt_nn_new(1, 1);
        aigtatt_val x = A->input(nn, "x", AIGTATT_F32, 4, (int64_t[]){ 1, 1, 8, 8 });
        switch (k) {
        case 0: /* 2^32 * 2^32 wraps to 0, and -1 then divides by it */
            A->reshape(nn, x, 3, (int64_t[]){ -1, 1LL << 32, 1LL << 32 });
            break;
        case 1: /* bounds +-2 at std 1e6: almost every draw is redrawn */
            A->param(nn, "w", 1, (int64_t[]){ 4 }, (aigtatt_nn_init){ .kind = AIGTATT_INIT_TRUNC_NORMAL, .b = 1e6 });
            break;
        case 2: /* an output's name taken by a parameter made after it */
            A->output(nn, "fc.weight", x);
            A->push(nn, "fc");
            A->param(nn, "weight", 1, (int64_t[]){ 4 }, zeros);
            A->pop(nn);
            break;
        case 3: { /* dilation x kernel wraps around */
            aigtatt_conv_opts o = { .struct_size = sizeof o, .dilation = { 1 << 20, 1 } };
            A->conv2d(nn, x, param4(nn, "w", 1, 1, 1LL << 44, 1, zeros), AIGTATT_NN_INVALID, &o);
            break;
        }
        }
        const char *msg;
        cr_assert_eq(A->status(nn, &msg), AIGTATT_ERR_INVALID, "case %d", k);
        cr_expect(strstr(msg, cases[k].want), "case %d: %s", k, msg);
        aigtatt_nn_free(nn);
    }
    /* a step past the end is one element, as in Python */
    aigtatt_nn *nn = aigtatt_nn_new(1, 1);
    aigtatt_val x = A->input(nn, "x", AIGTATT_F32, 1, (int64_t[]){ 10 });
    aigtatt_val y = A->slice(nn, x, 0, 0, 10, INT64_MAX);
    const char *msg;
    cr_assert_eq(A->status(nn, &msg), AIGTATT_OK, "%s", msg);
    int64_t d[AIGTATT_NN_MAX_DIMS];
    cr_assert_eq(A->shape(nn, y, d), 1);
    cr_expect_eq(d[0], 1);
    aigtatt_nn_free(nn);
}

Test(builder, shapes_follow_pytorch)
{
    aigtatt_nn *nn = aigtatt_nn_new(0, 1);
    int64_t s[8];
    aigtatt_val x = A->input(nn, "x", AIGTATT_F32, 4, (int64_t[]){ 2, 3, 224, 224 });
    aigtatt_conv_opts co = { .struct_size = sizeof co, .stride = { 2, 2 }, .padding = { 3, 3 } };
    aigtatt_val y = A->conv2d(nn, x, param4(nn, "w", 64, 3, 7, 7, zeros), -1, &co);
    cr_assert_eq(A->shape(nn, y, s), 4);
    cr_assert(s[1] == 64 && s[2] == 112 && s[3] == 112);
    aigtatt_pool_opts po = { .struct_size = sizeof po, .max = 1, .kernel = { 3, 3 }, .stride = { 2, 2 },
                             .padding = { 1, 1 } };
    y = A->pool2d(nn, y, &po);
    A->shape(nn, y, s);
    cr_assert(s[2] == 56 && s[3] == 56);
    /* ceil_mode: 5 -> (5 - 3 + 1) / 2 + 1 = 3 windows, the last starting inside */
    aigtatt_val z = A->input(nn, "z", AIGTATT_F32, 4, (int64_t[]){ 1, 1, 6, 6 });
    aigtatt_pool_opts pc = { .struct_size = sizeof pc, .max = 1, .kernel = { 3, 3 }, .stride = { 2, 2 }, .ceil_mode = 1 };
    A->shape(nn, A->pool2d(nn, z, &pc), s);
    cr_assert(s[2] == 3 && s[3] == 3, "%lld", (long long)s[2]);
    aigtatt_val r = A->reduce(nn, AIGTATT_REDUCE_MEAN, y, 2, (int[]){ -1, -2 }, 0);
    cr_assert_eq(A->shape(nn, r, s), 2);
    aigtatt_val sl = A->slice(nn, y, 1, -10, 1000, 3);
    A->shape(nn, sl, s);
    cr_assert_eq(s[1], 4); /* 54, 57, 60, 63 */
    aigtatt_val pd = A->pad(nn, y, 2, (int64_t[]){ 1, 2, 3, 4 }, 0.0);
    A->shape(nn, pd, s);
    cr_assert(s[2] == 56 + 7 && s[3] == 56 + 3);
    cr_assert_eq(A->status(nn, NULL), AIGTATT_OK);
    aigtatt_nn_free(nn);
}

Test(builder, lowering_roles_live_ranges_and_dead_ops)
{
    aigtatt_nn *nn = aigtatt_nn_new(1, 3);
    aigtatt_val x = A->input(nn, "image", AIGTATT_F32, 4, (int64_t[]){ 2, 3, 6, 6 });
    aigtatt_val labels = A->input(nn, "labels", AIGTATT_I64, 1, (int64_t[]){ 2 });
    A->push(nn, "conv1");
    aigtatt_val w = param4(nn, "weight", 4, 3, 3, 3, (aigtatt_nn_init){ AIGTATT_INIT_KAIMING_NORMAL, 0, 0 });
    A->pop(nn);
    A->push(nn, "bn1");
    int64_t c4[1] = { 4 };
    aigtatt_val g = A->param(nn, "weight", 1, c4, (aigtatt_nn_init){ AIGTATT_INIT_ONES, 0, 0 });
    aigtatt_val b = A->param(nn, "bias", 1, c4, zeros);
    aigtatt_val rm = A->buffer(nn, "running_mean", AIGTATT_F32, 1, c4, zeros);
    aigtatt_val rv = A->buffer(nn, "running_var", AIGTATT_F32, 1, c4, (aigtatt_nn_init){ AIGTATT_INIT_ONES, 0, 0 });
    aigtatt_val nbt = A->buffer(nn, "num_batches_tracked", AIGTATT_I64, 0, NULL, zeros);
    A->pop(nn);
    aigtatt_val h = A->unary(nn, AIGTATT_RELU, A->batch_norm(nn, A->conv2d(nn, x, w, -1, NULL), g, b, rm, rv, nbt, 0.1, 1e-5));
    A->unary(nn, AIGTATT_EXP, h); /* dead: nothing reads it */
    aigtatt_val feat = A->reshape(nn, A->global_avg_pool(nn, h), 2, (int64_t[]){ 2, 4 });
    A->push(nn, "fc");
    aigtatt_val fw = A->param(nn, "weight", 2, (int64_t[]){ 3, 4 }, (aigtatt_nn_init){ AIGTATT_INIT_KAIMING_UNIFORM, 0, 0 });
    aigtatt_val unused = A->param(nn, "unused", 1, (int64_t[]){ 5 }, zeros);
    A->pop(nn);
    (void)unused;
    aigtatt_val loss = A->cross_entropy(nn, A->linear(nn, feat, fw, -1), labels);
    A->output(nn, "loss", loss);
    A->output(nn, "embedding", feat);
    aigtatt_nn_optim sgd = { .kind = AIGTATT_NN_OPTIM_SGD, .momentum = 0.9 };
    aigtatt_nn_lower_opts o = { .loss = loss, .optim = &sgd };
    aigtatt_nn_lowered *l;
    cr_assert_eq(aigtatt_nn_lower(nn, &o, &l), AIGTATT_OK, "%s", aigtatt_last_error());
    const aigtatt_ir *ir = aigtatt_nn_lowered_ir(l);
    const char *names[] = { "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                            "bn1.num_batches_tracked", "fc.weight", "fc.unused", "image", "labels", "loss",
                            "embedding", "optimizer.lr", "optimizer.step", "conv1.weight.momentum_buffer",
                            "fc.weight.momentum_buffer" };
    aigtatt_ir_role roles[] = { AIGTATT_IR_PARAM, AIGTATT_IR_PARAM, AIGTATT_IR_PARAM, AIGTATT_IR_BUFFER,
                                AIGTATT_IR_BUFFER, AIGTATT_IR_BUFFER, AIGTATT_IR_PARAM, AIGTATT_IR_PARAM,
                                AIGTATT_IR_INPUT, AIGTATT_IR_INPUT, AIGTATT_IR_OUTPUT, AIGTATT_IR_OUTPUT,
                                AIGTATT_IR_INPUT, AIGTATT_IR_OPT_STATE, AIGTATT_IR_OPT_STATE, AIGTATT_IR_OPT_STATE };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        int32_t v = aigtatt_nn_lowered_find(l, names[k]);
        cr_assert(v >= 0, "no value %s", names[k]);
        cr_assert_eq(ir->values[v].role, roles[k], "%s has role %d", names[k], ir->values[v].role);
    }
    /* the unused parameter gets no state and no update */
    cr_assert_eq(aigtatt_nn_lowered_find(l, "fc.unused.momentum_buffer"), -1);
    int n_update = 0, n_exp = 0;
    for (size_t k = 0; k < ir->n_ops; k++) {
        const aigtatt_ir_op *op = &ir->ops[k];
        n_update += op->op == AIGTATT_OP_SGD_UPDATE;
        n_exp += op->op == AIGTATT_OP_UNARY && op->ints[0] == AIGTATT_EXP;
        for (int i = 0; i < op->n_in; i++) {
            if (op->in[i] < 0)
                continue;
            const aigtatt_ir_value *v = &ir->values[op->in[i]];
            cr_assert(v->first_op < (int32_t)k, "op %zu reads value %d written by op %d", k, op->in[i], v->first_op);
            cr_assert(v->last_op >= (int32_t)k);
        }
        for (int j = 0; j < op->n_out; j++)
            if (op->out[j] >= 0)
                cr_assert_eq(ir->values[op->out[j]].first_op, (int32_t)k);
    }
    cr_assert_eq(n_update, 4); /* conv1, bn1 weight and bias, fc */
    cr_assert_eq(n_exp, 0, "the dead exp was kept");
    for (size_t i = 0; i < ir->n_values; i++) {
        const aigtatt_ir_value *v = &ir->values[i];
        if (v->role == AIGTATT_IR_TEMP)
            cr_assert(v->first_op >= 0 && v->last_op >= v->first_op, "temp %zu lives [%d, %d]", i, v->first_op,
                      v->last_op);
        else if (v->role != AIGTATT_IR_CONSTANT)
            cr_assert_eq(v->last_op, (int32_t)ir->n_ops);
    }
    /* It runs: the BN buffers and the step move, the parameters too. */
    const aigtatt_backend_vtable *be = ct_backend();
    void *prog;
    cr_assert_eq(be->compile(NULL, ir, &prog), AIGTATT_OK);
    cr_assert_eq(aigtatt_nn_init_program(l, 9, be, prog), AIGTATT_OK);
    ct_prog p = { .low = l, .ir = ir, .prog = prog };
    double img[216], lab[2] = { 2, 0 }, lr = 0.1;
    for (int i = 0; i < 216; i++)
        img[i] = sin(i * 0.37);
    ct_set(&p, "image", img);
    ct_set(&p, "labels", lab);
    ct_set(&p, "optimizer.lr", &lr);
    int64_t n;
    double *w0 = ct_get(&p, "fc.weight", &n);
    double first = 0;
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(be->run(prog), AIGTATT_OK, "%s", aigtatt_last_error());
        double *lv = ct_get(&p, "loss", &n);
        if (k == 0)
            first = lv[0];
        else
            cr_assert(lv[0] < first, "loss went from %g to %g", first, lv[0]);
        free(lv);
    }
    double *w1 = ct_get(&p, "fc.weight", &n), *nb = ct_get(&p, "bn1.num_batches_tracked", &n);
    cr_assert(memcmp(w0, w1, sizeof(double) * 12) != 0);
    cr_assert_eq(nb[0], 3);
    free(w0);
    free(w1);
    free(nb);
    be->release(prog);
    aigtatt_nn_lowered_free(l);
    aigtatt_nn_free(nn);
}

Test(builder, lowering_refuses_bad_requests)
{
    aigtatt_nn *nn = aigtatt_nn_new(1, 1);
    aigtatt_val w = A->param(nn, "w", 1, (int64_t[]){ 3 }, zeros);
    aigtatt_nn_lowered *l;
    aigtatt_nn_lower_opts o = { .loss = w };
    cr_assert_neq(aigtatt_nn_lower(nn, &o, &l), AIGTATT_OK);
    cr_assert(strstr(aigtatt_last_error(), "single number"), "%s", aigtatt_last_error());
    aigtatt_nn_free(nn);

    nn = aigtatt_nn_new(1, 1);
    A->push(nn, "head");
    A->param(nn, "w", 1, (int64_t[]){ 3 }, zeros);
    cr_assert_neq(aigtatt_nn_lower(nn, NULL, &l), AIGTATT_OK);
    cr_assert(strstr(aigtatt_last_error(), "never popped"), "%s", aigtatt_last_error());
    aigtatt_nn_free(nn);
}

static double *init_of(const char *name, int ndim, const int64_t *shape, aigtatt_nn_init init, uint64_t seed,
                       int64_t *n)
{
    aigtatt_nn *nn = aigtatt_nn_new(0, 1);
    if (strcmp(name, "b"))
        A->param(nn, "b", 1, (int64_t[]){ 2 }, zeros); /* another param first: must not matter */
    A->param(nn, name, ndim, shape, init);
    aigtatt_nn_lowered *l;
    cr_assert_eq(aigtatt_nn_lower(nn, NULL, &l), AIGTATT_OK);
    int32_t v = aigtatt_nn_lowered_find(l, name);
    const aigtatt_ir_value *iv = &aigtatt_nn_lowered_ir(l)->values[v];
    *n = aigtatt_nn_value_numel(iv);
    float *f = malloc(aigtatt_nn_value_bytes(iv));
    cr_assert_eq(aigtatt_nn_init_value(l, v, seed, f, aigtatt_nn_value_bytes(iv)), AIGTATT_OK);
    double *d = malloc(sizeof(double) * (size_t)*n);
    for (int64_t i = 0; i < *n; i++)
        d[i] = f[i];
    free(f);
    aigtatt_nn_lowered_free(l);
    aigtatt_nn_free(nn);
    return d;
}

Test(builder, initialisers_match_torch_nn_init)
{
    int64_t n, shape[4] = { 64, 32, 3, 3 }; /* fan_in 288, fan_out 576 */
    double *k = init_of("w", 4, shape, (aigtatt_nn_init){ AIGTATT_INIT_KAIMING_NORMAL, 0, 0 }, 5, &n);
    double s = 0, ss = 0;
    for (int64_t i = 0; i < n; i++) {
        s += k[i];
        ss += k[i] * k[i];
    }
    double sd = sqrt(ss / n - (s / n) * (s / n)), want = sqrt(2.0 / 576);
    cr_assert(fabs(sd - want) < 0.02 * want, "kaiming_normal std %g, want %g", sd, want);
    /* the same (seed, name) gives the same numbers whatever else exists */
    int64_t n2;
    double *k2 = init_of("w", 4, shape, (aigtatt_nn_init){ AIGTATT_INIT_KAIMING_NORMAL, 0, 0 }, 5, &n2);
    cr_assert(memcmp(k, k2, sizeof(double) * (size_t)n) == 0);
    free(k2);
    k2 = init_of("w", 4, shape, (aigtatt_nn_init){ AIGTATT_INIT_KAIMING_NORMAL, 0, 0 }, 6, &n2);
    cr_assert(memcmp(k, k2, sizeof(double) * (size_t)n) != 0);
    free(k2);
    free(k);
    double *u = init_of("u", 4, shape, (aigtatt_nn_init){ AIGTATT_INIT_KAIMING_UNIFORM, 0, 0 }, 5, &n);
    double bound = 1.0 / sqrt(288.0), mx = 0;
    for (int64_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(u[i]));
    cr_assert(mx <= bound && mx > 0.99 * bound, "kaiming_uniform max %g, bound %g", mx, bound);
    free(u);
    double *t = init_of("t", 2, (int64_t[]){ 200, 100 }, (aigtatt_nn_init){ AIGTATT_INIT_TRUNC_NORMAL, 0.05, 0.04 }, 5, &n);
    mx = 0;
    for (int64_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(t[i]));
    cr_assert(mx <= 0.05 && mx > 0.049, "trunc_normal max %g", mx);
    free(t);
}

static double *run_dropout(uint64_t seed, int with_optimizer, int runs, int64_t *n)
{
    aigtatt_nn *nn = aigtatt_nn_new(1, seed);
    aigtatt_val x = A->param(nn, "x", 2, (int64_t[]){ 100, 100 }, (aigtatt_nn_init){ AIGTATT_INIT_ONES, 0, 0 });
    aigtatt_val y = A->dropout(nn, x, 0.25);
    A->output(nn, "y", y);
    aigtatt_val loss = A->reduce(nn, AIGTATT_REDUCE_SUM, y, 0, NULL, 0);
    aigtatt_nn_optim sgd = { .kind = AIGTATT_NN_OPTIM_SGD };
    aigtatt_nn_lower_opts o = { .loss = loss, .optim = with_optimizer ? &sgd : NULL };
    aigtatt_nn_lowered *l;
    cr_assert_eq(aigtatt_nn_lower(nn, &o, &l), AIGTATT_OK, "%s", aigtatt_last_error());
    const aigtatt_backend_vtable *be = ct_backend();
    ct_prog p = { .low = l, .ir = aigtatt_nn_lowered_ir(l) };
    cr_assert_eq(be->compile(NULL, p.ir, &p.prog), AIGTATT_OK);
    aigtatt_nn_init_program(l, 1, be, p.prog);
    for (int k = 0; k < runs; k++)
        cr_assert_eq(be->run(p.prog), AIGTATT_OK);
    double *out = ct_get(&p, "y", n);
    be->release(p.prog);
    aigtatt_nn_lowered_free(l);
    aigtatt_nn_free(nn);
    return out;
}

Test(builder, dropout_masks)
{
    int64_t n;
    double *a = run_dropout(4, 0, 1, &n);
    int zeros_count = 0;
    for (int64_t i = 0; i < n; i++) {
        cr_assert(a[i] == 0 || fabs(a[i] - 1 / 0.75) < 1e-6, "kept values are scaled by 1/(1-p): %g", a[i]);
        zeros_count += a[i] == 0;
    }
    cr_assert(fabs(zeros_count / (double)n - 0.25) < 0.02, "dropped %d of %lld", zeros_count, (long long)n);
    double *b = run_dropout(4, 0, 1, &n);
    cr_assert(memcmp(a, b, sizeof(double) * (size_t)n) == 0, "same seed, same mask");
    free(b);
    b = run_dropout(5, 0, 1, &n);
    cr_assert(memcmp(a, b, sizeof(double) * (size_t)n) != 0, "another seed, another mask");
    free(b);
    /* with an optimizer the mask follows its step: run 2 differs from run 1 */
    double *s1 = run_dropout(4, 1, 1, &n), *s2 = run_dropout(4, 1, 2, &n);
    int diff = 0;
    for (int64_t i = 0; i < n; i++)
        diff += (s1[i] == 0) != (s2[i] == 0);
    cr_assert(diff > 1000, "the mask did not change with the step (%d differences)", diff);
    free(s1);
    free(s2);
    free(a);
}

Test(builder, bad_labels_fail_the_run)
{
    aigtatt_nn *nn = aigtatt_nn_new(0, 1);
    aigtatt_val x = A->input(nn, "x", AIGTATT_F32, 2, (int64_t[]){ 2, 3 });
    aigtatt_val lab = A->input(nn, "labels", AIGTATT_I64, 1, (int64_t[]){ 2 });
    A->output(nn, "loss", A->cross_entropy(nn, x, lab));
    aigtatt_nn_lowered *l;
    cr_assert_eq(aigtatt_nn_lower(nn, NULL, &l), AIGTATT_OK);
    const aigtatt_backend_vtable *be = ct_backend();
    ct_prog p = { .low = l, .ir = aigtatt_nn_lowered_ir(l) };
    cr_assert_eq(be->compile(NULL, p.ir, &p.prog), AIGTATT_OK);
    double xs[6] = { 0 }, labs[2] = { 1, 3 };
    ct_set(&p, "x", xs);
    ct_set(&p, "labels", labs);
    cr_assert_neq(be->run(p.prog), AIGTATT_OK);
    cr_assert(strstr(aigtatt_last_error(), "label 3"), "%s", aigtatt_last_error());
    /* ignore_index -100: mean over the rest */
    labs[1] = -100;
    ct_set(&p, "labels", labs);
    cr_assert_eq(be->run(p.prog), AIGTATT_OK);
    int64_t n;
    double *loss = ct_get(&p, "loss", &n);
    cr_assert(fabs(loss[0] - log(3.0)) < 1e-6, "loss %g", loss[0]);
    free(loss);
    /* set/get check sizes and roles */
    int32_t tmp = -1;
    for (size_t i = 0; i < p.ir->n_values; i++)
        if (p.ir->values[i].role == AIGTATT_IR_TEMP)
            tmp = (int32_t)i;
    float f[6];
    cr_assert_neq(be->set(p.prog, aigtatt_nn_lowered_find(l, "x"), f, 20), AIGTATT_OK);
    if (tmp >= 0)
        cr_assert_neq(be->get(p.prog, tmp, f, 4), AIGTATT_OK);
    be->release(p.prog);
    aigtatt_nn_lowered_free(l);
    aigtatt_nn_free(nn);
}
