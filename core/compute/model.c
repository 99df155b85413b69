/* host->model: building blocks named in YAML turned into a compiled,
 * initialised network that trainer and embedder nodes drive by name
 * (sdk model.h). One mechanism for every node that trains or embeds:
 * find the components, validate their parameters, build the backbone (and
 * the loss under scope "loss"), lower with the optimizer's rule, compile
 * on the backend, initialise from the seed. */
#include <aigtatt/aigtatt.h>
#include <aigtatt/model.h>
#include <aigtatt/optim.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute/nn_core.h"
#include "config/cfg.h"
#include "config/params.h"
#include "plugin/registry.h"
#include "tensor/safetensors.h"
#include "util/error.h"
#include "util/fs.h"

/* One building block: its component and validated parameters. */
typedef struct block {
    const aigtatt_component *comp;
    aigtatt_params *params;
} block;

struct aigtatt_model {
    block bb, loss, opt, be;
    aigtatt_nn *nn;
    aigtatt_nn_lowered *low;
    const aigtatt_ir *ir;
    const aigtatt_backend_vtable *bev;
    void *device, *prog;
    int32_t v_image, v_labels, v_lr, v_emb, v_loss;
    int64_t batch, h, w, k;
    char *backbone_json; /* {"use": ..., params}: the checkpoint's aigtatt.backbone */
};

static void block_free(block *b)
{
    aigtatt_params_free(b->params);
    b->params = NULL;
}

static const char *kind_word(aigtatt_kind k)
{
    switch (k) {
    case AIGTATT_KIND_BACKBONE: return "backbone";
    case AIGTATT_KIND_LOSS: return "loss";
    case AIGTATT_KIND_OPTIMIZER: return "optimizer";
    case AIGTATT_KIND_BACKEND: return "backend";
    default: return "component";
    }
}

/* Parses {use: NAME, ...params} as a building block of `kind`; `what` names
 * the node parameter in messages. `def` is used when cfg is NULL. */
static int block_parse(const aigtatt_cfg *cfg, aigtatt_kind kind, const char *what, const char *def, block *out)
{
    char at[512] = "";
    memset(out, 0, sizeof *out);
    const char *name = def;
    if (cfg) {
        aigtatt_cfg_where(cfg, at, sizeof at);
        if (cfg->type != AIGTATT_CFG_MAP) {
            aigtatt_set_error("%s: '%s' must be a mapping such as {use: %s.NAME, ...}", at, what, kind_word(kind));
            return AIGTATT_ERR_INVALID;
        }
        const aigtatt_cfg *u = aigtatt_cfg_get(cfg, "use");
        name = u ? aigtatt_cfg_scalar(u) : NULL;
        if (!name || !*name) {
            aigtatt_set_error("%s: '%s' needs 'use: %s.NAME' (`aigtatt plugins list` shows them)", at, what,
                              kind_word(kind));
            return AIGTATT_ERR_INVALID;
        }
    }
    const aigtatt_component *c = aigtatt_registry_find(name);
    if (!c || c->desc.kind != kind) {
        aigtatt_set_error("%s%s'%s' use: %s is %s (`aigtatt plugins list` shows the %s components)", at,
                          *at ? ": " : "", what, name, c ? "not a building block of that kind" : "not loaded",
                          kind_word(kind));
        return AIGTATT_ERR_INVALID;
    }
    out->comp = c;
    /* The same mapping without its 'use' key is the component's
     * parameters; a shallow view, since parsing only reads it. */
    aigtatt_cfg view;
    const aigtatt_cfg *map = NULL;
    char **keys = NULL;
    aigtatt_cfg **items = NULL;
    if (cfg) {
        view = *cfg;
        keys = calloc(cfg->len + 1, sizeof *keys);
        items = calloc(cfg->len + 1, sizeof *items);
        if (!keys || !items) {
            free(keys);
            free(items);
            aigtatt_set_error("out of memory");
            return AIGTATT_ERR_NOMEM;
        }
        size_t n = 0;
        for (size_t i = 0; i < cfg->len; i++)
            if (strcmp(cfg->keys[i], "use")) {
                keys[n] = cfg->keys[i];
                items[n++] = cfg->items[i];
            }
        view.keys = keys;
        view.items = items;
        view.len = n;
        map = &view;
    }
    char *dir = cfg && cfg->file ? aigtatt_path_dirname(cfg->file) : NULL;
    int rc = aigtatt_params_parse(map, &c->desc, dir, &out->params);
    free(dir);
    free(keys);
    free(items);
    if (rc == AIGTATT_OK && kind == AIGTATT_KIND_OPTIMIZER) {
        const aigtatt_optimizer_vtable *v = c->desc.vtable;
        if (v && v->check && (rc = v->check(out->params)) != AIGTATT_OK)
            aigtatt_error_prefix("%s%s%s", at, *at ? ": " : "", name);
    }
    if (rc != AIGTATT_OK)
        block_free(out);
    return rc;
}

static const char *default_backend(void)
{
    const aigtatt_component *c = aigtatt_registry_find("backend.onednn");
    return c && c->desc.kind == AIGTATT_KIND_BACKEND ? "backend.onednn" : "backend.reference";
}

/* The backbone spec of a checkpoint (aigtatt.backbone) as a config tree. */
static int checkpoint_backbone(const char *path, aigtatt_cfg **cfg, int64_t *h, int64_t *w)
{
    aigtatt_st *st = NULL;
    int rc = aigtatt_st_open(path, &st);
    if (rc)
        return rc;
    const char *bb = aigtatt_st_metadata(st, "aigtatt.backbone");
    const char *in = aigtatt_st_metadata(st, "aigtatt.input");
    long long hh = 0, ww = 0;
    int used = 0;
    if (bb && in && sscanf(in, "%lldx%lld%n", &hh, &ww, &used) == 2 && in[used] == '\0' &&
        (hh < 32 || ww < 32 || hh > 4096 || ww > 4096)) {
        /* the trainer's own range (image_size 32..4096): a larger value
         * would only run out of memory later, without naming the file */
        aigtatt_set_error("%s: aigtatt.input '%s' is outside 32x32..4096x4096", path, in);
        aigtatt_st_close(st);
        return AIGTATT_ERR_FORMAT;
    }
    if (!bb || !in || sscanf(in, "%lldx%lld%n", &hh, &ww, &used) != 2 || in[used] != '\0' || hh < 1 || ww < 1) {
        aigtatt_set_error("%s: not an aigtatt checkpoint (its metadata lacks aigtatt.backbone or aigtatt.input, "
                          "or aigtatt.input is not HxW); weights trained elsewhere need both entries to be "
                          "rebuilt: docs/training.md, \"Embedding with a model trained in PyTorch\"", path);
        aigtatt_st_close(st);
        return AIGTATT_ERR_FORMAT;
    }
    char label[1100];
    snprintf(label, sizeof label, "%s (aigtatt.backbone)", path);
    rc = aigtatt_cfg_load_string(bb, strlen(bb), label, cfg);
    *h = hh;
    *w = ww;
    aigtatt_st_close(st);
    return rc;
}

static int spec_check(const aigtatt_model_spec *s, block *bb, block *loss, block *opt, block *be)
{
    memset(bb, 0, sizeof *bb);
    memset(loss, 0, sizeof *loss);
    memset(opt, 0, sizeof *opt);
    memset(be, 0, sizeof *be);
    if (!s || s->struct_size < offsetof(aigtatt_model_spec, checkpoint)) {
        aigtatt_set_error("model spec: struct_size too small");
        return AIGTATT_ERR_INVALID;
    }
    int rc = AIGTATT_OK;
    if (s->backbone)
        rc = block_parse(s->backbone, AIGTATT_KIND_BACKBONE, "backbone", NULL, bb);
    else if (!s->checkpoint) {
        aigtatt_set_error("model: neither a backbone nor a checkpoint");
        rc = AIGTATT_ERR_INVALID;
    }
    if (!rc && s->loss)
        rc = block_parse(s->loss, AIGTATT_KIND_LOSS, "loss", NULL, loss);
    if (!rc && s->optimizer) {
        if (!s->loss) {
            aigtatt_set_error("model: an optimizer needs a loss");
            rc = AIGTATT_ERR_INVALID;
        } else {
            rc = block_parse(s->optimizer, AIGTATT_KIND_OPTIMIZER, "optimizer", NULL, opt);
        }
    }
    if (!rc)
        rc = block_parse(s->backend, AIGTATT_KIND_BACKEND, "backend", default_backend(), be);
    if (!rc && s->loss && s->classes < 1) {
        aigtatt_set_error("model: a loss needs at least one identity (classes = %lld)", (long long)s->classes);
        rc = AIGTATT_ERR_INVALID;
    }
    if (rc) {
        block_free(bb);
        block_free(loss);
        block_free(opt);
        block_free(be);
    }
    return rc;
}

static int m_check(const aigtatt_model_spec *s)
{
    block bb, loss, opt, be;
    int rc = spec_check(s, &bb, &loss, &opt, &be);
    if (!rc) {
        block_free(&bb);
        block_free(&loss);
        block_free(&opt);
        block_free(&be);
    }
    return rc;
}

static void m_free(aigtatt_model *m)
{
    if (!m)
        return;
    if (m->prog)
        m->bev->release(m->prog);
    if (m->device)
        m->bev->close(m->device);
    aigtatt_nn_lowered_free(m->low);
    aigtatt_nn_free(m->nn);
    block_free(&m->bb);
    block_free(&m->loss);
    block_free(&m->opt);
    block_free(&m->be);
    free(m->backbone_json);
    free(m);
}

aigtatt_nn_optim aigtatt_nn_optim_from_spec(const aigtatt_optim_spec *s)
{
    aigtatt_nn_optim o = {
        .kind = s->kind == AIGTATT_OPTIM_SGD     ? AIGTATT_NN_OPTIM_SGD
              : s->kind == AIGTATT_OPTIM_ADAM    ? AIGTATT_NN_OPTIM_ADAM
              : s->kind == AIGTATT_OPTIM_ADAMW   ? AIGTATT_NN_OPTIM_ADAMW
                                                 : AIGTATT_NN_OPTIM_NONE,
        .momentum = s->momentum,
        .dampening = s->dampening,
        .weight_decay = s->weight_decay,
        .nesterov = s->nesterov,
        .beta1 = s->beta1,
        .beta2 = s->beta2,
        .eps = s->eps,
        .amsgrad = s->amsgrad,
        .maximize = s->maximize,
    };
    return o;
}

static int m_state_load(aigtatt_model *m, const char *path, int flags, const char *const *skip);

static int m_create(const aigtatt_model_spec *s, aigtatt_model **out)
{
    *out = NULL;
    aigtatt_cfg *ck_bb = NULL;
    aigtatt_model_spec spec = *s;
    int64_t ck_h = 0, ck_w = 0;
    if (!s->backbone && s->checkpoint) {
        int rc = checkpoint_backbone(s->checkpoint, &ck_bb, &ck_h, &ck_w);
        if (rc)
            return rc;
        spec.backbone = ck_bb;
        if (!spec.height || !spec.width) {
            spec.height = ck_h;
            spec.width = ck_w;
        }
    }
    aigtatt_model *m = calloc(1, sizeof *m);
    if (!m) {
        aigtatt_cfg_free(ck_bb);
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    m->v_image = m->v_labels = m->v_lr = m->v_emb = m->v_loss = -1;
    int rc = spec_check(&spec, &m->bb, &m->loss, &m->opt, &m->be);
    aigtatt_cfg_free(ck_bb);
    spec.backbone = NULL;
    if (rc) {
        free(m);
        return rc;
    }
    if (spec.batch < 1 || spec.height < 32 || spec.width < 32) {
        aigtatt_set_error("model: batch %lld of %lldx%lld images; needs batch >= 1 and sides >= 32",
                          (long long)spec.batch, (long long)spec.height, (long long)spec.width);
        m_free(m);
        return AIGTATT_ERR_INVALID;
    }
    m->batch = spec.batch;
    m->h = spec.height;
    m->w = spec.width;

    /* the backbone's spec as the checkpoint will record it */
    {
        char *pj = aigtatt_params_canonical_json(m->bb.params);
        size_t n = (pj ? strlen(pj) : 0) + strlen(m->bb.comp->desc.name) + 32;
        m->backbone_json = malloc(n);
        if (!pj || !m->backbone_json) {
            free(pj);
            m_free(m);
            aigtatt_set_error("out of memory");
            return AIGTATT_ERR_NOMEM;
        }
        /* {"use":"backbone.x", + the rest of the canonical object */
        snprintf(m->backbone_json, n, "{\"use\":\"%s\"%s%s", m->bb.comp->desc.name, strlen(pj) > 2 ? "," : "",
                 pj + 1);
        free(pj);
    }

    const aigtatt_nn_api *A = aigtatt_nn_api_get();
    m->nn = aigtatt_nn_new(spec.training, spec.seed);
    if (!m->nn) {
        m_free(m);
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    aigtatt_nn *nn = m->nn;
    const aigtatt_backbone_vtable *bbv = m->bb.comp->desc.vtable;
    aigtatt_val image = A->input(nn, "image", AIGTATT_F32, 4, (int64_t[4]){m->batch, 3, m->h, m->w});
    aigtatt_val emb = bbv->build(m->bb.params, A, nn, image);
    A->output(nn, "embedding", emb);
    aigtatt_val lossv = AIGTATT_NN_INVALID;
    if (m->loss.comp) {
        const aigtatt_loss_vtable *lv = m->loss.comp->desc.vtable;
        aigtatt_val labels = A->input(nn, "labels", AIGTATT_I64, 1, (int64_t[1]){m->batch});
        A->push(nn, "loss");
        lossv = lv->build(m->loss.params, A, nn, emb, labels, spec.classes);
        A->pop(nn);
        A->output(nn, "loss", lossv);
    }
    const char *err = NULL;
    if (A->status(nn, &err) != AIGTATT_OK) {
        aigtatt_set_error("building %s: %s", m->bb.comp->desc.name, err ? err : "?");
        m_free(m);
        return AIGTATT_ERR_INVALID;
    }
    int64_t sh[AIGTATT_NN_MAX_DIMS];
    if (A->shape(nn, emb, sh) != 2 || sh[0] != m->batch) {
        aigtatt_set_error("%s: its output is not an embedding [batch, K]", m->bb.comp->desc.name);
        m_free(m);
        return AIGTATT_ERR_INVALID;
    }
    m->k = sh[1];

    aigtatt_nn_optim rule = {0};
    if (m->opt.comp) {
        const aigtatt_optimizer_vtable *ov = m->opt.comp->desc.vtable;
        aigtatt_optim_spec os = {.struct_size = sizeof os};
        if ((rc = ov->describe(m->opt.params, &os)) != AIGTATT_OK) {
            m_free(m);
            return rc;
        }
        rule = aigtatt_nn_optim_from_spec(&os);
    }
    aigtatt_nn_lower_opts lo = {.loss = m->opt.comp ? lossv : AIGTATT_NN_INVALID,
                                .optim = m->opt.comp ? &rule : NULL};
    if ((rc = aigtatt_nn_lower(nn, &lo, &m->low)) != AIGTATT_OK) {
        m_free(m);
        return rc;
    }
    m->ir = aigtatt_nn_lowered_ir(m->low);
    m->v_image = aigtatt_nn_lowered_find(m->low, "image");
    m->v_labels = aigtatt_nn_lowered_find(m->low, "labels");
    m->v_lr = aigtatt_nn_lowered_find(m->low, "optimizer.lr");
    m->v_emb = aigtatt_nn_lowered_find(m->low, "embedding");
    m->v_loss = aigtatt_nn_lowered_find(m->low, "loss");

    m->bev = m->be.comp->desc.vtable;
    if ((rc = m->bev->open(m->be.params, &m->device)) != AIGTATT_OK) {
        aigtatt_error_prefix("%s", m->be.comp->desc.name);
        m_free(m);
        return rc;
    }
    if ((rc = m->bev->compile(m->device, m->ir, &m->prog)) != AIGTATT_OK ||
        (rc = aigtatt_nn_init_program(m->low, spec.seed, m->bev, m->prog)) != AIGTATT_OK) {
        aigtatt_error_prefix("%s", m->be.comp->desc.name);
        m_free(m);
        return rc;
    }
    /* A training checkpoint also holds the loss's weights (ArcFace's class
     * centres); a network without a loss has no use for them. */
    static const char *const loss_prefix[] = {"loss.", NULL};
    if (s->checkpoint &&
        (rc = m_state_load(m, s->checkpoint, m->loss.comp ? 0 : AIGTATT_MODEL_LOAD_SKIP_PREFIXES,
                           m->loss.comp ? NULL : loss_prefix)) != AIGTATT_OK) {
        m_free(m);
        return rc;
    }
    *out = m;
    return AIGTATT_OK;
}

static int64_t m_embedding_size(const aigtatt_model *m) { return m ? m->k : 0; }

static void m_input_size(const aigtatt_model *m, int64_t *h, int64_t *w)
{
    if (h)
        *h = m ? m->h : 0;
    if (w)
        *w = m ? m->w : 0;
}

static int64_t m_param_count(const aigtatt_model *m)
{
    int64_t n = 0;
    for (size_t i = 0; m && i < m->ir->n_values; i++)
        if (m->ir->values[i].role == AIGTATT_IR_PARAM)
            n += aigtatt_nn_value_numel(&m->ir->values[i]);
    return n;
}

static int value_io(aigtatt_model *m, int32_t v, const char *name, void *data, size_t nbytes, int set)
{
    if (v < 0) {
        aigtatt_set_error("model: no %s '%s' in this network", set ? "input" : "output", name);
        return AIGTATT_ERR_INVALID;
    }
    size_t want = aigtatt_nn_value_bytes(&m->ir->values[v]);
    if (nbytes != want) {
        aigtatt_set_error("model: '%s' holds %zu bytes, not %zu", name, want, nbytes);
        return AIGTATT_ERR_INVALID;
    }
    return set ? m->bev->set(m->prog, v, data, nbytes) : m->bev->get(m->prog, v, data, nbytes);
}

static int m_set_input(aigtatt_model *m, const char *name, const void *data, size_t nbytes)
{
    int32_t v = !strcmp(name, "image") ? m->v_image : !strcmp(name, "labels") ? m->v_labels : -1;
    return value_io(m, v, name, (void *)data, nbytes, 1);
}

static int m_get_output(aigtatt_model *m, const char *name, void *data, size_t nbytes)
{
    int32_t v = !strcmp(name, "embedding") ? m->v_emb : !strcmp(name, "loss") ? m->v_loss : -1;
    return value_io(m, v, name, data, nbytes, 0);
}

static int m_set_schedule(aigtatt_model *m, int64_t epoch, int64_t step, int64_t spe, int64_t epochs, double *lr)
{
    if (!m->opt.comp || m->v_lr < 0) {
        aigtatt_set_error("model: no optimizer, so no learning rate");
        return AIGTATT_ERR_INVALID;
    }
    const aigtatt_optimizer_vtable *ov = m->opt.comp->desc.vtable;
    double r = ov->lr_at(m->opt.params, epoch, step, spe < 1 ? 1 : spe, epochs < 1 ? 1 : epochs);
    if (lr)
        *lr = r;
    const aigtatt_ir_value *iv = &m->ir->values[m->v_lr];
    if (iv->dtype == AIGTATT_F64)
        return m->bev->set(m->prog, m->v_lr, &r, sizeof r);
    float f = (float)r;
    return m->bev->set(m->prog, m->v_lr, &f, sizeof f);
}

static int m_run(aigtatt_model *m) { return m->bev->run(m->prog); }

static int is_state(const aigtatt_ir_value *v, int with_opt)
{
    return v->name && (v->role == AIGTATT_IR_PARAM || v->role == AIGTATT_IR_BUFFER ||
                       (with_opt && v->role == AIGTATT_IR_OPT_STATE));
}

static aigtatt_st_dtype st_dtype(aigtatt_dtype d)
{
    return d == AIGTATT_I64 ? AIGTATT_ST_I64 : d == AIGTATT_F64 ? AIGTATT_ST_F64 : AIGTATT_ST_F32;
}

static int m_state_save(aigtatt_model *m, const char *path, int with_opt, const char *const *meta, size_t n_meta)
{
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    if (!w)
        return AIGTATT_ERR_NOMEM;
    int rc = AIGTATT_OK;
    char buf[64];
    rc = aigtatt_st_writer_meta(w, "aigtatt.backbone", m->backbone_json);
    snprintf(buf, sizeof buf, "%lldx%lld", (long long)m->h, (long long)m->w);
    if (!rc)
        rc = aigtatt_st_writer_meta(w, "aigtatt.input", buf);
    snprintf(buf, sizeof buf, "%lld", (long long)m->k);
    if (!rc)
        rc = aigtatt_st_writer_meta(w, "aigtatt.embedding_size", buf);
    for (size_t i = 0; !rc && i < n_meta; i++)
        rc = aigtatt_st_writer_meta(w, meta[2 * i], meta[2 * i + 1]);
    for (size_t i = 0; !rc && i < m->ir->n_values; i++) {
        const aigtatt_ir_value *v = &m->ir->values[i];
        if (!is_state(v, with_opt))
            continue;
        size_t nb = aigtatt_nn_value_bytes(v);
        void *data = malloc(nb ? nb : 1);
        if (!data) {
            rc = AIGTATT_ERR_NOMEM;
            break;
        }
        uint64_t shape[AIGTATT_NN_MAX_DIMS];
        for (int d = 0; d < v->ndim; d++)
            shape[d] = (uint64_t)v->shape[d];
        rc = m->bev->get(m->prog, (int32_t)i, data, nb);
        if (!rc && (v->dtype == AIGTATT_F32 || v->dtype == AIGTATT_F64)) {
            /* a diverged network is never saved as if it were usable */
            int f64 = v->dtype == AIGTATT_F64;
            size_t n = nb / (f64 ? sizeof(double) : sizeof(float));
            for (size_t e = 0; e < n && !rc; e++)
                if (!isfinite(f64 ? ((const double *)data)[e] : (double)((const float *)data)[e])) {
                    aigtatt_set_error("%s holds a NaN or infinite value (element %zu): the weights diverged; "
                                      "nothing was written to %s",
                                      v->name, e, path);
                    rc = AIGTATT_ERR_INVALID;
                }
        }
        if (!rc)
            rc = aigtatt_st_writer_add(w, v->name, st_dtype(v->dtype), (size_t)v->ndim, shape, data, nb, 0);
        free(data);
    }
    if (!rc)
        rc = aigtatt_st_writer_write(w, path);
    aigtatt_st_writer_free(w);
    return rc;
}

/* A growing "a, b, c" list for the refusal message, capped so a wholly
 * wrong file still gives a readable line. */
typedef struct namelist {
    char text[1536];
    size_t count;
} namelist;

static void namelist_add(namelist *l, const char *name, const char *detail)
{
    size_t len = strlen(l->text);
    if (l->count++ < 12 && len < sizeof l->text - 200)
        snprintf(l->text + len, sizeof l->text - len, "%s%s%s", len ? ", " : "", name, detail ? detail : "");
}

static void namelist_end(namelist *l)
{
    size_t len = strlen(l->text);
    if (l->count > 12)
        snprintf(l->text + len, sizeof l->text - len, " and %zu more", l->count - 12);
}

/* Optimizer state the network does not hold, of one of its parameters: a
 * training checkpoint saved with its optimizer loads into an inference
 * network, or one trained on with another optimizer, which starts its own
 * state from zero (as optimizer state missing from a file does). */
static int foreign_optimizer_state(const aigtatt_model *m, const char *name)
{
    char param[600];
    if (aigtatt_nn_lowered_find(m->low, name) >= 0 || !aigtatt_nn_optimizer_state_name(name, param, sizeof param))
        return 0;
    if (!param[0])
        return 1; /* optimizer.step */
    int32_t v = aigtatt_nn_lowered_find(m->low, param);
    return v >= 0 && m->ir->values[v].role == AIGTATT_IR_PARAM;
}

static int skipped(const char *name, int flags, const char *const *skip)
{
    if (!(flags & AIGTATT_MODEL_LOAD_SKIP_PREFIXES) || !skip)
        return 0;
    for (size_t i = 0; skip[i]; i++)
        if (!strncmp(name, skip[i], strlen(skip[i])))
            return 1;
    return 0;
}

static int same_shape(const aigtatt_ir_value *v, const aigtatt_st_info *info)
{
    if (info->ndim != (size_t)v->ndim)
        return 0;
    for (int d = 0; d < v->ndim; d++)
        if (info->shape[d] != (uint64_t)v->shape[d])
            return 0;
    if (v->dtype == AIGTATT_I64)
        return info->dtype == AIGTATT_ST_I64;
    return info->dtype == AIGTATT_ST_F32 || info->dtype == AIGTATT_ST_F64 || info->dtype == AIGTATT_ST_F16 ||
           info->dtype == AIGTATT_ST_BF16;
}

static void shape_text(char *buf, size_t size, const uint64_t *sh, size_t nd)
{
    size_t len = (size_t)snprintf(buf, size, " [");
    for (size_t d = 0; d < nd && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, "%s%llu", d ? ", " : "", (unsigned long long)sh[d]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
}

/* Element k of a float tensor of the file (F32, F64, F16 or BF16). */
static double file_float(const unsigned char *raw, aigtatt_st_dtype dt, int64_t k)
{
    if (dt == AIGTATT_ST_F64) {
        double d;
        memcpy(&d, raw + 8 * k, 8);
        return d;
    }
    uint32_t u;
    if (dt == AIGTATT_ST_F32) {
        memcpy(&u, raw + 4 * k, 4);
    } else {
        uint16_t h;
        memcpy(&h, raw + 2 * k, 2);
        if (dt == AIGTATT_ST_BF16) {
            u = (uint32_t)h << 16;
        } else { /* IEEE half: rebias the exponent; subnormals scale exactly */
            uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, man = h & 0x3ffu;
            if (e == 0)
                return (sign ? -1.0 : 1.0) * ldexp((double)man, -24);
            u = sign | (e == 31 ? 0x7f800000u : (e + 112) << 23) | man << 13;
        }
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Converts a tensor of the file into the value's plain layout. */
/* Reads tensor i from the file; refuses a NaN or infinity (or a double
 * beyond float's range), as saving does: a NaN weight would otherwise
 * train or embed silently (a fused ReLU turns it into 0, so every image
 * got the same embedding). */
static int load_value(aigtatt_model *m, int32_t i, const aigtatt_st_info *info, const char *path)
{
    const aigtatt_ir_value *v = &m->ir->values[i];
    size_t nb = aigtatt_nn_value_bytes(v);
    int64_t n = aigtatt_nn_value_numel(v);
    unsigned char *buf = malloc(nb ? nb : 1);
    if (!buf) {
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    const unsigned char *raw = info->data;
    for (int64_t k = 0; k < n; k++) {
        double d = 0;
        if (v->dtype == AIGTATT_I64) {
            memcpy(buf + 8 * k, raw + 8 * k, 8);
        } else if (v->dtype == AIGTATT_F64) {
            d = file_float(raw, info->dtype, k);
            memcpy(buf + 8 * k, &d, 8);
        } else {
            float f = (float)file_float(raw, info->dtype, k);
            memcpy(buf + 4 * k, &f, 4);
            d = f;
        }
        if (!isfinite(d)) {
            aigtatt_set_error("%s: tensor '%s' holds %s at element %lld; refusing weights that are not finite",
                              path, v->name, isnan(d) ? "NaN" : "an infinity (or a value beyond float's range)",
                              (long long)k);
            free(buf);
            return AIGTATT_ERR_INVALID;
        }
    }
    int rc = m->bev->set(m->prog, i, buf, nb);
    free(buf);
    return rc;
}

static int m_state_load(aigtatt_model *m, const char *path, int flags, const char *const *skip)
{
    aigtatt_st *st = NULL;
    int rc = aigtatt_st_open(path, &st);
    if (rc)
        return rc;
    namelist missing = {.count = 0}, extra = {.count = 0}, shape = {.count = 0};
    /* The optimizer's state loads only as a whole: moments without their
     * step count (or a step count without them) would misplace Adam's bias
     * correction; otherwise all of it starts from zero. */
    int opt_whole = !(flags & AIGTATT_MODEL_LOAD_FRESH_OPTIMIZER);
    /* every network tensor in the file, in the right shape */
    for (size_t i = 0; i < m->ir->n_values; i++) {
        const aigtatt_ir_value *v = &m->ir->values[i];
        if (!is_state(v, 1))
            continue;
        aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
        int found = aigtatt_st_find(st, v->name, &info) == AIGTATT_OK;
        if (v->role == AIGTATT_IR_OPT_STATE && (!found || !same_shape(v, &info) || skipped(v->name, flags, skip)))
            opt_whole = 0;
        if (!found) {
            /* optimizer state is optional: a fresh optimizer starts from zero */
            if (v->role != AIGTATT_IR_OPT_STATE && !skipped(v->name, flags, skip))
                namelist_add(&missing, v->name, NULL);
        } else if (!same_shape(v, &info) && !skipped(v->name, flags, skip)) {
            char want[160], got[160], d[400];
            uint64_t sh[AIGTATT_NN_MAX_DIMS];
            for (int k = 0; k < v->ndim; k++)
                sh[k] = (uint64_t)v->shape[k];
            shape_text(want, sizeof want, sh, (size_t)v->ndim);
            shape_text(got, sizeof got, info.shape, info.ndim);
            snprintf(d, sizeof d, " (%s%s in the file,%s here)", aigtatt_st_dtype_name(info.dtype), got, want);
            namelist_add(&shape, v->name, d);
        }
    }
    aigtatt_clear_error();
    /* and nothing else, unless allowed */
    if (!(flags & AIGTATT_MODEL_LOAD_ALLOW_EXTRA)) {
        size_t n = aigtatt_st_count(st);
        for (size_t k = 0; k < n; k++) {
            aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
            if (aigtatt_st_tensor_at(st, k, &info) != AIGTATT_OK)
                continue;
            int32_t v = aigtatt_nn_lowered_find(m->low, info.name);
            if ((v < 0 || !is_state(&m->ir->values[v], 1)) && !skipped(info.name, flags, skip) &&
                !foreign_optimizer_state(m, info.name))
                namelist_add(&extra, info.name, NULL);
        }
    }
    if (missing.count || extra.count || shape.count) {
        namelist_end(&missing);
        namelist_end(&extra);
        namelist_end(&shape);
        char msg[5000] = "";
        size_t len = 0;
        if (missing.count)
            len += (size_t)snprintf(msg + len, sizeof msg - len, "; %zu missing: %s", missing.count, missing.text);
        if (extra.count && len < sizeof msg)
            len += (size_t)snprintf(msg + len, sizeof msg - len, "; %zu unexpected: %s", extra.count, extra.text);
        if (shape.count && len < sizeof msg)
            snprintf(msg + len, sizeof msg - len, "; %zu of another shape or type: %s", shape.count, shape.text);
        aigtatt_set_error("%s does not match the %s network (%s)%s", path, m->bb.comp->desc.name,
                          m->backbone_json, msg);
        aigtatt_st_close(st);
        return AIGTATT_ERR_INVALID;
    }
    for (size_t i = 0; rc == AIGTATT_OK && i < m->ir->n_values; i++) {
        const aigtatt_ir_value *v = &m->ir->values[i];
        aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
        if (!is_state(v, 1) || skipped(v->name, flags, skip) || (v->role == AIGTATT_IR_OPT_STATE && !opt_whole) ||
            aigtatt_st_find(st, v->name, &info) != AIGTATT_OK || !same_shape(v, &info))
            continue;
        rc = load_value(m, (int32_t)i, &info, path);
    }
    if (rc && !*aigtatt_last_error())
        aigtatt_set_error("%s: loading the weights failed", path);
    aigtatt_st_close(st);
    return rc;
}

static int m_state_copy(aigtatt_model *dst, aigtatt_model *src)
{
    int rc = AIGTATT_OK;
    for (size_t i = 0; rc == AIGTATT_OK && i < dst->ir->n_values; i++) {
        const aigtatt_ir_value *v = &dst->ir->values[i];
        if (!is_state(v, 0))
            continue;
        int32_t j = aigtatt_nn_lowered_find(src->low, v->name);
        if (j < 0)
            continue;
        const aigtatt_ir_value *u = &src->ir->values[j];
        size_t nb = aigtatt_nn_value_bytes(v);
        if (u->dtype != v->dtype || aigtatt_nn_value_bytes(u) != nb) {
            aigtatt_set_error("model: %s differs in shape or type between the two networks", v->name);
            return AIGTATT_ERR_INVALID;
        }
        void *buf = malloc(nb ? nb : 1);
        if (!buf)
            return AIGTATT_ERR_NOMEM;
        rc = src->bev->get(src->prog, j, buf, nb);
        if (!rc)
            rc = dst->bev->set(dst->prog, (int32_t)i, buf, nb);
        free(buf);
    }
    return rc;
}

static int m_checkpoint_meta(const char *path, const char *key, char *buf, size_t size)
{
    aigtatt_st *st = NULL;
    int rc = aigtatt_st_open(path, &st);
    if (rc)
        return rc;
    const char *v = aigtatt_st_metadata(st, key);
    if (!v) {
        aigtatt_set_error("%s: no metadata '%s'", path, key);
        rc = AIGTATT_ERR_INVALID;
    } else if ((size_t)snprintf(buf, size, "%s", v) >= size) {
        aigtatt_set_error("%s: metadata '%s' is longer than %zu bytes", path, key, size);
        rc = AIGTATT_ERR_LIMIT;
    }
    aigtatt_st_close(st);
    return rc;
}

const aigtatt_model_api aigtatt_model_host_api = {
    /* .struct_size = */ sizeof(aigtatt_model_api),
    /* .check = */ m_check,
    /* .create = */ m_create,
    /* .free = */ m_free,
    /* .embedding_size = */ m_embedding_size,
    /* .input_size = */ m_input_size,
    /* .param_count = */ m_param_count,
    /* .set_input = */ m_set_input,
    /* .set_schedule = */ m_set_schedule,
    /* .run = */ m_run,
    /* .get_output = */ m_get_output,
    /* .state_save = */ m_state_save,
    /* .state_load = */ m_state_load,
    /* .state_copy = */ m_state_copy,
    /* .checkpoint_meta = */ m_checkpoint_meta,
};
