/*
 * viz/font.c - font file lookup: environment, then `fc-match -f '%{file}|%{index}' PATTERN`
 * (accepted only if the family it answers is the one asked for, since fc-match always answers
 * something), then the Debian package paths.
 */
#include "viz/font.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct known {
    const char *path;
    long index;
} known_t;

/* Where Debian 12's packages put them (fonts-dejavu-core, fonts-noto-cjk, fonts-wqy-*). */
static const known_t LATIN[] = {
    {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0},
    {"/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", 0},
};
static const known_t CJK[] = {
    {"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2}, /* face 2: SC */
    {"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0},
    {"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0},
};

static int readable(const char *path) {
    return access(path, R_OK) == 0;
}

/* "path" or "path:index" */
static int from_env(const char *var, char *path, size_t n, long *index) {
    const char *v = getenv(var);
    if (v == NULL || *v == '\0')
        return -1;
    snprintf(path, n, "%s", v);
    *index = 0;
    char *colon = strrchr(path, ':');
    if (colon != NULL && colon[1] != '\0' && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        *index = strtol(colon + 1, NULL, 10);
        *colon = '\0';
    }
    return readable(path) ? 0 : -1;
}

static int from_fc_match(const char *pattern, const char *family, char *path, size_t n,
                         long *index) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "fc-match -f '%%{file}|%%{index}|%%{family}' '%s' 2>/dev/null",
             pattern);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    char out[1024] = "";
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    pclose(p);
    char *bar1 = strchr(out, '|');
    char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
    if (bar1 == NULL || bar2 == NULL || strstr(bar2 + 1, family) == NULL)
        return -1;
    *bar1 = '\0';
    *index = strtol(bar1 + 1, NULL, 10);
    snprintf(path, n, "%s", out);
    return readable(path) ? 0 : -1;
}

int viz_font_find(viz_font_kind_t kind, char *path, size_t n, long *index) {
    int cjk = kind == VIZ_FONT_CJK;
    if (from_env(cjk ? "GW_VIZ_FONT_CJK" : "GW_VIZ_FONT", path, n, index) == 0)
        return 0;
    if (cjk ? (from_fc_match("Noto Sans CJK SC", "Noto Sans CJK", path, n, index) == 0 ||
               from_fc_match("WenQuanYi Micro Hei", "WenQuanYi", path, n, index) == 0)
            : from_fc_match("DejaVu Sans", "DejaVu Sans", path, n, index) == 0)
        return 0;
    const known_t *k = cjk ? CJK : LATIN;
    size_t nk = cjk ? sizeof CJK / sizeof CJK[0] : sizeof LATIN / sizeof LATIN[0];
    for (size_t i = 0; i < nk; i++) {
        if (readable(k[i].path)) {
            snprintf(path, n, "%s", k[i].path);
            *index = k[i].index;
            return 0;
        }
    }
    return -1;
}
