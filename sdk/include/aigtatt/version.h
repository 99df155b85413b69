/* aigtatt SDK: version and ABI numbers.
 *
 * The ABI major changes when anything already published changes shape; a
 * plugin built for another major is refused. The ABI minor grows when fields
 * or functions are appended; a plugin built against a newer minor than the
 * host is refused, an older one keeps working. */
#ifndef AIGTATT_VERSION_H
#define AIGTATT_VERSION_H

/** ABI major of this SDK; must equal the host's for a plugin to load. */
#define AIGTATT_ABI_MAJOR 1
/** ABI minor of this SDK; must not exceed the host's for a plugin to load. */
#define AIGTATT_ABI_MINOR 2

/** Release version of the SDK and host, as text (semantic versioning). */
#define AIGTATT_VERSION_STRING "0.1.0"

#endif
