/* The few util/error.h functions that core/image calls, for the fuzz
 * build only: per-thread error text, and a log that prints errors alone.
 * They stand in for core/util/error.c, so the fuzzer links the sources of
 * core/image and nothing else of the core (error.c pulls in the terminal
 * and secret-redaction code, which the loaders do not need). Same contract
 * as error.h: the text is per thread and always terminated. */
#include "util/error.h"

#include <stdio.h>
#include <string.h>

#define ERR_CAP 4096

static _Thread_local char err_text[ERR_CAP];
static aigtatt_log_level log_level = AIGTATT_LOG_INFO;

void aigtatt_set_errorv(const char *fmt, va_list ap)
{
    vsnprintf(err_text, sizeof err_text, fmt, ap);
}

void aigtatt_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    aigtatt_set_errorv(fmt, ap);
    va_end(ap);
}

void aigtatt_error_prefix(const char *fmt, ...)
{
    char prefix[1024], old[ERR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err_text, sizeof old);
    if (old[0])
        snprintf(err_text, sizeof err_text, "%s: %s", prefix, old);
    else
        snprintf(err_text, sizeof err_text, "%s", prefix);
}

const char *aigtatt_last_error(void) { return err_text; }
void aigtatt_clear_error(void) { err_text[0] = '\0'; }
void aigtatt_log_set_level(aigtatt_log_level level) { log_level = level; }

void aigtatt_logv(aigtatt_log_level level, const char *fmt, va_list ap)
{
    if (level > log_level)
        return;
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void aigtatt_log(aigtatt_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    aigtatt_logv(level, fmt, ap);
    va_end(ap);
}
