/* Request checks and defaults: everything refused here costs no
 * connection. */
#include "net/http_internal.h"

#include <string.h>

#include "net/http.h"
#include "net/http_log.h"

#define DEF_CONNECT_MS 10000
#define DEF_TIMEOUT_MS 300000
#define DEF_LOW_SPEED_TIME_S 60
#define DEF_MAX_BYTES (64u << 20)
#define DEF_RETRIES 4
#define DEF_BACKOFF_BASE_MS 500
#define DEF_BACKOFF_MAX_MS 30000
#define DEF_RETRY_AFTER_MAX_MS 120000

static int is_token(const char *s, size_t max)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
              strchr(extra, s[n])))
            return 0;
    return n > 0 && n <= max;
}

int aigtatt_http_prepare(const aigtatt_http_request *user, aigtatt_http_request *r)
{
    memset(r, 0, sizeof *r);
    size_t min = offsetof(aigtatt_http_request, url) + sizeof user->url;
    if (user->struct_size < min || user->struct_size > sizeof *r) {
        aigtatt_http_error("http_request: struct_size %zu is not between %zu and %zu", user->struct_size,
                           min, sizeof *r);
        return AIGTATT_ERR_INVALID;
    }
    memcpy(r, user, user->struct_size);
    if (!r->method)
        r->method = r->body_len ? "POST" : "GET";
    if (!is_token(r->method, 16)) {
        aigtatt_http_error("http_request: bad method '%.20s'", r->method);
        return AIGTATT_ERR_INVALID;
    }
    if ((r->body_len && !r->body) || (r->n_headers && !r->headers)) {
        aigtatt_http_error("http_request: body or headers missing for their length");
        return AIGTATT_ERR_INVALID;
    }
    for (size_t i = 0; i < r->n_headers; i++) {
        const aigtatt_http_header *h = &r->headers[i];
        if (!h->name || !is_token(h->name, 128) ||
            (h->value && strpbrk(h->value, "\r\n"))) {
            aigtatt_http_error("http_request: header %zu ('%.40s') has a bad name or a line break "
                               "in its value", i, h->name ? h->name : "(null)");
            return AIGTATT_ERR_INVALID;
        }
    }
    if (r->allow_http < AIGTATT_HTTP_HTTPS_ONLY || r->allow_http > AIGTATT_HTTP_ALLOW_ANY_HOST ||
        r->retry_post < AIGTATT_HTTP_RETRY_POST_IF_NOT_SENT || r->retry_post > AIGTATT_HTTP_RETRY_POST_ALWAYS) {
        aigtatt_http_error("http_request: allow_http %d or retry_post %d out of range", r->allow_http,
                           r->retry_post);
        return AIGTATT_ERR_INVALID;
    }
    if (r->connect_timeout_ms <= 0)
        r->connect_timeout_ms = DEF_CONNECT_MS;
    if (r->timeout_ms <= 0)
        r->timeout_ms = DEF_TIMEOUT_MS;
    if (r->attempt_timeout_ms <= 0 || r->attempt_timeout_ms > r->timeout_ms)
        r->attempt_timeout_ms = r->timeout_ms;
    if (r->low_speed_bytes <= 0)
        r->low_speed_bytes = 1;
    if (r->low_speed_time_s <= 0)
        r->low_speed_time_s = DEF_LOW_SPEED_TIME_S;
    if (r->max_response_bytes == 0)
        r->max_response_bytes = DEF_MAX_BYTES;
    if (r->max_retries == 0)
        r->max_retries = DEF_RETRIES;
    if (r->max_retries < 0)
        r->max_retries = 0;
    if (r->backoff_base_ms <= 0)
        r->backoff_base_ms = DEF_BACKOFF_BASE_MS;
    if (r->backoff_max_ms <= 0)
        r->backoff_max_ms = DEF_BACKOFF_MAX_MS;
    if (r->max_retry_after_ms <= 0)
        r->max_retry_after_ms = DEF_RETRY_AFTER_MAX_MS;
    if (r->max_redirects < 0)
        r->max_redirects = 0;
    return aigtatt_http_check_url(r->url, r->allow_http);
}
