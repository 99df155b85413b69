/* Augmentation chains: the `{op: NAME, p: PROB, ...}` lists that
 * augment.pipeline (`ops:`) and train.embedding (`augment:`) share, exposed
 * to plugins as host->augment_chain_* (sdk augment.h, host.h). */
#ifndef AIGTATT_CORE_AUGMENT_CHAIN_H
#define AIGTATT_CORE_AUGMENT_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <aigtatt/aigtatt.h>
#include <aigtatt/augment.h>

int aigtatt_augment_chain_parse(const aigtatt_params *node_params, const char *list_param,
                                aigtatt_augment_chain **out);
size_t aigtatt_augment_chain_len(const aigtatt_augment_chain *chain);
int aigtatt_augment_chain_apply(const aigtatt_augment_chain *chain, int shuffle, uint64_t seed,
                                const aigtatt_image *in, aigtatt_image **out, char **sampled_json);
void aigtatt_augment_chain_free(aigtatt_augment_chain *chain);
void aigtatt_augment_chain_uses(const aigtatt_params *node_params, const char *list_param,
                                void (*add)(void *ctx, const char *component), void *ctx);

#endif
