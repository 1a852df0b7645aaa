/*
 * sim/event_queue.c - binary min-heap of event values keyed by (time, seq).
 *
 * Invariant: for every i > 0, key(heap[(i-1)/2]) < key(heap[i]); keys are unique because seq
 * is. Push and pop are O(log n) with one copy per level (hole sifting). The array doubles when
 * full and never shrinks during a run. A 4-ary heap or a calendar queue would cut cache misses
 * for very large queues; bench/ measures whether that matters.
 */
#include "sim/event_queue.h"

#include "base/err.h"

#include <stdlib.h>

static inline int before(const sim_event_t *x, const sim_event_t *y) {
    return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

void sim_event_queue_init(sim_event_queue_t *q) {
    q->heap = NULL;
    q->len = 0;
    q->cap = 0;
    q->next_seq = 0;
}

void sim_event_queue_fini(sim_event_queue_t *q) {
    free(q->heap);
    sim_event_queue_init(q);
}

int sim_event_queue_push(sim_event_queue_t *q, sim_time_t time, int32_t type, int32_t a,
                         int64_t b) {
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        sim_event_t *heap = realloc(q->heap, cap * sizeof *heap);
        if (heap == NULL)
            return BASE_ENOMEM;
        q->heap = heap;
        q->cap = cap;
    }
    sim_event_t ev = {.time = time, .seq = q->next_seq++, .type = type, .a = a, .b = b};
    size_t i = q->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&ev, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = ev;
    return BASE_OK;
}

int sim_event_queue_pop(sim_event_queue_t *q, sim_event_t *out) {
    if (q->len == 0)
        return 0;
    *out = q->heap[0];
    sim_event_t last = q->heap[--q->len];
    size_t n = q->len;
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && before(&q->heap[child + 1], &q->heap[child]))
            child++;
        if (!before(&q->heap[child], &last))
            break;
        q->heap[i] = q->heap[child];
        i = child;
    }
    if (n > 0)
        q->heap[i] = last;
    return 1;
}

int sim_event_queue_check_invariants(const sim_event_queue_t *q) {
    for (size_t i = 1; i < q->len; i++) {
        if (!before(&q->heap[(i - 1) / 2], &q->heap[i]))
            return 0;
    }
    return 1;
}
