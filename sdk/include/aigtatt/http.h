/* aigtatt SDK: the host's HTTP client and API-key helpers.
 *
 * Every provider plugin talks to remote services through these host
 * functions (aigtatt_host.http_request and friends) rather than linking an
 * HTTP library of its own, so that deadlines, byte caps, TLS verification,
 * retries, the in-flight limit, cancellation and key redaction are the same
 * for all of them. The client deals in bytes and headers; plugins build and
 * parse JSON themselves (with jansson).
 *
 * What the host guarantees for every request:
 *  - TLS certificates and host names are always verified.
 *  - https:// only, unless `allow_http` says otherwise (see below).
 *  - Redirects are not followed unless `max_redirects` > 0; when followed,
 *    credentials (Authorization, Proxy-Authorization, Cookie, X-Api-Key,
 *    Api-Key, and any header whose value holds a registered secret) are
 *    dropped as soon as a redirect leaves the original scheme+host+port.
 *  - Retries (429, 500, 502, 503, 504, connection failures, timeouts) wait
 *    with capped exponential backoff and jitter, or exactly as long as the
 *    server's Retry-After asks when it asks for no more than
 *    `max_retry_after_ms` (longer requests are not retried at all).
 *  - Non-idempotent methods (POST, PATCH) follow `retry_post`, so paid work
 *    is not started twice.
 *  - At most a configured number of requests are on the wire at once across
 *    all threads; the rest wait for a slot (within their deadline).
 *  - Ctrl-C (aigtatt_host.cancelled) aborts transfers and waits.
 *  - Log lines and error texts never contain a registered secret or the
 *    value of an Authorization / X-Api-Key header: they read "***". */
#ifndef AIGTATT_HTTP_H
#define AIGTATT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One request header. Both strings are borrowed for the duration of the
 *  call. The name must be an HTTP token; a value holding CR, LF or NUL is
 *  refused (header injection). */
typedef struct aigtatt_http_header {
    const char *name;  /**< e.g. "Authorization"; never NULL */
    const char *value; /**< e.g. "Bearer ..."; NULL or "" sends an empty value */
} aigtatt_http_header;

/** When a non-idempotent request (POST, PATCH, any method but GET, HEAD,
 *  PUT, DELETE and OPTIONS) may be sent again. Idempotent methods are always
 *  retried on the retryable outcomes. */
typedef enum aigtatt_http_retry_post {
    /** The default: retry only when the server provably did not process the
     *  request: no byte of it went out (refused or failed connection, DNS
     *  failure, TLS handshake failure), or the answer was 429 or 503, which
     *  mean "refused, not processed" (RFC 6585, RFC 9110) for the providers
     *  aigtatt speaks to. A 500, 502, 504 or a timeout after the request
     *  was sent is never retried: the work may exist and cost money. */
    AIGTATT_HTTP_RETRY_POST_IF_NOT_SENT = 0,
    /** Never send it twice. */
    AIGTATT_HTTP_RETRY_POST_NEVER = 1,
    /** Retry like an idempotent request (the API de-duplicates, e.g. with an
     *  idempotency key header). */
    AIGTATT_HTTP_RETRY_POST_ALWAYS = 2
} aigtatt_http_retry_post;

/** Which plain http:// URLs a request may use. */
typedef enum aigtatt_http_allow {
    /** The default: https:// only. */
    AIGTATT_HTTP_HTTPS_ONLY = 0,
    /** http:// too, but only to loopback hosts: localhost, 127.0.0.0/8, ::1
     *  (a local Stable Diffusion or llama.cpp server). */
    AIGTATT_HTTP_ALLOW_LOOPBACK = 1,
    /** http:// to any host; only when the user asked for it explicitly
     *  (e.g. a server on the lab network). */
    AIGTATT_HTTP_ALLOW_ANY_HOST = 2
} aigtatt_http_allow;

/** aigtatt_http_request.max_retries value for "no retries at all". */
#define AIGTATT_HTTP_NO_RETRY (-1)

/** A request. Zero-initialise it, set struct_size, then the fields you need;
 *  zero means "the default" everywhere. Fields are only ever appended: the
 *  host reads `struct_size` bytes and treats the rest as zero. Everything is
 *  borrowed for the duration of the call. */
typedef struct aigtatt_http_request {
    size_t struct_size;       /**< sizeof(aigtatt_http_request) as built */
    const char *method;       /**< "GET", "POST", "PUT", "PATCH", "DELETE",
                                   "HEAD", ...; NULL: GET, or POST when
                                   body_len > 0 */
    const char *url;          /**< absolute https:// URL (see allow_http); no
                                   user:password part; required */
    const aigtatt_http_header *headers; /**< n_headers entries, or NULL */
    size_t n_headers;         /**< entries in `headers` */
    const void *body;         /**< request body (body_len bytes), or NULL */
    size_t body_len;          /**< bytes in `body` */
    int64_t connect_timeout_ms; /**< per connection; 0: 10 s */
    int64_t timeout_ms;       /**< deadline of the whole call, retries and
                                   waits included; 0: 300 s */
    int64_t attempt_timeout_ms; /**< deadline of one attempt (never beyond
                                   timeout_ms); 0: as long as timeout_ms
                                   leaves */
    int64_t low_speed_bytes;  /**< abort an attempt that moves fewer bytes per
                                   second than this for low_speed_time_s
                                   (waiting for the answer counts); 0: 1 */
    int64_t low_speed_time_s; /**< see low_speed_bytes; 0: 60 s (raise it
                                   for servers that hold the answer, e.g.
                                   Replicate's "Prefer: wait") */
    uint64_t max_response_bytes; /**< body cap, enforced while receiving
                                   (decoded bytes); 0: 64 MiB */
    int allow_http;           /**< an aigtatt_http_allow value */
    int retry_post;           /**< an aigtatt_http_retry_post value */
    int max_retries;          /**< further attempts after the first; 0: 4;
                                   AIGTATT_HTTP_NO_RETRY: none */
    int64_t backoff_base_ms;  /**< first backoff step; 0: 500 ms */
    int64_t backoff_max_ms;   /**< backoff cap; 0: 30 s */
    int64_t max_retry_after_ms; /**< longest Retry-After honoured; a longer
                                   one ends the call with the 429/503
                                   response; 0: 120 s */
    int max_redirects;        /**< 0: redirects are returned as 3xx responses;
                                   N > 0: follow up to N (303, and 301/302 after
                                   a POST, continue as GET without a body) */
    uint64_t jitter_seed;     /**< seed of the backoff jitter; 0: from the
                                   clock (non-zero only for tests) */
} aigtatt_http_request;

/** A response, allocated by the host and released with
 *  aigtatt_host.http_response_free(). Read-only for the plugin. Fields are
 *  only ever appended. */
typedef struct aigtatt_http_response {
    size_t struct_size;   /**< sizeof(aigtatt_http_response) in the host */
    int status;           /**< HTTP status of the final answer (100..599) */
    const char *body;     /**< body_len bytes followed by a NUL byte (so text
                               parsers may take it as a string); never NULL;
                               owned by the response */
    size_t body_len;      /**< bytes in `body`, NUL not counted */
    int retries_made;     /**< attempts made after the first */
    int redirects_made;   /**< redirects followed */
    double elapsed_s;     /**< wall time of the whole call, waits included */
    const char *url;      /**< the URL that gave this answer (after redirects);
                               owned by the response */
} aigtatt_http_response;

/** Performs `req` with the guarantees above. On return *out is NULL or a
 *  response to free with aigtatt_http_response_free_fn, whatever the status.
 *  Returns:
 *  - AIGTATT_OK: a 1xx..3xx answer arrived (3xx only when not following);
 *  - AIGTATT_ERR_IO with *out set: the final answer was 4xx or 5xx (the
 *    error text names method, URL without its query, status, retries and
 *    the start of the body, redacted);
 *  - AIGTATT_ERR_IO with *out NULL: the connection failed, timed out or was
 *    too slow (after the retries the policy allows), or a redirect could
 *    not be followed;
 *  - AIGTATT_ERR_LIMIT: the body exceeded max_response_bytes (or the
 *    headers 256 KiB); *out NULL;
 *  - AIGTATT_ERR_INVALID: NULL req/out, bad struct_size, URL, method or
 *    header, or a URL (or redirect target) the scheme policy refuses;
 *  - AIGTATT_ERR_CANCELLED: the user pressed Ctrl-C;
 *  - AIGTATT_ERR_NOMEM.
 *  The error text (aigtatt_host.last_error) never contains a secret.
 *  Thread-safe. */
typedef int (*aigtatt_http_request_fn)(const aigtatt_http_request *req,
                                       aigtatt_http_response **out);

/** Releases a response and everything it owns; NULL is a no-op. */
typedef void (*aigtatt_http_response_free_fn)(aigtatt_http_response *resp);

/** The value of response header `name` (case-insensitive; the last one when
 *  it came several times), with surrounding whitespace removed; owned by
 *  the response. NULL when absent or when resp or name is NULL. */
typedef const char *(*aigtatt_http_header_fn)(const aigtatt_http_response *resp,
                                              const char *name);

/** Looks up the API key `name` (e.g. "OPENAI_API_KEY"): first the
 *  environment, then the `.env` file (KEY=VALUE lines, optional `export `,
 *  # comments, optional quotes; the file is ./.env unless the core was told
 *  otherwise or AIGTATT_ENV_FILE names one). A `.env` readable or writable
 *  by group or others (mode & 077) is refused, as is one that is not a
 *  regular file. On success *value is a host-owned string, valid until the
 *  process ends, registered for redaction: it never shows in host logs or
 *  error texts. Returns AIGTATT_OK; AIGTATT_ERR_INVALID (bad name, NULL
 *  argument, or key not found: the message says where to put it) or
 *  AIGTATT_ERR_IO (.env unreadable or refused), leaving *value NULL.
 *  Never put the value into set_error() texts, records or files. */
typedef int (*aigtatt_secret_get_fn)(const char *name, const char **value);

/** Writes `text` into buf (size bytes, always NUL-terminated when size > 0)
 *  with every registered secret and every Authorization / X-Api-Key /
 *  Cookie value replaced by "***"; use it on provider messages (e.g. an
 *  API's error text) before set_error() or log(). Returns the length the
 *  full redacted text needs, not counting the NUL (like snprintf). NULL
 *  text counts as "". */
typedef size_t (*aigtatt_redact_fn)(const char *text, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
