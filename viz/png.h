/*
 * viz/png.h - PNG files through libpng (Debian's libpng-dev), without SDL: the renderer hands
 * over its pixels; tests read the files back.
 *
 * Pixels are 32-bit words 0x00RRGGBB (the renderer's XRGB8888), rows `pitch` bytes apart.
 * Files are written as 8-bit RGB. Thread-safe (libpng's error jumps are per call).
 */
#ifndef VIZ_PNG_H
#define VIZ_PNG_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

/* Writes w x h pixels to path. Returns 0, or BASE_EIO/BASE_ENOMEM with a message. */
int viz_png_write(const char *path, const uint32_t *pixels, int w, int h, size_t pitch,
                  base_err_t *err);

/* Reads path into a malloc'd array of w x h 0x00RRGGBB pixels (caller frees). Returns NULL
 * with BASE_EIO or BASE_EPROTO (not a PNG) in err. */
uint32_t *viz_png_read(const char *path, int *w, int *h, base_err_t *err);

#endif
