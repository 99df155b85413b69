/* The core's HTTP client (libcurl), behind aigtatt_host.http_request.
 * The public contract is in sdk/include/aigtatt/http.h; this header adds
 * the process-wide settings and the pure policy functions the tests call. */
#ifndef AIGTATT_CORE_HTTP_H
#define AIGTATT_CORE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <aigtatt/http.h>

/* ---- host functions (see the typedefs in aigtatt/http.h) ------------- */

int aigtatt_http_request_do(const aigtatt_http_request *req, aigtatt_http_response **out);
void aigtatt_http_response_free(aigtatt_http_response *resp);
const char *aigtatt_http_header_get(const aigtatt_http_response *resp, const char *name);

/* ---- process-wide settings ------------------------------------------ */

/** Requests on the wire at once, across threads (default 8; < 1 means 1).
 *  Waiting requests keep their deadlines and notice Ctrl-C. */
void aigtatt_http_set_max_in_flight(int n);
/** Logs every request and response (method, URL, headers, the start of
 *  the body), redacted, at INFO; otherwise they go to DEBUG. Also on when
 *  AIGTATT_HTTP_VERBOSE is set to a non-empty value other than "0". */
void aigtatt_http_set_verbose(int on);

/** Totals since the process started, for the end-of-run summary. */
typedef struct aigtatt_http_stats {
    uint64_t requests;  /* calls of http_request */
    uint64_t attempts;  /* transfers started (requests + retries + redirects) */
    uint64_t retries;   /* attempts repeated after a failure */
    uint64_t failures;  /* calls that returned an error */
    uint64_t bytes_in;  /* body bytes received */
} aigtatt_http_stats;
void aigtatt_http_stats_get(aigtatt_http_stats *out);

/* ---- policy (pure functions, tested directly) ------------------------ */

/** Backoff before retry number `retry` (0 for the first retry): the step
 *  base_ms * 2^retry capped at max_ms, then "equal jitter": half the step
 *  plus a uniform share of the other half drawn from *rng_state
 *  (splitmix64, advanced). The same state gives the same delays. */
int64_t aigtatt_http_backoff_ms(int retry, int64_t base_ms, int64_t max_ms, uint64_t *rng_state);

/** Parses a Retry-After value: delta seconds ("120") or an HTTP date
 *  (IMF-fixdate, RFC 850, asctime), relative to `now`. A date in the past
 *  gives 0. Returns 0 with *ms set, or -1 when the value is malformed. */
int aigtatt_http_parse_retry_after(const char *value, time_t now, int64_t *ms);

/** Non-zero for methods that may be repeated without changing the result
 *  (GET, HEAD, PUT, DELETE, OPTIONS, TRACE). */
int aigtatt_http_method_idempotent(const char *method);

/** Non-zero for statuses worth another try: 408, 429, 500, 502, 503, 504. */
int aigtatt_http_status_retryable(int status);

/** Whether an outcome may be retried under the request's policy.
 *  `status` > 0: an HTTP answer; status 0: a transport failure, with
 *  `transport_retryable` saying whether the failure is a transient one and
 *  `sent` whether any byte of the request went out. */
int aigtatt_http_may_retry(const char *method, int retry_post, int status,
                           int transport_retryable, int sent);

/** Checks `url` against the scheme policy: https always; http only when
 *  allow_http is ALLOW_LOOPBACK and the host is loopback, or ALLOW_ANY_HOST.
 *  URLs with user:password are refused. Returns AIGTATT_OK or
 *  AIGTATT_ERR_INVALID with a (redacted) error text. */
int aigtatt_http_check_url(const char *url, int allow_http);

/** Non-zero if `host` (as in a URL, IPv6 in brackets or not) is
 *  localhost, in 127.0.0.0/8 or ::1. */
int aigtatt_http_host_is_loopback(const char *host);

/** Non-zero when a and b have the same scheme, host and port (default
 *  ports filled in); 0 when they differ or either fails to parse. */
int aigtatt_http_same_origin(const char *a, const char *b);

/** Resolves redirect target `location` against `base`; malloc'ed absolute
 *  URL, or NULL when it does not parse. */
char *aigtatt_http_resolve(const char *base, const char *location);

/** "scheme://host[:port]/path" of `url` without query or fragment, for
 *  messages (a query may carry a token); malloc'ed, or a copy of "<url>"
 *  when it does not parse, NULL on OOM. */
char *aigtatt_http_url_for_log(const char *url);

#endif
