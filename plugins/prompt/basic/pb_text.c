/* Small text helpers shared by the two prompt sources. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pb.h"

static int starts(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

const char *pb_article(const char *s)
{
    while (*s == ' ')
        s++;
    /* English picks the article by sound: "a unique", "an hourglass". */
    static const char *const a_words[] = {"uni", "use", "usu", "uti", "eu", "one", "once", NULL};
    static const char *const an_words[] = {"hour", "honest", "honor", "heir", NULL};
    for (int i = 0; a_words[i]; i++)
        if (starts(s, a_words[i]))
            return "a";
    for (int i = 0; an_words[i]; i++)
        if (starts(s, an_words[i]))
            return "an";
    return strchr("aeiouAEIOU", *s) && *s ? "an" : "a";
}

void pb_tidy(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r == ' ' && (w == s || w[-1] == ' '))
            continue;
        if (strchr(",.;:!?", *r) && w > s && w[-1] == ' ')
            w--;
        *w++ = *r;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
    if (*s >= 'a' && *s <= 'z')
        *s = (char)(*s - 'a' + 'A');
}

int pb_text_check(const char *s, size_t len, const char **why)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                *why = "contains a control character";
                return -1;
            }
            p++;
            continue;
        }
        int n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || c == 0xC0 || c == 0xC1 || c > 0xF4 || end - p <= n) {
            *why = "is not valid UTF-8";
            return -1;
        }
        for (int k = 1; k <= n; k++)
            if ((p[k] & 0xC0) != 0x80) {
                *why = "is not valid UTF-8";
                return -1;
            }
        p += n + 1;
    }
    return 0;
}

int pb_prefix_ok(const char *s)
{
    if (strlen(s) > 32)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return 0;
    return 1;
}

void pb_identity(char *buf, size_t size, const char *prefix, size_t i, size_t count)
{
    int digits = 4;
    for (size_t c = count; c >= 10000; c /= 10)
        digits++;
    snprintf(buf, size, "%s%0*zu", prefix, digits, i + 1);
}

/* ---- string set ---------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int pb_strset_init(pb_strset *s, size_t expected)
{
    s->cap = 16;
    while (s->cap < expected * 2 + 16)
        s->cap *= 2;
    s->n = 0;
    s->slots = calloc(s->cap, sizeof *s->slots);
    return s->slots ? 0 : -1;
}

const char *pb_strset_find(const pb_strset *s, const char *str)
{
    for (size_t i = fnv1a(str) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slots[i])
            return NULL;
        if (!strcmp(s->slots[i], str))
            return s->slots[i];
    }
}

int pb_strset_add(pb_strset *s, const char *str)
{
    if ((s->n + 1) * 2 > s->cap) {
        pb_strset bigger = {calloc(s->cap * 2, sizeof *s->slots), s->cap * 2, 0};
        if (!bigger.slots)
            return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i])
                pb_strset_add(&bigger, s->slots[i]);
        free(s->slots);
        *s = bigger;
    }
    size_t i = fnv1a(str) & (s->cap - 1);
    for (; s->slots[i]; i = (i + 1) & (s->cap - 1))
        if (!strcmp(s->slots[i], str))
            return 0;
    s->slots[i] = str;
    s->n++;
    return 1;
}

void pb_strset_free(pb_strset *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = s->n = 0;
}

/* ---- growing buffer ------------------------------------------------------ */

static void put(pb_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void pb_buf_puts(pb_buf *b, const char *s) { put(b, s, strlen(s)); }

void pb_buf_json_str(pb_buf *b, const char *s)
{
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(b, e, 2);
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            put(b, e, 6);
        } else {
            put(b, s, 1);
        }
    }
    put(b, "\"", 1);
}

void pb_buf_free(pb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
