/* The resume store: every finished result of a provider (an image, a batch
 * of prompts, an upload, a training) is written at once, atomically, under
 * <root>/<component>/<kk>/<key>.<suffix>, where key is a SHA-256 of what
 * was asked (endpoint and request body, never the key). A node that runs
 * again after Ctrl-C, kill -9 or a failure finds its finished work there
 * and asks the provider only for what is missing.
 *
 * The default root is <workdir>/state/provider-cache (host->run_state_dir:
 * it survives failed runs, shares the workdir's lock and is never part of a
 * cache key), shared by every node of the experiment, so two nodes asking
 * the same thing pay once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pv.h"

int pv_store_open(pv_store *s, aigtatt_run *run, const char *component, const char *port)
{
    memset(s, 0, sizeof *s);
    const aigtatt_params *p = pv_host->run_params(run);
    const char *cd = pv_host->param_string(p, "cache_dir");
    s->read = pv_host->param_bool(p, "resume");
    char root[4096];
    if (cd && *cd) {
        if (cd[0] == '/') {
            snprintf(root, sizeof root, "%s", cd);
        } else {
            char cwd[2048];
            if (!getcwd(cwd, sizeof cwd)) {
                pv_error("cache_dir '%s': cannot read the current folder: %s", cd, strerror(errno));
                return AIGTATT_ERR_IO;
            }
            snprintf(root, sizeof root, "%s/%s", cwd, cd);
        }
    } else {
        const char *state = pv_host->run_state_dir(run);
        if (!state)
            return AIGTATT_ERR_IO;
        snprintf(root, sizeof root, "%s/provider-cache", state);
    }
    size_t len = strlen(root) + strlen(component) + 2;
    s->dir = malloc(len);
    if (!s->dir) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    snprintf(s->dir, len, "%s/%s", root, component);
    return AIGTATT_OK;
}

void pv_store_close(pv_store *s)
{
    free(s->dir);
    s->dir = NULL;
}

void pv_key(const char *component, const char *endpoint, const json_t *unit, char hex[65])
{
    char *j = json_dumps(unit, PV_DUMP);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char tag[] = "aigtatt-provider-key-v1";
    if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
        EVP_DigestUpdate(c, tag, sizeof tag);
        EVP_DigestUpdate(c, component, strlen(component) + 1);
        EVP_DigestUpdate(c, endpoint, strlen(endpoint) + 1);
        if (j)
            EVP_DigestUpdate(c, j, strlen(j));
        EVP_DigestFinal_ex(c, md, &n);
    }
    EVP_MD_CTX_free(c);
    free(j);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", n ? md[i] : 0);
    hex[64] = '\0';
}

int pv_store_path(const pv_store *s, const char *key, const char *suffix, char *buf, size_t size)
{
    if ((size_t)snprintf(buf, size, "%s/%.2s/%s%s", s->dir, key, key, suffix) >= size) {
        pv_host->set_error("resume store path too long");
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

json_t *pv_store_get(const pv_store *s, const char *key, const char *suffix, int always)
{
    char path[4096];
    if ((!s->read && !always) || pv_store_path(s, key, suffix, path, sizeof path))
        return NULL;
    if (access(path, F_OK) != 0)
        return NULL;
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!json_is_object(j)) {
        pv_host->log(AIGTATT_LOG_WARN, "resume store: ignoring unreadable %s (%s)", path, err.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

int pv_store_put(const pv_store *s, const char *key, const char *suffix, json_t *obj)
{
    char path[4096];
    int rc = pv_store_path(s, key, suffix, path, sizeof path);
    if (rc)
        return rc;
    pv_json_scrub(obj);
    char *text = json_dumps(obj, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    if (!text) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    size_t n = strlen(text);
    text[n] = '\0';
    char *withnl = realloc(text, n + 2);
    if (!withnl) {
        free(text);
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    withnl[n] = '\n';
    withnl[n + 1] = '\0';
    rc = pv_host->write_file(path, withnl, n + 1);
    free(withnl);
    return rc;
}

int pv_store_put_bytes(const pv_store *s, const char *key, const char *suffix, const void *data, size_t len)
{
    char path[4096];
    int rc = pv_store_path(s, key, suffix, path, sizeof path);
    if (rc)
        return rc;
    return pv_host->write_file(path, data, len);
}

void pv_store_drop(const pv_store *s, const char *key, const char *suffix)
{
    char path[4096];
    if (pv_store_path(s, key, suffix, path, sizeof path) == AIGTATT_OK)
        unlink(path);
}
