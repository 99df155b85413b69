/* train.embedding: an embedding network trained with a margin loss on the
 * identities of an image set, the seed study's recipe: every image of a
 * training identity is one sample of its class; validation EER on held-out
 * identities every few epochs picks the checkpoint. */
#include "tr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void spec_of(const aigtatt_params *p, aigtatt_model_spec *s, int training)
{
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    s->backbone = tr_block_cfg(p, "backbone");
    s->loss = training ? tr_block_cfg(p, "loss") : NULL;
    s->optimizer = training ? tr_block_cfg(p, "optimizer") : NULL;
    s->backend = tr_block_cfg(p, "backend");
    s->training = training;
    s->classes = 1;
    s->batch = H->param_int(p, "batch");
    s->height = s->width = H->param_int(p, "image_size");
}

/* The `augment:` chain, or NULL (AIGTATT_OK) when the list is empty: no
 * online augmentation. Errors name file:line:col and the op. */
static int augment_parse(const aigtatt_params *p, aigtatt_augment_chain **out)
{
    *out = NULL;
    if (H->cfg_len(H->param_cfg(p, "augment")) == 0)
        return AIGTATT_OK;
    return H->augment_chain_parse(p, "augment", out);
}

int tr_train_check(const aigtatt_params *p)
{
    aigtatt_model_spec s;
    spec_of(p, &s, 1);
    if (!s.loss || !s.optimizer) {
        H->set_error("train.embedding needs a loss and an optimizer ({use: loss.arcface}, {use: optim.sgd})");
        return AIGTATT_ERR_INVALID;
    }
    /* a warmup as long as the run never reaches lr nor the schedule */
    const aigtatt_cfg *wu = H->cfg_get(H->param_cfg(p, "optimizer"), "warmup_epochs");
    const char *wt = H->cfg_scalar(wu);
    long long epochs = (long long)H->param_int(p, "epochs");
    if (wt && atoll(wt) >= epochs) {
        char at[256];
        H->set_error("%s: warmup_epochs (%s) must be below epochs (%lld): the learning rate would never reach lr",
                     H->cfg_where(wu, at, sizeof at), wt, epochs);
        return AIGTATT_ERR_INVALID;
    }
    if (tr_roles_check("roles", H->param_string(p, "roles")))
        return AIGTATT_ERR_INVALID;
    if (!H->param_string(p, "weights") && strcmp(H->param_string(p, "weights_keep"), "backbone")) {
        H->set_error("weights_keep: %s says which parts of `weights` to take, and there are no weights",
                     H->param_string(p, "weights_keep"));
        return AIGTATT_ERR_INVALID;
    }
    aigtatt_augment_chain *c = NULL;
    int rc = augment_parse(p, &c);
    H->augment_chain_free(c);
    return rc ? rc : H->model->check(&s);
}

/* The building blocks' versions belong in the cache key: a new backbone or
 * backend version retrains. */
void tr_train_uses(const aigtatt_params *p, void (*add)(void *ctx, const char *component), void *ctx)
{
    tr_block_use(p, "backbone", add, ctx);
    tr_block_use(p, "loss", add, ctx);
    tr_block_use(p, "optimizer", add, ctx);
    tr_block_use(p, "backend", add, ctx);
    H->augment_chain_uses(p, "augment", add, ctx);
}

static void shuffle(size_t *v, size_t n, uint64_t seed)
{
    aigtatt_rng *r = H->rng_new(seed);
    for (size_t i = n; r && i > 1; i--) {
        size_t j = (size_t)(H->rng_u64(r) % i);
        size_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
    H->rng_free(r);
}

static int write_history(const char *dir, const tr_epoch_row *rows, int64_t n)
{
    size_t cap = 128 + (size_t)n * 128, len = 0;
    char *t = malloc(cap);
    if (!t)
        return AIGTATT_ERR_NOMEM;
    len += (size_t)snprintf(t + len, cap - len, "epoch,loss,lr,images_per_s,val_eer,val_rank1\n");
    for (int64_t e = 0; e < n; e++)
        len += (size_t)snprintf(t + len, cap - len, "%lld,%.6g,%.6g,%.4g,%.6g,%.6g\n", (long long)e + 1,
                                rows[e].loss, rows[e].lr, rows[e].ips, rows[e].eer, rows[e].rank1);
    char path[4096];
    snprintf(path, sizeof path, "%s/history.csv", dir);
    int rc = H->write_file(path, t, len);
    free(t);
    return rc;
}

/* The error of a diverged run: where it happened, what was seen, and the
 * newest checkpoint whose weights still trained (good: its epoch, 0 when
 * there is none). */
static void diverged(const char *where, double lr, const char *what, int64_t good, const char *good_path)
{
    if (good > 0)
        H->set_error("training diverged %s (lr %g): %s; training stopped. The last good checkpoint (epoch %lld) is "
                     "%s; try a lower learning rate",
                     where, lr, what, (long long)good, good_path);
    else
        H->set_error("training diverged %s (lr %g) before any good checkpoint: %s; training stopped; try a lower "
                     "learning rate",
                     where, lr, what);
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* The epoch a checkpoint says it holds (aigtatt.epoch), or -1. */
static int64_t saved_epoch(const char *path)
{
    char buf[32];
    if (H->model->checkpoint_meta(path, "aigtatt.epoch", buf, sizeof buf) != AIGTATT_OK)
        return -1;
    return atoll(buf);
}

/* Takes up a stopped run of this node and key: when its folder holds
 * last.safetensors with a progress record, loads the weights, buffers and
 * optimizer state into `m` and the finished epochs into pr, so training
 * goes on after pr->done. A checkpoint that cannot be taken up is named in
 * a warning and training starts over (m untouched). */
static int resume(aigtatt_model *m, const char *state, const char *last, const char *best, int64_t epochs,
                  int keep_epochs, int save_opt, const char *ids, tr_progress *pr)
{
    if (access(last, F_OK) != 0)
        return AIGTATT_OK;
    size_t cap = 256 + (size_t)epochs * 128;
    char *text = malloc(cap), why[768] = "";
    if (!text) {
        H->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    int ok = 0;
    int64_t best_saved = -1;
    if (H->model->checkpoint_meta(last, "aigtatt.progress", text, cap) != AIGTATT_OK)
        snprintf(why, sizeof why, "no progress record: %s", H->last_error());
    else if (tr_progress_decode(text, epochs, pr, why, sizeof why) == 0) {
        best_saved = pr->best_epoch > 0 ? saved_epoch(best) : -1;
        /* best.safetensors is written just after last.safetensors: a stop
         * in between leaves it one best behind, and then the best is the
         * last epoch, whose weights are about to be loaded */
        if (pr->best_epoch > 0 && best_saved != pr->best_epoch && pr->best_epoch != pr->done)
            snprintf(why, sizeof why, "%s holds epoch %lld, not the best epoch %lld", best, (long long)best_saved,
                     (long long)pr->best_epoch);
        else if (H->model->state_load(m, last, 0, NULL) != AIGTATT_OK)
            snprintf(why, sizeof why, "%s", H->last_error());
        else
            ok = 1;
    }
    free(text);
    if (!ok) {
        H->log(AIGTATT_LOG_WARN, "not resuming from %s (%s): training starts over", last, why);
        pr->done = 0;
        pr->best_epoch = -1;
        pr->best_eer = INFINITY;
        return AIGTATT_OK;
    }
    /* the files written after last.safetensors, which a stop in between
     * left out: the weights about to be loaded are theirs */
    char ep[32], ep_path[4300];
    snprintf(ep, sizeof ep, "%lld", (long long)pr->done);
    const char *meta[] = {"aigtatt.epoch", ep, "aigtatt.identities", ids};
    if (pr->best_epoch > 0 && best_saved != pr->best_epoch) {
        int rc = H->model->state_save(m, best, 0, meta, 2);
        if (rc)
            return rc;
    }
    snprintf(ep_path, sizeof ep_path, "%s/epoch_%04lld.safetensors", state, (long long)pr->done);
    if (keep_epochs && pr->done > 0 && access(ep_path, F_OK) != 0) {
        int rc = H->model->state_save(m, ep_path, save_opt, meta, 2);
        if (rc)
            return rc;
    }
    H->log(AIGTATT_LOG_INFO, "resuming after epoch %lld of %lld from %s", (long long)pr->done, (long long)epochs,
           last);
    return AIGTATT_OK;
}

/* `weights` into the fresh network m, as far as `keep` says (parameter
 * weights_keep); ids: this run's training identities (tr_items_digest). */
static int load_weights(aigtatt_model *m, const char *weights, const char *keep, const char *ids)
{
    static const char *const skip_head[] = {"fc.", "loss.", NULL}, *const skip_loss[] = {"loss.", NULL};
    int all = !strcmp(keep, "all"), head = all || !strcmp(keep, "embedding");
    if (all) {
        /* class centres mean something only for the identities, in the
         * order, they were trained on */
        aigtatt_st *st = NULL;
        int rc = H->st_open(weights, &st);
        if (rc) /* unreadable: its own message says why */
            return rc;
        const char *got = H->st_metadata(st, "aigtatt.identities");
        if (!got)
            H->set_error("weights_keep: all takes the class centres (loss.*) only from an aigtatt checkpoint that "
                         "records its training identities (aigtatt.identities); %s has none: use weights_keep: "
                         "embedding to start the class centres fresh", weights);
        else if (strcmp(got, ids))
            H->set_error("weights_keep: all: the class centres (loss.*) of %s were trained on other identities "
                         "(aigtatt.identities %.64s; this run's training split: %s, as count:digest): use "
                         "weights_keep: embedding to start them fresh", weights, got, ids);
        int same = got && !strcmp(got, ids);
        H->st_close(st);
        if (!same)
            return AIGTATT_ERR_INVALID;
    }
    int rc = H->model->state_load(m, weights, AIGTATT_MODEL_LOAD_FRESH_OPTIMIZER |
                                                  (all ? 0 : AIGTATT_MODEL_LOAD_SKIP_PREFIXES),
                                  all ? NULL : head ? skip_loss : skip_head);
    if (rc) {
        char *why = strdup(H->last_error()); /* set_error() overwrites it */
        /* an fc tensor among the names listed (after the path, which may
         * hold "fc." itself) */
        const char *names = why && !strncmp(why, weights, strlen(weights)) ? why + strlen(weights) : why;
        if (why && head && strstr(names, "fc."))
            H->set_error("%s (weights_keep: %s takes the embedding head fc.* from the file: it must have this "
                         "run's embedding_size; weights_keep: backbone starts it fresh)", why, keep);
        free(why);
        return rc;
    }
    H->log(AIGTATT_LOG_INFO, "initial weights from %s: %s; the optimizer starts fresh", weights,
           all ? "all of the network, the class centres too" : head ? "the backbone and the embedding head fc"
                                                                    : "the backbone (fc and the class centres fresh)");
    return AIGTATT_OK;
}

int tr_train_run(aigtatt_run *run)
{
    const aigtatt_params *p = H->run_params(run);
    const int64_t epochs = H->param_int(p, "epochs"), batch = H->param_int(p, "batch"),
                  size = H->param_int(p, "image_size"), val_every = H->param_int(p, "val_every");
    const double flip = H->param_float(p, "flip");
    const int workers = (int)H->param_int(p, "loader_threads");
    aigtatt_augment_chain *chain = NULL;
    tr_augment aug = {.chain = NULL, .shuffle = H->param_bool(p, "augment_shuffle")};
    const uint64_t seed = H->run_seed(run);
    const char *out_dir = H->run_output_dir(run, "model");
    aigtatt_set *set = NULL;
    tr_items train = {0}, val = {0};
    tr_holdout holdout = {0};
    aigtatt_model *m = NULL, *ev = NULL;
    size_t *order = NULL, *vorder = NULL;
    float *vemb = NULL, *emb = NULL;
    int64_t *vlab = NULL;
    tr_epoch_row *rows = NULL;
    aigtatt_progress *prog = NULL;
    char state[4096] = "", last_path[4200] = "", best_path[4200] = "", prev_path[4200] = "";
    int rc = augment_parse(p, &chain);
    if (rc)
        return rc;
    aug.chain = chain;
    if ((rc = H->set_open(run, "images", &set)))
        goto done;
    if ((rc = tr_holdout_make(set, H->param_float(p, "val_fraction"), seed, &holdout)))
        goto done;
    if (holdout.n)
        H->log(AIGTATT_LOG_INFO, "val_fraction %g: %zu of the %zu identities without a split are held out for "
                                 "validation (split 'val'), the rest train (split 'train')",
               H->param_float(p, "val_fraction"), holdout.n, holdout.of);
    else if (H->param_float(p, "val_fraction") > 0)
        H->log(AIGTATT_LOG_WARN, "val_fraction %g holds out nothing: %s", H->param_float(p, "val_fraction"),
               holdout.of ? "fewer than four identities have no split" : "every record has a split");
    if ((rc = tr_items_collect(set, H->param_string(p, "train_splits"), H->param_string(p, "roles"), &holdout,
                               &train)) ||
        (rc = tr_items_collect(set, H->param_string(p, "val_splits"), H->param_string(p, "roles"), &holdout, &val)))
        goto done;
    if (train.n_ids < 2 || train.n < (size_t)batch) {
        /* records without a split (image.folder) are the usual cause */
        size_t unsplit = tr_unsplit_count(set);
        H->set_error("the training split ('%s') has %zu images of %zu identities; training needs at least two "
                     "identities and one batch (%lld) of images%s", H->param_string(p, "train_splits"), train.n,
                     train.n_ids, (long long)batch,
                     unsplit && !holdout.of ? "; the input's records have no split (an identity folder?): set "
                                              "val_fraction (e.g. 0.2) to hold out identities for validation, or "
                                              "train_splits: all, or split them with dataset.write first"
                                            : "");
        rc = AIGTATT_ERR_INVALID;
        goto done;
    }
    int validate = val.n_ids >= 2 && val.n >= 3;
    size_t shared = tr_items_shared_ids(&train, &val);
    char ids[48];
    tr_items_digest(&train, ids, sizeof ids);
    if (shared)
        H->log(AIGTATT_LOG_WARN, "%zu of the %zu validation identities are also trained on (train_splits '%s', "
                                 "val_splits '%s'): the validation EER then rewards memorising them and picks the "
                                 "most overfit epoch", shared, val.n_ids, H->param_string(p, "train_splits"),
               H->param_string(p, "val_splits"));
    if (!validate)
        H->log(AIGTATT_LOG_WARN, "no validation: the '%s' split has %zu images of %zu identities; the last "
                                 "epoch's weights are the output", H->param_string(p, "val_splits"), val.n, val.n_ids);

    aigtatt_model_spec s;
    spec_of(p, &s, 1);
    s.classes = (int64_t)train.n_ids;
    s.seed = seed;
    double t0 = now_s();
    if ((rc = H->model->create(&s, &m)))
        goto done;
    const char *weights = H->param_string(p, "weights");
    if (weights && (rc = load_weights(m, weights, H->param_string(p, "weights_keep"), ids)))
        goto done;
    const int64_t k = H->model->embedding_size(m);
    H->log(AIGTATT_LOG_INFO, "%zu training images of %zu identities, %zu validation images of %zu; %lld "
                             "parameters, K = %lld; compiled in %.1f s", train.n, train.n_ids, val.n, val.n_ids,
           (long long)H->model->param_count(m), (long long)k, now_s() - t0);
    if (aug.chain)
        H->log(AIGTATT_LOG_INFO, "online augmentation: %zu ops%s, drawn anew for every image in every epoch",
               H->augment_chain_len(aug.chain), aug.shuffle ? " in shuffled order" : "");
    if (validate) {
        aigtatt_model_spec es;
        spec_of(p, &es, 0);
        es.seed = seed;
        if ((rc = H->model->create(&es, &ev)))
            goto done;
        vorder = malloc(sizeof *vorder * val.n);
        vemb = malloc(sizeof(float) * val.n * (size_t)k);
        vlab = malloc(sizeof(int64_t) * val.n);
        if (!vorder || !vemb || !vlab)
            goto oom;
        for (size_t i = 0; i < val.n; i++) {
            vorder[i] = i;
            vlab[i] = val.v[i].label;
        }
    }
    const char *sd = H->run_state_dir(run);
    if (!sd) {
        rc = AIGTATT_ERR_IO;
        goto done;
    }
    /* One folder per cache key: a run picks up only its own checkpoints,
     * never those of other parameters or data. */
    snprintf(state, sizeof state, "%s/train/%s/%.16s", sd, H->run_node_id(run), H->run_key(run));
    snprintf(last_path, sizeof last_path, "%s/last.safetensors", state);
    snprintf(best_path, sizeof best_path, "%s/best.safetensors", state);
    /* the epoch before last's weights: the last good ones when the newest
     * diverge at their first use */
    snprintf(prev_path, sizeof prev_path, "%s/previous.safetensors", state);

    order = malloc(sizeof *order * train.n);
    rows = calloc((size_t)epochs, sizeof *rows);
    if (!order || !rows)
        goto oom;
    const int64_t spe = (int64_t)(train.n / (size_t)batch);
    const size_t img_bytes = sizeof(float) * (size_t)batch * 3 * (size_t)size * (size_t)size;
    emb = malloc(sizeof(float) * (size_t)batch * (size_t)k);
    if (!emb)
        goto oom;
    tr_progress pr = {.done = 0, .best_epoch = -1, .best_eer = INFINITY, .rows = rows};
    if (H->run_forced(run)) {
        if (access(last_path, F_OK) == 0)
            H->log(AIGTATT_LOG_INFO, "forced: training starts over instead of resuming from %s", last_path);
    } else if ((rc = resume(m, state, last_path, best_path, epochs, H->param_bool(p, "keep_epochs"),
                            H->param_bool(p, "save_optimizer"), ids, &pr))) {
        goto done;
    }
    prog = H->progress_begin("training steps", (uint64_t)(spe * epochs));
    H->progress_add(prog, (uint64_t)(spe * pr.done), 0);
    int64_t good_epoch = pr.done;
    int warned_eer = 0;
    for (int64_t e = pr.done; e < epochs; e++) {
        for (size_t i = 0; i < train.n; i++)
            order[i] = i;
        shuffle(order, train.n, H->seed_derive(seed, "shuffle", (uint64_t)e));
        tr_loader *l = NULL;
        if ((rc = tr_loader_start(&train, order, train.n, batch, 1, size, size, flip, aug.chain ? &aug : NULL,
                                  H->seed_derive(seed, "augment", (uint64_t)e), workers, &l)))
            goto done;
        double te = now_s(), sum = 0, lr = 0;
        int64_t step = 0;
        const tr_batch *b;
        while ((b = tr_loader_next(l, &rc))) {
            float loss = 0;
            if ((rc = H->model->set_schedule(m, e, step, spe, epochs, &lr)) ||
                (rc = H->model->set_input(m, "image", b->image, img_bytes)) ||
                (rc = H->model->set_input(m, "labels", b->labels, sizeof(int64_t) * (size_t)batch)) ||
                (rc = H->model->run(m)) || (rc = H->model->get_output(m, "loss", &loss, sizeof loss)))
                break;
            /* Divergence shows in the loss, or first in the embeddings:
             * the margin losses normalise them, and a NaN can hide behind
             * a clamp there. Either stops training. */
            if ((rc = H->model->get_output(m, "embedding", emb, sizeof(float) * (size_t)batch * (size_t)k)))
                break;
            int bad_emb = !all_finite(emb, (size_t)(batch * k));
            if (!isfinite(loss) || bad_emb) {
                char what[256], where[64];
                if (!isfinite(loss))
                    snprintf(what, sizeof what, "the loss became %s", isnan(loss) ? "NaN" : "infinite");
                else
                    snprintf(what, sizeof what, "the embeddings became NaN or infinite (loss %g)", (double)loss);
                snprintf(where, sizeof where, "at epoch %lld, step %lld", (long long)e + 1, (long long)step + 1);
                if (step == 0 && good_epoch > 0) {
                    /* this step ran on the weights last saved: they are not
                     * good, the ones saved an epoch earlier are */
                    size_t len = strlen(what);
                    snprintf(what + len, sizeof what - len, " on the weights saved after epoch %lld",
                             (long long)good_epoch);
                    diverged(where, lr, what, good_epoch - 1, prev_path);
                } else {
                    diverged(where, lr, what, good_epoch, last_path);
                }
                rc = AIGTATT_ERR_INVALID;
                break;
            }
            sum += loss;
            step++;
            char note[128];
            snprintf(note, sizeof note, "epoch %lld loss %.4f lr %.3g %.1f img/s", (long long)e + 1, sum / (double)step,
                     lr, (double)(step * batch) / (now_s() - te));
            H->progress_note(prog, note);
            H->progress_add(prog, 1, 0);
            if (H->cancelled()) {
                rc = AIGTATT_ERR_CANCELLED;
                break;
            }
        }
        tr_loader_stop(l);
        if (rc)
            goto done;
        tr_epoch_row *row = &rows[e];
        row->loss = sum / (double)(step ? step : 1);
        row->lr = lr;
        row->ips = (double)(step * batch) / (now_s() - te);
        row->eer = row->rank1 = NAN;
        /* Validation comes before the save, so that the checkpoint carries
         * its result and weights whose evaluation diverges are never saved. */
        int improved = 0;
        if (validate && ((e + 1) % val_every == 0 || e + 1 == epochs)) {
            if ((rc = H->model->state_copy(ev, m)) ||
                (rc = tr_embed_items(ev, &val, vorder, val.n, batch, vemb, NULL, workers)))
                goto done;
            if (!all_finite(vemb, val.n * (size_t)k)) {
                char where[64];
                snprintf(where, sizeof where, "in epoch %lld's validation", (long long)e + 1);
                diverged(where, lr, "the validation embeddings became NaN or infinite (eval mode: running "
                                    "statistics)", good_epoch, last_path);
                rc = AIGTATT_ERR_INVALID;
                goto done;
            }
            tr_eer_rank1(vemb, vlab, val.n, k, &row->eer, &row->rank1);
            if (isnan(row->eer) && !warned_eer) {
                warned_eer = 1;
                H->log(AIGTATT_LOG_WARN, "validation gives no EER: the '%s' split has no identity with two images, "
                                         "or too many images (%zu) to pair in memory; `select` falls back to the "
                                         "last epoch", H->param_string(p, "val_splits"), val.n);
            }
            if (row->eer < pr.best_eer) {
                pr.best_eer = row->eer;
                pr.best_epoch = e + 1;
                improved = 1;
            }
        }
        pr.done = e + 1;
        char ep[32];
        snprintf(ep, sizeof ep, "%lld", (long long)e + 1);
        char *progress = tr_progress_encode(&pr);
        if (!progress)
            goto oom;
        const char *meta[] = {"aigtatt.epoch", ep, "aigtatt.identities", ids, "aigtatt.progress", progress};
        if (good_epoch > 0) {
            unlink(prev_path);
            if ((rc = H->link_file(last_path, prev_path))) {
                free(progress);
                goto done;
            }
        }
        /* the resume point: always with the optimizer's state */
        rc = H->model->state_save(m, last_path, 1, meta, 3);
        free(progress);
        if (rc) {
            if (rc == AIGTATT_ERR_INVALID) {
                /* state_save refuses NaN or infinite weights: the epoch's
                 * last update diverged */
                char what[512], where[64];
                snprintf(what, sizeof what, "%s", H->last_error());
                snprintf(where, sizeof where, "in the last step of epoch %lld", (long long)e + 1);
                diverged(where, lr, what, good_epoch, last_path);
            }
            goto done;
        }
        good_epoch = e + 1;
        if (improved && (rc = H->model->state_save(m, best_path, 0, meta, 2)))
            goto done;
        if (H->param_bool(p, "keep_epochs")) {
            char ep_path[4300];
            snprintf(ep_path, sizeof ep_path, "%s/epoch_%04lld.safetensors", state, (long long)e + 1);
            if ((rc = H->model->state_save(m, ep_path, H->param_bool(p, "save_optimizer"), meta, 2)))
                goto done;
        }
        H->log(AIGTATT_LOG_INFO, "epoch %lld/%lld: loss %.4f, lr %.4g, %.1f img/s%s", (long long)e + 1,
               (long long)epochs, row->loss, row->lr, row->ips, "");
        if (!isnan(row->eer))
            H->log(AIGTATT_LOG_INFO, "epoch %lld validation: EER %.4f, Rank-1 %.4f%s", (long long)e + 1, row->eer,
                   row->rank1, improved ? " (best so far)" : "");
    }
    H->progress_end(prog);
    prog = NULL;

    /* the output: the selected weights (inference-ready), the last ones and
     * the history; `m` holds the last epoch's weights */
    {
        char to[4200], from[4200], ep[32];
        int by_val = !strcmp(H->param_string(p, "select"), "best_val_eer") && pr.best_epoch > 0;
        int with_opt = H->param_bool(p, "save_optimizer");
        snprintf(ep, sizeof ep, "%lld", (long long)epochs);
        const char *meta[] = {"aigtatt.epoch", ep, "aigtatt.identities", ids};
        snprintf(from, sizeof from, "%s/last.safetensors", out_dir);
        if ((rc = H->model->state_save(m, from, with_opt, meta, 2)))
            goto done;
        snprintf(to, sizeof to, "%s/model.safetensors", out_dir);
        if (by_val)
            rc = H->link_file(best_path, to);
        else if (with_opt)
            rc = H->model->state_save(m, to, 0, meta, 2);
        else
            rc = H->link_file(from, to);
        if (rc || (rc = write_history(out_dir, rows, epochs)))
            goto done;
        char js[1024], eer[32] = "null";
        if (pr.best_epoch > 0)
            snprintf(eer, sizeof eer, "%.6g", pr.best_eer);
        int n = snprintf(js, sizeof js,
                         "{\"classes\":%zu,\"train_images\":%zu,\"val_images\":%zu,\"epochs\":%lld,"
                         "\"selected_epoch\":%lld,\"selected_by\":\"%s\",\"best_val_eer\":%s,"
                         "\"embedding_size\":%lld,\"image_size\":%lld,\"seconds\":%.1f}\n",
                         train.n_ids, train.n, val.n, (long long)epochs,
                         (long long)(by_val ? pr.best_epoch : epochs), by_val ? "best_val_eer" : "last", eer,
                         (long long)k, (long long)size, now_s() - t0);
        snprintf(to, sizeof to, "%s/training.json", out_dir);
        if ((rc = H->write_file(to, js, (size_t)n)))
            goto done;
        if (by_val)
            H->log(AIGTATT_LOG_INFO, "selected epoch %lld (validation EER %.4f)", (long long)pr.best_epoch,
                   pr.best_eer);
    }
    /* The outputs are complete (model.safetensors is a hard link, not the
     * file itself), so the resume point is spent once they are published:
     * it would only take disk (weights and optimizer state) for every
     * configuration ever trained. The runner removes it after the rename
     * that publishes them: removed here, a kill in between lost the run.
     * keep_epochs files stay, as asked (and with them the folder). */
    {
        const char *spent[] = {last_path, prev_path, best_path, state};
        for (size_t i = 0; i < sizeof spent / sizeof *spent; i++)
            if (H->run_remove_after_publish(run, spent[i]) != AIGTATT_OK)
                H->log(AIGTATT_LOG_WARN, "%s stays after training: %s", spent[i], H->last_error());
    }
    goto done;
oom:
    H->set_error("out of memory");
    rc = AIGTATT_ERR_NOMEM;
done:
    if (prog)
        H->progress_end(prog);
    H->model->free(m);
    H->model->free(ev);
    free(order);
    free(vorder);
    free(vemb);
    free(emb);
    free(vlab);
    free(rows);
    tr_items_free(&train);
    tr_items_free(&val);
    tr_holdout_free(&holdout);
    H->set_close(set);
    H->augment_chain_free(chain);
    return rc;
}
