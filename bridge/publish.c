/*
 * bridge/publish.c - frames for the visualiser.
 *
 * A frame lists every vehicle in the network (and those waiting to enter) with its link,
 * position and lane. A moving vehicle's position is interpolated along its link from its
 * entry and stop-line times; a queued vehicle is placed by its rank in its movement's queue:
 * rank k stands k / lanes jam spacings back from the stop line, in lane k mod lanes of the
 * movement. Priority states of the signals on the first escort's route come from the
 * simulator's signal status and the escort's progress (what the field would show).
 */
#include "bridge/publish.h"

#include "proto/frame.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define MAX_DECISIONS   8
#define MAP_REPUBLISH_S 2.0

struct bridge_pub {
    sim_t *sim;
    const sim_scenario_t *scn;
    void *pub, *ctl;
    auth_t *auth;     /* CURVE: the ZAP handler of the context, or NULL */
    int64_t requests; /* control requests answered */
    FILE *rec;
    char *record_path;
    proto_parts_t map;
    double map_sent_at;
    int64_t seq;
    char *decisions[MAX_DECISIONS];
    int n_decisions;
    int32_t *queue_rank; /* per vehicle slot, -1 if not queued */
    int32_t ranks_cap;
    uint8_t *route_signal; /* per signal: 1 + route index of its approach, 0 if not on route */
};

static double wall_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int send_parts(void *sock, const proto_parts_t *p) {
    for (int i = 0; i < p->n; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < p->n ? ZMQ_SNDMORE : 0);
        if (zmq_send(sock, p->data[i], p->len[i], flags) < 0)
            return -1; /* PUB drops at the high-water mark: never block */
    }
    return 0;
}

static int emit(bridge_pub_t *pub, const proto_parts_t *p, base_err_t *err) {
    if (pub->pub != NULL)
        send_parts(pub->pub, p);
    if (pub->rec != NULL && proto_rec_write(pub->rec, p, err) < 0)
        return base_err_prefix(err, "%s: ", pub->record_path);
    return BASE_OK;
}

/* Logs where sock is bound (a tcp://HOST:* endpoint gets its port). */
static void log_bound(FILE *log, void *sock, const char *what) {
    char ep[256];
    size_t len = sizeof ep;
    if (log != NULL && zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, ep, &len) == 0) {
        fprintf(log, "%s on %s\n", what, ep);
        fflush(log);
    }
}

bridge_pub_t *bridge_pub_new(void *zmq_ctx, sim_t *sim, const char *map_json,
                             const bridge_pub_config_t *cfg, base_err_t *err) {
    bridge_pub_t *pub = calloc(1, sizeof *pub);
    if (pub == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        return NULL;
    }
    pub->sim = sim;
    pub->scn = sim_scenario(sim);
    pub->route_signal = calloc((size_t)pub->scn->n_signals + 1, 1);
    if (pub->route_signal == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        goto fail;
    }
    if (pub->scn->n_escorts > 0) {
        const sim_route_t *r = &pub->scn->escorts[0].route;
        for (int32_t i = 0; i + 1 < r->n_links && i < 254; i++) {
            int32_t s = pub->scn->nodes[pub->scn->links[r->links[i]].to].signal;
            if (s >= 0)
                pub->route_signal[s] = (uint8_t)(i + 1);
        }
    }
    if (proto_map_encode(map_json, &pub->map, err) < 0)
        goto fail;
    if (cfg->curve_keys != NULL && (cfg->publish != NULL || cfg->listen != NULL)) {
        pub->auth = auth_new(zmq_ctx, cfg->curve_allow, cfg->log, err);
        if (pub->auth == NULL)
            goto fail;
    }
    if (cfg->publish != NULL) {
        pub->pub = zmq_socket(zmq_ctx, ZMQ_PUB);
        int hwm = 4, linger = 0;
        if (pub->pub != NULL && pub->auth != NULL &&
            auth_server_socket(pub->auth, pub->pub, cfg->curve_keys, "publish", err) < 0)
            goto fail;
        if (pub->pub == NULL || zmq_setsockopt(pub->pub, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
            zmq_setsockopt(pub->pub, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
            zmq_bind(pub->pub, cfg->publish) != 0) {
            base_err_set(err, BASE_EIO, "%s: cannot publish: %s", cfg->publish,
                         zmq_strerror(zmq_errno()));
            goto fail;
        }
        log_bound(cfg->log, pub->pub, "publishing");
    }
    if (cfg->listen != NULL) {
        pub->ctl = zmq_socket(zmq_ctx, ZMQ_ROUTER);
        int linger = 0;
        if (pub->ctl != NULL && pub->auth != NULL &&
            auth_server_socket(pub->auth, pub->ctl, cfg->curve_keys, "listen", err) < 0)
            goto fail;
        if (pub->ctl == NULL || zmq_setsockopt(pub->ctl, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
            zmq_bind(pub->ctl, cfg->listen) != 0) {
            base_err_set(err, BASE_EIO, "%s: cannot listen: %s", cfg->listen,
                         zmq_strerror(zmq_errno()));
            goto fail;
        }
        log_bound(cfg->log, pub->ctl, "listening");
    }
    if (cfg->record != NULL) {
        pub->record_path = strdup(cfg->record);
        pub->rec = pub->record_path ? fopen(cfg->record, "wb") : NULL;
        if (pub->rec == NULL || proto_rec_write_header(pub->rec, err) < 0) {
            base_err_set(err, BASE_EIO, "%s: cannot write the recording", cfg->record);
            goto fail;
        }
    }
    if (emit(pub, &pub->map, err) < 0)
        goto fail;
    pub->map_sent_at = wall_s();
    return pub;
fail:
    bridge_pub_destroy(&pub);
    return NULL;
}

void bridge_pub_destroy(bridge_pub_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    bridge_pub_t *pub = *self_p;
    if (pub->pub != NULL)
        zmq_close(pub->pub);
    if (pub->ctl != NULL)
        zmq_close(pub->ctl);
    auth_destroy(&pub->auth); /* after the sockets it serves */
    if (pub->rec != NULL)
        fclose(pub->rec);
    for (int i = 0; i < pub->n_decisions; i++)
        free(pub->decisions[i]);
    proto_parts_fini(&pub->map);
    free(pub->queue_rank);
    free(pub->route_signal);
    free(pub->record_path);
    free(pub);
    *self_p = NULL;
}

void bridge_pub_decision(bridge_pub_t *pub, const char *line) {
    if (pub->n_decisions == MAX_DECISIONS) {
        free(pub->decisions[0]);
        memmove(pub->decisions, pub->decisions + 1, (MAX_DECISIONS - 1) * sizeof *pub->decisions);
        pub->n_decisions--;
    }
    pub->decisions[pub->n_decisions] = strdup(line);
    if (pub->decisions[pub->n_decisions] != NULL)
        pub->n_decisions++;
    proto_parts_t ev;
    if (proto_event_encode(sim_now(pub->sim), line, &ev, NULL) == 0) {
        emit(pub, &ev, NULL);
        proto_parts_fini(&ev);
    }
}

/* Rank of every queued vehicle in its movement's queue. */
static int rank_queues(bridge_pub_t *pub) {
    int32_t slots = sim_vehicle_slots(pub->sim);
    if (slots > pub->ranks_cap) {
        int32_t *n = realloc(pub->queue_rank, (size_t)slots * sizeof *n);
        if (n == NULL)
            return BASE_ENOMEM;
        pub->queue_rank = n;
        pub->ranks_cap = slots;
    }
    for (int32_t v = 0; v < slots; v++)
        pub->queue_rank[v] = -1;
    for (int32_t m = 0; m < pub->scn->n_movements; m++) {
        int32_t k = 0;
        for (int32_t v = sim_movement_queue_head(pub->sim, m); v >= 0;
             v = sim_vehicle_queue_next(pub->sim, v))
            pub->queue_rank[v] = k++;
    }
    return BASE_OK;
}

static uint8_t prio_of(const bridge_pub_t *pub, int32_t s, const sim_escort_status_t *es) {
    if (!pub->route_signal[s])
        return PROTO_PRIO_NONE;
    sim_signal_status_t st = sim_signal_status(pub->sim, s);
    int32_t at = pub->route_signal[s] - 1;
    int ahead = es->state == 1 && es->route_pos <= at;
    if (st.external) {
        const sim_route_t *r = &pub->scn->escorts[0].route;
        /* Serving when the escort's own movement shows green under priority. */
        int32_t from = r->links[at], to = r->links[at + 1];
        const sim_link_t *lk = &pub->scn->links[from];
        for (int32_t i = 0; i < lk->out_count; i++) {
            int32_t m = pub->scn->link_out[lk->out_first + i];
            if (pub->scn->movements[m].to == to &&
                sim_movement_state(pub->sim, m) == SIM_SIGNAL_GREEN)
                return PROTO_PRIO_SERVING;
        }
        return PROTO_PRIO_GRANTED;
    }
    if (st.in_transition)
        return PROTO_PRIO_RECOVERING;
    return ahead ? PROTO_PRIO_REQUESTED : PROTO_PRIO_NONE;
}

int bridge_pub_frame(bridge_pub_t *pub, double speed, int paused, base_err_t *err) {
    const sim_scenario_t *scn = pub->scn;
    if (pub->pub != NULL && wall_s() - pub->map_sent_at > MAP_REPUBLISH_S) {
        send_parts(pub->pub, &pub->map);
        pub->map_sent_at = wall_s();
    }
    if (rank_queues(pub) < 0)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    proto_frame_t f;
    memset(&f, 0, sizeof f);
    f.seq = ++pub->seq;
    f.time_ms = sim_now(pub->sim);
    f.speed = speed;
    f.paused = paused;
    sim_escort_status_t es = {0};
    if (scn->n_escorts > 0) {
        const sim_escort_t *e = &scn->escorts[0];
        es = sim_escort_status(pub->sim, 0);
        f.has_escort = 1;
        snprintf(f.escort_id, sizeof f.escort_id, "%s", e->id);
        f.escort_state = es.state;
        f.escort_depart_ms = es.depart;
        f.escort_arrive_ms = es.arrive;
        f.escort_free_flow_s =
            sim_time_to_s(sim_scenario_route_free_time(scn, &e->route, e->desired_speed_mps));
        f.escort_eta_ms = -1;
        int32_t slot = sim_escort_slot(pub->sim, 0);
        sim_vehicle_info_t vi;
        if (es.state == 1 && slot >= 0 && sim_vehicle_get(pub->sim, slot, &vi)) {
            sim_time_t eta = vi.in_network && !vi.queued ? vi.stopline_at : sim_now(pub->sim);
            for (int32_t i = vi.route_pos + 1; i < e->route.n_links; i++)
                eta += sim_scenario_drive_time(scn->links[e->route.links[i]].length_m,
                                               e->desired_speed_mps);
            f.escort_eta_ms = eta;
        }
    }
    int32_t ngroups = 0;
    for (int32_t s = 0; s < scn->n_signals; s++)
        ngroups += scn->signals[s].n_groups;
    int32_t slots = sim_vehicle_slots(pub->sim);
    f.prio = calloc((size_t)scn->n_signals + 1, 1);
    f.group_states = calloc((size_t)ngroups + 1, 1);
    f.vehicles = calloc((size_t)slots + 1, sizeof *f.vehicles);
    if (f.prio == NULL || f.group_states == NULL || f.vehicles == NULL) {
        free(f.prio);
        free(f.group_states);
        free(f.vehicles);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    f.n_signals = scn->n_signals;
    for (int32_t s = 0, k = 0; s < scn->n_signals; s++) {
        f.prio[s] = prio_of(pub, s, &es);
        for (int32_t g = 0; g < scn->signals[s].n_groups; g++)
            f.group_states[k++] = (uint8_t)sim_signal_state(pub->sim, s, g);
    }
    f.n_group_states = ngroups;
    for (int32_t v = 0; v < slots; v++) {
        sim_vehicle_info_t vi;
        if (!sim_vehicle_get(pub->sim, v, &vi))
            continue;
        proto_vehicle_t *pv = &f.vehicles[f.n_vehicles++];
        const sim_link_t *lk = &scn->links[vi.link];
        pv->id = (uint32_t)vi.id;
        pv->link = vi.link;
        pv->vclass = (uint8_t)vi.vclass;
        pv->flags = (uint8_t)((vi.escort >= 0 ? PROTO_VEH_ESCORT : 0) |
                              (!vi.in_network ? PROTO_VEH_WAITING : 0));
        int32_t rank = pub->queue_rank[v];
        if (vi.queued && rank >= 0) {
            int32_t lanes = lk->lanes > 0 ? lk->lanes : 1;
            double back = (double)(rank / lanes) * lk->jam_spacing_m;
            pv->pos_m = (float)(lk->length_m - back > 0 ? lk->length_m - back : 0);
            pv->lane = (uint8_t)(rank % lanes);
            pv->flags |= PROTO_VEH_QUEUED;
        } else {
            pv->pos_m = (float)vi.pos_m;
            pv->lane = (uint8_t)(vi.id % (lk->lanes > 0 ? lk->lanes : 1));
        }
    }
    f.decisions = pub->decisions;
    f.n_decisions = pub->n_decisions;
    proto_parts_t parts;
    int rc = proto_frame_encode(&f, &parts, err);
    free(f.prio);
    free(f.group_states);
    free(f.vehicles);
    for (int i = 0; i < pub->n_decisions; i++)
        free(pub->decisions[i]);
    pub->n_decisions = 0;
    if (rc < 0)
        return rc;
    rc = emit(pub, &parts, err);
    proto_parts_fini(&parts);
    return rc;
}

int64_t bridge_pub_requests(const bridge_pub_t *pub) {
    return pub->requests;
}

auth_stats_t bridge_pub_auth_stats(const bridge_pub_t *pub, int *on) {
    auth_stats_t st = {0};
    *on = pub->auth != NULL;
    if (pub->auth != NULL)
        st = auth_stats(pub->auth);
    return st;
}

int bridge_pub_control(bridge_pub_t *pub, int wait_ms, int *paused, double *speed, int *step) {
    if (pub->auth != NULL)
        auth_poll(pub->auth, 0);
    if (pub->ctl == NULL)
        return 0;
    int handled = 0;
    zmq_pollitem_t item = {pub->ctl, 0, ZMQ_POLLIN, 0};
    while (zmq_poll(&item, 1, handled == 0 ? wait_ms : 0) > 0) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&id, pub->ctl, 0) < 0 || !zmq_msg_more(&id) ||
            zmq_msg_recv(&body, pub->ctl, 0) < 0) {
            zmq_msg_close(&id);
            zmq_msg_close(&body);
            break;
        }
        while (zmq_msg_more(&body)) { /* drop extra parts */
            zmq_msg_close(&body);
            zmq_msg_init(&body);
            zmq_msg_recv(&body, pub->ctl, 0);
        }
        json_error_t je;
        json_t *req = json_loadb(zmq_msg_data(&body), zmq_msg_size(&body), 0, &je);
        const char *cmd = json_string_value(json_object_get(req, "cmd"));
        const char *type = json_string_value(json_object_get(req, "type"));
        int ok = type != NULL && strcmp(type, "viz-control") == 0 && cmd != NULL;
        if (ok && strcmp(cmd, "pause") == 0)
            *paused = 1;
        else if (ok && strcmp(cmd, "resume") == 0) {
            /* A step still pending (asked in the same batch) must not pause the run again
             * after its frame: the viewer was told "not paused". */
            *paused = 0;
            *step = 0;
        } else if (ok && strcmp(cmd, "step") == 0)
            *step = 1;
        else if (ok && strcmp(cmd, "speed") == 0) {
            json_t *fx = json_object_get(req, "factor");
            /* A pace in [0.01, 1e4], as greenwave-sim --realtime (docs/protocol.md). */
            if (json_is_number(fx) && json_number_value(fx) >= 0.01 && json_number_value(fx) <= 1e4)
                *speed = json_number_value(fx);
            else
                ok = 0;
        } else {
            ok = 0;
        }
        json_decref(req);
        json_t *ack = json_object();
        json_object_set_new(ack, "type", json_string("viz-ack"));
        json_object_set_new(ack, "ok", json_boolean(ok));
        json_object_set_new(ack, "paused", json_boolean(*paused));
        json_object_set_new(ack, "speed", json_real(*speed));
        char *text = json_dumps(ack, JSON_COMPACT);
        json_decref(ack);
        if (text != NULL) {
            zmq_send(pub->ctl, zmq_msg_data(&id), zmq_msg_size(&id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(pub->ctl, text, strlen(text), ZMQ_DONTWAIT);
            free(text);
        }
        zmq_msg_close(&id);
        zmq_msg_close(&body);
        handled++;
        pub->requests++;
    }
    return handled;
}
