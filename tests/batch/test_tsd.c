/*
 * tests/batch/test_tsd.c - suite batch_tsd: the escort's route from a small scenario (stop
 * lines at cumulative link lengths, the signal group of the route's movement, an unsignalized
 * stop line), signal-state bars clipped to a window, and the escort's trajectory from
 * escort.csv in the header's layout and in the nine-field rows older runs wrote.
 */
#include "base/err.h"
#include "batch/tsd.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];
static char scn[128], sig[128], esc[128];

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/gw-test-tsd-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(scn, sizeof scn, "%s/s.json", dir);
    snprintf(sig, sizeof sig, "%s/signals.csv", dir);
    snprintf(esc, sizeof esc, "%s/escort.csv", dir);
    write_text(
        scn, "{\"format\": \"greenwave-scenario\", \"version\": 1, \"name\": \"t\",\n"
             " \"links\": [{\"id\": \"L1\", \"from\": \"N0\", \"to\": \"N1\", \"length_m\": 100},\n"
             "           {\"id\": \"L2\", \"from\": \"N1\", \"to\": \"N2\", \"length_m\": 200},\n"
             "           {\"id\": \"L3\", \"from\": \"N2\", \"to\": \"N3\", \"length_m\": 50},\n"
             "           {\"id\": \"Lx\", \"from\": \"N1\", \"to\": \"N9\", \"length_m\": 10}],\n"
             " \"movements\": [{\"id\": \"M3\", \"from\": \"L1\", \"to\": \"Lx\"},\n"
             "               {\"id\": \"M1\", \"from\": \"L1\", \"to\": \"L2\"},\n"
             "               {\"id\": \"M2\", \"from\": \"L2\", \"to\": \"L3\"}],\n"
             " \"signals\": [{\"node\": \"N1\", \"groups\": [{\"id\": \"G9\", \"movements\": "
             "[\"M3\"]}, {\"id\": \"G1\", \"movements\": [\"M1\"]}]}],\n"
             " \"escorts\": [{\"id\": \"E1\", \"route\": [\"L1\", \"L2\", \"L3\"]}]}\n");
    write_text(sig, "time_s,node,signal_group,state\n"
                    "0.000,N1,G1,red\n"
                    "0.000,N1,G9,green\n"
                    "10.000,N1,G1,green\n"
                    "40.000,N1,G1,yellow\n"
                    "43.000,N1,G1,red\n"
                    "70.000,N1,G1,green\n");
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_route) {
    batch_tsd_route_t r;
    base_err_t err = {0};
    ck_assert_msg(batch_tsd_route_load(scn, NULL, &r, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(r.escort, "E1");
    ck_assert_uint_eq(r.n_links, 3);
    ck_assert_double_eq(r.total_m, 350);
    ck_assert_double_eq(r.start_m[2], 300);
    ck_assert_uint_eq(r.n_stops, 2);
    ck_assert_str_eq(r.stops[0].node, "N1");
    ck_assert_str_eq(r.stops[0].group, "G1"); /* not G9: the route's movement is M1 */
    ck_assert_double_eq(r.stops[0].dist_m, 100);
    ck_assert_str_eq(r.stops[1].node, "N2");
    ck_assert_str_eq(r.stops[1].group, ""); /* no signal at N2 */
    ck_assert_double_eq(r.stops[1].dist_m, 300);
    batch_tsd_route_fini(&r);
    ck_assert_int_eq(batch_tsd_route_load(scn, "E7", &r, &err), BASE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "no escort \"E7\""));
    ck_assert_int_ne(batch_tsd_route_load(sig, NULL, &r, &err), BASE_OK); /* not JSON */
}
END_TEST

START_TEST(test_bars) {
    batch_tsd_route_t r;
    base_err_t err = {0};
    ck_assert_int_eq(batch_tsd_route_load(scn, NULL, &r, &err), BASE_OK);
    batch_tsd_bar_t *b = NULL;
    size_t n = 0;
    ck_assert_msg(batch_tsd_bars(&r, sig, 5, 60, &b, &n, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(n, 4);
    const double t0[] = {5, 10, 40, 43}, t1[] = {10, 40, 43, 60};
    const int st[] = {BATCH_TSD_RED, BATCH_TSD_GREEN, BATCH_TSD_YELLOW, BATCH_TSD_RED};
    for (size_t i = 0; i < n; i++) {
        ck_assert_double_eq(b[i].t0, t0[i]);
        ck_assert_double_eq(b[i].t1, t1[i]);
        ck_assert_int_eq(b[i].state, st[i]);
        ck_assert_double_eq(b[i].dist_m, 100);
    }
    free(b);
    /* The last state holds to the end of the window. */
    ck_assert_int_eq(batch_tsd_bars(&r, sig, 65, 90, &b, &n, &err), BASE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_double_eq(b[1].t0, 70);
    ck_assert_double_eq(b[1].t1, 90);
    ck_assert_int_eq(b[1].state, BATCH_TSD_GREEN);
    free(b);
    write_text(sig, "when,node\n1,N1\n");
    ck_assert_int_eq(batch_tsd_bars(&r, sig, 0, 10, &b, &n, &err), BASE_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "no column time_s"));
    batch_tsd_route_fini(&r);
}
END_TEST

START_TEST(test_trajectory) {
    batch_tsd_route_t r;
    base_err_t err = {0};
    ck_assert_int_eq(batch_tsd_route_load(scn, NULL, &r, &err), BASE_OK);
    write_text(esc, "escort,node,node_name,link,link_enter_s,arrive_s,signal_state,queue_ahead,"
                    "depart_s,wait_s,delay_s\n"
                    "E2,N1,n1,L1,1.000,2.000,green,0,3.000,1.000,1.000\n"
                    "E1,N1,n1,L1,5.000,12.000,red,2,12.500,0.500,0.500\n"
                    "E1,N2,\"n2, x\",L2,12.500,30.000,green,0,30.000,0.000,0.000\n");
    batch_tsd_point_t *p = NULL;
    size_t n = 0;
    ck_assert_msg(batch_tsd_trajectory(&r, esc, 5, 35, &p, &n, &err) == 0, "%s", err.msg);
    const double t[] = {5, 5, 12, 12.5, 12.5, 30, 30, 35};
    const double d[] = {0, 0, 100, 100, 100, 300, 300, 350};
    ck_assert_uint_eq(n, 8);
    for (size_t i = 0; i < n; i++) {
        ck_assert_double_eq(p[i].t, t[i]);
        ck_assert_double_eq(p[i].dist_m, d[i]);
    }
    free(p);
    /* Nine-field rows under the eleven-field header: no link entry, read by position. */
    write_text(esc, "escort,node,node_name,link,link_enter_s,arrive_s,signal_state,queue_ahead,"
                    "depart_s,wait_s,delay_s\n"
                    "E1,N1,n1,L1,12.000,red,2,12.500,0.500\n"
                    "E1,N2,n2,L2,30.000,green,0,30.000,0.000\n");
    ck_assert_int_eq(batch_tsd_trajectory(&r, esc, 5, -1, &p, &n, &err), BASE_OK);
    const double t2[] = {5, 12, 12.5, 30, 30};
    ck_assert_uint_eq(n, 5); /* not arrived: no last point */
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq(p[i].t, t2[i]);
    free(p);
    write_text(esc, "escort,link,arrive_s,depart_s\nE1,L1,1\n");
    ck_assert_int_eq(batch_tsd_trajectory(&r, esc, 5, -1, &p, &n, &err), BASE_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, ":2: 3 fields"));
    batch_tsd_route_fini(&r);
}
END_TEST

Suite *suite_batch_tsd(void);

Suite *suite_batch_tsd(void) {
    Suite *s = suite_create("batch_tsd");
    TCase *tc = tcase_create("tsd");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_route);
    tcase_add_test(tc, test_bars);
    tcase_add_test(tc, test_trajectory);
    suite_add_tcase(s, tc);
    return s;
}
