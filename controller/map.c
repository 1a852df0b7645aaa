/*
 * controller/map.c - the static map of a session: the hello's scenario document (without
 * demand) parsed by the scenario loader, and the indexes the strategies look things up in.
 *
 * Ids arrive as strings in every tick, so nodes-with-signals, links and detectors get a
 * sorted (id, index) table each and are found by binary search: O(log n) per lookup, built
 * once per session in O(n log n). Per signal and group, the detectors on the group's approach
 * links (the from-links of its movements) are listed once, for actuated control. Only the
 * static data of sim/scenario.h is used; the controller never builds a sim_t.
 */
#include "controller/ctl_internal.h"
#include "scenarios/loader.h"

#include <stdlib.h>
#include <string.h>

static int cmp_index(const void *a, const void *b) {
    return strcmp(((const ctl__index_t *)a)->id, ((const ctl__index_t *)b)->id);
}

static int32_t find(const ctl__index_t *tab, int32_t n, const char *id) {
    if (id == NULL || tab == NULL || n <= 0)
        return -1;
    ctl__index_t key = {.id = id};
    const ctl__index_t *hit = bsearch(&key, tab, (size_t)n, sizeof *tab, cmp_index);
    return hit != NULL ? hit->i : -1;
}

int32_t ctl__map_signal(const ctl__map_t *map, const char *node_id) {
    return map->scn == NULL ? -1 : find(map->by_node_signal, map->scn->n_signals, node_id);
}

int32_t ctl__map_link(const ctl__map_t *map, const char *link_id) {
    return map->scn == NULL ? -1 : find(map->by_link, map->scn->n_links, link_id);
}

int32_t ctl__map_detector(const ctl__map_t *map, const char *detector_id) {
    return map->scn == NULL ? -1 : find(map->by_detector, map->scn->n_detectors, detector_id);
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

static ctl__index_t *index_new(int32_t n) {
    return calloc((size_t)n + 1, sizeof(ctl__index_t));
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
    map->by_node_signal = index_new(scn->n_signals);
    map->by_link = index_new(scn->n_links);
    map->by_detector = index_new(scn->n_detectors);
    map->link_adv = calloc((size_t)scn->n_links + 1, sizeof *map->link_adv);
    map->link_stop = calloc((size_t)scn->n_links + 1, sizeof *map->link_stop);
    if (map->by_node_signal == NULL || map->by_link == NULL || map->by_detector == NULL ||
        map->link_adv == NULL || map->link_stop == NULL || build_group_detectors(map) < 0) {
        ctl__map_fini(map);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    for (int32_t s = 0; s < scn->n_signals; s++)
        map->by_node_signal[s] = (ctl__index_t){scn->nodes[scn->signals[s].node].id, s};
    for (int32_t l = 0; l < scn->n_links; l++) {
        map->by_link[l] = (ctl__index_t){scn->links[l].id, l};
        map->link_adv[l] = map->link_stop[l] = -1;
    }
    for (int32_t d = 0; d < scn->n_detectors; d++) {
        const sim_detector_t *det = &scn->detectors[d];
        map->by_detector[d] = (ctl__index_t){det->id, d};
        int32_t *slot = det->kind == SIM_DETECTOR_ADVANCE ? &map->link_adv[det->link]
                                                          : &map->link_stop[det->link];
        if (*slot < 0)
            *slot = d;
    }
    qsort(map->by_node_signal, (size_t)scn->n_signals, sizeof(ctl__index_t), cmp_index);
    qsort(map->by_link, (size_t)scn->n_links, sizeof(ctl__index_t), cmp_index);
    qsort(map->by_detector, (size_t)scn->n_detectors, sizeof(ctl__index_t), cmp_index);
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
    free(map->by_node_signal);
    free(map->by_link);
    free(map->by_detector);
    free(map->link_adv);
    free(map->link_stop);
    sim_scenario_destroy(&map->owned);
    memset(map, 0, sizeof *map);
}
