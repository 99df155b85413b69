/* The augmentation plugin's descriptor: every op and the pipeline node. */
#include <stddef.h>
#include "ao.h"

const aigtatt_host *ao_host;

static int ao_init(const aigtatt_host *host)
{
    /* needs link_file, image_new_uninit and the augment_chain_* functions;
     * augment_chain_uses is the newest host function used */
    if (host->struct_size < offsetof(aigtatt_host, augment_chain_uses) + sizeof host->augment_chain_uses)
        return AIGTATT_ERR_INVALID;
    ao_host = host;
    return AIGTATT_OK;
}

#define AO_REF(n) &ao_##n##_desc,
static const aigtatt_component_desc *const ao_components[] = {AO_OPS(AO_REF) & ao_pipeline_desc, NULL};
#undef AO_REF

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-augment", .version = "0.1.0", .license = "MIT",
                      .description = "Photo-like variations of tattoo images: geometric, photometric, "
                                     "degradation and skin ops, and the pipeline node that applies them",
                      .components = ao_components, .init = ao_init);
