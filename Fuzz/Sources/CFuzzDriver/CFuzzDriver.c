#include "CFuzzDriver.h"

#include <stddef.h>
#include <stdint.h>

// Both from libFuzzer (-sanitize=fuzzer): the driver, and the target's entry, defined in Swift with @_cdecl.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int ledgerwire_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
