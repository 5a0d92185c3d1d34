#ifndef LEDGERWIRE_FUZZ_DRIVER_H
#define LEDGERWIRE_FUZZ_DRIVER_H

/// Runs libFuzzer's driver (`LLVMFuzzerRunDriver`) on the target's `LLVMFuzzerTestOneInput` with the process's
/// arguments, and returns its exit status.
///
/// SwiftPM links a debug executable's entry point as `<module>_main` and points `main` at it (so tests can link
/// the executable), which leaves libFuzzer's own `main` unused: each target's top-level code calls this instead.
int ledgerwire_fuzz_main(int argc, char **argv);

#endif
