/* API keys and redaction. Every secret the core hands out is registered
 * here, and every log line or error text the HTTP layer builds passes
 * through aigtatt_redact() before it leaves, so a key cannot leak through a
 * server that echoes it back, a URL, or a verbose header dump. */
#ifndef AIGTATT_CORE_SECRET_H
#define AIGTATT_CORE_SECRET_H

#include <stddef.h>
#include <aigtatt/http.h>

/** The host's secret_get (see aigtatt_secret_get_fn). */
int aigtatt_secret_get(const char *name, const char **value);

/** Adds `value` to the redaction list (copied; "" and NULL are ignored).
 *  Returns AIGTATT_OK or AIGTATT_ERR_NOMEM. */
int aigtatt_secret_register(const char *value);

/** Non-zero if `text` contains a registered secret. */
int aigtatt_secret_in(const char *text);

/** Names the .env file secret_get reads (copied; NULL restores the default:
 *  $AIGTATT_ENV_FILE, else ./.env then the folder set below). */
int aigtatt_secret_set_env_file(const char *path);

/** A second folder whose .env is read when ./.env does not have the key
 *  (the CLI passes the experiment file's folder); NULL or "" for none.
 *  Not used when $AIGTATT_ENV_FILE or aigtatt_secret_set_env_file names a
 *  file. A refused file (group/other-accessible) stops the look-up. */
int aigtatt_secret_set_env_dir(const char *dir);

/** Looks `name` up in the .env file at `path`. Returns AIGTATT_OK with a
 *  malloc'ed *value, AIGTATT_ERR_INVALID when the file or the key is absent
 *  (no error text set for those), AIGTATT_ERR_IO (error set) when the file
 *  is refused or unreadable, AIGTATT_ERR_FORMAT for a malformed line. */
int aigtatt_env_file_lookup(const char *path, const char *name, char **value);

/** The host's redact (see aigtatt_redact_fn). */
size_t aigtatt_redact(const char *text, char *buf, size_t size);

/** Redacted copy of `text` (malloc'ed; NULL on OOM). */
char *aigtatt_redact_dup(const char *text);

/** Non-zero for header names whose values are credentials
 *  (Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key,
 *  Api-Key); case-insensitive. */
int aigtatt_header_is_sensitive(const char *name, size_t len);

/** Forgets every secret and wipes the copies (tests; at exit). */
void aigtatt_secrets_clear(void);

#endif
