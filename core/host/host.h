/* The host table handed to plugins. */
#ifndef AIGTATT_CORE_HOST_H
#define AIGTATT_CORE_HOST_H

#include <aigtatt/aigtatt.h>

/** The process's host table (static, never NULL). */
const aigtatt_host *aigtatt_host_get(void);

#endif
