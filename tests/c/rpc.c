/* A line-by-line driver of rcc_call: what a C host that speaks JSON does. It reads requests
 * on stdin, one per line: `<verb> <args JSON>` (the args may be absent), and answers each on
 * stdout with one line: `<status number> <result JSON>` on success, or
 * `<status number> {"message": "...", "details": {...}}` on failure.
 * The first line of the driver's output is `ready`; it closes the core at end of input.
 * Used by tests/node/contract.test.mjs, which runs the same cases through Node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openclaw_rocketchat.h"

/* Print `s` as a JSON string. */
static void print_json_string(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            printf("\\%c", *p);
        } else if (*p < 0x20) {
            printf("\\u%04x", *p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}

int main(void) {
    rcc_core *core = NULL;
    rcc_error *err = NULL;
    static char line[1 << 23];

    if (rcc_core_new("{\"logLevel\":\"off\"}", &core, &err) != RCC_STATUS_OK) {
        fprintf(stderr, "rcc_core_new: %s\n", rcc_error_message(err));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *args = strchr(line, ' ');
        if (args != NULL) {
            *args++ = '\0';
        }
        char *result = NULL;
        rcc_status st = rcc_call(core, line, args, &result, &err);
        if (st == RCC_STATUS_OK) {
            printf("%d %s\n", (int)st, result);
            rcc_string_free(result);
        } else {
            printf("%d {\"message\":", (int)st);
            print_json_string(rcc_error_message(err));
            printf(",\"details\":%s}\n", rcc_error_details(err));
            rcc_error_free(err);
            err = NULL;
        }
        fflush(stdout);
    }
    rcc_core_close(core);
    rcc_core_free(core);
    return 0;
}
