/* One attempt on a fresh easy handle. A fresh handle per attempt costs a
 * TCP/TLS handshake but means curl never silently re-sends a POST on a
 * reused connection that died, and no state leaks between requests. */
#include "net/http_xfer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <aigtatt/types.h>
#include <aigtatt/version.h>

#include "net/http.h"
#include "net/secret.h"
#include "util/pool.h"

/* Response headers beyond this are an attack or a bug, not an API. */
#define HEADER_BYTES_MAX (256 * 1024)

int aigtatt_http_header_is_credential(const aigtatt_http_header *h)
{
    return aigtatt_header_is_sensitive(h->name, strlen(h->name)) ||
           (h->value && aigtatt_secret_in(h->value));
}

void aigtatt_http_xfer_clear(aigtatt_http_xfer *x)
{
    free(x->body_out);
    for (size_t i = 0; i < x->hcount; i++) {
        free(x->hnames[i]);
        free(x->hvalues[i]);
    }
    free(x->hnames);
    free(x->hvalues);
    x->body_out = NULL;
    x->body_out_len = x->body_out_cap = 0;
    x->hnames = x->hvalues = NULL;
    x->hcount = x->hcap = x->hbytes = 0;
}

static void drop_headers(aigtatt_http_xfer *x)
{
    for (size_t i = 0; i < x->hcount; i++) {
        free(x->hnames[i]);
        free(x->hvalues[i]);
    }
    x->hcount = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    aigtatt_http_xfer *x = ud;
    size_t n = size * nmemb;
    /* The cap is checked before storing, so an endless body costs at most
     * max_bytes of memory; returning short makes curl abort at once. */
    if (n > x->max_bytes - x->body_out_len) {
        x->over_cap = 1;
        return 0;
    }
    if (x->body_out_len + n + 1 > x->body_out_cap) {
        size_t cap = x->body_out_cap ? x->body_out_cap : 16384;
        while (cap < x->body_out_len + n + 1)
            cap *= 2;
        char *p = realloc(x->body_out, cap);
        if (!p)
            return 0;
        x->body_out = p;
        x->body_out_cap = cap;
    }
    memcpy(x->body_out + x->body_out_len, data, n);
    x->body_out_len += n;
    x->body_out[x->body_out_len] = '\0';
    return n;
}

static char *trimmed_dup(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return strndup(s, n);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    aigtatt_http_xfer *x = ud;
    size_t n = size * nmemb;
    x->hbytes += n;
    if (x->hbytes > HEADER_BYTES_MAX) {
        x->headers_over = 1;
        return 0;
    }
    /* A status line starts a new response (100 Continue, a proxy's
     * CONNECT answer): only the last response's headers count. */
    if (n >= 5 && !strncmp(data, "HTTP/", 5)) {
        drop_headers(x);
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon || data[0] == ' ' || data[0] == '\t')
        return n; /* blank end line or obsolete folding: nothing to keep */
    if (x->hcount == x->hcap) {
        size_t cap = x->hcap ? x->hcap * 2 : 16;
        char **a = realloc(x->hnames, cap * sizeof *a);
        if (!a)
            return 0;
        x->hnames = a;
        char **b = realloc(x->hvalues, cap * sizeof *b);
        if (!b)
            return 0;
        x->hvalues = b;
        x->hcap = cap;
    }
    char *name = trimmed_dup(data, (size_t)(colon - data));
    char *value = trimmed_dup(colon + 1, n - (size_t)(colon + 1 - data));
    if (!name || !value) {
        free(name);
        free(value);
        return 0;
    }
    x->hnames[x->hcount] = name;
    x->hvalues[x->hcount] = value;
    x->hcount++;
    return n;
}

static int on_progress(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
    aigtatt_http_xfer *x = ud;
    if (aigtatt_cancelled()) {
        x->cancelled = 1;
        return 1;
    }
    return 0;
}

/* curl reports outgoing header and body bytes here after they went to the
 * socket; having seen none proves the server cannot have acted on the
 * request, which is what retry_post=if_not_sent needs. Nothing is logged
 * from here: curl's own texts are not redaction-aware. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    aigtatt_http_xfer *x = ud;
    if ((type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT) && size > 0)
        x->sent = 1;
    return 0;
}

static struct curl_slist *build_headers(const aigtatt_http_xfer *x, int *nomem)
{
    struct curl_slist *list = NULL, *t;
    int has_expect = 0;
    for (size_t i = 0; i < x->n_headers; i++) {
        const aigtatt_http_header *h = &x->headers[i];
        if (x->strip_credentials && aigtatt_http_header_is_credential(h))
            continue;
        if (!strcasecmp(h->name, "Expect"))
            has_expect = 1;
        size_t len = strlen(h->name) + (h->value ? strlen(h->value) : 0) + 3;
        char *line = malloc(len);
        if (!line)
            goto oom;
        /* "Name;" is curl's spelling of a header with an empty value. */
        if (h->value && h->value[0])
            snprintf(line, len, "%s: %s", h->name, h->value);
        else
            snprintf(line, len, "%s;", h->name);
        t = curl_slist_append(list, line);
        explicit_bzero(line, len);
        free(line);
        if (!t)
            goto oom;
        list = t;
    }
    /* No "Expect: 100-continue" pause before bodies over 1 KiB. */
    if (!has_expect) {
        t = curl_slist_append(list, "Expect:");
        if (!t)
            goto oom;
        list = t;
    }
    return list;
oom:
    curl_slist_free_all(list);
    *nomem = 1;
    return NULL;
}

static void set_method(CURL *h, const aigtatt_http_xfer *x)
{
    static const char empty[] = "";
    const void *body = x->body ? x->body : empty;
    int wants_body = x->body_len > 0 || !strcmp(x->method, "POST") || !strcmp(x->method, "PUT") ||
                     !strcmp(x->method, "PATCH");
    if (!strcmp(x->method, "GET")) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (!strcmp(x->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        if (wants_body) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
        }
        if (strcmp(x->method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
    }
}

int aigtatt_http_xfer_run(aigtatt_http_xfer *x)
{
    aigtatt_http_xfer_clear(x);
    x->code = CURLE_OK;
    x->status = 0;
    x->sent = x->over_cap = x->headers_over = x->cancelled = 0;
    x->errbuf[0] = '\0';

    int nomem = 0;
    struct curl_slist *hdrs = build_headers(x, &nomem);
    if (nomem)
        return AIGTATT_ERR_NOMEM;
    CURL *h = curl_easy_init();
    if (!h) {
        curl_slist_free_all(hdrs);
        return AIGTATT_ERR_NOMEM;
    }
    curl_easy_setopt(h, CURLOPT_URL, x->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, x->plain_http_ok ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS */
    /* Redirects are followed (or not) by http.c, which knows to drop the
     * credentials on the way; curl must never do it on its own. */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (x->loopback)
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    const char *ca = getenv("AIGTATT_CA_BUNDLE");
    if (ca && ca[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, ca); /* verification stays on */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)x->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)x->timeout_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, x->low_speed_bytes);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, x->low_speed_time_s);
    /* Refuses an announced Content-Length over the cap before any byte. */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_bytes);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "aigtatt/" AIGTATT_VERSION_STRING);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L); /* only to reach on_debug */
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
    set_method(h, x);

    x->code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
    if (x->code != CURLE_OK)
        x->status = 0;
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    return AIGTATT_OK;
}
