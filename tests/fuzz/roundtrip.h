/*
 * tests/fuzz/roundtrip.h - the message round trip shared by fuzz_msg and fuzz_msgpack: a
 * message the decoder accepts must encode again in the given encoding, and decode and encode
 * to the same bytes (a fixed point). Aborts (a crash for libFuzzer) when it does not.
 */
#ifndef TESTS_FUZZ_ROUNDTRIP_H
#define TESTS_FUZZ_ROUNDTRIP_H

#include "proto/msg.h"

#include <stddef.h>
#include <stdint.h>

void fuzz_msg_roundtrip(const uint8_t *data, size_t size, proto_encoding_t enc);

#endif
