/* Tiny assertion helpers shared by the C tests (C11, no dependencies). */
#ifndef RCC_TEST_CHECK_H
#define RCC_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openclaw_rocketchat.h"

static int checks_passed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
        checks_passed++;                                                             \
    } while (0)

/* Fail with the error's message when a call did not return RCC_STATUS_OK. */
#define EXPECT_OK(status, err, what) expect_ok((status), (err), (what), __LINE__)
#define EXPECT_ERR(status, err, expected, needle, what) \
    expect_error((status), (err), (expected), (needle), (what), __LINE__)

static inline void expect_ok(rcc_status status, rcc_error *err, const char *what, int line) {
    if (status != RCC_STATUS_OK) {
        fprintf(stderr, "line %d: %s failed with status %d: %s\n", line, what, (int)status,
                err ? rcc_error_message(err) : "(no error object)");
        exit(1);
    }
    if (err != NULL) {
        fprintf(stderr, "line %d: %s returned OK but set an error\n", line, what);
        exit(1);
    }
    checks_passed++;
}
/* An error out-parameter carrying the expected status and a message containing `needle`. */
static inline void expect_error(rcc_status status, rcc_error *err, rcc_status expected,
                         const char *needle, const char *what, int line) {
    if (status != expected || err == NULL || rcc_error_code(err) != expected) {
        fprintf(stderr, "line %d: %s: status %d, expected %d: %s\n", line, what, (int)status,
                (int)expected, err ? rcc_error_message(err) : "(no error object)");
        exit(1);
    }
    if (needle != NULL && strstr(rcc_error_message(err), needle) == NULL) {
        fprintf(stderr, "line %d: %s: message \"%s\" lacks \"%s\"\n", line, what,
                rcc_error_message(err), needle);
        exit(1);
    }
    rcc_error_free(err);
    checks_passed++;
}

#endif
