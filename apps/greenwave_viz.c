/*
 * greenwave-viz - draws what greenwave-sim publishes (live) or recorded (replay), and writes
 * still pictures and time-space diagrams headless. See docs/viz.md.
 *
 * Exit status: 0 on success, 2 on a bad command line or a bad input file (recording, map),
 * 1 when the display, a socket or an output file fails.
 */
#include "viz/app.h"
#include "viz/live.h"
#include "viz/render.h"
#include "viz/replay.h"
#include "viz/viz.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static const char USAGE[] =
    "usage: greenwave-viz --connect ENDPOINT [--control ENDPOINT] [options]\n"
    "       greenwave-viz --replay FILE [options]\n"
    "       greenwave-viz --replay FILE --at SECONDS --png OUT.png\n"
    "       greenwave-viz --replay FILE --tsd CORRIDOR --png OUT.png [--from S] [--to S]\n"
    "       greenwave-viz --bench N [--seconds S] [--map SCENARIO.json] [--png LAST.png]\n"
    "\n"
    "Draws a greenwave-sim run: live from its --publish endpoint, or from a recording made with\n"
    "--record. The map shows links to scale with their lanes, each signal group's head in its\n"
    "colour, vehicles by class (queued ones darker), the escort flashing on its highlighted\n"
    "route, each route signal's priority state; the panel shows time, pace, the escort's ETA\n"
    "and the controller's decisions. With --png nothing is shown: the picture is rendered\n"
    "offscreen by SDL's software renderer (no display needed).\n"
    "\n"
    "options:\n"
    "  --connect EP        subscribe to the simulator's --publish endpoint (tcp://HOST:PORT,\n"
    "                      ipc://PATH)\n"
    "  --control EP        the simulator's --listen endpoint: space pauses it, + and - change\n"
    "                      its pace, . steps one frame\n"
    "  --curve-keys FILE   this viewer's CURVE key pair (greenwave-keygen's NAME.key), for a\n"
    "                      simulator run with --curve-allow listing its public key\n"
    "  --curve-server-key FILE  the simulator's public key (its NAME.pub), with --curve-keys\n"
    "  --replay FILE       a recording; space play/pause, +/- speed, . step, e jump to the\n"
    "                      escort's start, left/right 10 s, click or drag the seek bar\n"
    "  --at SECONDS        with --png: the simulated time to draw\n"
    "  --tsd CORRIDOR      with --png: write the corridor's time-space diagram; otherwise the\n"
    "                      corridor of the diagram panel (default escort_route)\n"
    "  --from S, --to S    the diagram's time window in simulated seconds (default: the\n"
    "                      escort's trip with a minute either side, or the whole recording)\n"
    "  --tsd-meta FILE     with --tsd --png: also write the diagram's axes as JSON\n"
    "  --png OUT.png       render offscreen into a PNG file and exit\n"
    "  --size WxH          window or picture size (default 1280x800, 1600x900 for --tsd)\n"
    "  --show-tsd          start with the time-space diagram panel shown (key t)\n"
    "  --follow            keep the escort at the centre of the map (key g)\n"
    "  --zoom PX_PER_M     map scale instead of fitting the network (key f fits again)\n"
    "  --screenshot-after S FILE  write the window to a PNG file S seconds after the start\n"
    "  --quit-after S      leave S seconds after the start\n"
    "  --request R         with --control: send R (pause, resume, step, speed=FACTOR) once\n"
    "                      frames arrive, as the keys would (for scripts)\n"
    "  --after-ack         with --request: count --screenshot-after and --quit-after from\n"
    "                      the simulator's answer, not from the start (for tests)\n"
    "  --bench N           draw N synthetic vehicles offscreen as fast as possible and print\n"
    "                      the frame rate\n"
    "  --seconds S         length of the benchmark (default 5)\n"
    "  --map FILE          benchmark on this scenario's network (default: a generated grid)\n"
    "  -h, --help          show this help\n"
    "\n"
    "keys: f fit, g follow the escort, t diagram panel, c next corridor, click a signal for\n"
    "its stages, drag to pan, wheel to zoom, q or Escape to quit.\n"
    "fonts: DejaVu Sans and Noto Sans CJK found through fontconfig (override with GW_VIZ_FONT,\n"
    "GW_VIZ_FONT_CJK).\n"
    "\n"
    "exit status: 0 ok, 1 display, socket or output failure, 2 bad command line or input file\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "greenwave-viz: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\ntry 'greenwave-viz --help'\n");
    va_end(ap);
    return 2;
}

static int parse_num(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static char *read_file(const char *path, base_err_t *err) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *nb = realloc(buf, cap * 2);
        if (nb == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad) {
        free(buf);
        base_err_set(err, BASE_EIO, "%s: cannot read", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

typedef struct args {
    const char *connect, *control, *replay, *png, *tsd, *tsd_meta, *map, *shot, *request;
    const char *curve_keys, *curve_server_key;
    double at, from, to, shot_after, quit_after, seconds, zoom;
    int has_at, show_tsd, follow, after_ack, w, h, bench;
} args_t;

static int parse_args(int argc, char **argv, args_t *a) {
    memset(a, 0, sizeof *a);
    a->from = a->to = -1;
    a->seconds = 5;
    a->bench = -1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            fputs(USAGE, stdout);
            return 1;
        }
        if (strcmp(o, "--show-tsd") == 0 || strcmp(o, "--follow") == 0) {
            *(strcmp(o, "--follow") == 0 ? &a->follow : &a->show_tsd) = 1;
            continue;
        }
        if (strcmp(o, "--after-ack") == 0) {
            a->after_ack = 1;
            continue;
        }
        static const char *const valued[] = {"--connect",
                                             "--control",
                                             "--replay",
                                             "--png",
                                             "--tsd",
                                             "--tsd-meta",
                                             "--map",
                                             "--at",
                                             "--from",
                                             "--to",
                                             "--quit-after",
                                             "--seconds",
                                             "--size",
                                             "--bench",
                                             "--screenshot-after",
                                             "--zoom",
                                             "--request",
                                             "--curve-keys",
                                             "--curve-server-key"};
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            known |= strcmp(o, valued[k]) == 0;
        if (!known)
            return usage_error("unknown %s '%s'", o[0] == '-' ? "option" : "argument", o);
        if (v == NULL)
            return usage_error("option %s needs a value", o);
        i++;
        if (strcmp(o, "--connect") == 0)
            a->connect = v;
        else if (strcmp(o, "--control") == 0)
            a->control = v;
        else if (strcmp(o, "--replay") == 0)
            a->replay = v;
        else if (strcmp(o, "--png") == 0)
            a->png = v;
        else if (strcmp(o, "--tsd") == 0)
            a->tsd = v;
        else if (strcmp(o, "--tsd-meta") == 0)
            a->tsd_meta = v;
        else if (strcmp(o, "--map") == 0)
            a->map = v;
        else if (strcmp(o, "--curve-keys") == 0)
            a->curve_keys = v;
        else if (strcmp(o, "--curve-server-key") == 0)
            a->curve_server_key = v;
        else if (strcmp(o, "--request") == 0) {
            if (strcmp(v, "pause") != 0 && strcmp(v, "resume") != 0 && strcmp(v, "step") != 0 &&
                (strncmp(v, "speed=", 6) != 0 || parse_num(v + 6, 1e-3, 1e6, &x) < 0))
                return usage_error("--request: pause, resume, step or speed=FACTOR, not '%s'", v);
            a->request = v;
        } else if (strcmp(o, "--at") == 0) {
            if (parse_num(v, 0, 1e9, &a->at) < 0)
                return usage_error("--at: not a time in seconds >= 0: '%s'", v);
            a->has_at = 1;
        } else if (strcmp(o, "--from") == 0) {
            if (parse_num(v, 0, 1e9, &a->from) < 0)
                return usage_error("--from: not a time in seconds >= 0: '%s'", v);
        } else if (strcmp(o, "--to") == 0) {
            if (parse_num(v, 0, 1e9, &a->to) < 0)
                return usage_error("--to: not a time in seconds >= 0: '%s'", v);
        } else if (strcmp(o, "--quit-after") == 0) {
            if (parse_num(v, 0.001, 1e9, &a->quit_after) < 0)
                return usage_error("--quit-after: not a positive number of seconds: '%s'", v);
        } else if (strcmp(o, "--zoom") == 0) {
            if (parse_num(v, VIZ_SCALE_MIN, VIZ_SCALE_MAX, &a->zoom) < 0)
                return usage_error("--zoom: not a scale in pixels per metre in [%g, %g]: '%s'",
                                   VIZ_SCALE_MIN, VIZ_SCALE_MAX, v);
        } else if (strcmp(o, "--seconds") == 0) {
            if (parse_num(v, 0.1, 3600, &a->seconds) < 0)
                return usage_error("--seconds: not a number of seconds in [0.1, 3600]: '%s'", v);
        } else if (strcmp(o, "--bench") == 0) {
            if (parse_num(v, 0, 10000000, &x) < 0 || x != floor(x))
                return usage_error("--bench: not a number of vehicles: '%s'", v);
            a->bench = (int)x;
        } else if (strcmp(o, "--size") == 0) {
            char *end;
            long w = strtol(v, &end, 10), h = *end == 'x' ? strtol(end + 1, &end, 10) : 0;
            if (*end != '\0' || w < 200 || h < 150 || w > 8192 || h > 8192)
                return usage_error("--size: not WxH within 200x150 and 8192x8192: '%s'", v);
            a->w = (int)w;
            a->h = (int)h;
        } else if (strcmp(o, "--screenshot-after") == 0) {
            if (parse_num(v, 0, 1e6, &a->shot_after) < 0 || i + 1 >= argc)
                return usage_error("--screenshot-after needs SECONDS and FILE");
            a->shot = argv[++i];
        }
    }
    int modes = (a->connect != NULL) + (a->replay != NULL) + (a->bench >= 0);
    if (modes != 1)
        return usage_error("%s", modes ? "give only one of --connect, --replay and --bench"
                                       : "give --connect ENDPOINT, --replay FILE or --bench N");
    if (a->png != NULL && a->replay == NULL && a->bench < 0)
        return usage_error("--png needs --replay (or --bench)");
    if (a->png != NULL && a->replay != NULL && !a->has_at && a->tsd == NULL)
        return usage_error("--png needs --at SECONDS (a still) or --tsd CORRIDOR (a diagram)");
    if (a->png != NULL && a->has_at && a->tsd != NULL && !a->show_tsd)
        return usage_error("--at and --tsd draw different pictures: give one (or add --show-tsd "
                           "for the map with the diagram panel)");
    if (a->control != NULL && a->connect == NULL)
        return usage_error("--control needs --connect");
    if ((a->curve_keys != NULL) != (a->curve_server_key != NULL))
        return usage_error("--curve-keys and --curve-server-key go together");
    if (a->curve_keys != NULL && a->connect == NULL)
        return usage_error("--curve-keys needs --connect");
    if (a->request != NULL && a->control == NULL)
        return usage_error("--request needs --control");
    if (a->after_ack && a->request == NULL)
        return usage_error("--after-ack needs --request");
    if (a->tsd_meta != NULL && (a->png == NULL || a->tsd == NULL))
        return usage_error("--tsd-meta needs --tsd and --png");
    if (a->has_at && a->png == NULL)
        return usage_error("--at needs --png");
    if (a->w == 0) {
        a->w = a->png && a->tsd && !a->has_at ? 1600 : 1280;
        a->h = a->png && a->tsd && !a->has_at ? 900 : 800;
    }
    return 0;
}

int main(int argc, char **argv) {
    args_t a;
    int prc = parse_args(argc, argv, &a);
    if (prc != 0)
        return prc == 1 ? 0 : prc;
    base_err_t err = {0};
    int headless = a.png != NULL || a.bench >= 0;
    viz_replay_t *rp = NULL;
    char *map_json = NULL;
    if (a.replay != NULL && (rp = viz_replay_open(a.replay, &err)) == NULL) {
        fprintf(stderr, "greenwave-viz: %s\n", err.msg);
        return 2;
    }
    if (a.map != NULL && (map_json = read_file(a.map, &err)) == NULL) {
        fprintf(stderr, "greenwave-viz: %s\n", err.msg);
        return 2;
    }
    viz_mode_t mode = a.connect               ? VIZ_MODE_LIVE
                      : a.png || a.bench >= 0 ? VIZ_MODE_STILL
                                              : VIZ_MODE_REPLAY;
    if (viz_render_sys_init(!headless, &err) < 0) {
        fprintf(stderr, "greenwave-viz: %s\n", err.msg);
        viz_replay_destroy(&rp);
        free(map_json);
        return 1;
    }
    int rc = 0, exit_code = 0;
    void *zctx = NULL;
    viz_live_t *live = NULL;
    viz_t *viz = viz_new(mode, a.w, a.h, &err);
    viz_render_t *r = viz == NULL ? NULL
                      : headless  ? viz_render_new_offscreen(a.w, a.h, &err)
                                  : viz_render_new_window("greenwave-viz", a.w, a.h, &err);
    if (r == NULL) {
        exit_code = 1;
        goto done;
    }
    if (viz_render_warning(r)[0] != '\0')
        fprintf(stderr, "greenwave-viz: %s\n", viz_render_warning(r));
    viz_app_opts_t opts = {a.shot_after, a.shot, a.quit_after, a.tsd,
                           a.show_tsd,   stderr, a.request,    a.after_ack};
    viz->follow = a.follow;
    viz->zoom = a.zoom;
    if (a.bench >= 0) {
        rc = viz_app_bench(viz, r, a.bench, a.seconds, map_json, a.png, stdout, &err);
    } else if (rp != NULL && a.png != NULL && !a.has_at) {
        rc = viz_app_tsd_png(viz, r, rp, a.tsd, a.from, a.to, a.png, a.tsd_meta, &err);
        if (rc == BASE_EINVAL || rc == BASE_ERANGE)
            exit_code = 2;
    } else if (rp != NULL && a.png != NULL) {
        rc = viz_app_png_at(viz, r, rp, a.at, a.png, &opts, &err);
        if (rc == BASE_ERANGE)
            exit_code = 2;
    } else if (rp != NULL) {
        rc = viz_app_replay(viz, r, rp, &opts, &err);
        if (rc == BASE_EINVAL)
            exit_code = 2;
    } else {
        auth_keypair_t kp;
        char server_key[AUTH_Z85_LEN + 1] = "";
        if (a.curve_keys != NULL &&
            (auth_keys_read_secret(a.curve_keys, &kp, &err) < 0 ||
             auth_keys_read_public(a.curve_server_key, server_key, &err) < 0)) {
            exit_code = 2;
            rc = err.code;
        } else {
            zctx = zmq_ctx_new();
            live = zctx ? viz_live_new_curve(zctx, a.connect, a.control, a.curve_keys ? &kp : NULL,
                                             server_key, &err)
                        : NULL;
        }
        if (live == NULL && exit_code == 0) {
            if (zctx == NULL)
                base_err_set(&err, BASE_EIO, "zmq_ctx_new failed");
            rc = BASE_EIO;
        } else if (live != NULL) {
            if (a.tsd != NULL)
                snprintf(viz->tsd_corridor, sizeof viz->tsd_corridor, "%s", a.tsd);
            viz->show_tsd = a.show_tsd;
            viz->control = a.control != NULL;
            rc = viz_app_live(viz, r, live, &opts, &err);
        }
    }
    if (rc < 0 && exit_code == 0)
        exit_code = 1;
    if (rc == 0 && a.png != NULL)
        fprintf(stderr, "greenwave-viz: wrote %s\n", a.png);
done:
    if (exit_code != 0)
        fprintf(stderr, "greenwave-viz: %s\n", err.msg[0] ? err.msg : "failed");
    viz_live_destroy(&live);
    if (zctx != NULL)
        zmq_ctx_term(zctx);
    viz_render_destroy(&r);
    viz_destroy(&viz);
    viz_render_sys_quit();
    viz_replay_destroy(&rp);
    free(map_json);
    return exit_code;
}
