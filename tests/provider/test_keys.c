/* Key hygiene across every provider: a canary key, from the environment or
 * from a private .env, sent to a server that echoes it back in success
 * answers and error messages, never shows in any file the runs write (the
 * whole test folder: workdir, cache, runs, resume store) or any line they
 * print, verbose HTTP dumps included. A .env others can read is refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "provider/ph.h"

TestSuite(keys, .init = ph_setup, .fini = ph_teardown, .timeout = 60);

static void experiment(void)
{
    ph_prompts(2);
    char y[4096];
    snprintf(y, sizeof y,
             "name: keys\nseed: 1\nnodes:\n"
             "  prompts:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
             "  chat:\n    use: prompt.openai\n"
             "    params: {base_url: '%s', allow_http: loopback, count: 2}\n"
             "  rep:\n    use: image.replicate\n"
             "    params: {base_url: '%s', allow_http: loopback, poll_interval_s: 0.05}\n"
             "    inputs: {prompts: prompts}\n"
             "  oai:\n    use: image.openai\n"
             "    params: {base_url: '%s', allow_http: loopback}\n"
             "    inputs: {prompts: chat}\n"
             "  sd:\n    use: image.sdapi\n"
             "    params: {base_url: 'http://127.0.0.1:%d', api_key_env: OPENAI_API_KEY}\n"
             "    inputs: {prompts: prompts}\n",
             ph_base(), ph_base(), ph_base(), fa_port(ph_fa, 0));
    ph_write("k.yaml", y);
}

static void assert_clean(const char *out)
{
    cr_assert_null(strstr(out, PH_CANARY_TAIL), "the key was printed:\n%s", out);
    cr_assert(!ph_tree_has(".", PH_CANARY_TAIL), "the key is in a file under the test folder");
}

Test(keys, canary_never_printed_or_written)
{
    experiment();
    const char *envs = "AIGTATT_HTTP_VERBOSE=1 OPENAI_API_KEY=" PH_CANARY " REPLICATE_API_TOKEN=" PH_CANARY;
    /* success, with the key echoed in logs, fingerprints, revised prompts
     * and the server's info */
    fa_set(ph_fa, "create", FA_ECHO_KEY);
    fa_set(ph_fa, "chat", FA_ECHO_KEY);
    fa_set(ph_fa, "images", FA_ECHO_KEY);
    fa_set(ph_fa, "txt2img", FA_ECHO_KEY);
    char *out;
    int rc = ph_cli(&out, NULL, envs, "-v run k.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "Authorization: ***"), "verbose mode dumped the requests:\n%s", out);
    assert_clean(out);
    free(out);
    cr_assert_gt(fa_count(ph_fa, "create"), 0);
    cr_assert_gt(fa_count(ph_fa, "txt2img"), 0);
    /* failures that quote the key back */
    fa_clear_rules(ph_fa);
    fa_set(ph_fa, "create", FA_401);
    fa_set(ph_fa, "chat", FA_401);
    rc = ph_cli(&out, NULL, envs, "-v run k.yaml --plain --workdir w2");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "Incorrect API key provided: Bearer ***"), "%s", out);
    assert_clean(out);
    free(out);
    rc = ph_cli(&out, NULL, envs, "-v run k.yaml --plain --workdir w2 --force rep");
    assert_clean(out);
    free(out);
}

Test(keys, private_env_file_is_used_and_a_readable_one_refused)
{
    experiment();
    char envfile[512];
    snprintf(envfile, sizeof envfile, "%s/.env", ph_dir);
    ph_write(".env", "# keys for aigtatt\nexport OPENAI_API_KEY=\"" PH_CANARY "\"\nREPLICATE_API_TOKEN=" PH_CANARY
                     "\n");
    chmod(envfile, 0600);
    char *out;
    int rc = ph_cli(&out, NULL, "", "run k.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *auth = fa_last_header(ph_fa, "create", "authorization");
    cr_assert_not_null(auth);
    cr_assert_str_eq(auth, "Bearer " PH_CANARY, "the .env key was sent");
    free(auth);
    chmod(envfile, 0644);
    rc = ph_cli(&out, NULL, "", "run k.yaml --plain --workdir w2");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "chmod 600"), "%s", out);
    free(out);
    /* the .env itself is the one file allowed to hold the key */
    remove(envfile);
    cr_assert(!ph_tree_has(".", PH_CANARY_TAIL), "the key is in a file under the test folder");
}

Test(keys, an_image_carrying_the_key_is_refused)
{
    ph_prompts(1);
    char y[1024];
    snprintf(y, sizeof y, "nodes:\n  p:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
             "  i:\n    use: image.replicate\n    params: {base_url: '%s', allow_http: loopback}\n"
             "    inputs: {prompts: p}\n", ph_base());
    ph_write("e.yaml", y);
    /* the output lives on the API's own host, so the key is sent there */
    fa_set(ph_fa, "download", FA_ECHO_KEY);
    char *out;
    int rc = ph_cli(&out, NULL, "REPLICATE_API_TOKEN=" PH_CANARY, "run e.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "holds the API key"), "%s", out);
    assert_clean(out);
    free(out);
}
