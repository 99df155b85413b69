/* Per-thread error text and log output for the core. */
#ifndef AIGTATT_CORE_ERROR_H
#define AIGTATT_CORE_ERROR_H

#include <stdarg.h>
#include <aigtatt/types.h>
#include <aigtatt/host.h>

/** Replaces the calling thread's error text. */
void aigtatt_set_error(const char *fmt, ...) AIGTATT_PRINTF(1, 2);
void aigtatt_set_errorv(const char *fmt, va_list ap);
/** Prepends "<prefix>: " to the current error text (adding context as an
 *  error travels outwards: file, node, YAML location); a text that already
 *  starts with "<prefix>:" is left as it is. */
void aigtatt_error_prefix(const char *fmt, ...) AIGTATT_PRINTF(1, 2);
/** The calling thread's error text, never NULL. */
const char *aigtatt_last_error(void);
/** Clears the calling thread's error text. */
void aigtatt_clear_error(void);

/** Log threshold; lines above it are dropped. Default INFO. */
void aigtatt_log_set_level(aigtatt_log_level level);
aigtatt_log_level aigtatt_log_get_level(void);
/** Names the node the calling thread works for; log lines carry it. NULL
 *  clears it. The string must outlive its use. */
void aigtatt_log_set_context(const char *node_id);
void aigtatt_log(aigtatt_log_level level, const char *fmt, ...) AIGTATT_PRINTF(2, 3);
void aigtatt_logv(aigtatt_log_level level, const char *fmt, va_list ap);

#endif
