/* Every line and error text the HTTP layer writes goes through here, and
 * through redaction on the way. */
#ifndef AIGTATT_CORE_HTTP_LOG_H
#define AIGTATT_CORE_HTTP_LOG_H

#include <aigtatt/host.h>
#include "net/http_xfer.h"

/** Sets the calling thread's error text, redacted. */
void aigtatt_http_error(const char *fmt, ...) AIGTATT_PRINTF(1, 2);
/** Logs one line, redacted. */
void aigtatt_http_log(aigtatt_log_level level, const char *fmt, ...) AIGTATT_PRINTF(2, 3);
/** The level request/response dumps go to (INFO in verbose mode, else
 *  DEBUG), or -1 when that level is not shown (skip the work). */
int aigtatt_http_dump_level(void);
/** Dumps the request of `x` (method, URL, headers, start of the body). */
void aigtatt_http_dump_request(const aigtatt_http_xfer *x, int attempt);
/** Dumps the answer of `x` (status, headers, start of the body). */
void aigtatt_http_dump_response(const aigtatt_http_xfer *x, double seconds);
/** Appends up to `max` bytes of `body` as one printable line (control
 *  bytes shown as '.', binary as "[N bytes]") to buf of `size`. */
void aigtatt_http_snippet(const char *body, size_t len, size_t max, char *buf, size_t size);

#endif
