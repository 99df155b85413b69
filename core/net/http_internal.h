/* Pieces of the HTTP client shared between its files. */
#ifndef AIGTATT_CORE_HTTP_INTERNAL_H
#define AIGTATT_CORE_HTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <aigtatt/http.h>
#include "net/http_xfer.h"

/** Copies the caller's request into *r (zeroed first; a plugin built
 *  against an older, shorter struct reads as zeros), fills in the defaults
 *  and checks everything that can be checked offline: struct_size, method,
 *  headers, the URL policy. AIGTATT_OK or AIGTATT_ERR_INVALID (error set). */
int aigtatt_http_prepare(const aigtatt_http_request *user, aigtatt_http_request *r);

/** Moves the answer in `x` (body, headers) and `url` into a new response;
 *  NULL on OOM (then nothing was moved). */
aigtatt_http_response *aigtatt_http_response_take(aigtatt_http_xfer *x, char *url, int retries,
                                                  int redirects, double elapsed_s);

/** The last header called `name` (case-insensitive), or NULL. */
const char *aigtatt_http_find_header(char **names, char **values, size_t n, const char *name);

#endif
