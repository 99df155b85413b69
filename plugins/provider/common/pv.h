/* Shared internals of the provider plugins (prefix pv_): the API client on
 * top of the host's HTTP functions, the resume store that keeps every
 * finished (paid) result, the image-source engine that image.replicate,
 * image.openai and image.sdapi run on, and small helpers.
 *
 * These sources are compiled into each provider plugin (they are not a
 * plugin of their own: this folder has no CMakeLists.txt). Each plugin sets
 * pv_host in its init(). */
#ifndef PV_H
#define PV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <aigtatt/aigtatt.h>
#include <jansson.h>

extern const aigtatt_host *pv_host;

/* How request bodies, keys and meta are serialised: compact, sorted keys,
 * and reals as the user wrote them (0.7, not 0.69999999999999996). */
#define PV_DUMP (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15))

/* ---- declared parameters every provider shares ----------------------- */

/* The network parameters: base_url, allow_http, api_key_env, timeouts and
 * retries. `base` is the default base URL (NULL: required), `allow` the
 * default of allow_http, `key_env` the default key variable ("" for none). */
#define PV_NET_PARAMS(base, allow, key_env, timeout)                                                          \
    {.name = "base_url", .type = AIGTATT_PARAM_STRING, .default_value = (base),                               \
     .doc = "Root of the API; point it at a compatible or local server (http:// needs allow_http)."},        \
    {.name = "allow_http", .type = AIGTATT_PARAM_ENUM, .default_value = (allow), .choices = "no|loopback|any", \
     .doc = "Plain http:// base_url: no (https only), loopback (localhost, 127.0.0.0/8, ::1 only) or any "    \
            "host (a server on your lab network; the key then travels unencrypted)."},                       \
    {.name = "api_key_env", .type = AIGTATT_PARAM_STRING, .default_value = (key_env),                         \
     .doc = "Name of the environment variable (or .env line) holding the API key; '' sends no key (local "   \
            "servers)."},                                                                                     \
    {.name = "timeout_s", .type = AIGTATT_PARAM_FLOAT, .default_value = (timeout), .has_min = 1, .min = 0.1,  \
     .has_max = 1, .max = 86400,                                                                              \
     .doc = "Deadline of one HTTP call in seconds, retries and Retry-After waits included."},                 \
    {.name = "connect_timeout_s", .type = AIGTATT_PARAM_FLOAT, .default_value = "10", .has_min = 1,           \
     .min = 0.1, .has_max = 1, .max = 600, .doc = "Deadline of one TCP+TLS connection in seconds."},          \
    {.name = "max_retries", .type = AIGTATT_PARAM_INT, .default_value = "4", .has_min = 1, .min = 0,          \
     .has_max = 1, .max = 20,                                                                                 \
     .doc = "Further attempts after a 429, 5xx or connection failure (a request that creates paid work is "   \
            "repeated only when the server provably did not process it: no byte sent, 429 or 503)."},       \
    {.name = "backoff_s", .type = AIGTATT_PARAM_FLOAT, .default_value = "1", .has_min = 1, .min = 0.01,       \
     .has_max = 1, .max = 600,                                                                                \
     .doc = "First backoff step in seconds; it doubles per retry (capped at 60 s), with jitter."},            \
    {.name = "max_retry_after_s", .type = AIGTATT_PARAM_FLOAT, .default_value = "120", .has_min = 1,          \
     .min = 0, .has_max = 1, .max = 86400,                                                                    \
     .doc = "Longest Retry-After (seconds or HTTP date) honoured; a server asking for more ends the call."},  \
    {.name = "max_response_mb", .type = AIGTATT_PARAM_INT, .default_value = "64", .has_min = 1, .min = 1,     \
     .has_max = 1, .max = 4096, .doc = "Largest response body accepted, in MiB (enforced while receiving)."}

/* The resume store parameters. */
#define PV_STORE_PARAMS                                                                                       \
    {.name = "cache_dir", .type = AIGTATT_PARAM_STRING, .default_value = "",                                \
     .doc = "Resume store: every finished result is written here at once, keyed by a hash of the request, "  \
            "so an interrupted or failed run pays only for what is missing. '' is "                          \
            "<workdir>/state/provider-cache; a relative path is taken from the current folder."},                  \
    {.name = "resume", .type = AIGTATT_PARAM_BOOL, .default_value = "true",                                   \
     .doc = "Take finished results from the resume store; false asks the provider again (and overwrites)."}

/* ---- the API client ---------------------------------------------------- */

typedef struct pv_api {
    char base[1024];        /* base_url without a trailing '/' */
    char *auth;             /* header value ("Bearer ...", "Token ...", "Basic ..."), or NULL */
    const char *auth_name;  /* "Authorization" */
    int allow_http;         /* aigtatt_http_allow */
    int64_t timeout_ms, connect_ms, backoff_ms, max_retry_after_ms;
    int max_retries;        /* request field value (AIGTATT_HTTP_NO_RETRY for 0) */
    uint64_t max_bytes;
    const char *key_env;    /* for messages about refused keys */
    const char *scheme;     /* "Bearer", "Basic" */
    const char *key;        /* the key once read (host-owned), or NULL */
    pthread_mutex_t key_lock;
    int key_state;          /* 0 not read yet, 1 read, <0 the failure */
    char key_error[1024];
    _Atomic uint64_t requests, retries, failures, bytes_in;
} pv_api;

/* Fills `api` from the node's network parameters. The key named by
 * api_key_env is read on the first request that needs it (so a run the
 * resume store answers needs no key) and sent as `scheme` + " " + key
 * (scheme "Basic" base64-encodes "user:password"). Returns a status with
 * the error set. */
int pv_api_init(pv_api *api, const aigtatt_params *p, const char *scheme);
/* Wipes and frees the header copy of the key. */
void pv_api_free(pv_api *api);

/* What the outcome of a call means for a node working through many items. */
typedef enum pv_verdict {
    PV_OK = 0,     /* 2xx */
    PV_ITEM = 1,   /* this item failed; others may still work (5xx, timeout, bad answer) */
    PV_FATAL = 2   /* stop the node: key refused, bad request, quota, redirect, Ctrl-C */
} pv_verdict;

typedef struct pv_call {
    const char *method;        /* NULL: GET, or POST with a body */
    const char *url;           /* absolute */
    const char *content_type;  /* of the body, or NULL */
    const void *body;
    size_t body_len;
    const aigtatt_http_header *headers; /* extra headers */
    size_t n_headers;
    int auth;                  /* send the key */
    int max_redirects;         /* downloads only; API calls leave 0 */
    int retry_post;            /* aigtatt_http_retry_post */
    int64_t timeout_ms;        /* 0: the api's */
    int64_t hold_s;            /* the server may hold the answer this long (Prefer: wait) */
    const char *what;          /* "create prediction": starts every error text */
} pv_call;

/* Performs a call. *out is NULL or a response to free with
 * pv_host->http_response_free, whatever the outcome (on PV_OK a 2xx one).
 * On failure the error text is set (what, method and path, status, the
 * API's own message, redacted) and *status holds the HTTP status (0 for a
 * transport failure). Counts requests and retries. The returned int is an
 * aigtatt_status; *verdict classifies it. */
int pv_request(pv_api *api, const pv_call *c, aigtatt_http_response **out, int *status, pv_verdict *verdict);

/* The answer as a JSON object; sets "<what>: malformed JSON answer ..." and
 * returns NULL otherwise. */
json_t *pv_json_body(const aigtatt_http_response *r, const char *what);

/* Non-zero if `data` holds the API key: such bytes are never written. */
int pv_api_leaks_key(pv_api *api, const void *data, size_t len);

/* Writes a summary line's "N requests, M retries, K failed, B received"
 * part. */
void pv_api_stats(pv_api *api, char *buf, size_t size);

/* ---- the end-of-node summary ----------------------------------------- */

/* A new summary object {"component", "node", "http": {requests, retries,
 * failures, bytes_in}} for the node's provider.json (the CLI prints the
 * "text" of every node that ran at the end of the run). */
json_t *pv_summary_new(pv_api *api, const char *component, aigtatt_run *run);

/* The user's price for `what` (a float parameter, USD; 0 or undeclared:
 * none). aigtatt knows no prices: an estimate appears only when the user
 * sets one. */
double pv_price(const aigtatt_params *p, const char *what);

/* Adds "cost": {"estimated_usd", "basis"} to `summary` and "; est. $X
 * (basis)" to the text in buf (appended) when usd > 0 or any price was
 * set (`priced`). */
void pv_cost_add(json_t *summary, char *buf, size_t size, int priced, double usd, const char *basis);

/* Writes dir/provider.json: `extra` (may be NULL) with "summary" set to
 * `summary` and the text `text`; strings redacted. */
int pv_summary_write(const char *dir, json_t *extra, json_t *summary, const char *text);

/* ---- the resume store ---------------------------------------------------- */

typedef struct pv_store {
    char *dir;   /* <root>/<component> */
    int read;    /* resume: take finished results */
} pv_store;

/* Opens the store of `component` from the node's cache_dir and resume
 * parameters; `port` is an output port, used to find the workdir. */
int pv_store_open(pv_store *s, aigtatt_run *run, const char *component, const char *port);
void pv_store_close(pv_store *s);

/* Hex SHA-256 of (component, endpoint, canonical JSON of `unit`). */
void pv_key(const char *component, const char *endpoint, const json_t *unit, char hex[65]);

/* Path of entry `key` with suffix (".json", ".pending.json", ".png"). */
int pv_store_path(const pv_store *s, const char *key, const char *suffix, char *buf, size_t size);
/* Reads <key><suffix> as a JSON object; NULL when absent or unreadable
 * (not an error: the store is a cache). Ignores `read` when `always`. */
json_t *pv_store_get(const pv_store *s, const char *key, const char *suffix, int always);
/* Writes a JSON object atomically, strings redacted. */
int pv_store_put(const pv_store *s, const char *key, const char *suffix, json_t *obj);
/* Writes bytes atomically. */
int pv_store_put_bytes(const pv_store *s, const char *key, const char *suffix, const void *data, size_t len);
void pv_store_drop(const pv_store *s, const char *key, const char *suffix);

/* ---- the image-source engine ---------------------------------------- */

typedef struct pv_blob {
    unsigned char *data;
    size_t len;
} pv_blob;

/* One image to make: prompt record `rec`, image `index` of it. */
typedef struct pv_unit {
    const aigtatt_record *rec;
    size_t index;
    uint64_t seed;        /* 32-bit: derived or fixed */
    char key[65];         /* resume-store key */
    const pv_store *store;
} pv_unit;

typedef struct pv_image_provider {
    const char *component;    /* "image.replicate" */
    int seeded;               /* declares PV_SEED_PARAM and sends the seed */
    /* Builds the request body of unit `u` (its prompt, seed, index) and the
     * endpoint URL; the engine hashes both into the store key. */
    int (*build)(void *ctx, const pv_unit *u, json_t **request, char *endpoint, size_t size);
    /* Does the paid work: one image's bytes in *img (malloc'ed) and the
     * provider's details (ids, seed, usage) added to `meta`. */
    int (*generate)(void *ctx, const pv_unit *u, const json_t *request, const char *endpoint, pv_blob *img,
                    json_t *meta, pv_verdict *verdict);
    /* Writes the usage part of the summary line into buf and adds
     * "usage" (and "cost" via pv_cost_add when the user set a price) to
     * `summary` (may be NULL). */
    void (*usage)(void *ctx, char *buf, size_t size, json_t *summary);
} pv_image_provider;

/* Runs an image source: every prompt of the "prompts" input times
 * images_per_prompt, from the store when finished earlier, otherwise by
 * prov->generate on the host's workers; verifies, stores and publishes
 * each image at once; counts progress; applies max_failures; logs the
 * summary. Reads the params images_per_prompt, seed, max_failures. */
int pv_images_run(aigtatt_run *run, const pv_image_provider *prov, void *ctx, pv_api *api);

/* The seed parameter of providers that take one (pv_image_provider.seeded). */
#define PV_SEED_PARAM                                                                                          \
    {.name = "seed", .type = AIGTATT_PARAM_INT, .default_value = "-1", .has_min = 1, .min = -1, .has_max = 1,  \
     .max = 4294967295.0,                                                                                      \
     .doc = "-1: each image gets its own seed, derived from the node seed and the prompt id (recorded in "    \
            "meta); N: image k of every prompt uses N+k."}

/* The parameters pv_images_run() reads; `conc` is the default of
 * concurrency. */
#define PV_IMAGE_PARAMS(conc)                                                                                  \
    {.name = "images_per_prompt", .type = AIGTATT_PARAM_INT, .default_value = "1", .has_min = 1, .min = 1,     \
     .has_max = 1, .max = 64,                                                                                  \
     .doc = "Images per prompt, each its own request with its own seed (<identity>/original.png, "            \
            "original-1.png, ...)."},                                                                         \
    {.name = "concurrency", .type = AIGTATT_PARAM_INT, .default_value = (conc), .has_min = 1, .min = 1,        \
     .has_max = 1, .max = 64,                                                                                  \
     .doc = "Images requested at the same time (the core also caps HTTP requests in flight across the run: 8, "  \
            "or aigtatt run --max-in-flight N)."},      \
    {.name = "max_failures", .type = AIGTATT_PARAM_INT, .default_value = "0", .has_min = 1, .min = 0,          \
     .has_max = 1, .max = 1000000,                                                                             \
     .doc = "Images that may fail (provider error, content filter, timeout) with the node still succeeding " \
            "without them; 0 stops at the first failure. Finished images stay in the resume store either "  \
            "way."}

/* Price parameters (USD, 0: no estimate). */
#define PV_PRICE_IMAGE_PARAM                                                                                   \
    {.name = "price_per_image", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1, .min = 0,     \
     .doc = "Your price per image made (USD), for the cost estimate in the summary; 0: no estimate "          \
            "(aigtatt knows no prices)."}
#define PV_PRICE_SECOND_PARAM(what)                                                                            \
    {.name = "price_per_second", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1, .min = 0,    \
     .doc = "Your price per second of " what " as Replicate reports it (metrics.predict_time), in USD, for "  \
            "the cost estimate in the summary; 0: no estimate."}
#define PV_PRICE_TOKEN_PARAMS                                                                                  \
    {.name = "price_per_1m_input_tokens", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1,     \
     .min = 0,                                                                                                 \
     .doc = "Your price per million input tokens (USD) as the API reports usage, for the cost estimate in "   \
            "the summary; 0: none."},                                                                          \
    {.name = "price_per_1m_output_tokens", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1,    \
     .min = 0, .doc = "Your price per million output tokens (USD); 0: none."}

/* ---- helpers ------------------------------------------------------------- */

/* Standard base64 (and base64url) without line breaks; whitespace and a
 * "data:...;base64," prefix are skipped. 0, or -1 on bad input. */
int pv_b64_decode(const char *s, size_t len, pv_blob *out);
/* NUL-terminated base64 of data (malloc'ed), NULL on OOM. */
char *pv_b64_encode(const void *data, size_t len);

/* The image type from magic bytes: "png", "jpg", or NULL (*what names it:
 * "WebP", "GIF", "unknown"). */
const char *pv_image_ext(const void *data, size_t len, const char **what);

/* Sleeps ms in small steps; AIGTATT_ERR_CANCELLED if Ctrl-C came first. */
int pv_sleep_ms(int64_t ms);
/* Monotonic milliseconds. */
int64_t pv_now_ms(void);

/* A copy of `s` with registered secrets replaced by *** (malloc'ed). */
char *pv_redact_dup(const char *s);
/* Redacts every string of a JSON tree in place (keys included). */
void pv_json_scrub(json_t *j);
/* Sets the error to "<fmt...>" after redacting the formatted text. */
void pv_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Non-zero if `s` can be a folder name inside an output folder. */
int pv_safe_name(const char *s);
/* Identity names: prefix and a number of at least 4 digits. */
void pv_identity(char *buf, size_t size, const char *prefix, size_t i);

/* Reads a JSON object param (MAP) into a new jansson object (scalars are
 * typed: true/false, integers, floats, null, else strings). NULL on error
 * with the error set (naming file:line:col). */
json_t *pv_cfg_to_json(const aigtatt_cfg *cfg);
/* Merges `extra` into `obj`: a null value removes the key. */
void pv_json_merge(json_t *obj, const json_t *extra);

/* Lower-case hex SHA-256 of bytes. */
void pv_sha256_hex(const void *data, size_t len, char hex[65]);

/* Non-zero if `url` has the same scheme, host and port as `base`. */
int pv_same_origin(const char *url, const char *base);

/* Copies `src` to `dst` (hard link when possible), creating parent folders. */
int pv_copy_file(const char *src, const char *dst);

/* Reads a whole file (malloc'ed, NUL-terminated); status with the error set. */
int pv_read_file(const char *path, size_t max, pv_blob *out);

/* The json_t value as a string for meta (NULL if not a string). */
const char *pv_jstr(const json_t *obj, const char *key);

#endif
