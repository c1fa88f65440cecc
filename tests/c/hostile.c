/* Hostile use of the C ABI, without a server: NULL for every pointer argument, invalid
 * UTF-8, invalid and pathological JSON, double close, close from several threads at once,
 * calls after close, an event callback that re-enters the API (status, send, pull, set a new
 * callback, close), concurrent calls from several threads, free of NULL.
 *
 * Expected: a clear status for every call, no crash, and (under valgrind memcheck, see
 * bindings/c/tests/c_programs.rs) no invalid access and no definite leak.
 * Prints "hostile: N checks passed". */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

/* An account that never connects (nothing listens on port 1): it still starts and emits
 * events (accountStarted, connecting, disconnected...), which is all the callbacks need. */
static const char *UNREACHABLE =
    "{\"baseUrl\": \"http://127.0.0.1:1\", \"authToken\": \"t\", \"userId\": \"u\"}";

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait until *counter >= want, up to 60 s (valgrind is slow). */
static int wait_for(atomic_int *counter, int want) {
    for (int i = 0; i < 6000; i++) {
        if (atomic_load(counter) >= want) {
            return 1;
        }
        sleep_ms(10);
    }
    return 0;
}

/* Expect `status` with an error object of that status, and free the error. */
static void expect_status(rcc_status st, rcc_error *err, rcc_status want, const char *what) {
    if (st != want || err == NULL || rcc_error_code(err) != want ||
        rcc_error_message(err) == NULL) {
        fprintf(stderr, "%s: status %d, expected %d: %s\n", what, (int)st, (int)want,
                err ? rcc_error_message(err) : "(no error object)");
        exit(1);
    }
    rcc_error_free(err);
    checks_passed++;
}

/* Sequenced: the call runs before `err` is read (argument order is unspecified in C). */
#define EXPECT(call, want, what)                  \
    do {                                          \
        rcc_status st_ = (call);                  \
        expect_status(st_, err, (want), (what));  \
        err = NULL;                               \
    } while (0)

static void noop_cb(void *user_data, const char *event_json) {
    (void)user_data;
    (void)event_json;
}

/* ---- NULL pointers, invalid UTF-8, invalid JSON ---------------------------------------- */

static void null_arguments(rcc_core *core) {
    rcc_error *err = NULL;
    char *out = NULL;
    rcc_core *none = NULL;

    rcc_string_free(NULL);
    rcc_error_free(NULL);
    rcc_core_free(NULL);
    CHECK(rcc_error_code(NULL) == RCC_STATUS_INVALID_ARGUMENT);
    CHECK(rcc_error_message(NULL) == NULL);
    CHECK(rcc_config_schema(NULL) == RCC_STATUS_INVALID_ARGUMENT);
    CHECK(rcc_core_close(NULL) == RCC_STATUS_INVALID_ARGUMENT);

    /* rcc_core_new: out NULL (with and without err). */
    EXPECT(rcc_core_new(NULL, NULL, &err), RCC_STATUS_INVALID_ARGUMENT, "new(out)");
    CHECK(rcc_core_new("{}", NULL, NULL) == RCC_STATUS_INVALID_ARGUMENT);

    /* NULL core, for every function taking one. */
    EXPECT(rcc_apply_config(NULL, "{}", 0, &out, &err), RCC_STATUS_INVALID_ARGUMENT,
                  "apply(core)");
    CHECK(out == NULL);
    EXPECT(rcc_stop_account(NULL, "default", &err), RCC_STATUS_INVALID_ARGUMENT,
                  "stop(core)");
    EXPECT(rcc_account_status(NULL, NULL, &out, &err), RCC_STATUS_INVALID_ARGUMENT,
                  "status(core)");
    CHECK(out == NULL);
    EXPECT(rcc_send_text(NULL, "default", "GENERAL", "hi", NULL, &out, &err),
                  RCC_STATUS_INVALID_ARGUMENT, "send(core)");
    CHECK(out == NULL);
    EXPECT(rcc_next_event(NULL, 0, &out, &err), RCC_STATUS_INVALID_ARGUMENT,
                  "next(core)");
    CHECK(out == NULL);
    EXPECT(rcc_set_event_callback(NULL, noop_cb, NULL, NULL, &err),
                  RCC_STATUS_INVALID_ARGUMENT, "set_cb(core)");

    /* NULL for each other pointer argument, with err NULL too. */
    EXPECT(rcc_apply_config(core, NULL, 0, &out, &err), RCC_STATUS_INVALID_ARGUMENT,
                  "apply(json)");
    CHECK(rcc_apply_config(core, NULL, 0, NULL, NULL) == RCC_STATUS_INVALID_ARGUMENT);
    EXPECT(rcc_stop_account(core, NULL, &err), RCC_STATUS_INVALID_ARGUMENT,
                  "stop(id)");
    EXPECT(rcc_account_status(core, NULL, NULL, &err), RCC_STATUS_INVALID_ARGUMENT,
                  "status(json_out)");
    EXPECT(rcc_account_status(core, "default", NULL, &err),
                  RCC_STATUS_INVALID_ARGUMENT, "status(id, json_out)");
    EXPECT(rcc_send_text(core, NULL, "GENERAL", "hi", NULL, NULL, &err),
                  RCC_STATUS_INVALID_ARGUMENT, "send(account)");
    EXPECT(rcc_send_text(core, "default", NULL, "hi", NULL, NULL, &err),
                  RCC_STATUS_INVALID_ARGUMENT, "send(target)");
    EXPECT(rcc_send_text(core, "default", "GENERAL", NULL, NULL, NULL, &err),
                  RCC_STATUS_INVALID_ARGUMENT, "send(text)");
    CHECK(rcc_send_text(core, NULL, NULL, NULL, NULL, NULL, NULL) ==
          RCC_STATUS_INVALID_ARGUMENT);
    EXPECT(rcc_next_event(core, 0, NULL, &err), RCC_STATUS_INVALID_ARGUMENT,
                  "next(out)");

    /* Optional pointers: NULL is fine. */
    CHECK(rcc_account_status(core, NULL, &out, NULL) == RCC_STATUS_OK);
    CHECK(out != NULL && strcmp(out, "[]") == 0);
    rcc_string_free(out);
    out = NULL;
    EXPECT(rcc_send_text(core, "nobody", "GENERAL", "hi", NULL, NULL, &err),
                  RCC_STATUS_NOT_FOUND, "send(no account, NULL thread and out)");
    CHECK(rcc_set_event_callback(core, NULL, NULL, NULL, NULL) == RCC_STATUS_OK);
    CHECK(rcc_core_new(NULL, &none, NULL) == RCC_STATUS_OK && none != NULL);
    CHECK(rcc_core_close(none) == RCC_STATUS_OK);
    rcc_core_free(none);

    /* *err is overwritten, never read: a garbage value in it is not freed. */
    err = (rcc_error *)&checks_passed;
    CHECK(rcc_account_status(core, NULL, &out, &err) == RCC_STATUS_OK && err == NULL);
    rcc_string_free(out);
}

static void invalid_utf8(rcc_core *core) {
    const char *bad = "\xc3\x28 \xff\xfe \xed\xa0\x80"; /* bad continuation, 0xff, surrogate */
    rcc_error *err = NULL;
    char *out = NULL;
    rcc_core *other = NULL;

    EXPECT(rcc_core_new(bad, &other, &err), RCC_STATUS_INVALID_UTF8, "new(options)");
    CHECK(other == NULL);
    EXPECT(rcc_apply_config(core, bad, 0, &out, &err), RCC_STATUS_INVALID_UTF8,
                  "apply(json)");
    CHECK(out == NULL);
    EXPECT(rcc_stop_account(core, bad, &err), RCC_STATUS_INVALID_UTF8, "stop(id)");
    EXPECT(rcc_account_status(core, bad, &out, &err), RCC_STATUS_INVALID_UTF8,
                  "status(id)");
    CHECK(out == NULL);
    EXPECT(rcc_send_text(core, bad, "GENERAL", "hi", NULL, &out, &err),
                  RCC_STATUS_INVALID_UTF8, "send(account)");
    EXPECT(rcc_send_text(core, "default", bad, "hi", NULL, &out, &err),
                  RCC_STATUS_INVALID_UTF8, "send(target)");
    EXPECT(rcc_send_text(core, "default", "GENERAL", bad, NULL, &out, &err),
                  RCC_STATUS_INVALID_UTF8, "send(text)");
    EXPECT(rcc_send_text(core, "default", "GENERAL", "hi", bad, &out, &err),
                  RCC_STATUS_INVALID_UTF8, "send(thread)");
    CHECK(out == NULL);
}

static void invalid_json(rcc_core *core) {
    static const char *const broken[] = {
        "", "{", "{\"baseUrl\": }", "nul", "{\"a\":1}}", "\"unterminated", "{'single': 1}",
        "[1, 2,]",
    };
    rcc_error *err = NULL;
    char *out = NULL;
    rcc_core *other = NULL;

    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        EXPECT(rcc_core_new(broken[i], &other, &err), RCC_STATUS_INVALID_JSON,
                      "new(broken options)");
        CHECK(other == NULL);
        EXPECT(rcc_apply_config(core, broken[i], 0, &out, &err),
                      RCC_STATUS_INVALID_JSON, "apply(broken JSON)");
        CHECK(out == NULL);
    }
    /* Valid JSON of the wrong shape is a configuration error, not a crash. */
    static const char *const wrong[] = {"[]", "null", "42", "\"text\"", "{\"accounts\": 7}",
                                        "{\"baseUrl\": \"javascript:alert(1)\"}"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        rcc_status st = rcc_apply_config(core, wrong[i], 0, &out, &err);
        CHECK(st == RCC_STATUS_CONFIG && err != NULL && out == NULL);
        rcc_error_free(err);
        err = NULL;
    }
    CHECK(rcc_core_new("[]", &other, NULL) == RCC_STATUS_CONFIG && other == NULL);

    /* 100 000 nested arrays: refused by the parser's depth limit, no stack overflow. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    CHECK(deep != NULL);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    EXPECT(rcc_apply_config(core, deep, 0, &out, &err), RCC_STATUS_INVALID_JSON,
                  "apply(deep JSON)");
    EXPECT(rcc_core_new(deep, &other, &err), RCC_STATUS_INVALID_JSON,
                  "new(deep JSON)");
    free(deep);

    /* Odd send targets on an unknown account: a status, whatever the order of checks. */
    static const char *const targets[] = {"", "@", "#", "user:", "room:", "channel:", " "};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        rcc_status st = rcc_send_text(core, "nobody", targets[i], "hi", "", &out, &err);
        CHECK((st == RCC_STATUS_INVALID_ARGUMENT || st == RCC_STATUS_NOT_FOUND) && err != NULL);
        rcc_error_free(err);
        err = NULL;
        CHECK(out == NULL);
    }
}

/* ---- Close: twice, from several threads, then every call ------------------------------- */

static void *close_thread(void *arg) {
    rcc_status st = rcc_core_close((const rcc_core *)arg);
    return (void *)(st == RCC_STATUS_OK ? (void *)1 : NULL);
}

static void closing(void) {
    rcc_core *core = NULL;
    rcc_error *err = NULL;
    char *out = NULL;
    CHECK(rcc_core_new("{\"workerThreads\": 1}", &core, NULL) == RCC_STATUS_OK);
    CHECK(rcc_apply_config(core, UNREACHABLE, 0, NULL, NULL) == RCC_STATUS_OK);

    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&threads[i], NULL, close_thread, core) == 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ok = NULL;
        CHECK(pthread_join(threads[i], &ok) == 0 && ok != NULL);
    }
    CHECK(rcc_core_close(core) == RCC_STATUS_OK); /* and once more */

    /* Calls after close. */
    EXPECT(rcc_apply_config(core, "{}", 0, &out, &err), RCC_STATUS_CLOSED,
                  "apply after close");
    EXPECT(rcc_stop_account(core, "default", &err), RCC_STATUS_CLOSED,
                  "stop after close");
    EXPECT(rcc_send_text(core, "default", "GENERAL", "hi", NULL, &out, &err),
                  RCC_STATUS_CLOSED, "send after close");
    EXPECT(rcc_set_event_callback(core, noop_cb, NULL, NULL, &err),
                  RCC_STATUS_CLOSED, "set_cb after close");
    EXPECT(rcc_account_status(core, NULL, &out, &err), RCC_STATUS_CLOSED,
                  "status after close");
    CHECK(out == NULL);
    /* Remaining events (accountStarted, connecting, accountStopped...) then CLOSED. */
    rcc_status st;
    int drained = 0;
    while ((st = rcc_next_event(core, 0, &out, &err)) == RCC_STATUS_OK) {
        rcc_string_free(out);
        out = NULL;
        drained++;
        CHECK(drained < 100000);
    }
    EXPECT(st, RCC_STATUS_CLOSED, "next after close");
    CHECK(drained > 0);
    rcc_core_free(core);
}

/* ---- A callback that re-enters the API ------------------------------------------------- */

struct reentry {
    const rcc_core *core;
    atomic_int calls;
    atomic_int second_calls;
    atomic_int destroyed;
    atomic_int failures;
};

static void fail(struct reentry *r, const char *what, rcc_status st) {
    fprintf(stderr, "in callback: %s returned %d\n", what, (int)st);
    atomic_fetch_add(&r->failures, 1);
}

static void on_destroy(void *user_data) {
    struct reentry *r = user_data;
    atomic_fetch_add(&r->destroyed, 1);
}

/* The second callback closes the core from inside the callback. */
static void second_cb(void *user_data, const char *event_json) {
    struct reentry *r = user_data;
    if (event_json == NULL) {
        fail(r, "event_json", RCC_STATUS_INTERNAL);
    }
    if (atomic_fetch_add(&r->second_calls, 1) == 0) {
        rcc_status st = rcc_core_close(r->core);
        if (st != RCC_STATUS_OK) {
            fail(r, "close", st);
        }
        rcc_error *err = NULL;
        st = rcc_send_text(r->core, "default", "GENERAL", "hi", NULL, NULL, &err);
        if (st != RCC_STATUS_CLOSED) {
            fail(r, "send after close", st);
        }
        rcc_error_free(err);
    }
}

static void first_cb(void *user_data, const char *event_json) {
    struct reentry *r = user_data;
    rcc_error *err = NULL;
    char *out = NULL;
    rcc_status st;
    if (event_json == NULL || strstr(event_json, "\"type\"") == NULL) {
        fail(r, "event_json", RCC_STATUS_INTERNAL);
    }
    if (atomic_fetch_add(&r->calls, 1) != 0) {
        return;
    }
    st = rcc_account_status(r->core, NULL, &out, &err);
    if (st != RCC_STATUS_OK) {
        fail(r, "status", st);
    }
    rcc_string_free(out);
    rcc_error_free(err);
    err = NULL;
    st = rcc_send_text(r->core, "nobody", "GENERAL", "from the callback", NULL, NULL, &err);
    if (st != RCC_STATUS_NOT_FOUND) {
        fail(r, "send", st);
    }
    rcc_error_free(err);
    err = NULL;
    out = NULL;
    st = rcc_next_event(r->core, 0, &out, &err);
    if (st != RCC_STATUS_INVALID_STATE || out != NULL) {
        fail(r, "next_event in a callback", st);
    }
    rcc_error_free(err);
    /* Replace this callback from inside it; on_destroy(r) runs once this call returns. */
    st = rcc_set_event_callback(r->core, second_cb, r, on_destroy, NULL);
    if (st != RCC_STATUS_OK) {
        fail(r, "set callback", st);
    }
}

static void reentrant_callback(void) {
    static struct reentry r;
    rcc_core *core = NULL;
    CHECK(rcc_core_new("{\"workerThreads\": 1}", &core, NULL) == RCC_STATUS_OK);
    r.core = core;
    CHECK(rcc_apply_config(core, UNREACHABLE, 0, NULL, NULL) == RCC_STATUS_OK);
    CHECK(rcc_set_event_callback(core, first_cb, &r, on_destroy, NULL) == RCC_STATUS_OK);
    /* The first callback is replaced (destroy #1), the second closes the core, which
     * delivers what is left and destroys it (destroy #2). */
    CHECK(wait_for(&r.destroyed, 2));
    CHECK(rcc_core_close(core) == RCC_STATUS_OK);
    CHECK(atomic_load(&r.failures) == 0);
    CHECK(atomic_load(&r.calls) >= 1 && atomic_load(&r.second_calls) >= 1);
    CHECK(atomic_load(&r.destroyed) == 2);
    rcc_core_free(core);
}

/* ---- Concurrent calls from several threads --------------------------------------------- */

static atomic_int worker_failures;
static atomic_int cb_destroyed;

static void count_destroy(void *user_data) {
    (void)user_data;
    atomic_fetch_add(&cb_destroyed, 1);
}

static void *worker(void *arg) {
    const rcc_core *core = arg;
    for (int i = 0; i < 20; i++) {
        rcc_error *err = NULL;
        char *out = NULL;
        rcc_status st;
        switch (i % 5) {
        case 0:
            st = rcc_account_status(core, NULL, &out, &err);
            if (st != RCC_STATUS_OK && st != RCC_STATUS_CLOSED) {
                atomic_fetch_add(&worker_failures, 1);
            }
            break;
        case 1:
            st = rcc_send_text(core, "nobody", "@alice", "hi", NULL, &out, &err);
            if (st != RCC_STATUS_NOT_FOUND && st != RCC_STATUS_CLOSED) {
                atomic_fetch_add(&worker_failures, 1);
            }
            break;
        case 2:
            st = rcc_next_event(core, 5, &out, &err);
            if (st != RCC_STATUS_OK && st != RCC_STATUS_TIMEOUT && st != RCC_STATUS_CLOSED &&
                st != RCC_STATUS_INVALID_STATE) {
                atomic_fetch_add(&worker_failures, 1);
            }
            break;
        case 3:
            st = rcc_set_event_callback(core, (i / 5) % 2 ? noop_cb : NULL, NULL,
                                        count_destroy, &err);
            if (st != RCC_STATUS_OK && st != RCC_STATUS_CLOSED) {
                atomic_fetch_add(&worker_failures, 1);
            }
            break;
        default:
            st = rcc_apply_config(core, UNREACHABLE, 0, &out, &err);
            if (st != RCC_STATUS_OK && st != RCC_STATUS_CLOSED) {
                atomic_fetch_add(&worker_failures, 1);
            }
            break;
        }
        if (st != RCC_STATUS_OK && err == NULL) {
            atomic_fetch_add(&worker_failures, 1); /* every failure carries an error */
        }
        rcc_string_free(out);
        rcc_error_free(err);
    }
    return NULL;
}

static void concurrent_calls(void) {
    rcc_core *core = NULL;
    CHECK(rcc_core_new("{\"workerThreads\": 2}", &core, NULL) == RCC_STATUS_OK);
    pthread_t threads[6];
    for (int i = 0; i < 6; i++) {
        CHECK(pthread_create(&threads[i], NULL, worker, core) == 0);
    }
    sleep_ms(50);
    CHECK(rcc_core_close(core) == RCC_STATUS_OK); /* while they run */
    for (int i = 0; i < 6; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
    }
    CHECK(atomic_load(&worker_failures) == 0);
    rcc_core_free(core);
}

int main(void) {
    rcc_core *core = NULL;
    CHECK(rcc_core_new("{\"workerThreads\": 1}", &core, NULL) == RCC_STATUS_OK);
    null_arguments(core);
    invalid_utf8(core);
    invalid_json(core);
    CHECK(rcc_core_close(core) == RCC_STATUS_OK);
    CHECK(rcc_core_close(core) == RCC_STATUS_OK);
    rcc_core_free(core);

    closing();
    reentrant_callback();
    concurrent_calls();

    printf("hostile: %d checks passed\n", checks_passed);
    return 0;
}
