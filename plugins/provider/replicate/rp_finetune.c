/* finetune.replicate: the seed study's fine-tuning as one node. The curated
 * images are zipped (deterministic bytes), uploaded with Replicate's files
 * API, and a training of the SDXL trainer is started towards a destination
 * model; the node polls it to the end and writes the new version to its
 * model_version port, which image.replicate takes as an input.
 *
 * Paid work is never repeated: the upload (by the zip's SHA-256, while the
 * file has not expired), the running training (its id) and the finished
 * version are kept in the resume store; a run stopped while the training
 * runs picks it up again instead of starting another. */
#define _XOPEN_SOURCE 700 /* strptime */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rp.h"

#define RP_UPLOAD_MAX ((size_t)100 << 20) /* the files API's limit */

typedef struct rp_ft {
    pv_api api;
    const aigtatt_params *p;
    rp_ref trainer, dest;
    pv_store store;
    size_t images;
    char zip_sha[65];
} rp_ft;

/* A file name for the archive: [A-Za-z0-9._-] only. */
static void zip_name(char *buf, size_t size, size_t i, const char *ident, const char *ext)
{
    char clean[81];
    size_t o = 0;
    for (const char *s = ident; *s && o < sizeof clean - 1; s++)
        clean[o++] = isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.' ? *s : '_';
    clean[o] = '\0';
    snprintf(buf, size, "%04zu_%s.%s", i + 1, clean, ext);
}

static void csv_field(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t need = *len + 2 * strlen(s) + 4;
    if (need > *cap) {
        size_t c = need * 2;
        char *p = realloc(*buf, c);
        if (!p)
            return;
        *buf = p;
        *cap = c;
    }
    (*buf)[(*len)++] = '"';
    for (; *s; s++) {
        if (*s == '"')
            (*buf)[(*len)++] = '"';
        (*buf)[(*len)++] = *s == '\n' || *s == '\r' ? ' ' : *s;
    }
    (*buf)[(*len)++] = '"';
    (*buf)[*len] = '\0';
}

/* Zips the "images" input: one entry per record, captions as asked. */
static int build_zip(rp_ft *f, aigtatt_run *run, rp_zip *z)
{
    aigtatt_set *set = NULL;
    int rc = pv_host->set_open(run, "images", &set);
    if (rc)
        return rc;
    size_t n = pv_host->set_count(set);
    if (n == 0) {
        pv_host->set_close(set);
        pv_host->set_error("the images input is empty: nothing to train on");
        return AIGTATT_ERR_INVALID;
    }
    const char *captions = pv_host->param_string(f->p, "captions");
    char *csv = NULL;
    size_t csv_len = 0, csv_cap = 0;
    if (!strcmp(captions, "csv")) {
        csv_cap = 64;
        csv = malloc(csv_cap);
        if (csv)
            csv_len = (size_t)snprintf(csv, csv_cap, "image_file,caption\n");
    }
    for (size_t i = 0; i < n && rc == AIGTATT_OK; i++) {
        if (pv_host->cancelled()) {
            rc = AIGTATT_ERR_CANCELLED;
            break;
        }
        const aigtatt_record *rec = pv_host->set_record(set, i);
        char path[4096], name[160];
        if ((rc = pv_host->set_path(set, i, path, sizeof path)))
            break;
        pv_blob b;
        if ((rc = pv_read_file(path, (size_t)1 << 30, &b)))
            break;
        const char *what;
        const char *ext = pv_image_ext(b.data, b.len, &what);
        if (!ext) {
            pv_error("image record '%s' is %s data, not a PNG or JPEG", rec->id, what);
            free(b.data);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        zip_name(name, sizeof name, i, rec->identity ? rec->identity : rec->id, ext);
        rc = rp_zip_add(z, name, b.data, b.len);
        free(b.data);
        if (rc == AIGTATT_OK && rec->text && *rec->text) {
            if (!strcmp(captions, "txt")) {
                char tname[160];
                zip_name(tname, sizeof tname, i, rec->identity ? rec->identity : rec->id, "txt");
                rc = rp_zip_add(z, tname, rec->text, strlen(rec->text));
            } else if (csv) {
                csv_field(&csv, &csv_len, &csv_cap, name);
                if (csv_len + 2 < csv_cap)
                    csv[csv_len++] = ',';
                csv_field(&csv, &csv_len, &csv_cap, rec->text);
                if (csv_len + 2 < csv_cap) {
                    csv[csv_len++] = '\n';
                    csv[csv_len] = '\0';
                }
            }
        }
    }
    f->images = n;
    pv_host->set_close(set);
    if (rc == AIGTATT_OK && csv)
        rc = rp_zip_add(z, "caption.csv", csv, csv_len);
    free(csv);
    if (rc == AIGTATT_OK)
        rc = rp_zip_finish(z);
    return rc;
}

static int64_t parse_time(const char *s)
{
    if (!s)
        return 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!e)
        return 0;
    return (int64_t)timegm(&tm);
}

/* Uploads the archive (or reuses an unexpired upload of the same bytes);
 * *url is the file's URL for the trainer (malloc'ed). */
static int upload(rp_ft *f, const rp_zip *z, char **url)
{
    char endpoint[2048], key[65];
    snprintf(endpoint, sizeof endpoint, "%s/files", f->api.base);
    json_t *unit = json_pack("{ss}", "zip_sha256", f->zip_sha);
    pv_key("finetune.replicate", endpoint, unit, key);
    json_decref(unit);
    json_t *old = pv_store_get(&f->store, key, ".json", 0);
    json_t *exp = old ? json_object_get(old, "expires_epoch") : NULL;
    if (old && pv_jstr(old, "url") && json_is_integer(exp) && json_integer_value(exp) > (json_int_t)time(NULL) + 3600) {
        *url = strdup(pv_jstr(old, "url"));
        pv_host->log(AIGTATT_LOG_INFO, "training images already uploaded (%s)", pv_jstr(old, "id"));
        json_decref(old);
        return *url ? AIGTATT_OK : AIGTATT_ERR_NOMEM;
    }
    json_decref(old);

    char boundary[64];
    snprintf(boundary, sizeof boundary, "aigtatt-%.32s", f->zip_sha);
    char head[512], tail[512];
    int hl = snprintf(head, sizeof head,
                      "--%s\r\nContent-Disposition: form-data; name=\"content\"; filename=\"training_images.zip\"\r\n"
                      "Content-Type: application/zip\r\n\r\n", boundary);
    int tl = snprintf(tail, sizeof tail,
                      "\r\n--%s\r\nContent-Disposition: form-data; name=\"filename\"\r\n\r\ntraining_images.zip\r\n"
                      "--%s\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\napplication/zip\r\n--%s--\r\n",
                      boundary, boundary, boundary);
    size_t blen = (size_t)hl + z->len + (size_t)tl;
    char *body = malloc(blen);
    if (!body) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    memcpy(body, head, (size_t)hl);
    memcpy(body + hl, z->data, z->len);
    memcpy(body + hl + z->len, tail, (size_t)tl);
    char ctype[128];
    snprintf(ctype, sizeof ctype, "multipart/form-data; boundary=%s", boundary);
    /* An upload is not paid work: a repeat only leaves a spare file. */
    pv_call c = {.method = "POST", .url = endpoint, .content_type = ctype, .body = body, .body_len = blen, .auth = 1,
                 .retry_post = AIGTATT_HTTP_RETRY_POST_ALWAYS,
                 .timeout_ms = (int64_t)(pv_host->param_float(f->p, "upload_timeout_s") * 1000), .what = "upload images"};
    aigtatt_http_response *r = NULL;
    int st;
    pv_verdict v;
    int rc = pv_request(&f->api, &c, &r, &st, &v);
    free(body);
    json_t *j = rc == AIGTATT_OK ? pv_json_body(r, "upload images") : NULL;
    pv_host->http_response_free(r);
    if (rc)
        return rc;
    if (!j)
        return AIGTATT_ERR_FORMAT;
    const char *get = pv_jstr(json_object_get(j, "urls"), "get");
    const char *sha = pv_jstr(json_object_get(j, "checksums"), "sha256");
    json_t *size = json_object_get(j, "size");
    if (!get || strncmp(get, "http", 4) != 0) {
        pv_host->set_error("upload images: the answer has no urls.get");
        json_decref(j);
        return AIGTATT_ERR_FORMAT;
    }
    if ((sha && strcmp(sha, f->zip_sha) != 0) || (json_is_integer(size) && (size_t)json_integer_value(size) != z->len)) {
        pv_error("upload images: the server holds %lld bytes with SHA-256 %.16s..., not the %zu bytes sent (%.16s...)",
                 json_is_integer(size) ? (long long)json_integer_value(size) : -1LL, sha ? sha : "?", z->len,
                 f->zip_sha);
        json_decref(j);
        return AIGTATT_ERR_IO;
    }
    int64_t expires = parse_time(pv_jstr(j, "expires_at"));
    if (!expires)
        expires = (int64_t)time(NULL) + 23 * 3600;
    json_t *rec = json_pack("{ss ss? ss sI sI}", "url", get, "id", pv_jstr(j, "id"), "zip_sha256", f->zip_sha,
                            "bytes", (json_int_t)z->len, "expires_epoch", (json_int_t)expires);
    rc = rec ? pv_store_put(&f->store, key, ".json", rec) : AIGTATT_ERR_NOMEM;
    json_decref(rec);
    *url = strdup(get);
    pv_host->log(AIGTATT_LOG_INFO, "uploaded %zu training images (%.1f MiB) as %s", f->images,
                 (double)z->len / 1048576.0, pv_jstr(j, "id") ? pv_jstr(j, "id") : "?");
    json_decref(j);
    return rc ? rc : *url ? AIGTATT_OK : AIGTATT_ERR_NOMEM;
}

/* Makes sure the destination model exists, creating it when asked. */
static int ensure_destination(rp_ft *f)
{
    char url[2048];
    snprintf(url, sizeof url, "%s/models/%s/%s", f->api.base, f->dest.owner, f->dest.name);
    aigtatt_http_response *r = NULL;
    int st;
    pv_verdict v;
    pv_call c = {.method = "GET", .url = url, .auth = 1, .what = "get destination model"};
    int rc = pv_request(&f->api, &c, &r, &st, &v);
    pv_host->http_response_free(r);
    if (rc == AIGTATT_OK)
        return rc;
    if (st != 404)
        return rc;
    json_t *body = json_pack("{ss ss ss ss ss}", "owner", f->dest.owner, "name", f->dest.name, "visibility",
                             pv_host->param_string(f->p, "destination_visibility"), "hardware",
                             pv_host->param_string(f->p, "destination_hardware"), "description",
                             "Fine-tuned by aigtatt finetune.replicate");
    char *text = body ? json_dumps(body, PV_DUMP) : NULL;
    json_decref(body);
    if (!text) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    snprintf(url, sizeof url, "%s/models", f->api.base);
    pv_call cc = {.method = "POST", .url = url, .content_type = "application/json", .body = text,
                  .body_len = strlen(text), .auth = 1, .what = "create destination model"};
    rc = pv_request(&f->api, &cc, &r, &st, &v);
    pv_host->http_response_free(r);
    free(text);
    if (rc == AIGTATT_OK)
        pv_host->log(AIGTATT_LOG_INFO, "created the destination model %s/%s", f->dest.owner, f->dest.name);
    return rc;
}

static const struct {
    const char *name;
    aigtatt_param_type type;
} rp_train_optional[] = {
    {"resolution", AIGTATT_PARAM_INT},         {"train_batch_size", AIGTATT_PARAM_INT},
    {"num_train_epochs", AIGTATT_PARAM_INT},   {"max_train_steps", AIGTATT_PARAM_INT},
    {"is_lora", AIGTATT_PARAM_BOOL},           {"unet_learning_rate", AIGTATT_PARAM_FLOAT},
    {"ti_lr", AIGTATT_PARAM_FLOAT},            {"lora_lr", AIGTATT_PARAM_FLOAT},
    {"lora_rank", AIGTATT_PARAM_INT},          {"lr_scheduler", AIGTATT_PARAM_ENUM},
    {"lr_warmup_steps", AIGTATT_PARAM_INT},    {"mask_target_prompts", AIGTATT_PARAM_STRING},
    {"crop_based_on_salience", AIGTATT_PARAM_BOOL}, {"use_face_detection_instead", AIGTATT_PARAM_BOOL},
    {"clipseg_temperature", AIGTATT_PARAM_FLOAT},   {"checkpointing_steps", AIGTATT_PARAM_INT},
    {"verbose", AIGTATT_PARAM_BOOL},
};

static json_t *training_input(rp_ft *f, uint64_t seed)
{
    const aigtatt_params *p = f->p;
    json_t *in = json_object();
    json_object_set_new(in, "input_images_filetype", json_string("zip"));
    json_object_set_new(in, "token_string", json_string(pv_host->param_string(p, "token_string")));
    json_object_set_new(in, "caption_prefix", json_string(pv_host->param_string(p, "caption_prefix")));
    json_object_set_new(in, "seed", json_integer((json_int_t)seed));
    for (size_t i = 0; i < sizeof rp_train_optional / sizeof rp_train_optional[0]; i++) {
        const char *n = rp_train_optional[i].name;
        if (!pv_host->param_is_set(p, n))
            continue;
        switch (rp_train_optional[i].type) {
        case AIGTATT_PARAM_INT:
            json_object_set_new(in, n, json_integer(pv_host->param_int(p, n)));
            break;
        case AIGTATT_PARAM_FLOAT:
            json_object_set_new(in, n, json_real(pv_host->param_float(p, n)));
            break;
        case AIGTATT_PARAM_BOOL:
            json_object_set_new(in, n, json_boolean(pv_host->param_bool(p, n)));
            break;
        default:
            json_object_set_new(in, n, json_string(pv_host->param_string(p, n)));
        }
    }
    json_t *extra = pv_cfg_to_json(pv_host->param_cfg(p, "extra_input"));
    if (json_is_object(extra))
        pv_json_merge(in, extra);
    json_decref(extra);
    return in;
}

/* Starts the training or finds the one a stopped run left behind, and
 * waits for it; *job is its final state. */
static int train(rp_ft *f, const char *key, const char *endpoint, json_t *request, json_t **job)
{
    int st, rc;
    pv_verdict v;
    json_t *obj = NULL;
    json_t *pending = pv_store_get(&f->store, key, ".pending.json", 0);
    const char *tid = pending ? pv_jstr(pending, "id") : NULL;
    if (tid && rp_id_ok(tid)) {
        rc = rp_get(&f->api, "trainings", tid, &obj, &st, &v);
        const char *status = obj ? pv_jstr(obj, "status") : NULL;
        if (rc == AIGTATT_OK && rp_resumable(status)) {
            pv_host->log(AIGTATT_LOG_INFO, "resuming training %s (%s)", tid, status);
        } else {
            if (rc != AIGTATT_OK && st != 404) {
                json_decref(pending);
                json_decref(obj);
                return rc;
            }
            pv_host->log(AIGTATT_LOG_INFO, "training %s of an earlier run cannot be used (%s); starting a new one",
                         tid, status ? status : "not found");
            json_decref(obj);
            obj = NULL;
        }
    }
    json_decref(pending);
    if (!obj) {
        char *body = json_dumps(request, PV_DUMP);
        if (!body) {
            pv_host->set_error("out of memory");
            return AIGTATT_ERR_NOMEM;
        }
        pv_call c = {.method = "POST", .url = endpoint, .content_type = "application/json", .body = body,
                     .body_len = strlen(body), .auth = 1, .retry_post = AIGTATT_HTTP_RETRY_POST_IF_NOT_SENT,
                     .what = "create training"};
        aigtatt_http_response *r = NULL;
        rc = pv_request(&f->api, &c, &r, &st, &v);
        free(body);
        obj = rc == AIGTATT_OK ? pv_json_body(r, "create training") : NULL;
        pv_host->http_response_free(r);
        if (rc)
            return rc;
        if (!obj || !rp_id_ok(pv_jstr(obj, "id")) || !pv_jstr(obj, "status")) {
            if (obj)
                pv_host->set_error("create training: the answer has no usable id or status");
            json_decref(obj);
            return AIGTATT_ERR_FORMAT;
        }
        json_t *pj = json_pack("{ss ss? ss}", "id", pv_jstr(obj, "id"), "created_at", pv_jstr(obj, "created_at"),
                               "endpoint", endpoint);
        rc = pj ? pv_store_put(&f->store, key, ".pending.json", pj) : AIGTATT_ERR_NOMEM;
        json_decref(pj);
        if (rc) {
            json_decref(obj);
            return rc;
        }
        pv_host->log(AIGTATT_LOG_INFO, "training %s started (destination %s/%s)", pv_jstr(obj, "id"), f->dest.owner,
                     f->dest.name);
    }
    int64_t deadline = pv_now_ms() + (int64_t)(pv_host->param_float(f->p, "training_timeout_s") * 1000);
    int64_t poll = (int64_t)(pv_host->param_float(f->p, "poll_interval_s") * 1000);
    aigtatt_progress *pr = pv_host->progress_begin("training", 0);
    rc = rp_wait(&f->api, "trainings", &obj, poll, deadline, &v);
    pv_host->progress_add(pr, rc == AIGTATT_OK, rc != AIGTATT_OK);
    pv_host->progress_end(pr);
    if (rc == AIGTATT_OK || v == PV_ITEM) {
        if (rc == AIGTATT_OK && strcmp(pv_jstr(obj, "status"), "succeeded") != 0)
            pv_store_drop(&f->store, key, ".pending.json");
        if (rc != AIGTATT_OK && pv_now_ms() >= deadline)
            pv_store_drop(&f->store, key, ".pending.json");
    }
    if (rc) {
        json_decref(obj);
        return rc;
    }
    *job = obj;
    return AIGTATT_OK;
}

static int rp_ft_check(const aigtatt_params *p)
{
    rp_ref r;
    int rc = rp_parse_ref(pv_host->param_string(p, "trainer"), &r, 1, "trainer");
    if (rc)
        return rc;
    rc = rp_parse_ref(pv_host->param_string(p, "destination"), &r, 0, "destination");
    if (rc)
        return rc;
    if (r.version[0] || !r.owner[0]) {
        pv_error("destination '%s' must be owner/model (no version)", pv_host->param_string(p, "destination"));
        return AIGTATT_ERR_INVALID;
    }
    const char *tok = pv_host->param_string(p, "token_string");
    const char *prefix = pv_host->param_string(p, "caption_prefix");
    if (tok && *tok && prefix && *prefix && !strstr(prefix, tok)) {
        pv_error("caption_prefix '%s' must contain token_string '%s' (the trainer requires it)", prefix, tok);
        return AIGTATT_ERR_INVALID;
    }
    const aigtatt_cfg *extra = pv_host->param_cfg(p, "extra_input");
    if (extra && pv_host->cfg_type(extra) != AIGTATT_CFG_MAP) {
        pv_host->set_error("extra_input must be a mapping of trainer input names to values");
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

static int rp_ft_run(aigtatt_run *run)
{
    const aigtatt_params *p = pv_host->run_params(run);
    int rc = rp_ft_check(p);
    if (rc)
        return rc;
    rp_ft f;
    memset(&f, 0, sizeof f);
    f.p = p;
    rp_parse_ref(pv_host->param_string(p, "trainer"), &f.trainer, 1, "trainer");
    rp_parse_ref(pv_host->param_string(p, "destination"), &f.dest, 0, "destination");
    const char *out = pv_host->run_output_dir(run, "model_version");
    if (!out) {
        pv_host->set_error("no output folder for port 'model_version'");
        return AIGTATT_ERR;
    }
    rp_zip z;
    memset(&z, 0, sizeof z);
    char *url = NULL;
    json_t *request = NULL, *job = NULL, *result = NULL;
    if ((rc = pv_store_open(&f.store, run, "finetune.replicate", "model_version")))
        return rc;
    if ((rc = build_zip(&f, run, &z)))
        goto done;
    pv_sha256_hex(z.data, z.len, f.zip_sha);
    if (z.len > RP_UPLOAD_MAX) {
        pv_host->set_error("the training images make a %.1f MiB zip; Replicate's files API takes at most 100 MiB "
                           "(use fewer or smaller images, e.g. JPEG)", (double)z.len / 1048576.0);
        rc = AIGTATT_ERR_LIMIT;
        goto done;
    }
    uint64_t seed = pv_host->param_int(p, "seed") >= 0 ? (uint64_t)pv_host->param_int(p, "seed")
                                                       : pv_host->seed_derive(pv_host->run_seed(run), "training", 0) & 0xFFFFFFFFu;
    char dest[300], endpoint[2048], key[65];
    snprintf(dest, sizeof dest, "%s/%s", f.dest.owner, f.dest.name);
    json_t *input = training_input(&f, seed);
    /* The key names the images by content: a re-upload gives a new URL
     * for the same training. */
    json_object_set_new(input, "input_images", json_sprintf("sha256:%s", f.zip_sha));
    request = json_pack("{ss so}", "destination", dest, "input", input);
    if (!request) {
        pv_host->set_error("out of memory");
        rc = AIGTATT_ERR_NOMEM;
        goto done;
    }
    /* base_url as pv_api_init() normalises it, so that a finished training
     * is found without a key or a request */
    const char *base = pv_host->param_string(p, "base_url");
    size_t bl = strlen(base ? base : "");
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    snprintf(endpoint, sizeof endpoint, "%.*s/models/%s/%s/versions/%s/trainings", (int)bl, base ? base : "",
             f.trainer.owner, f.trainer.name, f.trainer.version);
    json_t *unit = json_pack("{sO}", "request", request);
    pv_key("finetune.replicate", endpoint, unit, key);
    json_decref(unit);

    result = pv_store_get(&f.store, key, ".json", 0);
    char line[1536];
    double train_s = 0;
    if (result && pv_jstr(result, "ref")) {
        snprintf(line, sizeof line, "finetune.replicate: version %s from the resume store (0 requests)",
                 pv_jstr(result, "ref"));
        pv_host->log(AIGTATT_LOG_INFO, "%s", line);
    } else {
        json_decref(result);
        result = NULL;
        if ((rc = pv_api_init(&f.api, p, "Bearer")))
            goto done;
        if ((rc = upload(&f, &z, &url)))
            goto done;
        json_object_set_new(input, "input_images", json_string(url));
        if (pv_host->param_bool(p, "create_destination") && (rc = ensure_destination(&f)))
            goto done;
        if ((rc = train(&f, key, endpoint, request, &job)))
            goto done;
        const char *status = pv_jstr(job, "status");
        if (strcmp(status, "succeeded") != 0) {
            const char *err = pv_jstr(job, "error");
            pv_error("training %s %s%s%s", pv_jstr(job, "id"), status, err ? ": " : "", err ? err : "");
            rc = AIGTATT_ERR_IO;
            goto done;
        }
        json_t *o = json_object_get(job, "output");
        const char *ver = pv_jstr(o, "version");
        rp_ref made;
        if (!ver || rp_parse_ref(ver, &made, 1, "training output version") != AIGTATT_OK) {
            pv_error("training %s succeeded without a usable output version", pv_jstr(job, "id"));
            rc = AIGTATT_ERR_FORMAT;
            goto done;
        }
        json_t *metrics = json_object_get(job, "metrics");
        result = json_pack("{ss ss ss ss ss? sI ss ss ss}", "ref", ver, "version", made.version, "training_id",
                           pv_jstr(job, "id"), "trainer", pv_host->param_string(p, "trainer"), "weights",
                           pv_jstr(o, "weights"), "images", (json_int_t)f.images, "zip_sha256", f.zip_sha,
                           "token_string", pv_host->param_string(p, "token_string"), "destination", dest);
        if (!result) {
            pv_host->set_error("out of memory");
            rc = AIGTATT_ERR_NOMEM;
            goto done;
        }
        json_object_set_new(result, "model", json_sprintf("%s/%s", made.owner, made.name));
        json_t *in = json_deep_copy(input);
        json_object_del(in, "input_images");
        json_object_set_new(result, "input", in);
        if (json_is_number(json_object_get(metrics, "predict_time")))
            json_object_set(result, "train_time", json_object_get(metrics, "predict_time"));
        if ((rc = pv_store_put(&f.store, key, ".json", result)))
            goto done;
        pv_store_drop(&f.store, key, ".pending.json");
        char stats[256];
        pv_api_stats(&f.api, stats, sizeof stats);
        if (json_is_number(json_object_get(metrics, "predict_time")))
            train_s = json_number_value(json_object_get(metrics, "predict_time"));
        snprintf(line, sizeof line, "finetune.replicate: new version %s from %zu images; %s; %.1f s of training "
                 "time billed", ver, f.images, stats, train_s);
    }
    json_t *summary = pv_summary_new(&f.api, "finetune.replicate", run);
    if (summary)
        json_object_set_new(summary, "usage", json_pack("{sf sb}", "train_time_s", train_s, "from_store",
                                                        f.api.scheme == NULL));
    double pps = pv_price(p, "price_per_second");
    char basis[128];
    snprintf(basis, sizeof basis, "%.1f s x $%g/s", train_s, pps);
    pv_cost_add(summary, line, sizeof line, pps > 0, train_s * pps, basis);
    if (f.api.scheme)
        pv_host->log(AIGTATT_LOG_INFO, "%s", line);
    char path[4096];
    snprintf(path, sizeof path, "%s/model_version.json", out);
    pv_json_scrub(result);
    char *text = json_dumps(result, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    if (!text) {
        pv_host->set_error("out of memory");
        rc = AIGTATT_ERR_NOMEM;
        goto done;
    }
    size_t tl = strlen(text);
    text[tl] = '\0';
    rc = pv_host->write_file(path, text, tl);
    free(text);
    if (rc == AIGTATT_OK)
        rc = summary ? pv_summary_write(out, NULL, summary, line) : AIGTATT_ERR_NOMEM;
    json_decref(summary);
done:
    free(url);
    json_decref(request);
    json_decref(job);
    json_decref(result);
    rp_zip_free(&z);
    pv_store_close(&f.store);
    pv_api_free(&f.api);
    return rc;
}

#define OPT(nm, ty, doc_) {.name = nm, .type = ty, .default_value = "~", .doc = doc_}

static const aigtatt_param_desc rp_ft_params[] = {
    {.name = "destination", .type = AIGTATT_PARAM_STRING,
     .doc = "owner/model that receives the new version (create it on replicate.com, or set "
            "create_destination)."},
    {.name = "create_destination", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
     .doc = "Create the destination model when it does not exist yet."},
    {.name = "destination_visibility", .type = AIGTATT_PARAM_ENUM, .default_value = "private",
     .choices = "private|public", .doc = "Visibility of a destination model created here."},
    {.name = "destination_hardware", .type = AIGTATT_PARAM_STRING, .default_value = "gpu-a40-large",
     .doc = "Hardware of a destination model created here."},
    {.name = "trainer", .type = AIGTATT_PARAM_STRING, .default_value = RP_SDXL,
     .doc = "The trainer, owner/model:version (the SDXL trainer by default)."},
    {.name = "token_string", .type = AIGTATT_PARAM_STRING, .default_value = "TOK",
     .doc = "Trigger token the fine-tuned model learns (the seed study's TOK)."},
    {.name = "caption_prefix", .type = AIGTATT_PARAM_STRING, .default_value = "'In the style of TOK, '",
     .doc = "Prefix of every automatic caption; must contain token_string."},
    {.name = "captions", .type = AIGTATT_PARAM_ENUM, .default_value = "none", .choices = "none|txt|csv",
     .doc = "Put each image record's text into the zip as its caption: none (the trainer captions "
            "automatically), txt (one NAME.txt per image) or csv (caption.csv with image_file,caption)."},
    {.name = "seed", .type = AIGTATT_PARAM_INT, .default_value = "-1", .has_min = 1, .min = -1, .has_max = 1,
     .max = 4294967295.0, .doc = "Training seed; -1 derives one from the node seed."},
    {.name = "resolution", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 64, .has_max = 1,
     .max = 4096, .doc = "Training resolution (trainer default 768)."},
    {.name = "train_batch_size", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 1,
     .has_max = 1, .max = 64, .doc = "Batch size (trainer default 4)."},
    {.name = "num_train_epochs", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 1,
     .doc = "Epochs (trainer default 4000; max_train_steps usually ends training first)."},
    {.name = "max_train_steps", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 1,
     .doc = "Training steps (trainer default 1000)."},
    OPT("is_lora", AIGTATT_PARAM_BOOL, "LoRA (true, trainer default) or full fine-tuning (false)."),
    {.name = "unet_learning_rate", .type = AIGTATT_PARAM_FLOAT, .default_value = "~", .has_min = 1, .min = 0,
     .doc = "UNet learning rate for full fine-tuning (trainer default 1e-6)."},
    {.name = "ti_lr", .type = AIGTATT_PARAM_FLOAT, .default_value = "~", .has_min = 1, .min = 0,
     .doc = "Textual-inversion embedding learning rate (trainer default 3e-4)."},
    {.name = "lora_lr", .type = AIGTATT_PARAM_FLOAT, .default_value = "~", .has_min = 1, .min = 0,
     .doc = "LoRA learning rate (trainer default 1e-4)."},
    {.name = "lora_rank", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 1, .has_max = 1,
     .max = 1024, .doc = "LoRA rank (trainer default 32)."},
    {.name = "lr_scheduler", .type = AIGTATT_PARAM_ENUM, .default_value = "~", .choices = "constant|linear",
     .doc = "Learning-rate schedule (trainer default constant)."},
    {.name = "lr_warmup_steps", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 0,
     .doc = "Warm-up steps (trainer default 100)."},
    OPT("mask_target_prompts", AIGTATT_PARAM_STRING,
        "Words for CLIPSeg masks of what matters in each image (e.g. 'tattoo'); none by default."),
    OPT("crop_based_on_salience", AIGTATT_PARAM_BOOL, "Crop to the salient region (trainer default true)."),
    OPT("use_face_detection_instead", AIGTATT_PARAM_BOOL, "Masks from face detection (trainer default false)."),
    {.name = "clipseg_temperature", .type = AIGTATT_PARAM_FLOAT, .default_value = "~", .has_min = 1, .min = 0,
     .doc = "Sharpness of the CLIPSeg masks (trainer default 1.0)."},
    {.name = "checkpointing_steps", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 1,
     .doc = "Save a checkpoint every N steps (trainer default 999999)."},
    OPT("verbose", AIGTATT_PARAM_BOOL, "Verbose trainer logs (trainer default true)."),
    {.name = "extra_input", .type = AIGTATT_PARAM_MAP, .default_value = "{}",
     .doc = "Further trainer inputs passed as they are; they override the fields above, null removes one."},
    {.name = "poll_interval_s", .type = AIGTATT_PARAM_FLOAT, .default_value = "15", .has_min = 1, .min = 0.01,
     .has_max = 1, .max = 3600, .no_key = 1, .doc = "Seconds between status checks of the training."},
    {.name = "training_timeout_s", .type = AIGTATT_PARAM_FLOAT, .default_value = "14400", .has_min = 1,
     .min = 1, .has_max = 1, .max = 604800, .no_key = 1,
     .doc = "A training still running after this long is canceled and the node fails."},
    {.name = "upload_timeout_s", .type = AIGTATT_PARAM_FLOAT, .default_value = "900", .has_min = 1, .min = 1,
     .has_max = 1, .max = 86400, .no_key = 1, .doc = "Deadline of the zip upload."},
    PV_PRICE_SECOND_PARAM("training time"),
    PV_NET_PARAMS("https://api.replicate.com/v1", "no", "REPLICATE_API_TOKEN", "120"),
    PV_STORE_PARAMS,
    {.name = NULL},
};

static const aigtatt_port_desc rp_ft_in[] = {
    {.name = "images", .type = "images", .doc = "The curated training images (PNG or JPEG), one record each."},
    {.name = NULL},
};
static const aigtatt_port_desc rp_ft_out[] = {
    {.name = "model_version", .type = "model_version",
     .doc = "model_version.json: ref (owner/model:version), model, version, training id, weights URL, trainer "
            "inputs; for image.replicate's model_version input. provider.json holds the summary (requests, "
            "retries, bytes, training time, cost)."},
    {.name = NULL},
};

static const aigtatt_node_vtable rp_ft_vt = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = rp_ft_check,
    .run = rp_ft_run,
};

const aigtatt_component_desc rp_finetune_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_TRAINER,
    .name = "finetune.replicate",
    .version = "1.1.0",
    .summary = "Fine-tunes SDXL on Replicate with the curated images (zip, upload, training) and outputs the new version",
    .doc = "Zips the images input (deterministic bytes), uploads it with the files API, starts a training of the "
           "SDXL trainer towards destination, polls it until it ends, and writes the new version to the "
           "model_version port for image.replicate. The upload, the running training and the result are kept "
           "in the resume store: a stopped run resumes the same training, a finished one is never paid twice. "
           "Key: REPLICATE_API_TOKEN.",
    AIGTATT_PARAMS(rp_ft_params),
    AIGTATT_PORTS(rp_ft_in, rp_ft_out),
    .vtable = &rp_ft_vt,
};
