/* The registry behind secret.c, shared with redact.c only. */
#ifndef AIGTATT_CORE_SECRET_IMPL_H
#define AIGTATT_CORE_SECRET_IMPL_H

#include <pthread.h>
#include <stddef.h>

typedef struct aigtatt_secret_entry {
    char *name;  /* variable name, or NULL for a value registered directly */
    char *value; /* the secret, owned */
    size_t len;  /* strlen(value) */
} aigtatt_secret_entry;

/* Sorted longest value first; guarded by aigtatt_secret_lock. */
extern pthread_mutex_t aigtatt_secret_lock;
extern aigtatt_secret_entry *aigtatt_secret_list;
extern size_t aigtatt_secret_count;

#endif
