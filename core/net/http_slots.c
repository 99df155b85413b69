/* The in-flight limit: a counting semaphore across threads. A provider run
 * on 16 worker threads must not open 16 paid generations at once when the
 * API (or the user's wallet) allows 4. Waiting is sliced so that a waiter
 * notices Ctrl-C and its own deadline. */
#include "net/http_slots.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "net/http.h"
#include "util/pool.h"

#define DEFAULT_SLOTS 8
#define SLICE_MS 50

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_cond = PTHREAD_COND_INITIALIZER;
static int slot_limit = DEFAULT_SLOTS;
static int slot_used;

int64_t aigtatt_http_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void aigtatt_http_set_max_in_flight(int n)
{
    pthread_mutex_lock(&slot_lock);
    slot_limit = n < 1 ? 1 : n;
    pthread_cond_broadcast(&slot_cond);
    pthread_mutex_unlock(&slot_lock);
}

int aigtatt_http_slot_acquire(int64_t deadline_ms)
{
    int rc = AIGTATT_OK;
    pthread_mutex_lock(&slot_lock);
    while (slot_used >= slot_limit) {
        if (aigtatt_cancelled()) {
            rc = AIGTATT_ERR_CANCELLED;
            break;
        }
        if (aigtatt_http_now_ms() >= deadline_ms) {
            rc = AIGTATT_ERR_IO;
            break;
        }
        /* The condition uses the wall clock; a slice this short makes a
         * clock step harmless, and the deadline is checked on the
         * monotonic one above. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SLICE_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&slot_cond, &slot_lock, &ts);
    }
    if (rc == AIGTATT_OK)
        slot_used++;
    pthread_mutex_unlock(&slot_lock);
    return rc;
}

void aigtatt_http_slot_release(void)
{
    pthread_mutex_lock(&slot_lock);
    if (slot_used > 0)
        slot_used--;
    pthread_cond_signal(&slot_cond);
    pthread_mutex_unlock(&slot_lock);
}

int aigtatt_http_sleep_ms(int64_t ms, int64_t deadline_ms)
{
    int64_t until = aigtatt_http_now_ms() + ms;
    for (;;) {
        if (aigtatt_cancelled())
            return AIGTATT_ERR_CANCELLED;
        int64_t now = aigtatt_http_now_ms();
        if (now >= until)
            return AIGTATT_OK;
        if (now >= deadline_ms)
            return AIGTATT_ERR_IO;
        int64_t step = until - now;
        if (step > SLICE_MS)
            step = SLICE_MS;
        struct timespec ts = {.tv_sec = step / 1000, .tv_nsec = (step % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}
