/*
 * tests/sim/test_event_queue.c - suite sim_event_queue: (time, seq) order, ties in scheduling
 * order, heap invariant under random load, empty queue.
 */
#include "sim/event_queue.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

START_TEST(test_empty) {
    sim_event_queue_t q;
    sim_event_queue_init(&q);
    sim_event_t ev;
    ck_assert_int_eq(sim_event_queue_pop(&q, &ev), 0);
    ck_assert(sim_event_queue_peek_time(&q) == SIM_TIME_MAX);
    sim_event_queue_fini(&q);
}
END_TEST

START_TEST(test_order_and_ties) {
    sim_event_queue_t q;
    sim_event_queue_init(&q);
    /* Same time 10 pushed as a=1,2,3 interleaved with other times. */
    ck_assert_int_eq(sim_event_queue_push(&q, 10, 0, 1, 0), 0);
    ck_assert_int_eq(sim_event_queue_push(&q, 5, 0, 100, 0), 0);
    ck_assert_int_eq(sim_event_queue_push(&q, 10, 0, 2, 0), 0);
    ck_assert_int_eq(sim_event_queue_push(&q, 20, 0, 200, 0), 0);
    ck_assert_int_eq(sim_event_queue_push(&q, 10, 0, 3, 0), 0);
    int expect[] = {100, 1, 2, 3, 200};
    for (int i = 0; i < 5; i++) {
        sim_event_t ev;
        ck_assert_int_eq(sim_event_queue_pop(&q, &ev), 1);
        ck_assert_int_eq(ev.a, expect[i]);
    }
    sim_event_queue_fini(&q);
}
END_TEST

START_TEST(test_random_load) {
    sim_event_queue_t q;
    sim_event_queue_init(&q);
    uint64_t x = 88172645463325252ULL;
    sim_time_t last_t = -1;
    uint64_t last_seq = 0;
    int32_t pushed = 0, popped = 0;
    for (int round = 0; round < 20000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (x % 3 != 0 || sim_event_queue_len(&q) == 0) {
            /* Never schedule in the past of the last popped event, as the sim never does. */
            sim_time_t base = last_t < 0 ? 0 : last_t;
            ck_assert_int_eq(sim_event_queue_push(&q, base + (sim_time_t)(x % 50), 0, pushed++, 0),
                             0);
        } else {
            sim_event_t ev;
            ck_assert_int_eq(sim_event_queue_pop(&q, &ev), 1);
            popped++;
            ck_assert(ev.time >= last_t);
            if (ev.time == last_t)
                ck_assert(ev.seq > last_seq);
            last_t = ev.time;
            last_seq = ev.seq;
        }
        if (round % 997 == 0)
            ck_assert(sim_event_queue_check_invariants(&q));
    }
    ck_assert(sim_event_queue_check_invariants(&q));
    ck_assert_int_eq((int)sim_event_queue_len(&q), pushed - popped);
    sim_event_queue_fini(&q);
}
END_TEST

Suite *suite_sim_event_queue(void);
Suite *suite_sim_event_queue(void) {
    Suite *s = suite_create("sim_event_queue");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_order_and_ties);
    tcase_add_test(tc, test_random_load);
    suite_add_tcase(s, tc);
    return s;
}
