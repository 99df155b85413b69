/* A growable text buffer; the core's one string builder. */
#ifndef AIGTATT_CORE_BUF_H
#define AIGTATT_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <aigtatt/host.h>

typedef struct aigtatt_buf {
    char *data;   /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
    int failed;   /* an allocation failed; contents are truncated */
} aigtatt_buf;

#define AIGTATT_BUF_INIT {0}

void aigtatt_buf_append(aigtatt_buf *b, const char *s, size_t n);
void aigtatt_buf_puts(aigtatt_buf *b, const char *s);
void aigtatt_buf_printf(aigtatt_buf *b, const char *fmt, ...) AIGTATT_PRINTF(2, 3);
/** The text so far ("" when empty); owned by the buffer. */
const char *aigtatt_buf_str(const aigtatt_buf *b);
/** Hands the text to the caller (free()) and empties the buffer. */
char *aigtatt_buf_take(aigtatt_buf *b);
void aigtatt_buf_free(aigtatt_buf *b);

/** Levenshtein distance, for "did you mean" suggestions. */
size_t aigtatt_edit_distance(const char *a, const char *b);
/** The candidate nearest to `word` (distance <= max(2, len/3)), or NULL. */
const char *aigtatt_nearest(const char *word, const char *const *candidates, size_t n);

#endif
