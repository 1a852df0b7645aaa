/*
 * tests/batch/test_pair.c - suite batch_pair: the per-vehicle pairing of a run with its none
 * run (differences computed by hand), unmatched vehicles, malformed files, and the Pareto
 * front of the trade-off plot.
 */
#include "batch/pair.h"
#include "batch/plot.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_pairs_by_id_and_departure) {
    char dir[] = "/tmp/gwpairXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char a[64], b[64];
    snprintf(a, sizeof a, "%s/run.csv", dir);
    snprintf(b, sizeof b, "%s/none.csv", dir);
    /* Run: vehicles 0 (arterial, in window, +10 s), 1 (cross, in window, +30 s), 2 (other, out
     * of the window: ignored), 3 (cross, in window, departure differs: unmatched), 5 (in the
     * window, absent from none: unmatched). */
    write_file(a, "id,depart_s,street,in_window,delay_s\n"
                  "0,1.000,arterial,1,20.000\n"
                  "1,2.000,cross,1,40.000\n"
                  "2,3.000,other,0,99.000\n"
                  "3,4.000,cross,1,5.000\n"
                  "5,6.000,arterial,1,1.000\n");
    write_file(b, "id,depart_s,street,in_window,delay_s\n"
                  "0,1.000,arterial,0,10.000\n"
                  "1,2.000,cross,1,10.000\n"
                  "2,3.000,other,1,1.000\n"
                  "3,4.500,cross,1,1.000\n"
                  "4,5.000,cross,1,1.000\n");
    batch_pair_result_t r;
    base_err_t err = {0};
    ck_assert_int_eq(batch_pair_files(a, b, &r, &err), 0);
    ck_assert_uint_eq(r.n[0], 2);
    ck_assert_uint_eq(r.n[1], 1);
    ck_assert_uint_eq(r.n[2], 1);
    ck_assert_uint_eq(r.unmatched, 2);
    ck_assert(fabs(r.mean[0] - 20.0) < 1e-9); /* (10 + 30) / 2 */
    ck_assert(fabs(r.mean[1] - 10.0) < 1e-9);
    ck_assert(fabs(r.mean[2] - 30.0) < 1e-9);
    ck_assert(fabs(r.sum_h[0] - 40.0 / 3600.0) < 1e-12);
    /* t(0.975, 1) = 12.706; sd of {10, 30} = 14.142; half = 12.706 * 14.142 / sqrt(2). */
    ck_assert(fabs(r.half[0] - 127.062) < 0.01);
    /* Malformed: a bad street, and ids out of order, named with the line. */
    write_file(b, "id,depart_s,street,in_window,delay_s\n0,1.000,sideways,1,1.000\n");
    ck_assert_int_eq(batch_pair_files(a, b, &r, &err), BASE_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "none.csv:2"));
    write_file(b,
               "id,depart_s,street,in_window,delay_s\n1,1.000,other,1,1.000\n0,1.000,other,1,1\n");
    ck_assert_int_eq(batch_pair_files(a, b, &r, &err), BASE_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "ids not increasing"));
    snprintf(b, sizeof b, "%s/missing.csv", dir);
    ck_assert_int_eq(batch_pair_files(a, b, &r, &err), BASE_EIO);
    unlink(a);
    snprintf(b, sizeof b, "%s/none.csv", dir);
    unlink(b);
    rmdir(dir);
}
END_TEST

START_TEST(test_pareto_front) {
    batch_plot_point_t p[5] = {0};
    double xy[5][2] = {{400, 0}, {350, 20}, {360, 10}, {370, 30}, {355, NAN}};
    for (int i = 0; i < 5; i++) {
        p[i].x.mean = xy[i][0];
        p[i].y.mean = xy[i][1];
    }
    batch_plot_pareto(p, 5);
    ck_assert_int_eq(p[0].front, 1); /* cheapest */
    ck_assert_int_eq(p[1].front, 1); /* fastest */
    ck_assert_int_eq(p[2].front, 1);
    ck_assert_int_eq(p[3].front, 0); /* slower and dearer than 1 and 2 */
    ck_assert_int_eq(p[4].front, 0); /* no data */
}
END_TEST

Suite *suite_batch_pair(void);

Suite *suite_batch_pair(void) {
    Suite *s = suite_create("batch_pair");
    TCase *tc = tcase_create("pair");
    tcase_add_test(tc, test_pairs_by_id_and_departure);
    tcase_add_test(tc, test_pareto_front);
    suite_add_tcase(s, tc);
    return s;
}
