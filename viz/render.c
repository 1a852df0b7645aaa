/*
 * viz/render.c - everything SDL: the window or offscreen canvas, drawing, text, events.
 *
 * Drawing order (painter's): background, escort-route band, road bands, junction boxes, lane
 * and stop lines, vehicles, escort, signal heads, priority rings, labels; then the panel, the
 * popup, the diagram panel and the seek bar. Filled shapes are queued as triangles into one
 * vertex batch and sent with one SDL_RenderGeometry call per blend mode, which is what keeps
 * 10 000 vehicles at 60 frames a second with the software renderer (one call per vehicle costs
 * several times more; see docs/viz.md). Vehicles outside the viewport are culled first.
 *
 * Text goes through SDL2_ttf: a string is drawn with the Latin font unless it has a glyph
 * that font lacks and the CJK font has, and rendered strings are cached as textures by
 * (text, colour, size) for as long as they are drawn in consecutive frames.
 */
#include "viz/render.h"

#include "viz/font.h"
#include "viz/png.h"

#include <SDL.h>
#include <SDL_ttf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_SIZES   3
#define TAU       6.283185307179586
#define CACHE_MAX 512
#define ROAD_RGB  0x3a3f4a
#define LANE_RGB  0x5b6170
#define ROUTE_RGB 0xffb000

enum { SZ_SMALL, SZ_NORMAL, SZ_TITLE };
static const int FONT_PX[N_SIZES] = {12, 14, 18};

typedef struct text_entry {
    char *text;
    uint32_t rgb;
    int size;
    SDL_Texture *tex;
    int w, h;
    uint64_t used; /* frame number */
} text_entry_t;

struct viz_render {
    SDL_Window *window;
    SDL_Surface *surface; /* offscreen canvas */
    SDL_Renderer *ren;
    TTF_Font *latin[N_SIZES], *cjk[N_SIZES];
    text_entry_t cache[CACHE_MAX];
    int n_cache;
    uint64_t frame_no;
    SDL_Vertex *verts;
    int *idx;
    int n_verts, cap_verts, n_idx, cap_idx;
    int vehicles_drawn;
    int escort; /* index of the escort in the frame on show, or -1 */
    char warning[256];
};

/* ---- set-up ------------------------------------------------------------------------------ */

int viz_render_sys_init(int video, base_err_t *err) {
    /* A window's pixels go to the display through the window system's own framebuffer (X11
     * shared memory), not through an OpenGL texture as SDL would try first on Linux: the
     * picture is drawn in software anyway, and this keeps libGL out of the process. The
     * environment (SDL_FRAMEBUFFER_ACCELERATION=1) can still ask for it. */
    SDL_SetHintWithPriority(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0", SDL_HINT_DEFAULT);
    if (SDL_Init(video ? SDL_INIT_VIDEO : 0) != 0)
        return base_err_set(err, BASE_EIO, "SDL: %s", SDL_GetError());
    if (TTF_Init() != 0) {
        SDL_Quit();
        return base_err_set(err, BASE_EIO, "SDL_ttf: %s", TTF_GetError());
    }
    return 0;
}

void viz_render_sys_quit(void) {
    TTF_Quit();
    SDL_Quit();
}

static void open_fonts(viz_render_t *r) {
    char path[1024];
    long index = 0;
    if (viz_font_find(VIZ_FONT_LATIN, path, sizeof path, &index) == 0)
        for (int s = 0; s < N_SIZES; s++)
            r->latin[s] = TTF_OpenFontIndex(path, FONT_PX[s], index);
    if (viz_font_find(VIZ_FONT_CJK, path, sizeof path, &index) == 0)
        for (int s = 0; s < N_SIZES; s++)
            r->cjk[s] = TTF_OpenFontIndex(path, FONT_PX[s], index);
    if (r->latin[0] == NULL && r->cjk[0] == NULL)
        snprintf(r->warning, sizeof r->warning,
                 "no font found (install fonts-dejavu-core or set GW_VIZ_FONT): drawing without "
                 "text");
    else if (r->cjk[0] == NULL)
        snprintf(r->warning, sizeof r->warning,
                 "no CJK font found (install fonts-noto-cjk or set GW_VIZ_FONT_CJK): Chinese "
                 "names show as boxes");
}

static viz_render_t *finish_new(viz_render_t *r, base_err_t *err) {
    if (r->ren == NULL) {
        base_err_set(err, BASE_EIO, "SDL renderer: %s", SDL_GetError());
        viz_render_destroy(&r);
        return NULL;
    }
    SDL_SetRenderDrawBlendMode(r->ren, SDL_BLENDMODE_BLEND);
    open_fonts(r);
    return r;
}

viz_render_t *viz_render_new_window(const char *title, int w, int h, base_err_t *err) {
    viz_render_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        return NULL;
    }
    r->window = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                                 SDL_WINDOW_RESIZABLE);
    if (r->window == NULL) {
        base_err_set(err, BASE_EIO, "cannot open a window (no display? try --png): %s",
                     SDL_GetError());
        viz_render_destroy(&r);
        return NULL;
    }
    r->ren = SDL_CreateRenderer(r->window, -1, SDL_RENDERER_SOFTWARE);
    return finish_new(r, err);
}

viz_render_t *viz_render_new_offscreen(int w, int h, base_err_t *err) {
    viz_render_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        return NULL;
    }
    r->surface = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
    if (r->surface == NULL) {
        base_err_set(err, BASE_ENOMEM, "SDL surface %dx%d: %s", w, h, SDL_GetError());
        viz_render_destroy(&r);
        return NULL;
    }
    r->ren = SDL_CreateSoftwareRenderer(r->surface);
    return finish_new(r, err);
}

static void cache_clear(viz_render_t *r, int keep_used) {
    int out = 0;
    for (int i = 0; i < r->n_cache; i++) {
        text_entry_t *e = &r->cache[i];
        if (keep_used && e->used + 1 >= r->frame_no) {
            r->cache[out++] = *e;
            continue;
        }
        SDL_DestroyTexture(e->tex);
        free(e->text);
    }
    r->n_cache = out;
}

void viz_render_destroy(viz_render_t **r_p) {
    if (r_p == NULL || *r_p == NULL)
        return;
    viz_render_t *r = *r_p;
    cache_clear(r, 0);
    for (int s = 0; s < N_SIZES; s++) {
        if (r->latin[s] != NULL)
            TTF_CloseFont(r->latin[s]);
        if (r->cjk[s] != NULL)
            TTF_CloseFont(r->cjk[s]);
    }
    if (r->ren != NULL)
        SDL_DestroyRenderer(r->ren);
    if (r->window != NULL)
        SDL_DestroyWindow(r->window);
    if (r->surface != NULL)
        SDL_FreeSurface(r->surface);
    free(r->verts);
    free(r->idx);
    free(r);
    *r_p = NULL;
}

const char *viz_render_warning(const viz_render_t *r) {
    return r->warning;
}

void viz_render_size(const viz_render_t *r, int *w, int *h) {
    if (SDL_GetRendererOutputSize(r->ren, w, h) != 0) {
        *w = 1;
        *h = 1;
    }
}

int viz_render_vehicles_drawn(const viz_render_t *r) {
    return r->vehicles_drawn;
}

/* ---- primitives -------------------------------------------------------------------------- */

static SDL_Color rgba(uint32_t rgb, uint8_t a) {
    SDL_Color c = {(uint8_t)(rgb >> 16), (uint8_t)(rgb >> 8), (uint8_t)rgb, a};
    return c;
}

static uint32_t shade(uint32_t rgb, double k) {
    uint32_t r = (uint32_t)fmin(255, ((rgb >> 16) & 255) * k);
    uint32_t g = (uint32_t)fmin(255, ((rgb >> 8) & 255) * k);
    uint32_t b = (uint32_t)fmin(255, (rgb & 255) * k);
    return r << 16 | g << 8 | b;
}

static void set_color(viz_render_t *r, uint32_t rgb, uint8_t a) {
    SDL_SetRenderDrawColor(r->ren, (uint8_t)(rgb >> 16), (uint8_t)(rgb >> 8), (uint8_t)rgb, a);
}

static int grow(viz_render_t *r, int verts, int idx) {
    if (r->n_verts + verts > r->cap_verts) {
        int cap = r->cap_verts ? r->cap_verts : 4096;
        while (cap < r->n_verts + verts)
            cap *= 2;
        SDL_Vertex *n = realloc(r->verts, (size_t)cap * sizeof *n);
        if (n == NULL)
            return -1;
        r->verts = n;
        r->cap_verts = cap;
    }
    if (r->n_idx + idx > r->cap_idx) {
        int cap = r->cap_idx ? r->cap_idx : 8192;
        while (cap < r->n_idx + idx)
            cap *= 2;
        int *n = realloc(r->idx, (size_t)cap * sizeof *n);
        if (n == NULL)
            return -1;
        r->idx = n;
        r->cap_idx = cap;
    }
    return 0;
}

static void flush(viz_render_t *r, SDL_BlendMode mode) {
    if (r->n_idx > 0) {
        SDL_SetRenderDrawBlendMode(r->ren, mode);
        SDL_RenderGeometry(r->ren, NULL, r->verts, r->n_verts, r->idx, r->n_idx);
        SDL_SetRenderDrawBlendMode(r->ren, SDL_BLENDMODE_BLEND);
    }
    r->n_verts = r->n_idx = 0;
}

static void quad(viz_render_t *r, const viz_point_t p[4], SDL_Color c) {
    if (grow(r, 4, 6) < 0)
        return;
    int b = r->n_verts;
    for (int i = 0; i < 4; i++)
        r->verts[b + i] = (SDL_Vertex){{p[i].x, p[i].y}, c, {0, 0}};
    static const int q[6] = {0, 1, 2, 0, 2, 3};
    for (int i = 0; i < 6; i++)
        r->idx[r->n_idx + i] = b + q[i];
    r->n_verts += 4;
    r->n_idx += 6;
}

/* A filled disc as a fan of n triangles. */
static void disc(viz_render_t *r, float cx, float cy, float rad, SDL_Color c, int n) {
    if (grow(r, n + 1, 3 * n) < 0)
        return;
    int b = r->n_verts;
    r->verts[b] = (SDL_Vertex){{cx, cy}, c, {0, 0}};
    for (int i = 0; i < n; i++) {
        double a = TAU * i / n;
        r->verts[b + 1 + i] =
            (SDL_Vertex){{cx + rad * (float)cos(a), cy + rad * (float)sin(a)}, c, {0, 0}};
        r->idx[r->n_idx++] = b;
        r->idx[r->n_idx++] = b + 1 + i;
        r->idx[r->n_idx++] = b + 1 + (i + 1) % n;
    }
    r->n_verts += n + 1;
}

/* A ring between radii r0 < r1 as n quads. */
static void ring(viz_render_t *r, float cx, float cy, float r0, float r1, SDL_Color c, int n) {
    for (int i = 0; i < n; i++) {
        double a0 = TAU * i / n, a1 = TAU * (i + 1) / n;
        viz_point_t p[4] = {{cx + r0 * (float)cos(a0), cy + r0 * (float)sin(a0)},
                            {cx + r1 * (float)cos(a0), cy + r1 * (float)sin(a0)},
                            {cx + r1 * (float)cos(a1), cy + r1 * (float)sin(a1)},
                            {cx + r0 * (float)cos(a1), cy + r0 * (float)sin(a1)}};
        quad(r, p, c);
    }
}

/* A thick segment as a quad. */
static void thick_line(viz_render_t *r, viz_point_t a, viz_point_t b, float width, SDL_Color c) {
    float dx = b.x - a.x, dy = b.y - a.y, d = sqrtf(dx * dx + dy * dy);
    if (d < 1e-3f)
        return;
    float nx = -dy / d * width * 0.5f, ny = dx / d * width * 0.5f;
    viz_point_t p[4] = {
        {a.x + nx, a.y + ny}, {b.x + nx, b.y + ny}, {b.x - nx, b.y - ny}, {a.x - nx, a.y - ny}};
    quad(r, p, c);
}

static void fill_rect(viz_render_t *r, float x, float y, float w, float h, uint32_t rgb,
                      uint8_t a) {
    SDL_FRect rc = {x, y, w, h};
    set_color(r, rgb, a);
    SDL_RenderFillRectF(r->ren, &rc);
}

/* ---- text -------------------------------------------------------------------------------- */

static TTF_Font *font_for(viz_render_t *r, const char *s, int size) {
    TTF_Font *latin = r->latin[size], *cjk = r->cjk[size];
    if (latin == NULL)
        return cjk;
    if (cjk == NULL)
        return latin;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        int n;
        if (*p < 0x80) {
            p++;
            continue;
        } else if ((*p & 0xe0) == 0xc0) {
            cp = *p & 0x1f;
            n = 1;
        } else if ((*p & 0xf0) == 0xe0) {
            cp = *p & 0x0f;
            n = 2;
        } else {
            cp = *p & 0x07;
            n = 3;
        }
        p++;
        for (int i = 0; i < n && (*p & 0xc0) == 0x80; i++)
            cp = cp << 6 | (*p++ & 0x3f);
        if (!TTF_GlyphIsProvided32(latin, cp) && TTF_GlyphIsProvided32(cjk, cp))
            return cjk;
    }
    return latin;
}

static text_entry_t *text_get(viz_render_t *r, const char *s, uint32_t rgb, int size) {
    for (int i = 0; i < r->n_cache; i++) {
        text_entry_t *e = &r->cache[i];
        if (e->rgb == rgb && e->size == size && strcmp(e->text, s) == 0) {
            e->used = r->frame_no;
            return e;
        }
    }
    TTF_Font *font = font_for(r, s, size);
    if (font == NULL || s[0] == '\0')
        return NULL;
    if (r->n_cache == CACHE_MAX)
        cache_clear(r, 1);
    if (r->n_cache == CACHE_MAX)
        return NULL;
    SDL_Surface *surf = TTF_RenderUTF8_Blended(font, s, rgba(rgb, 255));
    if (surf == NULL)
        return NULL;
    SDL_Texture *tex = SDL_CreateTextureFromSurface(r->ren, surf);
    text_entry_t e = {NULL, rgb, size, tex, surf->w, surf->h, r->frame_no};
    SDL_FreeSurface(surf);
    size_t n = strlen(s) + 1;
    e.text = malloc(n);
    if (tex == NULL || e.text == NULL) {
        if (tex != NULL)
            SDL_DestroyTexture(tex);
        free(e.text);
        return NULL;
    }
    memcpy(e.text, s, n);
    r->cache[r->n_cache] = e;
    return &r->cache[r->n_cache++];
}

/* Draws s with its top-left at (x, y); returns its width (0 if nothing was drawn). */
static int text(viz_render_t *r, const char *s, float x, float y, uint32_t rgb, int size) {
    text_entry_t *e = text_get(r, s, rgb, size);
    if (e == NULL)
        return 0;
    SDL_FRect dst = {x, y, (float)e->w, (float)e->h};
    SDL_RenderCopyF(r->ren, e->tex, NULL, &dst);
    return e->w;
}

static int text_width(viz_render_t *r, const char *s, int size) {
    text_entry_t *e = text_get(r, s, 0xffffff, size);
    return e ? e->w : 0;
}

static int line_h(viz_render_t *r, int size) {
    TTF_Font *f = r->latin[size] ? r->latin[size] : r->cjk[size];
    return f ? TTF_FontLineSkip(f) : FONT_PX[size] + 4;
}

/* ---- map --------------------------------------------------------------------------------- */

static uint32_t state_rgb(int state) {
    switch (state) {
    case VIZ_SIG_RED:
        return VIZ_RGB_RED;
    case VIZ_SIG_YELLOW:
        return VIZ_RGB_YELLOW;
    case VIZ_SIG_GREEN:
        return VIZ_RGB_GREEN;
    default:
        return VIZ_RGB_DARK;
    }
}

static uint32_t prio_rgb(int prio) {
    static const uint32_t c[5] = {0x6b7280, 0xffd23f, 0x4da3ff, 0x2fd67b, 0xb388ff};
    return c[prio >= 0 && prio <= 4 ? prio : 0];
}

static const char *prio_name(int prio) {
    static const char *const n[5] = {"", "requested", "granted", "serving", "recovering"};
    return n[prio >= 0 && prio <= 4 ? prio : 0];
}

typedef struct vclass_style {
    uint32_t rgb;
    float length_m, width_m;
} vclass_style_t;

static vclass_style_t class_style(const viz_map_t *m, int c) {
    static const uint32_t palette[4] = {0x7dd3fc, 0xa3e635, 0xf0abfc, 0xfde68a};
    const char *id = c < m->n_classes ? m->classes[c] : "";
    if (strcmp(id, "car") == 0)
        return (vclass_style_t){0x7dd3fc, 4.5f, 1.9f};
    if (strcmp(id, "bus") == 0)
        return (vclass_style_t){0xffa94d, 12.0f, 2.6f};
    if (strcmp(id, "motorbike") == 0)
        return (vclass_style_t){0xc084fc, 2.2f, 0.9f};
    if (strcmp(id, "escort") == 0)
        return (vclass_style_t){VIZ_RGB_ESCORT, 5.0f, 2.0f};
    return (vclass_style_t){palette[c % 4], 4.5f, 1.9f};
}

static void link_band(const viz_view_t *view, const viz_link_t *l, double off_a, double off_b,
                      viz_point_t p[4]) {
    p[0] = viz_project_to_screen(view, l->ax + l->nx * off_a, l->ay + l->ny * off_a);
    p[1] = viz_project_to_screen(view, l->bx + l->nx * off_a, l->by + l->ny * off_a);
    p[2] = viz_project_to_screen(view, l->bx + l->nx * off_b, l->by + l->ny * off_b);
    p[3] = viz_project_to_screen(view, l->ax + l->nx * off_b, l->ay + l->ny * off_b);
}

/* Grows a band to at least min_px across on screen, about its middle. */
static void min_width(viz_point_t p[4], float min_px) {
    float dx = p[3].x - p[0].x, dy = p[3].y - p[0].y, d = sqrtf(dx * dx + dy * dy);
    if (d >= min_px || d < 1e-6f)
        return;
    float k = 0.5f * (min_px - d) / d;
    p[0].x -= dx * k, p[0].y -= dy * k, p[1].x -= dx * k, p[1].y -= dy * k;
    p[3].x += dx * k, p[3].y += dy * k, p[2].x += dx * k, p[2].y += dy * k;
}

static void draw_roads(viz_render_t *r, const viz_t *v) {
    const viz_map_t *m = v->map;
    const viz_view_t *view = &v->view;
    double s = view->scale;
    /* Escort route band, under everything. */
    for (int32_t i = 0; i < m->n_links; i++) {
        if (!v->route_link[i])
            continue;
        for (int k = 0; k < viz_map_link_pieces(&m->links[i]); k++) {
            viz_link_t l = viz_map_link_piece(&m->links[i], k);
            viz_point_t p[4];
            link_band(view, &l, l.off0 - 3, l.off0 + l.lanes * VIZ_LANE_W_M + 3, p);
            min_width(p, 9);
            quad(r, p, rgba(ROUTE_RGB, 90));
        }
    }
    flush(r, SDL_BLENDMODE_BLEND);
    /* Junction boxes and road bands. */
    for (int32_t i = 0; i < m->n_nodes; i++) {
        const viz_node_t *n = &m->nodes[i];
        if (n->kind == VIZ_NODE_BOUNDARY)
            continue;
        viz_point_t c = viz_project_to_screen(view, n->x, n->y);
        float h = (float)fmax(n->setback_m * s, 2.5);
        viz_point_t p[4] = {
            {c.x - h, c.y - h}, {c.x + h, c.y - h}, {c.x + h, c.y + h}, {c.x - h, c.y + h}};
        quad(r, p, rgba(0x30343d, 255));
    }
    for (int32_t i = 0; i < m->n_links; i++) {
        for (int k = 0; k < viz_map_link_pieces(&m->links[i]); k++) {
            viz_link_t l = viz_map_link_piece(&m->links[i], k);
            viz_point_t p[4];
            link_band(view, &l, l.off0, l.off0 + l.lanes * VIZ_LANE_W_M, p);
            min_width(p, 2.5f);
            quad(r, p, rgba(ROAD_RGB, 255));
        }
    }
    flush(r, SDL_BLENDMODE_NONE);
    /* Lane lines and stop lines, when lanes are wide enough to see. */
    if (VIZ_LANE_W_M * s >= 5) {
        for (int32_t i = 0; i < m->n_links; i++) {
            int n_pieces = viz_map_link_pieces(&m->links[i]);
            viz_link_t last = viz_map_link_piece(&m->links[i], n_pieces - 1);
            for (int j = 0; j < n_pieces; j++) {
                viz_link_t pc = viz_map_link_piece(&m->links[i], j);
                for (int k = 1; k < pc.lanes; k++) {
                    double off = pc.off0 + k * VIZ_LANE_W_M;
                    viz_point_t a =
                        viz_project_to_screen(view, pc.ax + pc.nx * off, pc.ay + pc.ny * off);
                    viz_point_t b =
                        viz_project_to_screen(view, pc.bx + pc.nx * off, pc.by + pc.ny * off);
                    thick_line(r, a, b, 1, rgba(LANE_RGB, 255));
                }
            }
            const viz_link_t *l = &last;
            if (m->nodes[l->to].signal >= 0) {
                double o0 = l->off0, o1 = l->off0 + l->lanes * VIZ_LANE_W_M;
                viz_point_t a = viz_project_to_screen(view, l->bx + l->nx * o0, l->by + l->ny * o0);
                viz_point_t b = viz_project_to_screen(view, l->bx + l->nx * o1, l->by + l->ny * o1);
                thick_line(r, a, b, (float)fmax(0.5 * s, 1.5), rgba(0xe8e8e8, 255));
            }
        }
        flush(r, SDL_BLENDMODE_NONE);
    }
}

static void draw_vehicles(viz_render_t *r, const viz_t *v) {
    const viz_map_t *m = v->map;
    const viz_view_t *view = &v->view;
    const proto_frame_t *f = &v->frame;
    vclass_style_t styles[16];
    for (int c = 0; c < 16; c++)
        styles[c] = class_style(m, c);
    int escort = -1;
    r->vehicles_drawn = 0;
    for (int32_t i = 0; i < f->n_vehicles; i++) {
        const proto_vehicle_t *veh = &f->vehicles[i];
        if (veh->flags & PROTO_VEH_WAITING)
            continue;
        if (veh->flags & PROTO_VEH_ESCORT) {
            escort = i;
            continue;
        }
        double x, y, ux, uy;
        if (viz_map_link_point(m, veh->link, veh->pos_m, veh->lane, &x, &y, &ux, &uy) < 0)
            continue;
        viz_point_t c = viz_project_to_screen(view, x, y);
        if (!viz_project_visible(view, c, 8))
            continue;
        vclass_style_t st = styles[veh->vclass & 15];
        uint32_t rgb = (veh->flags & PROTO_VEH_QUEUED) ? shade(st.rgb, 0.55) : st.rgb;
        viz_point_t p[4];
        viz_project_box(view, x, y, ux, uy, st.length_m, st.width_m, 3, p);
        quad(r, p, rgba(rgb, 255));
        r->vehicles_drawn++;
    }
    flush(r, SDL_BLENDMODE_NONE);
    r->escort = escort;
}

/* The escort, after the signals so nothing hides it: a flashing red/blue halo, a white
 * outline, its colour. */
static void draw_escort(viz_render_t *r, const viz_t *v, int64_t wall_ms) {
    const viz_map_t *m = v->map;
    const viz_view_t *view = &v->view;
    const proto_frame_t *f = &v->frame;
    int escort = r->escort;
    if (escort >= 0 && escort < f->n_vehicles) {
        const proto_vehicle_t *veh = &f->vehicles[escort];
        double x, y, ux, uy;
        if (viz_map_link_point(m, veh->link, veh->pos_m, veh->lane, &x, &y, &ux, &uy) == 0) {
            viz_point_t c = viz_project_to_screen(view, x, y);
            int on = (wall_ms / 250) % 2 == 0;
            float halo = (float)fmax(14, 9 * view->scale);
            disc(r, c.x, c.y, halo, rgba(on ? 0xff3030 : 0x3080ff, 110), 20);
            ring(r, c.x, c.y, halo, halo + 2.5f, rgba(on ? 0x3080ff : 0xff3030, 230), 20);
            flush(r, SDL_BLENDMODE_BLEND);
            viz_point_t p[4];
            viz_project_box(view, x, y, ux, uy, 14.0, 6.5, 14, p);
            quad(r, p, rgba(0xffffff, 255));
            viz_project_box(view, x, y, ux, uy, 12.0, 5.0, 11, p);
            quad(r, p, rgba(VIZ_RGB_ESCORT, 255));
            flush(r, SDL_BLENDMODE_NONE);
            r->vehicles_drawn++;
        }
    }
}

static void draw_signals(viz_render_t *r, const viz_t *v) {
    const viz_map_t *m = v->map;
    const viz_view_t *view = &v->view;
    const proto_frame_t *f = &v->frame;
    float rad = (float)fmax(1.4 * view->scale, 3.5);
    for (int32_t h = 0; h < m->n_heads; h++) {
        const viz_head_t *hd = &m->heads[h];
        viz_point_t c = viz_project_to_screen(view, hd->x, hd->y);
        if (!viz_project_visible(view, c, rad + 2))
            continue;
        int st = v->has_frame && hd->group < f->n_group_states ? f->group_states[hd->group] : 0;
        disc(r, c.x, c.y, rad + 1.5f, rgba(0x0b0c0f, 255), 12);
        disc(r, c.x, c.y, rad, rgba(state_rgb(st), 255), 12);
    }
    flush(r, SDL_BLENDMODE_NONE);
    /* Priority rings on the escort's route (and wherever a priority state is set). */
    for (int32_t s = 0; s < m->n_signals; s++) {
        int prio = v->has_frame && s < f->n_signals ? f->prio[s] : 0;
        if (!v->route_signal[s] && prio == 0)
            continue;
        const viz_node_t *n = &m->nodes[m->signals[s].node];
        viz_point_t c = viz_project_to_screen(view, n->x, n->y);
        float r0 = (float)fmax((n->setback_m + 5) * view->scale, 10);
        float w = prio ? 4.0f : 1.5f;
        ring(r, c.x, c.y, r0, r0 + w, rgba(prio_rgb(prio), prio ? 255 : 200), 28);
    }
    flush(r, SDL_BLENDMODE_BLEND);
    for (int32_t s = 0; s < m->n_signals; s++) {
        int prio = v->has_frame && s < f->n_signals ? f->prio[s] : 0;
        const viz_node_t *n = &m->nodes[m->signals[s].node];
        viz_point_t c = viz_project_to_screen(view, n->x, n->y);
        if (!viz_project_visible(view, c, 50))
            continue;
        float r0 = (float)fmax((n->setback_m + 5) * view->scale, 10) + 6;
        /* Node name up to any parenthesis, right of the junction. */
        char name[96];
        snprintf(name, sizeof name, "%s", n->name);
        char *paren = strstr(name, " (");
        if (paren != NULL)
            *paren = '\0';
        int lh = line_h(r, SZ_SMALL);
        text(r, name, c.x + r0, c.y - (float)lh, s == v->selected_signal ? 0xffffff : 0xb8bec9,
             SZ_SMALL);
        if (prio)
            text(r, prio_name(prio), c.x + r0, c.y, prio_rgb(prio), SZ_SMALL);
        if (s == v->selected_signal) {
            float rs = (float)fmax(n->setback_m * view->scale, 8) + 3;
            ring(r, c.x, c.y, rs, rs + 2, rgba(0xffffff, 255), 24);
            flush(r, SDL_BLENDMODE_NONE);
        }
    }
}

static int draw_lines_box(viz_render_t *r, const viz_line_t *lines, int n, int x, int y, int w,
                          int right_align) {
    if (n == 0 || w <= 0)
        return 0;
    int lh = line_h(r, SZ_NORMAL), tw = 0;
    for (int i = 0; i < n; i++) {
        int lw = text_width(r, lines[i].text, SZ_NORMAL);
        tw = lw > tw ? lw : tw;
    }
    int bw = tw + 16 < w ? tw + 16 : w;
    if (right_align)
        x += w - bw;
    int h = n * lh + 12;
    fill_rect(r, (float)x, (float)y, (float)bw, (float)h, 0x000000, 175);
    SDL_Rect clip = {x, y, bw, h};
    SDL_RenderSetClipRect(r->ren, &clip);
    for (int i = 0; i < n; i++)
        text(r, lines[i].text, (float)x + 8, (float)(y + 6 + i * lh), lines[i].rgb, SZ_NORMAL);
    SDL_RenderSetClipRect(r->ren, NULL);
    return h;
}

/* The strip under the map: legend, then (interactive modes) the keys. */
static void draw_legend(viz_render_t *r, const viz_t *v, const viz_layout_t *l) {
    static const struct {
        const char *name;
        uint32_t rgb;
    } items[] = {{"car", 0x7dd3fc},
                 {"bus", 0xffa94d},
                 {"motorbike", 0xc084fc},
                 {"queued (darker)", 0x456f86},
                 {"escort", VIZ_RGB_ESCORT},
                 {"escort route", ROUTE_RGB},
                 {"priority: requested", 0xffd23f},
                 {"granted", 0x4da3ff},
                 {"serving", 0x2fd67b},
                 {"recovering", 0xb388ff}};
    int lh = line_h(r, SZ_SMALL);
    fill_rect(r, (float)l->legend.x, (float)l->legend.y, (float)l->legend.w, (float)l->legend.h,
              0x0e1014, 255);
    float x = (float)l->legend.x + 10, y = (float)l->legend.y + 4;
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        fill_rect(r, x, y + 3, 10, (float)lh - 6, items[i].rgb, 255);
        int w = text(r, items[i].name, x + 14, y, 0xb8bec9, SZ_SMALL);
        x += 14 + (float)(w ? w : 40) + 12;
    }
    if (v->mode == VIZ_MODE_STILL)
        return;
    const char *help = v->mode == VIZ_MODE_REPLAY
                           ? "space play/pause   +/- speed   . step   e escort start   "
                             "left/right 10 s   f fit   t diagram   c corridor   click a signal"
                             "   drag pan   wheel zoom   q quit"
                           : "space pause   +/- pace   . step   f fit   t diagram   c corridor   "
                             "click a signal   drag pan   wheel zoom   q quit";
    text(r, help, (float)l->legend.x + 10, y + (float)lh + 2, 0x8a909c, SZ_SMALL);
}

/* ---- time-space diagram ------------------------------------------------------------------ */

static void draw_tsd(viz_render_t *r, const viz_t *v, const viz_tsd_t *t, viz_rect_t area,
                     int64_t t0, int64_t t1, int64_t now, viz_tsd_axes_t *axes_out) {
    const viz_map_t *m = t->map;
    fill_rect(r, (float)area.x, (float)area.y, (float)area.w, (float)area.h, 0x101216, 255);
    int lh = line_h(r, SZ_SMALL);
    int left = area.w / 4 < 230 ? area.w / 4 : 230;
    viz_rect_t plot = {area.x + left, area.y + 40, area.w - left - 20, area.h - 40 - 2 * lh - 14};
    if (plot.w < 10 || plot.h < 10)
        return;
    viz_tsd_axes_t ax = viz_tsd_axes(t, plot, t0, t1);
    if (axes_out != NULL)
        *axes_out = ax;
    const viz_corridor_t *cor = &m->corridors[t->corridor];
    char title[256];
    snprintf(title, sizeof title, "%s  (%s, %.0f m)", cor->name, cor->id, t->length_m);
    text(r, title, (float)area.x + 12, (float)area.y + 10, 0xffffff, SZ_TITLE);
    fill_rect(r, (float)plot.x, (float)plot.y, (float)plot.w, (float)plot.h, 0x181b21, 255);
    SDL_Rect clip = {plot.x, plot.y, plot.w, plot.h};
    /* Time grid and labels. */
    double span_s = (double)(ax.t1_ms - ax.t0_ms) / 1000.0;
    double step = viz_tsd_tick_step(span_s, plot.w / 110 > 1 ? plot.w / 110 : 1);
    static const double nice_s[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600};
    for (size_t i = 0; i < sizeof nice_s / sizeof nice_s[0]; i++)
        if (nice_s[i] >= step) {
            step = nice_s[i];
            break;
        }
    int64_t step_ms = (int64_t)(step * 1000);
    int64_t tod0 = m->start_tod_ms;
    int64_t first = ((ax.t0_ms + tod0) / step_ms + 1) * step_ms - tod0;
    for (int64_t tt = first; tt < ax.t1_ms; tt += step_ms) {
        float x = (float)viz_tsd_x(&ax, tt);
        fill_rect(r, x, (float)plot.y, 1, (float)plot.h, 0x2a2e37, 255);
        char c[16];
        viz_format_clock(v, tt, c, sizeof c);
        int w = text_width(r, c, SZ_SMALL);
        text(r, c, x - (float)w / 2, (float)(plot.y + plot.h + 4), 0x9aa0ab, SZ_SMALL);
    }
    text(r, "time of day", (float)(plot.x + plot.w / 2 - 30), (float)(plot.y + plot.h + 6 + lh),
         0x6b7078, SZ_SMALL);
    /* Trajectories: thin lines by class, the escort's bold, clipped to the plot. */
    SDL_RenderSetClipRect(r->ren, &clip);
    SDL_FPoint *pts = NULL;
    size_t cap = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < t->n_tracks; i++) {
            const viz_tsd_track_t *tr = &t->tracks[i];
            if ((tr->escort != 0) != pass || tr->n == 0 || tr->pts[tr->n - 1].t_ms < ax.t0_ms ||
                tr->pts[0].t_ms > ax.t1_ms)
                continue;
            if (tr->n > cap) {
                SDL_FPoint *np = realloc(pts, tr->n * sizeof *np);
                if (np == NULL)
                    continue;
                pts = np;
                cap = tr->n;
            }
            uint32_t rgb = pass ? VIZ_RGB_ESCORT : shade(class_style(m, tr->vclass).rgb, 0.8);
            set_color(r, rgb, pass ? 255 : 170);
            size_t k = 0;
            for (size_t j = 0; j <= tr->n; j++) {
                if (j == tr->n || (tr->pts[j].brk && k > 0)) {
                    for (int o = pass ? -1 : 0; o <= (pass ? 1 : 0) && k > 1; o++) {
                        for (size_t q = 0; q < k; q++)
                            pts[q].y += (float)o;
                        SDL_RenderDrawLinesF(r->ren, pts, (int)k);
                        for (size_t q = 0; q < k; q++)
                            pts[q].y -= (float)o;
                    }
                    k = 0;
                    if (j == tr->n)
                        break;
                }
                pts[k].x = (float)viz_tsd_x(&ax, tr->pts[j].t_ms);
                pts[k].y = (float)viz_tsd_y(&ax, tr->pts[j].dist_m);
                k++;
            }
        }
        if (pass == 0) {
            /* Signal bars above the thin trajectories, under the escort's. */
            for (int s = 0; s < t->n_stops; s++) {
                const viz_tsd_stop_t *st = &t->stops[s];
                float y = (float)viz_tsd_y(&ax, st->dist_m);
                fill_rect(r, (float)plot.x, y - 3, (float)plot.w, 6, 0x30343d, 255);
                for (size_t k = 0; k < st->n_spans; k++) {
                    const viz_tsd_span_t *sp = &st->spans[k];
                    int64_t a = sp->t0_ms > ax.t0_ms ? sp->t0_ms : ax.t0_ms;
                    int64_t b = sp->t1_ms < ax.t1_ms ? sp->t1_ms : ax.t1_ms;
                    if (b < a)
                        continue;
                    float x0 = (float)viz_tsd_x(&ax, a), x1 = (float)viz_tsd_x(&ax, b);
                    fill_rect(r, x0, y - 3, x1 - x0 > 1 ? x1 - x0 : 1, 6, state_rgb(sp->state),
                              255);
                }
            }
        }
    }
    free(pts);
    if (now >= ax.t0_ms && now <= ax.t1_ms)
        fill_rect(r, (float)viz_tsd_x(&ax, now), (float)plot.y, 1, (float)plot.h, 0xffffff, 160);
    SDL_RenderSetClipRect(r->ren, NULL);
    /* Stop labels at the left; the corridor's ends. */
    for (int s = 0; s < t->n_stops; s++) {
        const viz_tsd_stop_t *st = &t->stops[s];
        char name[96];
        snprintf(name, sizeof name, "%s", m->nodes[st->node].name);
        char *paren = strstr(name, " (");
        if (paren != NULL)
            *paren = '\0';
        float y = (float)viz_tsd_y(&ax, st->dist_m);
        char dist[32];
        snprintf(dist, sizeof dist, "%.0f m", st->dist_m);
        int w = text_width(r, dist, SZ_SMALL);
        SDL_Rect name_clip = {area.x, area.y, plot.x - w - 12 - area.x, area.h};
        SDL_RenderSetClipRect(r->ren, &name_clip);
        text(r, name, (float)area.x + 8, y - (float)lh / 2, 0xd0d4dc, SZ_SMALL);
        SDL_RenderSetClipRect(r->ren, NULL);
        text(r, dist, (float)(plot.x - w - 6), y - (float)lh / 2, 0x6b7078, SZ_SMALL);
    }
    char end[32];
    snprintf(end, sizeof end, "%.0f m", t->length_m);
    text(r, "0 m", (float)(plot.x - text_width(r, "0 m", SZ_SMALL) - 6),
         (float)(plot.y + plot.h - lh), 0x6b7078, SZ_SMALL);
    text(r, end, (float)(plot.x - text_width(r, end, SZ_SMALL) - 6), (float)plot.y, 0x6b7078,
         SZ_SMALL);
    /* Legend, under the stop labels. */
    static const struct {
        const char *name;
        uint32_t rgb;
    } leg[] = {{"green", VIZ_RGB_GREEN},
               {"yellow", VIZ_RGB_YELLOW},
               {"red", VIZ_RGB_RED},
               {"escort", VIZ_RGB_ESCORT}};
    for (size_t i = 0; i < sizeof leg / sizeof leg[0]; i++) {
        float lx = (float)area.x + 8 + (float)(i % 2) * 90;
        float ly = (float)(plot.y + plot.h + 4 + (int)(i / 2) * lh);
        fill_rect(r, lx, ly + (float)lh / 2 - 3, 14, 6, leg[i].rgb, 255);
        text(r, leg[i].name, lx + 18, ly, 0xb8bec9, SZ_SMALL);
    }
}

/* ---- seek bar ---------------------------------------------------------------------------- */

static void draw_seek(viz_render_t *r, const viz_t *v, const viz_layout_t *l) {
    viz_rect_t s = l->seek;
    fill_rect(r, (float)s.x, (float)s.y, (float)s.w, (float)s.h, 0x1d2027, 255);
    /* Play / pause button. */
    float cx = (float)s.x + 20, cy = (float)s.y + (float)s.h / 2;
    if (v->playing) {
        fill_rect(r, cx - 7, cy - 8, 5, 16, 0xffffff, 255);
        fill_rect(r, cx + 2, cy - 8, 5, 16, 0xffffff, 255);
    } else {
        if (grow(r, 3, 3) == 0) {
            SDL_Color c = rgba(0xffffff, 255);
            int b = r->n_verts;
            r->verts[b] = (SDL_Vertex){{cx - 6, cy - 9}, c, {0, 0}};
            r->verts[b + 1] = (SDL_Vertex){{cx + 9, cy}, c, {0, 0}};
            r->verts[b + 2] = (SDL_Vertex){{cx - 6, cy + 9}, c, {0, 0}};
            for (int i = 0; i < 3; i++)
                r->idx[r->n_idx++] = b + i;
            r->n_verts += 3;
            flush(r, SDL_BLENDMODE_NONE);
        }
    }
    char label[64], c[16];
    viz_format_clock(v, v->play_ms, c, sizeof c);
    snprintf(label, sizeof label, "%s  x%g", c, v->play_speed);
    text(r, label, (float)s.x + 44, cy - (float)line_h(r, SZ_NORMAL) / 2, 0xffffff, SZ_NORMAL);
    viz_rect_t tr = viz_seek_track(l);
    fill_rect(r, (float)tr.x, (float)tr.y, (float)tr.w, (float)tr.h, 0x3a3f4a, 255);
    double span = (double)(v->t_end_ms - v->t_begin_ms);
    if (span > 0) {
        double f = (double)(v->play_ms - v->t_begin_ms) / span;
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        fill_rect(r, (float)tr.x, (float)tr.y, (float)(f * tr.w), (float)tr.h, 0x4da3ff, 255);
        if (v->escort_start_ms >= 0) {
            double e = (double)(v->escort_start_ms - v->t_begin_ms) / span;
            fill_rect(r, (float)(tr.x + e * tr.w) - 1, (float)tr.y - 5, 3, (float)tr.h + 10,
                      VIZ_RGB_ESCORT, 255);
        }
        fill_rect(r, (float)(tr.x + f * tr.w) - 2, (float)tr.y - 6, 5, (float)tr.h + 12, 0xffffff,
                  255);
    }
}

/* ---- the whole picture ------------------------------------------------------------------- */

int viz_render_draw(viz_render_t *r, const viz_t *v) {
    r->frame_no++;
    set_color(r, VIZ_RGB_BACKGROUND, 255);
    SDL_RenderClear(r->ren);
    viz_layout_t l = viz_layout(v);
    SDL_Rect clip = {l.map.x, l.map.y, l.map.w, l.map.h};
    SDL_RenderSetClipRect(r->ren, &clip);
    r->vehicles_drawn = 0;
    if (v->map != NULL) {
        draw_roads(r, v);
        r->escort = -1;
        if (v->has_frame)
            draw_vehicles(r, v);
        draw_signals(r, v);
        if (v->has_frame)
            draw_escort(r, v, v->wall_ms);
    }
    SDL_RenderSetClipRect(r->ren, NULL);
    draw_legend(r, v, &l);
    viz_line_t lines[24];
    int n = viz_panel_lines(v, lines, 24);
    draw_lines_box(r, lines, n, l.panel.x, l.panel.y, l.map.w - 20, 0);
    n = viz_popup_lines(v, lines, 24);
    draw_lines_box(r, lines, n, l.popup.x, l.popup.y, l.popup.w, 1);
    if (l.has_tsd && v->tsd != NULL) {
        int64_t now = v->has_frame ? v->frame.time_ms : 0;
        int64_t t0 = now - v->tsd_window_ms;
        draw_tsd(r, v, v->tsd, l.tsd, t0, now + v->tsd_window_ms / 20, now, NULL);
    }
    if (l.has_seek)
        draw_seek(r, v, &l);
    if (v->fps > 0) {
        char fps[32];
        snprintf(fps, sizeof fps, "%.0f fps", v->fps);
        text(r, fps, (float)(l.map.x + l.map.w - 60), (float)(l.map.y + l.map.h - 20), 0x6b7078,
             SZ_SMALL);
    }
    if (r->n_cache > CACHE_MAX / 2)
        cache_clear(r, 1);
    return 0;
}

int viz_render_draw_tsd_page(viz_render_t *r, const viz_t *v, const viz_tsd_t *tsd, int64_t t0_ms,
                             int64_t t1_ms, viz_tsd_axes_t *axes) {
    r->frame_no++;
    set_color(r, VIZ_RGB_BACKGROUND, 255);
    SDL_RenderClear(r->ren);
    int w, h;
    viz_render_size(r, &w, &h);
    viz_rect_t area = {0, 0, w, h};
    draw_tsd(r, v, tsd, area, t0_ms, t1_ms, INT64_MIN, axes);
    return 0;
}

void viz_render_present(viz_render_t *r) {
    if (r->window != NULL)
        SDL_RenderPresent(r->ren);
    else
        SDL_RenderFlush(r->ren);
}

/* ---- input ------------------------------------------------------------------------------- */

static int key_of(SDL_Keycode k, Uint16 mod) {
    switch (k) {
    case SDLK_SPACE:
        return ' ';
    case SDLK_PLUS:
    case SDLK_KP_PLUS:
        return '+';
    case SDLK_EQUALS:
        return (mod & KMOD_SHIFT) ? '+' : '=';
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
        return '-';
    case SDLK_PERIOD:
    case SDLK_KP_PERIOD:
        return '.';
    case SDLK_ESCAPE:
        return VIZ_KEY_ESC;
    case SDLK_LEFT:
        return VIZ_KEY_LEFT;
    case SDLK_RIGHT:
        return VIZ_KEY_RIGHT;
    case SDLK_HOME:
        return VIZ_KEY_HOME;
    case SDLK_END:
        return VIZ_KEY_END;
    default:
        return k >= 'a' && k <= 'z' ? (int)k : 0;
    }
}

int viz_render_poll(viz_render_t *r, viz_input_t *in) {
    SDL_Event e;
    (void)r;
    while (SDL_PollEvent(&e)) {
        memset(in, 0, sizeof *in);
        switch (e.type) {
        case SDL_QUIT:
            in->type = VIZ_IN_QUIT;
            return 1;
        case SDL_KEYDOWN:
            in->type = VIZ_IN_KEY;
            in->key = key_of(e.key.keysym.sym, e.key.keysym.mod);
            if (in->key != 0)
                return 1;
            break;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP:
            in->type = e.type == SDL_MOUSEBUTTONDOWN ? VIZ_IN_BUTTON_DOWN : VIZ_IN_BUTTON_UP;
            in->button = e.button.button == SDL_BUTTON_LEFT     ? 1
                         : e.button.button == SDL_BUTTON_MIDDLE ? 2
                                                                : 3;
            in->x = e.button.x;
            in->y = e.button.y;
            return 1;
        case SDL_MOUSEMOTION:
            in->type = VIZ_IN_MOTION;
            in->x = e.motion.x;
            in->y = e.motion.y;
            return 1;
        case SDL_MOUSEWHEEL: {
            int mx, my;
            SDL_GetMouseState(&mx, &my);
            in->type = VIZ_IN_WHEEL;
            in->wheel = e.wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -e.wheel.y : e.wheel.y;
            in->x = mx;
            in->y = my;
            return 1;
        }
        case SDL_WINDOWEVENT:
            if (e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
                in->type = VIZ_IN_RESIZE;
                in->w = e.window.data1;
                in->h = e.window.data2;
                return 1;
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

/* ---- read back --------------------------------------------------------------------------- */

uint32_t *viz_render_pixels(viz_render_t *r, int *w, int *h, base_err_t *err) {
    viz_render_size(r, w, h);
    uint32_t *px = malloc((size_t)*w * (size_t)*h * sizeof *px);
    if (px == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        return NULL;
    }
    SDL_RenderFlush(r->ren);
    if (SDL_RenderReadPixels(r->ren, NULL, SDL_PIXELFORMAT_RGB888, px, *w * 4) != 0) {
        base_err_set(err, BASE_EIO, "reading pixels: %s", SDL_GetError());
        free(px);
        return NULL;
    }
    for (size_t i = 0; i < (size_t)*w * (size_t)*h; i++)
        px[i] &= 0xffffff;
    return px;
}

int viz_render_save_png(viz_render_t *r, const char *path, base_err_t *err) {
    int w, h;
    uint32_t *px = viz_render_pixels(r, &w, &h, err);
    if (px == NULL)
        return err ? err->code : BASE_EIO;
    int rc = viz_png_write(path, px, w, h, (size_t)w * 4, err);
    free(px);
    return rc;
}
