/* What `aigtatt run` adds around the provider nodes: the end-of-run
 * summary (printed, and in each node's provider.json, with a cost estimate
 * only when the user priced it), the verbose HTTP mode (--verbose-http or
 * AIGTATT_HTTP_VERBOSE=1) with keys redacted, the bound on requests in
 * flight (--max-in-flight, AIGTATT_HTTP_MAX_IN_FLIGHT) measured by the fake
 * server, and where .env files are looked up. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "provider/ph.h"

TestSuite(run, .init = ph_setup, .fini = ph_teardown, .timeout = 90);

#define KEY "REPLICATE_API_TOKEN=" PH_CANARY " OPENAI_API_KEY=" PH_CANARY

/* prompt.openai -> image.replicate, both against the fake API. */
static void experiment(const char *file, const char *rep_extra, const char *chat_extra)
{
    char y[4096];
    snprintf(y, sizeof y,
             "name: sum\nseed: 5\nnodes:\n"
             "  chat:\n    use: prompt.openai\n"
             "    params: {base_url: '%s', allow_http: loopback, count: 3%s%s}\n"
             "  designs:\n    use: image.replicate\n"
             "    params: {base_url: '%s', allow_http: loopback, poll_interval_s: 0.05, backoff_s: 0.05%s%s}\n"
             "    inputs: {prompts: chat}\n",
             ph_base(), chat_extra && *chat_extra ? ", " : "", chat_extra ? chat_extra : "", ph_base(),
             rep_extra && *rep_extra ? ", " : "", rep_extra ? rep_extra : "");
    ph_write(file, y);
}

static json_t *summary_of(const char *rel)
{
    char *text = ph_read(rel, NULL);
    cr_assert_not_null(text, "%s is missing", rel);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    cr_assert_not_null(j, "%s is not JSON", rel);
    json_t *s = json_incref(json_object_get(j, "summary"));
    json_decref(j);
    cr_assert(json_is_object(s), "%s has no summary", rel);
    return s;
}

static long long jint(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(b ? json_object_get(o, a) : o, b ? b : a);
    cr_assert(json_is_integer(v), "%s.%s is not an integer", a, b ? b : "");
    return (long long)json_integer_value(v);
}

Test(run, summary_printed_and_written_with_usage_and_priced_cost)
{
    experiment("s.yaml", "price_per_second: 0.002, price_per_image: 0.01", "");
    /* one 429 on the first create: a retry to count */
    fa_rule(ph_fa, "create", FA_RA_SECS, 1, 1);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run s.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    /* the end of the run: one line per provider node, then the totals */
    const char *sd = strstr(out, "summary of node designs: image.replicate: 3 of 3 images done");
    const char *sc = strstr(out, "summary of node chat: prompt.openai: 3 of 3 prompts");
    const char *http = strstr(out, "http: ");
    cr_assert(sd && sc && http, "%s", out);
    cr_assert(strstr(sd, "1 retry"), "%s", out);
    cr_assert(strstr(sd, "3 predictions created, 3.8 s of model time billed"), "%s", out);
    /* 3 x $0.01 + 3.75 s x $0.002 */
    cr_assert(strstr(sd, "est. $0.0375 (3 predictions x $0.01 + 3.8 s x $0.002/s)"), "%s", out);
    /* no price given for the chat: no estimate */
    const char *eol = strchr(sc, '\n');
    cr_assert(!strstr(sc, "est. $") || (eol && strstr(sc, "est. $") > eol), "%s", out);
    cr_assert(strstr(http, "requests, 1 retry, 0 failed,"), "%s", out);
    cr_assert(strstr(http, "received in this run"), "%s", out);
    free(out);

    json_t *s = summary_of("w/latest/nodes/designs/images/provider.json");
    cr_assert_str_eq(json_string_value(json_object_get(s, "component")), "image.replicate");
    cr_assert_str_eq(json_string_value(json_object_get(s, "node")), "designs");
    cr_assert_eq(jint(s, "images", "total"), 3);
    cr_assert_eq(jint(s, "images", "new"), 3);
    cr_assert_eq(jint(s, "images", "failed"), 0);
    cr_assert_eq(jint(s, "images", "not_made"), 0);
    /* 3 creates (one retried) + 3 downloads */
    cr_assert_eq(jint(s, "http", "requests"), 6);
    cr_assert_eq(jint(s, "http", "retries"), 1);
    cr_assert_eq(jint(s, "http", "failures"), 0);
    cr_assert_gt(jint(s, "http", "bytes_in"), 3 * 100);
    cr_assert_eq(jint(s, "usage", "predictions_created"), 3);
    cr_assert_float_eq(json_number_value(json_object_get(json_object_get(s, "usage"), "predict_time_s")), 3.75,
                       1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(json_object_get(s, "cost"), "estimated_usd")), 0.0375,
                       1e-9);
    cr_assert(strstr(json_string_value(json_object_get(s, "text")), "3 of 3 images done"));
    json_decref(s);

    s = summary_of("w/latest/nodes/chat/prompts/provider.json");
    cr_assert_eq(jint(s, "http", "requests"), 1);
    cr_assert_eq(jint(s, "usage", "prompt_tokens"), 100);
    cr_assert_eq(jint(s, "usage", "completion_tokens"), 60);
    cr_assert_null(json_object_get(s, "cost"), "no price, no estimate");
    json_decref(s);

    /* priced tokens: 100 x $2/1M + 60 x $10/1M */
    experiment("t.yaml", "", "price_per_1m_input_tokens: 2, price_per_1m_output_tokens: 10");
    rc = ph_cli(&out, NULL, KEY, "run t.yaml --plain --workdir w2");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "est. $0.0008 (100 + 60 tokens at $2 + $10 per 1M)"), "%s", out);
    free(out);
    s = summary_of("w2/latest/nodes/chat/prompts/provider.json");
    cr_assert_float_eq(json_number_value(json_object_get(json_object_get(s, "cost"), "estimated_usd")), 0.0008,
                       1e-12);
    json_decref(s);

    /* a cached rerun: no node ran, no summary line, no request */
    int before = fa_count(ph_fa, "*");
    rc = ph_cli(&out, NULL, KEY, "run s.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "summary of node"), "%s", out);
    cr_assert_null(strstr(out, "http: "), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "*"), before);
    cr_assert(!ph_tree_has(".", PH_CANARY_TAIL), "the key is in a file");
}

Test(run, failed_node_still_gets_totals)
{
    experiment("s.yaml", "concurrency: 1", "");
    fa_set(ph_fa, "create", FA_500);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run s.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "image.replicate: 0 of 3 images done (0 new, 0 from the resume store), 1 failed, "
                          "2 not made; 1 request, 0 retries, 1 failed"), "%s", out);
    cr_assert(strstr(out, "http: 2 requests, 0 retries, 1 failed"), "%s", out);
    cr_assert(strstr(out, "summary of node chat: "), "%s", out);
    cr_assert_null(strstr(out, "summary of node designs"), "a failed node keeps no output:\n%s", out);
    free(out);
}

static void assert_dump(const char *out)
{
    /* method and URL, status and time, headers; the key masked */
    cr_assert(strstr(out, "http > POST http://127.0.0.1:"), "%s", out);
    cr_assert(strstr(out, "/v1/chat/completions (attempt 1)"), "%s", out);
    cr_assert(strstr(out, "http > GET http://127.0.0.1:"), "%s", out);
    cr_assert(strstr(out, "http <   Content-Type: application/json") ||
              strstr(out, "http <   content-type: application/json"), "%s", out);
    cr_assert(strstr(out, "http < 201 in "), "%s", out);
    cr_assert(strstr(out, "http < 200 in "), "%s", out);
    cr_assert(strstr(out, "Authorization: ***"), "%s", out);
    cr_assert_null(strstr(out, "[DEBUG]"), "no -v needed:\n%s", out);
    cr_assert_null(strstr(out, PH_CANARY_TAIL), "the key was printed:\n%s", out);
}

Test(run, verbose_http_by_flag_or_variable_redacts_the_key)
{
    experiment("s.yaml", "", "");
    /* the key echoed back in bodies and error messages too */
    fa_set(ph_fa, "create", FA_ECHO_KEY);
    fa_set(ph_fa, "chat", FA_ECHO_KEY);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run s.yaml --plain --verbose-http --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    assert_dump(out);
    free(out);
    rc = ph_cli(&out, NULL, "AIGTATT_HTTP_VERBOSE=1 " KEY, "run s.yaml --plain --workdir w2");
    cr_assert_eq(rc, 0, "%s", out);
    assert_dump(out);
    free(out);
    /* a 401 quoting the key */
    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "chat", FA_401);
    rc = ph_cli(&out, NULL, KEY, "run s.yaml --plain --verbose-http --workdir w3");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "http < 401 in "), "%s", out);
    cr_assert_null(strstr(out, PH_CANARY_TAIL), "the key was printed:\n%s", out);
    free(out);
    /* off by default: no dump lines */
    rc = ph_cli(&out, NULL, KEY, "run s.yaml --plain --workdir w4 --force chat");
    cr_assert_null(strstr(out, "http > "), "%s", out);
    free(out);
    cr_assert(!ph_tree_has(".", PH_CANARY_TAIL), "the key is in a file");
}

static void sd_experiment(const char *file, int n)
{
    ph_prompts(n);
    char y[2048];
    snprintf(y, sizeof y,
             "name: lim\nseed: 1\nnodes:\n"
             "  prompts:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
             "  images:\n    use: image.sdapi\n"
             "    params: {base_url: 'http://127.0.0.1:%d', concurrency: 6}\n"
             "    inputs: {prompts: prompts}\n",
             fa_port(ph_fa, 0));
    ph_write(file, y);
}

Test(run, requests_in_flight_are_bounded)
{
    sd_experiment("l.yaml", 6);
    fa_set(ph_fa, "txt2img", FA_SLOW);
    char *out;
    int rc = ph_cli(&out, NULL, "", "run l.yaml --plain --workdir w1 --max-in-flight 2");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "txt2img"), 6);
    cr_assert_eq(fa_max_concurrent(ph_fa, 1), 2, "--max-in-flight 2");

    rc = ph_cli(&out, NULL, "AIGTATT_HTTP_MAX_IN_FLIGHT=3", "run l.yaml --plain --workdir w2");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_max_concurrent(ph_fa, 1), 3, "AIGTATT_HTTP_MAX_IN_FLIGHT=3");

    /* the node's own concurrency (6) under the default cap (8) */
    rc = ph_cli(&out, NULL, "", "run l.yaml --plain --workdir w3");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_gt(fa_max_concurrent(ph_fa, 1), 3, "without a bound the 6 workers overlap");

    /* the flag wins over the variable */
    rc = ph_cli(&out, NULL, "AIGTATT_HTTP_MAX_IN_FLIGHT=4", "run l.yaml --plain --workdir w4 --max-in-flight 1");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_max_concurrent(ph_fa, 1), 1);

    rc = ph_cli(&out, NULL, "", "run l.yaml --max-in-flight 0");
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--max-in-flight needs a number from 1 to 1024"), "%s", out);
    free(out);
    rc = ph_cli(&out, NULL, "AIGTATT_HTTP_MAX_IN_FLIGHT=many", "run l.yaml");
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "AIGTATT_HTTP_MAX_IN_FLIGHT='many'"), "%s", out);
    free(out);
}

/* image.replicate from an experiment in sub/, run from the test folder. */
static void sub_experiment(void)
{
    char *out;
    ph_sh(&out, "mkdir -p sub");
    free(out);
    ph_prompts(1);
    char y[2048];
    snprintf(y, sizeof y,
             "name: env\nseed: 1\nnodes:\n"
             "  prompts:\n    use: prompt.file\n    params: {path: ../prompts.txt}\n"
             "  images:\n    use: image.replicate\n"
             "    params: {base_url: '%s', allow_http: loopback, poll_interval_s: 0.05}\n"
             "    inputs: {prompts: prompts}\n",
             ph_base());
    ph_write("sub/e.yaml", y);
}

Test(run, env_file_beside_the_experiment_after_the_current_folder)
{
    sub_experiment();
    char path[512];
    /* not set anywhere: the message names both places */
    char *out;
    int rc = ph_cli(&out, NULL, "", "run sub/e.yaml --plain --workdir w0");
    cr_assert_eq(rc, 1, "%s", out);
    snprintf(path, sizeof path, "%s/sub/.env", ph_dir);
    cr_assert(strstr(out, "API key REPLICATE_API_TOKEN is not set") && strstr(out, "to .env or ") &&
              strstr(out, path), "%s", out);
    free(out);

    /* the experiment's folder */
    ph_write("sub/.env", "REPLICATE_API_TOKEN=" PH_CANARY "\n");
    chmod(path, 0600);
    rc = ph_cli(&out, NULL, "", "run sub/e.yaml --plain --workdir w1");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *auth = fa_last_header(ph_fa, "create", "authorization");
    cr_assert_str_eq(auth, "Bearer " PH_CANARY);
    free(auth);

    /* ./.env first */
    char here[512];
    snprintf(here, sizeof here, "%s/.env", ph_dir);
    ph_write(".env", "REPLICATE_API_TOKEN=r8_FROMCWD0c0ffee5ecret9d41\n");
    chmod(here, 0600);
    rc = ph_cli(&out, NULL, "", "run sub/e.yaml --plain --workdir w2");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    auth = fa_last_header(ph_fa, "create", "authorization");
    cr_assert_str_eq(auth, "Bearer r8_FROMCWD0c0ffee5ecret9d41");
    free(auth);
    remove(here);

    /* group-readable: refused, naming the file */
    chmod(path, 0640);
    rc = ph_cli(&out, NULL, "", "run sub/e.yaml --plain --workdir w3");
    cr_assert_eq(rc, 1, "%s", out);
    char want[600];
    snprintf(want, sizeof want, "refusing %s: it is accessible by group or others (mode 0640); run: chmod 600 %s",
             path, path);
    cr_assert(strstr(out, want), "%s", out);
    free(out);

    /* AIGTATT_ENV_FILE is the only file when set */
    chmod(path, 0600);
    ph_write("other.env", "SOMETHING_ELSE=1\n");
    snprintf(here, sizeof here, "%s/other.env", ph_dir);
    chmod(here, 0600);
    rc = ph_cli(&out, NULL, "AIGTATT_ENV_FILE=other.env", "run sub/e.yaml --plain --workdir w4");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "to other.env (readable only by you"), "%s", out);
    free(out);

    /* the environment wins over every file */
    rc = ph_cli(&out, NULL, "REPLICATE_API_TOKEN=r8_ENV", "run sub/e.yaml --plain --workdir w5");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    auth = fa_last_header(ph_fa, "create", "authorization");
    cr_assert_str_eq(auth, "Bearer r8_ENV");
    free(auth);

    remove(path);
    cr_assert(!ph_tree_has(".", PH_CANARY_TAIL), "the key is in a file");
}
