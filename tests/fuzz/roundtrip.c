/*
 * tests/fuzz/roundtrip.c - see roundtrip.h.
 */
#include "tests/fuzz/roundtrip.h"

#include <stdlib.h>
#include <string.h>

void fuzz_msg_roundtrip(const uint8_t *data, size_t size, proto_encoding_t enc) {
    proto_msg_t msg;
    base_err_t err = {0};
    if (proto_msg_decode(data, size, &msg, &err) < 0)
        return;
    size_t len = 0;
    char *once = proto_msg_encode_as(&msg, enc, &len, &err);
    proto_msg_fini(&msg);
    if (once == NULL)
        abort(); /* accepted by the decoder but refused by the encoder */
    proto_msg_t again;
    if (proto_msg_decode(once, len, &again, &err) < 0)
        abort(); /* our own encoding refused */
    size_t len2 = 0;
    char *twice = proto_msg_encode_as(&again, enc, &len2, &err);
    proto_msg_fini(&again);
    if (twice == NULL || len2 != len || memcmp(once, twice, len) != 0)
        abort(); /* not a fixed point */
    free(once);
    free(twice);
}
