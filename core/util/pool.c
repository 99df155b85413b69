#include "util/pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <aigtatt/types.h>
#include "util/error.h"

static int pool_jobs;
static volatile sig_atomic_t cancel_flag;

void aigtatt_pool_set_jobs(int jobs) { pool_jobs = jobs; }

int aigtatt_pool_jobs(void)
{
    if (pool_jobs > 0)
        return pool_jobs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

typedef struct pf_job {
    size_t n;
    _Atomic size_t next;
    _Atomic int stop;
    int (*fn)(void *, size_t);
    void *ctx;
    pthread_mutex_t lock;
    int status;
    char error[4096];
} pf_job;

static void *pf_worker(void *arg)
{
    pf_job *j = arg;
    for (;;) {
        if (atomic_load(&j->stop) || cancel_flag)
            break;
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n)
            break;
        int rc = j->fn(j->ctx, i);
        if (rc != AIGTATT_OK) {
            pthread_mutex_lock(&j->lock);
            if (j->status == AIGTATT_OK) {
                j->status = rc;
                strncpy(j->error, aigtatt_last_error(), sizeof j->error - 1);
            }
            pthread_mutex_unlock(&j->lock);
            atomic_store(&j->stop, 1);
        }
    }
    return NULL;
}

int aigtatt_parallel_for(size_t n, int (*fn)(void *ctx, size_t i), void *ctx)
{
    if (n == 0)
        return AIGTATT_OK;
    pf_job j;
    memset(&j, 0, sizeof j);
    j.n = n;
    j.fn = fn;
    j.ctx = ctx;
    pthread_mutex_init(&j.lock, NULL);
    int jobs = aigtatt_pool_jobs();
    if ((size_t)jobs > n)
        jobs = (int)n;
    pthread_t *th = calloc((size_t)jobs, sizeof *th);
    int started = 0;
    if (th)
        for (; started < jobs - 1; started++)
            if (pthread_create(&th[started], NULL, pf_worker, &j) != 0)
                break;
    pf_worker(&j); /* the caller works too */
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    pthread_mutex_destroy(&j.lock);
    if (j.status != AIGTATT_OK) {
        aigtatt_set_error("%s", j.error);
        return j.status;
    }
    if (cancel_flag && atomic_load(&j.next) < n) {
        aigtatt_set_error("interrupted");
        return AIGTATT_ERR_CANCELLED;
    }
    return AIGTATT_OK;
}

static void on_signal(int sig)
{
    if (cancel_flag) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    cancel_flag = 1;
    static const char msg[] = "\naigtatt: interrupted; finishing the current item and cleaning up "
                              "(press Ctrl-C again to stop at once)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
}

void aigtatt_cancel_install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int aigtatt_cancelled(void) { return cancel_flag != 0; }
void aigtatt_cancel_request(void) { cancel_flag = 1; }
void aigtatt_cancel_reset(void) { cancel_flag = 0; }
