/* loss.arcface, loss.cosface, loss.softmax: classification losses over the
 * training identities, described with the network builder (issue 5).
 *
 * ArcFace and CosFace follow the widely used PyTorch formulation of
 * ArcMarginProduct / AddMarginProduct (ronghuaiyang/arcface-pytorch, the
 * one with `th = cos(pi - m)` and `mm = sin(pi - m) * m`), which is what the
 * seed's recipe names: class centres W [classes, K] initialised with
 * xavier_uniform_, cos = normalize(e) . normalize(W)^T, and
 *     logits = s * (one_hot * phi + (1 - one_hot) * cos)
 *     loss   = cross_entropy(logits, labels)   (mean over the batch)
 * with phi = cos(theta + m) for ArcFace and phi = cos - m for CosFace.
 *
 * Defaults are the papers' (s = 64, m = 0.5 for ArcFace, Deng et al. 2019,
 * insightface; s = 64, m = 0.35 for CosFace, Wang et al. 2018), which are
 * also pytorch-metric-learning's scale. arcface-pytorch's module defaults
 * (s = 30) are one parameter away.
 *
 * Numerical safety. sin(theta) = sqrt(1 - cos^2) has an infinite derivative
 * where cos^2 = 1, and normalising in float can give |cos| a few ulps above
 * 1, where 1 - cos^2 < 0 and the square root is NaN. A clamp of cos whose
 * bound reaches 1 (the seed's 1 + 1e-5) lets both through: an embedding
 * that points exactly at, or away from, its class centre makes the loss or
 * its gradient NaN, and one NaN poisons every weight at the next step.
 * Here the square root's argument is clamped instead:
 *     sin = sqrt(clamp(1 - cos^2, 1e-7, 1))
 * 1e-7 lies below the smallest positive value of 1 - cos^2 in float
 * (1.19e-7, at cos = 1 - 2^-24), so the clamp acts only where float
 * arithmetic has already lost the angle (|cos| rounds to 1 or above); the
 * square root's derivative stays below 1/(2 sqrt(1e-7)) ~ 1600. Unlike
 * clamping cos itself into [-1 + eps, 1 - eps], this keeps the gradient of
 * the cos-linear terms (cos * cos(m), the threshold fallback and the other
 * classes' logits) everywhere, including at |cos| = 1; only the sin term
 * stops passing gradient there, where its true derivative is unbounded. */
#include <aigtatt/aigtatt.h>
#include <aigtatt/compute.h>

#include <math.h>

static const aigtatt_host *ml_host;

/* Lower bound of 1 - cos^2 under the square root (see above). */
#define ML_SIN2_MIN 1e-7
#define ML_NORM_EPS 1e-12 /* F.normalize's default */

/* cos [N, classes] between the normalised embeddings and the normalised
 * class centres, a param "weight" [classes, K] under the current scope. */
static aigtatt_val ml_cosine(const aigtatt_nn_api *A, aigtatt_nn *nn, aigtatt_val embedding, int64_t classes)
{
    int64_t s[AIGTATT_NN_MAX_DIMS];
    int nd = A->shape(nn, embedding, s);
    int64_t K = nd == 2 ? s[1] : 1;
    /* torch.nn.init.xavier_uniform_: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
    double a = sqrt(6.0 / (double)(classes + K));
    aigtatt_val w = A->param(nn, "weight", 2, (int64_t[2]){ classes, K },
                             (aigtatt_nn_init){ .kind = AIGTATT_INIT_UNIFORM, .a = -a, .b = a });
    if (nd != 2)  /* let linear() say what is wrong with the embedding */
        return A->linear(nn, embedding, w, AIGTATT_NN_INVALID);
    aigtatt_val e = A->l2_normalize(nn, embedding, 1, ML_NORM_EPS);
    aigtatt_val wn = A->l2_normalize(nn, w, 1, ML_NORM_EPS);
    return A->linear(nn, e, wn, AIGTATT_NN_INVALID); /* F.linear(normalize(e), normalize(W)) */
}

/* s * (one_hot * phi + (1 - one_hot) * cos), then the mean cross entropy. */
static aigtatt_val ml_margin_ce(const aigtatt_nn_api *A, aigtatt_nn *nn, aigtatt_val cosv, aigtatt_val phi,
                                aigtatt_val labels, int64_t classes, double s)
{
    aigtatt_val oh = A->one_hot(nn, labels, classes);
    aigtatt_val target = A->binary(nn, AIGTATT_MUL, oh, phi);
    aigtatt_val other = A->binary(nn, AIGTATT_MUL, A->affine(nn, oh, -1.0, 1.0), cosv);
    aigtatt_val logits = A->affine(nn, A->binary(nn, AIGTATT_ADD, target, other), s, 0.0);
    return A->cross_entropy(nn, logits, labels);
}

static int64_t ml_classes_ok(const aigtatt_nn_api *A, aigtatt_nn *nn, int64_t classes)
{
    if (classes >= 1)
        return classes;
    /* no builder call records a plugin's own message; an invalid op under
     * a telling scope does ("one_hot at loss.classes_must_be_positive") */
    A->push(nn, "classes_must_be_positive");
    A->one_hot(nn, AIGTATT_NN_INVALID, 1);
    A->pop(nn);
    return 0;
}

/* ---- ArcFace ---- */

static aigtatt_val arcface_build(const aigtatt_params *params, const aigtatt_nn_api *A, aigtatt_nn *nn,
                                 aigtatt_val embedding, aigtatt_val labels, int64_t classes)
{
    if (!ml_classes_ok(A, nn, classes))
        return AIGTATT_NN_INVALID;
    double s = ml_host->param_float(params, "s"), m = ml_host->param_float(params, "m");
    int easy = ml_host->param_bool(params, "easy_margin");
    aigtatt_val cosv = ml_cosine(A, nn, embedding, classes);
    aigtatt_val sin2 = A->affine(nn, A->binary(nn, AIGTATT_MUL, cosv, cosv), -1.0, 1.0);
    aigtatt_val sinv = A->unary(nn, AIGTATT_SQRT, A->clamp(nn, sin2, ML_SIN2_MIN, 1.0));
    /* phi = cos(theta + m) = cos cos_m - sin sin_m */
    aigtatt_val phi = A->binary(nn, AIGTATT_SUB, A->affine(nn, cosv, cos(m), 0.0), A->affine(nn, sinv, sin(m), 0.0));
    if (easy) {
        /* the margin only where theta < pi/2 */
        phi = A->where(nn, A->binary(nn, AIGTATT_GREATER, cosv, A->constant(nn, 0.0)), phi, cosv);
    } else {
        /* theta + m would pass pi, where cos(theta + m) stops decreasing:
         * fall back to the CosFace-like cos - sin(pi - m) m, which is
         * continuous with phi at theta = pi - m */
        double th = cos(M_PI - m), mm = sin(M_PI - m) * m;
        phi = A->where(nn, A->binary(nn, AIGTATT_GREATER, cosv, A->constant(nn, th)), phi,
                       A->affine(nn, cosv, 1.0, -mm));
    }
    return ml_margin_ce(A, nn, cosv, phi, labels, classes, s);
}

/* ---- CosFace ---- */

static aigtatt_val cosface_build(const aigtatt_params *params, const aigtatt_nn_api *A, aigtatt_nn *nn,
                                 aigtatt_val embedding, aigtatt_val labels, int64_t classes)
{
    if (!ml_classes_ok(A, nn, classes))
        return AIGTATT_NN_INVALID;
    double s = ml_host->param_float(params, "s"), m = ml_host->param_float(params, "m");
    aigtatt_val cosv = ml_cosine(A, nn, embedding, classes);
    return ml_margin_ce(A, nn, cosv, A->affine(nn, cosv, 1.0, -m), labels, classes, s);
}

/* ---- softmax ---- */

static aigtatt_val softmax_build(const aigtatt_params *params, const aigtatt_nn_api *A, aigtatt_nn *nn,
                                 aigtatt_val embedding, aigtatt_val labels, int64_t classes)
{
    if (!ml_classes_ok(A, nn, classes))
        return AIGTATT_NN_INVALID;
    int64_t s[AIGTATT_NN_MAX_DIMS];
    int64_t K = A->shape(nn, embedding, s) == 2 ? s[1] : 1;
    /* nn.Linear(K, classes): kaiming_uniform_(a=sqrt(5)) weight, U(-1/sqrt(K), 1/sqrt(K)) bias */
    double bound = 1.0 / sqrt((double)K);
    aigtatt_val w = A->param(nn, "weight", 2, (int64_t[2]){ classes, K },
                             (aigtatt_nn_init){ .kind = AIGTATT_INIT_KAIMING_UNIFORM });
    aigtatt_val b = AIGTATT_NN_INVALID;
    if (ml_host->param_bool(params, "bias"))
        b = A->param(nn, "bias", 1, (int64_t[1]){ classes },
                     (aigtatt_nn_init){ .kind = AIGTATT_INIT_UNIFORM, .a = -bound, .b = bound });
    return A->cross_entropy(nn, A->linear(nn, embedding, w, b), labels);
}

/* ---- descriptors ---- */

static const aigtatt_loss_vtable arcface_vtable = {
    /* .struct_size = */ sizeof(aigtatt_loss_vtable),
    /* .build = */ arcface_build,
};
static const aigtatt_loss_vtable cosface_vtable = {
    /* .struct_size = */ sizeof(aigtatt_loss_vtable),
    /* .build = */ cosface_build,
};
static const aigtatt_loss_vtable softmax_vtable = {
    /* .struct_size = */ sizeof(aigtatt_loss_vtable),
    /* .build = */ softmax_build,
};

static const aigtatt_param_desc arcface_params[] = {
    { .name = "s", .type = AIGTATT_PARAM_FLOAT, .default_value = "64", .has_min = 1, .min = 1e-3, .has_max = 1,
      .max = 1e4, .doc = "Scale of the logits (the radius of the hypersphere); 64 as in the ArcFace paper." },
    { .name = "m", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.5", .has_min = 1, .min = 0, .has_max = 1,
      .max = 1.5, .doc = "Additive angular margin in radians added to the angle of the true class (0.5 = 28.6 degrees)." },
    { .name = "easy_margin", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
      .doc = "Apply the margin only where the angle to the true class is below 90 degrees; otherwise (the "
             "default) angles beyond pi - m use cos(theta) - sin(pi - m) * m instead of cos(theta + m)." },
    { .name = NULL },
};

static const aigtatt_param_desc cosface_params[] = {
    { .name = "s", .type = AIGTATT_PARAM_FLOAT, .default_value = "64", .has_min = 1, .min = 1e-3, .has_max = 1,
      .max = 1e4, .doc = "Scale of the logits; 64 as in the CosFace paper." },
    { .name = "m", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.35", .has_min = 1, .min = 0, .has_max = 1,
      .max = 2, .doc = "Additive cosine margin subtracted from the true class's cosine." },
    { .name = NULL },
};

static const aigtatt_param_desc softmax_params[] = {
    { .name = "bias", .type = AIGTATT_PARAM_BOOL, .default_value = "true",
      .doc = "Give the classifier a bias (nn.Linear's default)." },
    { .name = NULL },
};

static const aigtatt_component_desc arcface_component = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_LOSS,
    .name = "loss.arcface",
    .version = "1.0.0",
    .summary = "ArcFace: additive angular margin softmax over the identities",
    .doc = "cross_entropy(s * (one_hot * cos(theta + m) + (1 - one_hot) * cos(theta)), labels) with "
           "cos(theta) between the L2-normalised embedding and L2-normalised class centres, a parameter "
           "`weight` [classes, K] under the loss's scope (xavier_uniform_ initialisation). Formulated as "
           "arcface-pytorch's ArcMarginProduct (threshold cos(pi - m), fallback cos - sin(pi - m) m, or "
           "easy_margin). Never NaN: sin(theta) = sqrt(clamp(1 - cos^2, 1e-7, 1)), finite with a finite "
           "gradient even where |cos| rounds to 1.",
    AIGTATT_PARAMS(arcface_params),
    .vtable = &arcface_vtable,
};

static const aigtatt_component_desc cosface_component = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_LOSS,
    .name = "loss.cosface",
    .version = "1.0.0",
    .summary = "CosFace: additive cosine margin softmax over the identities",
    .doc = "cross_entropy(s * (one_hot * (cos - m) + (1 - one_hot) * cos), labels) with cos between the "
           "L2-normalised embedding and L2-normalised class centres, a parameter `weight` [classes, K] "
           "(xavier_uniform_), as arcface-pytorch's AddMarginProduct.",
    AIGTATT_PARAMS(cosface_params),
    .vtable = &cosface_vtable,
};

static const aigtatt_component_desc softmax_component = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_LOSS,
    .name = "loss.softmax",
    .version = "1.0.0",
    .summary = "Plain softmax: a linear classifier over the identities and cross entropy",
    .doc = "cross_entropy(Linear(K, classes)(embedding), labels): parameters `weight` [classes, K] and "
           "`bias` [classes] with nn.Linear's default initialisation.",
    AIGTATT_PARAMS(softmax_params),
    .vtable = &softmax_vtable,
};

static const aigtatt_component_desc *const ml_components[] = { &arcface_component, &cosface_component,
                                                               &softmax_component, NULL };

static int ml_init(const aigtatt_host *host)
{
    ml_host = host;
    return AIGTATT_OK;
}

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-loss-margin", .version = "1.0.0", .license = "MIT",
                      .description = "Identity-classification losses: ArcFace, CosFace, softmax",
                      .components = ml_components, .init = ml_init);
