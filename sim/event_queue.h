/*
 * sim/event_queue.h - the pending events of one simulation, ordered by (time, seq).
 *
 * seq is taken from a counter when an event is pushed, so events at the same millisecond fire
 * in the order they were scheduled, on every run and every machine. Events are small values
 * (a type and two integer arguments) stored in a binary min-heap array that the queue owns;
 * there is no cancellation: a handler that may be superseded carries a generation number in
 * its argument and ignores stale firings. Not thread-safe: one queue per sim_t.
 */
#ifndef SIM_EVENT_QUEUE_H
#define SIM_EVENT_QUEUE_H

#include "sim/clock.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sim_event {
    sim_time_t time;
    uint64_t seq;
    int32_t type;
    int32_t a;
    int64_t b;
} sim_event_t;

typedef struct sim_event_queue {
    sim_event_t *heap;
    size_t len;
    size_t cap;
    uint64_t next_seq;
} sim_event_queue_t;

/* Initialises an empty queue. Never fails (memory is taken on first push). */
void sim_event_queue_init(sim_event_queue_t *q);

/* Frees the queue's memory; the queue is empty and reusable afterwards. */
void sim_event_queue_fini(sim_event_queue_t *q);

/* Schedules an event; returns 0, or BASE_ENOMEM when the heap cannot grow. */
int sim_event_queue_push(sim_event_queue_t *q, sim_time_t time, int32_t type, int32_t a, int64_t b);

/* Removes the earliest event into *out; returns 1, or 0 when the queue is empty. */
int sim_event_queue_pop(sim_event_queue_t *q, sim_event_t *out);

/* Returns the time of the earliest event, or SIM_TIME_MAX when empty. */
static inline sim_time_t sim_event_queue_peek_time(const sim_event_queue_t *q) {
    return q->len ? q->heap[0].time : SIM_TIME_MAX;
}

/* Returns the number of pending events. */
static inline size_t sim_event_queue_len(const sim_event_queue_t *q) {
    return q->len;
}

/* Checks the heap property over the whole array; returns 1 when it holds. O(n), for tests. */
int sim_event_queue_check_invariants(const sim_event_queue_t *q);

#endif
