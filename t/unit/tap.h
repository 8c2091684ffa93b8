/* A few TAP helpers for the C unit tests (run under Test::Harness by t/TEST). */
#ifndef POLYCOM_TAP_H
#define POLYCOM_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

#define tap_ok(cond, ...) tap_ok_at(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static void tap_ok_at(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static void tap_ok_at(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    printf("%s %d - ", ok ? "ok" : "not ok", ++tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!ok) {
        tap_failed++;
        printf("#   failed at %s line %d\n", file, line);
    }
}

#define tap_is_str(got, want, ...) do {                                  \
        const char *tap_g_ = (got), *tap_w_ = (want);                    \
        int tap_same_ = tap_g_ && tap_w_ ? !strcmp(tap_g_, tap_w_)        \
                                         : tap_g_ == tap_w_;              \
        tap_ok(tap_same_, __VA_ARGS__);                                   \
        if (!tap_same_) {                                                 \
            printf("#          got: '%s'\n#     expected: '%s'\n",        \
                   tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)"); \
        }                                                                 \
    } while (0)

#define tap_is_int(got, want, ...) do {                                  \
        long tap_g_ = (long)(got), tap_w_ = (long)(want);                 \
        tap_ok(tap_g_ == tap_w_, __VA_ARGS__);                            \
        if (tap_g_ != tap_w_) {                                           \
            printf("#          got: %ld\n#     expected: %ld\n",          \
                   tap_g_, tap_w_);                                       \
        }                                                                 \
    } while (0)

static int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
