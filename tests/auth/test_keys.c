/*
 * tests/auth/test_keys.c - suites auth_keys (key files and allowlists: round trip, every
 * malformed line, permissions) and auth_zap (the ZAP handler in one process over inproc and
 * tcp://127.0.0.1: a listed client passes with its key as User-Id, an unknown key and a
 * plain socket are refused and counted).
 */
#include "auth/auth.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static char dir[64];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/gw-auth-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *path_of(const char *name) {
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *name, const char *text, int mode) {
    FILE *f = fopen(path_of(name), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    chmod(path_of(name), (mode_t)mode);
}

START_TEST(test_round_trip) {
    make_dir();
    base_err_t err = {0};
    auth_keypair_t kp, back;
    ck_assert_int_eq(auth_keys_curve_available(), 1);
    ck_assert_int_eq(auth_keys_generate(&kp, &err), 0);
    ck_assert_int_eq(auth_keys_write(&kp, path_of("a"), "a", 0, &err), 0);
    struct stat st;
    ck_assert_int_eq(stat(path_of("a.key"), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(auth_keys_read_secret(path_of("a.key"), &back, &err), 0);
    ck_assert_str_eq(back.public_z85, kp.public_z85);
    ck_assert_str_eq(back.secret_z85, kp.secret_z85);
    char pub[AUTH_Z85_LEN + 1];
    ck_assert_int_eq(auth_keys_read_public(path_of("a.pub"), pub, &err), 0);
    ck_assert_str_eq(pub, kp.public_z85);
    /* Existing files are kept unless forced. */
    ck_assert_int_eq(auth_keys_write(&kp, path_of("a"), "a", 0, &err), BASE_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "--force"));
    ck_assert_int_eq(auth_keys_write(&kp, path_of("a"), "a", 1, &err), 0);
    /* The .pub file is an allowlist too. */
    auth_allow_t allow;
    ck_assert_int_eq(auth_allow_load(&allow, path_of("a.pub"), &err), 0);
    ck_assert_int_eq(allow.n, 1);
    uint8_t bin[32];
    ck_assert_ptr_nonnull(zmq_z85_decode(bin, kp.public_z85));
    ck_assert_int_eq(auth_allow_find(&allow, bin), 0);
    bin[0] ^= 1;
    ck_assert_int_eq(auth_allow_find(&allow, bin), -1);
    auth_allow_fini(&allow);
    remove_dir();
}
END_TEST

START_TEST(test_bad_files) {
    make_dir();
    base_err_t err = {0};
    auth_keypair_t kp, other, back;
    auth_keys_generate(&kp, &err);
    auth_keys_generate(&other, &err);
    char text[512];
    /* Readable by others. */
    snprintf(text, sizeof text, "public-key = %s\nsecret-key = %s\n", kp.public_z85, kp.secret_z85);
    write_text("open.key", text, 0644);
    ck_assert_int_eq(auth_keys_read_secret(path_of("open.key"), &back, &err), BASE_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "permissions 0644 are too open"));
    /* A public key that is not the secret's. */
    snprintf(text, sizeof text, "public-key = %s\nsecret-key = %s\n", other.public_z85,
             kp.secret_z85);
    write_text("mixed.key", text, 0600);
    ck_assert_int_eq(auth_keys_read_secret(path_of("mixed.key"), &back, &err), BASE_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "not the one of the secret key"));
    /* Malformed lines, named by number. */
    write_text("short.key", "# c\npublic-key = abc\n", 0600);
    ck_assert_int_eq(auth_keys_read_secret(path_of("short.key"), &back, &err), BASE_EPARSE);
    ck_assert_str_eq(err.msg + strlen(dir) + 1,
                     "short.key:2: public-key: not a 40-character Z85 key");
    write_text("junk.key", "hello\n", 0600);
    ck_assert_int_eq(auth_keys_read_secret(path_of("junk.key"), &back, &err), BASE_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "junk.key:1: expected 'public-key = KEY'"));
    ck_assert_int_eq(auth_keys_read_secret(path_of("missing.key"), &back, &err), BASE_EIO);
    /* Allowlists: keys with names, comments, blank lines; a bad key; an empty list. */
    snprintf(text, sizeof text, "# viewers\n\n%s alice\npublic-key = %s\n", kp.public_z85,
             other.public_z85);
    write_text("allow", text, 0644);
    auth_allow_t allow;
    ck_assert_int_eq(auth_allow_load(&allow, path_of("allow"), &err), 0);
    ck_assert_int_eq(allow.n, 2);
    ck_assert_str_eq(allow.names[0], "alice");
    ck_assert_str_eq(allow.names[1], "");
    auth_allow_fini(&allow);
    auth_allow_fini(&allow); /* twice: safe */
    snprintf(text, sizeof text, "%s\n%.39s~ bob\n", kp.public_z85, other.public_z85);
    write_text("bad", text, 0644);
    ck_assert_int_eq(auth_allow_load(&allow, path_of("bad"), &err), BASE_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad:2: not a 40-character Z85 public key"));
    ck_assert_int_eq(allow.n, 0);
    write_text("empty", "# nobody\n", 0644);
    ck_assert_int_eq(auth_allow_load(&allow, path_of("empty"), &err), BASE_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty allowlist refuses everyone"));
    remove_dir();
}
END_TEST

START_TEST(test_endpoints) {
    ck_assert_int_eq(auth_endpoint_is_local("ipc:///tmp/x"), 1);
    ck_assert_int_eq(auth_endpoint_is_local("inproc://x"), 1);
    ck_assert_int_eq(auth_endpoint_is_local("tcp://127.0.0.1:5"), 1);
    ck_assert_int_eq(auth_endpoint_is_local("tcp://localhost:5"), 1);
    ck_assert_int_eq(auth_endpoint_is_local("tcp://[::1]:5"), 1);
    ck_assert_int_eq(auth_endpoint_is_local("tcp://0.0.0.0:5"), 0);
    ck_assert_int_eq(auth_endpoint_is_local("tcp://*:5"), 0);
    ck_assert_int_eq(auth_endpoint_is_local("tcp://localhost.evil:5"), 0);
}
END_TEST

/* Polls the handler until the client's socket gets an answer to its message (or the
 * handler has seen `refusals` refusals). */
static int exchange(auth_t *a, void *server, void *client, int64_t refusals) {
    zmq_send(client, "ping", 4, ZMQ_DONTWAIT);
    for (int i = 0; i < 600000; i++) {
        auth_poll(a, 1);
        auth_stats_t st = auth_stats(a);
        if (st.refused_keys + st.refused_handshakes >= refusals && refusals > 0)
            return 0;
        zmq_pollitem_t it = {server, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 0) == 1) {
            zmq_msg_t id, body;
            zmq_msg_init(&id);
            zmq_msg_init(&body);
            zmq_msg_recv(&id, server, 0);
            zmq_msg_recv(&body, server, 0);
            const char *user = zmq_msg_gets(&body, "User-Id");
            int ok = user != NULL && strlen(user) == AUTH_Z85_LEN;
            zmq_msg_close(&id);
            zmq_msg_close(&body);
            return ok ? 1 : -1;
        }
    }
    return -2;
}

START_TEST(test_zap) {
    make_dir();
    base_err_t err = {0};
    auth_keypair_t srv_kp, good, bad;
    auth_keys_generate(&srv_kp, &err);
    auth_keys_generate(&good, &err);
    auth_keys_generate(&bad, &err);
    char text[128];
    snprintf(text, sizeof text, "%s good\n", good.public_z85);
    write_text("allow", text, 0644);
    void *ctx = zmq_ctx_new();
    FILE *log = tmpfile();
    auth_t *a = auth_new(ctx, path_of("allow"), log, &err);
    ck_assert_msg(a != NULL, "%s", err.msg);
    /* A second handler in the same context cannot bind. */
    ck_assert_ptr_null(auth_new(ctx, path_of("allow"), NULL, &err));
    ck_assert_int_eq(err.code, BASE_EIO);
    void *server = zmq_socket(ctx, ZMQ_ROUTER);
    ck_assert_int_eq(auth_server_socket(a, server, &srv_kp, "test", &err), 0);
    ck_assert_int_eq(zmq_bind(server, "tcp://127.0.0.1:*"), 0);
    char ep[128];
    size_t len = sizeof ep;
    zmq_getsockopt(server, ZMQ_LAST_ENDPOINT, ep, &len);
    int linger = 0;

    void *c = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(c, ZMQ_LINGER, &linger, sizeof linger);
    ck_assert_int_eq(auth_client_socket(c, &good, srv_kp.public_z85, &err), 0);
    zmq_connect(c, ep);
    ck_assert_int_eq(exchange(a, server, c, 0), 1);
    ck_assert_int_eq((int)auth_stats(a).allowed, 1);
    zmq_close(c);

    c = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(c, ZMQ_LINGER, &linger, sizeof linger);
    auth_client_socket(c, &bad, srv_kp.public_z85, &err);
    zmq_connect(c, ep);
    ck_assert_int_eq(exchange(a, server, c, 1), 0);
    ck_assert_int_eq((int)auth_stats(a).refused_keys, 1);
    zmq_close(c);

    c = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(c, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(c, ep);
    ck_assert_int_eq(exchange(a, server, c, 2), 0);
    ck_assert_int_ge((int)auth_stats(a).refused_handshakes, 1);
    zmq_close(c);

    rewind(log);
    char line[512];
    int keyline = 0, plainline = 0;
    while (fgets(line, sizeof line, log) != NULL) {
        keyline |= strstr(line, bad.public_z85) != NULL && strstr(line, "not in the allowlist");
        plainline |= strstr(line, "without CURVE") != NULL;
    }
    ck_assert(keyline && plainline);
    fclose(log);
    zmq_close(server);
    auth_destroy(&a);
    auth_destroy(&a); /* NULL-safe */
    zmq_ctx_term(ctx);
    remove_dir();
}
END_TEST

Suite *suite_auth_keys(void);
Suite *suite_auth_zap(void);

Suite *suite_auth_keys(void) {
    Suite *s = suite_create("auth_keys");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_bad_files);
    tcase_add_test(tc, test_endpoints);
    suite_add_tcase(s, tc);
    return s;
}

Suite *suite_auth_zap(void) {
    Suite *s = suite_create("auth_zap");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_zap);
    suite_add_tcase(s, tc);
    return s;
}
