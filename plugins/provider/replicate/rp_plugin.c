/* The Replicate plugin's descriptor: image.replicate and finetune.replicate. */
#include "rp.h"

static int rp_init(const aigtatt_host *host)
{
    pv_host = host;
    return AIGTATT_OK;
}

static const aigtatt_component_desc *const rp_components[] = {&rp_image_desc, &rp_finetune_desc, NULL};

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-provider-replicate", .version = "1.1.0", .license = "MIT",
                      .description = "Replicate: SDXL and fine-tuned image predictions, SDXL fine-tuning",
                      .components = rp_components, .init = rp_init);
