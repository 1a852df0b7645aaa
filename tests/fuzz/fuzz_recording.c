/*
 * tests/fuzz/fuzz_recording.c - the recording reader (proto/frame.c): a file header, then
 * records, each decoded by its topic (frame, map, event) as greenwave-viz --replay does.
 */
#include "proto/frame.h"
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (f == NULL)
        return 0;
    base_err_t err = {0};
    if (proto_rec_read_header(f, &err) == 0) {
        proto_parts_t p;
        memset(&p, 0, sizeof p);
        while (proto_rec_read(f, &p, &err) == 1) {
            const char *topic = proto_parts_topic(&p);
            if (topic != NULL && strcmp(topic, "frame") == 0) {
                proto_frame_t fr;
                memset(&fr, 0, sizeof fr);
                if (proto_frame_decode(&p, &fr, &err) == 0)
                    proto_frame_fini(&fr);
            } else if (topic != NULL && strcmp(topic, "map") == 0) {
                free(proto_map_decode(&p, &err));
            } else if (topic != NULL && strcmp(topic, "event") == 0) {
                int64_t t;
                char *text = NULL;
                if (proto_event_decode(&p, &t, &text, &err) == 0)
                    free(text);
            }
            proto_parts_fini(&p);
        }
        proto_parts_fini(&p);
    }
    fclose(f);
    return 0;
}
