/*
 * tests/fuzz/fuzz.h - the entry point every fuzz harness defines (libFuzzer's), shared by the
 * libFuzzer build (preset fuzz, clang -fsanitize=fuzzer) and by driver.c, which runs saved
 * inputs through the same function in the gcc builds (the regression tests of ctest).
 *
 * A harness must never crash, leak or trip a sanitizer, whatever the bytes: bad input is
 * refused through the code under test's own error path.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
