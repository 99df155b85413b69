/* Terminal progress bars: drawn on stderr when it is a terminal, turned
 * into periodic plain log lines otherwise. */
#ifndef AIGTATT_CORE_TERM_H
#define AIGTATT_CORE_TERM_H

#include <aigtatt/host.h>

/** Clears the progress line before a log line is printed (no-op when no
 *  bar is shown). Caller holds the log lock. */
void aigtatt_term_clear_line(void);
/** Redraws the active bar after a log line. Caller holds the log lock. */
void aigtatt_term_redraw(void);

aigtatt_progress *aigtatt_progress_begin(const char *label, uint64_t total);
void aigtatt_progress_add(aigtatt_progress *p, uint64_t done, uint64_t failed);
void aigtatt_progress_end(aigtatt_progress *p);
/** Sets the text shown after the counts (a trainer's loss and lr). */
void aigtatt_progress_note(aigtatt_progress *p, const char *text);
/** Forces plain log lines (1) or bars (0) regardless of isatty; -1 = auto. */
void aigtatt_progress_set_mode(int plain);

#endif
