/* The host table: every service a plugin gets from the core, in one static
 * struct. Functions are only ever appended (see sdk/include/aigtatt/host.h). */
#include "host/host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment/chain.h"
#include "compute/nn_core.h"
#include "config/cfg.h"
#include "config/params.h"
#include "graph/records.h"
#include "graph/runner.h"
#include "image/image.h"
#include "net/http.h"
#include "net/secret.h"
#include "tensor/safetensors.h"
#include "plugin/registry.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/pool.h"
#include "util/rng.h"
#include "util/term.h"

static void h_log(aigtatt_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    aigtatt_logv(level, fmt, ap);
    va_end(ap);
}

static void h_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    aigtatt_set_errorv(fmt, ap);
    va_end(ap);
}

static void *h_alloc(size_t n) { return malloc(n ? n : 1); }
static void *h_alloc_zero(size_t c, size_t n) { return calloc(c ? c : 1, n ? n : 1); }
static void *h_realloc(void *p, size_t n) { return realloc(p, n ? n : 1); }
static void h_free(void *p) { free(p); }

static const aigtatt_component_desc *h_find_component(aigtatt_kind kind, const char *name)
{
    const aigtatt_component *c = aigtatt_registry_find(name);
    if (!c || (kind && c->desc.kind != kind))
        return NULL;
    /* The host's zero-extended copy of the descriptor. Its params/ports
     * still point at the plugin's arrays, with the plugin's element sizes
     * in param_desc_size/port_desc_size; params_parse reads them by that
     * stride. */
    return &c->desc;
}

int aigtatt_host_params_parse(const aigtatt_cfg *map, const aigtatt_component_desc *comp, aigtatt_params **out)
{
    const char *base = NULL;
    char *dir = NULL;
    if (map && map->file) {
        dir = aigtatt_path_dirname(map->file);
        base = dir;
    }
    int rc = aigtatt_params_parse(map, comp, base, out);
    free(dir);
    return rc;
}

static int h_set_path(const aigtatt_set *set, size_t i, char *buf, size_t size)
{
    if (!set || i >= set->n || !set->recs[i].path) {
        aigtatt_set_error("set_path: record %zu has no file", i);
        return AIGTATT_ERR_INVALID;
    }
    int n = snprintf(buf, size, "%s/%s", set->dir, set->recs[i].path);
    if (n < 0 || (size_t)n >= size) {
        aigtatt_set_error("set_path: buffer too small for %s/%s", set->dir, set->recs[i].path);
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

/* Plugins write <identity>/<file>; creating the folders here saves every
 * plugin the same mkdir loop. */
static int make_parent(const char *path)
{
    char *dir = aigtatt_path_dirname(path);
    int rc = dir ? aigtatt_mkdirs(dir) : AIGTATT_ERR_NOMEM;
    free(dir);
    return rc;
}

static int h_image_save(const aigtatt_image *img, const char *path, int quality)
{
    int rc = make_parent(path);
    return rc ? rc : aigtatt_image_save(img, path, quality);
}

static int h_write_file(const char *path, const void *data, size_t size)
{
    int rc = make_parent(path);
    return rc ? rc : aigtatt_write_file_atomic(path, data, size);
}

static size_t h_set_count(const aigtatt_set *set) { return set ? set->n : 0; }

static const aigtatt_record *h_set_record(const aigtatt_set *set, size_t i)
{
    return set && i < set->n ? &set->recs[i] : NULL;
}

static const aigtatt_host host_table = {
    .struct_size = sizeof(aigtatt_host),
    .abi_major = AIGTATT_ABI_MAJOR,
    .abi_minor = AIGTATT_ABI_MINOR,
    .version = AIGTATT_VERSION_STRING,

    .log = h_log,
    .set_error = h_set_error,
    .last_error = aigtatt_last_error,

    .alloc = h_alloc,
    .alloc_zero = h_alloc_zero,
    .realloc_mem = h_realloc,
    .free_mem = h_free,

    .cfg_type = aigtatt_cfg_type_of,
    .cfg_len = aigtatt_cfg_len,
    .cfg_at = aigtatt_cfg_at,
    .cfg_key_at = aigtatt_cfg_key_at,
    .cfg_get = aigtatt_cfg_get,
    .cfg_scalar = aigtatt_cfg_scalar,
    .cfg_where = aigtatt_cfg_where,

    .param_bool = aigtatt_params_bool,
    .param_int = aigtatt_params_int,
    .param_float = aigtatt_params_float,
    .param_string = aigtatt_params_string,
    .param_cfg = aigtatt_params_cfg,
    .param_is_set = aigtatt_params_is_set,
    .params_parse = aigtatt_host_params_parse,
    .params_free = aigtatt_params_free,

    .find_component = h_find_component,

    .rng_new = aigtatt_rng_new,
    .rng_free = aigtatt_rng_free,
    .rng_u64 = aigtatt_rng_u64,
    .rng_uniform = aigtatt_rng_uniform,
    .rng_normal = aigtatt_rng_normal,
    .seed_derive = aigtatt_seed_derive,

    .progress_begin = aigtatt_progress_begin,
    .progress_add = aigtatt_progress_add,
    .progress_end = aigtatt_progress_end,
    .cancelled = aigtatt_cancelled,
    .parallel_for = aigtatt_parallel_for,

    .image_new = aigtatt_image_new,
    .image_free = aigtatt_image_free,
    .image_load = aigtatt_image_load,
    .image_save = h_image_save,
    .write_file = h_write_file,

    .run_node_id = aigtatt_run_node_id,
    .run_seed = aigtatt_run_seed,
    .run_params = aigtatt_run_params,
    .run_input_dir = aigtatt_run_input_dir,
    .run_output_dir = aigtatt_run_output_dir,
    .set_open = aigtatt_run_set_open,
    .set_count = h_set_count,
    .set_record = h_set_record,
    .set_path = h_set_path,
    .set_close = aigtatt_set_free,
    .output_add = aigtatt_run_output_add,

    .http_request = aigtatt_http_request_do,
    .http_response_free = aigtatt_http_response_free,
    .http_header = aigtatt_http_header_get,
    .secret_get = aigtatt_secret_get,
    .redact = aigtatt_redact,

    .st_open = aigtatt_st_open,
    .st_close = aigtatt_st_close,
    .st_count = aigtatt_st_count,
    .st_tensor_at = aigtatt_st_tensor_at,
    .st_find = aigtatt_st_find,
    .st_metadata = aigtatt_st_metadata,
    .st_metadata_count = aigtatt_st_metadata_count,
    .st_metadata_at = aigtatt_st_metadata_at,
    .st_path = aigtatt_st_path,
    .st_dtype_name = aigtatt_st_dtype_name,
    .st_dtype_parse = aigtatt_st_dtype_parse,
    .st_dtype_bits = aigtatt_st_dtype_bits,
    .st_writer_new = aigtatt_st_writer_new,
    .st_writer_add = aigtatt_st_writer_add,
    .st_writer_meta = aigtatt_st_writer_meta,
    .st_writer_write = aigtatt_st_writer_write,
    .st_writer_free = aigtatt_st_writer_free,

    .nn = &aigtatt_nn_builder_api,

    .run_state_dir = aigtatt_run_state_dir,
    .model = &aigtatt_model_host_api,
    .progress_note = aigtatt_progress_note,
    .link_file = aigtatt_link_or_copy,
    .image_new_uninit = aigtatt_image_new_uninit,

    .augment_chain_parse = aigtatt_augment_chain_parse,
    .augment_chain_len = aigtatt_augment_chain_len,
    .augment_chain_apply = aigtatt_augment_chain_apply,
    .augment_chain_free = aigtatt_augment_chain_free,
    .augment_chain_uses = aigtatt_augment_chain_uses,
    .run_key = aigtatt_run_key,
    .run_forced = aigtatt_run_forced,
    .run_remove_after_publish = aigtatt_run_remove_after_publish,
};

const aigtatt_host *aigtatt_host_get(void) { return &host_table; }
