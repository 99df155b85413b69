/* prompt.openai and image.openai through the CLI against the fake OpenAI
 * API: batches until N unique valid prompts, the response-format
 * fallbacks, usage and ids recorded, zero-request reruns, local servers
 * without a key, and the failures the issue lists. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/ph.h"

TestSuite(openai, .init = ph_setup, .fini = ph_teardown, .timeout = 60);

#define KEY "OPENAI_API_KEY=" PH_CANARY

static void prompt_experiment(const char *extra)
{
    char y[4096];
    snprintf(y, sizeof y,
             "name: oa\nseed: 5\nnodes:\n"
             "  prompts:\n    use: prompt.openai\n"
             "    params: {base_url: '%s', allow_http: loopback, backoff_s: 0.05%s%s}\n",
             ph_base(), extra && *extra ? ", " : "", extra ? extra : "");
    ph_write("p.yaml", y);
}

static const char *const prefix = "In the style of TOK, a unique, intricate tattoo on the forearm describing";

Test(openai, prompts_are_batched_validated_and_unique)
{
    prompt_experiment("count: 7, batch_size: 3");
    fa_set(ph_fa, "chat", FA_DIRTY);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run p.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "7 of 7 prompts"), "%s", out);
    cr_assert(strstr(out, "usage 300 prompt +"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "chat"), 3, "3 + 3 + 1");
    json_t *m = ph_manifest("w/latest/nodes/prompts/prompts/manifest.jsonl");
    cr_assert_eq(json_array_size(m), 7);
    for (size_t i = 0; i < 7; i++) {
        json_t *r = json_array_get(m, i);
        const char *t = json_string_value(json_object_get(r, "text"));
        cr_assert(!strncmp(t, prefix, strlen(prefix)), "%s", t);
        for (size_t k = 0; k < i; k++)
            cr_assert_str_neq(t, json_string_value(json_object_get(json_array_get(m, k), "text")));
        json_t *meta = json_object_get(r, "meta");
        cr_assert_str_eq(json_string_value(json_object_get(meta, "model")), "fake-gpt-2025");
        cr_assert(!strncmp(json_string_value(json_object_get(meta, "request_id")), "req_", 4));
        cr_assert(!strncmp(json_string_value(json_object_get(meta, "response_id")), "chatcmpl-", 9));
        cr_assert_str_eq(json_string_value(json_object_get(meta, "response_format")), "json_schema");
    }
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 0), "id")), "T0001");
    json_decref(m);
    char *pj = ph_read("w/latest/nodes/prompts/prompts/provider.json", NULL);
    cr_assert_not_null(pj);
    json_t *p = json_loads(pj, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(p, "prompt_tokens")), 300);
    cr_assert_eq(json_integer_value(json_object_get(p, "requests")), 3);
    cr_assert_geq(json_integer_value(json_object_get(p, "refused_duplicates")), 3);
    cr_assert_geq(json_integer_value(json_object_get(p, "refused_invalid")), 6);
    cr_assert_eq(json_array_size(json_object_get(p, "batches")), 3);
    json_decref(p);
    free(pj);
    /* the request asked for a strict JSON schema, a seed and the count */
    char *body = fa_last_body(ph_fa, "chat", NULL);
    json_t *b = json_loads(body, 0, NULL);
    json_t *rf = json_object_get(b, "response_format");
    cr_assert_str_eq(json_string_value(json_object_get(rf, "type")), "json_schema");
    cr_assert(json_is_true(json_object_get(json_object_get(rf, "json_schema"), "strict")));
    cr_assert(json_is_integer(json_object_get(b, "seed")));
    cr_assert_str_eq(json_string_value(json_object_get(b, "model")), "gpt-4o-mini");
    const char *user = json_string_value(json_object_get(json_array_get(json_object_get(b, "messages"), 1), "content"));
    cr_assert(strstr(user, "exactly 1 new"), "%s", user);
    cr_assert(strstr(user, "Do not repeat"), "%s", user);
    json_decref(b);
    free(body);

    int before = fa_count(ph_fa, "*");
    rc = ph_cli(&out, NULL, KEY, "run p.yaml --plain --workdir w --force prompts");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "3 batches from the resume store"), "%s", out);
    cr_assert(!strstr(out, "usage 300 prompt"), "a store-only rerun counted tokens it did not pay for: %s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "*"), before, "a rerun paid again");
    pj = ph_read("w/latest/nodes/prompts/prompts/provider.json", NULL);
    p = json_loads(pj, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(p, "prompt_tokens")), 0, "%s", pj);
    json_decref(p);
    free(pj);
    json_t *m2 = ph_manifest("w/latest/nodes/prompts/prompts/manifest.jsonl");
    cr_assert_eq(json_array_size(m2), 7);
    json_decref(m2);
}

/* A refused batch is kept in the resume store like any answer: a rerun
 * asks nothing and gives the same prompts (asking again would pay, and a
 * new answer would change every later batch's request). */
Test(openai, refusal_is_stored_and_replayed)
{
    prompt_experiment("count: 8, batch_size: 4");
    fa_set(ph_fa, "chat", FA_REFUSE_SECOND);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run p.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    int before = fa_count(ph_fa, "chat");
    cr_assert_geq(before, 3, "the refused batch was not asked again in the run");
    char *first = ph_read("w/latest/nodes/prompts/prompts/manifest.jsonl", NULL);
    rc = ph_cli(&out, NULL, KEY, "run p.yaml --plain --workdir w --force prompts");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "chat"), before, "the rerun asked the server again");
    char *second = ph_read("w/latest/nodes/prompts/prompts/manifest.jsonl", NULL);
    cr_assert(first && second && !strcmp(first, second), "the rerun's prompts differ");
    free(first);
    free(second);
}

Test(openai, schema_refused_falls_back_to_json_object_then_text)
{
    prompt_experiment("count: 4, batch_size: 4");
    fa_set(ph_fa, "chat", FA_SCHEMA_REJECT);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run p.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "refused response_format json_schema; asking with json_object"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "chat"), 2);
    json_t *m = ph_manifest("w/latest/nodes/prompts/prompts/manifest.jsonl");
    cr_assert_eq(json_array_size(m), 4);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(m, 0), "meta"),
                                                       "response_format")), "json_object");
    json_decref(m);
    /* a store-only rerun finds the json_object answer without asking to be
     * refused again: no request, and so no key needed */
    rc = ph_cli(&out, NULL, "", "run p.yaml --plain --workdir w --force prompts");
    cr_assert_eq(rc, 0, "a store-only rerun needed the server: %s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "chat"), 2, "the rerun asked the server");

    /* a server that takes no response_format at all: plain JSON prompting,
     * the list found inside chatter and a code fence */
    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "chat", FA_FORMAT_REJECT);
    rc = ph_cli(&out, NULL, KEY, "run p.yaml --plain --workdir w2");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "asking with text"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "chat"), 2 + 3);
    char *body = fa_last_body(ph_fa, "chat", NULL);
    cr_assert_null(strstr(body, "response_format"), "%s", body);
    free(body);
}

Test(openai, local_server_without_key)
{
    prompt_experiment("count: 2, api_key_env: '', model: 'llama3.1:8b', response_format: text");
    char *out;
    int rc = ph_cli(&out, NULL, "", "run p.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "chat"), 1);
    cr_assert_eq(fa_auth_count(ph_fa, "chat"), 0, "no key is sent");
}

Test(openai, chat_failures)
{
    char *out;
    double secs;
    prompt_experiment("count: 2");
    fa_set(ph_fa, "chat", FA_401);
    int rc = ph_cli(&out, NULL, KEY, "run p.yaml --plain --workdir w1");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "HTTP 401") && strstr(out, "Incorrect API key provided: Bearer ***"), "%s", out);
    cr_assert_null(strstr(out, PH_CANARY_TAIL), "%s", out);
    free(out);

    fa_clear_rules(ph_fa);
    fa_rule(ph_fa, "chat", FA_RA_DATE, fa_count(ph_fa, "chat") + 1, fa_count(ph_fa, "chat") + 1);
    rc = ph_cli(&out, &secs, KEY, "run p.yaml --plain --workdir w2");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_geq(secs, 0.9, "Retry-After date not honoured");
    free(out);

    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "chat", FA_500);
    int n = fa_count(ph_fa, "chat");
    rc = ph_cli(&out, NULL, KEY, "run p.yaml --plain --workdir w3");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "HTTP 500"), "%s", out);
    cr_assert_eq(fa_count(ph_fa, "chat"), n + 1, "paid tokens are not asked for twice after a 500");
    free(out);

    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "chat", FA_MALFORMED);
    rc = ph_cli(&out, NULL, KEY, "run p.yaml --plain --workdir w4");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "not valid JSON"), "%s", out);
    free(out);

    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "chat", FA_HANG);
    prompt_experiment("count: 2, timeout_s: 1");
    rc = ph_cli(&out, &secs, KEY, "run p.yaml --plain --workdir w5");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert_lt(secs, 5);
    free(out);

    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "chat", FA_REDIRECT);
    rc = ph_cli(&out, &secs, KEY, "run p.yaml --plain --workdir w6");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "not followed"), "%s", out);
    cr_assert_eq(fa_count(ph_fa, "landing"), 0);
    free(out);
}

Test(openai, too_few_unique_prompts_fail_with_advice)
{
    prompt_experiment("count: 3, prefix: 'A prefix the model never writes', max_requests: 2");
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run p.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "only 0 unique valid prompts of the 3"), "%s", out);
    cr_assert(strstr(out, "max_requests"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "chat"), 2);
}

static void image_experiment(const char *extra)
{
    ph_prompts(3);
    char y[4096];
    snprintf(y, sizeof y,
             "name: oi\nseed: 5\nnodes:\n"
             "  prompts:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
             "  images:\n    use: image.openai\n"
             "    params: {base_url: '%s', allow_http: loopback, backoff_s: 0.05%s%s}\n"
             "    inputs: {prompts: prompts}\n",
             ph_base(), extra && *extra ? ", " : "", extra ? extra : "");
    ph_write("i.yaml", y);
}

Test(openai, images_decoded_recorded_and_cached)
{
    image_experiment("quality: high, images_per_prompt: 2, project: proj_123");
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run i.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "6 images billed; usage 300 input + 24960 output tokens"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "images"), 6);
    char *proj = fa_last_header(ph_fa, "images", "openai-project");
    cr_assert_str_eq(proj, "proj_123");
    free(proj);
    char *body = fa_last_body(ph_fa, "images", NULL);
    json_t *b = json_loads(body, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(b, "model")), "gpt-image-1");
    cr_assert_str_eq(json_string_value(json_object_get(b, "quality")), "high");
    cr_assert_eq(json_integer_value(json_object_get(b, "n")), 1);
    cr_assert_null(json_object_get(b, "response_format"), "gpt-image-1 refuses it");
    json_decref(b);
    free(body);
    json_t *m = ph_manifest("w/latest/nodes/images/images/manifest.jsonl");
    cr_assert_eq(json_array_size(m), 6);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 1), "id")), "T0001/original-1");
    json_t *meta = json_object_get(json_array_get(m, 0), "meta");
    cr_assert(strstr(json_string_value(json_object_get(meta, "revised_prompt")), "revised"));
    cr_assert(!strncmp(json_string_value(json_object_get(meta, "request_id")), "req_img_", 8));
    json_decref(m);
    int before = fa_count(ph_fa, "*");
    rc = ph_cli(&out, NULL, KEY, "run i.yaml --plain --workdir w --force images");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "*"), before);
}

Test(openai, dalle_asks_for_base64)
{
    image_experiment("model: dall-e-3, style: natural, concurrency: 1");
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run i.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *body = fa_last_body(ph_fa, "images", NULL);
    json_t *b = json_loads(body, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(b, "response_format")), "b64_json");
    cr_assert_str_eq(json_string_value(json_object_get(b, "style")), "natural");
    json_decref(b);
    free(body);
}

Test(openai, content_filter_and_server_errors)
{
    image_experiment("concurrency: 1, max_failures: 1");
    fa_rule(ph_fa, "images", FA_POLICY, 2, 2);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run i.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "content filter"), "%s", out);
    free(out);
    json_t *m = ph_manifest("w/latest/nodes/images/images/manifest.jsonl");
    cr_assert_eq(json_array_size(m), 2);
    json_decref(m);

    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "images", FA_401);
    rc = ph_cli(&out, NULL, KEY, "run i.yaml --plain --workdir w2");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "HTTP 401"), "%s", out);
    free(out);

    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "images", FA_BADIMG);
    rc = ph_cli(&out, NULL, KEY, "run i.yaml --plain --workdir w3");
    cr_assert_eq(rc, 1, "a second failure is over max_failures: %s", out);
    cr_assert(strstr(out, "does not decode"), "%s", out);
    free(out);

    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "images", FA_ENDLESS);
    image_experiment("concurrency: 1, max_response_mb: 1");
    rc = ph_cli(&out, NULL, KEY, "run i.yaml --plain --workdir w4");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "larger than"), "%s", out);
    free(out);
}
