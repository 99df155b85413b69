/* Redaction: registered secrets, then credential-looking fields
 * ("Authorization: ...", "x-api-key=...", "Bearer ..."). The second pass
 * catches keys the registry never saw (a key typed into a YAML header list,
 * a token a server hands back). */
#include "net/secret.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/secret_impl.h"
#include "util/buf.h"

#define MASK "***"

/* Header names whose values are credentials; matched case-insensitively. */
static const char *const header_names[] = {
    "authorization", "proxy-authorization", "cookie", "set-cookie",
    "x-api-key", "api-key", "x-goog-api-key", NULL};

/* Field names redacted in free text: the headers plus query-string and JSON
 * spellings. Not plain "token": jansson's "unexpected token" would lose its
 * diagnostics. */
static const char *const field_names[] = {
    "proxy-authorization", "authorization", "x-goog-api-key", "x-api-key",
    "api-key", "api_key", "apikey", "set-cookie", "cookie", "access_token",
    "client_secret", "password", NULL};

int aigtatt_header_is_sensitive(const char *name, size_t len)
{
    for (const char *const *h = header_names; *h; h++)
        if (strlen(*h) == len && !strncasecmp(name, *h, len))
            return 1;
    return 0;
}

/* The shortest front part of a secret that is masked on its own. Text is
 * cut to size in many places (a server's message, a body snippet), and a
 * cut that falls inside an echoed key leaves its front part, nearly all of
 * the key, where no whole match is found. 8 characters mask that while
 * leaving short common words alone. */
#define PARTIAL_MIN 8

static void mask_secrets(const char *s, aigtatt_buf *out)
{
    pthread_mutex_lock(&aigtatt_secret_lock);
    for (size_t i = 0; s[i];) {
        size_t hit = 0;
        for (size_t k = 0; k < aigtatt_secret_count; k++) {
            const aigtatt_secret_entry *e = &aigtatt_secret_list[k];
            if (e->value[0] != s[i])
                continue;
            size_t m = 0;
            while (m < e->len && s[i + m] == e->value[m])
                m++;
            if (m == e->len || (m >= PARTIAL_MIN && m > hit))
                hit = m > hit ? m : hit;
            if (m == e->len)
                break; /* longest first: a whole match is the best */
        }
        if (hit) {
            aigtatt_buf_puts(out, MASK);
            i += hit;
        } else {
            aigtatt_buf_append(out, s + i, 1);
            i++;
        }
    }
    pthread_mutex_unlock(&aigtatt_secret_lock);
}

static int word_char(char c) { return isalnum((unsigned char)c) || c == '-' || c == '_'; }

/* If s+i starts a credential field, returns the end of its value and sets
 * *vstart; else returns 0. */
static size_t field_at(const char *s, size_t i, size_t *vstart)
{
    if (i > 0 && word_char(s[i - 1]))
        return 0;
    if (!strncasecmp(s + i, "bearer ", 7)) {
        size_t j = i + 7, k;
        while (s[j] == ' ')
            j++;
        for (k = j; s[k] && !isspace((unsigned char)s[k]) && s[k] != '"' && s[k] != '\''; k++)
            ;
        *vstart = j;
        return k > j ? k : 0;
    }
    if (!strncasecmp(s + i, "basic ", 6)) {
        /* HTTP Basic: base64 of user:password, which decodes straight back.
         * Only a base64-looking token of 8+ characters with a digit, '+',
         * '/' or '=' in it, so that "basic settings" stays readable. */
        size_t j = i + 6, k;
        while (s[j] == ' ')
            j++;
        int marked = 0;
        for (k = j; isalnum((unsigned char)s[k]) || s[k] == '+' || s[k] == '/' || s[k] == '='; k++)
            marked |= isdigit((unsigned char)s[k]) || s[k] == '+' || s[k] == '/' || s[k] == '=';
        if (k - j >= 8 && marked) {
            *vstart = j;
            return k;
        }
    }
    for (const char *const *f = field_names; *f; f++) {
        size_t n = strlen(*f);
        if (strncasecmp(s + i, *f, n) != 0 || word_char(s[i + n]))
            continue;
        size_t j = i + n;
        if (s[j] == '"' || s[j] == '\'')
            j++;
        while (s[j] == ' ' || s[j] == '\t')
            j++;
        if (s[j] != ':' && s[j] != '=')
            continue;
        char sep = s[j++];
        while (s[j] == ' ' || s[j] == '\t')
            j++;
        char q = 0;
        if (s[j] == '"' || s[j] == '\'')
            q = s[j++];
        size_t k = j;
        while (s[k] && s[k] != '\n' && s[k] != '\r') {
            if (q ? s[k] == q
                  : sep == '=' && (isspace((unsigned char)s[k]) || s[k] == '&' || s[k] == ';' || s[k] == ','))
                break;
            k++;
        }
        *vstart = j;
        return k;
    }
    return 0;
}

static void mask_fields(const char *s, aigtatt_buf *out)
{
    for (size_t i = 0; s[i];) {
        size_t v = 0, end = field_at(s, i, &v);
        if (end) {
            aigtatt_buf_append(out, s + i, v - i);
            if (end > v)
                aigtatt_buf_puts(out, MASK);
            i = end;
        } else {
            aigtatt_buf_append(out, s + i, 1);
            i++;
        }
    }
}

char *aigtatt_redact_dup(const char *text)
{
    aigtatt_buf a = AIGTATT_BUF_INIT, b = AIGTATT_BUF_INIT;
    mask_secrets(text ? text : "", &a);
    mask_fields(aigtatt_buf_str(&a), &b);
    int failed = a.failed || b.failed;
    aigtatt_buf_free(&a);
    if (failed) {
        /* A half-redacted text is worse than none. */
        aigtatt_buf_free(&b);
        return NULL;
    }
    return aigtatt_buf_take(&b);
}

size_t aigtatt_redact(const char *text, char *buf, size_t size)
{
    char *r = aigtatt_redact_dup(text);
    const char *src = r ? r : "[text withheld: out of memory while redacting]";
    size_t n = strlen(src);
    if (buf && size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(buf, src, c);
        buf[c] = '\0';
    }
    free(r);
    return n;
}
