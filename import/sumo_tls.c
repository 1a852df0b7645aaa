/*
 * import/sumo_tls.c - SUMO phases to greenwave groups, stages and a plan (see sumo_tls.h).
 *
 * Steps: (1) each movement's normalised pattern over the phases ('G' green, 'y' yellow, 'r'
 * anything else); distinct patterns become groups, in order of first link index; (2) each phase
 * is a stage phase (some group green, none yellow) or an intergreen phase; (3) the cycle is cut
 * into stages at the start of every stage phase whose green set differs from the phase before;
 * stage 1 is the first such cut, its program time is start_ms; (4) per stage, the groups that
 * end with it get their yellow (time shown 'y' in the stage's intergreen) and red clearance (the
 * rest); (5) min/max green per stage, then per group; (6) conflicts. O(phases x links).
 */
#include "import/sumo_tls.h"

#include <stdlib.h>
#include <string.h>

static char norm(char c) {
    if (c == 'G' || c == 'g')
        return 'G';
    if (c == 'y' || c == 'Y')
        return 'y';
    return 'r';
}

void import_sumo_tls_fini(import_sumo_tls_t *out) {
    free(out->movement_group);
    free(out->stage_groups);
    free(out->split_ms);
    out->movement_group = NULL;
    out->stage_groups = NULL;
    out->split_ms = NULL;
}

int64_t import_sumo_tls_intergreen(const import_sumo_tls_t *t, int k) {
    if (t->n_stages < 2)
        return 0;
    uint64_t ending = t->stage_groups[k] & ~t->stage_groups[(k + 1) % t->n_stages];
    int64_t ig = 0;
    for (int g = 0; g < t->n_groups; g++)
        if (ending & (UINT64_C(1) << g) && t->groups[g].yellow_ms + t->groups[g].red_ms > ig)
            ig = t->groups[g].yellow_ms + t->groups[g].red_ms;
    return ig;
}

/* Per phase, the mask of groups in state c ('G' or 'y'). */
static uint64_t phase_mask(const import_sumo_phase_t *ph, const int *group_link, int n_groups,
                           char c) {
    uint64_t m = 0;
    for (int g = 0; g < n_groups; g++)
        if (norm(ph->state[group_link[g]]) == c)
            m |= UINT64_C(1) << g;
    return m;
}

int import_sumo_tls_map(const import_sumo_phase_t *phases, int n_phases, const int *link_movement,
                        int n_links, int n_movements, import_sumo_tls_t *out, base_err_t *err) {
    memset(out, 0, sizeof *out);
    if (n_phases <= 0)
        return base_err_set(err, BASE_EINVAL, "the program has no phases");
    for (int p = 0; p < n_phases; p++) {
        if ((int)strlen(phases[p].state) < n_links)
            return base_err_set(err, BASE_EINVAL,
                                "phase %d: state \"%s\" has %d characters, the traffic light "
                                "controls %d links",
                                p, phases[p].state, (int)strlen(phases[p].state), n_links);
        if (phases[p].dur_ms <= 0)
            return base_err_set(err, BASE_EINVAL, "phase %d: duration must be > 0", p);
    }
    int rc = BASE_ENOMEM;
    int *first_link = malloc(((size_t)n_movements + 1) * sizeof *first_link);
    int group_link[IMPORT_TLS_MAX_GROUPS]; /* a representative link per group */
    int *stage_of = malloc((size_t)n_phases * sizeof *stage_of);
    uint64_t *green = malloc((size_t)n_phases * sizeof *green);
    uint64_t *yellow = malloc((size_t)n_phases * sizeof *yellow);
    out->movement_group = malloc(((size_t)n_movements + 1) * sizeof *out->movement_group);
    out->stage_groups = calloc((size_t)n_phases, sizeof *out->stage_groups);
    out->split_ms = calloc((size_t)n_phases, sizeof *out->split_ms);
    int64_t *gmin = calloc((size_t)n_phases, sizeof *gmin);
    int64_t *gmax = calloc((size_t)n_phases, sizeof *gmax);
    int64_t *ggreen = calloc((size_t)n_phases, sizeof *ggreen);
    if (!first_link || !stage_of || !green || !yellow || !out->movement_group ||
        !out->stage_groups || !out->split_ms || !gmin || !gmax || !ggreen) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        goto done;
    }
    /* (1) patterns and groups. */
    for (int m = 0; m < n_movements; m++)
        first_link[m] = -1;
    for (int i = 0; i < n_links; i++) {
        int m = link_movement[i];
        if (m < 0)
            continue;
        if (first_link[m] < 0) {
            first_link[m] = i;
            continue;
        }
        for (int p = 0; p < n_phases; p++) {
            if (norm(phases[p].state[i]) != norm(phases[p].state[first_link[m]])) {
                out->mixed_movements++;
                break;
            }
        }
    }
    for (int m = 0; m < n_movements; m++) {
        out->movement_group[m] = -1;
        int i = first_link[m];
        if (i < 0)
            continue;
        int ever_green = 0;
        for (int p = 0; p < n_phases && !ever_green; p++)
            ever_green = norm(phases[p].state[i]) == 'G';
        if (!ever_green) {
            out->dropped++;
            continue;
        }
        int g = 0;
        for (; g < out->n_groups; g++) {
            int same = 1;
            for (int p = 0; p < n_phases && same; p++)
                same = norm(phases[p].state[i]) == norm(phases[p].state[group_link[g]]);
            if (same)
                break;
        }
        if (g == out->n_groups) {
            if (g == IMPORT_TLS_MAX_GROUPS) {
                base_err_set(err, BASE_EINVAL,
                             "more than %d distinct signal patterns (greenwave's limit per node)",
                             IMPORT_TLS_MAX_GROUPS);
                rc = BASE_EINVAL;
                goto done;
            }
            group_link[g] = i;
            out->n_groups++;
        }
        out->movement_group[m] = g;
    }
    for (int i = 0; i < n_links; i++) {
        int m = link_movement[i];
        int g = m >= 0 ? out->movement_group[m] : -1;
        for (int p = 0; g >= 0 && p < n_phases; p++)
            if (phases[p].state[i] == 'G')
                out->groups[g].protected_green = 1;
    }
    if (out->n_groups == 0) {
        base_err_set(err, BASE_EINVAL, "no phase gives any controlled movement green");
        rc = BASE_EINVAL;
        goto done;
    }
    /* (2) stage phases: some group green, none yellow. */
    for (int p = 0; p < n_phases; p++) {
        green[p] = phase_mask(&phases[p], group_link, out->n_groups, 'G');
        yellow[p] = phase_mask(&phases[p], group_link, out->n_groups, 'y');
    }
    /* (3) cuts: a stage phase whose predecessor is not a stage phase of the same green set. */
    int first = -1;
    for (int p = 0; p < n_phases && first < 0; p++) {
        int q = (p + n_phases - 1) % n_phases;
        int is_stage = green[p] && !yellow[p];
        int prev_same = green[q] && !yellow[q] && green[q] == green[p];
        if (is_stage && (!prev_same || n_phases == 1))
            first = p;
    }
    if (first < 0) {
        /* Every stage phase continues the one before: one stage, or no stage phase at all. */
        for (int p = 0; p < n_phases && first < 0; p++)
            if (green[p] && !yellow[p])
                first = p;
        if (first < 0) {
            base_err_set(err, BASE_EINVAL, "no phase is green without yellow (no stage to run)");
            rc = BASE_EINVAL;
            goto done;
        }
    }
    out->start_ms = 0;
    for (int p = 0; p < first; p++)
        out->start_ms += phases[p].dur_ms;
    int k = -1, in_inter = 0;
    int any_minmax = 0;
    for (int j = 0; j < n_phases; j++) {
        int p = (first + j) % n_phases;
        const import_sumo_phase_t *ph = &phases[p];
        int is_stage = green[p] && !yellow[p];
        if (ph->min_ms >= 0 || ph->max_ms >= 0)
            any_minmax = 1;
        if (is_stage && (k < 0 || in_inter || green[p] != out->stage_groups[k])) {
            k++;
            out->stage_groups[k] = green[p];
            in_inter = 0;
        }
        if (is_stage) {
            ggreen[k] += ph->dur_ms;
            gmin[k] += ph->min_ms >= 0 ? ph->min_ms : ph->dur_ms;
            gmax[k] += ph->max_ms >= 0 ? ph->max_ms : ph->dur_ms;
        } else {
            in_inter = 1;
        }
        stage_of[p] = k;
        out->split_ms[k] += ph->dur_ms;
    }
    out->n_stages = k + 1;
    for (k = 0; k < out->n_stages; k++)
        out->cycle_ms += out->split_ms[k];
    /* (4) clearance of the groups that end with each stage. */
    int64_t gy[IMPORT_TLS_MAX_GROUPS] = {0}, gr[IMPORT_TLS_MAX_GROUPS] = {0};
    int seen[IMPORT_TLS_MAX_GROUPS] = {0};
    for (k = 0; k < out->n_stages && out->n_stages > 1; k++) {
        uint64_t ending = out->stage_groups[k] & ~out->stage_groups[(k + 1) % out->n_stages];
        int64_t inter = out->split_ms[k] - ggreen[k];
        for (int g = 0; g < out->n_groups; g++) {
            if (!(ending & (UINT64_C(1) << g)))
                continue;
            int64_t y = 0;
            for (int j = 0; j < n_phases; j++) {
                int p = (first + j) % n_phases;
                int is_stage = green[p] && !yellow[p];
                if (stage_of[p] == k && !is_stage && (yellow[p] & (UINT64_C(1) << g)))
                    y += phases[p].dur_ms;
            }
            int64_t r = inter - y;
            if (seen[g] && (gy[g] != y || gr[g] != r))
                out->uneven_clearance++;
            if (!seen[g] || y > gy[g])
                gy[g] = y;
            if (!seen[g] || r > gr[g])
                gr[g] = r;
            seen[g] = 1;
        }
    }
    for (int g = 0; g < out->n_groups; g++) {
        if (gy[g] <= 0) {
            if (seen[g])
                out->no_yellow++;
            gy[g] = 1; /* greenwave needs a yellow > 0 */
        }
        out->groups[g].yellow_ms = gy[g];
        out->groups[g].red_ms = gr[g];
    }
    /* (5) min/max green. A stage's green in greenwave is its split minus the intergreen the
     * groups' clearances give; min green may not exceed it. */
    for (int g = 0; g < out->n_groups; g++) {
        out->groups[g].min_ms = -1;
        out->groups[g].max_ms = 0;
    }
    for (k = 0; k < out->n_stages; k++) {
        int64_t gw_green = out->split_ms[k] - import_sumo_tls_intergreen(out, k);
        if (gw_green <= 0) {
            base_err_set(err, BASE_EINVAL,
                         "stage %d (from phase %d) has no green left after the clearance of the "
                         "groups that end with it",
                         k + 1, first);
            rc = BASE_EINVAL;
            goto done;
        }
        int64_t smin = any_minmax ? gmin[k]
                                  : (ggreen[k] < IMPORT_TLS_MIN_GREEN_MS ? ggreen[k]
                                                                         : IMPORT_TLS_MIN_GREEN_MS);
        int64_t smax = any_minmax ? gmax[k]
                                  : (ggreen[k] > IMPORT_TLS_MAX_GREEN_MS ? ggreen[k]
                                                                         : IMPORT_TLS_MAX_GREEN_MS);
        if (smin > gw_green)
            smin = gw_green;
        if (smin <= 0)
            smin = 1;
        uint64_t prev = out->stage_groups[(k + out->n_stages - 1) % out->n_stages];
        for (int g = 0; g < out->n_groups; g++) {
            uint64_t bit = UINT64_C(1) << g;
            if (!(out->stage_groups[k] & bit))
                continue;
            int starts = out->n_stages == 1 || !(prev & bit);
            if (starts && (out->groups[g].min_ms < 0 || smin < out->groups[g].min_ms))
                out->groups[g].min_ms = smin;
            if (smax > out->groups[g].max_ms)
                out->groups[g].max_ms = smax;
        }
    }
    for (int g = 0; g < out->n_groups; g++) {
        import_sumo_tls_group_t *gr_ = &out->groups[g];
        if (gr_->min_ms < 0) { /* green in every stage: never starts */
            gr_->min_ms = IMPORT_TLS_MIN_GREEN_MS;
            for (k = 0; k < out->n_stages; k++) {
                int64_t gw_green = out->split_ms[k] - import_sumo_tls_intergreen(out, k);
                if (gw_green < gr_->min_ms)
                    gr_->min_ms = gw_green;
            }
        }
        if (gr_->max_ms < gr_->min_ms)
            gr_->max_ms = gr_->min_ms;
    }
    /* (6) conflicts: never green together. */
    for (int a = 0; a < out->n_groups; a++) {
        for (int b = 0; b < out->n_groups; b++) {
            int together = 0;
            for (k = 0; k < out->n_stages && !together; k++)
                together = (out->stage_groups[k] >> a & 1) && (out->stage_groups[k] >> b & 1);
            if (a != b && !together)
                out->conflicts[a] |= UINT64_C(1) << b;
        }
    }
    rc = 0;
done:
    free(first_link);
    free(stage_of);
    free(green);
    free(yellow);
    free(gmin);
    free(gmax);
    free(ggreen);
    if (rc < 0)
        import_sumo_tls_fini(out);
    return rc;
}
