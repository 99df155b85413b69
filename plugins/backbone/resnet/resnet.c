/* backbone.resnet: torchvision's ResNet-18/34/50/101/152 (torchvision 0.14,
 * models/resnet.py) described with the network builder, with the seed's
 * embedding head: the ImageNet classifier replaced by Linear(in, K).
 *
 * Structure, names and initialisation follow torchvision line by line:
 *   - stem conv1 7x7/2 (no bias), bn1, relu, maxpool 3x3/2 pad 1;
 *   - BasicBlock (18, 34) or Bottleneck (50, 101, 152) with the stride on
 *     the 3x3 convolution (ResNet v1.5), a downsample branch
 *     "layerX.0.downsample.0" (1x1 conv with the stride) and ".1" (batch
 *     norm) where the stride or the width changes;
 *   - global average pooling, flatten, "fc" = Linear(512 * expansion, K);
 *   - convolutions kaiming_normal_(mode="fan_out", nonlinearity="relu"),
 *     batch norms weight 1 and bias 0 (eps 1e-5, momentum 0.1, running
 *     stats and num_batches_tracked), the last batch norm of each residual
 *     branch zeroed with zero_init_residual, fc PyTorch's Linear default
 *     (kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(in), 1/sqrt(in))
 *     for the bias).
 * So a state_dict of torchvision's resnetX(num_classes=K) loads as is. */
#include <aigtatt/aigtatt.h>
#include <aigtatt/compute.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const aigtatt_host *rn_host;

typedef struct rn_arch {
    int depth;
    int bottleneck;
    int blocks[4];
} rn_arch;

static const rn_arch rn_archs[] = {
    { 18, 0, { 2, 2, 2, 2 } },  { 34, 0, { 3, 4, 6, 3 } },   { 50, 1, { 3, 4, 6, 3 } },
    { 101, 1, { 3, 4, 23, 3 } }, { 152, 1, { 3, 8, 36, 3 } },
};

typedef struct rn_ctx {
    const aigtatt_nn_api *A;
    aigtatt_nn *nn;
    int zero_init_residual;
} rn_ctx;

static const double RN_BN_EPS = 1e-5, RN_BN_MOMENTUM = 0.1;

/* nn.Conv2d(in, out, k, stride, padding=k/2, bias=False) named `name`;
 * in = 0 takes x's channels. */
static aigtatt_val rn_conv(rn_ctx *c, const char *name, aigtatt_val x, int64_t in, int64_t out, int64_t k,
                           int64_t stride)
{
    const aigtatt_nn_api *A = c->A;
    int64_t s[AIGTATT_NN_MAX_DIMS];
    /* a bad input still gets a weight, so conv2d itself says what is wrong */
    if (in == 0)
        in = A->shape(c->nn, x, s) >= 2 ? s[1] : 1;
    A->push(c->nn, name);
    int64_t wshape[4] = { out, in, k, k };
    aigtatt_val w = A->param(c->nn, "weight", 4, wshape, (aigtatt_nn_init){ .kind = AIGTATT_INIT_KAIMING_NORMAL });
    aigtatt_conv_opts o = { .struct_size = sizeof o, .stride = { stride, stride }, .padding = { k / 2, k / 2 } };
    aigtatt_val y = A->conv2d(c->nn, x, w, AIGTATT_NN_INVALID, &o);
    A->pop(c->nn);
    return y;
}

/* nn.BatchNorm2d(C) named `name`; zero_weight for zero_init_residual. */
static aigtatt_val rn_bn(rn_ctx *c, const char *name, aigtatt_val x, int zero_weight)
{
    const aigtatt_nn_api *A = c->A;
    int64_t s[AIGTATT_NN_MAX_DIMS];
    if (A->shape(c->nn, x, s) < 2) /* only after an earlier error */
        return AIGTATT_NN_INVALID;
    A->push(c->nn, name);
    int64_t ch[1] = { s[1] };
    aigtatt_nn_init ones = { .kind = zero_weight ? AIGTATT_INIT_ZEROS : AIGTATT_INIT_ONES };
    aigtatt_nn_init zeros = { .kind = AIGTATT_INIT_ZEROS };
    aigtatt_val w = A->param(c->nn, "weight", 1, ch, ones);
    aigtatt_val b = A->param(c->nn, "bias", 1, ch, zeros);
    aigtatt_val rm = A->buffer(c->nn, "running_mean", AIGTATT_F32, 1, ch, zeros);
    aigtatt_val rv = A->buffer(c->nn, "running_var", AIGTATT_F32, 1, ch, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ONES });
    aigtatt_val nbt = A->buffer(c->nn, "num_batches_tracked", AIGTATT_I64, 0, NULL, zeros);
    aigtatt_val y = A->batch_norm(c->nn, x, w, b, rm, rv, nbt, RN_BN_MOMENTUM, RN_BN_EPS);
    A->pop(c->nn);
    return y;
}

static aigtatt_val rn_relu(rn_ctx *c, aigtatt_val x) { return c->A->unary(c->nn, AIGTATT_RELU, x); }

/* One residual block under the current scope ("layer2.0"). `stride` and a
 * channel change give it a downsample branch, as _make_layer decides. */
static aigtatt_val rn_block(rn_ctx *c, const rn_arch *a, aigtatt_val x, int64_t planes, int64_t stride)
{
    const aigtatt_nn_api *A = c->A;
    int64_t s[AIGTATT_NN_MAX_DIMS];
    if (A->shape(c->nn, x, s) != 4) /* only after an earlier error */
        return AIGTATT_NN_INVALID;
    int64_t inplanes = s[1], expansion = a->bottleneck ? 4 : 1;
    aigtatt_val out;
    if (a->bottleneck) {
        out = rn_relu(c, rn_bn(c, "bn1", rn_conv(c, "conv1", x, 0, planes, 1, 1), 0));
        out = rn_relu(c, rn_bn(c, "bn2", rn_conv(c, "conv2", out, 0, planes, 3, stride), 0));
        out = rn_bn(c, "bn3", rn_conv(c, "conv3", out, 0, planes * expansion, 1, 1), c->zero_init_residual);
    } else {
        out = rn_relu(c, rn_bn(c, "bn1", rn_conv(c, "conv1", x, 0, planes, 3, stride), 0));
        out = rn_bn(c, "bn2", rn_conv(c, "conv2", out, 0, planes, 3, 1), c->zero_init_residual);
    }
    aigtatt_val identity = x;
    if (stride != 1 || inplanes != planes * expansion) {
        A->push(c->nn, "downsample");
        identity = rn_bn(c, "1", rn_conv(c, "0", x, 0, planes * expansion, 1, stride), 0);
        A->pop(c->nn);
    }
    return rn_relu(c, A->binary(c->nn, AIGTATT_ADD, out, identity));
}

static const rn_arch *rn_find(int depth)
{
    for (size_t i = 0; i < sizeof rn_archs / sizeof rn_archs[0]; i++)
        if (rn_archs[i].depth == depth)
            return &rn_archs[i];
    return NULL;
}

static aigtatt_val rn_build(const aigtatt_params *params, const aigtatt_nn_api *A, aigtatt_nn *nn, aigtatt_val image)
{
    const char *ds = rn_host->param_string(params, "depth");
    const rn_arch *a = rn_find(ds ? atoi(ds) : 0);
    int64_t K = rn_host->param_int(params, "embedding_size");
    rn_ctx c = { .A = A, .nn = nn, .zero_init_residual = rn_host->param_bool(params, "zero_init_residual") };
    if (!a) {
        /* The host validated the enum, so only a caller that bypassed it
         * gets here; the builder has no call to record a plugin's own
         * error, so an invalid op under a telling scope records one:
         * "reshape at unsupported_resnet_depth: x is not a valid value". */
        A->push(nn, "unsupported_resnet_depth");
        A->reshape(nn, AIGTATT_NN_INVALID, 0, NULL);
        A->pop(nn);
        return AIGTATT_NN_INVALID;
    }

    aigtatt_val x = rn_relu(&c, rn_bn(&c, "bn1", rn_conv(&c, "conv1", image, 3, 64, 7, 2), 0));
    aigtatt_pool_opts mp = { .struct_size = sizeof mp, .max = 1, .kernel = { 3, 3 }, .stride = { 2, 2 },
                             .padding = { 1, 1 } };
    x = A->pool2d(nn, x, &mp);

    static const char *layer_names[4] = { "layer1", "layer2", "layer3", "layer4" };
    for (int l = 0; l < 4; l++) {
        int64_t planes = (int64_t)64 << l, stride = l == 0 ? 1 : 2;
        A->push(nn, layer_names[l]);
        for (int b = 0; b < a->blocks[l]; b++) {
            char idx[16];
            snprintf(idx, sizeof idx, "%d", b);
            A->push(nn, idx);
            x = rn_block(&c, a, x, planes, b == 0 ? stride : 1);
            A->pop(nn);
        }
        A->pop(nn);
    }

    x = A->global_avg_pool(nn, x);
    int64_t flat[2] = { 0, -1 };
    x = A->reshape(nn, x, 2, flat);
    int64_t in_features = (int64_t)512 * (a->bottleneck ? 4 : 1);
    double bound = 1.0 / sqrt((double)in_features);
    A->push(nn, "fc");
    aigtatt_val w = A->param(nn, "weight", 2, (int64_t[2]){ K, in_features },
                             (aigtatt_nn_init){ .kind = AIGTATT_INIT_KAIMING_UNIFORM });
    aigtatt_val bias = A->param(nn, "bias", 1, (int64_t[1]){ K },
                                (aigtatt_nn_init){ .kind = AIGTATT_INIT_UNIFORM, .a = -bound, .b = bound });
    x = A->linear(nn, x, w, bias);
    A->pop(nn);
    return x;
}

static const aigtatt_backbone_vtable rn_vtable = {
    /* .struct_size = */ sizeof(aigtatt_backbone_vtable),
    /* .build = */ rn_build,
};

static const aigtatt_param_desc rn_params[] = {
    { .name = "depth", .type = AIGTATT_PARAM_ENUM, .default_value = "50", .choices = "18|34|50|101|152",
      .doc = "Number of layers: torchvision's resnet18, resnet34 (BasicBlock) or resnet50, resnet101, resnet152 "
             "(Bottleneck, stride on the 3x3 convolution as in ResNet v1.5)." },
    { .name = "embedding_size", .type = AIGTATT_PARAM_INT, .default_value = "512", .has_min = 1, .min = 1,
      .has_max = 1, .max = 65536,
      .doc = "K, the embedding's length: the ImageNet classifier `fc` is replaced by Linear(512 or 2048, K) "
             "(the seed used 128, 256 and 512)." },
    { .name = "zero_init_residual", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
      .doc = "Start the last batch norm of every residual branch at weight 0, so each block begins as the "
             "identity (torchvision's zero_init_residual; Goyal et al. 2017)." },
    { .name = NULL },
};

static const aigtatt_component_desc rn_component = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_BACKBONE,
    .name = "backbone.resnet",
    .version = "1.0.0",
    .summary = "ResNet-18/34/50/101/152 exactly as torchvision, with a Linear(in, K) embedding head",
    .doc = "torchvision's ResNet (v1.5) with the same structure, parameter and buffer names (its state_dict "
           "keys: conv1.weight, bn1.running_mean, layer1.0.conv1.weight, layer2.0.downsample.0.weight, ..., "
           "fc.weight, fc.bias) and the same initialisation, so torchvision weights load as they are. Input: "
           "images [N, 3, H, W] normalised with ImageNet mean and std, any H, W >= 32 (224 as trained on "
           "ImageNet). Output: the embedding [N, K], not normalised.",
    AIGTATT_PARAMS(rn_params),
    .vtable = &rn_vtable,
};

static const aigtatt_component_desc *const rn_components[] = { &rn_component, NULL };

static int rn_init(const aigtatt_host *host)
{
    rn_host = host;
    return AIGTATT_OK;
}

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-backbone-resnet", .version = "1.0.0", .license = "MIT",
                      .description = "ResNet backbones (torchvision-compatible) for embedding networks",
                      .components = rn_components, .init = rn_init);
