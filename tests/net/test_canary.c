/* Key hygiene: a canary key, loaded through secret_get, sent in headers,
 * URLs and bodies and echoed back by the server, never shows in an error
 * text or a log line, verbose mode included. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/fake_server.h"
#include "net/http.h"
#include "net/secret.h"
#include "util/buf.h"
#include "util/error.h"

#define CANARY "sk-CANARY-7f3a9c1e5b2d4f60"
#define CANARY_TAIL "7f3a9c1e5b2d4f60"

static fake_server *fs;
static int saved_stderr = -1;
static char log_path[] = "/tmp/aigtatt-canary-log-XXXXXX";

static void setup(void)
{
    fs = fake_start();
    cr_assert_not_null(fs);
}

static void teardown(void)
{
    fake_stop(fs);
    aigtatt_secrets_clear();
}

TestSuite(canary, .init = setup, .fini = teardown, .timeout = 30);

static void capture_begin(void)
{
    fflush(stderr);
    int fd = mkstemp(log_path);
    cr_assert_geq(fd, 0);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

static char *capture_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    FILE *f = fopen(log_path, "rb");
    cr_assert_not_null(f);
    aigtatt_buf b = AIGTATT_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        aigtatt_buf_append(&b, chunk, n);
    fclose(f);
    unlink(log_path);
    return aigtatt_buf_take(&b);
}

static void try_one(aigtatt_buf *errors, aigtatt_http_request *r, const char *body_must_hold)
{
    aigtatt_http_response *resp = NULL;
    aigtatt_clear_error();
    int rc = aigtatt_http_request_do(r, &resp);
    aigtatt_buf_printf(errors, "rc=%d %s\n", rc, aigtatt_last_error());
    if (body_must_hold) {
        /* The server did echo the key: the redaction below is real work. */
        cr_assert_not_null(resp);
        cr_assert(strstr(resp->body, body_must_hold), "%s", resp->body);
    }
    aigtatt_http_response_free(resp);
}

Test(canary, key_never_in_errors_or_logs)
{
    setenv("AIGTATT_TEST_CANARY_KEY", CANARY, 1);
    const char *key = NULL;
    cr_assert_eq(aigtatt_secret_get("AIGTATT_TEST_CANARY_KEY", &key), AIGTATT_OK);
    char bearer[128], u[512], body[256];
    snprintf(bearer, sizeof bearer, "Bearer %s", key);
    aigtatt_http_header h[] = {{"Authorization", bearer}, {"X-Api-Key", key}, {"X-Custom", key},
                               {"Content-Type", "application/json"}};
    aigtatt_http_request base = {
        .struct_size = sizeof base,
        .headers = h,
        .n_headers = 4,
        .allow_http = AIGTATT_HTTP_ALLOW_LOOPBACK,
        .timeout_ms = 5000,
        .backoff_base_ms = 10,
        .backoff_max_ms = 20,
        .max_retries = 1,
        .jitter_seed = 3,
    };
    int p1 = fake_port(fs, 0);
    aigtatt_http_set_verbose(1);
    aigtatt_log_set_level(AIGTATT_LOG_DEBUG);
    aigtatt_buf errors = AIGTATT_BUF_INIT;
    capture_begin();

    aigtatt_http_request r = base;
    snprintf(u, sizeof u, "http://127.0.0.1:%d/401", p1);
    r.url = u;
    try_one(&errors, &r, CANARY); /* the 401 body echoes the key */

    snprintf(u, sizeof u, "http://127.0.0.1:%d/401?key=%s", p1, key);
    try_one(&errors, &r, NULL);

    snprintf(u, sizeof u, "http://127.0.0.1:%d/hang", p1);
    r.timeout_ms = 400;
    try_one(&errors, &r, NULL);
    r.timeout_ms = 5000;

    snprintf(u, sizeof u, "http://127.0.0.1:%d/redirect-other", p1);
    r.max_redirects = 2;
    try_one(&errors, &r, NULL);
    cr_assert_eq(fake_auth_count(fs, "/landing"), 0);
    r.max_redirects = 0;

    snprintf(u, sizeof u, "http://127.0.0.1:%d/ra-long", p1);
    try_one(&errors, &r, NULL);

    snprintf(u, sizeof u, "http://127.0.0.1:%d/endless", p1);
    r.max_response_bytes = 65536;
    try_one(&errors, &r, NULL);
    r.max_response_bytes = 0;

    snprintf(u, sizeof u, "http://127.0.0.1:%d/always500", p1);
    snprintf(body, sizeof body, "{\"api_key\":\"%s\",\"note\":\"key=%s\"}", key, key);
    r.method = "POST";
    r.body = body;
    r.body_len = strlen(body);
    try_one(&errors, &r, NULL);
    r.method = NULL;
    r.body = NULL;
    r.body_len = 0;

    /* A key in the path of a URL that cannot be reached. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t alen = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    close(fd);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/v1/%s/x", ntohs(a.sin_port), key);
    try_one(&errors, &r, NULL);

    snprintf(u, sizeof u, "https://user:%s@example.invalid/", key);
    try_one(&errors, &r, NULL);

    snprintf(u, sizeof u, "http://example.invalid/%s", key);
    try_one(&errors, &r, NULL);

    char *logs = capture_end();
    const char *err = aigtatt_buf_str(&errors);
    cr_assert_null(strstr(err, CANARY_TAIL), "key in an error text:\n%s", err);
    cr_assert_null(strstr(logs, CANARY_TAIL), "key in the log");
    /* The log really dumped what was sent and received. */
    cr_assert(strstr(logs, "Authorization: ***"), "%s", logs);
    cr_assert(strstr(logs, "X-Api-Key: ***"), "%s", logs);
    cr_assert(strstr(logs, "X-Custom: ***"), "%s", logs);
    cr_assert(strstr(logs, "http < 401"), "%s", logs);
    cr_assert(strstr(logs, "Incorrect API key provided"), "%s", logs);
    cr_assert(strstr(err, "HTTP 401"), "%s", err);
    free(logs);
    aigtatt_buf_free(&errors);
}
