/* Internal interface of the image.folder plugin (prefix if_). */
#ifndef IF_H
#define IF_H

#include <stddef.h>
#include <aigtatt/aigtatt.h>

extern const aigtatt_host *if_host;
extern const aigtatt_component_desc if_folder_desc;

/* One image file found under the root. */
typedef struct if_file {
    char *rel;       /* path under the root, e.g. "alice/1.jpg" */
    char *identity;  /* folder name or file stem */
    size_t ordinal;  /* 0-based among the identity's files */
    size_t total;    /* files of that identity */
} if_file;

typedef struct if_list {
    if_file *v;
    size_t n, cap;
} if_list;

enum { IF_AUTO, IF_FLAT, IF_PER_IDENTITY };

/* Finds the image files (.png, .jpg, .jpeg, any case) under `root` in
 * name order: files of `root` itself (flat: one identity per file stem) or
 * of its sub-folders (per identity: one identity per folder). Hidden
 * entries are skipped. `*layout_used` says which layout auto chose. */
int if_scan(const char *root, int layout, if_list *out, int *layout_used);
void if_list_free(if_list *l);

/* ---- files (if_files.c) --------------------------------------------------- */

int if_mkdir(const char *path);
/* Hard link (mode "auto") or copy (or "copy") `from` to `to`; the copy is
 * written atomically. */
int if_link_or_copy(const char *from, const char *to, int allow_link);
/* ".png", ".jpg" ...: the lower-case extension, "" if none. */
void if_ext(const char *path, char *buf, size_t size);
/* Non-zero if `s` works as a folder name. */
int if_safe_name(const char *s);

#endif
