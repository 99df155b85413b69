#define _GNU_SOURCE /* vasprintf */
#include "util/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/secret.h"
#include "util/term.h"

#define ERR_CAP 4096

static _Thread_local char err_text[ERR_CAP];
static _Thread_local const char *log_context;
static aigtatt_log_level log_level = AIGTATT_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whatever a plugin or a server put into a message, a registered API key
 * never leaves the process through an error text or a log line. */
static void scrub(char *text, size_t size)
{
    if (aigtatt_secret_in(text)) {
        char *copy = strdup(text);
        if (copy)
            aigtatt_redact(copy, text, size);
        else
            snprintf(text, size, "[message withheld: it held a secret]");
        free(copy);
    }
}

/* fmt formatted whole, redacted (registered keys, and credential-looking
 * headers and parameters such as "Authorization: Bearer ..." even when
 * never registered), then cut to size: cutting first could split a key so
 * that its registered form no longer matches while its start survives. */
static void format_redacted(char *dst, size_t size, const char *fmt, va_list ap)
{
    char *full = NULL;
    va_list aq;
    va_copy(aq, ap);
    int n = vasprintf(&full, fmt, aq);
    va_end(aq);
    if (n < 0 || !full) {
        vsnprintf(dst, size, fmt, ap);
        scrub(dst, size);
        return;
    }
    aigtatt_redact(full, dst, size);
    free(full);
}

void aigtatt_set_errorv(const char *fmt, va_list ap) { format_redacted(err_text, sizeof err_text, fmt, ap); }

void aigtatt_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    aigtatt_set_errorv(fmt, ap);
    va_end(ap);
}

void aigtatt_error_prefix(const char *fmt, ...)
{
    char prefix[1024];
    char old[ERR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err_text, sizeof old);
    size_t n = strlen(prefix);
    /* a message that already starts with this prefix (plugins often name
     * themselves) keeps one copy of it */
    if (old[0] && n && !strncmp(old, prefix, n) && old[n] == ':')
        return;
    if (old[0])
        snprintf(err_text, sizeof err_text, "%s: %s", prefix, old);
    else
        snprintf(err_text, sizeof err_text, "%s", prefix);
    scrub(err_text, sizeof err_text);
}

const char *aigtatt_last_error(void) { return err_text; }
void aigtatt_clear_error(void) { err_text[0] = '\0'; }

void aigtatt_log_set_level(aigtatt_log_level level) { log_level = level; }
aigtatt_log_level aigtatt_log_get_level(void) { return log_level; }
void aigtatt_log_set_context(const char *node_id) { log_context = node_id; }

void aigtatt_logv(aigtatt_log_level level, const char *fmt, va_list ap)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if (level > log_level)
        return;
    char msg[4096];
    format_redacted(msg, sizeof msg, fmt, ap);
    pthread_mutex_lock(&log_lock);
    aigtatt_term_clear_line(); /* a progress bar may own the current line */
    if (log_context)
        fprintf(stderr, "aigtatt: %s: [%s] %s\n", names[level], log_context, msg);
    else
        fprintf(stderr, "aigtatt: %s: %s\n", names[level], msg);
    fflush(stderr);
    aigtatt_term_redraw();
    pthread_mutex_unlock(&log_lock);
}

void aigtatt_log(aigtatt_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    aigtatt_logv(level, fmt, ap);
    va_end(ap);
}
