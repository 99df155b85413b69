/* safetensors reader and writer (core side of sdk/include/aigtatt/safetensors.h).
 * Each function has the type of the matching aigtatt_st_*_fn in the SDK
 * header, so the host table points straight at them. */
#ifndef AIGTATT_CORE_SAFETENSORS_H
#define AIGTATT_CORE_SAFETENSORS_H

#include <aigtatt/safetensors.h>

/** The reference's header limit: 100,000,000 bytes. */
#define AIGTATT_ST_MAX_HEADER 100000000u

const char *aigtatt_st_dtype_name(aigtatt_st_dtype dtype);
aigtatt_st_dtype aigtatt_st_dtype_parse(const char *name);
size_t aigtatt_st_dtype_bits(aigtatt_st_dtype dtype);

int aigtatt_st_open(const char *path, aigtatt_st **out);
void aigtatt_st_close(aigtatt_st *st);
size_t aigtatt_st_count(const aigtatt_st *st);
int aigtatt_st_tensor_at(const aigtatt_st *st, size_t i, aigtatt_st_info *info);
int aigtatt_st_find(const aigtatt_st *st, const char *name, aigtatt_st_info *info);
const char *aigtatt_st_metadata(const aigtatt_st *st, const char *key);
size_t aigtatt_st_metadata_count(const aigtatt_st *st);
int aigtatt_st_metadata_at(const aigtatt_st *st, size_t i, const char **key, const char **value);
const char *aigtatt_st_path(const aigtatt_st *st);

aigtatt_st_writer *aigtatt_st_writer_new(void);
int aigtatt_st_writer_add(aigtatt_st_writer *w, const char *name, aigtatt_st_dtype dtype,
                          size_t ndim, const uint64_t *shape, const void *data, size_t nbytes,
                          unsigned flags);
int aigtatt_st_writer_meta(aigtatt_st_writer *w, const char *key, const char *value);
int aigtatt_st_writer_write(const aigtatt_st_writer *w, const char *path);
void aigtatt_st_writer_free(aigtatt_st_writer *w);

#endif
