/* One transfer (one attempt) on a fresh curl easy handle; the retry and
 * redirect loop in http.c decides what to do with the outcome. */
#ifndef AIGTATT_CORE_HTTP_XFER_H
#define AIGTATT_CORE_HTTP_XFER_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include <aigtatt/http.h>

typedef struct aigtatt_http_xfer {
    /* in: borrowed for the attempt */
    const char *url;
    const char *method;
    const aigtatt_http_header *headers;
    size_t n_headers;
    int strip_credentials;  /* drop credential headers (cross-origin redirect) */
    const void *body;
    size_t body_len;
    int64_t connect_timeout_ms;
    int64_t timeout_ms;
    long low_speed_bytes;
    long low_speed_time_s;
    uint64_t max_bytes;
    int plain_http_ok;      /* the URL passed the http:// policy */
    int loopback;           /* the host is local: never through a proxy */

    /* out: reset by aigtatt_http_xfer_run */
    CURLcode code;
    long status;
    int sent;               /* a byte of the request reached the socket */
    int over_cap;           /* body beyond max_bytes */
    int headers_over;       /* response headers beyond their cap */
    int cancelled;
    char *body_out;         /* malloc'ed, NUL-terminated, or NULL */
    size_t body_out_len;
    size_t body_out_cap;
    char **hnames;          /* headers of the final response, malloc'ed */
    char **hvalues;
    size_t hcount;
    size_t hcap;
    size_t hbytes;
    char errbuf[CURL_ERROR_SIZE];
} aigtatt_http_xfer;

/** Runs one transfer. Returns AIGTATT_OK when curl ran (look at `code`,
 *  `status` and the flags), AIGTATT_ERR_NOMEM when it could not be set up.
 *  No error text: the caller builds one (it knows the redaction rules). */
int aigtatt_http_xfer_run(aigtatt_http_xfer *x);
/** Frees the outputs (body, headers) and zeroes them. */
void aigtatt_http_xfer_clear(aigtatt_http_xfer *x);
/** Whether the header belongs in a request after a cross-origin redirect. */
int aigtatt_http_header_is_credential(const aigtatt_http_header *h);

#endif
