/* image.sdapi through the CLI against a fake AUTOMATIC1111 server: the
 * txt2img request, seeds reported back, loopback http by default, Basic
 * auth when asked, and failures. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/ph.h"
#include "util/hash.h"

TestSuite(sdapi, .init = ph_setup, .fini = ph_teardown, .timeout = 60);

static void experiment(const char *base, const char *extra)
{
    ph_prompts(2);
    char y[4096];
    snprintf(y, sizeof y,
             "name: sd\nseed: 9\nnodes:\n"
             "  prompts:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
             "  images:\n    use: image.sdapi\n"
             "    params: {base_url: '%s', backoff_s: 0.05%s%s}\n"
             "    inputs: {prompts: prompts}\n",
             base, extra && *extra ? ", " : "", extra ? extra : "");
    ph_write("s.yaml", y);
}

static const char *local(void)
{
    static char b[128];
    snprintf(b, sizeof b, "http://localhost:%d/", fa_port(ph_fa, 0));
    return b;
}

Test(sdapi, txt2img_on_localhost_without_key)
{
    experiment(local(), "steps: 12, cfg_scale: 4.5, sampler_name: 'DPM++ 2M', checkpoint: sdxl_base.safetensors, "
                        "negative_prompt: lowres, extra_input: {alwayson_scripts: {}}");
    char *out;
    int rc = ph_cli(&out, NULL, "", "run s.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "2 images rendered by the server"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "txt2img"), 2);
    cr_assert_eq(fa_auth_count(ph_fa, "txt2img"), 0);
    char *body = fa_last_body(ph_fa, "txt2img", NULL);
    json_t *b = json_loads(body, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(b, "steps")), 12);
    cr_assert_float_eq(json_real_value(json_object_get(b, "cfg_scale")), 4.5, 1e-9);
    cr_assert_str_eq(json_string_value(json_object_get(b, "sampler_name")), "DPM++ 2M");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(b, "override_settings"), "sd_model_checkpoint")),
                     "sdxl_base.safetensors");
    cr_assert_eq(json_integer_value(json_object_get(b, "batch_size")), 1);
    cr_assert(json_is_object(json_object_get(b, "alwayson_scripts")));
    json_decref(b);
    free(body);
    json_t *m = ph_manifest("w/latest/nodes/images/images/manifest.jsonl");
    cr_assert_eq(json_array_size(m), 2);
    unsigned long long ns = ph_node_seed("w", "images");
    for (size_t i = 0; i < 2; i++) {
        json_t *meta = json_object_get(json_array_get(m, i), "meta");
        char src[16];
        snprintf(src, sizeof src, "T%04zu", i + 1);
        cr_assert_eq((uint64_t)json_integer_value(json_object_get(meta, "seed")),
                     aigtatt_seed_derive(ns, src, 0) & 0xFFFFFFFFu);
        cr_assert_str_eq(json_string_value(json_object_get(meta, "sd_model_name")), "fake-xl");
    }
    json_decref(m);
    int before = fa_count(ph_fa, "*");
    rc = ph_cli(&out, NULL, "", "run s.yaml --plain --workdir w --force images");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "*"), before);
}

Test(sdapi, base_url_is_required_and_remote_http_needs_allow_any)
{
    ph_prompts(1);
    ph_write("s.yaml", "nodes:\n  p:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
                       "  i:\n    use: image.sdapi\n    inputs: {prompts: p}\n");
    char *out;
    int rc = ph_cli(&out, NULL, "", "validate s.yaml");
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "base_url"), "%s", out);
    free(out);
    experiment("http://192.0.2.1:7860", "timeout_s: 2");
    rc = ph_cli(&out, NULL, "", "run s.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "loopback") || strstr(out, "http"), "%s", out);
    free(out);
}

Test(sdapi, basic_auth_from_the_key_variable)
{
    experiment(local(), "api_key_env: SD_AUTH");
    char *out;
    int rc = ph_cli(&out, NULL, "SD_AUTH=artist:" PH_CANARY, "run s.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *auth = fa_last_header(ph_fa, "txt2img", "authorization");
    cr_assert_not_null(auth);
    cr_assert(!strncmp(auth, "Basic ", 6), "%s", auth);
    free(auth);
    cr_assert(!ph_tree_has(".", PH_CANARY_TAIL));
}

Test(sdapi, failures)
{
    experiment(local(), "concurrency: 1");
    fa_set(ph_fa, "txt2img", FA_500);
    char *out;
    int rc = ph_cli(&out, NULL, "", "run s.yaml --plain --workdir w1");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "HTTP 500"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "txt2img"), 1);

    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "txt2img", FA_HANG);
    experiment(local(), "concurrency: 1, timeout_s: 1");
    double secs;
    rc = ph_cli(&out, &secs, "", "run s.yaml --plain --workdir w2");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert_lt(secs, 5);
    free(out);

    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "txt2img", FA_MALFORMED);
    rc = ph_cli(&out, NULL, "", "run s.yaml --plain --workdir w3");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "not valid JSON"), "%s", out);
    free(out);

    fa_clear_rules(ph_fa);
    fa_rule(ph_fa, "txt2img", FA_RA_SECS, fa_count(ph_fa, "txt2img") + 1, fa_count(ph_fa, "txt2img") + 1);
    experiment(local(), "concurrency: 1");
    rc = ph_cli(&out, &secs, "", "run s.yaml --plain --workdir w4");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_geq(secs, 0.9);
    free(out);

    /* max_retry_after_s limits what a server asks for, not the client's own
     * backoff: a 503 without Retry-After is retried after backoff_s (0.05)
     * even when that is longer than the limit */
    fa_clear_rules(ph_fa);
    fa_rule(ph_fa, "txt2img", FA_503, fa_count(ph_fa, "txt2img") + 1, fa_count(ph_fa, "txt2img") + 1);
    experiment(local(), "concurrency: 1, max_retry_after_s: 0.01");
    rc = ph_cli(&out, NULL, "", "run s.yaml --plain --workdir w5");
    cr_assert_eq(rc, 0, "a 503 was not retried: %s", out);
    free(out);
}
