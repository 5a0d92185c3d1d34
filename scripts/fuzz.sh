#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ and runs each for a bounded time on a copy of its seed corpus.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default 60 s, every target)
#
# Prints each target's executions (libFuzzer's stat::number_of_executed_units). A crash, leak, timeout or
# out-of-memory fails the script; the input that caused it is kept as Fuzz/Artifacts/<target>/crash-… (or
# leak-…, timeout-…, oom-…): run `Fuzz/.build/debug/<target> <that file>` to reproduce it. The committed corpus
# (Fuzz/Corpus, made by scripts/fuzz-corpus.py) is never grown: the inputs a run finds stay in Fuzz/.build.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=(FuzzStandardWebhooks FuzzBillingEvent FuzzJSON FuzzQuickBooksWebhook FuzzXeroWebhook FuzzTallyXML FuzzWebConnectorSOAP FuzzQBXML FuzzSage50CSV FuzzNumbers FuzzDates FuzzForms FuzzMultipart)
fi

build=(swift build --package-path Fuzz --scratch-path Fuzz/.build -c debug
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
"${build[@]}"
bin="$("${build[@]}" --show-bin-path)"

# libFuzzer reports a trap itself (stack, input saved); Swift's own backtracer would first symbolicate the whole
# sanitized binary, which takes minutes.
export SWIFT_BACKTRACE=enable=no
# Leaks in the toolchain's own libraries, each explained in the file; any other leak still fails the run.
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan-suppressions.txt:print_suppressions=0"
work=Fuzz/.build/fuzz-run
artifacts=Fuzz/Artifacts
failed=()
summary=()
for target in "${targets[@]}"; do
    rm -rf "${work:?}/$target" "${artifacts:?}/$target"
    mkdir -p "$work/$target/corpus" "$artifacts/$target"
    cp -R "Fuzz/Corpus/$target/." "$work/$target/corpus/"
    log="$work/$target/fuzz.log"
    echo "== $target: ${seconds}s"
    # A target's dictionary of tokens (field names, header forms, extreme numbers) helps the mutations along.
    options=()
    if [ -f "Fuzz/Dictionaries/$target.dict" ]; then
        options+=(-dict="Fuzz/Dictionaries/$target.dict")
    fi
    # The XML targets: FoundationXML leaks a CFError for every malformed document (Fuzz/lsan-suppressions.txt), so a
    # leak check after each input ran LeakSanitizer over the whole heap and symbolized the suppressed leak every
    # time: about 40 inputs a second, too few to find a crash (FuzzTallyXML missed `<?name?>`). Their leaks are
    # checked once, when the run ends (a leak other than the suppressed one still fails it).
    case "$target" in
        FuzzTallyXML | FuzzWebConnectorSOAP | FuzzQBXML) options+=(-detect_leaks=0) ;;
    esac
    status=0
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a parser must not balloon; -max_len: well
    # past every seed, smaller than the 1 MiB body limit so the fuzzer mutates rather than pads.
    "$bin/$target" "$work/$target/corpus" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=16384 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$target/" "${options[@]}" >"$log" 2>&1 || status=$?
    executions="$(awk '/stat::number_of_executed_units/ { print $2 }' "$log" | tail -1)"
    if [ "$status" -ne 0 ]; then
        failed+=("$target")
        summary+=("$target: FAILED (exit $status) after ${executions:-?} executions")
        echo "-- $target failed; the last lines of $log:"
        tail -n 40 "$log"
        echo "-- reproducer: $(ls "$artifacts/$target"/* 2>/dev/null | tr '\n' ' ')"
    else
        summary+=("$target: ${executions:-?} executions in ${seconds}s, no crash")
        rmdir "$artifacts/$target" 2>/dev/null || true
    fi
done

echo "== fuzzing summary"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzzing found a crash in: ${failed[*]} (inputs in $artifacts/)"
    exit 1
fi
