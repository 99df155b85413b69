/* Internal interface of the prompt plugin (prefix pb_). */
#ifndef PB_H
#define PB_H

#include <stddef.h>
#include <stdint.h>
#include <aigtatt/aigtatt.h>

/* The host table, kept by pb_init(); valid for the life of the process. */
extern const aigtatt_host *pb_host;

extern const aigtatt_component_desc pb_template_desc;
extern const aigtatt_component_desc pb_file_desc;

/* ---- built-in vocabulary (pb_vocab.c) -------------------------------- */

/* One slot of the grammar: a NULL-terminated word list. */
typedef struct pb_list {
    const char *const *words;
    size_t n;
} pb_list;

enum { PB_ADJ, PB_STYLE, PB_SUBJECT, PB_MOTIF, PB_BODY, PB_MOOD, PB_THEME, PB_NSLOTS };

/* The built-in list of slot `slot`, and the parameter that replaces it. */
pb_list pb_vocab_builtin(int slot);
const char *pb_vocab_param(int slot);

/* ---- text helpers (pb_text.c) ----------------------------------------- */

/* "an" or "a" for the word that starts `s` (skips spaces). */
const char *pb_article(const char *s);
/* Collapses runs of spaces, drops spaces before , . ; : ! ? and trims, in
 * place; upper-cases the first letter. */
void pb_tidy(char *s);
/* 0 if `s` is valid UTF-8 without control characters (tabs allowed). */
int pb_text_check(const char *s, size_t len, const char **why);
/* Non-zero if `s` is a usable identity prefix: [A-Za-z0-9_-]*. */
int pb_prefix_ok(const char *s);
/* The identity of prompt `i` (0-based) out of `count`: prefix and a number
 * of at least 4 digits, e.g. T0001. */
void pb_identity(char *buf, size_t size, const char *prefix, size_t i, size_t count);

/* A set of strings for uniqueness checks (open addressing, owns nothing). */
typedef struct pb_strset {
    const char **slots;
    size_t cap, n;
} pb_strset;
int pb_strset_init(pb_strset *s, size_t expected);
/* 1 if added, 0 if already present, -1 out of memory. */
int pb_strset_add(pb_strset *s, const char *str);
/* The stored string equal to `str`, or NULL. */
const char *pb_strset_find(const pb_strset *s, const char *str);
void pb_strset_free(pb_strset *s);

/* Appends "key":"value" (JSON-escaped) to a growing buffer. */
typedef struct pb_buf {
    char *data;
    size_t len, cap;
    int failed;
} pb_buf;
void pb_buf_puts(pb_buf *b, const char *s);
void pb_buf_json_str(pb_buf *b, const char *s);
void pb_buf_free(pb_buf *b);

#endif
