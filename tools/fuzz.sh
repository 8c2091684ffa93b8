#!/bin/sh
# make fuzz: build each target with libFuzzer + ASan + UBSan and run it for
# a bounded time. Fails when any target finds a crash.
set -u
CLANG=$1 SECONDS_EACH=$2 TARGETS=$3 CFLAGS=$4 LIBS=$5 SRC=$6
bin=t/fuzz/bin
mkdir -p "$bin"
status=0
for t in $TARGETS; do
    # shellcheck disable=SC2086
    $CLANG -g -O1 -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=undefined -Wall -Wno-unused-parameter \
        $CFLAGS -I include -I t/fuzz -o "$bin/fuzz_$t" \
        "t/fuzz/fuzz_$t.c" $SRC $LIBS || { status=1; continue; }
    scratch=$(mktemp -d)
    mkdir -p "t/fuzz/crashes/$t"
    echo "fuzz: $t for ${SECONDS_EACH}s"
    if ! "$bin/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len=4096 -seed=1 \
            -artifact_prefix="t/fuzz/crashes/$t/" -print_final_stats=1 \
            "$scratch" "t/fuzz/corpus/$t" > "$bin/$t.log" 2>&1; then
        echo "fuzz: $t found a crash: see $bin/$t.log and t/fuzz/crashes/$t/" >&2
        tail -30 "$bin/$t.log" >&2
        status=1
    fi
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$bin/$t.log" | tail -1
    rm -rf "$scratch"
done
[ "$status" = 0 ] && echo "fuzz: no crash in any target"
exit $status
