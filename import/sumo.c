/*
 * import/sumo.c - SUMO XML (net, routes, additional) to a greenwave scenario (see sumo.h).
 *
 * Each file is parsed whole by libxml2 into a tree (XML_PARSE_NONET, no entity substitution,
 * big line numbers), through its own parser context whose structured-error hook records the
 * first error with its line. The net is read into flat arrays (junctions, edges, lanes,
 * connections, programs) with string tables for the ids; then:
 * - edges with no vehicle lane (footpaths) are dropped; an edge's length is the mean length of
 *   its vehicle lanes; its shape is the centre line of its vehicle lanes;
 * - connections of vehicle lanes between kept edges become movements, one per (from edge,
 *   to edge), with as many lanes as distinct from-lanes; the internal lanes (junction
 *   interiors) a movement's connections run through give its crossing_length_m (their mean
 *   length) and crossing_speed_kmh (that length over their mean time at the internal lanes'
 *   speeds), so a route is as long as in SUMO and a turn as slow;
 * - a junction crossed by traffic-light connections is signalized; its program (the last one
 *   loaded for the traffic light, additional files last) becomes groups, stages and a plan by
 *   import/sumo_tls.h; dead ends and junctions nobody crosses are boundary nodes; the rest are
 *   unsignalized (greenwave has no right of way there: noted);
 * - route files are read in order: vTypes become vehicle classes, vehicles and trips become
 *   trips (vehicles with their route), evenly spaced flows are expanded into trips with SUMO's
 *   ids (flow.i), random flows (probability, exp period) become Poisson flows, and vehicles of
 *   class emergency / authority become escorts.
 * The scenario is built as a jansson tree in input order, dumped, and loaded once by
 * scenarios/loader to prove it is valid. Everything is freed through one cleanup path.
 */
#include "import/sumo.h"

#include "import/sumo_tls.h"
#include "scenarios/loader.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHAPE_POINTS     4096
#define DETECTOR_STOP_LINE_M 10.0 /* a loop closer than this to the stop line is a stop-line loop */
#define DEFAULT_FLOW_END_S   86400.0
#define MAX_FLOW_VEHICLES    10000000L
#define MAX_INTERVALS        100000
#define JSON_FLAGS           (JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12))

/* ---- small utilities --------------------------------------------------------------- */

typedef struct {
    const char **keys;
    int *vals;
    size_t cap, len;
} strmap_t;

static size_t str_hash(const char *s) {
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

static int strmap_get(const strmap_t *m, const char *key) {
    if (m->cap == 0)
        return -1;
    for (size_t i = str_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == NULL)
            return -1;
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
    }
}

/* Stores key -> val (key must outlive the map); replaces an existing value. 0 or -1 (memory). */
static int strmap_put(strmap_t *m, const char *key, int val) {
    if (2 * (m->len + 1) > m->cap) {
        strmap_t n = {.cap = m->cap ? m->cap * 2 : 64};
        n.keys = calloc(n.cap, sizeof *n.keys);
        n.vals = calloc(n.cap, sizeof *n.vals);
        if (n.keys == NULL || n.vals == NULL) {
            free(n.keys);
            free(n.vals);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i] != NULL && strmap_put(&n, m->keys[i], m->vals[i]) < 0)
                return -1;
        free(m->keys);
        free(m->vals);
        *m = n;
    }
    for (size_t i = str_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == NULL) {
            m->keys[i] = key;
            m->vals[i] = val;
            m->len++;
            return 0;
        }
        if (strcmp(m->keys[i], key) == 0) {
            m->vals[i] = val;
            return 0;
        }
    }
}

static void strmap_fini(strmap_t *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Grows *v (element size sz) to hold n + 1 elements. 0 or -1. */
static int grow(void **v, size_t *cap, size_t n, size_t sz) {
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *nv = realloc(*v, nc * sz);
    if (nv == NULL)
        return -1;
    memset((char *)nv + *cap * sz, 0, (nc - *cap) * sz);
    *v = nv;
    *cap = nc;
    return 0;
}

#define PUSH(ctx, arr, n, cap)                                                                     \
    (grow((void **)&(arr), &(cap), (n), sizeof *(arr)) < 0 ? (oom(ctx), (void *)NULL)              \
                                                           : (void *)&(arr)[(n)++])

/* ---- model of what was read -------------------------------------------------------- */

typedef struct {
    const char *id, *type;
    double x, y;
    const char *file;
    long line;
    int node; /* output node index, -1 if not written */
} junction_t;

typedef struct {
    const char *id;
    int edge, index;
    double length, speed;
    const char *shape;
    int vehicle; /* open to vehicles */
} lane_t;

typedef struct {
    const char *id, *name;
    int from, to; /* junctions */
    int first_lane, n_lanes;
    int n_vehicle_lanes;
    long line;
    int link; /* output link index, -1 if dropped */
} edge_t;

typedef struct {
    int from_edge, to_edge, from_lane, to_lane;
    const char *dir, *tl, *state, *via;
    int link_index;
    long line;
    int movement; /* output movement index */
} conn_t;

typedef struct {
    const char *id, *program, *type, *file;
    double offset_s;
    long line;
    import_sumo_phase_t *phases;
    int n_phases;
    int used;
} tl_t;

typedef struct {
    const char *id, *cls;
    double pce, max_speed_mps, speed_factor;
    int emergency, bluelight, used;
    long line;
} vtype_t;

typedef struct {
    const char *id;
    int *edges;
    int n_edges;
} route_t;

typedef struct {
    const char *text, *where;
    int count;
} note_t;

typedef struct {
    base_arena_t a;
    base_err_t *err;
    int failed;
    const char *file; /* file being read, for messages */
    junction_t *junc;
    size_t n_junc, cap_junc;
    edge_t *edge;
    size_t n_edge, cap_edge;
    lane_t *lane;
    size_t n_lane, cap_lane;
    conn_t *conn;
    size_t n_conn, cap_conn;
    tl_t *tl;
    size_t n_tl, cap_tl;
    vtype_t *vt;
    size_t n_vt, cap_vt;
    route_t *route;
    size_t n_route, cap_route;
    note_t *note;
    size_t n_note, cap_note;
    strmap_t junc_ids, edge_ids, lane_ids, tl_ids, vt_ids, route_ids, internal_len, internal_next;
    double *internal_lens, *internal_speeds;
    size_t n_internal, cap_internal, cap_internal_speeds;
    const char **internal_ids;
    size_t n_internal_ids, cap_internal_ids;
    /* Output. */
    json_t *nodes, *links, *movements, *signals, *detectors, *trips, *flows, *escorts, *classes;
    int *move_from, *move_to; /* per movement: edge indices */
    size_t n_move, cap_move;
    strmap_t move_ids; /* "from\x1fto" -> movement */
    strmap_t det_keys; /* merged detectors */
    strmap_t demand_ids;
    long *trip_lines; /* per output trip: source line, for the loader's messages */
    const char **trip_files;
    size_t n_trip_lines, cap_trip_lines;
    double last_depart;
    int random_flows;
    int depart_rest, depart_moving; /* vehicles and flows departing at speed 0 (SUMO's default) */
    json_t *
        rflows_pending; /* random flows: [begin, end, vph, json flow] until the interval is known */
} ctx_t;

static void oom(ctx_t *c) {
    if (!c->failed)
        base_err_set(c->err, BASE_ENOMEM, "out of memory");
    c->failed = 1;
}

static int fail_at(ctx_t *c, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_at(ctx_t *c, long line, const char *fmt, ...) {
    char what[BASE_ERR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!c->failed)
        base_err_set(c->err, BASE_EINVAL, "%s:%ld: %s", c->file, line, what);
    c->failed = 1;
    return BASE_EINVAL;
}

static const char *dup(ctx_t *c, const char *s) {
    if (s == NULL)
        return NULL;
    const char *d = base_arena_strdup(&c->a, s);
    if (d == NULL)
        oom(c);
    return d;
}

/* Records one occurrence of an unmapped thing; text is a literal, where is formatted. */
static void note(ctx_t *c, const char *text, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(ctx_t *c, const char *text, const char *fmt, ...) {
    for (size_t i = 0; i < c->n_note; i++) {
        if (c->note[i].text == text || strcmp(c->note[i].text, text) == 0) {
            c->note[i].count++;
            return;
        }
    }
    char where[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(where, sizeof where, fmt, ap);
    va_end(ap);
    note_t *n = PUSH(c, c->note, c->n_note, c->cap_note);
    if (n == NULL)
        return;
    n->text = text;
    n->where = dup(c, where);
    n->count = 1;
}

/* ---- XML ----------------------------------------------------------------------------- */

typedef struct {
    char msg[512];
    int line;
    int set;
} xml_err_t;

#if LIBXML_VERSION >= 21200
static void on_xml_error(void *user, const xmlError *e) {
#else
static void on_xml_error(void *user, xmlErrorPtr e) {
#endif
    xmlParserCtxtPtr pc = user;
    xml_err_t *xe = pc ? pc->_private : NULL;
    if (xe == NULL || xe->set || e == NULL || e->level < XML_ERR_ERROR)
        return;
    snprintf(xe->msg, sizeof xe->msg, "%s", e->message ? e->message : "malformed XML");
    size_t n = strlen(xe->msg);
    while (n > 0 && (xe->msg[n - 1] == '\n' || xe->msg[n - 1] == ' '))
        xe->msg[--n] = '\0';
    xe->line = e->line;
    xe->set = 1;
}

/* Reads path into a tree; NULL with "path:line: XML error: ..." in err. */
static xmlDocPtr read_xml(ctx_t *c, const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        base_err_set(c->err, BASE_EIO, "%s: cannot open: %s", path, strerror(errno));
        c->failed = 1;
        return NULL;
    }
    fclose(f);
    xmlParserCtxtPtr pc = xmlNewParserCtxt();
    if (pc == NULL) {
        oom(c);
        return NULL;
    }
    xml_err_t xe = {.set = 0};
    pc->_private = &xe;
    pc->sax->serror = on_xml_error;
    pc->userData = pc;
    xmlDocPtr doc = xmlCtxtReadFile(pc, path, NULL,
                                    XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOERROR |
                                        XML_PARSE_NOWARNING);
    if (doc == NULL || !pc->wellFormed || xe.set) {
        if (xe.set)
            base_err_set(c->err, BASE_EPARSE, "%s:%d: XML error: %s", path, xe.line, xe.msg);
        else
            base_err_set(c->err, BASE_EPARSE, "%s: XML error: not well-formed", path);
        c->failed = 1;
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(pc);
    return doc;
}

static int is_elem(const xmlNode *n, const char *name) {
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Reads path and returns the first child of its root element (NULL for none, or on failure
 * with c->failed set); *doc is the tree to free (NULL on failure). Sets c->file. */
static xmlNode *top_elements(ctx_t *c, const char *path, xmlDocPtr *doc) {
    *doc = read_xml(c, path);
    if (*doc == NULL)
        return NULL;
    c->file = path;
    xmlNode *root = xmlDocGetRootElement(*doc);
    return root ? root->children : NULL;
}

/* An attribute copied into the arena, or NULL when absent. */
static const char *attr(ctx_t *c, xmlNode *n, const char *name) {
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (v == NULL)
        return NULL;
    const char *d = dup(c, (const char *)v);
    xmlFree(v);
    return d;
}

static const char *attr_req(ctx_t *c, xmlNode *n, const char *name) {
    const char *v = attr(c, n, name);
    if (v == NULL && !c->failed)
        fail_at(c, xmlGetLineNo(n), "<%s>: missing attribute \"%s\"", (const char *)n->name, name);
    return v;
}

/* A number attribute: def when absent; refuses non-numbers. */
static double attr_num(ctx_t *c, xmlNode *n, const char *name, double def, int required) {
    const char *v = required ? attr_req(c, n, name) : attr(c, n, name);
    if (v == NULL)
        return def;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    while (*end == ' ')
        end++;
    if (end == v || *end != '\0' || errno != 0 || !isfinite(x)) {
        fail_at(c, xmlGetLineNo(n), "<%s>: attribute %s=\"%s\" is not a number",
                (const char *)n->name, name, v);
        return def;
    }
    return x;
}

/* ---- public helpers ------------------------------------------------------------------ */

const char *import_sumo_turn(const char *dir) {
    if (dir == NULL)
        return NULL;
    if (strcmp(dir, "s") == 0)
        return "through";
    if (strcmp(dir, "l") == 0 || strcmp(dir, "L") == 0)
        return "left";
    if (strcmp(dir, "r") == 0 || strcmp(dir, "R") == 0)
        return "right";
    if (strcmp(dir, "t") == 0)
        return "uturn";
    return NULL;
}

int import_sumo_parse_shape(const char *s, double *xy, int max_points) {
    int n = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (n >= max_points)
            return -1;
        char *end;
        double x = strtod(p, &end);
        if (end == p || *end != ',')
            return -1;
        p = end + 1;
        double y = strtod(p, &end);
        if (end == p || !isfinite(x) || !isfinite(y))
            return -1;
        p = end;
        if (*p == ',') { /* z */
            p++;
            strtod(p, &end);
            if (end == p)
                return -1;
            p = end;
        }
        if (*p != ' ' && *p != '\0')
            return -1;
        xy[2 * n] = x;
        xy[2 * n + 1] = y;
        n++;
    }
    return n;
}

int import_sumo_speed_factor(const char *s, double *mean) {
    char *end;
    const char *p = s;
    if (strncmp(p, "normc(", 6) == 0)
        p += 6;
    else if (strncmp(p, "norm(", 5) == 0)
        p += 5;
    double x = strtod(p, &end);
    if (end == p || !isfinite(x) || !(x > 0))
        return -1;
    if (p != s ? (*end != ',' && *end != ')') : *end != '\0')
        return -1;
    *mean = x;
    return 0;
}

long import_sumo_flow_departs(double begin_s, double end_s, double period_s, long number,
                              double *departs, long max) {
    long n = 0;
    for (long i = 0; number < 0 || i < number; i++) {
        double t = begin_s + (double)i * period_s;
        if (t >= end_s || n >= MAX_FLOW_VEHICLES)
            break;
        if (departs != NULL && n < max)
            departs[n] = t;
        n++;
    }
    return n;
}

/* ---- the net ------------------------------------------------------------------------- */

static int vehicle_lane(const char *allow, const char *disallow) {
    static const char *const road[] = {"passenger",  "private",  "bus",   "emergency", "authority",
                                       "taxi",       "delivery", "truck", "trailer",   "coach",
                                       "motorcycle", "evehicle", "all",   NULL};
    if (allow != NULL) {
        for (const char *const *r = road; *r; r++)
            if (strstr(allow, *r) != NULL)
                return 1;
        return 0;
    }
    return disallow == NULL ||
           (strstr(disallow, "passenger") == NULL && strcmp(disallow, "all") != 0);
}

static int read_junction(ctx_t *c, xmlNode *n) {
    const char *id = attr_req(c, n, "id");
    const char *type = attr(c, n, "type");
    if (c->failed)
        return -1;
    if (type != NULL && strcmp(type, "internal") == 0)
        return 0;
    junction_t *j = PUSH(c, c->junc, c->n_junc, c->cap_junc);
    if (j == NULL)
        return -1;
    j->id = id;
    j->type = type ? type : "priority";
    j->x = attr_num(c, n, "x", 0, 1);
    j->y = attr_num(c, n, "y", 0, 1);
    j->line = xmlGetLineNo(n);
    j->node = -1;
    if (strmap_get(&c->junc_ids, id) >= 0)
        return fail_at(c, j->line, "duplicate junction id \"%s\"", id);
    if (strmap_put(&c->junc_ids, id, (int)(c->n_junc - 1)) < 0)
        oom(c);
    return c->failed ? -1 : 0;
}

static int read_internal_edge(ctx_t *c, xmlNode *n) {
    for (xmlNode *ln = n->children; ln; ln = ln->next) {
        if (!is_elem(ln, "lane"))
            continue;
        const char *id = attr_req(c, ln, "id");
        double len = attr_num(c, ln, "length", 0, 1);
        double speed = attr_num(c, ln, "speed", 0, 1);
        if (c->failed)
            return -1;
        if (!(len >= 0) || !(speed > 0))
            return fail_at(c, xmlGetLineNo(ln),
                           "internal lane \"%s\": length must be >= 0 and speed > 0", id);
        size_t ns = c->n_internal;
        double *sp = PUSH(c, c->internal_speeds, ns, c->cap_internal_speeds);
        if (sp == NULL)
            return -1;
        *sp = speed;
        double *slot = PUSH(c, c->internal_lens, c->n_internal, c->cap_internal);
        if (slot == NULL)
            return -1;
        *slot = len;
        const char **ids = PUSH(c, c->internal_ids, c->n_internal_ids, c->cap_internal_ids);
        if (ids == NULL)
            return -1;
        *ids = id;
        if (strmap_put(&c->internal_len, id, (int)(c->n_internal - 1)) < 0)
            oom(c);
        note(c,
             "internal lanes (junction interiors) are not links: their length and speed become "
             "the crossing of the movements through them",
             "%s:%ld", c->file, (long)xmlGetLineNo(ln));
    }
    return c->failed ? -1 : 0;
}

static int read_edge(ctx_t *c, xmlNode *n) {
    const char *function = attr(c, n, "function");
    if (function != NULL && strcmp(function, "internal") == 0)
        return read_internal_edge(c, n);
    long line = xmlGetLineNo(n);
    if (function != NULL &&
        (strcmp(function, "crossing") == 0 || strcmp(function, "walkingarea") == 0)) {
        note(c, "pedestrian crossings and walking areas are not modelled", "%s:%ld", c->file, line);
        return 0;
    }
    const char *id = attr_req(c, n, "id");
    const char *from = attr_req(c, n, "from");
    const char *to = attr_req(c, n, "to");
    if (c->failed)
        return -1;
    edge_t *e = PUSH(c, c->edge, c->n_edge, c->cap_edge);
    if (e == NULL)
        return -1;
    int ei = (int)(c->n_edge - 1);
    e->id = id;
    e->name = attr(c, n, "name");
    e->line = line;
    e->link = -1;
    e->from = strmap_get(&c->junc_ids, from);
    e->to = strmap_get(&c->junc_ids, to);
    if (e->from < 0)
        return fail_at(c, line, "edge \"%s\": unknown junction from=\"%s\"", id, from);
    if (e->to < 0)
        return fail_at(c, line, "edge \"%s\": unknown junction to=\"%s\"", id, to);
    if (strmap_get(&c->edge_ids, id) >= 0)
        return fail_at(c, line, "duplicate edge id \"%s\"", id);
    if (strmap_put(&c->edge_ids, id, ei) < 0)
        return oom(c), -1;
    e->first_lane = (int)c->n_lane;
    for (xmlNode *ln = n->children; ln; ln = ln->next) {
        if (!is_elem(ln, "lane"))
            continue;
        lane_t *l = PUSH(c, c->lane, c->n_lane, c->cap_lane);
        if (l == NULL)
            return -1;
        l->id = attr_req(c, ln, "id");
        l->edge = ei;
        l->index = (int)attr_num(c, ln, "index", 0, 1);
        l->speed = attr_num(c, ln, "speed", 0, 1);
        l->length = attr_num(c, ln, "length", 0, 1);
        l->shape = attr(c, ln, "shape");
        l->vehicle = vehicle_lane(attr(c, ln, "allow"), attr(c, ln, "disallow"));
        if (c->failed)
            return -1;
        if (l->index != c->edge[ei].n_lanes)
            return fail_at(c, xmlGetLineNo(ln), "lane \"%s\": index %d out of order", l->id,
                           l->index);
        if (!(l->length > 0) || !(l->speed > 0))
            return fail_at(c, xmlGetLineNo(ln), "lane \"%s\": length and speed must be > 0", l->id);
        if (strmap_put(&c->lane_ids, l->id, (int)(c->n_lane - 1)) < 0)
            return oom(c), -1;
        c->edge[ei].n_lanes++;
        c->edge[ei].n_vehicle_lanes += l->vehicle;
    }
    if (c->edge[ei].n_lanes == 0)
        return fail_at(c, line, "edge \"%s\" has no <lane>", id);
    return 0;
}

static int read_tl(ctx_t *c, xmlNode *n) {
    const char *id = attr_req(c, n, "id");
    if (c->failed)
        return -1;
    tl_t *t = PUSH(c, c->tl, c->n_tl, c->cap_tl);
    if (t == NULL)
        return -1;
    t->id = id;
    t->program = attr(c, n, "programID");
    t->type = attr(c, n, "type");
    t->offset_s = attr_num(c, n, "offset", 0, 0);
    t->file = c->file;
    t->line = xmlGetLineNo(n);
    if (t->type == NULL)
        t->type = "static";
    int np = 0;
    for (xmlNode *p = n->children; p; p = p->next)
        np += is_elem(p, "phase");
    if (np == 0)
        return fail_at(c, t->line, "tlLogic \"%s\" has no <phase>", id);
    t->phases = base_arena_calloc(&c->a, (size_t)np, sizeof *t->phases);
    if (t->phases == NULL)
        return oom(c), -1;
    for (xmlNode *p = n->children; p; p = p->next) {
        if (!is_elem(p, "phase"))
            continue;
        import_sumo_phase_t *ph = &t->phases[t->n_phases++];
        double d = attr_num(c, p, "duration", 0, 1);
        double mn = attr_num(c, p, "minDur", -1, 0);
        double mx = attr_num(c, p, "maxDur", -1, 0);
        ph->state = attr_req(c, p, "state");
        if (c->failed)
            return -1;
        if (!(d > 0))
            return fail_at(c, xmlGetLineNo(p), "phase duration must be > 0, got %g", d);
        ph->dur_ms = (int64_t)llround(d * 1000);
        ph->min_ms = mn >= 0 ? (int64_t)llround(mn * 1000) : -1;
        ph->max_ms = mx >= 0 ? (int64_t)llround(mx * 1000) : -1;
    }
    if (strcmp(t->type, "static") != 0 && strcmp(t->type, "actuated") != 0)
        note(c,
             "traffic-light types other than static and actuated run as fixed-time plans of "
             "their phase durations",
             "%s:%ld: tlLogic \"%s\" type \"%s\"", c->file, t->line, id, t->type);
    int prev = strmap_get(&c->tl_ids, id);
    if (prev >= 0)
        note(c, "a traffic light with several programs runs the last one loaded",
             "%s:%ld: tlLogic \"%s\" program \"%s\"", c->file, t->line, id,
             t->program ? t->program : "");
    if (strmap_put(&c->tl_ids, id, (int)(c->n_tl - 1)) < 0)
        return oom(c), -1;
    return 0;
}

static int read_connection(ctx_t *c, xmlNode *n) {
    const char *from = attr_req(c, n, "from");
    const char *to = attr_req(c, n, "to");
    if (c->failed)
        return -1;
    long line = xmlGetLineNo(n);
    if (from[0] == ':') { /* inside a junction: chains internal lanes */
        const char *via = attr(c, n, "via");
        const char *fl = attr(c, n, "fromLane");
        if (via != NULL && fl != NULL) {
            char key[512];
            snprintf(key, sizeof key, "%s_%s", from, fl);
            const char *k = dup(c, key);
            int vi = strmap_get(&c->internal_len, via);
            if (k != NULL && vi >= 0 && strmap_put(&c->internal_next, k, vi) < 0)
                oom(c);
        }
        return c->failed ? -1 : 0;
    }
    conn_t *k = PUSH(c, c->conn, c->n_conn, c->cap_conn);
    if (k == NULL)
        return -1;
    k->line = line;
    k->from_edge = strmap_get(&c->edge_ids, from);
    k->to_edge = strmap_get(&c->edge_ids, to);
    k->from_lane = (int)attr_num(c, n, "fromLane", 0, 1);
    k->to_lane = (int)attr_num(c, n, "toLane", 0, 1);
    k->dir = attr(c, n, "dir");
    k->tl = attr(c, n, "tl");
    k->state = attr(c, n, "state");
    k->via = attr(c, n, "via");
    k->link_index = (int)attr_num(c, n, "linkIndex", -1, 0);
    k->movement = -1;
    if (c->failed)
        return -1;
    if (k->from_edge < 0)
        return fail_at(c, line, "connection from unknown edge \"%s\" (to \"%s\")", from, to);
    if (k->to_edge < 0 && to[0] != ':') /* ':': a crossing or walking area, skipped with them */
        return fail_at(c, line, "connection from \"%s\" to unknown edge \"%s\"", from, to);
    if (k->from_edge >= 0 && (k->from_lane < 0 || k->from_lane >= c->edge[k->from_edge].n_lanes))
        return fail_at(c, line, "connection from lane %d of edge \"%s\", which has %d lane(s)",
                       k->from_lane, from, c->edge[k->from_edge].n_lanes);
    if (k->to_edge >= 0 && (k->to_lane < 0 || k->to_lane >= c->edge[k->to_edge].n_lanes))
        return fail_at(c, line, "connection to lane %d of edge \"%s\", which has %d lane(s)",
                       k->to_lane, to, c->edge[k->to_edge].n_lanes);
    return 0;
}

static int read_net(ctx_t *c, const char *path) {
    xmlDocPtr doc = read_xml(c, path);
    if (doc == NULL)
        return -1;
    c->file = path;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root == NULL || !is_elem(root, "net")) {
        fail_at(c, root ? xmlGetLineNo(root) : 1, "root element is <%s>, expected <net>",
                root ? (const char *)root->name : "");
        xmlFreeDoc(doc);
        return -1;
    }
    /* Junctions first: edges refer to them but come before them in the file. */
    for (xmlNode *n = root->children; n && !c->failed; n = n->next)
        if (is_elem(n, "junction"))
            read_junction(c, n);
    for (xmlNode *n = root->children; n && !c->failed; n = n->next) {
        if (is_elem(n, "edge"))
            read_edge(c, n);
        else if (is_elem(n, "tlLogic"))
            read_tl(c, n);
        else if (is_elem(n, "roundabout"))
            note(c,
                 "roundabouts are rings of unsignalized nodes: entering traffic does not yield "
                 "to the ring",
                 "%s:%ld", path, (long)xmlGetLineNo(n));
        else if (is_elem(n, "prohibition"))
            note(c, "prohibitions (right-of-way overrides) are not modelled", "%s:%ld", path,
                 (long)xmlGetLineNo(n));
    }
    for (xmlNode *n = root->children; n && !c->failed; n = n->next)
        if (is_elem(n, "connection"))
            read_connection(c, n);
    xmlFreeDoc(doc);
    return c->failed ? -1 : 0;
}

/* ---- additional files: programs and detectors ------------------------------------------ */

typedef struct {
    const char *id;
    int lane;
    double pos;
    long line;
    const char *file;
} det_t;

static int read_additional(ctx_t *c, const char *path, det_t **dets, size_t *n_det,
                           size_t *cap_det) {
    xmlDocPtr doc;
    for (xmlNode *n = top_elements(c, path, &doc); n && !c->failed; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        long line = xmlGetLineNo(n);
        if (is_elem(n, "tlLogic")) {
            read_tl(c, n);
        } else if (is_elem(n, "e1Detector") || is_elem(n, "inductionLoop")) {
            const char *id = attr_req(c, n, "id");
            const char *lane = attr_req(c, n, "lane");
            double pos = attr_num(c, n, "pos", 0, 1);
            if (c->failed)
                break;
            int li = strmap_get(&c->lane_ids, lane);
            if (li < 0) {
                fail_at(c, line, "detector \"%s\": unknown lane \"%s\"", id, lane);
                break;
            }
            det_t *d = PUSH(c, *dets, *n_det, *cap_det);
            if (d == NULL)
                break;
            *d = (det_t){.id = id, .lane = li, .pos = pos, .line = line, .file = path};
        } else if (is_elem(n, "e2Detector") || is_elem(n, "laneAreaDetector") ||
                   is_elem(n, "e3Detector") || is_elem(n, "entryExitDetector")) {
            note(c, "area (e2) and entry-exit (e3) detectors are not mapped (greenwave has loops)",
                 "%s:%ld", path, line);
        } else if (!is_elem(n, "param") && !is_elem(n, "location")) {
            note(c, "other additional elements are ignored", "%s:%ld: <%s>", path, line,
                 (const char *)n->name);
        }
    }
    xmlFreeDoc(doc);
    return c->failed ? -1 : 0;
}

/* ---- network output -------------------------------------------------------------------- */

static int jset(ctx_t *c, json_t *o, const char *k, json_t *v) {
    if (v == NULL || json_object_set_new(o, k, v) < 0) {
        oom(c);
        return -1;
    }
    return 0;
}

static int jpush(ctx_t *c, json_t *a, json_t *v) {
    if (v == NULL || json_array_append_new(a, v) < 0) {
        oom(c);
        return -1;
    }
    return 0;
}

static json_t *jsec(int64_t ms) {
    return json_real((double)ms / 1000.0);
}

/* Length (m) of the internal lanes a connection runs through (a chain: via, then the internal
 * lane's own via) and the time (s) to drive them at their speeds; both 0 without via. */
static void via_chain(ctx_t *c, const conn_t *k, double *len, double *time) {
    *len = *time = 0;
    if (k->via == NULL)
        return;
    int i = strmap_get(&c->internal_len, k->via);
    for (int steps = 0; i >= 0 && steps < 8; steps++) {
        *len += c->internal_lens[i];
        *time += c->internal_lens[i] / c->internal_speeds[i];
        /* The via lane's onward via is keyed by its lane id. */
        i = strmap_get(&c->internal_next, c->internal_ids[i]);
    }
}

/* The centre line of an edge's vehicle lanes as a JSON array of [x, y], or NULL (not drawn
 * from a shape) when the lanes have no usable shape. */
static json_t *edge_shape(ctx_t *c, const edge_t *e) {
    static const int cap = MAX_SHAPE_POINTS;
    double *xy = malloc(2 * (size_t)cap * sizeof *xy);
    double *acc = malloc(2 * (size_t)cap * sizeof *acc);
    json_t *out = NULL;
    int n0 = -1, used = 0, mid = -1, k = 0;
    if (xy == NULL || acc == NULL) {
        oom(c);
        goto done;
    }
    for (int i = 0; i < e->n_lanes; i++)
        if (c->lane[e->first_lane + i].vehicle && k++ == e->n_vehicle_lanes / 2)
            mid = e->first_lane + i;
    for (int i = 0; i < e->n_lanes; i++) {
        const lane_t *l = &c->lane[e->first_lane + i];
        if (!l->vehicle)
            continue;
        int n = l->shape ? import_sumo_parse_shape(l->shape, xy, cap) : -1;
        if (n < 2) {
            note(c, "lanes without a readable shape are drawn straight", "%s:%ld: lane \"%s\"",
                 c->file, e->line, l->id);
            goto done;
        }
        if (n0 < 0) {
            n0 = n;
            memset(acc, 0, 2 * (size_t)n * sizeof *acc);
        }
        if (n != n0) { /* lanes of different point counts: take the middle lane */
            used = -1;
            break;
        }
        for (int p = 0; p < 2 * n; p++)
            acc[p] += xy[p];
        used++;
    }
    if (used < 0) {
        int n = import_sumo_parse_shape(c->lane[mid].shape, acc, cap);
        if (n < 2)
            goto done;
        n0 = n;
        used = 1;
    }
    if (used <= 0)
        goto done;
    out = json_array();
    for (int p = 0; out && p < n0; p++) {
        json_t *pt = json_pack("[ff]", round(acc[2 * p] / used * 100) / 100,
                               round(acc[2 * p + 1] / used * 100) / 100);
        if (jpush(c, out, pt) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
done:
    free(xy);
    free(acc);
    return out;
}

static int movement_of(ctx_t *c, int from, int to) {
    char key[1024];
    snprintf(key, sizeof key, "%s\x1f%s", c->edge[from].id, c->edge[to].id);
    return strmap_get(&c->move_ids, key);
}

/* Builds links and movements (connections grouped by edge pair). */
static int build_links(ctx_t *c) {
    int nl = 0;
    for (size_t i = 0; i < c->n_edge; i++) {
        edge_t *e = &c->edge[i];
        if (e->n_vehicle_lanes == 0) {
            note(c, "edges without a vehicle lane (footpaths, cycle paths) are left out",
                 "%s:%ld: edge \"%s\"", c->file, e->line, e->id);
            continue;
        }
        if (e->n_vehicle_lanes < e->n_lanes)
            note(c, "lanes closed to vehicles (sidewalks, bike lanes) are not counted",
                 "%s:%ld: edge \"%s\"", c->file, e->line, e->id);
        double len = 0, speed = 0;
        for (int l = 0; l < e->n_lanes; l++) {
            const lane_t *ln = &c->lane[e->first_lane + l];
            if (!ln->vehicle)
                continue;
            len += ln->length;
            if (ln->speed > speed)
                speed = ln->speed;
        }
        len /= e->n_vehicle_lanes;
        e->link = nl++;
        json_t *o = json_object();
        if (o == NULL || jpush(c, c->links, o) < 0 || jset(c, o, "id", json_string(e->id)) < 0)
            return -1;
        if (e->name && e->name[0] && jset(c, o, "name", json_string(e->name)) < 0)
            return -1;
        json_t *shape = edge_shape(c, e);
        if (c->failed)
            return -1;
        if (jset(c, o, "from", json_string(c->junc[e->from].id)) < 0 ||
            jset(c, o, "to", json_string(c->junc[e->to].id)) < 0 ||
            jset(c, o, "length_m", json_real(round(len * 100) / 100)) < 0 ||
            jset(c, o, "lanes", json_integer(e->n_vehicle_lanes)) < 0 ||
            jset(c, o, "free_speed_kmh", json_real(round(speed * 3.6 * 1000) / 1000)) < 0)
            return -1;
        if (shape != NULL && jset(c, o, "shape", shape) < 0)
            return -1;
    }
    /* Movements in connection order. */
    for (size_t i = 0; i < c->n_conn; i++) {
        conn_t *k = &c->conn[i];
        if (k->from_edge < 0 || k->to_edge < 0 || c->edge[k->from_edge].link < 0 ||
            c->edge[k->to_edge].link < 0)
            continue;
        const lane_t *fl = &c->lane[c->edge[k->from_edge].first_lane + k->from_lane];
        const lane_t *tl = &c->lane[c->edge[k->to_edge].first_lane + k->to_lane];
        if (!fl->vehicle || !tl->vehicle)
            continue;
        int m = movement_of(c, k->from_edge, k->to_edge);
        if (m >= 0) {
            k->movement = m;
            continue;
        }
        const char *turn = import_sumo_turn(k->dir);
        if (turn == NULL) {
            if (k->dir == NULL)
                turn = "through";
            else
                return fail_at(c, k->line, "connection from \"%s\" to \"%s\": unknown dir \"%s\"",
                               c->edge[k->from_edge].id, c->edge[k->to_edge].id, k->dir);
        }
        char key[1024];
        snprintf(key, sizeof key, "%s\x1f%s", c->edge[k->from_edge].id, c->edge[k->to_edge].id);
        const char *kd = dup(c, key);
        m = (int)c->n_move;
        int *slot = PUSH(c, c->move_from, c->n_move, c->cap_move);
        if (slot == NULL || kd == NULL)
            return -1;
        int *nt = realloc(c->move_to, c->cap_move * sizeof *nt);
        if (nt == NULL)
            return oom(c), -1;
        c->move_to = nt;
        *slot = k->from_edge;
        c->move_to[m] = k->to_edge;
        if (strmap_put(&c->move_ids, kd, m) < 0)
            return oom(c), -1;
        k->movement = m;
    }
    for (int m = 0; m < (int)c->n_move; m++) {
        /* Lanes: distinct from-lanes; turn and state of the first connection; the crossing:
         * the mean length and mean time of the connections' internal lanes. */
        int lanes = 0, n_conn = 0;
        double cross_len = 0, cross_time = 0;
        const conn_t *first = NULL;
        uint64_t seen = 0;
        for (size_t i = 0; i < c->n_conn; i++) {
            const conn_t *k = &c->conn[i];
            if (k->movement != m)
                continue;
            if (first == NULL)
                first = k;
            double len, time;
            via_chain(c, k, &len, &time);
            cross_len += len;
            cross_time += time;
            n_conn++;
            if (k->from_lane < 64 && !(seen & (UINT64_C(1) << k->from_lane))) {
                seen |= UINT64_C(1) << k->from_lane;
                lanes++;
            }
        }
        const edge_t *fe = &c->edge[c->move_from[m]];
        const edge_t *te = &c->edge[c->move_to[m]];
        const char *turn = import_sumo_turn(first->dir);
        if (turn == NULL)
            turn = "through";
        if (lanes > fe->n_vehicle_lanes)
            lanes = fe->n_vehicle_lanes;
        /* Saturation factors as greenwave-gen-grid: right turns 0.9; lefts 0.9 when they have
         * priority, 0.5 when they yield (SUMO's link state in lower case: 'o' under a traffic
         * light that lets them go with 'g', 'm' minor, '=' all-way stop ...); U-turns 0.5. */
        double sat = 1.0;
        int yields = first->state && islower((unsigned char)first->state[0]);
        if (strcmp(turn, "right") == 0)
            sat = 0.9;
        else if (strcmp(turn, "left") == 0)
            sat = yields ? 0.5 : 0.9;
        else if (strcmp(turn, "uturn") == 0)
            sat = 0.5;
        char id[1024];
        snprintf(id, sizeof id, "%s>%s", fe->id, te->id);
        json_t *o = json_object();
        if (o == NULL || jpush(c, c->movements, o) < 0 || jset(c, o, "id", json_string(id)) < 0 ||
            jset(c, o, "from", json_string(fe->id)) < 0 ||
            jset(c, o, "to", json_string(te->id)) < 0 ||
            jset(c, o, "turn", json_string(turn)) < 0 ||
            jset(c, o, "lanes", json_integer(lanes)) < 0 ||
            (sat < 1.0 && jset(c, o, "sat_factor", json_real(sat)) < 0))
            return -1;
        cross_len = round(cross_len / n_conn * 100) / 100;
        if (cross_len > 0 && cross_time > 0) {
            /* The speed that crosses the mean length in the mean time, >= 1 km/h (a slower
             * internal lane is noted and crossed at 1 km/h). */
            double kmh = round(cross_len / (cross_time / n_conn) * 3.6 * 1000) / 1000;
            if (kmh < 1.0) {
                note(c, "junction crossings slower than 1 km/h are crossed at 1 km/h", "%s:%ld",
                     c->file, first->line);
                kmh = 1.0;
            }
            if (cross_len > 1000.0)
                return fail_at(c, first->line,
                               "connection from \"%s\" to \"%s\": its internal lanes are %.1f m "
                               "long (at most 1000 m)",
                               fe->id, te->id, cross_len);
            if (jset(c, o, "crossing_length_m", json_real(cross_len)) < 0 ||
                jset(c, o, "crossing_speed_kmh", json_real(kmh)) < 0)
                return -1;
        }
    }
    return c->failed ? -1 : 0;
}

/* The signal of junction j: its traffic-light connections mapped through the program. */
static int build_signal(ctx_t *c, int j, const char *tl_id, long line) {
    int ti = strmap_get(&c->tl_ids, tl_id);
    if (ti < 0)
        return fail_at(c, line,
                       "junction \"%s\": traffic light \"%s\" has no program (no <tlLogic "
                       "id=\"%s\"> in the net or the --tls files)",
                       c->junc[j].id, tl_id, tl_id);
    tl_t *t = &c->tl[ti];
    t->used = 1;
    size_t len = strlen(t->phases[0].state);
    for (int p = 1; p < t->n_phases; p++)
        if (strlen(t->phases[p].state) != len) {
            const char *f = c->file;
            c->file = t->file;
            fail_at(c, t->line, "tlLogic \"%s\": phases have states of different lengths", t->id);
            c->file = f;
            return -1;
        }
    /* Local movement numbering: the node's movements in output order. */
    int *local = malloc((c->n_move + 1) * sizeof *local);
    int *global = malloc((c->n_move + 1) * sizeof *global);
    int *link_movement = malloc((len + 1) * sizeof *link_movement);
    int nm = 0, rc = -1, uncontrolled = 0;
    import_sumo_tls_t map = {0};
    json_t *sig = NULL;
    if (!local || !global || !link_movement) {
        oom(c);
        goto done;
    }
    for (size_t i = 0; i < len; i++)
        link_movement[i] = -1;
    for (size_t m = 0; m < c->n_move; m++) {
        local[m] = -1;
        if (c->edge[c->move_from[m]].to == j) {
            local[m] = nm;
            global[nm++] = (int)m;
        }
    }
    for (size_t i = 0; i < c->n_conn; i++) {
        const conn_t *k = &c->conn[i];
        if (k->movement < 0 || local[k->movement] < 0)
            continue;
        if (k->tl == NULL || strcmp(k->tl, tl_id) != 0) {
            uncontrolled = 1;
            continue;
        }
        if (k->link_index < 0 || (size_t)k->link_index >= len) {
            fail_at(c, k->line,
                    "connection from \"%s\" to \"%s\": linkIndex %d, but program \"%s\" of "
                    "traffic light \"%s\" has states of %zu links",
                    c->edge[k->from_edge].id, c->edge[k->to_edge].id, k->link_index,
                    t->program ? t->program : "", tl_id, len);
            goto done;
        }
        link_movement[k->link_index] = local[k->movement];
    }
    base_err_t why;
    if (import_sumo_tls_map(t->phases, t->n_phases, link_movement, (int)len, nm, &map, &why) < 0) {
        const char *f = c->file;
        c->file = t->file;
        fail_at(c, t->line, "tlLogic \"%s\" at junction \"%s\": %s", t->id, c->junc[j].id, why.msg);
        c->file = f;
        goto done;
    }
    if (map.mixed_movements)
        note(c, "lanes of one movement with different signal states take the first lane's",
             "%s:%ld: tlLogic \"%s\"", t->file, t->line, t->id);
    if (map.uneven_clearance)
        note(c, "a group's yellow and red clearance differ between its ends: the longest is used",
             "%s:%ld: tlLogic \"%s\"", t->file, t->line, t->id);
    if (map.no_yellow)
        note(c, "a group that ends without yellow gets a 1 ms yellow", "%s:%ld: tlLogic \"%s\"",
             t->file, t->line, t->id);
    if (strcmp(t->type, "actuated") == 0)
        note(c,
             "actuated programs run as fixed-time plans of their phase durations (min/max "
             "green kept for --strategy actuated)",
             "%s:%ld: tlLogic \"%s\"", t->file, t->line, t->id);
    int ng = map.n_groups;
    if (uncontrolled) {
        if (ng >= IMPORT_TLS_MAX_GROUPS) {
            fail_at(c, line, "junction \"%s\": too many signal groups", c->junc[j].id);
            goto done;
        }
        note(c,
             "movements at a signalized junction without a signal get a group green in every "
             "stage",
             "%s:%ld: junction \"%s\"", c->file, line, c->junc[j].id);
    }
    sig = json_object();
    json_t *groups = json_array(), *conflicts = json_array(), *stages = json_array();
    json_t *plans = json_array(), *sched = json_array();
    if (sig == NULL || jset(c, sig, "node", json_string(c->junc[j].id)) < 0 ||
        jset(c, sig, "groups", groups) < 0 || jset(c, sig, "conflicts", conflicts) < 0 ||
        jset(c, sig, "stages", stages) < 0 || jset(c, sig, "plans", plans) < 0 ||
        jset(c, sig, "schedule", sched) < 0)
        goto done;
    for (int g = 0; g < ng + uncontrolled; g++) {
        char gid[32];
        snprintf(gid, sizeof gid, "g%d", g + 1);
        json_t *go = json_object(), *mv = json_array();
        if (jpush(c, groups, go) < 0 || jset(c, go, "id", json_string(gid)) < 0 ||
            jset(c, go, "movements", mv) < 0)
            goto done;
        for (int m = 0; m < nm; m++) {
            int in = g < ng ? map.movement_group[m] == g : 0;
            if (g == ng) { /* the always-green group: movements without this traffic light */
                in = 1;
                for (size_t i = 0; i < c->n_conn && in; i++)
                    if (c->conn[i].movement == global[m] && c->conn[i].tl != NULL &&
                        strcmp(c->conn[i].tl, tl_id) == 0)
                        in = 0;
            }
            if (in) {
                char id[1024];
                snprintf(id, sizeof id, "%s>%s", c->edge[c->move_from[global[m]]].id,
                         c->edge[c->move_to[global[m]]].id);
                if (jpush(c, mv, json_string(id)) < 0)
                    goto done;
            }
        }
        const import_sumo_tls_group_t *gr = &map.groups[g < ng ? g : 0];
        int64_t gmin = gr->min_ms, gmax = gr->max_ms, y = gr->yellow_ms, r = gr->red_ms;
        if (g == ng) {
            gmin = INT64_MAX;
            for (int k = 0; k < map.n_stages; k++) {
                int64_t green = map.split_ms[k] - import_sumo_tls_intergreen(&map, k);
                if (green < gmin)
                    gmin = green;
            }
            gmax = gmin;
            y = 1;
            r = 0;
        }
        if (jset(c, go, "min_green_s", jsec(gmin)) < 0 ||
            jset(c, go, "max_green_s", jsec(gmax)) < 0 || jset(c, go, "yellow_s", jsec(y)) < 0 ||
            jset(c, go, "red_clearance_s", jsec(r)) < 0)
            goto done;
    }
    for (int a = 0; a < ng; a++)
        for (int b = a + 1; b < ng; b++)
            if (map.conflicts[a] & (UINT64_C(1) << b)) {
                char ga[32], gb[32];
                snprintf(ga, sizeof ga, "g%d", a + 1);
                snprintf(gb, sizeof gb, "g%d", b + 1);
                if (jpush(c, conflicts, json_pack("[ss]", ga, gb)) < 0)
                    goto done;
            }
    json_t *splits = json_array();
    for (int k = 0; k < map.n_stages; k++) {
        char sid[32];
        snprintf(sid, sizeof sid, "s%d", k + 1);
        json_t *so = json_object(), *sg = json_array();
        if (jpush(c, stages, so) < 0 || jset(c, so, "id", json_string(sid)) < 0 ||
            jset(c, so, "groups", sg) < 0 || jpush(c, splits, jsec(map.split_ms[k])) < 0)
            goto done;
        for (int g = 0; g < ng + uncontrolled; g++) {
            if (g < ng && !(map.stage_groups[k] & (UINT64_C(1) << g)))
                continue;
            char gid[32];
            snprintf(gid, sizeof gid, "g%d", g + 1);
            if (jpush(c, sg, json_string(gid)) < 0)
                goto done;
        }
    }
    /* SUMO: the first phase starts at time offset; stage 1 starts start_ms into the program. */
    int64_t off = ((int64_t)llround(t->offset_s * 1000) + map.start_ms) % map.cycle_ms;
    if (off < 0)
        off += map.cycle_ms;
    json_t *plan = json_object();
    if (jpush(c, plans, plan) < 0 ||
        jset(c, plan, "id", json_string(t->program && t->program[0] ? t->program : "0")) < 0 ||
        jset(c, plan, "cycle_s", jsec(map.cycle_ms)) < 0 ||
        jset(c, plan, "offset_s", jsec(off)) < 0 || jset(c, plan, "splits_s", splits) < 0 ||
        jpush(c, sched,
              json_pack("{ssss}", "from", "00:00", "plan",
                        t->program && t->program[0] ? t->program : "0")) < 0)
        goto done;
    if (jpush(c, c->signals, sig) < 0) {
        sig = NULL;
        goto done;
    }
    sig = NULL;
    rc = 0;
done:
    json_decref(sig);
    import_sumo_tls_fini(&map);
    free(local);
    free(global);
    free(link_movement);
    return rc;
}

static int build_nodes(ctx_t *c) {
    int *through = calloc(c->n_junc + 1, sizeof *through);
    const char **tl = calloc(c->n_junc + 1, sizeof *tl);
    long *tl_line = calloc(c->n_junc + 1, sizeof *tl_line);
    int *touched = calloc(c->n_junc + 1, sizeof *touched);
    int rc = -1;
    if (!through || !tl || !tl_line || !touched) {
        oom(c);
        goto done;
    }
    for (size_t i = 0; i < c->n_edge; i++)
        if (c->edge[i].link >= 0)
            touched[c->edge[i].from] = touched[c->edge[i].to] = 1;
    for (size_t i = 0; i < c->n_conn; i++) {
        const conn_t *k = &c->conn[i];
        if (k->movement < 0)
            continue;
        int j = c->edge[k->from_edge].to;
        through[j] = 1;
        if (k->tl != NULL && tl[j] == NULL) {
            tl[j] = k->tl;
            tl_line[j] = k->line;
        } else if (k->tl != NULL && strcmp(k->tl, tl[j]) != 0) {
            note(c, "a junction under two traffic lights keeps the first", "%s:%ld", c->file,
                 k->line);
        }
    }
    int n = 0;
    for (size_t j = 0; j < c->n_junc; j++) {
        junction_t *ju = &c->junc[j];
        if (!touched[j])
            continue;
        const char *kind = "unsignalized";
        if (tl[j] != NULL)
            kind = "signalized";
        else if (!through[j] || strcmp(ju->type, "dead_end") == 0)
            kind = "boundary";
        else if (strcmp(ju->type, "priority") == 0 || strcmp(ju->type, "right_before_left") == 0 ||
                 strcmp(ju->type, "allway_stop") == 0 || strcmp(ju->type, "priority_stop") == 0 ||
                 strcmp(ju->type, "zipper") == 0 || strcmp(ju->type, "left_before_right") == 0)
            note(c,
                 "right of way at unsignalized junctions (priority, right-before-left, stop, "
                 "zipper) is not modelled: movements there are uncontrolled merges",
                 "%s:%ld: junction \"%s\" type \"%s\"", c->file, ju->line, ju->id, ju->type);
        else if (strcmp(ju->type, "traffic_light_unregulated") == 0 ||
                 strcmp(ju->type, "traffic_light") == 0)
            note(c, "traffic-light junctions whose connections have no signal are unsignalized",
                 "%s:%ld: junction \"%s\"", c->file, ju->line, ju->id);
        ju->node = n++;
        json_t *o = json_object();
        if (o == NULL || jpush(c, c->nodes, o) < 0 || jset(c, o, "id", json_string(ju->id)) < 0 ||
            jset(c, o, "kind", json_string(kind)) < 0 ||
            jset(c, o, "x_m", json_real(round(ju->x * 100) / 100)) < 0 ||
            jset(c, o, "y_m", json_real(round(ju->y * 100) / 100)) < 0)
            goto done;
    }
    for (size_t j = 0; j < c->n_junc; j++)
        if (touched[j] && tl[j] != NULL && build_signal(c, (int)j, tl[j], tl_line[j]) < 0)
            goto done;
    for (size_t i = 0; i < c->n_tl; i++) {
        int latest = strmap_get(&c->tl_ids, c->tl[i].id) == (int)i;
        if (latest && !c->tl[i].used)
            note(c, "programs of traffic lights that control no vehicle movement are ignored",
                 "%s:%ld: tlLogic \"%s\"", c->tl[i].file, c->tl[i].line, c->tl[i].id);
    }
    rc = c->failed ? -1 : 0;
done:
    free(through);
    free(tl);
    free(tl_line);
    free(touched);
    return rc;
}

static int build_detectors(ctx_t *c, const det_t *d, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const lane_t *l = &c->lane[d[i].lane];
        const edge_t *e = &c->edge[l->edge];
        c->file = d[i].file;
        if (e->link < 0)
            return fail_at(c, d[i].line, "detector \"%s\": lane \"%s\" is not open to vehicles",
                           d[i].id, l->id);
        double pos = d[i].pos < 0 ? l->length + d[i].pos : d[i].pos;
        if (pos < 0 || pos > l->length + 0.1)
            return fail_at(c, d[i].line, "detector \"%s\": pos %g is off lane \"%s\" (length %g)",
                           d[i].id, d[i].pos, l->id, l->length);
        double dist = l->length - pos;
        if (dist < 0)
            dist = 0;
        const char *kind = dist <= DETECTOR_STOP_LINE_M ? "stop_line" : "advance";
        char key[1024];
        snprintf(key, sizeof key, "%s\x1f%s\x1f%.0f", e->id, kind, dist);
        if (strmap_get(&c->det_keys, key) >= 0) {
            note(c, "loops of the lanes of one edge at one place are one greenwave detector",
                 "%s:%ld: detector \"%s\"", d[i].file, d[i].line, d[i].id);
            continue;
        }
        const char *kd = dup(c, key);
        if (kd == NULL || strmap_put(&c->det_keys, kd, (int)i) < 0)
            return oom(c), -1;
        json_t *o = json_object();
        if (o == NULL || jpush(c, c->detectors, o) < 0 ||
            jset(c, o, "id", json_string(d[i].id)) < 0 ||
            jset(c, o, "link", json_string(e->id)) < 0 ||
            jset(c, o, "kind", json_string(kind)) < 0 ||
            jset(c, o, "distance_m", json_real(round(dist * 100) / 100)) < 0)
            return -1;
    }
    return 0;
}

/* ---- demand ------------------------------------------------------------------------------ */

/* SUMO's defaults per vehicle class: length, max speed (m/s). */
static void vclass_defaults(const char *cls, double *length, double *vmax) {
    static const struct {
        const char *cls;
        double length, vmax;
    } t[] = {{"passenger", 5.0, 55.56}, {"private", 5.0, 55.56},    {"taxi", 5.0, 55.56},
             {"bus", 12.0, 27.78},      {"coach", 14.0, 27.78},     {"delivery", 6.5, 55.56},
             {"truck", 7.1, 36.11},     {"trailer", 16.5, 36.11},   {"emergency", 6.5, 41.67},
             {"authority", 5.0, 55.56}, {"motorcycle", 2.2, 55.56}, {"moped", 2.1, 12.5},
             {"evehicle", 5.0, 55.56},  {"army", 5.0, 55.56},       {NULL, 0, 0}};
    for (int i = 0; t[i].cls; i++) {
        if (strcmp(t[i].cls, cls) == 0) {
            *length = t[i].length;
            *vmax = t[i].vmax;
            return;
        }
    }
    *length = 5.0;
    *vmax = 55.56;
}

static int read_vtype(ctx_t *c, xmlNode *n) {
    const char *id = attr_req(c, n, "id");
    if (c->failed)
        return -1;
    vtype_t *v = PUSH(c, c->vt, c->n_vt, c->cap_vt);
    if (v == NULL)
        return -1;
    const char *cls = attr(c, n, "vClass");
    if (cls == NULL)
        cls = "passenger";
    double length, vmax;
    vclass_defaults(cls, &length, &vmax);
    length = attr_num(c, n, "length", length, 0);
    double gap = attr_num(c, n, "minGap", 2.5, 0);
    v->id = id;
    v->cls = cls;
    v->line = xmlGetLineNo(n);
    v->max_speed_mps = attr_num(c, n, "maxSpeed", vmax, 0);
    v->pce = (length + gap) / 7.5;
    v->speed_factor = 1.0;
    v->emergency = strcmp(cls, "emergency") == 0 || strcmp(cls, "authority") == 0;
    const char *sf = attr(c, n, "speedFactor");
    if (sf != NULL && import_sumo_speed_factor(sf, &v->speed_factor) < 0)
        return fail_at(c, v->line, "vType \"%s\": speedFactor \"%s\" is not readable", id, sf);
    if (attr(c, n, "speedDev") != NULL)
        note(c, "speed deviations are not modelled (the mean speed factor is used)",
             "%s:%ld: vType \"%s\"", c->file, v->line, id);
    for (xmlNode *p = n->children; p; p = p->next) {
        if (!is_elem(p, "param"))
            continue;
        const char *key = attr(c, p, "key"), *val = attr(c, p, "value");
        if (key && val && strcmp(key, "has.bluelight.device") == 0 && strcmp(val, "true") == 0)
            v->bluelight = 1;
    }
    if (!(v->pce > 0) || !(v->max_speed_mps > 0))
        return fail_at(c, v->line,
                       "vType \"%s\": length, minGap and maxSpeed must give a size "
                       "and a speed > 0",
                       id);
    if (strmap_put(&c->vt_ids, id, (int)(c->n_vt - 1)) < 0)
        return oom(c), -1;
    return c->failed ? -1 : 0;
}

static vtype_t *vtype_of(ctx_t *c, xmlNode *n, const char *owner) {
    const char *type = attr(c, n, "type");
    if (type == NULL)
        type = "DEFAULT_VEHTYPE";
    int i = strmap_get(&c->vt_ids, type);
    if (i < 0) {
        fail_at(c, xmlGetLineNo(n), "%s: unknown vType \"%s\"", owner, type);
        return NULL;
    }
    c->vt[i].used = 1;
    return &c->vt[i];
}

/* Parses an edge list "e1 e2 ..." into edges, checking each exists and that consecutive edges
 * have a movement between them. */
static int parse_edges(ctx_t *c, xmlNode *n, const char *owner, const char *list, int **edges,
                       int *n_edges) {
    long line = xmlGetLineNo(n);
    size_t len = strlen(list);
    *edges = base_arena_calloc(&c->a, len / 2 + 2, sizeof **edges);
    *n_edges = 0;
    if (*edges == NULL)
        return oom(c), -1;
    char *copy = strdup(list);
    if (copy == NULL)
        return oom(c), -1;
    char *save = NULL;
    for (char *tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
        int e = strmap_get(&c->edge_ids, tok);
        if (e < 0 || c->edge[e].link < 0) {
            fail_at(c, line, "%s: route edge \"%s\" is not in the network%s", owner, tok,
                    e >= 0 ? " (it has no vehicle lane)" : "");
            break;
        }
        if (*n_edges > 0) {
            int prev = (*edges)[*n_edges - 1];
            if (movement_of(c, prev, e) < 0) {
                fail_at(c, line, "%s: no connection from edge \"%s\" to edge \"%s\"", owner,
                        c->edge[prev].id, tok);
                break;
            }
        }
        (*edges)[(*n_edges)++] = e;
    }
    free(copy);
    if (!c->failed && *n_edges == 0)
        fail_at(c, line, "%s: empty route", owner);
    return c->failed ? -1 : 0;
}

static int read_route_def(ctx_t *c, xmlNode *n, const char *owner, route_t *r) {
    const char *edges = attr_req(c, n, "edges");
    if (c->failed)
        return -1;
    return parse_edges(c, n, owner, edges, &r->edges, &r->n_edges);
}

static double parse_depart(ctx_t *c, xmlNode *n, const char *owner, const char *key) {
    const char *v = attr_req(c, n, key);
    if (v == NULL)
        return 0;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end != '\0' || !isfinite(x) || x < 0) {
        fail_at(c, xmlGetLineNo(n), "%s: %s=\"%s\" is not a time in seconds >= 0", owner, key, v);
        return 0;
    }
    return x;
}

/* The vehicle's route: route="id" or a nested <route>; NULL with an error. */
static const route_t *route_of(ctx_t *c, xmlNode *n, const char *owner, route_t *own) {
    const char *rid = attr(c, n, "route");
    if (rid != NULL) {
        int i = strmap_get(&c->route_ids, rid);
        if (i < 0) {
            fail_at(c, xmlGetLineNo(n), "%s: unknown route \"%s\"", owner, rid);
            return NULL;
        }
        return &c->route[i];
    }
    for (xmlNode *p = n->children; p; p = p->next) {
        if (is_elem(p, "route"))
            return read_route_def(c, p, owner, own) < 0 ? NULL : own;
        if (is_elem(p, "routeDistribution")) {
            fail_at(c, xmlGetLineNo(p), "%s: route distributions are not supported", owner);
            return NULL;
        }
    }
    return NULL; /* no route: a trip */
}

static int add_trip(ctx_t *c, const char *id, double depart, const vtype_t *vt, int origin,
                    int destination, const route_t *route, long line) {
    json_t *o = json_object();
    if (o == NULL || jpush(c, c->trips, o) < 0 || jset(c, o, "id", json_string(id)) < 0 ||
        jset(c, o, "depart_s", json_real(depart)) < 0 ||
        jset(c, o, "origin", json_string(c->edge[origin].id)) < 0 ||
        jset(c, o, "destination", json_string(c->edge[destination].id)) < 0 ||
        jset(c, o, "class", json_string(vt->id)) < 0)
        return -1;
    if (route != NULL) {
        json_t *r = json_array();
        if (jset(c, o, "route", r) < 0)
            return -1;
        for (int i = 0; i < route->n_edges; i++)
            if (jpush(c, r, json_string(c->edge[route->edges[i]].id)) < 0)
                return -1;
    }
    long *sl = PUSH(c, c->trip_lines, c->n_trip_lines, c->cap_trip_lines);
    if (sl == NULL)
        return -1;
    *sl = line;
    size_t cap = c->n_trip_lines;
    const char **nf = realloc(c->trip_files, cap * sizeof *nf);
    if (nf == NULL)
        return oom(c), -1;
    c->trip_files = nf;
    nf[cap - 1] = c->file;
    if (depart > c->last_depart)
        c->last_depart = depart;
    return 0;
}

static int add_escort(ctx_t *c, const char *id, double depart, const vtype_t *vt,
                      const route_t *route) {
    double vmax = 0, vmin = INFINITY;
    for (int i = 0; i < route->n_edges; i++) {
        const edge_t *e = &c->edge[route->edges[i]];
        for (int l = 0; l < e->n_lanes; l++) {
            double s = c->lane[e->first_lane + l].speed;
            if (!c->lane[e->first_lane + l].vehicle)
                continue;
            vmax = s > vmax ? s : vmax;
            vmin = s < vmin ? s : vmin;
        }
    }
    if (vmax - vmin > 0.01)
        note(c,
             "an escort drives one desired speed: the fastest speed limit on its route times "
             "its speed factor",
             "escort \"%s\"", id);
    double speed = vmax * vt->speed_factor;
    if (speed > vt->max_speed_mps)
        speed = vt->max_speed_mps;
    json_t *o = json_object(), *r = json_array();
    if (o == NULL || jpush(c, c->escorts, o) < 0 || jset(c, o, "id", json_string(id)) < 0 ||
        jset(c, o, "class", json_string(vt->id)) < 0 || jset(c, o, "route", r) < 0 ||
        jset(c, o, "depart_s", json_real(depart)) < 0 ||
        jset(c, o, "desired_speed_kmh", json_real(round(speed * 3.6 * 1000) / 1000)) < 0 ||
        jset(c, o, "yield_factor", json_real(vt->bluelight ? 0.5 : 0.0)) < 0)
        return -1;
    for (int i = 0; i < route->n_edges; i++)
        if (jpush(c, r, json_string(c->edge[route->edges[i]].id)) < 0)
            return -1;
    if (depart > c->last_depart)
        c->last_depart = depart;
    return 0;
}

static int check_demand_id(ctx_t *c, const char *id, long line) {
    if (strmap_get(&c->demand_ids, id) >= 0)
        return fail_at(c, line, "duplicate vehicle id \"%s\"", id);
    if (strmap_put(&c->demand_ids, id, 1) < 0)
        return oom(c), -1;
    return 0;
}

/* Counts how a vehicle or flow departs: departSpeed absent or 0 (SUMO's default) from rest,
 * anything else ("max", "desired", a speed > 0 ...) moving. */
static void count_depart_speed(ctx_t *c, xmlNode *n) {
    const char *ds = attr(c, n, "departSpeed");
    char *end = NULL;
    if (ds == NULL || (strtod(ds, &end) == 0.0 && end != ds && *end == '\0'))
        c->depart_rest++;
    else
        c->depart_moving++;
}

static int read_vehicle(ctx_t *c, xmlNode *n, int is_trip) {
    const char *id = attr_req(c, n, "id");
    if (c->failed)
        return -1;
    long line = xmlGetLineNo(n);
    char owner[300];
    snprintf(owner, sizeof owner, "%s \"%s\"", is_trip ? "trip" : "vehicle", id);
    double depart = parse_depart(c, n, owner, "depart");
    const vtype_t *vt = vtype_of(c, n, owner);
    if (c->failed || check_demand_id(c, id, line) < 0)
        return -1;
    count_depart_speed(c, n);
    route_t own = {0};
    const route_t *r = is_trip ? NULL : route_of(c, n, owner, &own);
    if (c->failed)
        return -1;
    if (r == NULL) {
        const char *from = attr(c, n, "from"), *to = attr(c, n, "to");
        if (from == NULL || to == NULL)
            return fail_at(c, line, "%s: needs a route, or from and to edges", owner);
        int *e1, *e2, n1, n2;
        if (parse_edges(c, n, owner, from, &e1, &n1) < 0 ||
            parse_edges(c, n, owner, to, &e2, &n2) < 0)
            return -1;
        if (attr(c, n, "via") != NULL)
            note(c, "trips' via edges are not kept: greenwave routes them by the fastest path",
                 "%s:%ld: %s", c->file, line, owner);
        if (vt->emergency)
            note(c, "emergency trips without a route are ordinary trips (an escort needs a route)",
                 "%s:%ld: %s", c->file, line, owner);
        return add_trip(c, id, depart, vt, e1[0], e2[0], NULL, line);
    }
    if (vt->emergency)
        return add_escort(c, id, depart, vt, r);
    return add_trip(c, id, depart, vt, r->edges[0], r->edges[r->n_edges - 1], r, line);
}

static int read_flow(ctx_t *c, xmlNode *n) {
    const char *id = attr_req(c, n, "id");
    if (c->failed)
        return -1;
    long line = xmlGetLineNo(n);
    char owner[300];
    snprintf(owner, sizeof owner, "flow \"%s\"", id);
    const vtype_t *vt = vtype_of(c, n, owner);
    if (c->failed || check_demand_id(c, id, line) < 0)
        return -1;
    count_depart_speed(c, n);
    double begin = attr_num(c, n, "begin", 0, 0);
    double end = attr_num(c, n, "end", -1, 0);
    double number = attr_num(c, n, "number", -1, 0);
    double vph = attr_num(c, n, "vehsPerHour", -1, 0);
    const char *period_s = attr(c, n, "period");
    double prob = attr_num(c, n, "probability", -1, 0);
    if (c->failed)
        return -1;
    route_t own = {0};
    const route_t *r = route_of(c, n, owner, &own);
    if (c->failed)
        return -1;
    int origin, destination;
    if (r != NULL) {
        origin = r->edges[0];
        destination = r->edges[r->n_edges - 1];
    } else {
        const char *from = attr(c, n, "from"), *to = attr(c, n, "to");
        if (from == NULL || to == NULL)
            return fail_at(c, line, "%s: needs a route, or from and to edges", owner);
        int *e1, *e2, n1, n2;
        if (parse_edges(c, n, owner, from, &e1, &n1) < 0 ||
            parse_edges(c, n, owner, to, &e2, &n2) < 0)
            return -1;
        origin = e1[0];
        destination = e2[0];
    }
    double period = -1, rate = -1; /* evenly spaced, or random (vehicles per second) */
    if (period_s != NULL) {
        char *e;
        if (strncmp(period_s, "exp(", 4) == 0) {
            rate = strtod(period_s + 4, &e);
            if (e == period_s + 4 || *e != ')' || !(rate > 0))
                return fail_at(c, line, "%s: period=\"%s\" is not readable", owner, period_s);
        } else {
            period = strtod(period_s, &e);
            if (e == period_s || *e != '\0' || !(period > 0))
                return fail_at(c, line, "%s: period=\"%s\" must be a number > 0", owner, period_s);
        }
    } else if (vph >= 0) {
        if (!(vph > 0))
            return fail_at(c, line, "%s: vehsPerHour must be > 0", owner);
        period = 3600.0 / vph;
    } else if (prob >= 0) {
        if (!(prob > 0) || prob > 1)
            return fail_at(c, line, "%s: probability must be in (0, 1]", owner);
        rate = prob;
    } else if (number > 0 && end > begin) {
        period = (end - begin) / number;
    } else {
        return fail_at(c, line,
                       "%s: needs vehsPerHour, period, probability, or number with begin and end",
                       owner);
    }
    if (end < 0) {
        if (number < 0)
            note(c, "flows without end or number end after 24 h, as in SUMO", "%s:%ld: %s", c->file,
                 line, owner);
        end = number > 0 && period > 0 ? begin + period * number : DEFAULT_FLOW_END_S;
    }
    if (!(end > begin))
        return fail_at(c, line, "%s: end (%g) must be after begin (%g)", owner, end, begin);
    if (rate > 0) {
        if (number > 0)
            note(c, "random flows' number limit is not kept", "%s:%ld: %s", c->file, line, owner);
        if (vt->emergency)
            note(c, "random emergency flows are ordinary flows (escorts need a departure time)",
                 "%s:%ld: %s", c->file, line, owner);
        note(c, "random flows (probability, exp period) are Poisson flows of the same mean rate",
             "%s:%ld: %s", c->file, line, owner);
        json_t *f = json_object(), *mix = json_object();
        if (f == NULL || jset(c, f, "id", json_string(id)) < 0 ||
            jset(c, f, "origin", json_string(c->edge[origin].id)) < 0 ||
            jset(c, f, "destination", json_string(c->edge[destination].id)) < 0)
            return json_decref(f), -1;
        if (r != NULL && r->n_edges > 2) {
            json_t *via = json_array();
            if (jset(c, f, "via", via) < 0)
                return json_decref(f), -1;
            for (int i = 1; i + 1 < r->n_edges; i++)
                if (jpush(c, via, json_string(c->edge[r->edges[i]].id)) < 0)
                    return json_decref(f), -1;
        }
        if (jset(c, mix, vt->id, json_real(1.0)) < 0 || jset(c, f, "class_mix", mix) < 0)
            return json_decref(f), -1;
        json_t *pend = json_pack("[fffo]", begin, end, rate * 3600.0, f);
        if (jpush(c, c->rflows_pending, pend) < 0)
            return -1;
        c->random_flows++;
        if (end < DEFAULT_FLOW_END_S && end > c->last_depart)
            c->last_depart = end;
        return 0;
    }
    long count =
        import_sumo_flow_departs(begin, end, period, number > 0 ? (long)number : -1, NULL, 0);
    for (long i = 0; i < count && !c->failed; i++) {
        char vid[320];
        snprintf(vid, sizeof vid, "%s.%ld", id, i);
        double t = begin + (double)i * period;
        t = round(t * 1000) / 1000;
        if (vt->emergency && r != NULL)
            add_escort(c, vid, t, vt, r);
        else
            add_trip(c, vid, t, vt, origin, destination, r, line);
    }
    return c->failed ? -1 : 0;
}

static int read_routes(ctx_t *c, const char *path) {
    xmlDocPtr doc;
    for (xmlNode *n = top_elements(c, path, &doc); n && !c->failed; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        long line = xmlGetLineNo(n);
        if (is_elem(n, "vType")) {
            read_vtype(c, n);
        } else if (is_elem(n, "route")) {
            const char *id = attr_req(c, n, "id");
            if (c->failed)
                break;
            char owner[300];
            snprintf(owner, sizeof owner, "route \"%s\"", id);
            route_t r = {.id = id};
            if (read_route_def(c, n, owner, &r) < 0)
                break;
            route_t *slot = PUSH(c, c->route, c->n_route, c->cap_route);
            if (slot == NULL)
                break;
            *slot = r;
            if (strmap_put(&c->route_ids, id, (int)(c->n_route - 1)) < 0)
                oom(c);
        } else if (is_elem(n, "vehicle")) {
            read_vehicle(c, n, 0);
        } else if (is_elem(n, "trip")) {
            read_vehicle(c, n, 1);
        } else if (is_elem(n, "flow")) {
            read_flow(c, n);
        } else if (is_elem(n, "person") || is_elem(n, "personFlow") || is_elem(n, "container") ||
                   is_elem(n, "containerFlow")) {
            note(c, "persons and containers are not modelled", "%s:%ld", path, line);
        } else if (is_elem(n, "vTypeDistribution") || is_elem(n, "routeDistribution")) {
            note(c,
                 "type and route distributions are not supported; vehicles using them are "
                 "refused",
                 "%s:%ld", path, line);
        } else if (!is_elem(n, "param") && !is_elem(n, "interval")) {
            note(c, "other route-file elements are ignored", "%s:%ld: <%s>", path, line,
                 (const char *)n->name);
        }
    }
    xmlFreeDoc(doc);
    return c->failed ? -1 : 0;
}

static long gcd_l(long a, long b) {
    while (b) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Random flows: a common demand interval (gcd of their whole-second begins and ends), and each
 * flow's vph per interval. */
static int build_random_flows(ctx_t *c, json_t *demand, double duration) {
    size_t n = json_array_size(c->rflows_pending);
    if (n == 0)
        return 0;
    long g = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(c->rflows_pending, i);
        for (int k = 0; k < 2; k++) {
            double t = json_real_value(json_array_get(p, (size_t)k));
            if (t > duration)
                t = duration;
            if (fabs(t - round(t)) > 1e-6)
                note(c, "random flows' begin and end are rounded to whole seconds", "flow %s",
                     json_string_value(json_object_get(json_array_get(p, 3), "id")));
            g = gcd_l(g, labs(lround(t)));
        }
    }
    if (g <= 0)
        g = (long)ceil(duration);
    if (duration / (double)g > MAX_INTERVALS)
        return fail_at(c, 0, "random flows' begins and ends need more than %d demand intervals",
                       MAX_INTERVALS);
    if (jset(c, demand, "interval_s", json_integer(g)) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(c->rflows_pending, i);
        double b = json_real_value(json_array_get(p, 0)), e = json_real_value(json_array_get(p, 1));
        double vph = json_real_value(json_array_get(p, 2));
        json_t *f = json_array_get(p, 3), *arr = json_array();
        long k_end = lround((e < duration ? e : duration) / (double)g);
        for (long k = 0; k <= k_end && arr; k++) {
            double t = (double)k * (double)g;
            if (jpush(c, arr, json_real(t >= lround(b) && t < lround(e) ? vph : 0.0)) < 0)
                return -1;
        }
        if (jset(c, f, "vph", arr) < 0)
            return -1;
        json_incref(f);
        if (jpush(c, c->flows, f) < 0)
            return -1;
    }
    return 0;
}

static int build_classes(ctx_t *c) {
    for (size_t i = 0; i < c->n_vt; i++) {
        const vtype_t *v = &c->vt[i];
        if (!v->used)
            continue;
        json_t *o = json_object();
        if (o == NULL || jpush(c, c->classes, o) < 0 || jset(c, o, "id", json_string(v->id)) < 0 ||
            jset(c, o, "pce", json_real(round(v->pce * 1000) / 1000)) < 0 ||
            jset(c, o, "max_speed_kmh", json_real(round(v->max_speed_mps * 3.6 * 100) / 100)) < 0)
            return -1;
    }
    return 0;
}

/* ---- top level ------------------------------------------------------------------------- */

static void ctx_fini(ctx_t *c) {
    free(c->junc);
    free(c->edge);
    free(c->lane);
    free(c->conn);
    free(c->tl);
    free(c->vt);
    free(c->route);
    free(c->note);
    free(c->internal_lens);
    free(c->internal_speeds);
    free(c->internal_ids);
    free(c->move_from);
    free(c->move_to);
    free(c->trip_lines);
    free(c->trip_files);
    strmap_fini(&c->junc_ids);
    strmap_fini(&c->edge_ids);
    strmap_fini(&c->lane_ids);
    strmap_fini(&c->tl_ids);
    strmap_fini(&c->vt_ids);
    strmap_fini(&c->route_ids);
    strmap_fini(&c->internal_len);
    strmap_fini(&c->internal_next);
    strmap_fini(&c->move_ids);
    strmap_fini(&c->det_keys);
    strmap_fini(&c->demand_ids);
    json_decref(c->nodes);
    json_decref(c->links);
    json_decref(c->movements);
    json_decref(c->signals);
    json_decref(c->detectors);
    json_decref(c->trips);
    json_decref(c->flows);
    json_decref(c->escorts);
    json_decref(c->classes);
    json_decref(c->rflows_pending);
    base_arena_fini(&c->a);
}

static char *render_notes(ctx_t *c) {
    size_t cap = 256;
    for (size_t i = 0; i < c->n_note; i++)
        cap += strlen(c->note[i].text) + strlen(c->note[i].where) + 64;
    char *s = malloc(cap), *p = s;
    if (s == NULL)
        return NULL;
    *p = '\0';
    for (size_t i = 0; i < c->n_note; i++)
        p += snprintf(p, cap - (size_t)(p - s), "%6d x %s (first: %s)\n", c->note[i].count,
                      c->note[i].text, c->note[i].where);
    return s;
}

static const char *base_name(const char *path, char *buf, size_t n) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(buf, n, "%s", b);
    static const char *const ext[] = {".net.xml.gz", ".net.xml", ".xml", NULL};
    size_t len = strlen(buf);
    for (const char *const *e = ext; *e; e++) {
        size_t el = strlen(*e);
        if (len > el && strcmp(buf + len - el, *e) == 0) {
            buf[len - el] = '\0';
            break;
        }
    }
    return buf;
}

/* Adds the source line of a trip the loader refused ("$.demand.trips[12]"). */
static void annotate_loader_error(ctx_t *c, base_err_t *err) {
    const char *p = strstr(err->msg, "$.demand.trips[");
    if (p == NULL)
        return;
    long i = strtol(p + 15, NULL, 10);
    if (i >= 0 && (size_t)i < c->n_trip_lines) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, " (from %s:%ld)", c->trip_files[i],
                 c->trip_lines[i]);
    }
}

void import_sumo_result_fini(import_sumo_result_t *r) {
    free(r->json);
    free(r->notes);
    memset(r, 0, sizeof *r);
}

int import_sumo_convert(const import_sumo_opts_t *opts, import_sumo_result_t *out,
                        base_err_t *err) {
    memset(out, 0, sizeof *out);
    ctx_t c = {.err = err};
    base_arena_init(&c.a);
    base_err_clear(err);
    json_t *root = NULL;
    det_t *dets = NULL;
    size_t n_det = 0, cap_det = 0;
    c.nodes = json_array();
    c.links = json_array();
    c.movements = json_array();
    c.signals = json_array();
    c.detectors = json_array();
    c.trips = json_array();
    c.flows = json_array();
    c.escorts = json_array();
    c.classes = json_array();
    c.rflows_pending = json_array();
    if (!c.nodes || !c.links || !c.movements || !c.signals || !c.detectors || !c.trips ||
        !c.flows || !c.escorts || !c.classes || !c.rflows_pending) {
        oom(&c);
        goto done;
    }
    /* SUMO's default vehicle type. */
    vtype_t *dv = PUSH(&c, c.vt, c.n_vt, c.cap_vt);
    if (dv == NULL)
        goto done;
    *dv = (vtype_t){
        .id = "car", .cls = "passenger", .pce = 1.0, .max_speed_mps = 55.56, .speed_factor = 1.0};
    if (strmap_put(&c.vt_ids, "DEFAULT_VEHTYPE", 0) < 0) {
        oom(&c);
        goto done;
    }
    if (read_net(&c, opts->net) < 0)
        goto done;
    for (int i = 0; i < opts->n_additional; i++)
        if (read_additional(&c, opts->additional[i], &dets, &n_det, &cap_det) < 0)
            goto done;
    c.file = opts->net;
    if (build_links(&c) < 0 || build_nodes(&c) < 0 || build_detectors(&c, dets, n_det) < 0)
        goto done;
    for (int i = 0; i < opts->n_routes; i++)
        if (read_routes(&c, opts->routes[i]) < 0)
            goto done;
    if (build_classes(&c) < 0)
        goto done;

    double duration =
        opts->duration_s > 0 ? opts->duration_s : ceil(c.last_depart + IMPORT_SUMO_TAIL_S);
    char namebuf[256];
    const char *name = opts->name ? opts->name : base_name(opts->net, namebuf, sizeof namebuf);
    char desc[1024];
    snprintf(desc, sizeof desc,
             "Imported from SUMO by greenwave-import-sumo (%s). Junction interiors are the "
             "movements' crossings; right of way at unsignalized junctions is not modelled.",
             opts->net);
    root = json_object();
    if (root == NULL || jset(&c, root, "format", json_string("greenwave-scenario")) < 0 ||
        jset(&c, root, "version", json_integer(1)) < 0 ||
        jset(&c, root, "name", json_string(name)) < 0 ||
        jset(&c, root, "description", json_string(desc)) < 0 ||
        jset(&c, root, "duration_s", json_real(duration)) < 0)
        goto done;
    /* SUMO inserts vehicles at departSpeed 0 unless told otherwise: they start from rest. One
     * rule for the whole scenario, the majority's. */
    if (c.depart_rest > 0 && c.depart_moving > 0)
        note(&c,
             c.depart_rest >= c.depart_moving
                 ? "vehicles with a departSpeed other than 0 depart from rest like the others"
                 : "vehicles with departSpeed 0 depart at speed like the others",
             "%d from rest, %d at speed", c.depart_rest, c.depart_moving);
    if (c.depart_rest > 0 && c.depart_rest >= c.depart_moving) {
        json_t *model = json_object();
        if (jset(&c, root, "model", model) < 0 ||
            jset(&c, model, "depart_from_rest", json_true()) < 0)
            goto done;
    }
    if (json_array_size(c.classes) > 0 &&
        jset(&c, root, "vehicle_classes", json_incref(c.classes)) < 0)
        goto done;
    if (jset(&c, root, "nodes", json_incref(c.nodes)) < 0 ||
        jset(&c, root, "links", json_incref(c.links)) < 0 ||
        jset(&c, root, "movements", json_incref(c.movements)) < 0 ||
        jset(&c, root, "signals", json_incref(c.signals)) < 0)
        goto done;
    if (json_array_size(c.detectors) > 0 &&
        jset(&c, root, "detectors", json_incref(c.detectors)) < 0)
        goto done;
    json_t *demand = json_object();
    if (jset(&c, root, "demand", demand) < 0)
        goto done;
    if (build_random_flows(&c, demand, duration) < 0)
        goto done;
    if (json_array_size(c.flows) > 0 && jset(&c, demand, "flows", json_incref(c.flows)) < 0)
        goto done;
    if (json_array_size(c.trips) > 0 && jset(&c, demand, "trips", json_incref(c.trips)) < 0)
        goto done;
    if (json_array_size(c.escorts) > 0 && jset(&c, root, "escorts", json_incref(c.escorts)) < 0)
        goto done;
    if (json_array_size(c.nodes) == 0 || json_array_size(c.links) == 0) {
        c.file = opts->net;
        fail_at(&c, 1, "the network has no edge open to vehicles");
        goto done;
    }
    out->json = json_dumps(root, JSON_FLAGS);
    out->notes = render_notes(&c);
    if (out->json == NULL || out->notes == NULL) {
        oom(&c);
        goto done;
    }
    /* Prove the scenario loads; a refusal here is something the format cannot hold. */
    sim_scenario_t *scn = scn_loader_load_string(out->json, "scenario", err);
    if (scn == NULL) {
        annotate_loader_error(&c, err);
        base_err_prefix(err, "the converted scenario is refused: ");
        err->code = BASE_EINVAL;
        c.failed = 1;
        goto done;
    }
    sim_scenario_destroy(&scn);
    out->nodes = (int)json_array_size(c.nodes);
    out->links = (int)json_array_size(c.links);
    out->movements = (int)json_array_size(c.movements);
    out->signals = (int)json_array_size(c.signals);
    out->detectors = (int)json_array_size(c.detectors);
    out->trips = (int)json_array_size(c.trips);
    out->flows = (int)json_array_size(c.flows);
    out->escorts = (int)json_array_size(c.escorts);
done:;
    int rc = c.failed ? (err && err->code ? err->code : BASE_EINVAL) : 0;
    json_decref(root);
    free(dets);
    ctx_fini(&c);
    if (rc < 0)
        import_sumo_result_fini(out);
    return rc;
}
