/* Waiting helpers of the HTTP client: the in-flight semaphore, a monotonic
 * clock and a sleep that notices Ctrl-C. */
#ifndef AIGTATT_CORE_HTTP_SLOTS_H
#define AIGTATT_CORE_HTTP_SLOTS_H

#include <stdint.h>
#include <aigtatt/types.h>

/** Milliseconds on the monotonic clock. */
int64_t aigtatt_http_now_ms(void);
/** Takes an in-flight slot. AIGTATT_OK, AIGTATT_ERR_CANCELLED, or
 *  AIGTATT_ERR_IO when deadline_ms (monotonic) passed first. No error text. */
int aigtatt_http_slot_acquire(int64_t deadline_ms);
void aigtatt_http_slot_release(void);
/** Sleeps ms; AIGTATT_OK, AIGTATT_ERR_CANCELLED, or AIGTATT_ERR_IO if
 *  deadline_ms comes first. No error text. */
int aigtatt_http_sleep_ms(int64_t ms, int64_t deadline_ms);

#endif
