/* Small helpers of the provider plugins: base64, image magic, cancellable
 * sleeps, redaction of provider texts, YAML maps to JSON, hashing, files. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pv.h"

const aigtatt_host *pv_host;

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int pv_b64_decode(const char *s, size_t len, pv_blob *out)
{
    out->data = NULL;
    out->len = 0;
    /* "data:image/png;base64,...." */
    if (len > 5 && !strncasecmp(s, "data:", 5)) {
        const char *comma = memchr(s, ',', len);
        if (!comma)
            return -1;
        len -= (size_t)(comma + 1 - s);
        s = comma + 1;
    }
    unsigned char *d = malloc(len / 4 * 3 + 4);
    if (!d)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_val(c);
        if (v < 0 || pad) {
            free(d);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            d[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (pad > 2 || bits >= 6) {
        free(d);
        return -1;
    }
    out->data = d;
    out->len = o;
    return 0;
}

char *pv_b64_encode(const void *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    char *o = malloc((len + 2) / 3 * 4 + 1);
    if (!o)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        o[w++] = tab[(v >> 18) & 63];
        o[w++] = tab[(v >> 12) & 63];
        o[w++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        o[w++] = i + 2 < len ? tab[v & 63] : '=';
    }
    o[w] = '\0';
    return o;
}

const char *pv_image_ext(const void *data, size_t len, const char **what)
{
    const unsigned char *b = data;
    *what = "unknown";
    if (len >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) {
        *what = "PNG";
        return "png";
    }
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
        *what = "JPEG";
        return "jpg";
    }
    if (len >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
        *what = "WebP";
    else if (len >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6)))
        *what = "GIF";
    else if (len >= 1 && (b[0] == '{' || b[0] == '<'))
        *what = "text (JSON or HTML)";
    else if (len == 0)
        *what = "empty";
    return NULL;
}

int64_t pv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pv_sleep_ms(int64_t ms)
{
    int64_t end = pv_now_ms() + ms;
    for (;;) {
        if (pv_host->cancelled())
            return AIGTATT_ERR_CANCELLED;
        int64_t left = end - pv_now_ms();
        if (left <= 0)
            return AIGTATT_OK;
        if (left > 100)
            left = 100;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = left * 1000000};
        nanosleep(&ts, NULL);
    }
}

char *pv_redact_dup(const char *s)
{
    if (!s)
        s = "";
    size_t need = pv_host->redact(s, NULL, 0);
    char *b = malloc(need + 1);
    if (b)
        pv_host->redact(s, b, need + 1);
    return b;
}

void pv_json_scrub(json_t *j)
{
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        char *b = pv_redact_dup(s);
        if (b && strcmp(b, s) != 0)
            json_string_set(j, b);
        free(b);
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(j, tmp, k, v) {
            char *rk = pv_redact_dup(k);
            if (rk && strcmp(rk, k) != 0) {
                json_incref(v);
                json_object_del(j, k);
                json_object_set_new(j, rk, v);
            }
            free(rk);
            pv_json_scrub(v);
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            pv_json_scrub(json_array_get(j, i));
    }
}

void pv_error(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *red = pv_redact_dup(msg);
    pv_host->set_error("%s", red ? red : "(message withheld: out of memory)");
    free(red);
}

int pv_safe_name(const char *s)
{
    if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > 200)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == '/' || *p == '\\' || *p == 0x7F)
            return 0;
    return 1;
}

void pv_identity(char *buf, size_t size, const char *prefix, size_t i)
{
    snprintf(buf, size, "%s%04zu", prefix ? prefix : "", i + 1);
}

/* A YAML scalar typed the way YAML 1.2's core schema would. */
static json_t *scalar_json(const char *s)
{
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
        return json_true();
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return json_false();
    if (!strcmp(s, "null") || !strcmp(s, "~") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return json_null();
    if (*s) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (!*end && !errno)
            return json_integer(v);
        errno = 0;
        double d = strtod(s, &end);
        if (!*end && !errno && strspn(s, "+-0123456789.eE") == strlen(s))
            return json_real(d);
    }
    return json_string(s);
}

json_t *pv_cfg_to_json(const aigtatt_cfg *cfg)
{
    if (!cfg)
        return json_object();
    switch (pv_host->cfg_type(cfg)) {
    case AIGTATT_CFG_SCALAR: {
        const char *s = pv_host->cfg_scalar(cfg);
        return scalar_json(s ? s : "");
    }
    case AIGTATT_CFG_SEQ: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < pv_host->cfg_len(cfg); i++) {
            json_t *v = pv_cfg_to_json(pv_host->cfg_at(cfg, i));
            if (!v || json_array_append_new(a, v)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case AIGTATT_CFG_MAP: {
        json_t *o = json_object();
        for (size_t i = 0; o && i < pv_host->cfg_len(cfg); i++) {
            json_t *v = pv_cfg_to_json(pv_host->cfg_at(cfg, i));
            if (!v || json_object_set_new(o, pv_host->cfg_key_at(cfg, i), v)) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    default:
        return json_null();
    }
}

void pv_json_merge(json_t *obj, const json_t *extra)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)extra, k, v) {
        if (json_is_null(v))
            json_object_del(obj, k);
        else
            json_object_set(obj, k, v);
    }
}

void pv_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[64] = '\0';
}

/* scheme, host and port of a URL, lower-cased, default ports filled in. */
static int origin_of(const char *url, char *buf, size_t size)
{
    const char *s = strstr(url, "://");
    if (!s || s == url)
        return -1;
    size_t sl = (size_t)(s - url);
    const char *h = s + 3;
    size_t hl = strcspn(h, "/?#");
    if (!hl || memchr(h, '@', hl))
        return -1;
    char scheme[16], host[512];
    if (sl >= sizeof scheme || hl >= sizeof host)
        return -1;
    for (size_t i = 0; i < sl; i++)
        scheme[i] = (char)(url[i] | 0x20);
    scheme[sl] = '\0';
    for (size_t i = 0; i < hl; i++)
        host[i] = h[i] >= 'A' && h[i] <= 'Z' ? (char)(h[i] | 0x20) : h[i];
    host[hl] = '\0';
    const char *colon = strrchr(host, ':');
    const char *bracket = strrchr(host, ']');
    int has_port = colon && (!bracket || colon > bracket);
    if (has_port)
        snprintf(buf, size, "%s://%s", scheme, host);
    else
        snprintf(buf, size, "%s://%s:%s", scheme, host, !strcmp(scheme, "https") ? "443" : "80");
    return 0;
}

int pv_same_origin(const char *url, const char *base)
{
    char a[600], b[600];
    if (!url || !base || origin_of(url, a, sizeof a) || origin_of(base, b, sizeof b))
        return 0;
    return !strcmp(a, b);
}

static int mkdirs_for(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp)
        return 0;
    *slash = '\0';
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int pv_read_file(const char *path, size_t max, pv_blob *out)
{
    out->data = NULL;
    out->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pv_error("cannot open %s: %s", path, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        pv_error("%s is not a regular file", path);
        return AIGTATT_ERR_IO;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        pv_error("%s is larger than %zu bytes", path, max);
        return AIGTATT_ERR_LIMIT;
    }
    unsigned char *b = malloc((size_t)st.st_size + 1);
    if (!b) {
        close(fd);
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n != (size_t)st.st_size) {
        free(b);
        pv_error("cannot read %s", path);
        return AIGTATT_ERR_IO;
    }
    b[n] = 0;
    out->data = b;
    out->len = n;
    return AIGTATT_OK;
}

int pv_copy_file(const char *src, const char *dst)
{
    if (mkdirs_for(dst) != 0) {
        pv_error("cannot create the folder of %s: %s", dst, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    unlink(dst);
    if (link(src, dst) == 0)
        return AIGTATT_OK;
    pv_blob b;
    int rc = pv_read_file(src, (size_t)1 << 34, &b);
    if (rc)
        return rc;
    rc = pv_host->write_file(dst, b.data, b.len);
    free(b.data);
    return rc;
}

const char *pv_jstr(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
