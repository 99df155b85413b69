#define _GNU_SOURCE /* memmem */
/* The API client: the node's network parameters turned into host HTTP
 * requests, the API key in one header, and every failure turned into one
 * redacted message and a verdict (this item, or the whole node). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pv.h"

static int allow_of(const char *s)
{
    if (s && !strcmp(s, "loopback"))
        return AIGTATT_HTTP_ALLOW_LOOPBACK;
    if (s && !strcmp(s, "any"))
        return AIGTATT_HTTP_ALLOW_ANY_HOST;
    return AIGTATT_HTTP_HTTPS_ONLY;
}

int pv_api_init(pv_api *api, const aigtatt_params *p, const char *scheme)
{
    memset(api, 0, sizeof *api);
    const char *base = pv_host->param_string(p, "base_url");
    if (!base || !*base) {
        pv_host->set_error("base_url is empty");
        return AIGTATT_ERR_INVALID;
    }
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    if (n >= sizeof api->base) {
        pv_host->set_error("base_url is longer than %zu characters", sizeof api->base - 1);
        return AIGTATT_ERR_INVALID;
    }
    memcpy(api->base, base, n);
    api->base[n] = '\0';
    if (strncasecmp(api->base, "https://", 8) != 0 && strncasecmp(api->base, "http://", 7) != 0) {
        pv_error("base_url '%s' must start with https:// (or http:// with allow_http)", api->base);
        return AIGTATT_ERR_INVALID;
    }
    api->allow_http = allow_of(pv_host->param_string(p, "allow_http"));
    if (!strncasecmp(api->base, "http://", 7) && api->allow_http == AIGTATT_HTTP_HTTPS_ONLY) {
        pv_error("base_url '%s' is plain http://: set allow_http: loopback for a server on this machine "
                 "(or any for one on your network)", api->base);
        return AIGTATT_ERR_INVALID;
    }
    api->timeout_ms = (int64_t)(pv_host->param_float(p, "timeout_s") * 1000.0);
    api->connect_ms = (int64_t)(pv_host->param_float(p, "connect_timeout_s") * 1000.0);
    api->backoff_ms = (int64_t)(pv_host->param_float(p, "backoff_s") * 1000.0);
    api->max_retry_after_ms = (int64_t)(pv_host->param_float(p, "max_retry_after_s") * 1000.0);
    if (api->max_retry_after_ms <= 0)
        api->max_retry_after_ms = 1; /* 0 means "the default" to the host */
    if (api->timeout_ms < 1)
        api->timeout_ms = 1;
    if (api->connect_ms < 1)
        api->connect_ms = 1;
    if (api->backoff_ms < 1)
        api->backoff_ms = 1;
    int64_t r = pv_host->param_int(p, "max_retries");
    api->max_retries = r <= 0 ? AIGTATT_HTTP_NO_RETRY : (int)r;
    api->max_bytes = (uint64_t)pv_host->param_int(p, "max_response_mb") << 20;
    api->auth_name = "Authorization";
    api->key_env = pv_host->param_string(p, "api_key_env");
    api->scheme = scheme ? scheme : "Bearer";
    pthread_mutex_init(&api->key_lock, NULL);
    api->key_state = api->key_env && *api->key_env ? 0 : 1;
    return AIGTATT_OK;
}

/* Reads the key once, on the first request that sends it. */
static int load_key(pv_api *api)
{
    pthread_mutex_lock(&api->key_lock);
    int rc = AIGTATT_OK;
    if (api->key_state == 0) {
        const char *key = NULL;
        rc = pv_host->secret_get(api->key_env, &key);
        if (rc != AIGTATT_OK) {
            char *red = pv_redact_dup(pv_host->last_error());
            snprintf(api->key_error, sizeof api->key_error, "%s (or set api_key_env: '' for a server that needs no "
                     "key)", red ? red : "the API key cannot be read");
            free(red);
            api->key_state = rc;
        } else if ((api->key = key), !strcmp(api->scheme, "Basic")) {
            char *b = pv_b64_encode(key, strlen(key));
            size_t len = b ? strlen(b) + 8 : 0;
            api->auth = b ? malloc(len) : NULL;
            if (api->auth)
                snprintf(api->auth, len, "Basic %s", b);
            if (b) {
                explicit_bzero(b, strlen(b));
                free(b);
            }
        } else {
            size_t len = strlen(key) + strlen(api->scheme) + 2;
            api->auth = malloc(len);
            if (api->auth)
                snprintf(api->auth, len, "%s %s", api->scheme, key);
        }
        if (rc == AIGTATT_OK && !api->auth) {
            snprintf(api->key_error, sizeof api->key_error, "out of memory");
            api->key_state = rc = AIGTATT_ERR_NOMEM;
        } else if (rc == AIGTATT_OK) {
            api->key_state = 1;
        }
    }
    if (api->key_state < 0) {
        rc = api->key_state;
        pv_host->set_error("%s", api->key_error);
    }
    pthread_mutex_unlock(&api->key_lock);
    return rc;
}

void pv_api_free(pv_api *api)
{
    if (api->auth) {
        explicit_bzero(api->auth, strlen(api->auth));
        free(api->auth);
        api->auth = NULL;
    }
    if (api->scheme)
        pthread_mutex_destroy(&api->key_lock);
    api->scheme = NULL;
}

/* "/v1/predictions" out of a URL: the path without query or fragment. */
static void url_path(const char *url, char *buf, size_t size)
{
    const char *s = strstr(url, "://");
    s = s ? strchr(s + 3, '/') : NULL;
    if (!s)
        s = "/";
    size_t n = strcspn(s, "?#");
    if (n > 200)
        n = 200;
    snprintf(buf, size, "%.*s", (int)n, s);
}

/* "scheme://host:port" of a URL, for messages about redirects. */
static void url_origin(const char *url, char *buf, size_t size)
{
    const char *s = strstr(url, "://");
    if (!s) {
        snprintf(buf, size, "(unparsable)");
        return;
    }
    size_t n = (size_t)(s + 3 - url) + strcspn(s + 3, "/?#");
    if (n > 200)
        n = 200;
    snprintf(buf, size, "%.*s", (int)n, url);
}

/* The API's own words for an error body: OpenAI {"error":{"message"}},
 * Replicate {"detail","title"}, FastAPI {"detail":[{"msg"}]}, A1111
 * {"error","detail"}; else the start of the text. */
static void api_message(const aigtatt_http_response *r, char *buf, size_t size, char *code, size_t csize)
{
    buf[0] = '\0';
    if (code && csize)
        code[0] = '\0';
    if (!r || !r->body_len)
        return;
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    const char *msg = NULL;
    if (json_is_object(j)) {
        json_t *e = json_object_get(j, "error");
        if (json_is_object(e)) {
            msg = pv_jstr(e, "message");
            const char *c = pv_jstr(e, "code");
            if (!c)
                c = pv_jstr(e, "type");
            if (c && code)
                snprintf(code, csize, "%s", c);
            const char *param = pv_jstr(e, "param");
            if (param && code && !strcmp(param, "response_format"))
                snprintf(code, csize, "param:response_format");
        } else if (json_is_string(e)) {
            msg = json_string_value(e);
        }
        json_t *d = json_object_get(j, "detail");
        if (!msg && json_is_string(d))
            msg = json_string_value(d);
        if (!msg && json_is_array(d) && json_is_object(json_array_get(d, 0)))
            msg = pv_jstr(json_array_get(d, 0), "msg");
        if (!msg)
            msg = pv_jstr(j, "title");
        if (!msg)
            msg = pv_jstr(j, "message");
        /* A1111 puts the useful part next to a generic "error" */
        const char *errors = pv_jstr(j, "errors");
        if (msg && errors && *errors) {
            char both[600];
            snprintf(both, sizeof both, "%s: %s", msg, errors);
            char *red = pv_redact_dup(both);
            snprintf(buf, size, "%s", red ? red : "(message withheld)");
            free(red);
            json_decref(j);
            return;
        }
    }
    char raw[400];
    if (msg) {
        snprintf(raw, sizeof raw, "%s", msg);
    } else {
        size_t n = r->body_len < 200 ? r->body_len : 200, o = 0;
        for (size_t i = 0; i < n && o + 1 < sizeof raw; i++) {
            unsigned char ch = (unsigned char)r->body[i];
            raw[o++] = ch < 32 || ch == 127 ? ' ' : (char)ch;
        }
        raw[o] = '\0';
    }
    json_decref(j);
    char *red = pv_redact_dup(raw);
    snprintf(buf, size, "%s", red ? red : "(message withheld)");
    free(red);
}

int pv_request(pv_api *api, const pv_call *c, aigtatt_http_response **out, int *status, pv_verdict *verdict)
{
    *out = NULL;
    *status = 0;
    *verdict = PV_FATAL;
    if (c->auth) {
        int krc = load_key(api);
        if (krc)
            return krc;
    }
    aigtatt_http_header h[20];
    size_t n = 0;
    if (c->auth && api->auth)
        h[n++] = (aigtatt_http_header){api->auth_name, api->auth};
    if (c->content_type)
        h[n++] = (aigtatt_http_header){"Content-Type", c->content_type};
    for (size_t i = 0; i < c->n_headers && n < sizeof h / sizeof h[0]; i++)
        h[n++] = c->headers[i];
    int64_t timeout = c->timeout_ms > 0 ? c->timeout_ms : api->timeout_ms;
    /* Waiting for the answer counts as "too slow": leave room for servers
     * that hold it (Prefer: wait, a long generation); the deadline still
     * ends a trickle. */
    int64_t low = 60;
    if (c->hold_s + 30 > low)
        low = c->hold_s + 30;
    if (low > timeout / 1000 + 1)
        low = timeout / 1000 + 1;
    aigtatt_http_request r = {
        .struct_size = sizeof r,
        .method = c->method,
        .url = c->url,
        .headers = h,
        .n_headers = n,
        .body = c->body,
        .body_len = c->body_len,
        .connect_timeout_ms = api->connect_ms,
        .timeout_ms = timeout,
        .low_speed_time_s = low,
        .max_response_bytes = api->max_bytes,
        .allow_http = api->allow_http,
        .retry_post = c->retry_post,
        .max_retries = api->max_retries,
        .backoff_base_ms = api->backoff_ms,
        .backoff_max_ms = api->backoff_ms > 60000 ? api->backoff_ms : 60000,
        .max_retry_after_ms = api->max_retry_after_ms,
        .max_redirects = c->max_redirects,
    };
    const char *method = c->method ? c->method : c->body_len ? "POST" : "GET";
    char path[256], where[512];
    url_path(c->url, path, sizeof path);
    snprintf(where, sizeof where, "%s (%s %s)", c->what ? c->what : "request", method, path);

    atomic_fetch_add(&api->requests, 1);
    aigtatt_http_response *resp = NULL;
    int rc = pv_host->http_request(&r, &resp);
    if (resp) {
        atomic_fetch_add(&api->retries, (uint64_t)(resp->retries_made > 0 ? resp->retries_made : 0));
        atomic_fetch_add(&api->bytes_in, resp->body_len);
        *status = resp->status;
    }
    if (rc == AIGTATT_OK && resp && resp->status >= 200 && resp->status < 300) {
        *out = resp;
        *verdict = PV_OK;
        return AIGTATT_OK;
    }
    atomic_fetch_add(&api->failures, 1);
    if (rc == AIGTATT_OK && resp && resp->status >= 300 && resp->status < 400) {
        const char *loc = pv_host->http_header(resp, "location");
        char origin[256];
        url_origin(loc ? loc : "", origin, sizeof origin);
        pv_error("%s: the server answered HTTP %d, a redirect to %s; not followed, so the key stays with the "
                 "server it was meant for (base_url must name the API itself)", where, resp->status,
                 loc ? origin : "nowhere");
        *out = resp;
        *verdict = PV_FATAL;
        return AIGTATT_ERR_IO;
    }
    if (rc == AIGTATT_OK) {
        pv_error("%s: unexpected HTTP %d", where, resp ? resp->status : 0);
        *out = resp;
        *verdict = PV_ITEM;
        return AIGTATT_ERR_IO;
    }
    if (rc == AIGTATT_ERR_IO && resp) {
        char msg[600], code[64], retries[48] = "";
        api_message(resp, msg, sizeof msg, code, sizeof code);
        if (resp->retries_made > 0)
            snprintf(retries, sizeof retries, " after %d retr%s", resp->retries_made,
                     resp->retries_made == 1 ? "y" : "ies");
        int st = resp->status;
        const char *hint = "";
        char key_hint[256];
        if (st == 401 || st == 403) {
            /* the variable's name, never its value */
            snprintf(key_hint, sizeof key_hint, "the key was refused: check %s (api_key_env)",
                     api->key_env ? api->key_env : "");
            hint = api->key_env && *api->key_env ? key_hint : "the server wants a key: set api_key_env";
            *verdict = PV_FATAL;
        } else if (st == 402) {
            hint = "the account needs credit";
            *verdict = PV_FATAL;
        } else if (st == 429) {
            hint = "rate limit or quota not cleared in time; finished results are kept: rerun later, or raise "
                   "max_retry_after_s";
            *verdict = PV_FATAL;
        } else if (st >= 500) {
            *verdict = PV_ITEM;
        } else if (st == 400 && (!strcmp(code, "content_policy_violation") || !strcmp(code, "moderation_blocked") ||
                                 strstr(msg, "safety system"))) {
            hint = "the provider's content filter refused this prompt";
            *verdict = PV_ITEM;
        } else {
            *verdict = PV_FATAL;
        }
        pv_error("%s: HTTP %d%s%s%s%s: %s", where, st, retries, hint[0] ? " (" : "", hint, hint[0] ? ")" : "",
                 msg[0] ? msg : "(no message)");
        *out = resp;
        return rc;
    }
    pv_host->http_response_free(resp);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", pv_host->last_error());
    /* The host's text starts with the method and URL already. */
    pv_error("%s: %s", c->what ? c->what : "request", msg);
    if (rc == AIGTATT_ERR_IO || rc == AIGTATT_ERR_LIMIT)
        *verdict = PV_ITEM;
    else
        *verdict = PV_FATAL;
    return rc;
}

json_t *pv_json_body(const aigtatt_http_response *r, const char *what)
{
    json_error_t err;
    json_t *j = json_loadb(r->body, r->body_len, 0, &err);
    if (json_is_object(j))
        return j;
    char start[64];
    size_t n = r->body_len < 40 ? r->body_len : 40, o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)r->body[i];
        start[o++] = ch < 32 || ch > 126 ? '.' : (char)ch;
    }
    start[o] = '\0';
    if (j)
        pv_error("%s: the answer is JSON but not an object (starts '%s')", what, start);
    else
        pv_error("%s: the answer is not valid JSON (%s at line %d; %zu bytes, starting '%s')", what, err.text,
                 err.line, r->body_len, start);
    json_decref(j);
    return NULL;
}

int pv_api_leaks_key(pv_api *api, const void *data, size_t len)
{
    pthread_mutex_lock(&api->key_lock);
    const char *k = api->key;
    pthread_mutex_unlock(&api->key_lock);
    return k && *k && data && memmem(data, len, k, strlen(k)) != NULL;
}

static void human_bytes(uint64_t b, char *buf, size_t size)
{
    if (b < 1024)
        snprintf(buf, size, "%llu B", (unsigned long long)b);
    else if (b < (1u << 20))
        snprintf(buf, size, "%.1f KiB", (double)b / 1024.0);
    else if (b < (1u << 30))
        snprintf(buf, size, "%.1f MiB", (double)b / 1048576.0);
    else
        snprintf(buf, size, "%.2f GiB", (double)b / 1073741824.0);
}

void pv_api_stats(pv_api *api, char *buf, size_t size)
{
    unsigned long long rq = atomic_load(&api->requests), rt = atomic_load(&api->retries),
                       fl = atomic_load(&api->failures);
    char hb[32];
    human_bytes(atomic_load(&api->bytes_in), hb, sizeof hb);
    snprintf(buf, size, "%llu request%s, %llu retr%s, %llu failed, %s received", rq, rq == 1 ? "" : "s", rt,
             rt == 1 ? "y" : "ies", fl, hb);
}

json_t *pv_summary_new(pv_api *api, const char *component, aigtatt_run *run)
{
    const char *node = run ? pv_host->run_node_id(run) : NULL;
    json_t *s = json_pack("{ss ss? s{sI sI sI sI}}", "component", component, "node", node, "http", "requests",
                          (json_int_t)atomic_load(&api->requests), "retries", (json_int_t)atomic_load(&api->retries),
                          "failures", (json_int_t)atomic_load(&api->failures), "bytes_in",
                          (json_int_t)atomic_load(&api->bytes_in));
    return s;
}

double pv_price(const aigtatt_params *p, const char *what)
{
    if (!p)
        return 0.0;
    double v = pv_host->param_float(p, what);
    return v > 0 ? v : 0.0;
}

void pv_cost_add(json_t *summary, char *buf, size_t size, int priced, double usd, const char *basis)
{
    if (!priced)
        return;
    if (summary)
        json_object_set_new(summary, "cost", json_pack("{sf ss ss}", "estimated_usd", usd, "basis", basis,
                                                       "note", "from your price parameters; not a bill"));
    size_t n = strlen(buf);
    if (n < size)
        snprintf(buf + n, size - n, "%sest. $%.4f (%s)", n ? "; " : "", usd, basis);
}

int pv_summary_write(const char *dir, json_t *extra, json_t *summary, const char *text)
{
    json_t *doc = extra ? json_incref(extra) : json_object();
    if (!doc || !summary) {
        json_decref(doc);
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    json_object_set_new(summary, "text", json_string(text ? text : ""));
    json_object_set(doc, "summary", summary);
    pv_json_scrub(doc);
    char *out = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    json_decref(doc);
    if (!out) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/provider.json", dir);
    int rc = pv_host->write_file(path, out, strlen(out));
    free(out);
    return rc;
}
