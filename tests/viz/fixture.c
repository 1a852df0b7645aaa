/*
 * tests/viz/fixture.c - see fixture.h.
 */
#include "tests/viz/fixture.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char VIZ_TEST_MAP[] =
    "{\"format\":\"greenwave-scenario\",\"version\":1,\"name\":\"test 八一七路\","
    "\"start_time\":\"17:30:00\",\"duration_s\":600,"
    "\"nodes\":[{\"id\":\"W\",\"kind\":\"boundary\",\"x_m\":0,\"y_m\":0},"
    "{\"id\":\"A\",\"name\":\"鼓楼前 (test)\",\"kind\":\"signalized\",\"x_m\":200,\"y_m\":0},"
    "{\"id\":\"B\",\"kind\":\"signalized\",\"x_m\":400,\"y_m\":0},"
    "{\"id\":\"E\",\"kind\":\"boundary\",\"x_m\":600,\"y_m\":0},"
    "{\"id\":\"N\",\"kind\":\"boundary\",\"x_m\":200,\"y_m\":200},"
    "{\"id\":\"S\",\"kind\":\"boundary\",\"x_m\":200,\"y_m\":-200}],"
    "\"links\":["
    "{\"id\":\"W_A\",\"from\":\"W\",\"to\":\"A\",\"length_m\":200,\"lanes\":2,"
    "\"free_speed_kmh\":50},"
    "{\"id\":\"A_B\",\"from\":\"A\",\"to\":\"B\",\"length_m\":200,\"lanes\":2,"
    "\"free_speed_kmh\":50},"
    "{\"id\":\"B_E\",\"from\":\"B\",\"to\":\"E\",\"length_m\":200,\"lanes\":2,"
    "\"free_speed_kmh\":50},"
    "{\"id\":\"E_B\",\"from\":\"E\",\"to\":\"B\",\"length_m\":200,\"lanes\":2,"
    "\"free_speed_kmh\":50},"
    "{\"id\":\"B_A\",\"from\":\"B\",\"to\":\"A\",\"length_m\":200,\"lanes\":2,"
    "\"free_speed_kmh\":50},"
    "{\"id\":\"A_W\",\"from\":\"A\",\"to\":\"W\",\"length_m\":200,\"lanes\":2,"
    "\"free_speed_kmh\":50},"
    "{\"id\":\"N_A\",\"from\":\"N\",\"to\":\"A\",\"length_m\":200,\"lanes\":1,"
    "\"free_speed_kmh\":50},"
    "{\"id\":\"A_S\",\"from\":\"A\",\"to\":\"S\",\"length_m\":200,\"lanes\":1,"
    "\"free_speed_kmh\":50}],"
    "\"movements\":["
    "{\"id\":\"m1\",\"from\":\"W_A\",\"to\":\"A_B\",\"turn\":\"through\"},"
    "{\"id\":\"m2\",\"from\":\"N_A\",\"to\":\"A_S\",\"turn\":\"through\"},"
    "{\"id\":\"m3\",\"from\":\"A_B\",\"to\":\"B_E\",\"turn\":\"through\"},"
    "{\"id\":\"m4\",\"from\":\"E_B\",\"to\":\"B_A\",\"turn\":\"through\"},"
    "{\"id\":\"m5\",\"from\":\"B_A\",\"to\":\"A_W\",\"turn\":\"through\"},"
    "{\"id\":\"m6\",\"from\":\"W_A\",\"to\":\"A_S\",\"turn\":\"right\"}],"
    "\"signals\":[{\"node\":\"A\",\"groups\":["
    "{\"id\":\"A.EW\",\"movements\":[\"m1\",\"m5\",\"m6\"],\"min_green_s\":5,\"max_green_s\":60,"
    "\"yellow_s\":3,\"red_clearance_s\":2},"
    "{\"id\":\"A.NS\",\"movements\":[\"m2\"],\"min_green_s\":5,\"max_green_s\":60,"
    "\"yellow_s\":3,\"red_clearance_s\":2}],"
    "\"conflicts\":[[\"A.EW\",\"A.NS\"]],"
    "\"stages\":[{\"id\":\"A.S1\",\"groups\":[\"A.EW\"]},{\"id\":\"A.S2\",\"groups\":[\"A.NS\"]}],"
    "\"plans\":[{\"id\":\"A.P\",\"cycle_s\":60,\"offset_s\":0,\"splits_s\":[30,30]}],"
    "\"schedule\":[{\"from\":\"00:00\",\"plan\":\"A.P\"}]},"
    "{\"node\":\"B\",\"groups\":[{\"id\":\"B.EW\",\"movements\":[\"m3\",\"m4\"],"
    "\"min_green_s\":5,\"max_green_s\":60,\"yellow_s\":3,\"red_clearance_s\":2}],"
    "\"stages\":[{\"id\":\"B.S1\",\"groups\":[\"B.EW\"]}],"
    "\"plans\":[{\"id\":\"B.P\",\"cycle_s\":60,\"offset_s\":0,\"splits_s\":[60]}],"
    "\"schedule\":[{\"from\":\"00:00\",\"plan\":\"B.P\"}]}],"
    "\"corridors\":[{\"id\":\"main\",\"name\":\"八一七路 test\",\"links\":[\"W_A\",\"A_B\","
    "\"B_E\"]}],"
    "\"escorts\":[{\"id\":\"e1\",\"route\":[\"W_A\",\"A_B\",\"B_E\"],\"depart_s\":5,"
    "\"desired_speed_kmh\":50}]}";

void fx_frame(proto_frame_t *f, int64_t seq, int64_t time_ms, const uint8_t *states, int n) {
    memset(f, 0, sizeof *f);
    f->seq = seq;
    f->time_ms = time_ms;
    f->speed = 1;
    f->has_escort = 1;
    snprintf(f->escort_id, sizeof f->escort_id, "e1");
    f->escort_state = 1;
    f->escort_depart_ms = 5000;
    f->escort_arrive_ms = -1;
    f->escort_eta_ms = 65000;
    f->escort_free_flow_s = 43.2;
    f->n_signals = 2;
    f->prio = calloc(2, 1);
    f->n_group_states = N_GROUPS;
    f->group_states = malloc(N_GROUPS);
    memcpy(f->group_states, states, N_GROUPS);
    f->n_vehicles = n;
    f->vehicles = calloc((size_t)n + 1, sizeof *f->vehicles);
    ck_assert(f->prio && f->group_states && f->vehicles);
}

void fx_write_recording(const char *path, int n) {
    FILE *fp = fopen(path, "wb");
    ck_assert_msg(fp != NULL, "%s", path);
    base_err_t err = {0};
    proto_parts_t p;
    ck_assert_int_eq(proto_rec_write_header(fp, &err), 0);
    ck_assert_int_eq(proto_map_encode(VIZ_TEST_MAP, &p, &err), 0);
    ck_assert_int_eq(proto_rec_write(fp, &p, &err), 0);
    proto_parts_fini(&p);
    for (int i = 0; i < n; i++) {
        uint8_t st[N_GROUPS] = {i < 30 ? 3 : 1, i < 30 ? 1 : 3, 3};
        proto_frame_t f;
        fx_frame(&f, i, (int64_t)i * 1000, st, 2);
        f.escort_state = i < 5 ? 0 : 1;
        f.escort_depart_ms = i < 5 ? -1 : 5000;
        f.vehicles[0] =
            (proto_vehicle_t){7, L_W_A + (i * 10) / 200, (float)((i * 10) % 200), 0, 0, 0, 0};
        f.vehicles[1] = (proto_vehicle_t){99, L_W_A, 20.0f, 1, 3, PROTO_VEH_ESCORT, 0};
        if (i == 10) {
            f.n_decisions = 1;
            f.decisions = calloc(1, sizeof *f.decisions);
            f.decisions[0] = strdup("A: hold A.EW for e1");
        }
        ck_assert_int_eq(proto_frame_encode(&f, &p, &err), 0);
        ck_assert_int_eq(proto_rec_write(fp, &p, &err), 0);
        proto_parts_fini(&p);
        proto_frame_fini(&f);
        if (i == 3) {
            ck_assert_int_eq(proto_event_encode(3000, "escort e1 requested priority", &p, &err), 0);
            ck_assert_int_eq(proto_rec_write(fp, &p, &err), 0);
            proto_parts_fini(&p);
        }
    }
    ck_assert_int_eq(fclose(fp), 0);
}

const char *fx_tmp(const char *name) {
    static char buf[4][4096]; /* a few may be in use at once */
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s/tests/viz_%ld_%s", GW_BINARY_DIR, (long)getpid(), name);
    return b;
}
