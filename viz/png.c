/*
 * viz/png.c - libpng writer and reader. libpng reports errors by longjmp to the setjmp in
 * each function; everything that must be freed afterwards is reachable from volatile locals or
 * from the png structs, so the jump leaks nothing.
 */
#include "viz/png.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int viz_png_write(const char *path, const uint32_t *pixels, int w, int h, size_t pitch,
                  base_err_t *err) {
    if (w <= 0 || h <= 0)
        return base_err_set(err, BASE_EINVAL, "%s: empty image", path);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    unsigned char *volatile row = malloc((size_t)w * 3);
    if (png == NULL || info == NULL || row == NULL) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        return base_err_set(err, BASE_ENOMEM, "%s: out of memory", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        return base_err_set(err, BASE_EIO, "%s: libpng failed to write it", path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        const uint32_t *src = (const uint32_t *)((const unsigned char *)pixels + (size_t)y * pitch);
        for (int x = 0; x < w; x++) {
            row[3 * x] = (unsigned char)(src[x] >> 16);
            row[3 * x + 1] = (unsigned char)(src[x] >> 8);
            row[3 * x + 2] = (unsigned char)src[x];
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    if (fclose(f) != 0)
        return base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
    return 0;
}

uint32_t *viz_png_read(const char *path, int *w, int *h, base_err_t *err) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8) != 0) {
        fclose(f);
        base_err_set(err, BASE_EPROTO, "%s: not a PNG file", path);
        return NULL;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint32_t *volatile out = NULL;
    unsigned char *volatile row = NULL;
    if (png == NULL || info == NULL) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        base_err_set(err, BASE_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(out);
        free(row);
        fclose(f);
        base_err_set(err, BASE_EPROTO, "%s: corrupt PNG", path);
        return NULL;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
    png_read_update_info(png, info);
    int ww = (int)png_get_image_width(png, info), hh = (int)png_get_image_height(png, info);
    if (png_get_channels(png, info) != 3 || ww <= 0 || hh <= 0 || ww > 1 << 15 || hh > 1 << 15)
        png_error(png, "unsupported layout");
    out = malloc((size_t)ww * (size_t)hh * sizeof *out);
    row = malloc((size_t)ww * 3);
    if (out == NULL || row == NULL)
        png_error(png, "out of memory");
    for (int y = 0; y < hh; y++) {
        png_read_row(png, row, NULL);
        for (int x = 0; x < ww; x++)
            out[(size_t)y * (size_t)ww + (size_t)x] =
                (uint32_t)row[3 * x] << 16 | (uint32_t)row[3 * x + 1] << 8 | row[3 * x + 2];
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(row);
    fclose(f);
    *w = ww;
    *h = hh;
    return out;
}
