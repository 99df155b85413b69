/* aigtatt SDK: augmentation ops, the building blocks of an augmentation
 * pipeline (components of kind AIGTATT_KIND_AUGMENT_OP).
 *
 * An op is one image transform with declared parameter ranges, e.g.
 * "augment.rotate" with `max_deg`. Nodes do not call ops one by one: they
 * hand a YAML list of {op: NAME, p: PROB, ...} entries to
 * aigtatt_host.augment_chain_parse(), which finds each op among the loaded
 * components of kind AIGTATT_KIND_AUGMENT_OP, validates the entry against
 * the op's declared parameters and check(), and returns an
 * aigtatt_augment_chain; aigtatt_host.augment_chain_apply() then calls the
 * ops' apply() with generators seeded for one image. augment.pipeline
 * (`ops:`, variations written to disk) and train.embedding (`augment:`,
 * online in its loader thread) both work this way. Ops come from any
 * plugin; the descriptor's `vtable` points to an aigtatt_augment_op_vtable.
 *
 * Include this header after aigtatt.h. */
#ifndef AIGTATT_AUGMENT_H
#define AIGTATT_AUGMENT_H

#include <stddef.h>
#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A parsed, validated list of augmentation ops (opaque). Made by
 *  aigtatt_host.augment_chain_parse(), owned by the caller until
 *  aigtatt_host.augment_chain_free(); immutable once made, so several
 *  threads may apply it at once. */
typedef struct aigtatt_augment_chain aigtatt_augment_chain;

/** The vtable of an AIGTATT_KIND_AUGMENT_OP component. Fields are only ever
 *  appended; callers check `struct_size` before using a field. */
typedef struct aigtatt_augment_op_vtable {
    size_t struct_size; /**< sizeof(aigtatt_augment_op_vtable) as built */
    /** Optional (NULL = nothing to check): cross-parameter rules (a minimum
     *  above its maximum, ...) after the host checked types and ranges.
     *  `params` is borrowed. Return AIGTATT_OK, or a status after
     *  aigtatt_host.set_error() naming the parameter at fault. */
    int (*check)(const aigtatt_params *params);
    /** Required: applies the op once. The op samples its own values from
     *  the ranges in `params` using only `rng` (so a variation is
     *  reproducible from its seed), reads `in` (borrowed, never modified)
     *  and stores a new image from aigtatt_host.image_new() in *out (owned
     *  by the caller, usually the size and channel count of `in`; the
     *  pipeline hands RGB images). It writes the values it sampled as one
     *  JSON object, e.g. {"deg":7.25}, into `sampled_json` (`sampled_size`
     *  bytes, always terminated; "{}" when nothing was sampled) so that the
     *  manifest can say exactly what every variation went through. Must be
     *  safe to call from several threads at once with different rngs.
     *  Returns AIGTATT_OK, or a status after aigtatt_host.set_error(); *out
     *  is then NULL. */
    int (*apply)(const aigtatt_params *params, aigtatt_rng *rng, const aigtatt_image *in,
                 aigtatt_image **out, char *sampled_json, size_t sampled_size);
} aigtatt_augment_op_vtable;

#ifdef __cplusplus
}
#endif
#endif
