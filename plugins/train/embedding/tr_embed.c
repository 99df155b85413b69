/* embed.images: a trained model and an image set in, an "embeddings" set
 * out: embeddings.safetensors (tensor "embeddings", F32 [N, K], row i =
 * manifest record i) and a manifest whose records keep identity, role,
 * source and split and point at the image (linked into images/), so
 * eval.biometric can label rows and draw thumbnails. */
#include "tr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tr_embed_check(const aigtatt_params *p)
{
    if (tr_roles_check("roles", H->param_string(p, "roles")))
        return AIGTATT_ERR_INVALID;
    const aigtatt_cfg *be = tr_block_cfg(p, "backend");
    if (!be)
        return AIGTATT_OK;
    /* The backbone comes from the checkpoint at run time; check the
     * backend block alone with a placeholder checkpoint-free spec. */
    const char *u = H->cfg_scalar(H->cfg_get(be, "use"));
    if (!u || !H->find_component(AIGTATT_KIND_BACKEND, u)) {
        H->set_error("backend: 'use' must name a loaded backend (backend.onednn, backend.reference)");
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

void tr_embed_uses(const aigtatt_params *p, void (*add)(void *ctx, const char *component), void *ctx)
{
    tr_block_use(p, "backend", add, ctx);
    /* A checkpoint given by path rebuilds its network with the backbone
     * plugin loaded now, whose version must then be in the key (a model
     * input from train.embedding carries it already). The metadata is
     * the backbone's canonical JSON: {"use":"backbone.x",...}. */
    const char *w = H->param_string(p, "weights");
    char meta[4096], use[128];
    const char *u = w && H->model->checkpoint_meta(w, "aigtatt.backbone", meta, sizeof meta) == AIGTATT_OK
                        ? strstr(meta, "\"use\":\"")
                        : NULL;
    if (u && sscanf(u + 7, "%127[^\"]", use) == 1)
        add(ctx, use);
}

int tr_embed_run(aigtatt_run *run)
{
    const aigtatt_params *p = H->run_params(run);
    const int64_t batch = H->param_int(p, "batch");
    const char *model_dir = H->run_input_dir(run, "model");
    const char *weights = H->param_string(p, "weights");
    const char *out_dir = H->run_output_dir(run, "embeddings");
    char ck[4200];
    if (model_dir && weights) {
        H->set_error("both the model input and the weights parameter are set; use one");
        return AIGTATT_ERR_INVALID;
    }
    if (model_dir)
        snprintf(ck, sizeof ck, "%s/model.safetensors", model_dir);
    else if (weights)
        snprintf(ck, sizeof ck, "%s", weights);
    else {
        H->set_error("no model: connect the model input (a train.embedding node) or set weights: FILE");
        return AIGTATT_ERR_INVALID;
    }
    aigtatt_set *set = NULL;
    tr_items it = {0};
    aigtatt_model *m = NULL;
    size_t *order = NULL;
    float *emb = NULL;
    int rc = H->set_open(run, "images", &set);
    if (rc)
        return rc;
    if ((rc = tr_items_collect(set, H->param_string(p, "splits"), H->param_string(p, "roles"), NULL, &it)))
        goto done;
    if (it.n == 0) {
        H->set_error("no images to embed: the input has none in split(s) '%s' with role(s) '%s'",
                     H->param_string(p, "splits"), H->param_string(p, "roles"));
        rc = AIGTATT_ERR_INVALID;
        goto done;
    }
    aigtatt_model_spec s = {.struct_size = sizeof s, .backend = tr_block_cfg(p, "backend"), .batch = batch,
                            .checkpoint = ck, .seed = H->run_seed(run)};
    if ((rc = H->model->create(&s, &m)))
        goto done;
    int64_t k = H->model->embedding_size(m);
    order = malloc(sizeof *order * it.n);
    emb = malloc(sizeof(float) * it.n * (size_t)k);
    if (!order || !emb) {
        H->set_error("out of memory");
        rc = AIGTATT_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < it.n; i++)
        order[i] = i;
    aigtatt_progress *prog = H->progress_begin("embedding", it.n);
    rc = tr_embed_items(m, &it, order, it.n, batch, emb, prog, (int)H->param_int(p, "loader_threads"));
    H->progress_end(prog);
    if (rc)
        goto done;
    /* rows in record order; the records point at linked copies */
    for (size_t i = 0; rc == AIGTATT_OK && i < it.n; i++) {
        const aigtatt_record *r = H->set_record(set, it.v[i].rec);
        char rel[4200], to[8400];
        snprintf(rel, sizeof rel, "images/%s", r->path);
        snprintf(to, sizeof to, "%s/%s", out_dir, rel);
        if ((rc = H->link_file(it.v[i].path, to)))
            break;
        /* The input set is sorted by id and the rows follow it, so the
         * manifest (written sorted by id) lists row i as record i. */
        aigtatt_record e = *r;
        e.struct_size = sizeof e;
        e.path = rel;
        e.meta_json = NULL;
        rc = H->output_add(run, "embeddings", &e);
    }
    if (rc)
        goto done;
    aigtatt_st_writer *wr = H->st_writer_new();
    uint64_t shape[2] = {it.n, (uint64_t)k};
    rc = wr ? AIGTATT_OK : AIGTATT_ERR_NOMEM;
    if (!rc)
        rc = H->st_writer_add(wr, "embeddings", AIGTATT_ST_F32, 2, shape, emb, sizeof(float) * it.n * (size_t)k,
                              AIGTATT_ST_BORROW);
    if (!rc) {
        char path[4200];
        snprintf(path, sizeof path, "%s/embeddings.safetensors", out_dir);
        rc = H->st_writer_write(wr, path);
    }
    H->st_writer_free(wr);
    if (!rc)
        H->log(AIGTATT_LOG_INFO, "%zu embeddings of dimension %lld (%zu identities) from %s", it.n, (long long)k,
               it.n_ids, ck);
done:
    H->model->free(m);
    free(order);
    free(emb);
    tr_items_free(&it);
    H->set_close(set);
    return rc;
}
