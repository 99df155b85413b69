/* image.replicate: one Replicate prediction per image (SDXL, a fine-tuned
 * SDXL version, or any model taking a prompt), created with
 * "Prefer: wait", polled until it ends, its output downloaded at once
 * (Replicate deletes outputs after an hour) and kept in the resume store.
 *
 * A prediction that is still running when the run stops (Ctrl-C, kill) is
 * remembered (<key>.pending.json): the next run polls it instead of paying
 * for a new one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp.h"

typedef struct rp_img {
    pv_api api;
    rp_ref ref;
    const aigtatt_params *p;
    json_t *fixed;       /* input fields from the parameters */
    json_t *extra;       /* extra_input */
    int64_t wait_s, poll_ms, deadline_s;
    _Atomic uint64_t predict_us, predictions;
} rp_img;

/* Declared SDXL inputs sent only when set (the model's own default
 * otherwise); width and height are always sent. */
static const struct {
    const char *name;
    aigtatt_param_type type;
} rp_optional[] = {
    {"negative_prompt", AIGTATT_PARAM_STRING},   {"scheduler", AIGTATT_PARAM_ENUM},
    {"num_inference_steps", AIGTATT_PARAM_INT},  {"guidance_scale", AIGTATT_PARAM_FLOAT},
    {"prompt_strength", AIGTATT_PARAM_FLOAT},    {"refine", AIGTATT_PARAM_ENUM},
    {"high_noise_frac", AIGTATT_PARAM_FLOAT},    {"refine_steps", AIGTATT_PARAM_INT},
    {"apply_watermark", AIGTATT_PARAM_BOOL},     {"lora_scale", AIGTATT_PARAM_FLOAT},
    {"disable_safety_checker", AIGTATT_PARAM_BOOL}, {"replicate_weights", AIGTATT_PARAM_STRING},
    {"image", AIGTATT_PARAM_STRING},             {"mask", AIGTATT_PARAM_STRING},
    {"num_outputs", AIGTATT_PARAM_INT},
};

static json_t *fixed_input(const aigtatt_params *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "width", json_integer(pv_host->param_int(p, "width")));
    json_object_set_new(o, "height", json_integer(pv_host->param_int(p, "height")));
    for (size_t i = 0; i < sizeof rp_optional / sizeof rp_optional[0]; i++) {
        const char *n = rp_optional[i].name;
        if (!pv_host->param_is_set(p, n))
            continue;
        switch (rp_optional[i].type) {
        case AIGTATT_PARAM_INT:
            json_object_set_new(o, n, json_integer(pv_host->param_int(p, n)));
            break;
        case AIGTATT_PARAM_FLOAT:
            json_object_set_new(o, n, json_real(pv_host->param_float(p, n)));
            break;
        case AIGTATT_PARAM_BOOL:
            json_object_set_new(o, n, json_boolean(pv_host->param_bool(p, n)));
            break;
        default: {
            const char *s = pv_host->param_string(p, n);
            if (s && *s)
                json_object_set_new(o, n, json_string(s));
        }
        }
    }
    return o;
}

static int rp_build(void *ctx, const pv_unit *u, json_t **request, char *endpoint, size_t size)
{
    rp_img *m = ctx;
    json_t *input = json_deep_copy(m->fixed);
    json_object_set_new(input, "prompt", json_string(u->rec->text));
    json_object_set_new(input, "seed", json_integer((json_int_t)u->seed));
    pv_json_merge(input, m->extra);
    json_t *req = json_object();
    if (m->ref.version[0]) {
        json_object_set_new(req, "version", json_string(m->ref.version));
        snprintf(endpoint, size, "%s/predictions", m->api.base);
    } else {
        snprintf(endpoint, size, "%s/models/%s/%s/predictions", m->api.base, m->ref.owner, m->ref.name);
    }
    if (!input || !req || json_object_set_new(req, "input", input)) {
        json_decref(req);
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    *request = req;
    return AIGTATT_OK;
}

/* Creates the prediction; *obj is the answer. */
static int create(rp_img *m, const json_t *request, const char *endpoint, json_t **obj, pv_verdict *verdict)
{
    char *body = json_dumps(request, PV_DUMP);
    if (!body) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    char prefer[32];
    snprintf(prefer, sizeof prefer, "wait=%lld", (long long)m->wait_s);
    aigtatt_http_header h[] = {{"Prefer", prefer}};
    pv_call c = {.method = "POST", .url = endpoint, .content_type = "application/json", .body = body,
                 .body_len = strlen(body), .headers = h, .n_headers = m->wait_s > 0 ? 1 : 0, .auth = 1,
                 .retry_post = AIGTATT_HTTP_RETRY_POST_IF_NOT_SENT, .hold_s = m->wait_s,
                 .what = "create prediction"};
    aigtatt_http_response *r = NULL;
    int st;
    int rc = pv_request(&m->api, &c, &r, &st, verdict);
    free(body);
    if (rc == AIGTATT_OK) {
        *obj = pv_json_body(r, "create prediction");
        if (!*obj || !rp_id_ok(pv_jstr(*obj, "id")) || !pv_jstr(*obj, "status")) {
            if (*obj)
                pv_error("create prediction: the answer has no usable id or status");
            json_decref(*obj);
            *obj = NULL;
            *verdict = PV_ITEM;
            rc = AIGTATT_ERR_FORMAT;
        }
    }
    pv_host->http_response_free(r);
    return rc;
}

/* The first output file's URL (SDXL answers a list of URLs; some models a
 * single string). */
static const char *first_output(const json_t *obj, size_t *count)
{
    json_t *o = json_object_get(obj, "output");
    *count = 0;
    if (json_is_string(o)) {
        *count = 1;
        return json_string_value(o);
    }
    if (json_is_array(o)) {
        *count = json_array_size(o);
        json_t *f = json_array_get(o, 0);
        return json_is_string(f) ? json_string_value(f) : NULL;
    }
    return NULL;
}

static int rp_generate(void *ctx, const pv_unit *u, const json_t *request, const char *endpoint, pv_blob *img,
                       json_t *meta, pv_verdict *verdict)
{
    rp_img *m = ctx;
    json_t *obj = NULL;
    int rc, st;
    /* A prediction a stopped run left running: poll it rather than pay
     * again. */
    json_t *pending = pv_store_get(u->store, u->key, ".pending.json", 0);
    const char *pid = pending ? pv_jstr(pending, "id") : NULL;
    if (pid && rp_id_ok(pid)) {
        rc = rp_get(&m->api, "predictions", pid, &obj, &st, verdict);
        const char *status = obj ? pv_jstr(obj, "status") : NULL;
        if (rc == AIGTATT_OK && rp_resumable(status)) {
            pv_host->log(AIGTATT_LOG_INFO, "prompt %s: resuming prediction %s (%s)", u->rec->id, pid, status);
        } else {
            /* only a prediction the server no longer knows is given up; a
             * failed look-up keeps it for the next run */
            if (rc != AIGTATT_OK && st != 404) {
                json_decref(pending);
                json_decref(obj);
                return rc;
            }
            pv_host->log(AIGTATT_LOG_INFO, "prompt %s: prediction %s of an earlier run cannot be used (%s); "
                         "starting a new one", u->rec->id, pid, status ? status : "not found");
            pv_store_drop(u->store, u->key, ".pending.json");
            json_decref(obj);
            obj = NULL;
        }
    }
    json_decref(pending);
    int64_t t0 = pv_now_ms();
    if (!obj) {
        rc = create(m, request, endpoint, &obj, verdict);
        if (rc)
            return rc;
        atomic_fetch_add(&m->predictions, 1);
        json_t *pj = json_pack("{ss ss? ss}", "id", pv_jstr(obj, "id"), "created_at", pv_jstr(obj, "created_at"),
                               "endpoint", endpoint);
        rc = pj ? pv_store_put(u->store, u->key, ".pending.json", pj) : AIGTATT_ERR_NOMEM;
        json_decref(pj);
        if (rc) {
            json_decref(obj);
            *verdict = PV_FATAL;
            return rc;
        }
    }
    char id[160];
    snprintf(id, sizeof id, "%s", pv_jstr(obj, "id"));
    rc = rp_wait(&m->api, "predictions", &obj, m->poll_ms, t0 + m->deadline_s * 1000, verdict);
    if (rc) {
        /* a timeout canceled it: nothing to resume */
        if (*verdict == PV_ITEM && pv_now_ms() >= t0 + m->deadline_s * 1000)
            pv_store_drop(u->store, u->key, ".pending.json");
        json_decref(obj);
        return rc;
    }
    const char *status = pv_jstr(obj, "status");
    json_t *metrics = json_object_get(obj, "metrics");
    json_t *pt = json_object_get(metrics, "predict_time");
    if (json_is_number(pt))
        atomic_fetch_add(&m->predict_us, (uint64_t)(json_number_value(pt) * 1e6));
    if (strcmp(status, "succeeded") != 0) {
        const char *err = pv_jstr(obj, "error");
        pv_error("prediction %s %s%s%s", id, status, err ? ": " : "", err ? err : "");
        pv_store_drop(u->store, u->key, ".pending.json");
        json_decref(obj);
        *verdict = PV_ITEM;
        return AIGTATT_ERR_IO;
    }
    size_t nout;
    const char *url = first_output(obj, &nout);
    if (!url) {
        pv_error("prediction %s succeeded without an output file", id);
        pv_store_drop(u->store, u->key, ".pending.json");
        json_decref(obj);
        *verdict = PV_ITEM;
        return AIGTATT_ERR_FORMAT;
    }
    if (nout > 1)
        pv_host->log(AIGTATT_LOG_WARN, "prediction %s made %zu files; keeping the first (set num_outputs: 1)", id, nout);
    rc = rp_download(&m->api, url, img, verdict, &st);
    if (rc) {
        /* gone for good (outputs live an hour): the next run starts anew */
        if (st == 404 || st == 410)
            pv_store_drop(u->store, u->key, ".pending.json");
        json_decref(obj);
        return rc;
    }
    json_t *input = json_object_get(request, "input");
    json_t *seed = json_object_get(input, "seed");
    json_object_set_new(meta, "provider", json_string("replicate"));
    json_object_set_new(meta, "prediction_id", json_string(id));
    if (pv_jstr(obj, "model"))
        json_object_set_new(meta, "model", json_string(pv_jstr(obj, "model")));
    if (pv_jstr(obj, "version"))
        json_object_set_new(meta, "version", json_string(pv_jstr(obj, "version")));
    else if (m->ref.version[0])
        json_object_set_new(meta, "version", json_string(m->ref.version));
    if (json_is_integer(seed))
        json_object_set(meta, "seed", seed);
    if (json_is_number(pt))
        json_object_set(meta, "predict_time", pt);
    if (pv_jstr(obj, "created_at"))
        json_object_set_new(meta, "created_at", json_string(pv_jstr(obj, "created_at")));
    json_t *in = json_deep_copy(input);
    json_object_del(in, "prompt");
    json_object_set_new(meta, "input", in);
    json_decref(obj);
    return AIGTATT_OK;
}

static void rp_usage(void *ctx, char *buf, size_t size, json_t *summary)
{
    rp_img *m = ctx;
    unsigned long long n = atomic_load(&m->predictions);
    double secs = (double)atomic_load(&m->predict_us) / 1e6;
    snprintf(buf, size, "%llu prediction%s created, %.1f s of model time billed", n, n == 1 ? "" : "s", secs);
    if (summary)
        json_object_set_new(summary, "usage", json_pack("{sI sf}", "predictions_created", (json_int_t)n,
                                                        "predict_time_s", secs));
    double ppi = pv_price(m->p, "price_per_image"), pps = pv_price(m->p, "price_per_second");
    char basis[256] = "";
    if (ppi > 0)
        snprintf(basis, sizeof basis, "%llu predictions x $%g", n, ppi);
    if (pps > 0)
        snprintf(basis + strlen(basis), sizeof basis - strlen(basis), "%s%.1f s x $%g/s", ppi > 0 ? " + " : "",
                 secs, pps);
    pv_cost_add(summary, buf, size, ppi > 0 || pps > 0, (double)n * ppi + secs * pps, basis);
}

/* The version a finetune.replicate node made (its model_version port). */
static int read_version_port(aigtatt_run *run, rp_ref *ref)
{
    const char *dir = pv_host->run_input_dir(run, "model_version");
    if (!dir)
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/model_version.json", dir);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    const char *v = json_is_object(j) ? pv_jstr(j, "ref") : NULL;
    if (!v) {
        pv_error("model_version input: %s is not a model version file (%s)", path, err.text);
        json_decref(j);
        return -1;
    }
    int rc = rp_parse_ref(v, ref, 1, "model_version input");
    json_decref(j);
    if (rc)
        return -1;
    if (pv_host->param_is_set(pv_host->run_params(run), "model"))
        pv_host->log(AIGTATT_LOG_WARN, "the model_version input replaces the model parameter");
    return 1;
}

static int rp_image_check(const aigtatt_params *p)
{
    rp_ref r;
    int rc = rp_parse_ref(pv_host->param_string(p, "model"), &r, 0, "model");
    if (rc)
        return rc;
    int64_t wait = pv_host->param_int(p, "wait_s");
    if (wait > 0 && pv_host->param_float(p, "timeout_s") < (double)wait + 5) {
        pv_host->set_error("timeout_s must exceed wait_s by at least 5 s (the server holds the answer up to wait_s)");
        return AIGTATT_ERR_INVALID;
    }
    const aigtatt_cfg *extra = pv_host->param_cfg(p, "extra_input");
    if (extra && pv_host->cfg_type(extra) != AIGTATT_CFG_MAP) {
        pv_host->set_error("extra_input must be a mapping of model input names to values");
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

static int rp_image_run(aigtatt_run *run)
{
    const aigtatt_params *p = pv_host->run_params(run);
    int rc = rp_image_check(p);
    if (rc)
        return rc;
    rp_img m;
    memset(&m, 0, sizeof m);
    m.p = p;
    int port = read_version_port(run, &m.ref);
    if (port < 0)
        return AIGTATT_ERR_INVALID;
    if (!port && (rc = rp_parse_ref(pv_host->param_string(p, "model"), &m.ref, 0, "model")))
        return rc;
    m.wait_s = pv_host->param_int(p, "wait_s");
    m.poll_ms = (int64_t)(pv_host->param_float(p, "poll_interval_s") * 1000);
    m.deadline_s = (int64_t)pv_host->param_float(p, "prediction_timeout_s");
    m.fixed = fixed_input(p);
    m.extra = pv_cfg_to_json(pv_host->param_cfg(p, "extra_input"));
    if (!m.fixed || !json_is_object(m.extra)) {
        json_decref(m.fixed);
        json_decref(m.extra);
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    rc = pv_api_init(&m.api, p, "Bearer");
    if (rc == AIGTATT_OK) {
        static const pv_image_provider prov = {.component = "image.replicate", .seeded = 1, .build = rp_build,
                                               .generate = rp_generate, .usage = rp_usage};
        rc = pv_images_run(run, &prov, &m, &m.api);
    }
    pv_api_free(&m.api);
    json_decref(m.fixed);
    json_decref(m.extra);
    return rc;
}

#define OPT(nm, ty, doc_) {.name = nm, .type = ty, .default_value = "~", .doc = doc_}

static const aigtatt_param_desc rp_image_params[] = {
    {.name = "model", .type = AIGTATT_PARAM_STRING, .default_value = RP_SDXL,
     .doc = "owner/model:version (community and fine-tuned models), owner/model (official models, latest "
            "version) or a version id; a connected model_version input replaces it."},
    {.name = "width", .type = AIGTATT_PARAM_INT, .default_value = "1024", .has_min = 1, .min = 64, .has_max = 1,
     .max = 4096, .doc = "Image width in pixels (input 'width')."},
    {.name = "height", .type = AIGTATT_PARAM_INT, .default_value = "1024", .has_min = 1, .min = 64, .has_max = 1,
     .max = 4096, .doc = "Image height in pixels (input 'height')."},
    OPT("negative_prompt", AIGTATT_PARAM_STRING, "What the image should not show (SDXL default: none)."),
    {.name = "scheduler", .type = AIGTATT_PARAM_ENUM, .default_value = "~",
     .choices = "DDIM|DPMSolverMultistep|HeunDiscrete|KarrasDPM|K_EULER_ANCESTRAL|K_EULER|PNDM",
     .doc = "Sampler (SDXL default: K_EULER)."},
    {.name = "num_inference_steps", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 1,
     .has_max = 1, .max = 500, .doc = "Denoising steps (SDXL default: 50)."},
    {.name = "guidance_scale", .type = AIGTATT_PARAM_FLOAT, .default_value = "~", .has_min = 1, .min = 1,
     .has_max = 1, .max = 50, .doc = "Classifier-free guidance scale (SDXL default: 7.5)."},
    {.name = "prompt_strength", .type = AIGTATT_PARAM_FLOAT, .default_value = "~", .has_min = 1, .min = 0,
     .has_max = 1, .max = 1, .doc = "How much an input image is changed in img2img/inpainting (default 0.8)."},
    {.name = "refine", .type = AIGTATT_PARAM_ENUM, .default_value = "~",
     .choices = "no_refiner|expert_ensemble_refiner|base_image_refiner",
     .doc = "Refiner pass (SDXL default: no_refiner)."},
    {.name = "high_noise_frac", .type = AIGTATT_PARAM_FLOAT, .default_value = "~", .has_min = 1, .min = 0,
     .has_max = 1, .max = 1, .doc = "Share of steps the base model runs with expert_ensemble_refiner (default 0.8)."},
    {.name = "refine_steps", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 1,
     .has_max = 1, .max = 500, .doc = "Steps of base_image_refiner (default: num_inference_steps)."},
    OPT("apply_watermark", AIGTATT_PARAM_BOOL,
        "Invisible watermark on the output (SDXL default: true); false for training data you do not publish."),
    {.name = "lora_scale", .type = AIGTATT_PARAM_FLOAT, .default_value = "~", .has_min = 1, .min = 0,
     .has_max = 1, .max = 1, .doc = "LoRA strength of fine-tuned versions (default 0.6)."},
    OPT("disable_safety_checker", AIGTATT_PARAM_BOOL, "Skip the NSFW checker (API only; default false)."),
    OPT("replicate_weights", AIGTATT_PARAM_STRING, "URL of LoRA weights to load (a training's 'weights' output)."),
    OPT("image", AIGTATT_PARAM_STRING, "URL of an input image for img2img or inpainting."),
    OPT("mask", AIGTATT_PARAM_STRING, "URL of an inpainting mask (white is repainted)."),
    {.name = "num_outputs", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 1,
     .has_max = 1, .max = 4,
     .doc = "Images per prediction (SDXL default 1; only the first is kept: use images_per_prompt)."},
    {.name = "extra_input", .type = AIGTATT_PARAM_MAP, .default_value = "{}",
     .doc = "Further model inputs passed as they are (e.g. {output_format: png}); they override the fields "
            "above, and null removes a field."},
    {.name = "wait_s", .type = AIGTATT_PARAM_INT, .default_value = "60", .has_min = 1, .min = 0, .has_max = 1,
     .max = 60, .no_key = 1, .doc = "Prefer: wait=N: the server holds the create call up to N s for a quick answer; 0 polls "
                       "from the start."},
    {.name = "poll_interval_s", .type = AIGTATT_PARAM_FLOAT, .default_value = "2", .has_min = 1, .min = 0.01,
     .has_max = 1, .max = 600, .no_key = 1, .doc = "Seconds between status checks of a running prediction."},
    {.name = "prediction_timeout_s", .type = AIGTATT_PARAM_FLOAT, .default_value = "900", .has_min = 1,
     .min = 1, .has_max = 1, .max = 86400,
     .doc = "A prediction still running after this long is canceled (so it costs no more) and counts as "
            "failed."},
    PV_SEED_PARAM,
    PV_IMAGE_PARAMS("4"),
    PV_PRICE_IMAGE_PARAM,
    PV_PRICE_SECOND_PARAM("model time"),
    PV_NET_PARAMS("https://api.replicate.com/v1", "no", "REPLICATE_API_TOKEN", "120"),
    PV_STORE_PARAMS,
    {.name = NULL},
};

static const aigtatt_port_desc rp_image_in[] = {
    {.name = "prompts", .type = "prompts", .doc = "One prompt record per tattoo identity."},
    {.name = "model_version", .type = "model_version", .optional = 1,
     .doc = "A version made by finetune.replicate; replaces the model parameter."},
    {.name = NULL},
};
static const aigtatt_port_desc rp_image_out[] = {
    {.name = "images", .type = "images",
     .doc = "<identity>/original.png per prompt, role 'original', with prediction id, model, version, seed, "
            "input and predict time in meta; provider.json holds the summary (requests, retries, bytes, model "
            "time, cost)."},
    {.name = NULL},
};

static const aigtatt_node_vtable rp_image_vt = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = rp_image_check,
    .run = rp_image_run,
};

const aigtatt_component_desc rp_image_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_IMAGE_SOURCE,
    .name = "image.replicate",
    .version = "1.1.0",
    .summary = "Images from Replicate predictions: SDXL, a fine-tuned SDXL version, or any prompt-to-image model",
    .doc = "Runs one prediction per image with Prefer: wait, polls it until it succeeds, fails or is canceled, "
           "downloads the output at once (Replicate deletes it after an hour) and checks it decodes. Each "
           "image's seed is derived from the node seed and the prompt id unless seed is set. Every finished "
           "image goes to the resume store immediately, and a prediction still running when a run stops is "
           "picked up by the next run, so nothing is paid twice. Key: REPLICATE_API_TOKEN.",
    AIGTATT_PARAMS(rp_image_params),
    AIGTATT_PORTS(rp_image_in, rp_image_out),
    .vtable = &rp_image_vt,
};
