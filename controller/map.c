/*
 * controller/map.c - the static map of a session: the hello's scenario document (without
 * demand) parsed by the scenario loader, and the indexes the strategies look things up in.
 *
 * Ids arrive as strings in every tick, so nodes-with-signals, links and detectors get a hash
 * table (id -> index) each: O(1) per lookup (a hash and, mostly, one comparison; in-process
 * the ids are the map's own strings and compare by address), built once per session in O(n). Per
 * signal and group, the detectors on the group's approach links (the from-links of its movements)
 * are listed once, for actuated control. Only the static data of sim/scenario.h is used; the
 * controller never builds a sim_t.
 */
#include "controller/ctl_internal.h"
#include "scenarios/loader.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a. */
static uint64_t hash_id(const char *id) {
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
        h = (h ^ *p) * UINT64_C(1099511628211);
    return h;
}

/* An open-addressing table of n ids (linear probing, at most half full). */
static int index_build(ctl__index_t *x, int32_t n,
                       const char *(*id_of)(const sim_scenario_t *, int32_t),
                       const sim_scenario_t *scn) {
    size_t cap = 2;
    while (cap < 2 * (size_t)n)
        cap *= 2;
    x->slots = calloc(cap, sizeof *x->slots);
    if (x->slots == NULL)
        return BASE_ENOMEM;
    x->mask = cap - 1;
    for (int32_t i = 0; i < n; i++) {
        const char *id = id_of(scn, i);
        size_t k = (size_t)hash_id(id) & x->mask;
        while (x->slots[k].id != NULL)
            k = (k + 1) & x->mask;
        x->slots[k].id = id;
        x->slots[k].i = i;
    }
    return BASE_OK;
}

static int32_t find(const ctl__index_t *x, const char *id) {
    if (id == NULL || x->slots == NULL)
        return -1;
    /* The first entry of an id listed twice is found (the loader refuses such maps). */
    for (size_t k = (size_t)hash_id(id) & x->mask; x->slots[k].id != NULL; k = (k + 1) & x->mask)
        if (x->slots[k].id == id || strcmp(x->slots[k].id, id) == 0)
            return x->slots[k].i;
    return -1;
}

static const char *signal_id(const sim_scenario_t *scn, int32_t s) {
    return scn->nodes[scn->signals[s].node].id;
}

static const char *link_id(const sim_scenario_t *scn, int32_t l) {
    return scn->links[l].id;
}

static const char *detector_id(const sim_scenario_t *scn, int32_t d) {
    return scn->detectors[d].id;
}

int32_t ctl__map_signal(const ctl__map_t *map, const char *node_id) {
    return find(&map->by_node_signal, node_id);
}

int32_t ctl__map_link(const ctl__map_t *map, const char *link_id) {
    return find(&map->by_link, link_id);
}

int32_t ctl__map_detector(const ctl__map_t *map, const char *detector_id) {
    return find(&map->by_detector, detector_id);
}

int32_t ctl__map_stage(const ctl__map_t *map, int32_t s, const char *stage_id) {
    if (map->scn == NULL || s < 0 || s >= map->scn->n_signals || stage_id == NULL)
        return -1;
    const sim_signal_t *sig = &map->scn->signals[s];
    /* Ids already resolved to the map's own strings (controller/sync.c) match by address. */
    for (int32_t k = 0; k < sig->n_stages; k++)
        if (sig->stages[k].id == stage_id)
            return k;
    for (int32_t k = 0; k < sig->n_stages; k++)
        if (strcmp(sig->stages[k].id, stage_id) == 0)
            return k;
    return -1;
}

int32_t ctl__map_movement(const ctl__map_t *map, int32_t in, int32_t out) {
    const sim_scenario_t *scn = map->scn;
    if (scn == NULL || in < 0 || in >= scn->n_links)
        return -1;
    const sim_link_t *l = &scn->links[in];
    for (int32_t i = 0; i < l->out_count; i++) {
        int32_t m = scn->link_out[l->out_first + i];
        if (out < 0 || scn->movements[m].to == out)
            return m;
    }
    return -1;
}

int64_t ctl__map_intergreen(const sim_signal_t *sig, uint64_t from, uint64_t to) {
    uint64_t ending = from & ~to;
    int64_t ig = 0;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        if (!(ending & (UINT64_C(1) << g)))
            continue;
        int64_t t = sig->groups[g].yellow + sig->groups[g].red_clearance;
        if (t > ig)
            ig = t;
    }
    return ig;
}

int64_t ctl__map_new_min_green(const sim_signal_t *sig, uint64_t stage, uint64_t before) {
    uint64_t starting = stage & ~before;
    int64_t m = 0;
    for (int32_t g = 0; g < sig->n_groups; g++)
        if ((starting & (UINT64_C(1) << g)) && sig->groups[g].min_green > m)
            m = sig->groups[g].min_green;
    return m;
}

int64_t ctl__map_max_green(const sim_signal_t *sig, uint64_t stage) {
    int64_t m = 0;
    for (int32_t g = 0; g < sig->n_groups; g++)
        if ((stage & (UINT64_C(1) << g)) && sig->groups[g].max_green > m)
            m = sig->groups[g].max_green;
    return m;
}

double ctl__map_headway_ms(const ctl__map_t *map, int32_t m) {
    const sim_movement_t *mv = &map->scn->movements[m];
    const sim_link_t *l = &map->scn->links[mv->from];
    double vph = l->sat_flow_vphpl * (double)mv->lanes * mv->sat_factor;
    return vph > 0 ? 3600.0 * 1000.0 / vph : 0;
}

/* Lists, per signal and group, the detectors on the group's approach links: detectors are
 * first grouped by link, then each group gathers those of its from-links (each link once). */
static int build_group_detectors(ctl__map_t *map) {
    const sim_scenario_t *scn = map->scn;
    int32_t ns = scn->n_signals, nl = scn->n_links;
    int rc = BASE_ENOMEM;
    int32_t *first = calloc((size_t)nl + 2, sizeof *first);
    int32_t *dets = calloc((size_t)scn->n_detectors + 1, sizeof *dets);
    uint8_t *mark = calloc((size_t)nl + 1, 1);
    map->group_first = calloc((size_t)ns + 1, sizeof *map->group_first);
    map->group_dets = calloc((size_t)ns + 1, sizeof *map->group_dets);
    if (first == NULL || dets == NULL || mark == NULL || map->group_first == NULL ||
        map->group_dets == NULL)
        goto out;
    /* Detectors by link (counting sort): link l's are dets[first[l] .. first[l + 1]). */
    for (int32_t d = 0; d < scn->n_detectors; d++)
        first[scn->detectors[d].link + 2]++;
    for (int32_t i = 2; i <= nl + 1; i++)
        first[i] += first[i - 1];
    for (int32_t d = 0; d < scn->n_detectors; d++)
        dets[first[scn->detectors[d].link + 1]++] = d;
    for (int32_t s = 0; s < ns; s++) {
        const sim_signal_t *sig = &scn->signals[s];
        map->group_first[s] = calloc((size_t)sig->n_groups + 1, sizeof(int32_t));
        if (map->group_first[s] == NULL)
            goto out;
        /* Pass 0 counts, pass 1 fills. */
        for (int pass = 0; pass < 2; pass++) {
            int32_t n = 0;
            for (int32_t g = 0; g < sig->n_groups; g++) {
                map->group_first[s][g] = n;
                const sim_signal_group_t *grp = &sig->groups[g];
                for (int32_t i = 0; i < grp->n_movements; i++) {
                    int32_t l = scn->movements[grp->movements[i]].from;
                    if (mark[l])
                        continue;
                    mark[l] = 1;
                    for (int32_t j = first[l]; j < first[l + 1]; j++, n++)
                        if (pass == 1)
                            map->group_dets[s][n] = dets[j];
                }
                for (int32_t i = 0; i < grp->n_movements; i++)
                    mark[scn->movements[grp->movements[i]].from] = 0;
            }
            map->group_first[s][sig->n_groups] = n;
            if (pass == 0) {
                map->group_dets[s] = calloc((size_t)n + 1, sizeof(int32_t));
                if (map->group_dets[s] == NULL)
                    goto out;
            }
        }
    }
    rc = BASE_OK;
out:
    free(first);
    free(dets);
    free(mark);
    return rc;
}

int ctl__map_init(ctl__map_t *map, const proto_hello_t *hello, base_err_t *err) {
    memset(map, 0, sizeof *map);
    if (hello->map_scn != NULL) {
        map->scn = hello->map_scn; /* in-process: the simulator's own, read-only */
    } else {
        if (hello->map_json == NULL)
            return base_err_set(err, BASE_EINVAL, "hello without a map");
        map->scn = map->owned = scn_loader_load_string(hello->map_json, "map", err);
        if (map->scn == NULL)
            return err != NULL && err->code < 0 ? err->code : BASE_EINVAL;
    }
    const sim_scenario_t *scn = map->scn;
    map->link_adv = calloc((size_t)scn->n_links + 1, sizeof *map->link_adv);
    map->link_stop = calloc((size_t)scn->n_links + 1, sizeof *map->link_stop);
    if (index_build(&map->by_node_signal, scn->n_signals, signal_id, scn) < 0 ||
        index_build(&map->by_link, scn->n_links, link_id, scn) < 0 ||
        index_build(&map->by_detector, scn->n_detectors, detector_id, scn) < 0 ||
        map->link_adv == NULL || map->link_stop == NULL || build_group_detectors(map) < 0) {
        ctl__map_fini(map);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    for (int32_t l = 0; l < scn->n_links; l++)
        map->link_adv[l] = map->link_stop[l] = -1;
    for (int32_t d = 0; d < scn->n_detectors; d++) {
        const sim_detector_t *det = &scn->detectors[d];
        int32_t *slot = det->kind == SIM_DETECTOR_ADVANCE ? &map->link_adv[det->link]
                                                          : &map->link_stop[det->link];
        if (*slot < 0)
            *slot = d;
    }
    return BASE_OK;
}

void ctl__map_fini(ctl__map_t *map) {
    if (map->scn != NULL) {
        for (int32_t s = 0; s < map->scn->n_signals; s++) {
            if (map->group_first != NULL)
                free(map->group_first[s]);
            if (map->group_dets != NULL)
                free(map->group_dets[s]);
        }
    }
    free(map->group_first);
    free(map->group_dets);
    free(map->by_node_signal.slots);
    free(map->by_link.slots);
    free(map->by_detector.slots);
    free(map->link_adv);
    free(map->link_stop);
    sim_scenario_destroy(&map->owned);
    memset(map, 0, sizeof *map);
}
