/* The HTTP client against the fake server (fake_server.h): every case ends
 * in its documented outcome within its deadline. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/fake_server.h"
#include "net/http.h"
#include "net/secret.h"
#include "util/error.h"
#include "util/pool.h"

static fake_server *fs;

static void setup(void)
{
    fs = fake_start();
    cr_assert_not_null(fs, "fake server did not start");
    aigtatt_log_set_level(AIGTATT_LOG_ERROR); /* retries log warnings */
}

static void teardown(void)
{
    fake_stop(fs);
    aigtatt_secrets_clear();
}

TestSuite(client, .init = setup, .fini = teardown, .timeout = 30);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char url_buf[8][256];
static int url_next;

/* http://127.0.0.<which+1>:<port><path>; a few live at once. */
static const char *url(int which, const char *path)
{
    char *b = url_buf[url_next++ % 8];
    snprintf(b, sizeof url_buf[0], "http://127.0.0.%d:%d%s", which + 1, fake_port(fs, which), path);
    return b;
}

static aigtatt_http_request req_for(const char *path)
{
    aigtatt_http_request r = {
        .struct_size = sizeof r,
        .url = url(0, path),
        .allow_http = AIGTATT_HTTP_ALLOW_LOOPBACK,
        .timeout_ms = 10000,
        .backoff_base_ms = 20,
        .backoff_max_ms = 200,
        .jitter_seed = 1,
    };
    return r;
}

static int run(const aigtatt_http_request *r, aigtatt_http_response **out, double *secs)
{
    double t0 = now_s();
    int rc = aigtatt_http_request_do(r, out);
    *secs = now_s() - t0;
    return rc;
}

Test(client, json_200)
{
    aigtatt_http_request r = req_for("/json");
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(resp->status, 200);
    cr_assert_eq(resp->retries_made, 0);
    cr_assert_str_eq(aigtatt_http_header_get(resp, "content-type"), "application/json");
    cr_assert_str_eq(aigtatt_http_header_get(resp, "CONTENT-TYPE"), "application/json");
    cr_assert_null(aigtatt_http_header_get(resp, "x-missing"));
    json_error_t err;
    json_t *j = json_loadb(resp->body, resp->body_len, 0, &err);
    cr_assert_not_null(j, "%s", err.text);
    cr_assert(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
    cr_assert_eq(resp->body[resp->body_len], '\0');
    cr_assert(strstr(resp->url, "/json"));
    cr_assert_lt(s, 2.0);
    aigtatt_http_response_free(resp);
}

Test(client, status_401_is_an_error_with_the_response)
{
    aigtatt_http_request r = req_for("/401");
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_IO);
    cr_assert_not_null(resp);
    cr_assert_eq(resp->status, 401);
    cr_assert(strstr(aigtatt_last_error(), "HTTP 401"), "%s", aigtatt_last_error());
    cr_assert_eq(fake_count(fs, "/401"), 1, "401 is not retried");
    aigtatt_http_response_free(resp);
}

Test(client, retry_after_seconds_is_honoured)
{
    aigtatt_http_request r = req_for("/ra-secs");
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(resp->status, 200);
    cr_assert_eq(resp->retries_made, 1);
    cr_assert_eq(fake_count(fs, "/ra-secs"), 2);
    cr_assert(s >= 0.95 && s < 3.0, "waited %.2f s for Retry-After: 1", s);
    aigtatt_http_response_free(resp);
}

Test(client, retry_after_date_is_honoured)
{
    aigtatt_http_request r = req_for("/ra-date");
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(resp->retries_made, 1);
    /* The date has one-second resolution and is 2 s ahead when written. */
    cr_assert(s >= 0.9 && s < 4.0, "waited %.2f s for a date 2 s ahead", s);
    aigtatt_http_response_free(resp);
}

Test(client, retry_after_beyond_the_bound_is_not_waited_for)
{
    aigtatt_http_request r = req_for("/ra-long");
    r.max_retry_after_ms = 5000;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_IO);
    cr_assert_eq(resp->status, 429);
    cr_assert_eq(fake_count(fs, "/ra-long"), 1);
    cr_assert_lt(s, 1.5);
    cr_assert(strstr(aigtatt_last_error(), "retry after 3600 s"), "%s", aigtatt_last_error());
    aigtatt_http_response_free(resp);
}

Test(client, get_500_then_success)
{
    aigtatt_http_request r = req_for("/flaky500");
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(resp->retries_made, 2);
    cr_assert_eq(fake_count(fs, "/flaky500"), 3);
    cr_assert_lt(s, 2.0);
    aigtatt_http_response_free(resp);
}

Test(client, get_gives_up_after_max_retries)
{
    aigtatt_http_request r = req_for("/always500");
    r.max_retries = 2;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_IO);
    cr_assert_eq(resp->status, 500);
    cr_assert_eq(resp->retries_made, 2);
    cr_assert_eq(fake_count(fs, "/always500"), 3);
    cr_assert(strstr(aigtatt_last_error(), "after 2 retries"), "%s", aigtatt_last_error());
    aigtatt_http_response_free(resp);
}

Test(client, post_503_then_success_if_not_sent)
{
    aigtatt_http_request r = req_for("/flaky503");
    r.method = "POST";
    r.body = "{\"prompt\":\"a rose\"}";
    r.body_len = strlen(r.body);
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(resp->retries_made, 1);
    cr_assert_eq(fake_count(fs, "/flaky503"), 2);
    aigtatt_http_response_free(resp);
}

Test(client, post_500_is_not_repeated_if_not_sent)
{
    aigtatt_http_request r = req_for("/always500");
    r.method = "POST";
    r.body = "{}";
    r.body_len = 2;
    r.retry_post = AIGTATT_HTTP_RETRY_POST_IF_NOT_SENT;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_IO);
    cr_assert_eq(resp->status, 500);
    cr_assert_eq(resp->retries_made, 0);
    cr_assert_eq(fake_count(fs, "/always500"), 1, "paid work must not be started twice");
    cr_assert(strstr(aigtatt_last_error(), "not retried"), "%s", aigtatt_last_error());
    aigtatt_http_response_free(resp);
}

Test(client, post_never_and_always)
{
    aigtatt_http_request r = req_for("/always503");
    r.method = "POST";
    r.retry_post = AIGTATT_HTTP_RETRY_POST_NEVER;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_IO);
    cr_assert_eq(fake_count(fs, "/always503"), 1);
    aigtatt_http_response_free(resp);

    r = req_for("/flaky500");
    r.method = "POST";
    r.retry_post = AIGTATT_HTTP_RETRY_POST_ALWAYS;
    resp = NULL;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(fake_count(fs, "/flaky500"), 3);
    aigtatt_http_response_free(resp);
}

Test(client, echo_post_body)
{
    aigtatt_http_request r = req_for("/echo");
    r.body = "{\"n\":4}";
    r.body_len = strlen(r.body); /* method NULL + body: POST */
    aigtatt_http_header h[] = {{"Content-Type", "application/json"}};
    r.headers = h;
    r.n_headers = 1;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_str_eq(resp->body, "{\"n\":4}");
    aigtatt_http_response_free(resp);
}

Test(client, server_that_never_answers_hits_the_deadline)
{
    aigtatt_http_request r = req_for("/hang");
    r.timeout_ms = 1500;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_IO);
    cr_assert_null(resp);
    cr_assert(s >= 1.4 && s < 2.5, "deadline 1.5 s, took %.2f s", s);
    cr_assert(strstr(aigtatt_last_error(), "timed out"), "%s", aigtatt_last_error());
}

Test(client, post_that_timed_out_after_sending_is_not_retried)
{
    aigtatt_http_request r = req_for("/hang");
    r.method = "POST";
    r.timeout_ms = 5000;
    r.attempt_timeout_ms = 700;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_IO);
    cr_assert(s >= 0.6 && s < 2.0, "took %.2f s", s);
    cr_assert_eq(fake_count(fs, "/hang"), 1);
    cr_assert(strstr(aigtatt_last_error(), "may have been processed"), "%s", aigtatt_last_error());
}

Test(client, trickle_is_cut_by_the_low_speed_limit)
{
    aigtatt_http_request r = req_for("/trickle");
    r.low_speed_bytes = 50;
    r.low_speed_time_s = 1;
    r.max_retries = AIGTATT_HTTP_NO_RETRY;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_IO);
    cr_assert(s < 3.5, "took %.2f s", s);
    cr_assert(strstr(aigtatt_last_error(), "too slow"), "%s", aigtatt_last_error());
}

Test(client, endless_body_hits_the_byte_cap)
{
    aigtatt_http_request r = req_for("/endless");
    r.max_response_bytes = 1 << 20;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_LIMIT, "%s", aigtatt_last_error());
    cr_assert_null(resp);
    cr_assert_lt(s, 3.0);
    cr_assert_eq(fake_count(fs, "/endless"), 1, "a cap is not retried");
    cr_assert(strstr(aigtatt_last_error(), "1048576-byte limit"), "%s", aigtatt_last_error());
}

Test(client, announced_length_over_the_cap_is_refused_at_once)
{
    aigtatt_http_request r = req_for("/big-cl");
    r.max_response_bytes = 1000;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_LIMIT, "%s", aigtatt_last_error());
    cr_assert_lt(s, 1.5);
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

Test(client, refused_connection_post_is_retried_because_nothing_was_sent)
{
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/v1/predictions", closed_port());
    aigtatt_http_request r = req_for("/");
    r.url = u;
    r.method = "POST";
    r.max_retries = 2;
    aigtatt_http_stats before, after;
    aigtatt_http_stats_get(&before);
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_IO);
    aigtatt_http_stats_get(&after);
    cr_assert_eq(after.retries - before.retries, 2);
    cr_assert_eq(after.attempts - before.attempts, 3);
    cr_assert(strstr(aigtatt_last_error(), "after 2 retries"), "%s", aigtatt_last_error());
    cr_assert_lt(s, 2.0);
}

Test(client, redirect_to_another_host_drops_credentials)
{
    aigtatt_http_request r = req_for("/redirect-other");
    r.max_redirects = 3;
    aigtatt_http_header h[] = {{"Authorization", "Bearer sk-redirect-secret"}, {"X-Api-Key", "k-2"},
                               {"Accept", "application/json"}};
    r.headers = h;
    r.n_headers = 3;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(resp->status, 200);
    cr_assert_eq(resp->redirects_made, 1);
    cr_assert(strstr(resp->url, "127.0.0.2"), "%s", resp->url);
    cr_assert_eq(fake_auth_count(fs, "/redirect-other"), 1, "the first host got the key");
    cr_assert_eq(fake_count(fs, "/landing"), 1);
    cr_assert_eq(fake_auth_count(fs, "/landing"), 0, "the other host must not");
    aigtatt_http_response_free(resp);
}

Test(client, redirect_on_the_same_host_keeps_credentials)
{
    aigtatt_http_request r = req_for("/redirect-same");
    r.max_redirects = 3;
    aigtatt_http_header h[] = {{"Authorization", "Bearer sk-same-host"}};
    r.headers = h;
    r.n_headers = 1;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(fake_auth_count(fs, "/landing"), 1);
    aigtatt_http_response_free(resp);
}

Test(client, redirects_are_not_followed_by_default)
{
    aigtatt_http_request r = req_for("/redirect-other");
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(resp->status, 302);
    cr_assert_not_null(aigtatt_http_header_get(resp, "Location"));
    cr_assert_eq(fake_count(fs, "/landing"), 0);
    aigtatt_http_response_free(resp);
}

Test(client, redirect_to_plain_http_elsewhere_and_loops_are_refused)
{
    aigtatt_http_request r = req_for("/redirect-ext");
    r.max_redirects = 3;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_INVALID);
    cr_assert_null(resp);
    cr_assert(strstr(aigtatt_last_error(), "redirect refused"), "%s", aigtatt_last_error());

    r = req_for("/redirect-loop");
    r.max_redirects = 3;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_IO);
    cr_assert(strstr(aigtatt_last_error(), "more than 3 redirects"), "%s", aigtatt_last_error());
    cr_assert_eq(fake_count(fs, "/redirect-loop"), 4);
}

Test(client, scheme_policy_and_bad_requests_are_refused_offline)
{
    aigtatt_http_request r = req_for("/json");
    r.allow_http = AIGTATT_HTTP_HTTPS_ONLY;
    aigtatt_http_response *resp = NULL;
    double s;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_INVALID);
    cr_assert_eq(fake_count(fs, "/json"), 0);

    r = req_for("/json");
    aigtatt_http_header bad[] = {{"X-Evil", "a\r\nHost: other"}};
    r.headers = bad;
    r.n_headers = 1;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_INVALID);

    r = req_for("/json");
    r.method = "GET /x";
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_INVALID);

    r = req_for("/json");
    r.struct_size = sizeof r + 8;
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_http_request_do(NULL, &resp), AIGTATT_ERR_INVALID);
    cr_assert_eq(fake_count(fs, "/json"), 0);

    /* A plugin built against a shorter request struct still works. */
    r = req_for("/json");
    r.struct_size = offsetof(aigtatt_http_request, url) + sizeof r.url;
    r.url = url(0, "/json");
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_INVALID, "its zeroed allow_http means https only");
}

struct par {
    int rc[6];
};

static aigtatt_http_request slow_req;

static void *slow_get(void *arg)
{
    int *rc = arg;
    aigtatt_http_request r = slow_req;
    aigtatt_http_response *resp = NULL;
    *rc = aigtatt_http_request_do(&r, &resp);
    aigtatt_http_response_free(resp);
    return NULL;
}

Test(client, in_flight_requests_are_bounded)
{
    aigtatt_http_set_max_in_flight(2);
    /* url() is not thread-safe: build the request before the threads. */
    slow_req = req_for("/slow");
    struct par p;
    pthread_t t[6];
    double t0 = now_s();
    for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, slow_get, &p.rc[i]);
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    double s = now_s() - t0;
    for (int i = 0; i < 6; i++)
        cr_assert_eq(p.rc[i], AIGTATT_OK);
    cr_assert_eq(fake_max_concurrent(fs), 2);
    cr_assert(s >= 0.85, "6 x 300 ms two at a time took only %.2f s", s);
}

static void *cancel_later(void *arg)
{
    usleep(300 * 1000);
    aigtatt_cancel_request();
    return NULL;
}

Test(client, ctrl_c_stops_a_transfer_and_a_backoff_wait)
{
    pthread_t t;
    aigtatt_http_request r = req_for("/hang");
    r.timeout_ms = 20000;
    aigtatt_http_response *resp = NULL;
    double s;
    pthread_create(&t, NULL, cancel_later, NULL);
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_CANCELLED, "%s", aigtatt_last_error());
    pthread_join(t, NULL);
    cr_assert(s < 1.8, "cancel took %.2f s", s);
    aigtatt_cancel_reset();

    r = req_for("/always503");
    r.backoff_base_ms = 10000;
    r.backoff_max_ms = 10000;
    r.timeout_ms = 30000;
    pthread_create(&t, NULL, cancel_later, NULL);
    cr_assert_eq(run(&r, &resp, &s), AIGTATT_ERR_CANCELLED, "%s", aigtatt_last_error());
    pthread_join(t, NULL);
    cr_assert_null(resp);
    cr_assert(s < 1.5, "cancel during backoff took %.2f s", s);
    aigtatt_cancel_reset();
}
