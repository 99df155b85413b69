/* parallel_for over a fixed number of worker threads, and the process-wide
 * cancellation flag set by SIGINT/SIGTERM. */
#ifndef AIGTATT_CORE_POOL_H
#define AIGTATT_CORE_POOL_H

#include <stddef.h>

/** Number of threads parallel_for uses (default: online CPUs). */
void aigtatt_pool_set_jobs(int jobs);
int aigtatt_pool_jobs(void);
int aigtatt_parallel_for(size_t n, int (*fn)(void *ctx, size_t i), void *ctx);

/** Installs SIGINT/SIGTERM handlers that set the cancel flag; a second
 *  Ctrl-C restores the default action so a stuck run can still be killed. */
void aigtatt_cancel_install_handlers(void);
int aigtatt_cancelled(void);
void aigtatt_cancel_request(void);
void aigtatt_cancel_reset(void);

#endif
