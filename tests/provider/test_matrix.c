/* Every provider against every failure the issue lists, through the CLI,
 * offline: success, 401, 429 with Retry-After in seconds and as an HTTP
 * date, 500, 503 (once: retried; always: gives up), a prediction or
 * training that fails or is canceled (Replicate), a server that accepts
 * and never answers, one that trickles a byte a second, an endless body, a
 * redirect to another host, malformed JSON. Each must end in the outcome
 * docs/providers.md documents, within its deadline, without the canary
 * key in any line printed or file written. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/ph.h"

TestSuite(matrix, .init = ph_setup, .fini = ph_teardown, .timeout = 240);

#define KEYS "REPLICATE_API_TOKEN=" PH_CANARY " OPENAI_API_KEY=" PH_CANARY
/* Network parameters small enough for a test: 4 s per call (room for a
 * 2 s Retry-After), quick backoff, 1 MiB bodies. */
#define NET "timeout_s: 4, backoff_s: 0.05, max_retries: 2, max_response_mb: 1"

typedef struct prov {
    const char *component;
    const char *route;   /* where the failure is injected */
    int jobs;            /* predictions/trainings that can fail or be canceled */
    int posts;           /* the route creates paid work (a 500 is not repeated) */
} prov;

static void experiment_n(const prov *p, int n);
static void experiment(const prov *p) { experiment_n(p, 1); }

/* `n` prompts (prompt.openai: n prompts in batches of 2). */
static void experiment_n(const prov *p, int n)
{
    ph_prompts(n);
    char y[4096];
    int port = fa_port(ph_fa, 0);
    const char *base = ph_base();
    if (!strcmp(p->component, "prompt.openai"))
        snprintf(y, sizeof y,
                 "nodes:\n  chat:\n    use: prompt.openai\n"
                 "    params: {base_url: '%s', allow_http: loopback, count: %d, batch_size: 2, " NET "}\n", base,
                 2 * n);
    else if (!strcmp(p->component, "image.sdapi"))
        snprintf(y, sizeof y,
                 "nodes:\n  prompts:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
                 "  images:\n    use: image.sdapi\n    params: {base_url: 'http://127.0.0.1:%d', concurrency: 1, " NET "}\n"
                 "    inputs: {prompts: prompts}\n", port);
    else if (!strcmp(p->component, "finetune.replicate"))
        snprintf(y, sizeof y,
                 "nodes:\n  prompts:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
                 "  curated:\n    use: image.sdapi\n    params: {base_url: 'http://127.0.0.1:%d'}\n"
                 "    inputs: {prompts: prompts}\n"
                 "  tune:\n    use: finetune.replicate\n"
                 "    params: {base_url: '%s', allow_http: loopback, destination: me/tattoo, poll_interval_s: 0.05, "
                 NET "}\n    inputs: {images: curated}\n", port, base);
    else
        snprintf(y, sizeof y,
                 "nodes:\n  prompts:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
                 "  images:\n    use: %s\n"
                 "    params: {base_url: '%s', allow_http: loopback, concurrency: 1, %s" NET "}\n"
                 "    inputs: {prompts: prompts}\n", p->component, base,
                 /* polled predictions: the server holds no answer */
                 strcmp(p->component, "image.replicate") ? "" : "poll_interval_s: 0.05, wait_s: 0, ");
    ph_write("m.yaml", y);
}

typedef struct outcome {
    int rc;               /* exit status */
    const char *says;     /* in the output (NULL: no check) */
    double min_s, max_s;  /* wall time bounds */
} outcome;

static int n_runs;

/* One run with `mode` on the first `first_only` requests (0: all) of the
 * provider's route; checks the outcome. */
static void one(const prov *p, fa_mode mode, const char *name, int first_only, outcome want)
{
    fa_clear_rules(ph_fa);
    if (mode != FA_OK)
        fa_rule(ph_fa, p->route, mode, fa_count(ph_fa, p->route) + 1,
                first_only ? fa_count(ph_fa, p->route) + first_only : 0);
    int before = fa_count(ph_fa, p->route), landing = fa_count(ph_fa, "landing");
    char *out;
    double secs;
    int rc = ph_cli(&out, &secs, KEYS, "run m.yaml --plain --workdir w%d", ++n_runs);
    cr_assert_eq(rc, want.rc, "%s / %s: exit %d, not %d:\n%s", p->component, name, rc, want.rc, out);
    if (want.says)
        cr_assert(strstr(out, want.says), "%s / %s: no '%s' in:\n%s", p->component, name, want.says, out);
    cr_assert(secs >= want.min_s && secs <= want.max_s, "%s / %s took %.2f s, not %.1f..%.1f s:\n%s", p->component,
              name, secs, want.min_s, want.max_s, out);
    cr_assert_null(strstr(out, PH_CANARY_TAIL), "%s / %s printed the key:\n%s", p->component, name, out);
    cr_assert_eq(fa_count(ph_fa, "landing"), landing, "%s / %s followed a redirect", p->component, name);
    if (mode == FA_500 && p->posts)
        cr_assert_eq(fa_count(ph_fa, p->route) - before, 1, "%s: paid work was asked for twice after a 500",
                     p->component);
    free(out);
}

static void matrix(const prov *p)
{
    experiment(p);
    const double slack = 8.0; /* process start and plugin loading on a busy machine */
    one(p, FA_OK, "success", 0, (outcome){0, NULL, 0, slack});
    one(p, FA_401, "401", 0, (outcome){1, "HTTP 401", 0, slack});
    one(p, FA_RA_SECS, "429 Retry-After: 1", 1, (outcome){0, NULL, 0.9, slack + 1});
    one(p, FA_RA_DATE, "429 Retry-After: <date>", 1, (outcome){0, NULL, 0.9, slack + 2});
    one(p, FA_500, "500", 0, (outcome){1, "HTTP 500", 0, slack});
    one(p, FA_503, "503 once", 1, (outcome){0, NULL, 0, slack});
    one(p, FA_503, "503 always", 0, (outcome){1, "HTTP 503 after 2 retries", 0, slack});
    if (p->jobs) {
        one(p, FA_FAIL, "failed", 0, (outcome){1, " failed: NSFW content detected", 0, slack});
        one(p, FA_CANCELED, "canceled", 0, (outcome){1, " canceled", 0, slack});
    }
    /* the deadline is timeout_s: 4 */
    one(p, FA_HANG, "never answers", 0, (outcome){1, "timed out", 3.8, slack + 4});
    one(p, FA_TRICKLE, "trickles", 0, (outcome){1, "timed out", 3.8, slack + 4});
    one(p, FA_ENDLESS, "endless body", 0, (outcome){1, "larger than the 1048576-byte limit", 0, slack});
    one(p, FA_REDIRECT, "redirect to another host", 0, (outcome){1, "not followed", 0, slack});
    one(p, FA_MALFORMED, "malformed JSON", 0, (outcome){1, "not valid JSON", 0, slack});
    cr_assert(!ph_tree_has(".", PH_CANARY_TAIL), "%s: the key is in a file under the test folder", p->component);
}

/* A run that fails on the second of three paid requests, then a rerun:
 * only the two missing results are asked for. */
static void resume(const prov *p)
{
    experiment_n(p, 3);
    fa_clear_rules(ph_fa);
    int before = fa_count(ph_fa, p->route);
    fa_rule(ph_fa, p->route, FA_500, before + 2, before + 2);
    char *out;
    int rc = ph_cli(&out, NULL, KEYS, "run m.yaml --plain --workdir wr");
    cr_assert_eq(rc, 1, "%s:\n%s", p->component, out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, p->route) - before, 2, "%s: the run stops at the failure", p->component);
    rc = ph_cli(&out, NULL, KEYS, "run m.yaml --plain --workdir wr");
    cr_assert_eq(rc, 0, "%s:\n%s", p->component, out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, p->route) - before, 2 + 2, "%s: the rerun asked for more than the missing two",
                 p->component);
    /* and a cached rerun asks for nothing at all */
    int all = fa_count(ph_fa, "*");
    rc = ph_cli(&out, NULL, KEYS, "run m.yaml --plain --workdir wr");
    cr_assert_eq(rc, 0, "%s:\n%s", p->component, out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "*"), all, "%s: a cached rerun made requests", p->component);
}

Test(matrix, resume_prompt_openai) { resume(&(prov){"prompt.openai", "chat", 0, 1}); }
Test(matrix, resume_image_openai) { resume(&(prov){"image.openai", "images", 0, 1}); }
Test(matrix, resume_image_replicate) { resume(&(prov){"image.replicate", "create", 1, 1}); }
Test(matrix, resume_image_sdapi) { resume(&(prov){"image.sdapi", "txt2img", 0, 1}); }

Test(matrix, prompt_openai) { matrix(&(prov){"prompt.openai", "chat", 0, 1}); }
Test(matrix, image_openai) { matrix(&(prov){"image.openai", "images", 0, 1}); }
Test(matrix, image_replicate) { matrix(&(prov){"image.replicate", "create", 1, 1}); }
Test(matrix, image_sdapi) { matrix(&(prov){"image.sdapi", "txt2img", 0, 1}); }
Test(matrix, finetune_replicate) { matrix(&(prov){"finetune.replicate", "train", 1, 1}); }
