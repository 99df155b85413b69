/* image.openai: the images API (POST /images/generations), gpt-image-1 by
 * default, dall-e-3 / dall-e-2 where still served. One request per image
 * (n = 1), the base64 answer decoded and checked, kept in the resume
 * store at once. The API takes no seed: images_per_prompt > 1 asks again
 * with the same prompt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "po.h"

typedef struct po_img {
    pv_api api;
    const aigtatt_params *p;
    json_t *fixed, *extra;
    int dalle;
    _Atomic uint64_t tok_in, tok_out, tok_total, images;
} po_img;

static const char *const po_optional[] = {"quality", "background", "output_format", "output_compression",
                                          "moderation", "style", NULL};

static int po_image_build(void *ctx, const pv_unit *u, json_t **request, char *endpoint, size_t size)
{
    po_img *m = ctx;
    json_t *r = json_deep_copy(m->fixed);
    if (!r) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    json_object_set_new(r, "prompt", json_string(u->rec->text));
    pv_json_merge(r, m->extra);
    snprintf(endpoint, size, "%s/images/generations", m->api.base);
    *request = r;
    return AIGTATT_OK;
}

static int po_image_generate(void *ctx, const pv_unit *u, const json_t *request, const char *endpoint, pv_blob *img,
                             json_t *meta, pv_verdict *verdict)
{
    po_img *m = ctx;
    char *body = json_dumps(request, PV_DUMP);
    if (!body) {
        pv_host->set_error("out of memory");
        *verdict = PV_FATAL;
        return AIGTATT_ERR_NOMEM;
    }
    aigtatt_http_header h[2];
    size_t nh = po_org_headers(m->p, h);
    pv_call c = {.method = "POST", .url = endpoint, .content_type = "application/json", .body = body,
                 .body_len = strlen(body), .headers = h, .n_headers = nh, .auth = 1,
                 .retry_post = AIGTATT_HTTP_RETRY_POST_IF_NOT_SENT, .hold_s = m->api.timeout_ms / 1000,
                 .what = "generate image"};
    aigtatt_http_response *r = NULL;
    int st;
    int rc = pv_request(&m->api, &c, &r, &st, verdict);
    free(body);
    if (rc) {
        pv_host->http_response_free(r);
        return rc;
    }
    const char *reqid = pv_host->http_header(r, "x-request-id");
    json_t *j = pv_json_body(r, "generate image");
    if (reqid)
        json_object_set_new(meta, "request_id", json_string(reqid));
    pv_host->http_response_free(r);
    if (!j) {
        *verdict = PV_ITEM;
        return AIGTATT_ERR_FORMAT;
    }
    json_t *d = json_array_get(json_object_get(j, "data"), 0);
    const char *b64 = pv_jstr(d, "b64_json");
    const char *url = pv_jstr(d, "url");
    if (b64) {
        if (pv_b64_decode(b64, strlen(b64), img) != 0) {
            pv_host->set_error("generate image: data[0].b64_json is not valid base64");
            json_decref(j);
            *verdict = PV_ITEM;
            return AIGTATT_ERR_FORMAT;
        }
    } else if (url) {
        aigtatt_http_response *dr = NULL;
        pv_call dc = {.method = "GET", .url = url, .auth = pv_same_origin(url, m->api.base), .max_redirects = 3,
                      .what = "download image"};
        rc = pv_request(&m->api, &dc, &dr, &st, verdict);
        if (rc == AIGTATT_OK) {
            img->data = malloc(dr->body_len ? dr->body_len : 1);
            if (img->data) {
                memcpy(img->data, dr->body, dr->body_len);
                img->len = dr->body_len;
            } else {
                rc = AIGTATT_ERR_NOMEM;
                *verdict = PV_FATAL;
                pv_host->set_error("out of memory");
            }
        }
        pv_host->http_response_free(dr);
        if (rc) {
            json_decref(j);
            return rc;
        }
    } else {
        pv_host->set_error("generate image: the answer has no data[0].b64_json or url");
        json_decref(j);
        *verdict = PV_ITEM;
        return AIGTATT_ERR_FORMAT;
    }
    json_object_set_new(meta, "provider", json_string("openai"));
    json_object_set(meta, "model", json_object_get(request, "model"));
    if (pv_jstr(d, "revised_prompt"))
        json_object_set_new(meta, "revised_prompt", json_string(pv_jstr(d, "revised_prompt")));
    if (json_is_integer(json_object_get(j, "created")))
        json_object_set(meta, "created", json_object_get(j, "created"));
    json_t *usage = json_object_get(j, "usage");
    if (json_is_object(usage)) {
        json_object_set(meta, "usage", usage);
        json_t *a = json_object_get(usage, "input_tokens"), *b = json_object_get(usage, "output_tokens"),
               *t = json_object_get(usage, "total_tokens");
        if (json_is_integer(a))
            atomic_fetch_add(&m->tok_in, (uint64_t)json_integer_value(a));
        if (json_is_integer(b))
            atomic_fetch_add(&m->tok_out, (uint64_t)json_integer_value(b));
        if (json_is_integer(t))
            atomic_fetch_add(&m->tok_total, (uint64_t)json_integer_value(t));
    }
    json_t *in = json_deep_copy(request);
    json_object_del(in, "prompt");
    json_object_set_new(meta, "input", in);
    atomic_fetch_add(&m->images, 1);
    json_decref(j);
    (void)u;
    return AIGTATT_OK;
}

static void po_image_usage(void *ctx, char *buf, size_t size, json_t *summary)
{
    po_img *m = ctx;
    unsigned long long n = atomic_load(&m->images), ti = atomic_load(&m->tok_in), to = atomic_load(&m->tok_out),
                       tt = atomic_load(&m->tok_total);
    if (tt)
        snprintf(buf, size, "%llu images billed; usage %llu input + %llu output tokens", n, ti, to);
    else
        snprintf(buf, size, "%llu images billed", n);
    if (summary) {
        json_t *u = json_pack("{sI}", "images_billed", (json_int_t)n);
        if (tt) {
            json_object_set_new(u, "input_tokens", json_integer((json_int_t)ti));
            json_object_set_new(u, "output_tokens", json_integer((json_int_t)to));
            json_object_set_new(u, "total_tokens", json_integer((json_int_t)tt));
        }
        json_object_set_new(summary, "usage", u);
    }
    double ppi = pv_price(m->p, "price_per_image"), pin = pv_price(m->p, "price_per_1m_input_tokens"),
           pout = pv_price(m->p, "price_per_1m_output_tokens");
    char basis[256] = "";
    double usd = 0;
    if (ppi > 0) {
        usd += (double)n * ppi;
        snprintf(basis, sizeof basis, "%llu images x $%g", n, ppi);
    }
    if (pin > 0 || pout > 0) {
        usd += (double)ti * pin / 1e6 + (double)to * pout / 1e6;
        snprintf(basis + strlen(basis), sizeof basis - strlen(basis), "%s%llu + %llu tokens at $%g + $%g per 1M",
                 basis[0] ? " + " : "", ti, to, pin, pout);
    }
    pv_cost_add(summary, buf, size, ppi > 0 || pin > 0 || pout > 0, usd, basis);
}

static int po_image_check(const aigtatt_params *p)
{
    const aigtatt_cfg *extra = pv_host->param_cfg(p, "extra_input");
    if (extra && pv_host->cfg_type(extra) != AIGTATT_CFG_MAP) {
        pv_host->set_error("extra_input must be a mapping of request fields to values");
        return AIGTATT_ERR_INVALID;
    }
    const char *model = pv_host->param_string(p, "model");
    if (!strcmp(model, "dall-e-3") && pv_host->param_int(p, "images_per_prompt") > 1)
        pv_host->log(AIGTATT_LOG_DEBUG, "dall-e-3 takes n=1: each image is its own request");
    return AIGTATT_OK;
}

static int po_image_run(aigtatt_run *run)
{
    const aigtatt_params *p = pv_host->run_params(run);
    int rc = po_image_check(p);
    if (rc)
        return rc;
    po_img m;
    memset(&m, 0, sizeof m);
    m.p = p;
    const char *model = pv_host->param_string(p, "model");
    m.dalle = !strncmp(model, "dall-e", 6);
    m.fixed = json_pack("{ss si ss}", "model", model, "n", 1, "size", pv_host->param_string(p, "size"));
    m.extra = pv_cfg_to_json(pv_host->param_cfg(p, "extra_input"));
    if (!m.fixed || !json_is_object(m.extra)) {
        json_decref(m.fixed);
        json_decref(m.extra);
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    /* dall-e answers URLs unless asked; gpt-image-1 always answers base64
     * and refuses the field. */
    if (m.dalle)
        json_object_set_new(m.fixed, "response_format", json_string("b64_json"));
    for (size_t i = 0; po_optional[i]; i++) {
        const char *n = po_optional[i];
        if (!pv_host->param_is_set(p, n))
            continue;
        if (!strcmp(n, "output_compression"))
            json_object_set_new(m.fixed, n, json_integer(pv_host->param_int(p, n)));
        else
            json_object_set_new(m.fixed, n, json_string(pv_host->param_string(p, n)));
    }
    rc = pv_api_init(&m.api, p, "Bearer");
    if (rc == AIGTATT_OK) {
        static const pv_image_provider prov = {.component = "image.openai", .build = po_image_build,
                                               .generate = po_image_generate, .usage = po_image_usage};
        rc = pv_images_run(run, &prov, &m, &m.api);
    }
    pv_api_free(&m.api);
    json_decref(m.fixed);
    json_decref(m.extra);
    return rc;
}

static const aigtatt_param_desc po_image_params[] = {
    {.name = "model", .type = AIGTATT_PARAM_STRING, .default_value = "gpt-image-1",
     .doc = "gpt-image-1, or dall-e-3 / dall-e-2 where still served."},
    {.name = "size", .type = AIGTATT_PARAM_STRING, .default_value = "1024x1024",
     .doc = "WxH as the model allows (gpt-image-1: 1024x1024, 1536x1024, 1024x1536, auto; dall-e-3: 1024x1024, "
            "1792x1024, 1024x1792)."},
    {.name = "quality", .type = AIGTATT_PARAM_STRING, .default_value = "~",
     .doc = "gpt-image-1: low, medium, high, auto; dall-e-3: standard, hd (unset: the model's default)."},
    {.name = "background", .type = AIGTATT_PARAM_ENUM, .default_value = "~", .choices = "auto|transparent|opaque",
     .doc = "gpt-image-1 only: transparent gives RGBA (png)."},
    {.name = "output_format", .type = AIGTATT_PARAM_ENUM, .default_value = "~", .choices = "png|jpeg",
     .doc = "gpt-image-1 only (default png); webp is not offered because aigtatt cannot read it."},
    {.name = "output_compression", .type = AIGTATT_PARAM_INT, .default_value = "~", .has_min = 1, .min = 0,
     .has_max = 1, .max = 100, .doc = "gpt-image-1 with jpeg: compression level 0-100."},
    {.name = "moderation", .type = AIGTATT_PARAM_ENUM, .default_value = "~", .choices = "auto|low",
     .doc = "gpt-image-1 only: content moderation strictness."},
    {.name = "style", .type = AIGTATT_PARAM_ENUM, .default_value = "~", .choices = "vivid|natural",
     .doc = "dall-e-3 only."},
    {.name = "extra_input", .type = AIGTATT_PARAM_MAP, .default_value = "{}",
     .doc = "Further request fields passed as they are; they override the ones above, null removes one."},
    PO_ORG_PARAMS,
    PV_IMAGE_PARAMS("4"),
    PV_PRICE_IMAGE_PARAM,
    PV_PRICE_TOKEN_PARAMS,
    PV_NET_PARAMS("https://api.openai.com/v1", "no", "OPENAI_API_KEY", "300"),
    PV_STORE_PARAMS,
    {.name = NULL},
};

static const aigtatt_port_desc po_image_in[] = {
    {.name = "prompts", .type = "prompts", .doc = "One prompt record per tattoo identity."},
    {.name = NULL},
};
static const aigtatt_port_desc po_image_out[] = {
    {.name = "images", .type = "images",
     .doc = "<identity>/original.png per prompt, role 'original', with model, request id, revised prompt and "
            "token usage in meta; provider.json holds the summary (requests, retries, bytes, usage, cost)."},
    {.name = NULL},
};

static const aigtatt_node_vtable po_image_vt = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = po_image_check,
    .run = po_image_run,
};

const aigtatt_component_desc po_image_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_IMAGE_SOURCE,
    .name = "image.openai",
    .version = "1.1.0",
    .summary = "Images from OpenAI's images API (gpt-image-1; dall-e-3 where served)",
    .doc = "One generation request per image, the base64 answer decoded and checked, each finished image kept in "
           "the resume store at once. The API takes no seed, so images are not reproducible across providers' "
           "model updates; the request and OpenAI's request id are recorded in meta. Key: OPENAI_API_KEY.",
    AIGTATT_PARAMS(po_image_params),
    AIGTATT_PORTS(po_image_in, po_image_out),
    .vtable = &po_image_vt,
};
