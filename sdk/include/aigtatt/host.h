/* aigtatt SDK: the host table, the one set of services the core hands to
 * every plugin (through aigtatt_plugin_desc.init).
 *
 * Plugins never link against libaigtatt; everything they need from the
 * core goes through this table. Functions are only ever appended; a plugin
 * may use every field of the ABI minor it was built against. Unless a
 * comment says otherwise, every function is safe to call from several
 * threads at once. */
#ifndef AIGTATT_HOST_H
#define AIGTATT_HOST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "types.h"
#include "params.h"
#include "plugin.h"
#include "http.h"
#include "safetensors.h"
#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define AIGTATT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AIGTATT_PRINTF(a, b)
#endif

/** A node of the parsed YAML tree; it remembers file:line:col. Owned by the
 *  host and valid while the experiment is loaded (for the whole of run()). */
typedef struct aigtatt_cfg aigtatt_cfg;
/** Validated parameters of one component instance. Owned by the host. */
typedef struct aigtatt_params aigtatt_params;
/** The running node: its inputs, outputs, seed and parameters. Borrowed for
 *  the duration of aigtatt_node_vtable.run(). */
typedef struct aigtatt_run aigtatt_run;
/** A read-only record set (the manifest of an input port). */
typedef struct aigtatt_set aigtatt_set;
/** A seeded random number generator (xoshiro256**). Not thread-safe: use
 *  one per thread or per item. */
typedef struct aigtatt_rng aigtatt_rng;
/** A progress counter shown as a bar on a terminal, as log lines otherwise. */
typedef struct aigtatt_progress aigtatt_progress;
struct aigtatt_augment_chain; /* augment.h: aigtatt_augment_chain */

/** Shapes of a config tree node. */
typedef enum aigtatt_cfg_type {
    AIGTATT_CFG_SCALAR = 1,
    AIGTATT_CFG_SEQ = 2,
    AIGTATT_CFG_MAP = 3
} aigtatt_cfg_type;

/** Options for aigtatt_host.image_load(); zero means "the default". */
typedef struct aigtatt_image_load_opts {
    size_t struct_size;   /**< sizeof(aigtatt_image_load_opts) as built */
    int channels;         /**< 0: as stored (grey, RGB or RGBA); 1, 3 or 4:
                               convert to that many channels */
    uint64_t max_pixels;  /**< refuse larger images; 0: the host's limit
                               (64 megapixels unless configured) */
    int32_t min_width;    /**< when > 0 with min_height: JPEGs may be decoded
                               at a DCT-scaled size no smaller than this */
    int32_t min_height;   /**< see min_width */
    int max_scans;        /**< refuse progressive JPEGs with more scans;
                               0: the host's limit (100) */
    int over_white;       /**< with channels 1 or 3: non-zero composites a
                               transparent image over white (a design's
                               transparent background reads as paper);
                               0 drops alpha, like PIL's convert("RGB").
                               Added in ABI minor 1. */
} aigtatt_image_load_opts;

/** The table of host services. */
typedef struct aigtatt_host {
    size_t struct_size; /**< sizeof(aigtatt_host) in the running host */
    int abi_major;      /**< the host's AIGTATT_ABI_MAJOR */
    int abi_minor;      /**< the host's AIGTATT_ABI_MINOR */
    const char *version; /**< the host's release version, static */

    /* ---- logging and errors ---------------------------------------- */

    /** Writes one log line at `level`, prefixed by the running node. */
    void (*log)(aigtatt_log_level level, const char *fmt, ...) AIGTATT_PRINTF(2, 3);
    /** Records the message of the failure the caller is about to return.
     *  The text is kept per thread; the core adds node, component and YAML
     *  location before showing it. Never put secrets in it. */
    void (*set_error)(const char *fmt, ...) AIGTATT_PRINTF(1, 2);
    /** The calling thread's last error text; never NULL ("" if none). Valid
     *  until the next set_error() on this thread. */
    const char *(*last_error)(void);

    /* ---- memory (the host may count or check it) -------------------- */

    /** malloc(); NULL on failure. Free with free_mem(). */
    void *(*alloc)(size_t size);
    /** calloc(); NULL on failure. */
    void *(*alloc_zero)(size_t count, size_t size);
    /** realloc(); NULL on failure, leaving `ptr` untouched. */
    void *(*realloc_mem)(void *ptr, size_t size);
    /** free(); NULL is a no-op. */
    void (*free_mem)(void *ptr);

    /* ---- config tree ----------------------------------------------- */

    /** The node's shape; 0 if `cfg` is NULL. */
    aigtatt_cfg_type (*cfg_type)(const aigtatt_cfg *cfg);
    /** Items of a sequence or pairs of a mapping; 0 for a scalar or NULL. */
    size_t (*cfg_len)(const aigtatt_cfg *cfg);
    /** Item `i` of a sequence, or value `i` of a mapping; NULL if out of range. */
    const aigtatt_cfg *(*cfg_at)(const aigtatt_cfg *cfg, size_t i);
    /** Key `i` of a mapping; NULL if not a mapping or out of range. */
    const char *(*cfg_key_at)(const aigtatt_cfg *cfg, size_t i);
    /** Value under `key` of a mapping; NULL if absent or not a mapping. */
    const aigtatt_cfg *(*cfg_get)(const aigtatt_cfg *cfg, const char *key);
    /** Text of a scalar; NULL for a sequence, mapping or NULL. */
    const char *(*cfg_scalar)(const aigtatt_cfg *cfg);
    /** Writes "file:line:col" of the node into buf (always terminated);
     *  returns buf. Use it in error messages about nested values. */
    const char *(*cfg_where)(const aigtatt_cfg *cfg, char *buf, size_t size);

    /* ---- parameters ------------------------------------------------ */
    /* Getters take a declared name; the host validated type and range, so
     * they cannot fail for a declared parameter. An undeclared name or the
     * wrong getter logs an error and returns 0 / NULL. */

    /** Value of a BOOL parameter (0 or 1). */
    int (*param_bool)(const aigtatt_params *p, const char *name);
    /** Value of an INT parameter. */
    int64_t (*param_int)(const aigtatt_params *p, const char *name);
    /** Value of a FLOAT (or INT) parameter. */
    double (*param_float)(const aigtatt_params *p, const char *name);
    /** Value of a STRING, ENUM or PATH parameter; PATHs come back absolute.
     *  Owned by `p`. NULL only for an optional parameter left unset with no
     *  default. */
    const char *(*param_string)(const aigtatt_params *p, const char *name);
    /** The YAML tree of any parameter (the default's tree when unset); the
     *  way to read LIST and MAP parameters. Owned by `p`. */
    const aigtatt_cfg *(*param_cfg)(const aigtatt_params *p, const char *name);
    /** Non-zero if the user set the parameter (YAML or --set). */
    int (*param_is_set)(const aigtatt_params *p, const char *name);
    /** Validates a YAML mapping against `comp`'s declared parameters (unknown
     *  keys, types, ranges, required ones) and returns them in *out, to be
     *  released with params_free(). Used by nodes that hold lists of building
     *  blocks (an augmentation pipeline). Errors name file:line:col. */
    int (*params_parse)(const aigtatt_cfg *map, const aigtatt_component_desc *comp,
                        aigtatt_params **out);
    /** Releases what params_parse() returned; NULL is a no-op. */
    void (*params_free)(aigtatt_params *p);

    /* ---- components ------------------------------------------------ */

    /** The loaded component called `name`, or NULL. `kind` 0 matches any
     *  kind; otherwise a component of another kind is not returned. */
    const aigtatt_component_desc *(*find_component)(aigtatt_kind kind, const char *name);

    /* ---- randomness ------------------------------------------------ */

    /** A generator seeded with `seed`; NULL on allocation failure. */
    aigtatt_rng *(*rng_new)(uint64_t seed);
    /** Releases a generator; NULL is a no-op. */
    void (*rng_free)(aigtatt_rng *rng);
    /** The next 64 random bits. */
    uint64_t (*rng_u64)(aigtatt_rng *rng);
    /** A double uniform in [0, 1). */
    double (*rng_uniform)(aigtatt_rng *rng);
    /** A standard normal deviate. */
    double (*rng_normal)(aigtatt_rng *rng);
    /** A seed derived from (`seed`, `label`, `index`) by SHA-256, so that
     *  item 7 of a node gets the same seed however many items come before. */
    uint64_t (*seed_derive)(uint64_t seed, const char *label, uint64_t index);

    /* ---- progress and cancellation --------------------------------- */

    /** Starts a counter for `total` items (0: unknown). Never NULL: when
     *  allocation fails the functions below do nothing. */
    aigtatt_progress *(*progress_begin)(const char *label, uint64_t total);
    /** Adds finished and failed items. */
    void (*progress_add)(aigtatt_progress *p, uint64_t done, uint64_t failed);
    /** Prints the final line and releases `p`; NULL is a no-op. */
    void (*progress_end)(aigtatt_progress *p);
    /** Non-zero once the user asked to stop (Ctrl-C, SIGTERM). Long loops
     *  return AIGTATT_ERR_CANCELLED when it is set. A node that returns
     *  AIGTATT_OK declares its outputs complete: they are published even if
     *  the stop came meanwhile, and the run stops before the next node. */
    int (*cancelled)(void);
    /** Calls fn(ctx, i) for i in [0, n) on the host's worker threads (as
     *  many as `--jobs`) and waits. Stops handing out new items after the
     *  first failure or a cancel; returns AIGTATT_OK or the first failing
     *  status (its error text is carried to the caller's thread). */
    int (*parallel_for)(size_t n, int (*fn)(void *ctx, size_t i), void *ctx);

    /* ---- images ---------------------------------------------------- */

    /** A zeroed image; NULL (with an error set) on bad size or no memory. */
    aigtatt_image *(*image_new)(int32_t width, int32_t height, int32_t channels);
    /** Releases an image; NULL is a no-op. */
    void (*image_free)(aigtatt_image *img);
    /** Decodes a PNG or JPEG (by content, not name). `opts` may be NULL.
     *  A corrupt, truncated, empty, over-budget or unknown file gives
     *  AIGTATT_ERR_FORMAT or AIGTATT_ERR_LIMIT with a message naming it;
     *  *out is then NULL. */
    int (*image_load)(const char *path, const aigtatt_image_load_opts *opts,
                      aigtatt_image **out);
    /** Encodes by extension (.png, .jpg/.jpeg; `quality` 1..100 for JPEG,
     *  ignored for PNG) to a temporary name, then renames it into place, so
     *  `path` is either absent or complete. Missing parent folders are
     *  created. */
    int (*image_save)(const aigtatt_image *img, const char *path, int quality);
    /** Writes `size` bytes to `path` atomically (temporary name + rename),
     *  creating missing parent folders. */
    int (*write_file)(const char *path, const void *data, size_t size);

    /* ---- the running node ------------------------------------------ */

    /** The node's id from the YAML file; owned by the run. */
    const char *(*run_node_id)(const aigtatt_run *run);
    /** The node's seed, derived from the experiment seed and the node id. */
    uint64_t (*run_seed)(const aigtatt_run *run);
    /** The node's validated parameters; owned by the run. */
    const aigtatt_params *(*run_params)(const aigtatt_run *run);
    /** The folder holding the artifact connected to input `port`, or NULL
     *  if the optional port is not connected. Read-only. */
    const char *(*run_input_dir)(const aigtatt_run *run, const char *port);
    /** The folder where the node writes output `port` (a temporary folder
     *  the host publishes atomically on success); NULL for an unknown port. */
    const char *(*run_output_dir)(const aigtatt_run *run, const char *port);
    /** Opens the record set (manifest.jsonl) of input `port`. Release with
     *  set_close(). A malformed manifest fails with its file and line. */
    int (*set_open)(const aigtatt_run *run, const char *port, aigtatt_set **out);
    /** Records in the set. */
    size_t (*set_count)(const aigtatt_set *set);
    /** Record `i`, owned by the set; NULL if out of range. */
    const aigtatt_record *(*set_record)(const aigtatt_set *set, size_t i);
    /** Writes the absolute path of record `i`'s file into buf; returns
     *  AIGTATT_OK, or AIGTATT_ERR_INVALID if it has no path or buf is short. */
    int (*set_path)(const aigtatt_set *set, size_t i, char *buf, size_t size);
    /** Releases a set; NULL is a no-op. */
    void (*set_close)(aigtatt_set *set);
    /** Appends a record to output `port`'s manifest; strings are copied.
     *  Records are written sorted by id when the node finishes, so the
     *  order of calls from several threads does not matter. Duplicate ids
     *  are refused. */
    int (*output_add)(aigtatt_run *run, const char *port, const aigtatt_record *rec);

    /* ---- HTTP and API keys (contracts in http.h) ------------------- */

    /** Performs an HTTP request: deadlines, byte cap, TLS verification,
     *  https-only policy, retries with backoff and Retry-After, the POST
     *  retry policy, the in-flight limit, Ctrl-C, redaction. See
     *  aigtatt_http_request_fn in http.h for statuses and ownership. */
    aigtatt_http_request_fn http_request;
    /** Releases a response from http_request(); NULL is a no-op. */
    aigtatt_http_response_free_fn http_response_free;
    /** A response header by name (case-insensitive), owned by the
     *  response; NULL if absent. */
    aigtatt_http_header_fn http_header;
    /** An API key from the environment or a private .env file; the string
     *  is host-owned for the whole process and redacted from every host
     *  log line and error text. See aigtatt_secret_get_fn. */
    aigtatt_secret_get_fn secret_get;
    /** Copies a text with secrets and credential fields replaced by "***"
     *  (snprintf-like); use it on provider messages before set_error(). */
    aigtatt_redact_fn redact;

    /* ---- safetensors (contracts in safetensors.h) ------------------ */

    /** Opens (mmaps) and fully validates a .safetensors file. */
    aigtatt_st_open_fn st_open;
    /** Closes a file from st_open(); NULL is a no-op. */
    aigtatt_st_close_fn st_close;
    /** Number of tensors in the file. */
    aigtatt_st_count_fn st_count;
    /** Tensor `i` in file order. */
    aigtatt_st_tensor_at_fn st_tensor_at;
    /** Tensor by name. */
    aigtatt_st_find_fn st_find;
    /** A __metadata__ value by key, or NULL. */
    aigtatt_st_metadata_fn st_metadata;
    /** Number of __metadata__ entries. */
    aigtatt_st_metadata_count_fn st_metadata_count;
    /** __metadata__ entry `i`. */
    aigtatt_st_metadata_at_fn st_metadata_at;
    /** The path the file was opened from. */
    aigtatt_st_path_fn st_path;
    /** Name of a dtype ("F32"). */
    aigtatt_st_dtype_name_fn st_dtype_name;
    /** Dtype from its name. */
    aigtatt_st_dtype_parse_fn st_dtype_parse;
    /** Bits per element of a dtype. */
    aigtatt_st_dtype_bits_fn st_dtype_bits;
    /** A new writer. */
    aigtatt_st_writer_new_fn st_writer_new;
    /** Adds a tensor to a writer (copied or borrowed). */
    aigtatt_st_writer_add_fn st_writer_add;
    /** Adds a __metadata__ entry. */
    aigtatt_st_writer_meta_fn st_writer_meta;
    /** Writes the file atomically, as the reference orders it. */
    aigtatt_st_writer_write_fn st_writer_write;
    /** Releases a writer; NULL is a no-op. */
    aigtatt_st_writer_free_fn st_writer_free;

    /* ---- networks (contracts in nn.h) ------------------------------ */

    /** The network builder that backbone and loss plugins describe their
     *  networks with; static, never NULL. */
    const aigtatt_nn_api *nn;

    /* ---- state that outlives a node's result ----------------------- */

    /** The experiment's persistent state folder, <workdir>/state, created on
     *  demand and owned by the run (valid during run()). Unlike output
     *  folders it survives failed and interrupted runs, so nodes keep
     *  resumable work there (a provider's finished paid images); it is
     *  under the workdir lock, never part of a cache key, and never cleaned
     *  by the runner but for the temporaries of atomic writes a kill
     *  interrupted (`*.tmp.XXXXXX`), removed at the start of a run. Subfolders are the component's to name; NULL (error
     *  set) when it cannot be created. */
    const char *(*run_state_dir)(const aigtatt_run *run);

    /* ---- compiled networks (contracts in model.h) ------------------ */

    /** Backbone + loss + optimizer + backend building blocks turned into a
     *  compiled network that trainer and embedder nodes drive by name;
     *  static, never NULL. */
    const struct aigtatt_model_api *model;

    /** Sets a short text shown after a progress counter's figures (a
     *  trainer's "loss 2.31 lr 0.01"); copied, truncated to 127 bytes;
     *  NULL clears it. */
    void (*progress_note)(aigtatt_progress *p, const char *text);

    /** Makes `to` a hard link of file `from`, or an atomic copy when links
     *  are impossible (another file system); creates missing parent
     *  folders; an existing `to` is an error. For nodes that pass images
     *  through to their output without re-encoding them. */
    int (*link_file)(const char *from, const char *to);

    /** Like image_new(), but the pixels are left unset: for code that
     *  writes every byte of the image (saves zeroing a buffer it is about
     *  to overwrite). Release with image_free(). */
    aigtatt_image *(*image_new_uninit)(int32_t width, int32_t height, int32_t channels);

    /* ---- augmentation chains (the handle is declared in augment.h) -- */

    /** Reads the LIST parameter `list_param` of `node_params` (borrowed) as a
     *  chain of augmentation ops: entries {op: NAME, p: PROB, ...the op's own
     *  parameters}, NAME being the part after 'augment.' (rotate) or a full
     *  component name of kind AIGTATT_KIND_AUGMENT_OP, p in [0, 1] (default
     *  1). Each entry is validated against its op's declared parameters and
     *  its check(); errors name the YAML file:line:col and the op, and an
     *  unknown NAME gets the nearest loaded op suggested. An empty list is
     *  refused (a node for which empty means "no augmentation" tests
     *  cfg_len() first); at most 256 entries. On success *out is a new chain
     *  owned by the caller (augment_chain_free()) that borrows nothing from
     *  `node_params`; on failure *out is NULL. Both pointers must be
     *  non-NULL. */
    int (*augment_chain_parse)(const aigtatt_params *node_params, const char *list_param,
                               struct aigtatt_augment_chain **out);
    /** Number of ops in a chain; 0 for NULL. */
    size_t (*augment_chain_len)(const struct aigtatt_augment_chain *chain);
    /** Runs `chain` once on `in` (borrowed, never modified; usually RGB): each
     *  op runs with its probability p from its own generator
     *  seed_derive(seed, NAME as written, list index), so the result depends
     *  only on (chain, shuffle, seed, in) and one op's change leaves the
     *  others' draws alone. `shuffle` non-zero: the ops run in an order
     *  drawn from `seed` instead of the listed one. *out is always a new
     *  image (a copy when no op ran), owned by the caller (image_free()).
     *  `sampled_json` may be NULL; otherwise *sampled_json receives a
     *  NUL-terminated JSON array, one object per op in the order run:
     *  {"op":NAME,"applied":BOOL[,"params":{...the values it sampled}]},
     *  released with free_mem(). Safe to call from several threads at once
     *  on the same chain. Returns AIGTATT_OK, or a status with an error
     *  naming the op that failed; *out and *sampled_json are then NULL. */
    int (*augment_chain_apply)(const struct aigtatt_augment_chain *chain, int shuffle, uint64_t seed,
                               const aigtatt_image *in, aigtatt_image **out, char **sampled_json);
    /** Releases a chain from augment_chain_parse(); NULL is a no-op. */
    void (*augment_chain_free)(struct aigtatt_augment_chain *chain);
    /** Calls add(ctx, full component name) for every op named in the LIST
     *  parameter `list_param` of `node_params`, in list order, skipping
     *  entries without an op; for a node's uses(), so that the ops'
     *  versions are part of its cache key. Never fails. */
    void (*augment_chain_uses)(const aigtatt_params *node_params, const char *list_param,
                               void (*add)(void *ctx, const char *component), void *ctx);

    /* ---- appended in ABI minor 1 -------------------------------------- */

    /** The node's cache key: 64 lower-case hex digits, owned by the run
     *  (valid during run()). It changes with anything that changes the
     *  node's outputs (parameters, inputs, versions, seed), so resumable
     *  work kept under run_state_dir() and named by it is never taken up
     *  by a run it does not belong to. */
    const char *(*run_key)(const aigtatt_run *run);
    /** Non-zero when the user asked for this node to be computed anew
     *  (`aigtatt run --force` named it or a node upstream): resumable work
     *  kept under run_state_dir() must then be set aside, not taken up. */
    int (*run_forced)(const aigtatt_run *run);

    /* ---- appended in ABI minor 2 -------------------------------------- */

    /** Marks `path`, a file or folder under run_state_dir(), as spent once
     *  this node's outputs are published: the runner removes it (a folder
     *  only when empty) right after the rename that publishes them, in the
     *  order marked, and not at all when the node fails. When the process
     *  dies after the node returned, the next run removes it if it finds
     *  the node's outputs published, and leaves it for the node to take
     *  up if not. A trainer's resume point is the use: deleted by the node
     *  itself, a kill between its return and the publication lost the whole
     *  run. `path` is copied. Returns AIGTATT_OK, AIGTATT_ERR_INVALID (NULL,
     *  or not under the state folder; error set) or AIGTATT_ERR_NOMEM. */
    int (*run_remove_after_publish)(aigtatt_run *run, const char *path);
} aigtatt_host;

#ifdef __cplusplus
}
#endif
#endif
