/*
 * viz/viz.h - the visualiser's context: the map, the frame on show, the view, the time-space
 * diagram, what the user selected, and the panel's text. Everything the drawing needs and
 * everything input changes lives here, as plain data without SDL: viz/render.c reads it and
 * draws; SDL events reach it translated into viz_input_t; the app loops (viz/app.h) feed it
 * frames from a live subscription or a recording.
 *
 * Frames come in through viz_on_frame in time order: each updates the history (decisions,
 * time-in-state of each signal group, the diagram), and the one marked shown replaces the frame
 * on show (the context takes its memory). A map replaces the previous one only if its text
 * differs. The context owns everything it points to. One context per window; not thread-safe.
 */
#ifndef VIZ_VIZ_H
#define VIZ_VIZ_H

#include "base/err.h"
#include "proto/frame.h"
#include "viz/map.h"
#include "viz/project.h"
#include "viz/tsd.h"

#include <stdint.h>

#define VIZ_N_DECISIONS   6
#define VIZ_N_EVENTS      4
#define VIZ_LINE_MAX      192
#define VIZ_TSD_WINDOW_MS (300 * 1000)

typedef enum { VIZ_MODE_LIVE, VIZ_MODE_REPLAY, VIZ_MODE_STILL } viz_mode_t;

/* Input, translated from the window system by viz/render.c. */
typedef enum {
    VIZ_IN_NONE,
    VIZ_IN_QUIT,
    VIZ_IN_KEY,
    VIZ_IN_BUTTON_DOWN,
    VIZ_IN_BUTTON_UP,
    VIZ_IN_MOTION,
    VIZ_IN_WHEEL,
    VIZ_IN_RESIZE,
} viz_input_type_t;

enum {
    VIZ_KEY_ESC = 27,
    VIZ_KEY_LEFT = 0x101,
    VIZ_KEY_RIGHT,
    VIZ_KEY_HOME,
    VIZ_KEY_END,
};

typedef struct viz_input {
    viz_input_type_t type;
    int key;      /* VIZ_IN_KEY: a printable ASCII character or VIZ_KEY_* */
    int button;   /* 1 left, 2 middle, 3 right */
    double x, y;  /* pointer position */
    double wheel; /* VIZ_IN_WHEEL: notches, positive away from the user */
    int w, h;     /* VIZ_IN_RESIZE */
} viz_input_t;

/* What an input asks of the app loop (the context has already changed its own state). */
typedef enum {
    VIZ_ACT_NONE,
    VIZ_ACT_QUIT,
    VIZ_ACT_PAUSE, /* toggle: live asks the simulator, replay stops playing */
    VIZ_ACT_FASTER,
    VIZ_ACT_SLOWER,
    VIZ_ACT_STEP,
    VIZ_ACT_SEEK, /* replay: go to viz->seek_ms */
    VIZ_ACT_TSD,  /* the diagram panel was shown: fill its history */
} viz_action_t;

typedef struct viz_rect {
    int x, y, w, h;
} viz_rect_t;

/* Screen layout for a window size. */
typedef struct viz_layout {
    viz_rect_t map, tsd, panel, seek, popup, legend; /* legend: a strip under the map */
    int has_tsd, has_seek;
} viz_layout_t;

typedef struct viz_line {
    char text[VIZ_LINE_MAX];
    uint32_t rgb; /* 0xRRGGBB */
} viz_line_t;

typedef struct viz {
    base_err_t err;
    viz_mode_t mode;
    viz_map_t *map;
    char *map_json;
    proto_frame_t frame; /* on show */
    int has_frame;
    int win_w, win_h;
    viz_view_t view;
    int auto_fit; /* refit when the layout changes until the user pans or zooms */
    int follow;   /* keep the escort at the centre of the view */
    double zoom;  /* > 0: scale (px/m) to take instead of fitting when a map arrives */
    /* The escort's route: per link / per signal, 1 if on it. */
    uint8_t *route_link;
    uint8_t *route_signal;
    /* Per signal group: state and since when (simulated ms). */
    uint8_t *group_state;
    int64_t *group_since_ms;
    /* Time-space diagram panel. */
    viz_tsd_t *tsd;
    char tsd_corridor[64];
    int show_tsd;
    int64_t tsd_window_ms;
    int64_t tsd_pruned_ms;
    int32_t selected_signal; /* -1: none */
    /* Controller decisions and events, newest last. */
    char decisions[VIZ_N_DECISIONS][VIZ_LINE_MAX];
    int64_t decision_ms[VIZ_N_DECISIONS];
    int n_decisions;
    char events[VIZ_N_EVENTS][VIZ_LINE_MAX];
    int n_events;
    /* Counters. */
    int64_t frames_in, frames_shown, frames_bad, frames_lost;
    int64_t last_seq;
    /* Live control state, from the simulator's acks. */
    int control; /* a control endpoint is connected */
    char status[VIZ_LINE_MAX];
    /* Replay. */
    int playing;
    double play_speed;
    int64_t t_begin_ms, t_end_ms, play_ms, seek_ms, escort_start_ms;
    /* Interaction. */
    int drag_map, drag_seek;
    double drag_x, drag_y;
    int64_t wall_ms; /* for the escort's flashing */
    double fps;
} viz_t;

/* Creates a context for a window of w x h pixels. Returns NULL (BASE_ENOMEM) on failure. */
viz_t *viz_new(viz_mode_t mode, int w, int h, base_err_t *err);

/* Frees the context; NULL-safe; sets *viz_p to NULL. */
void viz_destroy(viz_t **viz_p);

/* Installs the map in JSON text unless it equals the current one. A new map resets frame,
 * history and view. Returns 1 if the map was replaced, 0 if it was the same, or the map
 * reader's error (then the old map stays). */
int viz_on_map(viz_t *viz, const char *json);

/* Records frame f (history, diagram) and, if show, takes it as the frame on show: the context
 * takes its memory and zeroes *f; else the caller still owns it. Returns 0 or BASE_ENOMEM
 * (in viz->err), or BASE_ESTATE without a map. */
int viz_on_frame(viz_t *viz, proto_frame_t *f, int show);

/* Appends an event line ("[17:42:05] text"). */
void viz_on_event(viz_t *viz, int64_t time_ms, const char *text);

/* Forgets the history (decisions, time in state, diagram), as before a seek. */
void viz_reset_history(viz_t *viz);

/* Chooses the corridor of the diagram panel (NULL: "escort_route", else the first one) and
 * (re)creates the diagram. Returns 0, or BASE_EINVAL for an unknown corridor. */
int viz_set_tsd_corridor(viz_t *viz, const char *corridor);

/* Handles one input; returns what the app loop must do. */
viz_action_t viz_handle_input(viz_t *viz, const viz_input_t *in);

/* Refits the view to the network in the current layout (or takes viz->zoom, if set, about the
 * network's centre). */
void viz_fit(viz_t *viz);

/* Centres the view on the escort of the frame on show, if it is in the network. Returns 1 if
 * it moved the view, else 0. */
int viz_center_escort(viz_t *viz);

/* The layout of the window. */
viz_layout_t viz_layout(const viz_t *viz);

/* The seek bar's track inside the layout's seek rectangle (left of it: play button, time). */
viz_rect_t viz_seek_track(const viz_layout_t *l);

/* The signal whose node is nearest to screen point (x, y) within radius_px, or -1. */
int32_t viz_signal_at(const viz_t *viz, double x, double y, double radius_px);

/* The panel's lines for the frame on show: time, pace, escort, counters, decisions. Returns
 * the count written (at most max). */
int viz_panel_lines(const viz_t *viz, viz_line_t *lines, int max);

/* The selected signal's popup lines: node, stages with their groups' states and time in state,
 * the plan's remaining time for the current stage. Returns the count (0: nothing selected). */
int viz_popup_lines(const viz_t *viz, viz_line_t *lines, int max);

/* Formats simulated time t as the time of day of the map ("17:42:05"). */
void viz_format_clock(const viz_t *viz, int64_t t_ms, char *buf, size_t n);

/* The diagram axes for a plot rectangle, over the time window [t0, t1]. */
viz_tsd_axes_t viz_tsd_axes(const viz_tsd_t *tsd, viz_rect_t plot, int64_t t0_ms, int64_t t1_ms);

#endif
