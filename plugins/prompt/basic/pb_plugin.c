/* The prompt plugin's descriptor: offline prompt sources. */
#include "pb.h"

const aigtatt_host *pb_host;

static int pb_init(const aigtatt_host *host)
{
    pb_host = host;
    return AIGTATT_OK;
}

static const aigtatt_component_desc *const pb_components[] = {&pb_template_desc, &pb_file_desc, NULL};

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-prompt-basic", .version = "0.1.0", .license = "MIT",
                      .description = "Offline prompt sources: a seeded tattoo prompt grammar and "
                                     "prompts from a text file",
                      .components = pb_components, .init = pb_init);
