/*
 * tests/fuzz/fuzz_msg.c - the message decoder (proto/msg.c): any bytes from a peer. A message
 * it accepts must encode again (the encoder refuses only what the decoder would refuse), and
 * that encoding must decode to a message that encodes to the same bytes (a fixed point).
 */
#include "proto/msg.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    proto_msg_t msg;
    base_err_t err = {0};
    if (proto_msg_decode(data, size, &msg, &err) < 0)
        return 0;
    size_t len = 0;
    char *once = proto_msg_encode(&msg, &len, &err);
    proto_msg_fini(&msg);
    if (once == NULL)
        abort(); /* accepted by the decoder but refused by the encoder */
    proto_msg_t again;
    if (proto_msg_decode(once, len, &again, &err) < 0)
        abort(); /* our own encoding refused */
    size_t len2 = 0;
    char *twice = proto_msg_encode(&again, &len2, &err);
    proto_msg_fini(&again);
    if (twice == NULL || len2 != len || memcmp(once, twice, len) != 0)
        abort(); /* not a fixed point */
    free(once);
    free(twice);
    return 0;
}
