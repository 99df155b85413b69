/* What image.replicate and finetune.replicate share: model references,
 * polling a prediction or training to its end, and output downloads. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rp.h"

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return 0;
    return 1;
}

static int version_ok(const char *s, size_t n)
{
    if (n == 0 || n >= 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return 0;
    return 1;
}

int rp_parse_ref(const char *s, rp_ref *r, int need_version, const char *param)
{
    memset(r, 0, sizeof *r);
    if (!s)
        s = "";
    const char *slash = strchr(s, '/'), *colon = strchr(s, ':');
    if (!slash && !colon && version_ok(s, strlen(s)) && strlen(s) >= 32) {
        snprintf(r->version, sizeof r->version, "%s", s);
        return AIGTATT_OK;
    }
    const char *name_end = colon ? colon : s + strlen(s);
    if (!slash || slash > name_end || !name_ok(s, (size_t)(slash - s)) ||
        !name_ok(slash + 1, (size_t)(name_end - slash - 1)) || (colon && !version_ok(colon + 1, strlen(colon + 1)))) {
        pv_error("%s '%s' is not a Replicate model: expected owner/model:version, owner/model or a version id",
                 param, s);
        return AIGTATT_ERR_INVALID;
    }
    snprintf(r->owner, sizeof r->owner, "%.*s", (int)(slash - s), s);
    snprintf(r->name, sizeof r->name, "%.*s", (int)(name_end - slash - 1), slash + 1);
    if (colon)
        snprintf(r->version, sizeof r->version, "%s", colon + 1);
    if (need_version && !r->version[0]) {
        pv_error("%s '%s' needs a version: owner/model:version", param, s);
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

int rp_id_ok(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

int rp_terminal(const char *st)
{
    return st && (!strcmp(st, "succeeded") || !strcmp(st, "failed") || !strcmp(st, "canceled") ||
                  !strcmp(st, "aborted"));
}

int rp_resumable(const char *st) { return st && (!rp_terminal(st) || !strcmp(st, "succeeded")); }

int rp_get(pv_api *api, const char *kind, const char *id, json_t **obj, int *status, pv_verdict *verdict)
{
    char url[2048], what[64];
    snprintf(url, sizeof url, "%s/%s/%s", api->base, kind, id);
    snprintf(what, sizeof what, "get %.*s", (int)strlen(kind) - 1, kind);
    aigtatt_http_response *r = NULL;
    pv_call c = {.method = "GET", .url = url, .auth = 1, .what = what};
    int rc = pv_request(api, &c, &r, status, verdict);
    if (rc == AIGTATT_OK) {
        json_t *j = pv_json_body(r, what);
        if (!j) {
            rc = AIGTATT_ERR_FORMAT;
            *verdict = PV_ITEM;
        } else if (!rp_id_ok(pv_jstr(j, "id")) || strcmp(pv_jstr(j, "id"), id) != 0 || !pv_jstr(j, "status")) {
            pv_error("%s: the answer has no id '%s' or no status", what, id);
            json_decref(j);
            rc = AIGTATT_ERR_FORMAT;
            *verdict = PV_ITEM;
        } else {
            json_decref(*obj);
            *obj = j;
        }
    }
    pv_host->http_response_free(r);
    return rc;
}

static void cancel_job(pv_api *api, const char *kind, const char *id)
{
    char url[2048];
    snprintf(url, sizeof url, "%s/%s/%s/cancel", api->base, kind, id);
    aigtatt_http_response *r = NULL;
    int st;
    pv_verdict v;
    pv_call c = {.method = "POST", .url = url, .auth = 1, .what = "cancel", .retry_post = AIGTATT_HTTP_RETRY_POST_ALWAYS};
    char saved[2048];
    snprintf(saved, sizeof saved, "%s", pv_host->last_error());
    if (pv_request(api, &c, &r, &st, &v) != AIGTATT_OK)
        pv_host->log(AIGTATT_LOG_WARN, "could not cancel %.*s %s: %s", (int)strlen(kind) - 1, kind, id,
                     pv_host->last_error());
    pv_host->http_response_free(r);
    pv_host->set_error("%s", saved);
}

int rp_wait(pv_api *api, const char *kind, json_t **obj, int64_t poll_ms, int64_t deadline_ms, pv_verdict *verdict)
{
    const char *id = pv_jstr(*obj, "id");
    char idc[160];
    snprintf(idc, sizeof idc, "%s", id ? id : "");
    *verdict = PV_OK;
    while (!rp_terminal(pv_jstr(*obj, "status"))) {
        if (pv_now_ms() >= deadline_ms) {
            pv_error("%.*s %s did not finish in time (status '%s'); canceled it so it costs no more", (int)strlen(kind) - 1,
                     kind, idc, pv_jstr(*obj, "status") ? pv_jstr(*obj, "status") : "?");
            cancel_job(api, kind, idc);
            *verdict = PV_ITEM;
            return AIGTATT_ERR_IO;
        }
        int64_t nap = poll_ms;
        if (pv_now_ms() + nap > deadline_ms)
            nap = deadline_ms - pv_now_ms();
        int rc = pv_sleep_ms(nap > 0 ? nap : 0);
        if (rc) {
            pv_host->log(AIGTATT_LOG_WARN, "%.*s %s keeps running on the server; the next run picks it up",
                         (int)strlen(kind) - 1, kind, idc);
            pv_error("interrupted while %.*s %s was running; it keeps running and the next run picks it up",
                     (int)strlen(kind) - 1, kind, idc);
            *verdict = PV_FATAL;
            return rc;
        }
        int st;
        rc = rp_get(api, kind, idc, obj, &st, verdict);
        if (rc == AIGTATT_ERR_CANCELLED)
            pv_host->log(AIGTATT_LOG_WARN, "%.*s %s keeps running on the server; the next run picks it up",
                         (int)strlen(kind) - 1, kind, idc);
        if (rc)
            return rc;
    }
    return AIGTATT_OK;
}

int rp_download(pv_api *api, const char *url, pv_blob *out, pv_verdict *verdict, int *status)
{
    out->data = NULL;
    out->len = 0;
    *status = 0;
    if (!strncasecmp(url, "data:", 5)) {
        if (pv_b64_decode(url, strlen(url), out) != 0) {
            pv_host->set_error("download output: the data: URI is not valid base64");
            *verdict = PV_ITEM;
            return AIGTATT_ERR_FORMAT;
        }
        *verdict = PV_OK;
        return AIGTATT_OK;
    }
    aigtatt_http_response *r = NULL;
    pv_call c = {.method = "GET", .url = url, .auth = pv_same_origin(url, api->base), .max_redirects = 3,
                 .what = "download output"};
    int rc = pv_request(api, &c, &r, status, verdict);
    if (rc == AIGTATT_OK) {
        out->data = malloc(r->body_len ? r->body_len : 1);
        if (!out->data) {
            rc = AIGTATT_ERR_NOMEM;
            *verdict = PV_FATAL;
            pv_host->set_error("out of memory");
        } else {
            memcpy(out->data, r->body, r->body_len);
            out->len = r->body_len;
        }
    }
    pv_host->http_response_free(r);
    return rc;
}
