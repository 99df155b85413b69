/* Retry policy: what may be repeated, and how long to wait first. Pure
 * functions, so the tests pin the numbers down without a server. */
#include "net/http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t aigtatt_http_backoff_ms(int retry, int64_t base_ms, int64_t max_ms, uint64_t *rng_state)
{
    if (base_ms < 1)
        base_ms = 1;
    if (max_ms < base_ms)
        max_ms = base_ms;
    int64_t step = base_ms;
    for (int i = 0; i < retry && step < max_ms; i++)
        step = step > max_ms / 2 ? max_ms : step * 2;
    if (step > max_ms)
        step = max_ms;
    /* Equal jitter: never less than half the step (a burst of clients does
     * not come back at once) and never more than the cap. */
    int64_t half = step / 2;
    uint64_t r = splitmix64(rng_state);
    return half + (int64_t)(r % (uint64_t)(step - half + 1));
}

int aigtatt_http_parse_retry_after(const char *value, time_t now, int64_t *ms)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (n == 0)
        return -1;
    size_t i = 0;
    while (i < n && isdigit((unsigned char)value[i]))
        i++;
    if (i == n) {
        /* Delta seconds; saturate rather than overflow, the caller's bound
         * turns an absurd wait into "do not retry". */
        int64_t s = 0;
        for (i = 0; i < n; i++) {
            if (s > INT64_MAX / 10000)
                break;
            s = s * 10 + (value[i] - '0');
        }
        *ms = s > INT64_MAX / 10000 ? INT64_MAX / 10 : s * 1000;
        return 0;
    }
    if (n > 64 || !isalpha((unsigned char)value[0]))
        return -1; /* every HTTP date starts with a day name */
    char tmp[65];
    memcpy(tmp, value, n);
    tmp[n] = '\0';
    time_t t = curl_getdate(tmp, NULL);
    if (t == (time_t)-1)
        return -1;
    *ms = t > now ? (int64_t)(t - now) * 1000 : 0;
    return 0;
}

int aigtatt_http_method_idempotent(const char *method)
{
    static const char *const safe[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", NULL};
    for (const char *const *m = safe; *m; m++)
        if (!strcmp(method, *m))
            return 1;
    return 0;
}

int aigtatt_http_status_retryable(int status)
{
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

int aigtatt_http_may_retry(const char *method, int retry_post, int status, int transport_retryable,
                           int sent)
{
    if (status > 0 ? !aigtatt_http_status_retryable(status) : !transport_retryable)
        return 0;
    if (aigtatt_http_method_idempotent(method) || retry_post == AIGTATT_HTTP_RETRY_POST_ALWAYS)
        return 1;
    if (retry_post != AIGTATT_HTTP_RETRY_POST_IF_NOT_SENT)
        return 0;
    /* Paid work: only what provably never started. 429 and 503 are
     * refusals; a 500/502/504 or a timeout may hide a created job. */
    if (status > 0)
        return status == 429 || status == 503;
    return !sent;
}
