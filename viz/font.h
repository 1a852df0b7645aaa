/*
 * viz/font.h - finds font files on this machine, without SDL: a Latin font (DejaVu Sans, from
 * Debian's fonts-dejavu-core) and a CJK one (Noto Sans CJK SC from fonts-noto-cjk, else
 * WenQuanYi), so names such as 八一七路 render where such a font is installed.
 *
 * Lookup order: the environment (GW_VIZ_FONT, GW_VIZ_FONT_CJK: a file path, optionally
 * "path:index" for a collection), then fontconfig's `fc-match` command, then the files where
 * the Debian packages install them. Nothing is downloaded. Results are written into caller
 * buffers; thread-safe apart from the environment read.
 */
#ifndef VIZ_FONT_H
#define VIZ_FONT_H

#include <stddef.h>

typedef enum { VIZ_FONT_LATIN, VIZ_FONT_CJK } viz_font_kind_t;

/* Finds a font of the kind; writes its file into path (n bytes) and its face index in a
 * collection (.ttc) into *index. Returns 0, or -1 if none was found. */
int viz_font_find(viz_font_kind_t kind, char *path, size_t n, long *index);

#endif
