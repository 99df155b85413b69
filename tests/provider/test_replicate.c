/* image.replicate through the CLI against the fake Replicate API: success
 * (sync and polled), per-image seeds, zero requests on reruns, resuming
 * after a failure and after Ctrl-C, and every failure the issue lists,
 * each ending in its documented outcome within its deadline. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "provider/ph.h"
#include "util/hash.h"

TestSuite(replicate, .init = ph_setup, .fini = ph_teardown, .timeout = 60);

#define KEY "REPLICATE_API_TOKEN=" PH_CANARY

/* prompt.file -> image.replicate with `extra` parameters. */
static void experiment(int prompts, const char *extra)
{
    ph_prompts(prompts);
    char y[4096];
    snprintf(y, sizeof y,
             "name: rep\nseed: 11\nnodes:\n"
             "  prompts:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
             "  images:\n    use: image.replicate\n"
             "    params: {base_url: '%s', allow_http: loopback, backoff_s: 0.05, poll_interval_s: 0.05%s%s}\n"
             "    inputs: {prompts: prompts}\n",
             ph_base(), extra && *extra ? ", " : "", extra ? extra : "");
    ph_write("x.yaml", y);
}

static json_t *images_manifest(const char *work)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/latest/nodes/images/images/manifest.jsonl", work);
    return ph_manifest(rel);
}

Test(replicate, sync_success_seeds_and_zero_request_reruns)
{
    experiment(3, "concurrency: 2");
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "3 of 3 images done (3 new, 0 from the resume store)"), "%s", out);
    cr_assert(strstr(out, "3 predictions created"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 3);
    cr_assert_eq(fa_count(ph_fa, "poll"), 0, "Prefer: wait answered at once");
    cr_assert_eq(fa_count(ph_fa, "download"), 3);
    char *prefer = fa_last_header(ph_fa, "create", "prefer");
    cr_assert_str_eq(prefer, "wait=60");
    free(prefer);

    json_t *m = images_manifest("w");
    cr_assert_not_null(m);
    cr_assert_eq(json_array_size(m), 3);
    unsigned long long node_seed = ph_node_seed("w", "images");
    for (size_t i = 0; i < 3; i++) {
        json_t *r = json_array_get(m, i);
        char id[32], src[32];
        snprintf(id, sizeof id, "T%04zu/original", i + 1);
        snprintf(src, sizeof src, "T%04zu", i + 1);
        cr_assert_str_eq(json_string_value(json_object_get(r, "id")), id);
        cr_assert_str_eq(json_string_value(json_object_get(r, "role")), "original");
        cr_assert_str_eq(json_string_value(json_object_get(r, "source")), src);
        json_t *meta = json_object_get(r, "meta");
        uint64_t want = aigtatt_seed_derive(node_seed, src, 0) & 0xFFFFFFFFu;
        cr_assert_eq((uint64_t)json_integer_value(json_object_get(meta, "seed")), want, "seed of %s", src);
        cr_assert_eq(json_integer_value(json_object_get(meta, "width")), 64);
        cr_assert_str_eq(json_string_value(json_object_get(meta, "prediction_id")),
                         json_string_value(json_object_get(meta, "prediction_id")));
        cr_assert_not_null(json_object_get(meta, "input"));
        char png[256];
        snprintf(png, sizeof png, "w/latest/nodes/images/images/T%04zu/original.png", i + 1);
        size_t len;
        char *b = ph_read(png, &len);
        cr_assert_not_null(b, "%s missing", png);
        size_t want_len;
        fa_png(ph_fa, &want_len);
        cr_assert_eq(len, want_len);
        free(b);
    }
    json_decref(m);
    /* the sent input carries the derived seed and the defaults */
    char *body = fa_last_body(ph_fa, "create", NULL);
    json_t *bj = json_loads(body, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(bj, "version")),
                     "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc");
    json_t *in = json_object_get(bj, "input");
    cr_assert_eq(json_integer_value(json_object_get(in, "width")), 1024);
    cr_assert(json_is_integer(json_object_get(in, "seed")));
    cr_assert_null(json_object_get(in, "scheduler"), "unset fields are left to the model");
    json_decref(bj);
    free(body);

    /* The same experiment again: from the cache, no request at all. */
    int before = fa_count(ph_fa, "*");
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "*"), before, "a cached rerun made requests");
    /* Forced: the node runs, the resume store answers, still no request. */
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w --force images");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "(0 new, 3 from the resume store)"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "*"), before, "a forced rerun paid again");
    /* Without a key at all: the resume store still answers. */
    rc = ph_cli(&out, NULL, "", "run x.yaml --plain --workdir w --force images");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "*"), before);
}

Test(replicate, polled_prediction_and_fields_passed_through)
{
    experiment(2, "wait_s: 0, scheduler: K_EULER_ANCESTRAL, num_inference_steps: 30, guidance_scale: 5.5, "
                  "negative_prompt: 'blurry, text', refine: expert_ensemble_refiner, high_noise_frac: 0.7, "
                  "apply_watermark: false, lora_scale: 0.8, seed: 1234, "
                  "extra_input: {disable_safety_checker: true, custom_field: [1, 2], width: 768}");
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w --jobs 1");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 2);
    cr_assert_geq(fa_count(ph_fa, "poll"), 4, "starting -> processing -> succeeded");
    char *prefer = fa_last_header(ph_fa, "create", "prefer");
    cr_assert_null(prefer, "wait_s: 0 sends no Prefer header");
    char *body = fa_last_body(ph_fa, "create", NULL);
    json_t *bj = json_loads(body, 0, NULL);
    json_t *in = json_object_get(bj, "input");
    cr_assert_str_eq(json_string_value(json_object_get(in, "scheduler")), "K_EULER_ANCESTRAL");
    cr_assert_eq(json_integer_value(json_object_get(in, "num_inference_steps")), 30);
    cr_assert_float_eq(json_real_value(json_object_get(in, "guidance_scale")), 5.5, 1e-9);
    cr_assert_str_eq(json_string_value(json_object_get(in, "negative_prompt")), "blurry, text");
    cr_assert_str_eq(json_string_value(json_object_get(in, "refine")), "expert_ensemble_refiner");
    cr_assert(json_is_false(json_object_get(in, "apply_watermark")));
    cr_assert(json_is_true(json_object_get(in, "disable_safety_checker")));
    cr_assert_eq(json_array_size(json_object_get(in, "custom_field")), 2);
    cr_assert_eq(json_integer_value(json_object_get(in, "width")), 768, "extra_input overrides");
    json_int_t seed = json_integer_value(json_object_get(in, "seed"));
    cr_assert_eq(seed, 1234, "fixed seed");
    json_decref(bj);
    free(body);
}

Test(replicate, key_refused_401)
{
    experiment(2, "concurrency: 1");
    fa_set(ph_fa, "create", FA_401);
    char *out;
    double secs;
    int rc = ph_cli(&out, &secs, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "HTTP 401"), "%s", out);
    cr_assert(strstr(out, "check REPLICATE_API_TOKEN (api_key_env)"), "names the variable: %s", out);
    cr_assert_null(strstr(out, PH_CANARY_TAIL), "the key shows: %s", out);
    cr_assert_eq(fa_count(ph_fa, "create"), 1, "401 stops at once");
    cr_assert_lt(secs, 10);
    free(out);
    cr_assert(!ph_tree_has(".", PH_CANARY_TAIL), "the key is in a file");
}

Test(replicate, missing_key_says_where_to_put_it)
{
    experiment(1, "");
    char *out;
    int rc = ph_cli(&out, NULL, "", "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "REPLICATE_API_TOKEN"), "%s", out);
    cr_assert_eq(fa_count(ph_fa, "*"), 0);
    free(out);
}

Test(replicate, retry_after_seconds_and_date)
{
    experiment(2, "concurrency: 1");
    fa_rule(ph_fa, "create", FA_RA_SECS, 1, 1);
    fa_rule(ph_fa, "create", FA_RA_DATE, 3, 3);
    char *out;
    double secs;
    int rc = ph_cli(&out, &secs, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "2 retries"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 4, "each 429 was asked once more");
    cr_assert_geq(secs, 1.9, "Retry-After was not honoured (%.2f s)", secs);
    cr_assert_lt(secs, 20);
}

Test(replicate, long_retry_after_ends_with_a_message)
{
    experiment(1, "max_retry_after_s: 0.5");
    fa_set(ph_fa, "create", FA_RA_SECS);
    char *out;
    double secs;
    int rc = ph_cli(&out, &secs, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "HTTP 429"), "%s", out);
    cr_assert(strstr(out, "rerun later"), "%s", out);
    cr_assert_lt(secs, 10);
    free(out);
}

Test(replicate, server_500_is_not_repeated_for_paid_work)
{
    experiment(2, "concurrency: 1");
    fa_set(ph_fa, "create", FA_500);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "HTTP 500"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 1, "a POST answered 500 may have been processed: never resent");
}

Test(replicate, server_503_is_retried_then_gives_up)
{
    experiment(2, "concurrency: 1, max_retries: 2");
    fa_rule(ph_fa, "create", FA_503, 1, 1);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 3);
    /* always 503: the retries run out and the node fails */
    fa_set(ph_fa, "create", FA_503);
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w2");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "HTTP 503 after 2 retries"), "%s", out);
    free(out);
}

Test(replicate, failed_and_canceled_predictions)
{
    experiment(3, "concurrency: 1");
    fa_rule(ph_fa, "create", FA_FAIL, 2, 2);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "failed: NSFW content detected"), "%s", out);
    free(out);
    /* with room for one failure the node succeeds without that image */
    fa_clear_rules(ph_fa);
    fa_rule(ph_fa, "create", FA_CANCELED, 3, 3); /* the retried prompt */
    experiment(3, "concurrency: 1, max_failures: 1");
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "canceled"), "%s", out);
    cr_assert(strstr(out, "1 failed"), "%s", out);
    free(out);
    json_t *m = images_manifest("w");
    cr_assert_eq(json_array_size(m), 2);
    json_decref(m);
}

Test(replicate, prediction_timeout_cancels_it)
{
    experiment(1, "prediction_timeout_s: 1, wait_s: 0");
    fa_set(ph_fa, "create", FA_HOLD);
    char *out;
    double secs;
    int rc = ph_cli(&out, &secs, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "did not finish in time"), "%s", out);
    cr_assert_eq(fa_count(ph_fa, "cancel"), 1);
    cr_assert_lt(secs, 8);
    free(out);
}

Test(replicate, server_that_never_answers)
{
    experiment(1, "timeout_s: 1.5, wait_s: 0");
    fa_set(ph_fa, "create", FA_HANG);
    char *out;
    double secs;
    int rc = ph_cli(&out, &secs, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "create prediction"), "%s", out);
    cr_assert(strstr(out, "not retried"), "the create was sent: not repeated\n%s", out);
    cr_assert_lt(secs, 6, "took %.1f s", secs);
    cr_assert_eq(fa_count(ph_fa, "create"), 1);
    free(out);
}

Test(replicate, trickling_download)
{
    experiment(1, "timeout_s: 2, wait_s: 0");
    fa_set(ph_fa, "download", FA_TRICKLE);
    char *out;
    double secs;
    int rc = ph_cli(&out, &secs, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "download output"), "%s", out);
    cr_assert_lt(secs, 7, "took %.1f s", secs);
    free(out);
}

Test(replicate, endless_body)
{
    experiment(1, "max_response_mb: 1");
    fa_set(ph_fa, "download", FA_ENDLESS);
    char *out;
    double secs;
    int rc = ph_cli(&out, &secs, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "larger than"), "%s", out);
    cr_assert_lt(secs, 10);
    free(out);
}

Test(replicate, redirect_to_another_host)
{
    experiment(1, "");
    fa_set(ph_fa, "create", FA_REDIRECT);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "redirect to http://127.0.0.2"), "%s", out);
    cr_assert_eq(fa_count(ph_fa, "landing"), 0, "an API redirect is not followed");
    free(out);
    /* an output URL that redirects elsewhere is followed without the key */
    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "download", FA_REDIRECT);
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w2");
    cr_assert_eq(rc, 1, "landing is text, not an image: %s", out);
    cr_assert(strstr(out, "not a PNG or JPEG"), "%s", out);
    cr_assert_eq(fa_count(ph_fa, "landing"), 1);
    cr_assert_eq(fa_auth_count(ph_fa, "landing"), 0, "the key went to another host");
    free(out);
}

Test(replicate, malformed_json_and_bad_images)
{
    experiment(1, "");
    fa_set(ph_fa, "create", FA_MALFORMED);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "not valid JSON"), "%s", out);
    free(out);
    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "download", FA_WEBP);
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w2");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "WebP"), "%s", out);
    free(out);
    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "download", FA_BADIMG);
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w3");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "does not decode"), "%s", out);
    free(out);
}

Test(replicate, failed_run_resumes_with_only_the_missing_images)
{
    experiment(5, "concurrency: 1");
    fa_rule(ph_fa, "create", FA_500, 3, 3);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 3);
    fa_clear_rules(ph_fa);
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "(3 new, 2 from the resume store)"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 6, "only the 3 missing images were asked for");
    json_t *m = images_manifest("w");
    cr_assert_eq(json_array_size(m), 5);
    json_decref(m);
}

/* Starts the CLI as a child with the key in its environment, output in
 * bg.log; SIGINT reaches it as Ctrl-C would. */
static pid_t start_bg(const char *args)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (chdir(ph_dir) != 0)
            _exit(127);
        FILE *f = freopen("bg.log", "w", stdout);
        if (!f || dup2(fileno(stdout), 2) < 0)
            _exit(127);
        signal(SIGINT, SIG_DFL);
        setenv("REPLICATE_API_TOKEN", PH_CANARY, 1);
        unsetenv("AIGTATT_ENV_FILE");
        const char *bin = getenv("AIGTATT_BIN");
        execl("/bin/sh", "sh", "-c", "exec \"$0\" $1", bin, args, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_bg(pid_t pid)
{
    int st = 0;
    for (int i = 0; i < 1500; i++) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    cr_assert_fail("the background run did not end");
    return -1;
}

/* Three prompts, the second prediction held running; Ctrl-C once it is
 * being polled. Returns the interrupted run's exit status. */
static int interrupt_during_the_second_prediction(void)
{
    experiment(3, "concurrency: 1, wait_s: 0");
    fa_rule(ph_fa, "create", FA_HOLD, 2, 2);
    pid_t pid = start_bg("run x.yaml --plain --workdir w");
    for (int i = 0; i < 1000 && !(fa_count(ph_fa, "create") == 2 && fa_count(ph_fa, "poll") >= 4); i++)
        usleep(10000);
    cr_assert_eq(fa_count(ph_fa, "create"), 2);
    kill(pid, SIGINT);
    return wait_bg(pid);
}

Test(replicate, ctrl_c_resumes_the_running_prediction)
{
    int rc = interrupt_during_the_second_prediction();
    char *log = ph_read("bg.log", NULL);
    cr_assert_eq(rc, 130, "%s", log);
    cr_assert(strstr(log, "picks it up"), "%s", log);
    free(log);
    fa_release(ph_fa);
    char *out;
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "resuming prediction p2"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 3, "the running prediction was not paid twice");
    json_t *m = images_manifest("w");
    cr_assert_eq(json_array_size(m), 3);
    json_decref(m);
}

/* A prediction left running that the platform then stopped ("aborted", a
 * terminal status) is started again, not "resumed" into a failure. */
Test(replicate, an_aborted_leftover_prediction_is_started_again)
{
    int rc = interrupt_during_the_second_prediction();
    cr_assert_eq(rc, 130);
    fa_abort_held(ph_fa);
    char *out;
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "resuming prediction p2"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 4, "the aborted prediction was not made again");
}

Test(replicate, official_model_endpoint)
{
    experiment(1, "model: black-forest-labs/flux-schnell, extra_input: {output_format: png, width: null}");
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *body = fa_last_body(ph_fa, "create", NULL);
    json_t *j = json_loads(body, 0, NULL);
    cr_assert_null(json_object_get(j, "version"));
    cr_assert_null(json_object_get(json_object_get(j, "input"), "width"), "null removes a field");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "input"), "output_format")), "png");
    json_decref(j);
    free(body);
}

Test(replicate, validation_refuses_bad_models_and_plain_http)
{
    experiment(1, "model: 'not a model'");
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "validate x.yaml");
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "not a Replicate model"), "%s", out);
    free(out);
    ph_prompts(1);
    char y[1024];
    snprintf(y, sizeof y, "nodes:\n  p:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
             "  i:\n    use: image.replicate\n    params: {base_url: '%s'}\n    inputs: {prompts: p}\n", ph_base());
    ph_write("y.yaml", y);
    rc = ph_cli(&out, NULL, KEY, "run y.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "allow_http"), "%s", out);
    cr_assert_eq(fa_count(ph_fa, "*"), 0);
    free(out);
}

Test(replicate, kill_9_loses_nothing_finished)
{
    experiment(4, "concurrency: 1, wait_s: 0");
    fa_rule(ph_fa, "create", FA_HOLD, 3, 3);
    pid_t pid = start_bg("run x.yaml --plain --workdir w");
    for (int i = 0; i < 1000 && !(fa_count(ph_fa, "create") == 3 && fa_count(ph_fa, "poll") >= 6); i++)
        usleep(10000);
    kill(pid, SIGKILL);
    int rc = wait_bg(pid);
    cr_assert_eq(rc, 128 + SIGKILL);
    fa_release(ph_fa);
    char *out;
    rc = ph_cli(&out, NULL, KEY, "run x.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "(2 new, 2 from the resume store)"), "%s", out);
    cr_assert(strstr(out, "resuming prediction p3"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 4, "only the image never asked for was created");
}
