#!/bin/sh
# httpd with the sanitizer runtimes preloaded, for a module built with
# SANITIZE=address,undefined. Leak checks are off: httpd frees its pools
# by exiting, which LeakSanitizer would report as leaks. No alternate
# signal stack: GCC 12's libasan reports its own sigaltstack teardown when
# a thread exits (a stack-use-after-scope inside libsanitizer, not here).
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
LD_PRELOAD="$asan:$ubsan${LD_PRELOAD:+:$LD_PRELOAD}"
ASAN_OPTIONS="detect_leaks=0:use_sigaltstack=0:abort_on_error=1:disable_coredump=0:log_path=${ASAN_LOG_DIR:-/tmp}/asan"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=${ASAN_LOG_DIR:-/tmp}/ubsan"
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
exec /usr/sbin/apache2 "$@"
