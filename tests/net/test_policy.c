/* The HTTP layer's pure parts: backoff, Retry-After, retry decisions, URL
 * policy, redaction and the .env reader. No server needed. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "net/http.h"
#include "net/secret.h"
#include "util/error.h"

static void init_curl(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
static void fini(void) { aigtatt_secrets_clear(); }

TestSuite(policy, .init = init_curl, .fini = fini);

Test(policy, backoff_is_deterministic_bounded_and_capped)
{
    uint64_t a = 42, b = 42;
    for (int i = 0; i < 12; i++) {
        int64_t da = aigtatt_http_backoff_ms(i, 100, 5000, &a);
        int64_t db = aigtatt_http_backoff_ms(i, 100, 5000, &b);
        cr_assert_eq(da, db, "same seed, same delay");
        int64_t step = 100;
        for (int k = 0; k < i && step < 5000; k++)
            step *= 2;
        if (step > 5000)
            step = 5000;
        cr_assert(da >= step / 2 && da <= step, "retry %d: %lld not in [%lld, %lld]", i, (long long)da,
                  (long long)step / 2, (long long)step);
    }
    /* Different seeds spread out. */
    uint64_t s1 = 1, s2 = 2;
    int differ = 0;
    for (int i = 0; i < 8; i++)
        differ += aigtatt_http_backoff_ms(3, 1000, 60000, &s1) != aigtatt_http_backoff_ms(3, 1000, 60000, &s2);
    cr_assert_gt(differ, 4);
    /* Huge retry numbers do not overflow. */
    uint64_t s = 7;
    int64_t d = aigtatt_http_backoff_ms(1000, 500, 30000, &s);
    cr_assert(d >= 15000 && d <= 30000);
}

Test(policy, retry_after_seconds_and_dates)
{
    int64_t ms = -1;
    cr_assert_eq(aigtatt_http_parse_retry_after("5", 0, &ms), 0);
    cr_assert_eq(ms, 5000);
    cr_assert_eq(aigtatt_http_parse_retry_after("  7 ", 0, &ms), 0);
    cr_assert_eq(ms, 7000);
    cr_assert_eq(aigtatt_http_parse_retry_after("0", 0, &ms), 0);
    cr_assert_eq(ms, 0);
    time_t t = curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL);
    cr_assert_neq(t, (time_t)-1);
    cr_assert_eq(aigtatt_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", t - 10, &ms), 0);
    cr_assert_eq(ms, 10000);
    cr_assert_eq(aigtatt_http_parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", t - 3, &ms), 0);
    cr_assert_eq(ms, 3000);
    cr_assert_eq(aigtatt_http_parse_retry_after("Wed Oct 21 07:28:00 2015", t - 4, &ms), 0);
    cr_assert_eq(ms, 4000);
    cr_assert_eq(aigtatt_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", t + 100, &ms), 0);
    cr_assert_eq(ms, 0, "a date in the past means now");
    cr_assert_eq(aigtatt_http_parse_retry_after("99999999999999999999999", 0, &ms), 0);
    cr_assert_gt(ms, (int64_t)1000000000000, "absurd values saturate high, never wrap");
    cr_assert_eq(aigtatt_http_parse_retry_after("soon", 0, &ms), -1);
    cr_assert_eq(aigtatt_http_parse_retry_after("-5", 0, &ms), -1);
    cr_assert_eq(aigtatt_http_parse_retry_after("1.5", 0, &ms), -1);
    cr_assert_eq(aigtatt_http_parse_retry_after("", 0, &ms), -1);
    cr_assert_eq(aigtatt_http_parse_retry_after(NULL, 0, &ms), -1);
}

Test(policy, retry_decisions)
{
    const int INS = AIGTATT_HTTP_RETRY_POST_IF_NOT_SENT, NEV = AIGTATT_HTTP_RETRY_POST_NEVER,
              ALW = AIGTATT_HTTP_RETRY_POST_ALWAYS;
    /* Idempotent methods: every retryable outcome. */
    cr_assert(aigtatt_http_may_retry("GET", NEV, 500, 0, 1));
    cr_assert(aigtatt_http_may_retry("GET", NEV, 0, 1, 1));
    cr_assert(aigtatt_http_may_retry("DELETE", NEV, 503, 0, 1));
    cr_assert_not(aigtatt_http_may_retry("GET", ALW, 404, 0, 1));
    cr_assert_not(aigtatt_http_may_retry("GET", ALW, 401, 0, 1));
    cr_assert_not(aigtatt_http_may_retry("GET", ALW, 0, 0, 0), "permanent transport errors");
    /* POST, if_not_sent: only provable non-processing. */
    cr_assert(aigtatt_http_may_retry("POST", INS, 0, 1, 0));
    cr_assert_not(aigtatt_http_may_retry("POST", INS, 0, 1, 1));
    cr_assert(aigtatt_http_may_retry("POST", INS, 429, 0, 1));
    cr_assert(aigtatt_http_may_retry("POST", INS, 503, 0, 1));
    cr_assert_not(aigtatt_http_may_retry("POST", INS, 500, 0, 1));
    cr_assert_not(aigtatt_http_may_retry("POST", INS, 502, 0, 1));
    cr_assert_not(aigtatt_http_may_retry("POST", INS, 504, 0, 1));
    cr_assert_not(aigtatt_http_may_retry("PATCH", INS, 500, 0, 1));
    /* never / always */
    cr_assert_not(aigtatt_http_may_retry("POST", NEV, 0, 1, 0));
    cr_assert_not(aigtatt_http_may_retry("POST", NEV, 429, 0, 1));
    cr_assert(aigtatt_http_may_retry("POST", ALW, 500, 0, 1));
    cr_assert(aigtatt_http_may_retry("POST", ALW, 0, 1, 1));
}

Test(policy, url_scheme_policy)
{
    cr_assert_eq(aigtatt_http_check_url("https://api.openai.com/v1/x", 0), AIGTATT_OK);
    cr_assert_eq(aigtatt_http_check_url("http://api.openai.com/v1/x", 0), AIGTATT_ERR_INVALID);
    cr_assert(strstr(aigtatt_last_error(), "http://"), "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_http_check_url("http://127.0.0.1:7860/sdapi", 0), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_http_check_url("http://127.0.0.1:7860/sdapi", AIGTATT_HTTP_ALLOW_LOOPBACK), AIGTATT_OK);
    cr_assert_eq(aigtatt_http_check_url("http://localhost:8080/", AIGTATT_HTTP_ALLOW_LOOPBACK), AIGTATT_OK);
    cr_assert_eq(aigtatt_http_check_url("http://[::1]:8080/", AIGTATT_HTTP_ALLOW_LOOPBACK), AIGTATT_OK);
    cr_assert_eq(aigtatt_http_check_url("http://127.0.0.2/", AIGTATT_HTTP_ALLOW_LOOPBACK), AIGTATT_OK);
    cr_assert_eq(aigtatt_http_check_url("http://192.168.1.5/", AIGTATT_HTTP_ALLOW_LOOPBACK), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_http_check_url("http://localhost.evil.com/", AIGTATT_HTTP_ALLOW_LOOPBACK),
                 AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_http_check_url("http://192.168.1.5/", AIGTATT_HTTP_ALLOW_ANY_HOST), AIGTATT_OK);
    cr_assert_eq(aigtatt_http_check_url("ftp://example.com/x", AIGTATT_HTTP_ALLOW_ANY_HOST), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_http_check_url("file:///etc/passwd", AIGTATT_HTTP_ALLOW_ANY_HOST), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_http_check_url("not a url", 0), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_http_check_url(NULL, 0), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_http_check_url("https://user:sekrit-pass@example.com/", 0), AIGTATT_ERR_INVALID);
    cr_assert_null(strstr(aigtatt_last_error(), "sekrit"), "%s", aigtatt_last_error());
}

Test(policy, origins_resolution_and_shown_urls)
{
    cr_assert(aigtatt_http_same_origin("https://a.com/x", "https://a.com:443/y?z"));
    cr_assert(aigtatt_http_same_origin("https://A.com/x", "https://a.com/y"));
    cr_assert_not(aigtatt_http_same_origin("https://a.com/x", "http://a.com/x"));
    cr_assert_not(aigtatt_http_same_origin("https://a.com/x", "https://a.com:8443/x"));
    cr_assert_not(aigtatt_http_same_origin("https://a.com/x", "https://b.a.com/x"));
    char *u = aigtatt_http_resolve("https://a.com/v1/x?q=1", "/files/2");
    cr_assert_str_eq(u, "https://a.com/files/2");
    free(u);
    u = aigtatt_http_resolve("https://a.com/v1/x", "y");
    cr_assert_str_eq(u, "https://a.com/v1/y");
    free(u);
    u = aigtatt_http_resolve("https://a.com/v1/x", "https://cdn.b.com/o.png");
    cr_assert_str_eq(u, "https://cdn.b.com/o.png");
    free(u);
    u = aigtatt_http_url_for_log("https://a.com:8443/v1/x?key=abc#frag");
    cr_assert_str_eq(u, "https://a.com:8443/v1/x?...");
    free(u);
}

/* Error texts pass the same redaction, before they are cut to size: a
 * credential header nobody registered, and a registered key that straddles
 * the 4 KB limit, whose first characters used to survive the cut. */
Test(policy, error_texts_are_redacted_whole_before_they_are_cut)
{
    cr_assert_eq(aigtatt_secret_register("sk-straddle-0123456789abcdef"), AIGTATT_OK);
    aigtatt_set_error("server said: Authorization: Bearer never-registered-abc");
    cr_expect(strstr(aigtatt_last_error(), "Authorization: ***") && !strstr(aigtatt_last_error(), "never-registered"),
              "%s", aigtatt_last_error());
    aigtatt_set_error("%4085s%s tail", "", "sk-straddle-0123456789abcdef");
    cr_expect(!strstr(aigtatt_last_error(), "sk-str"), "a cut key's start survived: ...%s",
              aigtatt_last_error() + 4080);
    aigtatt_clear_error();
}

/* A text cut inside an echoed key (a server message cut to 400 bytes, a
 * body snippet) keeps the key's front part, which no whole match finds:
 * 8 or more of its first characters are masked too, also when a marker
 * follows the cut. */
Test(policy, a_key_cut_by_truncation_is_still_masked)
{
    const char *key = "sk-proj-AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKKKLLLLMMMMNNNN";
    cr_assert_eq(aigtatt_secret_register(key), AIGTATT_OK);
    char text[256];
    for (size_t cut = 8; cut < strlen(key); cut += 5) {
        snprintf(text, sizeof text, "key %.*s... (truncated)", (int)cut, key);
        char *r = aigtatt_redact_dup(text);
        cr_assert(r && !strstr(r, "sk-proj-A") && !strstr(r, "AAAAB"), "cut at %zu: %s", cut, r);
        cr_assert(strstr(r, "(truncated)"), "%s", r);
        free(r);
    }
    /* short shared beginnings stay readable */
    char *r = aigtatt_redact_dup("use an sk-proj key");
    cr_assert_str_eq(r, "use an sk-proj key");
    free(r);
}

Test(policy, redaction_of_secrets_and_credential_fields)
{
    cr_assert_eq(aigtatt_secret_register("sk-canary-1234567890"), AIGTATT_OK);
    cr_assert_eq(aigtatt_secret_register("sk-canary"), AIGTATT_OK);
    char *r = aigtatt_redact_dup("key sk-canary-1234567890 and sk-canary, again:sk-canary-1234567890!");
    cr_assert_str_eq(r, "key *** and ***, again:***!");
    free(r);
    r = aigtatt_redact_dup("Authorization: Bearer unregistered-token-xyz");
    cr_assert_str_eq(r, "Authorization: ***");
    free(r);
    r = aigtatt_redact_dup("x-api-key: abc123 (header values run to the end of the line)\nnext");
    cr_assert_str_eq(r, "x-api-key: ***\nnext");
    free(r);
    r = aigtatt_redact_dup("GET https://h/p?api_key=zzz&n=2 | {\"authorization\": \"Token t0k\", \"n\": 1}");
    cr_assert_str_eq(r, "GET https://h/p?api_key=***&n=2 | {\"authorization\": \"***\", \"n\": 1}");
    free(r);
    /* HTTP Basic credentials decode straight back to user:password */
    r = aigtatt_redact_dup("Incorrect API key provided: Basic YXJ0aXN0Oi4uLg== (basic settings unchanged)");
    cr_assert_str_eq(r, "Incorrect API key provided: Basic *** (basic settings unchanged)");
    free(r);
    r = aigtatt_redact_dup("invalid bearer abc.def.ghi given; unexpected token: '}' near max_tokens: 5");
    cr_assert_str_eq(r, "invalid bearer *** given; unexpected token: '}' near max_tokens: 5");
    free(r);
    char small[10];
    size_t need = aigtatt_redact("hello sk-canary-1234567890", small, sizeof small);
    cr_assert_eq(need, strlen("hello ***"));
    cr_assert_str_eq(small, "hello ***");
    cr_assert(aigtatt_secret_in("xx sk-canary yy"));
    cr_assert_not(aigtatt_secret_in("xx sk-canar yy"));
    cr_assert(aigtatt_header_is_sensitive("AUTHORIZATION", 13));
    cr_assert(aigtatt_header_is_sensitive("X-Api-Key", 9));
    cr_assert_not(aigtatt_header_is_sensitive("Content-Type", 12));
}

static char *tmp_env(const char *text, mode_t mode)
{
    char *path = strdup("/tmp/aigtatt-env-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
    return path;
}

Test(policy, env_file_formats)
{
    char *p = tmp_env("# keys\n\nexport OPENAI_API_KEY=sk-open-1\r\n"
                      "REPLICATE_API_TOKEN = \"r8_quoted \\\"x\\\"\"\n"
                      "SINGLE='a b # c'\nINLINE=val # comment\nDUP=first\nDUP=second\nEMPTY=\n",
                      0600);
    char *v = NULL;
    cr_assert_eq(aigtatt_env_file_lookup(p, "OPENAI_API_KEY", &v), AIGTATT_OK);
    cr_assert_str_eq(v, "sk-open-1");
    free(v);
    cr_assert_eq(aigtatt_env_file_lookup(p, "REPLICATE_API_TOKEN", &v), AIGTATT_OK);
    cr_assert_str_eq(v, "r8_quoted \"x\"");
    free(v);
    cr_assert_eq(aigtatt_env_file_lookup(p, "SINGLE", &v), AIGTATT_OK);
    cr_assert_str_eq(v, "a b # c");
    free(v);
    cr_assert_eq(aigtatt_env_file_lookup(p, "INLINE", &v), AIGTATT_OK);
    cr_assert_str_eq(v, "val");
    free(v);
    cr_assert_eq(aigtatt_env_file_lookup(p, "DUP", &v), AIGTATT_OK);
    cr_assert_str_eq(v, "second");
    free(v);
    cr_assert_eq(aigtatt_env_file_lookup(p, "EMPTY", &v), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_env_file_lookup(p, "MISSING", &v), AIGTATT_ERR_INVALID);
    cr_assert_null(v);
    unlink(p);
    free(p);
    cr_assert_eq(aigtatt_env_file_lookup("/nonexistent/.env", "X", &v), AIGTATT_ERR_INVALID);
}

Test(policy, env_file_refused_when_others_can_read_it)
{
    char *p = tmp_env("OPENAI_API_KEY=sk-leaky-value-0001\n", 0644);
    char *v = NULL;
    cr_assert_eq(aigtatt_env_file_lookup(p, "OPENAI_API_KEY", &v), AIGTATT_ERR_IO);
    cr_assert_null(v);
    cr_assert(strstr(aigtatt_last_error(), "chmod 600"), "%s", aigtatt_last_error());
    cr_assert_null(strstr(aigtatt_last_error(), "sk-leaky"));
    chmod(p, 0640);
    cr_assert_eq(aigtatt_env_file_lookup(p, "OPENAI_API_KEY", &v), AIGTATT_ERR_IO);
    chmod(p, 0600);
    cr_assert_eq(aigtatt_env_file_lookup(p, "OPENAI_API_KEY", &v), AIGTATT_OK);
    free(v);
    unlink(p);
    free(p);
    cr_assert_eq(aigtatt_env_file_lookup("/tmp", "X", &v), AIGTATT_ERR_IO, "a folder is refused");
}

Test(policy, env_file_malformed_line_names_line_not_content)
{
    char *p = tmp_env("GOOD=1\nsk-pasted-key-without-name\n", 0600);
    char *v = NULL;
    cr_assert_eq(aigtatt_env_file_lookup(p, "GOOD", &v), AIGTATT_ERR_FORMAT);
    cr_assert(strstr(aigtatt_last_error(), ":2:"), "%s", aigtatt_last_error());
    cr_assert_null(strstr(aigtatt_last_error(), "sk-pasted"));
    unlink(p);
    free(p);
}

Test(policy, secret_get_env_then_file_and_registers)
{
    char *p = tmp_env("FILE_KEY=from-file-secret-42\nBOTH_KEY=file-loses\n", 0600);
    setenv("AIGTATT_ENV_FILE", p, 1);
    setenv("BOTH_KEY", "env-wins-secret-43", 1);
    const char *v = NULL;
    cr_assert_eq(aigtatt_secret_get("FILE_KEY", &v), AIGTATT_OK);
    cr_assert_str_eq(v, "from-file-secret-42");
    const char *again = NULL;
    cr_assert_eq(aigtatt_secret_get("FILE_KEY", &again), AIGTATT_OK);
    cr_assert_eq(v, again, "the same host-owned string");
    cr_assert_eq(aigtatt_secret_get("BOTH_KEY", &v), AIGTATT_OK);
    cr_assert_str_eq(v, "env-wins-secret-43");
    char *r = aigtatt_redact_dup("a from-file-secret-42 b env-wins-secret-43 c");
    cr_assert_str_eq(r, "a *** b *** c");
    free(r);
    cr_assert_eq(aigtatt_secret_get("NOT_THERE_KEY", &v), AIGTATT_ERR_INVALID);
    cr_assert_null(v);
    cr_assert(strstr(aigtatt_last_error(), "NOT_THERE_KEY is not set"), "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_secret_get("bad name", &v), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_secret_get(NULL, &v), AIGTATT_ERR_INVALID);
    chmod(p, 0604);
    cr_assert_eq(aigtatt_secret_get("OTHER_FILE_KEY", &v), AIGTATT_ERR_IO, "refused file");
    unlink(p);
    free(p);
}

/* ./.env first, then the folder the CLI names (the experiment's); a
 * refused file stops the look-up and is named. */
Test(policy, secret_get_looks_in_the_current_then_the_experiment_folder)
{
    unsetenv("AIGTATT_ENV_FILE");
    char cwd[] = "/tmp/aigtatt-envcwd-XXXXXX", exp[] = "/tmp/aigtatt-envexp-XXXXXX";
    cr_assert_not_null(mkdtemp(cwd));
    cr_assert_not_null(mkdtemp(exp));
    cr_assert_eq(chdir(cwd), 0);
    char ep[256], cp[256];
    snprintf(ep, sizeof ep, "%s/.env", exp);
    snprintf(cp, sizeof cp, "%s/.env", cwd);
    FILE *f = fopen(ep, "w");
    fputs("EXP_KEY=from-exp-folder-77\nBOTH_FILES_KEY=exp-loses\n", f);
    fclose(f);
    chmod(ep, 0600);
    f = fopen(cp, "w");
    fputs("BOTH_FILES_KEY=cwd-wins-78\n", f);
    fclose(f);
    chmod(cp, 0600);
    const char *v = NULL;
    cr_assert_eq(aigtatt_secret_get("EXP_KEY", &v), AIGTATT_ERR_INVALID, "no folder set yet");
    cr_assert(strstr(aigtatt_last_error(), "to .env (readable"), "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_secret_set_env_dir(exp), AIGTATT_OK);
    cr_assert_eq(aigtatt_secret_get("EXP_KEY", &v), AIGTATT_OK);
    cr_assert_str_eq(v, "from-exp-folder-77");
    cr_assert_eq(aigtatt_secret_get("BOTH_FILES_KEY", &v), AIGTATT_OK);
    cr_assert_str_eq(v, "cwd-wins-78");
    cr_assert_eq(aigtatt_secret_get("NEITHER_KEY", &v), AIGTATT_ERR_INVALID);
    cr_assert(strstr(aigtatt_last_error(), "to .env or ") && strstr(aigtatt_last_error(), ep), "%s",
              aigtatt_last_error());
    chmod(ep, 0644);
    cr_assert_eq(aigtatt_secret_get("OTHER_EXP_KEY", &v), AIGTATT_ERR_IO);
    cr_assert(strstr(aigtatt_last_error(), ep) && strstr(aigtatt_last_error(), "chmod 600"), "%s",
              aigtatt_last_error());
    /* the same folder twice is read once */
    cr_assert_eq(aigtatt_secret_set_env_dir(cwd), AIGTATT_OK);
    cr_assert_eq(aigtatt_secret_get("NEITHER_KEY", &v), AIGTATT_ERR_INVALID);
    cr_assert_null(strstr(aigtatt_last_error(), "to .env or "), "%s", aigtatt_last_error());
    aigtatt_secret_set_env_dir(NULL);
    unlink(ep);
    unlink(cp);
    rmdir(exp);
    rmdir(cwd);
}
