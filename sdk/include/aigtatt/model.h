/* aigtatt SDK: ready-to-run embedding networks for trainer and embedder
 * nodes (the host table's `model`).
 *
 * A backbone, an optional loss and optimizer, and a backend are building
 * blocks named in YAML ({use: backbone.resnet, depth: 18}). A node hands
 * their YAML mappings to create(); the host finds the components, validates
 * their parameters (errors name file:line:col), builds the network with
 * the builder of nn.h, lowers it (automatic differentiation and the
 * optimizer's updates when training), compiles it on the backend and
 * initialises it from the seed. The node then only moves data in and out
 * by name:
 *
 *   inputs   "image"  F32 [batch, 3, height, width], ImageNet-normalised
 *            "labels" I64 [batch] (with a loss)
 *   outputs  "embedding" F32 [batch, K], "loss" F32 scalar (with a loss)
 *
 * State (parameters and buffers, named like torchvision's state_dict; the
 * loss's own weights under "loss.") moves through safetensors files whose
 * metadata records the backbone's YAML and the input size, so a checkpoint
 * alone is enough to rebuild the network that wrote it.
 *
 * Every function returning int returns an aigtatt_status and sets the
 * host's error text on failure. A model is used by one thread at a time. */
#ifndef AIGTATT_MODEL_H
#define AIGTATT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct aigtatt_cfg;

/** A compiled network with its state; created by create(), released by
 *  free(). Opaque. */
typedef struct aigtatt_model aigtatt_model;

/** What to build. Fields are only ever appended; set struct_size. */
typedef struct aigtatt_model_spec {
    size_t struct_size;
    /** {use: backbone.NAME, ...params}; borrowed. NULL: rebuild the backbone
     *  and input size recorded in `checkpoint`. */
    const struct aigtatt_cfg *backbone;
    /** {use: loss.NAME, ...}; NULL: no loss (inference). */
    const struct aigtatt_cfg *loss;
    /** Identities the loss classifies (>= 1 with a loss). */
    int64_t classes;
    /** {use: optim.NAME, ...}; NULL: no updates. Needs a loss. */
    const struct aigtatt_cfg *optimizer;
    /** {use: backend.NAME, ...}; NULL: backend.onednn when loaded, else
     *  backend.reference. */
    const struct aigtatt_cfg *backend;
    /** Non-zero: batch norm on batch statistics, dropout on. */
    int training;
    /** Images per run (>= 1); height and width of the input (>= 32; 0 with
     *  a checkpoint and no backbone: the recorded size). */
    int64_t batch, height, width;
    /** Seed of the initial weights and of dropout masks. */
    uint64_t seed;
    /** A safetensors file written by state_save(), loaded strictly after
     *  compiling (see state_load()); NULL: fresh weights. */
    const char *checkpoint;
} aigtatt_model_spec;

/** Flags of state_load(). */
enum {
    /** Tensors in the file that the network lacks are ignored (importing
     *  weights of a bigger network) instead of refused. */
    AIGTATT_MODEL_LOAD_ALLOW_EXTRA = 1,
    /** The network's tensors under the prefixes given are left as they are,
     *  whatever the file holds under those names (a torchvision classifier
     *  `fc.` over 1000 classes, a fresh `loss.`). */
    AIGTATT_MODEL_LOAD_SKIP_PREFIXES = 2,
    /** Optimizer state in the file (momentum, Adam moments, the step
     *  count) is passed over and the network's stays as it is: weights
     *  taken to start a new run, whose schedule starts again too. Added
     *  in ABI minor 2 (a host of minor 1 ignores it). */
    AIGTATT_MODEL_LOAD_FRESH_OPTIMIZER = 4
};

/** The model functions (host->model). Fields are only ever appended. */
typedef struct aigtatt_model_api {
    size_t struct_size;
    /** Validates the spec's building blocks (components exist and are of
     *  the right kind; parameters valid) without building anything: for a
     *  node's check(). */
    int (*check)(const aigtatt_model_spec *spec);
    /** Builds, lowers, compiles and initialises (then loads `checkpoint`).
     *  *out is NULL on failure. */
    int (*create)(const aigtatt_model_spec *spec, aigtatt_model **out);
    /** Releases a model; NULL is a no-op. */
    void (*free)(aigtatt_model *m);
    /** K, the embedding's length. */
    int64_t (*embedding_size)(const aigtatt_model *m);
    /** Input height and width the model was built for. */
    void (*input_size)(const aigtatt_model *m, int64_t *height, int64_t *width);
    /** Trainable scalars (the sum of every parameter's size). */
    int64_t (*param_count)(const aigtatt_model *m);
    /** Copies plain host data into input `name`; nbytes must be its exact
     *  size (image: batch*3*h*w floats; labels: batch int64_t). */
    int (*set_input)(aigtatt_model *m, const char *name, const void *data, size_t nbytes);
    /** Sets the learning rate of the next run from the optimizer's
     *  schedule at (epoch, step); *lr (may be NULL) receives it. */
    int (*set_schedule)(aigtatt_model *m, int64_t epoch, int64_t step, int64_t steps_per_epoch, int64_t epochs,
                        double *lr);
    /** Runs the network once (forward; with an optimizer also backward and
     *  the update). */
    int (*run)(aigtatt_model *m);
    /** Copies output `name` ("embedding", "loss") out; exact size. */
    int (*get_output)(aigtatt_model *m, const char *name, void *data, size_t nbytes);
    /** Writes every parameter and buffer (optimizer state too when
     *  `with_optimizer`) to a safetensors file atomically, with metadata
     *  aigtatt.backbone (the backbone's YAML), aigtatt.input ("HxW"),
     *  aigtatt.embedding_size, plus the `n_meta` key/value pairs given
     *  (meta[2i], meta[2i+1]; may be NULL when n_meta is 0). A NaN or
     *  infinite value anywhere is refused (AIGTATT_ERR_INVALID, the error
     *  names the tensor) and nothing is written: a diverged network never
     *  looks like a usable checkpoint. */
    int (*state_save)(aigtatt_model *m, const char *path, int with_optimizer, const char *const *meta,
                      size_t n_meta);
    /** Loads parameters and buffers from a safetensors file. Without flags
     *  the file must hold exactly the network's tensors (optimizer state
     *  optional both ways: the network's own loads only when the file
     *  holds all of it, else it all starts from zero; another optimizer's
     *  state of the network's parameters, or any in a file loaded for
     *  inference, is ignored) in the same shapes; otherwise nothing is loaded and the
     *  error lists the missing, unexpected and misshaped names. F32, F64,
     *  F16 and BF16 files load into F32 values. `skip` (flag SKIP_PREFIXES) is a
     *  NULL-terminated list of name prefixes. */
    int (*state_load)(aigtatt_model *m, const char *path, int flags, const char *const *skip);
    /** Copies every parameter and buffer that `src` and `dst` both have,
     *  by name (a training network's weights into an inference one). */
    int (*state_copy)(aigtatt_model *dst, aigtatt_model *src);
    /** Metadata value `key` of a safetensors file into buf (a checkpoint's
     *  aigtatt.backbone, say); AIGTATT_ERR_INVALID when absent, AIGTATT_ERR_LIMIT when buf is too short. */
    int (*checkpoint_meta)(const char *path, const char *key, char *buf, size_t size);
} aigtatt_model_api;

#ifdef __cplusplus
}
#endif
#endif
