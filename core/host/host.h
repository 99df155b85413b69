/* The host table handed to plugins. */
#ifndef AIGTATT_CORE_HOST_H
#define AIGTATT_CORE_HOST_H

#include <aigtatt/aigtatt.h>

/** The process's host table (static, never NULL). */
const aigtatt_host *aigtatt_host_get(void);

/** host->params_parse: aigtatt_params_parse() with PATH parameters
 *  resolved against the folder of the YAML file `map` came from. */
int aigtatt_host_params_parse(const aigtatt_cfg *map, const aigtatt_component_desc *comp, aigtatt_params **out);

#endif
