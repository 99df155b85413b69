/* http_request: the retry and redirect loop. Checks are in http_prepare.c,
 * one transfer in http_xfer.c, the policy numbers in http_policy.c. */
#include "net/http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "net/http_internal.h"
#include "net/http_log.h"
#include "net/http_slots.h"
#include "net/http_xfer.h"
#include "net/secret.h"
#include "util/error.h"
#include "util/pool.h"

#define ERROR_BODY_MAX 300

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_code;
static atomic_uint_fast64_t st_requests, st_attempts, st_retries, st_failures, st_bytes, seed_counter;

static void net_init(void) { init_code = curl_global_init(CURL_GLOBAL_DEFAULT); }

void aigtatt_http_stats_get(aigtatt_http_stats *out)
{
    out->requests = atomic_load(&st_requests);
    out->attempts = atomic_load(&st_attempts);
    out->retries = atomic_load(&st_retries);
    out->failures = atomic_load(&st_failures);
    out->bytes_in = atomic_load(&st_bytes);
}

static int transport_transient(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

static int is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Why a transfer failed, in words, for the error text. */
static void describe_failure(const aigtatt_http_xfer *x, char *buf, size_t size)
{
    if (x->code == CURLE_OPERATION_TIMEDOUT && strstr(x->errbuf, "too slow"))
        snprintf(buf, size, "transfer too slow (under %ld bytes/s for %ld s): %s", x->low_speed_bytes,
                 x->low_speed_time_s, x->errbuf);
    else if (x->errbuf[0])
        snprintf(buf, size, "%s", x->errbuf);
    else
        snprintf(buf, size, "%s", curl_easy_strerror(x->code));
}

typedef struct loop_state {
    aigtatt_http_request r;
    aigtatt_http_xfer x;
    char *url;           /* current URL (changes with redirects) */
    char *shown;         /* current URL for messages (no query) */
    const char *method;  /* current method (303 turns it into GET) */
    int64_t start_ms;
    int64_t deadline_ms;
    uint64_t rng;
    int retries;
    int redirects;
} loop_state;

/* Waits before the next attempt; AIGTATT_OK to go on. */
static int wait_retry(loop_state *s, int64_t wait_ms, const char *why)
{
    if (aigtatt_http_now_ms() + wait_ms >= s->deadline_ms)
        return AIGTATT_ERR_IO;
    aigtatt_http_log(AIGTATT_LOG_WARN, "http: %s %s: %s; retry %d of %d in %.1f s", s->method, s->shown, why,
                     s->retries + 1, s->r.max_retries, (double)wait_ms / 1000.0);
    int rc = aigtatt_http_sleep_ms(wait_ms, s->deadline_ms);
    if (rc == AIGTATT_OK) {
        s->retries++;
        atomic_fetch_add(&st_retries, 1);
    }
    return rc;
}

static int set_url(loop_state *s, char *url)
{
    char *shown = aigtatt_http_url_for_log(url);
    if (!shown) {
        free(url);
        return AIGTATT_ERR_NOMEM;
    }
    free(s->url);
    free(s->shown);
    s->url = url;
    s->shown = shown;
    /* Only decides the proxy; the scheme policy was checked already. */
    char *host = NULL;
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
        curl_url_get(u, CURLUPART_HOST, &host, 0);
    s->x.loopback = aigtatt_http_host_is_loopback(host);
    curl_free(host);
    curl_url_cleanup(u);
    return AIGTATT_OK;
}

/* A 3xx with Location when following: moves s to the target. Credentials
 * stay behind once the origin changes, for the rest of the call (a hop back
 * to the first host does not get them back: it was sent there by a host
 * that was not trusted with them). */
static int follow(loop_state *s, const char *location)
{
    if (s->redirects >= s->r.max_redirects) {
        aigtatt_http_error("%s %s: more than %d redirects", s->method, s->shown, s->r.max_redirects);
        return AIGTATT_ERR_IO;
    }
    char *next = aigtatt_http_resolve(s->url, location);
    if (!next) {
        aigtatt_http_error("%s %s: redirect to an unparsable Location", s->method, s->shown);
        return AIGTATT_ERR_IO;
    }
    if (aigtatt_http_check_url(next, s->r.allow_http) != AIGTATT_OK) {
        free(next);
        char why[1024];
        snprintf(why, sizeof why, "%s", aigtatt_last_error());
        aigtatt_http_error("%s %s: redirect refused: %s", s->method, s->shown, why);
        return AIGTATT_ERR_INVALID;
    }
    if (!aigtatt_http_same_origin(s->url, next))
        s->x.strip_credentials = 1;
    if (s->x.status == 303 || ((s->x.status == 301 || s->x.status == 302) && !strcmp(s->method, "POST"))) {
        if (strcmp(s->method, "HEAD") != 0)
            s->method = "GET";
        s->x.body = NULL;
        s->x.body_len = 0;
    }
    s->redirects++;
    return set_url(s, next);
}

static void error_for_status(loop_state *s, const char *extra)
{
    char snip[ERROR_BODY_MAX + 64];
    aigtatt_http_snippet(s->x.body_out, s->x.body_out_len, ERROR_BODY_MAX, snip, sizeof snip);
    char retries[48] = "";
    if (s->retries)
        snprintf(retries, sizeof retries, " after %d retr%s", s->retries, s->retries == 1 ? "y" : "ies");
    aigtatt_http_error("%s %s: HTTP %ld%s%s%s%s%s", s->method, s->shown, s->x.status, retries,
                       extra ? "; " : "", extra ? extra : "", snip[0] ? ": " : "", snip);
}

/* One pass of the loop. Returns 1 to go round again, 0 when *rc is final
 * (with s->x holding the answer when *rc is OK or an HTTP error). */
static int step(loop_state *s, int *rc, int *have_answer)
{
    *have_answer = 0;
    if (aigtatt_cancelled()) {
        *rc = AIGTATT_ERR_CANCELLED;
        aigtatt_http_error("%s %s: interrupted", s->method, s->shown);
        return 0;
    }
    int64_t now = aigtatt_http_now_ms();
    int64_t left = s->deadline_ms - now;
    *rc = left > 0 ? aigtatt_http_slot_acquire(s->deadline_ms) : AIGTATT_ERR_IO;
    if (*rc != AIGTATT_OK) {
        aigtatt_http_error("%s %s: %s", s->method, s->shown,
                           *rc == AIGTATT_ERR_CANCELLED ? "interrupted" : "deadline passed while waiting for a free connection slot");
        return 0;
    }
    now = aigtatt_http_now_ms();
    left = s->deadline_ms - now;
    if (left < 1)
        left = 1;
    s->x.url = s->url;
    s->x.method = s->method;
    s->x.timeout_ms = s->r.attempt_timeout_ms < left ? s->r.attempt_timeout_ms : left;
    s->x.connect_timeout_ms = s->r.connect_timeout_ms < s->x.timeout_ms ? s->r.connect_timeout_ms : s->x.timeout_ms;
    s->x.plain_http_ok = !strncasecmp(s->url, "http:", 5);
    aigtatt_http_dump_request(&s->x, s->retries + s->redirects + 1);
    atomic_fetch_add(&st_attempts, 1);
    *rc = aigtatt_http_xfer_run(&s->x);
    aigtatt_http_slot_release();
    if (*rc != AIGTATT_OK) {
        aigtatt_http_error("%s %s: out of memory", s->method, s->shown);
        return 0;
    }
    atomic_fetch_add(&st_bytes, s->x.body_out_len);
    aigtatt_http_dump_response(&s->x, (double)(aigtatt_http_now_ms() - now) / 1000.0);

    if (s->x.cancelled) {
        *rc = AIGTATT_ERR_CANCELLED;
        aigtatt_http_error("%s %s: interrupted", s->method, s->shown);
        return 0;
    }
    if (s->x.over_cap || s->x.code == CURLE_FILESIZE_EXCEEDED || s->x.headers_over) {
        *rc = AIGTATT_ERR_LIMIT;
        if (s->x.headers_over)
            aigtatt_http_error("%s %s: response headers larger than 256 KiB", s->method, s->shown);
        else
            aigtatt_http_error("%s %s: response larger than the %llu-byte limit", s->method, s->shown,
                               (unsigned long long)s->r.max_response_bytes);
        return 0;
    }
    if (s->x.code != CURLE_OK) {
        char why[CURL_ERROR_SIZE + 128];
        describe_failure(&s->x, why, sizeof why);
        int transient = transport_transient(s->x.code);
        if (s->retries < s->r.max_retries &&
            aigtatt_http_may_retry(s->method, s->r.retry_post, 0, transient, s->x.sent)) {
            int64_t wait = aigtatt_http_backoff_ms(s->retries, s->r.backoff_base_ms, s->r.backoff_max_ms, &s->rng);
            *rc = wait_retry(s, wait, why);
            if (*rc == AIGTATT_OK)
                return 1;
        }
        const char *note = "";
        if (transient && s->x.sent && !aigtatt_http_method_idempotent(s->method) &&
            s->r.retry_post != AIGTATT_HTTP_RETRY_POST_ALWAYS)
            note = "; not retried: the request was sent and may have been processed";
        char retries[48] = "";
        if (s->retries)
            snprintf(retries, sizeof retries, " (after %d retr%s)", s->retries, s->retries == 1 ? "y" : "ies");
        *rc = aigtatt_cancelled() ? AIGTATT_ERR_CANCELLED
              : s->x.code == CURLE_WRITE_ERROR ? AIGTATT_ERR_NOMEM : AIGTATT_ERR_IO;
        aigtatt_http_error("%s %s: %s%s%s", s->method, s->shown,
                           *rc == AIGTATT_ERR_CANCELLED ? "interrupted" : why, retries, note);
        return 0;
    }

    const char *location = aigtatt_http_find_header(s->x.hnames, s->x.hvalues, s->x.hcount, "location");
    if (is_redirect(s->x.status) && location && s->r.max_redirects > 0) {
        *rc = follow(s, location);
        return *rc == AIGTATT_OK;
    }
    *have_answer = 1;
    *rc = AIGTATT_OK;
    if (aigtatt_http_status_retryable((int)s->x.status)) {
        const char *extra = NULL;
        char note[160];
        int may = aigtatt_http_may_retry(s->method, s->r.retry_post, (int)s->x.status, 0, 1);
        if (may && s->retries < s->r.max_retries) {
            int64_t wait = 0;
            const char *ra = aigtatt_http_find_header(s->x.hnames, s->x.hvalues, s->x.hcount, "retry-after");
            int asked = ra && aigtatt_http_parse_retry_after(ra, time(NULL), &wait) == 0;
            if (!asked)
                wait = aigtatt_http_backoff_ms(s->retries, s->r.backoff_base_ms, s->r.backoff_max_ms, &s->rng);
            /* the limit is on what the server asks for, not on our backoff */
            if (asked && wait > s->r.max_retry_after_ms) {
                /* Retrying sooner than asked only earns another refusal. */
                snprintf(note, sizeof note, "the server asked to retry after %.0f s, more than the %.0f s allowed",
                         (double)wait / 1000.0, (double)s->r.max_retry_after_ms / 1000.0);
                extra = note;
            } else {
                char why[32];
                snprintf(why, sizeof why, "HTTP %ld", s->x.status);
                int w = wait_retry(s, wait, why);
                if (w == AIGTATT_OK)
                    return 1;
                if (w == AIGTATT_ERR_CANCELLED) {
                    *have_answer = 0;
                    *rc = w;
                    aigtatt_http_error("%s %s: interrupted", s->method, s->shown);
                    return 0;
                }
                snprintf(note, sizeof note, "no time left before the deadline to retry");
                extra = note;
            }
        } else if (!may) {
            extra = "not retried: the request may have been processed";
        }
        if (s->x.status >= 400) {
            *rc = AIGTATT_ERR_IO;
            error_for_status(s, extra);
        }
        return 0;
    }
    if (s->x.status >= 400) {
        *rc = AIGTATT_ERR_IO;
        error_for_status(s, NULL);
    }
    return 0;
}

int aigtatt_http_request_do(const aigtatt_http_request *req, aigtatt_http_response **out)
{
    if (out)
        *out = NULL;
    if (!req || !out) {
        aigtatt_http_error("http_request: NULL argument");
        return AIGTATT_ERR_INVALID;
    }
    /* Before prepare(): the URL checks use curl's parser. */
    pthread_once(&init_once, net_init);
    if (init_code != CURLE_OK) {
        aigtatt_http_error("http_request: libcurl failed to initialise: %s", curl_easy_strerror(init_code));
        return AIGTATT_ERR_IO;
    }
    loop_state s;
    memset(&s, 0, sizeof s);
    int rc = aigtatt_http_prepare(req, &s.r);
    if (rc != AIGTATT_OK)
        return rc;
    atomic_fetch_add(&st_requests, 1);
    s.start_ms = aigtatt_http_now_ms();
    s.deadline_ms = s.start_ms + s.r.timeout_ms;
    s.rng = s.r.jitter_seed;
    if (!s.rng) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s.rng = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^
                (atomic_fetch_add(&seed_counter, 1) << 32);
    }
    s.method = s.r.method;
    s.x.headers = s.r.headers;
    s.x.n_headers = s.r.n_headers;
    s.x.body = s.r.body;
    s.x.body_len = s.r.body_len;
    s.x.low_speed_bytes = (long)s.r.low_speed_bytes;
    s.x.low_speed_time_s = (long)s.r.low_speed_time_s;
    s.x.max_bytes = s.r.max_response_bytes;
    char *url = strdup(s.r.url);
    if (!url || set_url(&s, url) != AIGTATT_OK) {
        rc = AIGTATT_ERR_NOMEM;
        aigtatt_http_error("http_request: out of memory");
        goto done;
    }
    int have_answer = 0;
    while (step(&s, &rc, &have_answer))
        ;
    if (have_answer) {
        double elapsed = (double)(aigtatt_http_now_ms() - s.start_ms) / 1000.0;
        aigtatt_http_response *resp = aigtatt_http_response_take(&s.x, s.url, s.retries, s.redirects, elapsed);
        if (!resp) {
            rc = AIGTATT_ERR_NOMEM;
            aigtatt_http_error("http_request: out of memory");
            goto done;
        }
        s.url = NULL; /* the response owns it now */
        *out = resp;
    }
done:
    if (rc != AIGTATT_OK)
        atomic_fetch_add(&st_failures, 1);
    aigtatt_http_xfer_clear(&s.x);
    free(s.url);
    free(s.shown);
    return rc;
}
