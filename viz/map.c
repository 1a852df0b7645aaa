/*
 * viz/map.c - reads the map message into viz_map_t and precomputes the drawn geometry.
 *
 * Reading is one pass per array in dependency order (classes, nodes, links, movements,
 * signals, corridors, escorts); ids resolve by linear search, which is fine for the few hundred
 * elements a city network has and runs once per map. Geometry follows in three steps: each
 * node's setback is half the widest two-way road through it (plus a margin), each link's axis
 * is cut back by its end nodes' setbacks, then each signal head is placed at the stop line of
 * its approach, in the lane its turn uses (left turns leftmost, right turns rightmost).
 */
#include "viz/map.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const DEFAULT_CLASSES[] = {"car", "bus", "motorbike", "escort"};

typedef struct reader {
    viz_map_t *map;
    base_err_t *err;
} reader_t;

static const char *str_dup(reader_t *r, const char *s) {
    return base_arena_strdup(&r->map->arena, s ? s : "");
}

static void *arr_alloc(reader_t *r, size_t n, size_t size) {
    return base_arena_calloc(&r->map->arena, n ? n : 1, size);
}

static int oom(reader_t *r) {
    return base_err_set(r->err, BASE_ENOMEM, "out of memory reading the map");
}

/* Reads a string member; def when absent (NULL def: required). */
static int get_str(reader_t *r, json_t *obj, const char *key, const char *def, const char **out,
                   const char *path, size_t i) {
    json_t *v = json_object_get(obj, key);
    if (v == NULL && def != NULL) {
        *out = str_dup(r, def);
        return *out ? 0 : oom(r);
    }
    if (!json_is_string(v))
        return base_err_set(r->err, BASE_EINVAL, "map: $.%s[%zu].%s: must be a string", path, i,
                            key);
    *out = str_dup(r, json_string_value(v));
    return *out ? 0 : oom(r);
}

static int get_num(reader_t *r, json_t *obj, const char *key, double def, int required, double *out,
                   const char *path, size_t i) {
    json_t *v = json_object_get(obj, key);
    if (v == NULL && !required) {
        *out = def;
        return 0;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return base_err_set(r->err, BASE_EINVAL, "map: $.%s[%zu].%s: must be a number", path, i,
                            key);
    *out = json_number_value(v);
    return 0;
}

static int32_t find_node(const viz_map_t *m, const char *id) {
    for (int32_t i = 0; i < m->n_nodes; i++)
        if (strcmp(m->nodes[i].id, id) == 0)
            return i;
    return -1;
}

int32_t viz_map_link_index(const viz_map_t *map, const char *id) {
    for (int32_t i = 0; i < map->n_links; i++)
        if (strcmp(map->links[i].id, id) == 0)
            return i;
    return -1;
}

int32_t viz_map_corridor_index(const viz_map_t *map, const char *id) {
    for (int32_t i = 0; i < map->n_corridors; i++)
        if (strcmp(map->corridors[i].id, id) == 0)
            return i;
    return -1;
}

int32_t viz_map_class_index(const viz_map_t *map, const char *id) {
    for (int32_t i = 0; i < map->n_classes; i++)
        if (strcmp(map->classes[i], id) == 0)
            return i;
    return -1;
}

int32_t viz_map_group_index(const viz_map_t *map, const char *id) {
    for (int32_t i = 0; i < map->n_groups; i++)
        if (strcmp(map->groups[i].id, id) == 0)
            return i;
    return -1;
}

static int32_t find_movement(const viz_map_t *m, const char *id) {
    for (int32_t i = 0; i < m->n_movements; i++)
        if (strcmp(m->movements[i].id, id) == 0)
            return i;
    return -1;
}

/* Returns the array member key (an empty array if absent and optional). */
static int get_array(reader_t *r, json_t *root, const char *key, int required, json_t **out) {
    json_t *a = json_object_get(root, key);
    if (a == NULL && !required) {
        *out = NULL;
        return 0;
    }
    if (!json_is_array(a))
        return base_err_set(r->err, BASE_EINVAL, "map: $.%s: must be an array", key);
    *out = a;
    return 0;
}

/* Reads an array of link ids at path into *links. */
static int read_link_list(reader_t *r, json_t *a, const char *path, size_t i, const char *key,
                          int32_t **links, int *n) {
    if (!json_is_array(a))
        return base_err_set(r->err, BASE_EINVAL, "map: $.%s[%zu].%s: must be an array", path, i,
                            key);
    *n = (int)json_array_size(a);
    *links = arr_alloc(r, (size_t)*n, sizeof **links);
    if (*links == NULL)
        return oom(r);
    for (size_t k = 0; k < json_array_size(a); k++) {
        json_t *v = json_array_get(a, k);
        int32_t l = json_is_string(v) ? viz_map_link_index(r->map, json_string_value(v)) : -1;
        if (l < 0)
            return base_err_set(r->err, BASE_EINVAL, "map: $.%s[%zu].%s[%zu]: unknown link", path,
                                i, key, k);
        (*links)[k] = l;
    }
    return 0;
}

static int read_classes(reader_t *r, json_t *root) {
    viz_map_t *m = r->map;
    json_t *a = NULL;
    if (get_array(r, root, "vehicle_classes", 0, &a) < 0)
        return BASE_EINVAL;
    size_t n = a ? json_array_size(a) : 4;
    m->classes = arr_alloc(r, n, sizeof *m->classes);
    if (m->classes == NULL)
        return oom(r);
    m->n_classes = (int32_t)n;
    for (size_t i = 0; i < n; i++) {
        if (a == NULL) {
            m->classes[i] = str_dup(r, DEFAULT_CLASSES[i]);
        } else if (get_str(r, json_array_get(a, i), "id", NULL, &m->classes[i], "vehicle_classes",
                           i) < 0) {
            return BASE_EINVAL;
        }
        if (m->classes[i] == NULL)
            return oom(r);
    }
    return 0;
}

static int read_nodes(reader_t *r, json_t *root) {
    viz_map_t *m = r->map;
    json_t *a = NULL;
    if (get_array(r, root, "nodes", 1, &a) < 0)
        return BASE_EINVAL;
    m->n_nodes = (int32_t)json_array_size(a);
    m->nodes = arr_alloc(r, (size_t)m->n_nodes, sizeof *m->nodes);
    if (m->nodes == NULL)
        return oom(r);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *o = json_array_get(a, i);
        viz_node_t *n = &m->nodes[i];
        const char *kind;
        if (!json_is_object(o))
            return base_err_set(r->err, BASE_EINVAL, "map: $.nodes[%zu]: must be an object", i);
        if (get_str(r, o, "id", NULL, &n->id, "nodes", i) < 0 ||
            get_str(r, o, "name", n->id, &n->name, "nodes", i) < 0 ||
            get_str(r, o, "kind", "unsignalized", &kind, "nodes", i) < 0 ||
            get_num(r, o, "x_m", 0, 1, &n->x, "nodes", i) < 0 ||
            get_num(r, o, "y_m", 0, 1, &n->y, "nodes", i) < 0)
            return BASE_EINVAL;
        n->kind = strcmp(kind, "signalized") == 0 ? VIZ_NODE_SIGNALIZED
                  : strcmp(kind, "boundary") == 0 ? VIZ_NODE_BOUNDARY
                                                  : VIZ_NODE_UNSIGNALIZED;
        n->signal = -1;
    }
    return 0;
}

/* The optional polyline of link i: at least 2 points [x, y]; repeated points are dropped. */
static int read_shape(reader_t *r, json_t *a, viz_link_t *l, size_t i) {
    if (a == NULL)
        return 0;
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    l->shape_xy = arr_alloc(r, 2 * n + 2, sizeof *l->shape_xy);
    l->shape_cum = arr_alloc(r, n + 1, sizeof *l->shape_cum);
    if (l->shape_xy == NULL || l->shape_cum == NULL)
        return oom(r);
    int k = 0;
    for (size_t p = 0; p < n; p++) {
        json_t *pt = json_array_get(a, p);
        json_t *x = json_array_get(pt, 0), *y = json_array_get(pt, 1);
        if (!json_is_array(pt) || !json_is_number(x) || !json_is_number(y))
            return base_err_set(r->err, BASE_EINVAL, "map: $.links[%zu].shape[%zu]: must be [x, y]",
                                i, p);
        double px = json_number_value(x), py = json_number_value(y);
        double d = k ? hypot(px - l->shape_xy[2 * k - 2], py - l->shape_xy[2 * k - 1]) : 0;
        if (k && d < 1e-6)
            continue;
        l->shape_xy[2 * k] = px;
        l->shape_xy[2 * k + 1] = py;
        l->shape_cum[k] = k ? l->shape_cum[k - 1] + d : 0;
        k++;
    }
    if (k < 2)
        return base_err_set(r->err, BASE_EINVAL,
                            "map: $.links[%zu].shape: needs at least 2 distinct points", i);
    l->n_shape = k;
    return 0;
}

static int read_links(reader_t *r, json_t *root) {
    viz_map_t *m = r->map;
    json_t *a = NULL;
    if (get_array(r, root, "links", 1, &a) < 0)
        return BASE_EINVAL;
    m->n_links = (int32_t)json_array_size(a);
    m->links = arr_alloc(r, (size_t)m->n_links, sizeof *m->links);
    if (m->links == NULL)
        return oom(r);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *o = json_array_get(a, i);
        viz_link_t *l = &m->links[i];
        const char *from, *to;
        double lanes;
        if (!json_is_object(o))
            return base_err_set(r->err, BASE_EINVAL, "map: $.links[%zu]: must be an object", i);
        if (get_str(r, o, "id", NULL, &l->id, "links", i) < 0 ||
            get_str(r, o, "name", l->id, &l->name, "links", i) < 0 ||
            get_str(r, o, "from", NULL, &from, "links", i) < 0 ||
            get_str(r, o, "to", NULL, &to, "links", i) < 0 ||
            get_num(r, o, "length_m", 0, 1, &l->length_m, "links", i) < 0 ||
            get_num(r, o, "lanes", 1, 0, &lanes, "links", i) < 0 ||
            get_num(r, o, "free_speed_kmh", 50, 0, &l->free_speed_kmh, "links", i) < 0)
            return BASE_EINVAL;
        l->from = find_node(m, from);
        l->to = find_node(m, to);
        if (l->from < 0 || l->to < 0)
            return base_err_set(r->err, BASE_EINVAL, "map: $.links[%zu].%s: unknown node \"%s\"", i,
                                l->from < 0 ? "from" : "to", l->from < 0 ? from : to);
        if (!(l->length_m > 0) || lanes < 1 || lanes > 64)
            return base_err_set(r->err, BASE_EINVAL,
                                "map: $.links[%zu]: length_m must be > 0 and lanes in [1, 64]", i);
        l->lanes = (int)lanes;
        if (read_shape(r, json_object_get(o, "shape"), l, i) < 0)
            return BASE_EINVAL;
    }
    return 0;
}

static int turn_of(const char *s) {
    if (strcmp(s, "left") == 0)
        return VIZ_TURN_LEFT;
    if (strcmp(s, "right") == 0)
        return VIZ_TURN_RIGHT;
    if (strcmp(s, "uturn") == 0)
        return VIZ_TURN_UTURN;
    return VIZ_TURN_THROUGH;
}

static int read_movements(reader_t *r, json_t *root) {
    viz_map_t *m = r->map;
    json_t *a = NULL;
    if (get_array(r, root, "movements", 0, &a) < 0)
        return BASE_EINVAL;
    m->n_movements = a ? (int32_t)json_array_size(a) : 0;
    m->movements = arr_alloc(r, (size_t)m->n_movements, sizeof *m->movements);
    if (m->movements == NULL)
        return oom(r);
    for (int32_t i = 0; i < m->n_movements; i++) {
        json_t *o = json_array_get(a, (size_t)i);
        viz_movement_t *mv = &m->movements[i];
        const char *from, *to, *turn;
        if (!json_is_object(o))
            return base_err_set(r->err, BASE_EINVAL, "map: $.movements[%d]: must be an object",
                                (int)i);
        if (get_str(r, o, "id", NULL, &mv->id, "movements", (size_t)i) < 0 ||
            get_str(r, o, "from", NULL, &from, "movements", (size_t)i) < 0 ||
            get_str(r, o, "to", NULL, &to, "movements", (size_t)i) < 0 ||
            get_str(r, o, "turn", "through", &turn, "movements", (size_t)i) < 0)
            return BASE_EINVAL;
        mv->from = viz_map_link_index(m, from);
        mv->to = viz_map_link_index(m, to);
        if (mv->from < 0 || mv->to < 0)
            return base_err_set(r->err, BASE_EINVAL, "map: $.movements[%d].%s: unknown link \"%s\"",
                                (int)i, mv->from < 0 ? "from" : "to", mv->from < 0 ? from : to);
        mv->turn = turn_of(turn);
        mv->group = -1;
    }
    return 0;
}

static int parse_hhmm(const char *s, int32_t *sec) {
    int h = 0, mi = 0, se = 0;
    int n = sscanf(s, "%d:%d:%d", &h, &mi, &se);
    if (n < 2 || h < 0 || h > 48 || mi < 0 || mi > 59 || se < 0 || se > 59)
        return -1;
    *sec = h * 3600 + mi * 60 + se;
    return 0;
}

static int read_signal(reader_t *r, json_t *o, size_t i, viz_signal_t *s, int32_t *group_at) {
    viz_map_t *m = r->map;
    const char *node;
    if (!json_is_object(o))
        return base_err_set(r->err, BASE_EINVAL, "map: $.signals[%zu]: must be an object", i);
    if (get_str(r, o, "node", NULL, &node, "signals", i) < 0)
        return BASE_EINVAL;
    s->node = find_node(m, node);
    if (s->node < 0)
        return base_err_set(r->err, BASE_EINVAL, "map: $.signals[%zu].node: unknown node \"%s\"", i,
                            node);
    m->nodes[s->node].signal = (int32_t)i;
    json_t *groups = json_object_get(o, "groups");
    if (!json_is_array(groups))
        return base_err_set(r->err, BASE_EINVAL, "map: $.signals[%zu].groups: must be an array", i);
    s->first_group = *group_at;
    s->n_groups = (int32_t)json_array_size(groups);
    for (size_t g = 0; g < json_array_size(groups); g++) {
        json_t *go = json_array_get(groups, g);
        viz_group_t *vg = &m->groups[*group_at];
        char path[64];
        snprintf(path, sizeof path, "signals[%zu].groups", i);
        if (!json_is_object(go) || get_str(r, go, "id", NULL, &vg->id, path, g) < 0)
            return base_err_set(r->err, BASE_EINVAL, "map: $.%s[%zu].id: must be a string", path,
                                g);
        vg->signal = (int32_t)i;
        json_t *mvs = json_object_get(go, "movements");
        for (size_t k = 0; json_is_array(mvs) && k < json_array_size(mvs); k++) {
            json_t *v = json_array_get(mvs, k);
            int32_t mv = json_is_string(v) ? find_movement(m, json_string_value(v)) : -1;
            if (mv < 0)
                return base_err_set(r->err, BASE_EINVAL,
                                    "map: $.%s[%zu].movements[%zu]: unknown movement", path, g, k);
            m->movements[mv].group = *group_at;
        }
        (*group_at)++;
    }
    json_t *stages = json_object_get(o, "stages");
    s->n_stages = json_is_array(stages) ? (int)json_array_size(stages) : 0;
    s->stages = arr_alloc(r, (size_t)s->n_stages, sizeof *s->stages);
    if (s->stages == NULL)
        return oom(r);
    for (int k = 0; k < s->n_stages; k++) {
        json_t *so = json_array_get(stages, (size_t)k);
        viz_stage_t *st = &s->stages[k];
        char path[64];
        snprintf(path, sizeof path, "signals[%zu].stages", i);
        if (!json_is_object(so) || get_str(r, so, "id", NULL, &st->id, path, (size_t)k) < 0)
            return base_err_set(r->err, BASE_EINVAL, "map: $.%s[%d]: needs an id", path, k);
        json_t *gs = json_object_get(so, "groups");
        st->n_groups = json_is_array(gs) ? (int)json_array_size(gs) : 0;
        st->groups = arr_alloc(r, (size_t)st->n_groups, sizeof *st->groups);
        if (st->groups == NULL)
            return oom(r);
        for (int q = 0; q < st->n_groups; q++) {
            json_t *v = json_array_get(gs, (size_t)q);
            int32_t gi = -1;
            for (int32_t t = s->first_group; json_is_string(v) && t < *group_at; t++)
                if (strcmp(m->groups[t].id, json_string_value(v)) == 0)
                    gi = t;
            if (gi < 0)
                return base_err_set(r->err, BASE_EINVAL, "map: $.%s[%d].groups[%d]: unknown group",
                                    path, k, q);
            st->groups[q] = gi;
        }
    }
    json_t *plans = json_object_get(o, "plans");
    s->n_plans = json_is_array(plans) ? (int)json_array_size(plans) : 0;
    s->plans = arr_alloc(r, (size_t)s->n_plans, sizeof *s->plans);
    if (s->plans == NULL)
        return oom(r);
    for (int k = 0; k < s->n_plans; k++) {
        json_t *po = json_array_get(plans, (size_t)k);
        viz_plan_t *p = &s->plans[k];
        char path[64];
        snprintf(path, sizeof path, "signals[%zu].plans", i);
        if (!json_is_object(po) || get_str(r, po, "id", NULL, &p->id, path, (size_t)k) < 0 ||
            get_num(r, po, "cycle_s", 0, 1, &p->cycle_s, path, (size_t)k) < 0 ||
            get_num(r, po, "offset_s", 0, 0, &p->offset_s, path, (size_t)k) < 0)
            return base_err_set(r->err, BASE_EINVAL, "map: $.%s[%d]: needs id and cycle_s", path,
                                k);
        json_t *sp = json_object_get(po, "splits_s");
        p->n_splits = json_is_array(sp) ? (int)json_array_size(sp) : 0;
        p->splits_s = arr_alloc(r, (size_t)p->n_splits, sizeof *p->splits_s);
        if (p->splits_s == NULL)
            return oom(r);
        for (int q = 0; q < p->n_splits; q++)
            p->splits_s[q] = json_number_value(json_array_get(sp, (size_t)q));
    }
    json_t *sched = json_object_get(o, "schedule");
    s->n_sched = json_is_array(sched) ? (int)json_array_size(sched) : 0;
    s->sched_from_s = arr_alloc(r, (size_t)s->n_sched, sizeof *s->sched_from_s);
    s->sched_plan = arr_alloc(r, (size_t)s->n_sched, sizeof *s->sched_plan);
    if (s->sched_from_s == NULL || s->sched_plan == NULL)
        return oom(r);
    for (int k = 0; k < s->n_sched; k++) {
        json_t *e = json_array_get(sched, (size_t)k);
        const char *from = json_string_value(json_object_get(e, "from"));
        const char *plan = json_string_value(json_object_get(e, "plan"));
        s->sched_plan[k] = -1;
        if (from == NULL || plan == NULL || parse_hhmm(from, &s->sched_from_s[k]) < 0)
            return base_err_set(r->err, BASE_EINVAL,
                                "map: $.signals[%zu].schedule[%d]: needs from \"HH:MM\" and plan",
                                i, k);
        for (int q = 0; q < s->n_plans; q++)
            if (strcmp(s->plans[q].id, plan) == 0)
                s->sched_plan[k] = q;
    }
    return 0;
}

static int read_signals(reader_t *r, json_t *root) {
    viz_map_t *m = r->map;
    json_t *a = NULL;
    if (get_array(r, root, "signals", 0, &a) < 0)
        return BASE_EINVAL;
    m->n_signals = a ? (int32_t)json_array_size(a) : 0;
    size_t n_groups = 0;
    for (int32_t i = 0; i < m->n_signals; i++)
        n_groups += json_array_size(json_object_get(json_array_get(a, (size_t)i), "groups"));
    m->signals = arr_alloc(r, (size_t)m->n_signals, sizeof *m->signals);
    m->groups = arr_alloc(r, n_groups, sizeof *m->groups);
    if (m->signals == NULL || m->groups == NULL)
        return oom(r);
    int32_t at = 0;
    for (int32_t i = 0; i < m->n_signals; i++) {
        int rc = read_signal(r, json_array_get(a, (size_t)i), (size_t)i, &m->signals[i], &at);
        if (rc < 0)
            return rc;
    }
    m->n_groups = at;
    return 0;
}

static int read_corridors(reader_t *r, json_t *root) {
    viz_map_t *m = r->map;
    json_t *a = NULL;
    if (get_array(r, root, "corridors", 0, &a) < 0)
        return BASE_EINVAL;
    m->n_corridors = a ? (int32_t)json_array_size(a) : 0;
    m->corridors = arr_alloc(r, (size_t)m->n_corridors, sizeof *m->corridors);
    if (m->corridors == NULL)
        return oom(r);
    for (int32_t i = 0; i < m->n_corridors; i++) {
        json_t *o = json_array_get(a, (size_t)i);
        viz_corridor_t *c = &m->corridors[i];
        if (!json_is_object(o) || get_str(r, o, "id", NULL, &c->id, "corridors", (size_t)i) < 0 ||
            get_str(r, o, "name", c->id, &c->name, "corridors", (size_t)i) < 0)
            return base_err_set(r->err, BASE_EINVAL, "map: $.corridors[%d]: needs an id", (int)i);
        int rc = read_link_list(r, json_object_get(o, "links"), "corridors", (size_t)i, "links",
                                &c->links, &c->n_links);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int read_escorts(reader_t *r, json_t *root) {
    viz_map_t *m = r->map;
    json_t *a = NULL;
    if (get_array(r, root, "escorts", 0, &a) < 0)
        return BASE_EINVAL;
    m->n_escorts = a ? (int32_t)json_array_size(a) : 0;
    m->escorts = arr_alloc(r, (size_t)m->n_escorts, sizeof *m->escorts);
    if (m->escorts == NULL)
        return oom(r);
    for (int32_t i = 0; i < m->n_escorts; i++) {
        json_t *o = json_array_get(a, (size_t)i);
        viz_escort_t *e = &m->escorts[i];
        if (!json_is_object(o) || get_str(r, o, "id", NULL, &e->id, "escorts", (size_t)i) < 0)
            return base_err_set(r->err, BASE_EINVAL, "map: $.escorts[%d]: needs an id", (int)i);
        int rc = read_link_list(r, json_object_get(o, "route"), "escorts", (size_t)i, "route",
                                &e->route, &e->n_route);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int has_reverse(const viz_map_t *m, const viz_link_t *l) {
    for (int32_t i = 0; i < m->n_links; i++)
        if (m->links[i].from == l->to && m->links[i].to == l->from)
            return 1;
    return 0;
}

/* Setbacks, link axes, heads and the bounding box. */
static int build_geometry(reader_t *r) {
    viz_map_t *m = r->map;
    for (int32_t i = 0; i < m->n_links; i++) {
        viz_link_t *l = &m->links[i];
        if (l->n_shape)
            continue; /* drawn on its own geometry */
        double half = l->lanes * VIZ_LANE_W_M + 0.5;
        viz_node_t *ends[2] = {&m->nodes[l->from], &m->nodes[l->to]};
        for (int e = 0; e < 2; e++)
            if (ends[e]->kind != VIZ_NODE_BOUNDARY && half + 2.0 > ends[e]->setback_m)
                ends[e]->setback_m = half + 2.0;
    }
    for (int32_t i = 0; i < m->n_links; i++) {
        viz_link_t *l = &m->links[i];
        if (l->n_shape) {
            const double *xy = l->shape_xy;
            int n = l->n_shape;
            l->ax = xy[0];
            l->ay = xy[1];
            l->bx = xy[2 * n - 2];
            l->by = xy[2 * n - 1];
            l->draw_len = l->shape_cum[n - 1];
            double d = hypot(l->bx - l->ax, l->by - l->ay);
            l->ux = d > 1e-6 ? (l->bx - l->ax) / d : 1;
            l->uy = d > 1e-6 ? (l->by - l->ay) / d : 0;
            l->nx = l->uy;
            l->ny = -l->ux;
            l->off0 = -0.5 * l->lanes * VIZ_LANE_W_M;
            continue;
        }
        const viz_node_t *a = &m->nodes[l->from], *b = &m->nodes[l->to];
        double dx = b->x - a->x, dy = b->y - a->y, d = hypot(dx, dy);
        if (d < 1e-6) {
            dx = 1;
            dy = 0;
            d = 1;
        }
        l->ux = dx / d;
        l->uy = dy / d;
        l->nx = l->uy; /* right of (ux, uy) with y north */
        l->ny = -l->ux;
        double sa = a->setback_m, sb = b->setback_m;
        if (sa + sb > 0.8 * d) { /* short link: keep a fifth of it */
            double k = 0.8 * d / (sa + sb);
            sa *= k;
            sb *= k;
        }
        l->ax = a->x + l->ux * sa;
        l->ay = a->y + l->uy * sa;
        l->bx = b->x - l->ux * sb;
        l->by = b->y - l->uy * sb;
        l->draw_len = d - sa - sb;
        l->off0 = has_reverse(m, l) ? 0.25 : -0.5 * l->lanes * VIZ_LANE_W_M;
    }
    m->min_x = m->min_y = 1e300;
    m->max_x = m->max_y = -1e300;
    for (int32_t i = 0; i < m->n_nodes; i++) {
        const viz_node_t *n = &m->nodes[i];
        m->min_x = fmin(m->min_x, n->x - n->setback_m);
        m->max_x = fmax(m->max_x, n->x + n->setback_m);
        m->min_y = fmin(m->min_y, n->y - n->setback_m);
        m->max_y = fmax(m->max_y, n->y + n->setback_m);
    }
    for (int32_t i = 0; i < m->n_links; i++) {
        const viz_link_t *l = &m->links[i];
        for (int k = 0; k < l->n_shape; k++) {
            m->min_x = fmin(m->min_x, l->shape_xy[2 * k]);
            m->max_x = fmax(m->max_x, l->shape_xy[2 * k]);
            m->min_y = fmin(m->min_y, l->shape_xy[2 * k + 1]);
            m->max_y = fmax(m->max_y, l->shape_xy[2 * k + 1]);
        }
    }
    /* Heads: one per (group, approach link). */
    int32_t n = 0;
    m->heads = arr_alloc(r, (size_t)m->n_movements, sizeof *m->heads);
    if (m->heads == NULL)
        return oom(r);
    for (int32_t i = 0; i < m->n_movements; i++) {
        const viz_movement_t *mv = &m->movements[i];
        if (mv->group < 0)
            continue;
        int32_t h = 0;
        while (h < n && !(m->heads[h].group == mv->group && m->heads[h].link == mv->from))
            h++;
        const viz_link_t *l = &m->links[mv->from];
        int lane = l->lanes / 2; /* through: the middle lane */
        if (mv->turn == VIZ_TURN_LEFT || mv->turn == VIZ_TURN_UTURN)
            lane = l->lanes - 1;
        else if (mv->turn == VIZ_TURN_RIGHT)
            lane = 0;
        if (h < n) {
            if (mv->turn != VIZ_TURN_THROUGH)
                continue; /* a group's through lane wins over its turns */
        } else {
            n++;
        }
        double ux, uy;
        m->heads[h].group = mv->group;
        m->heads[h].link = mv->from;
        viz_map_link_point(m, mv->from, l->length_m, lane, &m->heads[h].x, &m->heads[h].y, &ux,
                           &uy);
    }
    m->n_heads = n;
    return 0;
}

viz_map_t *viz_map_new(const char *json, base_err_t *err) {
    json_error_t je;
    json_t *root = json_loads(json ? json : "", 0, &je);
    if (root == NULL) {
        base_err_set(err, BASE_EPARSE, "map:%d:%d: %s", je.line, je.column, je.text);
        return NULL;
    }
    viz_map_t *m = calloc(1, sizeof *m);
    reader_t r = {m, err};
    if (m == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory reading the map");
        goto fail;
    }
    base_arena_init(&m->arena);
    if (!json_is_object(root)) {
        base_err_set(err, BASE_EINVAL, "map: the document must be a JSON object");
        goto fail;
    }
    const char *name = json_string_value(json_object_get(root, "name"));
    m->name = str_dup(&r, name ? name : "network");
    const char *st = json_string_value(json_object_get(root, "start_time"));
    int32_t tod = 0;
    if (st != NULL && parse_hhmm(st, &tod) < 0) {
        base_err_set(err, BASE_EINVAL, "map: $.start_time: must be \"HH:MM:SS\"");
        goto fail;
    }
    m->start_tod_ms = (int64_t)tod * 1000;
    if (m->name == NULL) {
        oom(&r);
        goto fail;
    }
    if (read_classes(&r, root) < 0 || read_nodes(&r, root) < 0 || read_links(&r, root) < 0 ||
        read_movements(&r, root) < 0 || read_signals(&r, root) < 0 ||
        read_corridors(&r, root) < 0 || read_escorts(&r, root) < 0 || build_geometry(&r) < 0)
        goto fail;
    if (m->n_nodes == 0 || m->n_links == 0) {
        base_err_set(err, BASE_EINVAL, "map: needs at least one node and one link");
        goto fail;
    }
    json_decref(root);
    return m;
fail:
    json_decref(root);
    viz_map_destroy(&m);
    return NULL;
}

void viz_map_destroy(viz_map_t **map_p) {
    if (map_p == NULL || *map_p == NULL)
        return;
    base_arena_fini(&(*map_p)->arena);
    free(*map_p);
    *map_p = NULL;
}

int viz_map_link_point(const viz_map_t *map, int32_t link, double pos_m, int lane, double *x,
                       double *y, double *ux, double *uy) {
    if (link < 0 || link >= map->n_links)
        return BASE_ERANGE;
    const viz_link_t *l = &map->links[link];
    double t = pos_m / l->length_m;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    if (lane < 0)
        lane = 0;
    if (lane >= l->lanes)
        lane = l->lanes - 1;
    double off = l->off0 + (l->lanes - lane - 0.5) * VIZ_LANE_W_M;
    if (l->n_shape) {
        double s = t * l->draw_len;
        int k = 0; /* the piece [k, k + 1] that holds s */
        while (k < l->n_shape - 2 && l->shape_cum[k + 1] < s)
            k++;
        viz_link_t p = viz_map_link_piece(l, k);
        double u = s - l->shape_cum[k];
        *x = p.ax + p.ux * u + p.nx * off;
        *y = p.ay + p.uy * u + p.ny * off;
        *ux = p.ux;
        *uy = p.uy;
        return 0;
    }
    *x = l->ax + l->ux * t * l->draw_len + l->nx * off;
    *y = l->ay + l->uy * t * l->draw_len + l->ny * off;
    *ux = l->ux;
    *uy = l->uy;
    return 0;
}

int viz_map_link_pieces(const viz_link_t *l) {
    return l->n_shape ? l->n_shape - 1 : 1;
}

viz_link_t viz_map_link_piece(const viz_link_t *l, int k) {
    viz_link_t p = *l;
    if (!l->n_shape)
        return p;
    const double *a = &l->shape_xy[2 * k], *b = &l->shape_xy[2 * k + 2];
    double d = l->shape_cum[k + 1] - l->shape_cum[k];
    p.ax = a[0];
    p.ay = a[1];
    p.bx = b[0];
    p.by = b[1];
    p.ux = (b[0] - a[0]) / d;
    p.uy = (b[1] - a[1]) / d;
    p.nx = p.uy;
    p.ny = -p.ux;
    p.draw_len = d;
    p.n_shape = 0;
    return p;
}

int32_t viz_map_movement_between(const viz_map_t *map, int32_t from, int32_t to) {
    for (int32_t i = 0; i < map->n_movements; i++)
        if (map->movements[i].from == from && map->movements[i].to == to)
            return i;
    return -1;
}

int viz_map_escort_route(const viz_map_t *map, const int32_t **links) {
    int32_t c = viz_map_corridor_index(map, "escort_route");
    if (c >= 0) {
        *links = map->corridors[c].links;
        return map->corridors[c].n_links;
    }
    if (map->n_escorts > 0) {
        *links = map->escorts[0].route;
        return map->escorts[0].n_route;
    }
    *links = NULL;
    return 0;
}

const viz_plan_t *viz_map_plan_at(const viz_map_t *map, int32_t s, double tod_s) {
    if (s < 0 || s >= map->n_signals)
        return NULL;
    const viz_signal_t *sig = &map->signals[s];
    int32_t plan = sig->n_plans > 0 ? 0 : -1;
    double day = fmod(tod_s, 86400.0);
    for (int k = 0; k < sig->n_sched; k++)
        if (sig->sched_from_s[k] <= day && sig->sched_plan[k] >= 0)
            plan = sig->sched_plan[k];
    return plan >= 0 ? &sig->plans[plan] : NULL;
}
