/*
 * tests/viz/test_replay.c - suite viz_replay: indexing and reading recordings, and refusing
 * bad ones (truncated anywhere, another version, not a recording, no map, a corrupt frame)
 * with a clear message instead of a crash.
 */
#include "tests/viz/fixture.h"
#include "viz/replay.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 1);
    ck_assert_uint_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

START_TEST(test_reads_a_recording) {
    const char *path = fx_tmp("good.gwrec");
    fx_write_recording(path, 40);
    base_err_t err = {0};
    viz_replay_t *r = viz_replay_open(path, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert_uint_eq(r->n_frames, 40);
    ck_assert_uint_eq(r->n_events, 1);
    ck_assert_str_eq(r->events[0].text, "escort e1 requested priority");
    ck_assert_ptr_nonnull(strstr(r->map_json, "八一七路"));
    ck_assert_int_eq(r->escort_start_ms, 5000);
    ck_assert_uint_eq(viz_replay_find(r, 12500), 12);
    ck_assert_uint_eq(viz_replay_find(r, -5), 0);
    ck_assert_uint_eq(viz_replay_find(r, 1000000), 39);
    proto_frame_t f;
    ck_assert_int_eq(viz_replay_read(r, 25, &f, &err), 0);
    ck_assert_int_eq(f.time_ms, 25000);
    ck_assert_int_eq(f.n_vehicles, 2);
    ck_assert_int_eq(f.group_states[G_A_EW], 3);
    ck_assert_int_eq(f.vehicles[0].link, L_A_B);
    proto_frame_fini(&f);
    ck_assert_int_eq(viz_replay_read(r, 3, &f, &err), 0); /* backwards works too */
    ck_assert_int_eq(f.time_ms, 3000);
    proto_frame_fini(&f);
    ck_assert_int_eq(viz_replay_read(r, 40, &f, &err), BASE_ERANGE);
    viz_replay_destroy(&r);
    ck_assert_ptr_null(r);
    unlink(path);
}
END_TEST

START_TEST(test_every_truncation) {
    const char *path = fx_tmp("full.gwrec"), *cut = fx_tmp("cut.gwrec");
    fx_write_recording(path, 6);
    size_t n;
    unsigned char *b = slurp(path, &n);
    int refused = 0, accepted = 0;
    for (size_t k = 0; k < n; k++) {
        spit(cut, b, k);
        base_err_t err = {0};
        viz_replay_t *r = viz_replay_open(cut, &err);
        if (r != NULL) { /* cut at a record boundary: a shorter, valid recording */
            accepted++;
            ck_assert_uint_lt(r->n_frames, 6);
            viz_replay_destroy(&r);
            continue;
        }
        refused++;
        ck_assert_int_eq(err.code, BASE_EPROTO);
        ck_assert_msg(strstr(err.msg, cut) == err.msg, "message names the file: %s", err.msg);
        ck_assert_msg(strstr(err.msg, "truncated") || strstr(err.msg, "not a greenwave") ||
                          strstr(err.msg, "no map") || strstr(err.msg, "no frames"),
                      "cut at %zu: %s", k, err.msg);
    }
    ck_assert_int_gt(refused, (int)n - 20);
    ck_assert_int_ge(accepted, 5);
    free(b);
    unlink(path);
    unlink(cut);
}
END_TEST

START_TEST(test_wrong_version) {
    const char *path = fx_tmp("v9.gwrec");
    fx_write_recording(path, 3);
    size_t n;
    unsigned char *b = slurp(path, &n);
    b[5] = 9;
    spit(path, b, n);
    base_err_t err = {0};
    ck_assert_ptr_null(viz_replay_open(path, &err));
    ck_assert_int_eq(err.code, BASE_EPROTO);
    ck_assert_msg(strstr(err.msg, "recording version 9, this build reads version 1") != NULL, "%s",
                  err.msg);
    free(b);
    unlink(path);
}
END_TEST

START_TEST(test_not_a_recording) {
    const char *path = fx_tmp("text.gwrec");
    spit(path, (const unsigned char *)"hello, world\n", 13);
    base_err_t err = {0};
    ck_assert_ptr_null(viz_replay_open(path, &err));
    ck_assert_msg(strstr(err.msg, "not a greenwave recording") != NULL, "%s", err.msg);
    spit(path, (const unsigned char *)"", 0);
    ck_assert_ptr_null(viz_replay_open(path, &err));
    unlink(path);
    ck_assert_ptr_null(viz_replay_open(path, &err));
    ck_assert_int_eq(err.code, BASE_EIO);
    ck_assert_msg(strstr(err.msg, "No such file") != NULL, "%s", err.msg);
}
END_TEST

static void write_parts(FILE *fp, proto_parts_t *p) {
    ck_assert_int_eq(proto_rec_write(fp, p, NULL), 0);
    proto_parts_fini(p);
}

START_TEST(test_structure_errors) {
    const char *path = fx_tmp("odd.gwrec");
    uint8_t st[N_GROUPS] = {3, 1, 3};
    proto_frame_t f;
    proto_parts_t p;
    base_err_t err = {0};
    /* A frame before the map. */
    FILE *fp = fopen(path, "wb");
    proto_rec_write_header(fp, NULL);
    fx_frame(&f, 0, 0, st, 0);
    proto_frame_encode(&f, &p, NULL);
    proto_frame_fini(&f);
    write_parts(fp, &p);
    fclose(fp);
    ck_assert_ptr_null(viz_replay_open(path, &err));
    ck_assert_msg(strstr(err.msg, "before any map") != NULL, "%s", err.msg);
    /* A map and no frames. */
    fp = fopen(path, "wb");
    proto_rec_write_header(fp, NULL);
    proto_map_encode(VIZ_TEST_MAP, &p, NULL);
    write_parts(fp, &p);
    fclose(fp);
    ck_assert_ptr_null(viz_replay_open(path, &err));
    ck_assert_msg(strstr(err.msg, "no frames") != NULL, "%s", err.msg);
    /* A frame whose body does not match its header. */
    fp = fopen(path, "wb");
    proto_rec_write_header(fp, NULL);
    proto_map_encode(VIZ_TEST_MAP, &p, NULL);
    write_parts(fp, &p);
    fx_frame(&f, 0, 0, st, 1);
    proto_frame_encode(&f, &p, NULL);
    proto_frame_fini(&f);
    p.len[2] -= 3;
    write_parts(fp, &p);
    fclose(fp);
    ck_assert_ptr_null(viz_replay_open(path, &err));
    ck_assert_msg(strstr(err.msg, "frame at byte") != NULL, "%s", err.msg);
    /* An unknown topic is skipped. */
    fp = fopen(path, "wb");
    proto_rec_write_header(fp, NULL);
    proto_map_encode(VIZ_TEST_MAP, &p, NULL);
    write_parts(fp, &p);
    proto_parts_t junk = {1, {(unsigned char *)strdup("later")}, {5}};
    write_parts(fp, &junk);
    fx_frame(&f, 0, 0, st, 1);
    proto_frame_encode(&f, &p, NULL);
    proto_frame_fini(&f);
    write_parts(fp, &p);
    fclose(fp);
    viz_replay_t *r = viz_replay_open(path, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert_uint_eq(r->n_frames, 1);
    viz_replay_destroy(&r);
    unlink(path);
}
END_TEST

Suite *suite_viz_replay(void);

Suite *suite_viz_replay(void) {
    Suite *s = suite_create("viz_replay");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_reads_a_recording);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_wrong_version);
    tcase_add_test(tc, test_not_a_recording);
    tcase_add_test(tc, test_structure_errors);
    suite_add_tcase(s, tc);
    return s;
}
