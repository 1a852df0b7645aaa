/*
 * viz/replay.c - indexes a recording in one pass, then reads frames by seeking.
 *
 * The pass decodes every frame once (the decoder is the only arbiter of a good frame, and the
 * index needs each frame's time); frames whose times go backwards are kept in file order, and
 * viz_replay_find's binary search then finds some frame near the time asked for.
 */
#include "viz/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static int push_frame(viz_replay_t *r, size_t *cap, off_t off, const proto_frame_t *f) {
    if (r->n_frames == *cap) {
        size_t c = *cap ? 2 * *cap : 1024;
        viz_replay_entry_t *n = realloc(r->frames, c * sizeof *n);
        if (n == NULL)
            return BASE_ENOMEM;
        r->frames = n;
        *cap = c;
    }
    r->frames[r->n_frames++] = (viz_replay_entry_t){off, f->time_ms, f->escort_state};
    if (r->escort_start_ms < 0 && f->has_escort && f->escort_state >= 1)
        r->escort_start_ms = f->escort_depart_ms >= 0 ? f->escort_depart_ms : f->time_ms;
    return 0;
}

static int push_event(viz_replay_t *r, size_t *cap, int64_t t, char *text) {
    if (r->n_events == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        viz_replay_event_t *n = realloc(r->events, c * sizeof *n);
        if (n == NULL)
            return BASE_ENOMEM;
        r->events = n;
        *cap = c;
    }
    r->events[r->n_events++] = (viz_replay_event_t){t, text};
    return 0;
}

/* The indexing pass; returns 0 or a negative code with the message in err (unprefixed). */
static int index_file(viz_replay_t *r, base_err_t *err) {
    size_t cap_frames = 0, cap_events = 0;
    int rc = proto_rec_read_header(r->f, err);
    if (rc < 0)
        return rc;
    for (;;) {
        off_t off = ftello(r->f);
        proto_parts_t parts = {0};
        rc = proto_rec_read(r->f, &parts, err);
        if (rc <= 0)
            break;
        const char *topic = proto_parts_topic(&parts);
        if (topic != NULL && strcmp(topic, "map") == 0) {
            if (r->map_json == NULL) {
                r->map_json = proto_map_decode(&parts, err);
                if (r->map_json == NULL)
                    rc = base_err_prefix(err, "map at byte %lld: ", (long long)off);
            }
        } else if (topic != NULL && strcmp(topic, "frame") == 0) {
            proto_frame_t f;
            memset(&f, 0, sizeof f);
            rc = proto_frame_decode(&parts, &f, err);
            if (rc < 0) { /* the decoder frees what it took on failure */
                base_err_prefix(err, "frame at byte %lld: ", (long long)off);
            } else {
                if (r->map_json == NULL)
                    rc = base_err_set(err, BASE_EPROTO, "frame at byte %lld comes before any map",
                                      (long long)off);
                else
                    rc = push_frame(r, &cap_frames, off, &f);
                proto_frame_fini(&f);
            }
        } else if (topic != NULL && strcmp(topic, "event") == 0) {
            int64_t t;
            char *text = NULL;
            rc = proto_event_decode(&parts, &t, &text, err);
            if (rc == 0 && push_event(r, &cap_events, t, text) < 0) {
                free(text);
                rc = BASE_ENOMEM;
            }
        } /* an unknown topic is skipped: a newer writer may add some */
        proto_parts_fini(&parts);
        if (rc == BASE_ENOMEM)
            return base_err_set(err, BASE_ENOMEM, "out of memory");
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    if (r->map_json == NULL)
        return base_err_set(err, BASE_EPROTO, "the recording holds no map");
    if (r->n_frames == 0)
        return base_err_set(err, BASE_EPROTO, "the recording holds no frames");
    return 0;
}

viz_replay_t *viz_replay_open(const char *path, base_err_t *err) {
    viz_replay_t *r = calloc(1, sizeof *r);
    if (r == NULL || (r->path = dup_str(path)) == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        viz_replay_destroy(&r);
        return NULL;
    }
    r->escort_start_ms = -1;
    r->f = fopen(path, "rb");
    if (r->f == NULL) {
        base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
        viz_replay_destroy(&r);
        return NULL;
    }
    if (index_file(r, err) < 0) {
        base_err_prefix(err, "%s: ", path);
        viz_replay_destroy(&r);
        return NULL;
    }
    return r;
}

void viz_replay_destroy(viz_replay_t **replay_p) {
    if (replay_p == NULL || *replay_p == NULL)
        return;
    viz_replay_t *r = *replay_p;
    if (r->f != NULL)
        fclose(r->f);
    for (size_t i = 0; i < r->n_events; i++)
        free(r->events[i].text);
    free(r->events);
    free(r->frames);
    free(r->map_json);
    free(r->path);
    free(r);
    *replay_p = NULL;
}

int viz_replay_read(viz_replay_t *r, size_t i, proto_frame_t *f, base_err_t *err) {
    memset(f, 0, sizeof *f);
    if (i >= r->n_frames)
        return base_err_set(err, BASE_ERANGE, "frame %zu of %zu", i, r->n_frames);
    if (fseeko(r->f, r->frames[i].offset, SEEK_SET) != 0)
        return base_err_set(err, BASE_EIO, "%s: seek: %s", r->path, strerror(errno));
    proto_parts_t parts = {0};
    int rc = proto_rec_read(r->f, &parts, err);
    if (rc == 0)
        rc = base_err_set(err, BASE_EPROTO, "%s: the file got shorter", r->path);
    if (rc > 0)
        rc = proto_frame_decode(&parts, f, err);
    proto_parts_fini(&parts);
    return rc < 0 ? rc : 0;
}

size_t viz_replay_find(const viz_replay_t *r, int64_t t_ms) {
    size_t lo = 0, hi = r->n_frames;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->frames[mid].time_ms <= t_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? lo - 1 : 0;
}
