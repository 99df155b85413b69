/* Logging for the HTTP layer. Texts are formatted first and redacted as a
 * whole, so a secret is caught wherever it landed: a header, a URL, a body
 * a server echoed, or curl's own error message. */
#include "net/http_log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"
#include "net/secret.h"
#include "util/error.h"

#define LINE_MAX_LEN 4096
#define DUMP_BODY_MAX 512

static atomic_int verbose_flag = -1; /* -1: not decided, look at the env */

void aigtatt_http_set_verbose(int on) { atomic_store(&verbose_flag, on ? 1 : 0); }

static int verbose(void)
{
    int v = atomic_load(&verbose_flag);
    if (v < 0) {
        const char *e = getenv("AIGTATT_HTTP_VERBOSE");
        v = e && e[0] && strcmp(e, "0") != 0;
        atomic_store(&verbose_flag, v);
    }
    return v;
}

static const char withheld[] = "[message withheld: out of memory while redacting]";

void aigtatt_http_error(const char *fmt, ...)
{
    char msg[LINE_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *red = aigtatt_redact_dup(msg);
    aigtatt_set_error("%s", red ? red : withheld);
    free(red);
}

void aigtatt_http_log(aigtatt_log_level level, const char *fmt, ...)
{
    if (level > aigtatt_log_get_level())
        return;
    char msg[LINE_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *red = aigtatt_redact_dup(msg);
    aigtatt_log(level, "%s", red ? red : withheld);
    free(red);
}

int aigtatt_http_dump_level(void)
{
    int level = verbose() ? AIGTATT_LOG_INFO : AIGTATT_LOG_DEBUG;
    return level > (int)aigtatt_log_get_level() ? -1 : level;
}

void aigtatt_http_snippet(const char *body, size_t len, size_t max, char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = '\0';
    if (!body || !len)
        return;
    size_t n = len < max ? len : max, ctl = 0;
    for (size_t i = 0; i < n; i++)
        if (body[i] == '\0' || ((unsigned char)body[i] < 32 && !isspace((unsigned char)body[i])))
            ctl++;
    if (ctl > n / 8) {
        snprintf(buf, size, "[%zu bytes of binary data]", len);
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < size; i++) {
        unsigned char c = (unsigned char)body[i];
        buf[o++] = c == '\n' || c == '\r' || c == '\t' ? ' ' : c < 32 || c == 127 ? '.' : (char)c;
    }
    if (n < len && o + 4 < size) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

void aigtatt_http_dump_request(const aigtatt_http_xfer *x, int attempt)
{
    int level = aigtatt_http_dump_level();
    if (level < 0)
        return;
    char *shown = aigtatt_http_url_for_log(x->url);
    aigtatt_http_log(level, "http > %s %s (attempt %d)", x->method, shown ? shown : "?", attempt);
    free(shown);
    for (size_t i = 0; i < x->n_headers; i++) {
        const aigtatt_http_header *h = &x->headers[i];
        if (x->strip_credentials && aigtatt_http_header_is_credential(h))
            continue;
        /* Credential headers are masked by name, not only by registry. */
        int secret = aigtatt_header_is_sensitive(h->name, strlen(h->name));
        aigtatt_http_log(level, "http >   %s: %s", h->name, secret ? "***" : h->value ? h->value : "");
    }
    if (x->body_len) {
        char snip[DUMP_BODY_MAX + 64];
        aigtatt_http_snippet(x->body, x->body_len, DUMP_BODY_MAX, snip, sizeof snip);
        aigtatt_http_log(level, "http >   [%zu bytes] %s", x->body_len, snip);
    }
}

void aigtatt_http_dump_response(const aigtatt_http_xfer *x, double seconds)
{
    int level = aigtatt_http_dump_level();
    if (level < 0)
        return;
    if (x->code != CURLE_OK) {
        aigtatt_http_log(level, "http < no answer after %.2f s: %s", seconds,
                         x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->code));
        return;
    }
    aigtatt_http_log(level, "http < %ld in %.2f s", x->status, seconds);
    for (size_t i = 0; i < x->hcount; i++) {
        int secret = aigtatt_header_is_sensitive(x->hnames[i], strlen(x->hnames[i]));
        aigtatt_http_log(level, "http <   %s: %s", x->hnames[i], secret ? "***" : x->hvalues[i]);
    }
    if (x->body_out_len) {
        char snip[DUMP_BODY_MAX + 64];
        aigtatt_http_snippet(x->body_out, x->body_out_len, DUMP_BODY_MAX, snip, sizeof snip);
        aigtatt_http_log(level, "http <   [%zu bytes] %s", x->body_out_len, snip);
    }
}
