/* image.sdapi: images from a local Stable Diffusion server speaking the
 * AUTOMATIC1111 / Forge API (POST /sdapi/v1/txt2img; stable-diffusion.cpp's
 * server speaks it too). One request per image with its own seed, the
 * base64 PNG decoded and checked, the seed and checkpoint the server
 * reports (its "info") recorded. A server started with --api-auth takes
 * "user:password" from the variable named by api_key_env (HTTP Basic). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pv.h"

typedef struct sd_img {
    pv_api api;
    json_t *fixed, *extra;
    _Atomic uint64_t images;
    char model[256];
} sd_img;

static const struct {
    const char *name;
    aigtatt_param_type type;
} sd_optional[] = {
    {"negative_prompt", AIGTATT_PARAM_STRING}, {"sampler_name", AIGTATT_PARAM_STRING},
    {"scheduler", AIGTATT_PARAM_STRING},       {"enable_hr", AIGTATT_PARAM_BOOL},
    {"hr_scale", AIGTATT_PARAM_FLOAT},         {"hr_upscaler", AIGTATT_PARAM_STRING},
    {"hr_second_pass_steps", AIGTATT_PARAM_INT}, {"denoising_strength", AIGTATT_PARAM_FLOAT},
    {"restore_faces", AIGTATT_PARAM_BOOL},     {"tiling", AIGTATT_PARAM_BOOL},
};

static json_t *sd_fixed(const aigtatt_params *p)
{
    json_t *o = json_pack("{sI sI sI sf si si sb sb}", "width", (json_int_t)pv_host->param_int(p, "width"), "height",
                          (json_int_t)pv_host->param_int(p, "height"), "steps",
                          (json_int_t)pv_host->param_int(p, "steps"), "cfg_scale", pv_host->param_float(p, "cfg_scale"),
                          "batch_size", 1, "n_iter", 1, "send_images", 1, "save_images", 0);
    if (!o)
        return NULL;
    for (size_t i = 0; i < sizeof sd_optional / sizeof sd_optional[0]; i++) {
        const char *n = sd_optional[i].name;
        if (!pv_host->param_is_set(p, n))
            continue;
        switch (sd_optional[i].type) {
        case AIGTATT_PARAM_INT:
            json_object_set_new(o, n, json_integer(pv_host->param_int(p, n)));
            break;
        case AIGTATT_PARAM_FLOAT:
            json_object_set_new(o, n, json_real(pv_host->param_float(p, n)));
            break;
        case AIGTATT_PARAM_BOOL:
            json_object_set_new(o, n, json_boolean(pv_host->param_bool(p, n)));
            break;
        default:
            json_object_set_new(o, n, json_string(pv_host->param_string(p, n)));
        }
    }
    json_t *ov = json_object();
    if (pv_host->param_is_set(p, "checkpoint"))
        json_object_set_new(ov, "sd_model_checkpoint", json_string(pv_host->param_string(p, "checkpoint")));
    if (pv_host->param_is_set(p, "clip_skip"))
        json_object_set_new(ov, "CLIP_stop_at_last_layers", json_integer(pv_host->param_int(p, "clip_skip")));
    if (json_object_size(ov)) {
        json_object_set_new(o, "override_settings", ov);
        json_object_set_new(o, "override_settings_restore_afterwards", json_true());
    } else {
        json_decref(ov);
    }
    return o;
}

static int sd_build(void *ctx, const pv_unit *u, json_t **request, char *endpoint, size_t size)
{
    sd_img *m = ctx;
    json_t *r = json_deep_copy(m->fixed);
    if (!r) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    json_object_set_new(r, "prompt", json_string(u->rec->text));
    json_object_set_new(r, "seed", json_integer((json_int_t)u->seed));
    pv_json_merge(r, m->extra);
    snprintf(endpoint, size, "%s/sdapi/v1/txt2img", m->api.base);
    *request = r;
    return AIGTATT_OK;
}

static int sd_generate(void *ctx, const pv_unit *u, const json_t *request, const char *endpoint, pv_blob *img,
                       json_t *meta, pv_verdict *verdict)
{
    sd_img *m = ctx;
    char *body = json_dumps(request, PV_DUMP);
    if (!body) {
        pv_host->set_error("out of memory");
        *verdict = PV_FATAL;
        return AIGTATT_ERR_NOMEM;
    }
    pv_call c = {.method = "POST", .url = endpoint, .content_type = "application/json", .body = body,
                 .body_len = strlen(body), .auth = 1, .retry_post = AIGTATT_HTTP_RETRY_POST_IF_NOT_SENT,
                 .hold_s = m->api.timeout_ms / 1000, .what = "txt2img"};
    aigtatt_http_response *r = NULL;
    int st;
    int rc = pv_request(&m->api, &c, &r, &st, verdict);
    free(body);
    json_t *j = rc == AIGTATT_OK ? pv_json_body(r, "txt2img") : NULL;
    pv_host->http_response_free(r);
    if (rc)
        return rc;
    if (!j) {
        *verdict = PV_ITEM;
        return AIGTATT_ERR_FORMAT;
    }
    const char *b64 = json_string_value(json_array_get(json_object_get(j, "images"), 0));
    if (!b64 || pv_b64_decode(b64, strlen(b64), img) != 0) {
        pv_host->set_error("txt2img: the answer has no base64 image in images[0]");
        json_decref(j);
        *verdict = PV_ITEM;
        return AIGTATT_ERR_FORMAT;
    }
    json_object_set_new(meta, "provider", json_string("sdapi"));
    json_t *seed = json_object_get(request, "seed");
    if (json_is_integer(seed))
        json_object_set(meta, "seed", seed);
    /* "info" is a JSON document in a string: the seed actually used and
     * the checkpoint. */
    const char *info = pv_jstr(j, "info");
    json_t *ij = info ? json_loads(info, 0, NULL) : NULL;
    if (json_is_object(ij)) {
        json_t *s = json_object_get(ij, "seed");
        if (json_is_integer(s))
            json_object_set(meta, "seed", s);
        static const char *keep[] = {"sd_model_name", "sd_model_hash", "sampler_name", "version", NULL};
        for (size_t i = 0; keep[i]; i++)
            if (pv_jstr(ij, keep[i]))
                json_object_set_new(meta, keep[i], json_string(pv_jstr(ij, keep[i])));
    }
    json_decref(ij);
    json_t *in = json_deep_copy(request);
    json_object_del(in, "prompt");
    json_object_set_new(meta, "input", in);
    atomic_fetch_add(&m->images, 1);
    json_decref(j);
    (void)u;
    return AIGTATT_OK;
}

static void sd_usage(void *ctx, char *buf, size_t size, json_t *summary)
{
    sd_img *m = ctx;
    unsigned long long n = atomic_load(&m->images);
    snprintf(buf, size, "%llu images rendered by the server", n);
    if (summary)
        json_object_set_new(summary, "usage", json_pack("{sI}", "images_rendered", (json_int_t)n));
}

static int sd_check(const aigtatt_params *p)
{
    const aigtatt_cfg *extra = pv_host->param_cfg(p, "extra_input");
    if (extra && pv_host->cfg_type(extra) != AIGTATT_CFG_MAP) {
        pv_host->set_error("extra_input must be a mapping of txt2img fields to values");
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

static int sd_run(aigtatt_run *run)
{
    const aigtatt_params *p = pv_host->run_params(run);
    int rc = sd_check(p);
    if (rc)
        return rc;
    sd_img m;
    memset(&m, 0, sizeof m);
    m.fixed = sd_fixed(p);
    m.extra = pv_cfg_to_json(pv_host->param_cfg(p, "extra_input"));
    if (!m.fixed || !json_is_object(m.extra)) {
        json_decref(m.fixed);
        json_decref(m.extra);
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    rc = pv_api_init(&m.api, p, "Basic");
    if (rc == AIGTATT_OK) {
        static const pv_image_provider prov = {.component = "image.sdapi", .seeded = 1, .build = sd_build,
                                               .generate = sd_generate, .usage = sd_usage};
        rc = pv_images_run(run, &prov, &m, &m.api);
    }
    pv_api_free(&m.api);
    json_decref(m.fixed);
    json_decref(m.extra);
    return rc;
}

#define OPT(nm, ty, doc_) {.name = nm, .type = ty, .default_value = "~", .doc = doc_}

static const aigtatt_param_desc sd_params[] = {
    {.name = "width", .type = AIGTATT_PARAM_INT, .default_value = "1024", .has_min = 1, .min = 64, .has_max = 1,
     .max = 4096, .doc = "Image width in pixels (SDXL checkpoints: 1024)."},
    {.name = "height", .type = AIGTATT_PARAM_INT, .default_value = "1024", .has_min = 1, .min = 64, .has_max = 1,
     .max = 4096, .doc = "Image height in pixels."},
    {.name = "steps", .type = AIGTATT_PARAM_INT, .default_value = "30", .has_min = 1, .min = 1, .has_max = 1,
     .max = 500, .doc = "Sampling steps."},
    {.name = "cfg_scale", .type = AIGTATT_PARAM_FLOAT, .default_value = "7", .has_min = 1, .min = 0, .has_max = 1,
     .max = 50, .doc = "Classifier-free guidance scale."},
    OPT("negative_prompt", AIGTATT_PARAM_STRING, "What the image should not show."),
    OPT("sampler_name", AIGTATT_PARAM_STRING, "Sampler as the server names it ('Euler a', 'DPM++ 2M', ...)."),
    OPT("scheduler", AIGTATT_PARAM_STRING, "Schedule type on servers that have one ('Karras', 'Automatic', ...)."),
    OPT("checkpoint", AIGTATT_PARAM_STRING,
        "Checkpoint for these requests (override_settings.sd_model_checkpoint); unset: the loaded one."),
    {.name = "clip_skip", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 1, .has_max = 1,
     .max = 12, .doc = "CLIP layers to skip (override_settings.CLIP_stop_at_last_layers)."},
    OPT("enable_hr", AIGTATT_PARAM_BOOL, "Hires fix: upscale and refine in a second pass."),
    {.name = "hr_scale", .type = AIGTATT_PARAM_FLOAT, .default_value = "~", .has_min = 1, .min = 1, .has_max = 1,
     .max = 4, .doc = "Hires fix upscale factor."},
    OPT("hr_upscaler", AIGTATT_PARAM_STRING, "Hires fix upscaler ('Latent', 'R-ESRGAN 4x+', ...)."),
    {.name = "hr_second_pass_steps", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 0,
     .has_max = 1, .max = 500, .doc = "Hires fix steps (0: as steps)."},
    {.name = "denoising_strength", .type = AIGTATT_PARAM_FLOAT, .default_value = "~", .has_min = 1, .min = 0,
     .has_max = 1, .max = 1, .doc = "Hires fix denoising strength."},
    OPT("restore_faces", AIGTATT_PARAM_BOOL, "Face restoration pass."),
    OPT("tiling", AIGTATT_PARAM_BOOL, "Seamless tiling."),
    {.name = "extra_input", .type = AIGTATT_PARAM_MAP, .default_value = "{}",
     .doc = "Further txt2img fields passed as they are (alwayson_scripts, ...); they override the ones above, "
            "null removes one."},
    PV_SEED_PARAM,
    PV_IMAGE_PARAMS("1"),
    PV_NET_PARAMS(NULL, "loopback", "", "600"),
    PV_STORE_PARAMS,
    {.name = NULL},
};

static const aigtatt_port_desc sd_in[] = {
    {.name = "prompts", .type = "prompts", .doc = "One prompt record per tattoo identity."},
    {.name = NULL},
};
static const aigtatt_port_desc sd_out[] = {
    {.name = "images", .type = "images",
     .doc = "<identity>/original.png per prompt, role 'original', with the seed, checkpoint and request in meta; "
            "provider.json holds the summary (requests, retries, bytes)."},
    {.name = NULL},
};

static const aigtatt_node_vtable sd_vt = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = sd_check,
    .run = sd_run,
};

static const aigtatt_component_desc sd_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_IMAGE_SOURCE,
    .name = "image.sdapi",
    .version = "1.1.0",
    .summary = "Images from a local Stable Diffusion server (AUTOMATIC1111/Forge /sdapi/v1/txt2img)",
    .doc = "Sends one txt2img request per image with its own seed (derived from the node seed and the prompt id "
           "unless seed is set) and records the seed and checkpoint the server reports. base_url is required, "
           "e.g. http://127.0.0.1:7860; plain http:// is allowed to this machine (allow_http: loopback) and "
           "to other hosts only with allow_http: any. No key unless api_key_env names one holding "
           "user:password (--api-auth).",
    AIGTATT_PARAMS(sd_params),
    AIGTATT_PORTS(sd_in, sd_out),
    .vtable = &sd_vt,
};

static const aigtatt_component_desc *const sd_components[] = {&sd_desc, NULL};

static int sd_init(const aigtatt_host *host)
{
    pv_host = host;
    return AIGTATT_OK;
}

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-provider-sdapi", .version = "1.1.0", .license = "MIT",
                      .description = "Local Stable Diffusion servers speaking the AUTOMATIC1111/Forge API",
                      .components = sd_components, .init = sd_init);
