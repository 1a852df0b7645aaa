/* greenwave-gen-grid: writes an N x M signalized grid scenario (docs/scenario-format.md,
 * version 1) whose node and link ids are those SUMO's netgenerate gives the same grid, so a
 * SUMO trip file can be replayed on it by edge id (bench/grid-vs-sumo does that).
 *
 * Geometry, as `netgenerate --grid --grid.x-number M --grid.y-number N --grid.length B
 * --grid.attach-length A`: inner junction (i, j), column i = 0..M-1 west to east, row j =
 * 0..N-1 south to north, is named by the column's letter code (A..Z, then AA..ZZ when M > 26:
 * every column gets as many letters as the widest needs) followed by the row number ("A0",
 * "B1", "AB12") and stands at x = A + i B, y = A + j B. With A > 0 every border junction gets a
 * fringe node A metres further out, "bottom<i>" (y = 0), "top<i>", "left<j>" (x = 0),
 * "right<j>". A link is named by its two node ids ("A0B0", "left0A0", "A0left0"). Inner
 * junctions are signalized; fringe nodes are boundary nodes (sources and sinks), so a link into
 * one is a dead end. Links are measured node to node (SUMO's lanes are shorter by the junction
 * area; its internal lanes make up the difference).
 *
 * Each junction gets, for every incoming link, the through, left and right movements to the
 * outgoing links that exist (no U-turns). Each signalized junction gets two signal groups, "NS"
 * (every movement from the north and south approaches) and "EW", in conflict; one stage each, NS
 * first as in SUMO's static programs; one fixed-time plan with equal splits and offset 0. Without
 * fringe nodes, a junction reached on one axis only (in a one-row or one-column grid) is left
 * unsignalized.
 *
 * Demand: --pairs Poisson flows splitting --vph equally, drawn as SUMO's randomTrips.py draws
 * trips: origin and destination links chosen with probability proportional to length (an
 * origin must have a movement out, a destination must not start at a boundary node), kept when
 * the straight-line distance from the origin's upstream node to the destination's downstream
 * node is in [min, max) and the destination is reachable (breadth-first search over the
 * movements, O(links) per draw). The generator is splitmix64 (Steele, Lea and Flood 2014),
 * seeded with --seed, so the same arguments give a byte-identical file.
 *
 * Ownership: the grid arrays belong to a grid_t built by grid_build and freed by grid_fini;
 * the JSON tree is built, written and released in main. No global state. */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_PROG         "greenwave-gen-grid"
#define GEN_MAX_DIM      500 /* rows and columns; 500 x 500 is ~1 M links already */
#define GEN_MAX_LANES    8
#define GEN_MIN_GREEN_S  5.0   /* min_green_s of every group */
#define GEN_MAX_GREEN_S  60.0  /* max_green_s, raised to the plan's green if that is longer */
#define GEN_SAT_RIGHT    0.9   /* sat_factor of right turns (turn radius) */
#define GEN_SAT_LEFT     0.5   /* sat_factor of permitted left turns (opposed, shared lane) */
#define GEN_TRIES_PER_OD 10000 /* rejection-sampling draws allowed per OD pair */
#define GEN_JSON_FLAGS   (JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
#define GEN_ID_LEN       48

/* Compass directions, clockwise. A node's neighbour in direction d; turning right from heading
 * h gives heading (h + 1) % 4. */
enum { DIR_N = 0, DIR_E = 1, DIR_S = 2, DIR_W = 3, DIR_COUNT = 4 };

enum { NODE_SIGNALIZED, NODE_UNSIGNALIZED, NODE_BOUNDARY };

typedef struct {
    long rows, cols, lanes, pairs;
    double block_m, attach_m, speed_kmh, cycle_s, yellow_s, red_clearance_s, duration_s;
    double vph, min_trip_m, max_trip_m;
    uint64_t seed;
    const char *out_path; /* NULL: stdout */
} gen_options_t;

typedef struct {
    char id[GEN_ID_LEN];
    int kind;
    double x_m, y_m;
    long in[DIR_COUNT];  /* link arriving from the neighbour in direction d, or -1 */
    long out[DIR_COUNT]; /* link leaving towards the neighbour in direction d, or -1 */
} gen_node_t;

typedef struct {
    char id[2 * GEN_ID_LEN];
    long from, to; /* node indices */
    int from_dir;  /* direction of `from` as seen from `to` (the approach) */
    long succ[3];  /* links reachable through a movement at `to`, -1 if none */
    int n_succ;
    double length_m;
} gen_link_t;

typedef struct {
    gen_node_t *nodes;
    long n_nodes;
    gen_link_t *links;
    long n_links;
} grid_t;

/* JSON builder context: the first allocation failure sets `failed`; later calls do nothing. */
typedef struct {
    int failed;
} builder_t;

/* ---------------------------------------------------------------------------------------------
 * Pseudo-random numbers: splitmix64.
 * ------------------------------------------------------------------------------------------ */

static uint64_t splitmix64_next(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_uniform(uint64_t *state) {
    return (double)(splitmix64_next(state) >> 11) * 0x1.0p-53;
}

/* ---------------------------------------------------------------------------------------------
 * Arguments.
 * ------------------------------------------------------------------------------------------ */

static void usage(FILE *f) {
    fprintf(f,
            "Usage: " GEN_PROG " --rows N --cols M [options] [-o FILE]\n"
            "\n"
            "Writes a signalized N x M grid scenario (greenwave scenario format, version 1).\n"
            "Node and link ids are those of SUMO's\n"
            "  netgenerate --grid --grid.x-number M --grid.y-number N --grid.length BLOCK\n"
            "              --grid.attach-length ATTACH\n"
            "(junctions A0, B1, ..., fringe nodes bottom<i>/top<i>/left<j>/right<j>, links named\n"
            "by their two nodes: A0B0, left0A0, A0left0), so SUMO trips map onto links by id.\n"
            "\n"
            "Options:\n"
            "  --rows N              junction rows, south to north (required, 1..%d)\n"
            "  --cols M              junction columns, west to east (required, 1..%d)\n"
            "  --block-m B           link length between junctions [200]\n"
            "  --attach-m A          length of the fringe links to boundary nodes; 0: no\n"
            "                        fringe, every junction is signalized [200]\n"
            "  --lanes L             lanes on every link [2]\n"
            "  --speed-kmh V         free speed [50]\n"
            "  --cycle-s C           cycle of the fixed-time plan, equal splits, offset 0 [90]\n"
            "  --yellow-s Y          yellow [3]\n"
            "  --red-clearance-s R   red clearance [2]\n"
            "  --duration-s D        scenario duration [3600]\n"
            "  --vph TOTAL           total demand in vehicles/hour, split over the pairs [0]\n"
            "  --pairs K             number of Poisson OD flows [1000]\n"
            "  --min-trip-m D        min straight-line OD distance, as randomTrips.py [500]\n"
            "  --max-trip-m D        max (exclusive) straight-line OD distance [2000]\n"
            "  --seed S              seed of the OD draw (splitmix64) [1]\n"
            "  -o FILE               output file [stdout]\n"
            "  -h, --help            this text\n"
            "\n"
            "Movements: through (all lanes, sat_factor 1), left (1 lane, sat_factor %.1f:\n"
            "permitted, opposed), right (1 lane, sat_factor %.1f); no U-turns. Groups NS and EW\n"
            "(min green %.0f s, max green %.0f s or the plan's green if longer), NS first.\n"
            "Also a corridor \"row0_eb\" (row 0 eastbound) and a stop-line detector\n"
            "\"det_<link>\" on every link entering a signalized node.\n"
            "Same arguments give a byte-identical file. Exit status 2 on bad arguments.\n",
            GEN_MAX_DIM, GEN_MAX_DIM, GEN_SAT_LEFT, GEN_SAT_RIGHT, GEN_MIN_GREEN_S,
            GEN_MAX_GREEN_S);
}

static int parse_long(const char *opt, const char *s, long min, long max, long *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, GEN_PROG ": %s: must be an integer in [%ld, %ld], got '%s'\n", opt, min,
                max, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parses a finite number >= min (> min when `strict`). */
static int parse_double(const char *opt, const char *s, double min, int strict, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || (strict && v <= min)) {
        fprintf(stderr, GEN_PROG ": %s: must be a number %s %g, got '%s'\n", opt,
                strict ? ">" : ">=", min, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_seed(const char *s, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    if (s[0] == '-' || s[0] == '+') {
        fprintf(stderr, GEN_PROG ": --seed: must be an unsigned integer, got '%s'\n", s);
        return -1;
    }
    uintmax_t v = strtoumax(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > UINT64_MAX) {
        fprintf(stderr, GEN_PROG ": --seed: must be an unsigned 64-bit integer, got '%s'\n", s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* Parses argv into *o. Returns 0, 1 when help was printed, or -1 after printing an error. */
static int parse_args(int argc, char **argv, gen_options_t *o) {
    *o = (gen_options_t){.rows = 0,
                         .cols = 0,
                         .lanes = 2,
                         .pairs = 1000,
                         .block_m = 200.0,
                         .attach_m = 200.0,
                         .speed_kmh = 50.0,
                         .cycle_s = 90.0,
                         .yellow_s = 3.0,
                         .red_clearance_s = 2.0,
                         .duration_s = 3600.0,
                         .vph = 0.0,
                         .min_trip_m = 500.0,
                         .max_trip_m = 2000.0,
                         .seed = 1,
                         .out_path = NULL};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, GEN_PROG ": %s: missing value, or unknown option (see --help)\n", opt);
            return -1;
        }
        const char *val = argv[++i];
        int rc;
        if (strcmp(opt, "--rows") == 0) {
            rc = parse_long(opt, val, 1, GEN_MAX_DIM, &o->rows);
        } else if (strcmp(opt, "--cols") == 0) {
            rc = parse_long(opt, val, 1, GEN_MAX_DIM, &o->cols);
        } else if (strcmp(opt, "--lanes") == 0) {
            rc = parse_long(opt, val, 1, GEN_MAX_LANES, &o->lanes);
        } else if (strcmp(opt, "--pairs") == 0) {
            rc = parse_long(opt, val, 1, 10000000, &o->pairs);
        } else if (strcmp(opt, "--block-m") == 0) {
            rc = parse_double(opt, val, 0.0, 1, &o->block_m);
        } else if (strcmp(opt, "--attach-m") == 0) {
            rc = parse_double(opt, val, 0.0, 0, &o->attach_m);
        } else if (strcmp(opt, "--speed-kmh") == 0) {
            rc = parse_double(opt, val, 0.0, 1, &o->speed_kmh);
        } else if (strcmp(opt, "--cycle-s") == 0) {
            rc = parse_double(opt, val, 0.0, 1, &o->cycle_s);
        } else if (strcmp(opt, "--yellow-s") == 0) {
            rc = parse_double(opt, val, 0.0, 1, &o->yellow_s);
        } else if (strcmp(opt, "--red-clearance-s") == 0) {
            rc = parse_double(opt, val, 0.0, 0, &o->red_clearance_s);
        } else if (strcmp(opt, "--duration-s") == 0) {
            rc = parse_double(opt, val, 0.0, 1, &o->duration_s);
        } else if (strcmp(opt, "--vph") == 0) {
            rc = parse_double(opt, val, 0.0, 0, &o->vph);
        } else if (strcmp(opt, "--min-trip-m") == 0) {
            rc = parse_double(opt, val, 0.0, 0, &o->min_trip_m);
        } else if (strcmp(opt, "--max-trip-m") == 0) {
            rc = parse_double(opt, val, 0.0, 1, &o->max_trip_m);
        } else if (strcmp(opt, "--seed") == 0) {
            rc = parse_seed(val, &o->seed);
        } else if (strcmp(opt, "-o") == 0) {
            o->out_path = val;
            rc = 0;
        } else {
            fprintf(stderr, GEN_PROG ": unknown option '%s' (see --help)\n", opt);
            rc = -1;
        }
        if (rc != 0) {
            return -1;
        }
    }
    if (o->rows == 0 || o->cols == 0) {
        fprintf(stderr, GEN_PROG ": --rows and --cols are required (see --help)\n");
        return -1;
    }
    if (o->attach_m == 0.0 && o->rows * o->cols < 2) {
        fprintf(stderr, GEN_PROG ": a 1 x 1 grid needs --attach-m > 0 (it would have no link)\n");
        return -1;
    }
    if (o->max_trip_m <= o->min_trip_m) {
        fprintf(stderr, GEN_PROG ": --max-trip-m (%g) must be greater than --min-trip-m (%g)\n",
                o->max_trip_m, o->min_trip_m);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Grid topology.
 * ------------------------------------------------------------------------------------------ */

/* SUMO's NGNet::alphabeticalCode: column i of n, in as many letters as the widest column needs
 * (n <= 26: "A".."Z"; n <= 676: "AA".."ZZ"). */
static void column_code(long i, long n, char *buf, size_t size) {
    int width = 1;
    for (long cap = 26; cap < n; cap *= 26) {
        width++;
    }
    if ((size_t)width >= size) {
        width = (int)size - 1;
    }
    buf[width] = '\0';
    for (int k = width - 1; k >= 0; k--) {
        buf[k] = (char)('A' + i % 26);
        i /= 26;
    }
}

static int dir_opposite(int d) {
    return (d + 2) % DIR_COUNT;
}

static void grid_fini(grid_t *g) {
    free(g->nodes);
    free(g->links);
    *g = (grid_t){0};
}

static long inner_index(const gen_options_t *o, long i, long j) {
    return i * o->rows + j;
}

static void node_set(gen_node_t *n, const char *id, int kind, double x_m, double y_m) {
    snprintf(n->id, sizeof n->id, "%s", id);
    n->kind = kind;
    n->x_m = x_m;
    n->y_m = y_m;
    for (int d = 0; d < DIR_COUNT; d++) {
        n->in[d] = -1;
        n->out[d] = -1;
    }
}

/* Adds the link a -> b, where b lies in direction d of a. */
static void link_add(grid_t *g, long a, long b, int d) {
    gen_link_t *l = &g->links[g->n_links];
    gen_node_t *na = &g->nodes[a], *nb = &g->nodes[b];
    snprintf(l->id, sizeof l->id, "%s%s", na->id, nb->id);
    l->from = a;
    l->to = b;
    l->from_dir = dir_opposite(d);
    l->length_m = fabs(nb->x_m - na->x_m) + fabs(nb->y_m - na->y_m);
    l->n_succ = 0;
    na->out[d] = g->n_links;
    nb->in[dir_opposite(d)] = g->n_links;
    g->n_links++;
}

/* Node in direction d of inner junction (i, j): a junction, a fringe node or -1. */
static long neighbour(const gen_options_t *o, long fringe0, long i, long j, int d) {
    int fringe = o->attach_m > 0.0;
    switch (d) {
    case DIR_N:
        return j + 1 < o->rows ? inner_index(o, i, j + 1) : fringe ? fringe0 + o->cols + i : -1;
    case DIR_S:
        return j > 0 ? inner_index(o, i, j - 1) : fringe ? fringe0 + i : -1;
    case DIR_E:
        return i + 1 < o->cols ? inner_index(o, i + 1, j)
               : fringe        ? fringe0 + 2 * o->cols + o->rows + j
                               : -1;
    default:
        return i > 0 ? inner_index(o, i - 1, j) : fringe ? fringe0 + 2 * o->cols + j : -1;
    }
}

/* Builds nodes (junctions column by column, then bottom, top, left, right fringe nodes) and
 * links (for each junction its outgoing links N, E, S, W, then the fringe nodes' links) and
 * each link's successors. Returns 0 or -1 on allocation failure. */
static int grid_build(grid_t *g, const gen_options_t *o) {
    long inner = o->rows * o->cols;
    long fringe = o->attach_m > 0.0 ? 2 * (o->rows + o->cols) : 0;
    *g = (grid_t){0};
    g->nodes = calloc((size_t)(inner + fringe), sizeof *g->nodes);
    g->links = calloc((size_t)(4 * inner + 2 * fringe), sizeof *g->links);
    if (g->nodes == NULL || g->links == NULL) {
        grid_fini(g);
        return -1;
    }
    char code[8], id[GEN_ID_LEN];
    double a = o->attach_m, b = o->block_m;
    double x_max = 2.0 * a + (double)(o->cols - 1) * b;
    double y_max = 2.0 * a + (double)(o->rows - 1) * b;
    for (long i = 0; i < o->cols; i++) {
        column_code(i, o->cols, code, sizeof code);
        for (long j = 0; j < o->rows; j++) {
            snprintf(id, sizeof id, "%s%ld", code, j);
            node_set(&g->nodes[inner_index(o, i, j)], id, NODE_SIGNALIZED, a + (double)i * b,
                     a + (double)j * b);
        }
    }
    g->n_nodes = inner;
    if (fringe > 0) {
        for (long i = 0; i < o->cols; i++) {
            snprintf(id, sizeof id, "bottom%ld", i);
            node_set(&g->nodes[g->n_nodes + i], id, NODE_BOUNDARY, a + (double)i * b, 0.0);
            snprintf(id, sizeof id, "top%ld", i);
            node_set(&g->nodes[g->n_nodes + o->cols + i], id, NODE_BOUNDARY, a + (double)i * b,
                     y_max);
        }
        for (long j = 0; j < o->rows; j++) {
            snprintf(id, sizeof id, "left%ld", j);
            node_set(&g->nodes[g->n_nodes + 2 * o->cols + j], id, NODE_BOUNDARY, 0.0,
                     a + (double)j * b);
            snprintf(id, sizeof id, "right%ld", j);
            node_set(&g->nodes[g->n_nodes + 2 * o->cols + o->rows + j], id, NODE_BOUNDARY, x_max,
                     a + (double)j * b);
        }
        g->n_nodes += fringe;
    }

    for (long i = 0; i < o->cols; i++) {
        for (long j = 0; j < o->rows; j++) {
            for (int d = 0; d < DIR_COUNT; d++) {
                long nb = neighbour(o, inner, i, j, d);
                if (nb >= 0) {
                    link_add(g, inner_index(o, i, j), nb, d);
                }
            }
        }
    }
    if (fringe > 0) {
        for (long i = 0; i < o->cols; i++) {
            link_add(g, inner + i, inner_index(o, i, 0), DIR_N);
        }
        for (long i = 0; i < o->cols; i++) {
            link_add(g, inner + o->cols + i, inner_index(o, i, o->rows - 1), DIR_S);
        }
        for (long j = 0; j < o->rows; j++) {
            link_add(g, inner + 2 * o->cols + j, inner_index(o, 0, j), DIR_E);
        }
        for (long j = 0; j < o->rows; j++) {
            link_add(g, inner + 2 * o->cols + o->rows + j, inner_index(o, o->cols - 1, j), DIR_W);
        }
    }

    /* Successors through movements: through, left, right (see emit_movements). */
    for (long k = 0; k < g->n_links; k++) {
        gen_link_t *l = &g->links[k];
        const gen_node_t *n = &g->nodes[l->to];
        if (n->kind == NODE_BOUNDARY) {
            continue;
        }
        int turns[3] = {dir_opposite(l->from_dir), (l->from_dir + 1) % DIR_COUNT,
                        (l->from_dir + 3) % DIR_COUNT};
        for (int t = 0; t < 3; t++) {
            if (n->out[turns[t]] >= 0) {
                l->succ[l->n_succ++] = n->out[turns[t]];
            }
        }
    }
    /* A signal needs two conflicting groups: a junction where traffic arrives on one axis only
     * (in a grid without fringe, the ends of a one-row or one-column grid, whose only other way
     * on would be a U-turn, and the inner junctions of such a grid) is left unsignalized. */
    for (long k = 0; k < inner; k++) {
        gen_node_t *n = &g->nodes[k];
        int ns = 0, ew = 0;
        for (int d = 0; d < DIR_COUNT; d++) {
            int m = n->in[d] >= 0 ? g->links[n->in[d]].n_succ : 0;
            if (d == DIR_N || d == DIR_S) {
                ns += m;
            } else {
                ew += m;
            }
        }
        if (ns == 0 || ew == 0) {
            n->kind = NODE_UNSIGNALIZED;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * JSON building helpers: they take ownership of `v` and record the first failure.
 * ------------------------------------------------------------------------------------------ */

static void put(builder_t *b, json_t *obj, const char *key, json_t *v) {
    if (b->failed) {
        json_decref(v);
    } else if (json_object_set_new(obj, key, v) != 0) { /* steals v even on failure */
        b->failed = 1;
    }
}

static void push(builder_t *b, json_t *arr, json_t *v) {
    if (b->failed) {
        json_decref(v);
    } else if (json_array_append_new(arr, v) != 0) { /* steals v even on failure */
        b->failed = 1;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Scenario sections.
 * ------------------------------------------------------------------------------------------ */

static json_t *emit_nodes(builder_t *b, const grid_t *g) {
    json_t *arr = json_array();
    for (long k = 0; k < g->n_nodes && !b->failed; k++) {
        const gen_node_t *n = &g->nodes[k];
        json_t *o = json_object();
        put(b, o, "id", json_string(n->id));
        put(b, o, "kind",
            json_string(n->kind == NODE_SIGNALIZED     ? "signalized"
                        : n->kind == NODE_UNSIGNALIZED ? "unsignalized"
                                                       : "boundary"));
        put(b, o, "x_m", json_real(n->x_m));
        put(b, o, "y_m", json_real(n->y_m));
        push(b, arr, o);
    }
    return arr;
}

static json_t *emit_links(builder_t *b, const grid_t *g, const gen_options_t *opt) {
    json_t *arr = json_array();
    for (long k = 0; k < g->n_links && !b->failed; k++) {
        const gen_link_t *l = &g->links[k];
        json_t *o = json_object();
        put(b, o, "id", json_string(l->id));
        put(b, o, "from", json_string(g->nodes[l->from].id));
        put(b, o, "to", json_string(g->nodes[l->to].id));
        put(b, o, "length_m", json_real(l->length_m));
        put(b, o, "lanes", json_integer(opt->lanes));
        put(b, o, "free_speed_kmh", json_real(opt->speed_kmh));
        push(b, arr, o);
    }
    return arr;
}

/* Movement id: the two link ids joined by '_' (SUMO grid ids contain no '_'). */
static void movement_id(const gen_link_t *from, const gen_link_t *to, char *buf, size_t size) {
    snprintf(buf, size, "%s_%s", from->id, to->id);
}

/* Movements of every link ending at a junction: through, left, right. */
static json_t *emit_movements(builder_t *b, const grid_t *g, const gen_options_t *opt) {
    static const char *const turn_names[3] = {"through", "left", "right"};
    json_t *arr = json_array();
    char id[4 * GEN_ID_LEN + 2];
    for (long k = 0; k < g->n_links && !b->failed; k++) {
        const gen_link_t *l = &g->links[k];
        const gen_node_t *n = &g->nodes[l->to];
        if (n->kind == NODE_BOUNDARY) {
            continue;
        }
        int turns[3] = {dir_opposite(l->from_dir), (l->from_dir + 1) % DIR_COUNT,
                        (l->from_dir + 3) % DIR_COUNT};
        for (int t = 0; t < 3; t++) {
            if (n->out[turns[t]] < 0) {
                continue;
            }
            const gen_link_t *to = &g->links[n->out[turns[t]]];
            movement_id(l, to, id, sizeof id);
            json_t *o = json_object();
            put(b, o, "id", json_string(id));
            put(b, o, "from", json_string(l->id));
            put(b, o, "to", json_string(to->id));
            put(b, o, "turn", json_string(turn_names[t]));
            put(b, o, "lanes", json_integer(t == 0 ? opt->lanes : 1));
            put(b, o, "sat_factor",
                json_real(t == 0   ? 1.0
                          : t == 1 ? GEN_SAT_LEFT
                                   : GEN_SAT_RIGHT));
            push(b, arr, o);
        }
    }
    return arr;
}

/* One signal entry for signalized node n (it has movements on both axes). Returns NULL (and
 * sets b->failed) on failure. */
static json_t *emit_signal(builder_t *b, const grid_t *g, const gen_node_t *n,
                           const gen_options_t *opt) {
    static const char *const group_ids[2] = {"NS", "EW"};
    json_t *groups = json_array(), *stages = json_array();
    json_t *splits = json_array(), *conflicts = json_array(), *pair = json_array();
    json_t *group_movs[2] = {json_array(), json_array()};
    char id[4 * GEN_ID_LEN + 2];
    /* Approaches in SUMO's order: from north, east, south, west. */
    for (int d = 0; d < DIR_COUNT; d++) {
        long in = n->in[d];
        if (in < 0) {
            continue;
        }
        const gen_link_t *l = &g->links[in];
        int grp = (d == DIR_N || d == DIR_S) ? 0 : 1;
        for (int t = 0; t < l->n_succ; t++) {
            movement_id(l, &g->links[l->succ[t]], id, sizeof id);
            push(b, group_movs[grp], json_string(id));
        }
    }
    double split = opt->cycle_s / 2.0;
    double green = split - opt->yellow_s - opt->red_clearance_s;
    double max_green = green > GEN_MAX_GREEN_S ? green : GEN_MAX_GREEN_S;
    for (int grp = 0; grp < 2; grp++) {
        json_t *o = json_object();
        put(b, o, "id", json_string(group_ids[grp]));
        put(b, o, "movements", group_movs[grp]);
        put(b, o, "min_green_s", json_real(GEN_MIN_GREEN_S));
        put(b, o, "max_green_s", json_real(max_green));
        put(b, o, "yellow_s", json_real(opt->yellow_s));
        put(b, o, "red_clearance_s", json_real(opt->red_clearance_s));
        push(b, groups, o);

        json_t *s = json_object(), *sg = json_array();
        push(b, sg, json_string(group_ids[grp]));
        put(b, s, "id", json_string(grp == 0 ? "S1" : "S2"));
        put(b, s, "groups", sg);
        push(b, stages, s);
        push(b, splits, json_real(split));
        push(b, pair, json_string(group_ids[grp]));
    }
    push(b, conflicts, pair);
    json_t *plan = json_object(), *plans = json_array();
    put(b, plan, "id", json_string("P1"));
    put(b, plan, "cycle_s", json_real(opt->cycle_s));
    put(b, plan, "offset_s", json_real(0.0));
    put(b, plan, "splits_s", splits);
    push(b, plans, plan);
    json_t *entry = json_object(), *schedule = json_array();
    put(b, entry, "from", json_string("00:00"));
    put(b, entry, "plan", json_string("P1"));
    push(b, schedule, entry);

    json_t *sig = json_object();
    put(b, sig, "node", json_string(n->id));
    put(b, sig, "groups", groups);
    put(b, sig, "conflicts", conflicts);
    put(b, sig, "stages", stages);
    put(b, sig, "plans", plans);
    put(b, sig, "schedule", schedule);
    if (b->failed) {
        json_decref(sig);
        return NULL;
    }
    return sig;
}

static json_t *emit_signals(builder_t *b, const grid_t *g, const gen_options_t *opt) {
    json_t *arr = json_array();
    for (long k = 0; k < g->n_nodes && !b->failed; k++) {
        const gen_node_t *n = &g->nodes[k];
        if (n->kind == NODE_SIGNALIZED) {
            push(b, arr, emit_signal(b, g, n, opt));
        }
    }
    return arr;
}

/* Corridor "row0_eb": row 0 from its west end (left0, or A0 without fringe) eastwards, fringe
 * links included. NULL if the row has no eastbound link (one column, no fringe). */
static json_t *emit_corridors(builder_t *b, const grid_t *g, const gen_options_t *o) {
    long node = o->attach_m > 0.0 ? o->rows * o->cols + 2 * o->cols : inner_index(o, 0, 0);
    if (g->nodes[node].out[DIR_E] < 0) {
        return NULL;
    }
    json_t *links = json_array();
    for (long k = g->nodes[node].out[DIR_E]; k >= 0; k = g->nodes[g->links[k].to].out[DIR_E]) {
        push(b, links, json_string(g->links[k].id));
    }
    json_t *c = json_object(), *arr = json_array();
    put(b, c, "id", json_string("row0_eb"));
    put(b, c, "name", json_string("Row 0 eastbound"));
    put(b, c, "links", links);
    push(b, arr, c);
    return arr;
}

static json_t *emit_detectors(builder_t *b, const grid_t *g) {
    json_t *arr = json_array();
    char id[2 * GEN_ID_LEN + 8];
    for (long k = 0; k < g->n_links && !b->failed; k++) {
        const gen_link_t *l = &g->links[k];
        if (g->nodes[l->to].kind != NODE_SIGNALIZED) {
            continue;
        }
        snprintf(id, sizeof id, "det_%s", l->id);
        json_t *o = json_object();
        put(b, o, "id", json_string(id));
        put(b, o, "link", json_string(l->id));
        put(b, o, "kind", json_string("stop_line"));
        push(b, arr, o);
    }
    return arr;
}

/* Index of the link the cumulative weights `cum` (ascending, last = total) select for u. */
static long pick_weighted(const double *cum, long n, double u) {
    double target = u * cum[n - 1];
    long lo = 0, hi = n - 1;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (cum[mid] > target) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

/* Breadth-first search over movements: is link `dst` reachable from link `src`? */
static int reachable(const grid_t *g, long src, long dst, long *queue, unsigned char *seen) {
    memset(seen, 0, (size_t)g->n_links);
    long head = 0, tail = 0;
    queue[tail++] = src;
    seen[src] = 1;
    while (head < tail) {
        const gen_link_t *l = &g->links[queue[head++]];
        for (int t = 0; t < l->n_succ; t++) {
            long s = l->succ[t];
            if (s == dst) {
                return 1;
            }
            if (!seen[s]) {
                seen[s] = 1;
                queue[tail++] = s;
            }
        }
    }
    return 0;
}

/* Demand: opt->pairs flows of opt->vph / pairs each. Returns the demand object, or NULL with
 * b->failed set on allocation failure, or NULL with *no_pair set when no OD pair fits. */
static json_t *emit_demand(builder_t *b, const grid_t *g, const gen_options_t *opt, int *no_pair) {
    double *cum_o = calloc((size_t)g->n_links, sizeof *cum_o);
    double *cum_d = calloc((size_t)g->n_links, sizeof *cum_d);
    long *queue = calloc((size_t)g->n_links, sizeof *queue);
    unsigned char *seen = calloc((size_t)g->n_links, 1);
    json_t *flows = json_array(), *demand = json_object();
    if (cum_o == NULL || cum_d == NULL || queue == NULL || seen == NULL) {
        b->failed = 1;
        goto done;
    }
    double so = 0.0, sd = 0.0;
    for (long k = 0; k < g->n_links; k++) {
        const gen_link_t *l = &g->links[k];
        so += l->n_succ > 0 ? l->length_m : 0.0;
        sd += g->nodes[l->from].kind != NODE_BOUNDARY ? l->length_m : 0.0;
        cum_o[k] = so;
        cum_d[k] = sd;
    }
    if (so <= 0.0 || sd <= 0.0) {
        *no_pair = 1;
        goto done;
    }
    uint64_t rng = opt->seed;
    int width = snprintf(NULL, 0, "%ld", opt->pairs - 1);
    double vph = opt->vph / (double)opt->pairs;
    for (long p = 0; p < opt->pairs && !b->failed; p++) {
        long tries = 0, o = -1, d = -1;
        for (; tries < GEN_TRIES_PER_OD; tries++) {
            o = pick_weighted(cum_o, g->n_links, rng_uniform(&rng));
            d = pick_weighted(cum_d, g->n_links, rng_uniform(&rng));
            const gen_node_t *a = &g->nodes[g->links[o].from], *z = &g->nodes[g->links[d].to];
            double dist = hypot(z->x_m - a->x_m, z->y_m - a->y_m);
            if (o != d && dist >= opt->min_trip_m && dist < opt->max_trip_m &&
                reachable(g, o, d, queue, seen)) {
                break;
            }
        }
        if (tries == GEN_TRIES_PER_OD) {
            *no_pair = 1;
            goto done;
        }
        char id[32];
        snprintf(id, sizeof id, "f%0*ld", width, p);
        json_t *f = json_object(), *mix = json_object(), *v = json_array();
        put(b, f, "id", json_string(id));
        put(b, f, "origin", json_string(g->links[o].id));
        put(b, f, "destination", json_string(g->links[d].id));
        put(b, mix, "car", json_real(1.0));
        put(b, f, "class_mix", mix);
        push(b, v, json_real(vph));
        put(b, f, "vph", v);
        push(b, flows, f);
    }
    put(b, demand, "flows", flows);
    flows = NULL;
done:
    free(cum_o);
    free(cum_d);
    free(queue);
    free(seen);
    json_decref(flows);
    if (b->failed || *no_pair) {
        json_decref(demand);
        return NULL;
    }
    return demand;
}

/* Builds the whole scenario. Returns a new reference, or NULL (b->failed or *no_pair). */
static json_t *build_scenario(builder_t *b, const grid_t *g, const gen_options_t *o, int *no_pair) {
    char name[64], desc[1024];
    snprintf(name, sizeof name, "grid%ldx%ld", o->rows, o->cols);
    snprintf(desc, sizeof desc,
             "%ld x %ld signalized grid from " GEN_PROG ": blocks %g m, fringe links %g m, "
             "%ld lanes, %g km/h; ids as SUMO netgenerate --grid. Fixed-time plan: cycle %g s, "
             "two equal stages NS then EW, yellow %g s, red clearance %g s. Approximate: links "
             "are node to node (SUMO lanes are shorter by the junction area); left turns are "
             "permitted with sat_factor %g, right turns sat_factor %g. Demand: %g veh/h over "
             "%ld Poisson OD flows, seed %" PRIu64 ".",
             o->rows, o->cols, o->block_m, o->attach_m, o->lanes, o->speed_kmh, o->cycle_s,
             o->yellow_s, o->red_clearance_s, GEN_SAT_LEFT, GEN_SAT_RIGHT, o->vph, o->pairs,
             o->seed);
    json_t *root = json_object();
    put(b, root, "format", json_string("greenwave-scenario"));
    put(b, root, "version", json_integer(1));
    put(b, root, "name", json_string(name));
    put(b, root, "description", json_string(desc));
    put(b, root, "duration_s", json_real(o->duration_s));
    put(b, root, "nodes", emit_nodes(b, g));
    put(b, root, "links", emit_links(b, g, o));
    put(b, root, "movements", emit_movements(b, g, o));
    put(b, root, "signals", emit_signals(b, g, o));
    json_t *corridors = emit_corridors(b, g, o);
    if (corridors != NULL) {
        put(b, root, "corridors", corridors);
    }
    put(b, root, "detectors", emit_detectors(b, g));
    if (o->vph > 0.0 && !b->failed) {
        put(b, root, "demand", emit_demand(b, g, o, no_pair));
    }
    if (b->failed) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static int write_scenario(const json_t *root, const char *path) {
    FILE *f = path != NULL ? fopen(path, "w") : stdout;
    if (f == NULL) {
        fprintf(stderr, GEN_PROG ": %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = json_dumpf(root, f, GEN_JSON_FLAGS) == 0 && fputc('\n', f) != EOF ? 0 : -1;
    if (fflush(f) != 0 || ferror(f)) {
        rc = -1;
    }
    if (path != NULL && fclose(f) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        fprintf(stderr, GEN_PROG ": %s: write failed\n", path != NULL ? path : "<stdout>");
    }
    return rc;
}

int main(int argc, char **argv) {
    gen_options_t opt;
    int rc = parse_args(argc, argv, &opt);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    double green = opt.cycle_s / 2.0 - opt.yellow_s - opt.red_clearance_s;
    if (green < GEN_MIN_GREEN_S) {
        fprintf(stderr,
                GEN_PROG ": --cycle-s %g leaves %g s of green per stage after yellow %g s and "
                         "red clearance %g s; need at least %g s\n",
                opt.cycle_s, green, opt.yellow_s, opt.red_clearance_s, GEN_MIN_GREEN_S);
        return 2;
    }

    grid_t grid;
    if (grid_build(&grid, &opt) != 0) {
        fprintf(stderr, GEN_PROG ": out of memory\n");
        return 1;
    }
    builder_t b = {0};
    int no_pair = 0;
    json_t *root = build_scenario(&b, &grid, &opt, &no_pair);
    grid_fini(&grid);
    if (root == NULL) {
        if (no_pair) {
            fprintf(stderr,
                    GEN_PROG
                    ": no reachable OD pair with straight-line distance in [%g, %g) m "
                    "found in %d draws; check --min-trip-m/--max-trip-m against the grid\n",
                    opt.min_trip_m, opt.max_trip_m, GEN_TRIES_PER_OD);
            return 2;
        }
        fprintf(stderr, GEN_PROG ": out of memory\n");
        return 1;
    }
    rc = write_scenario(root, opt.out_path);
    json_decref(root);
    return rc == 0 ? 0 : 1;
}
