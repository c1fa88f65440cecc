/* Concurrency against the simulator (URL in argv[1]): several threads read statuses and send
 * while two threads pull events; then two threads close at once while the pulls are blocked,
 * and every pull must end with RCC_STATUS_CLOSED promptly. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

#define WORKERS 4
#define SENDS_PER_WORKER 3
#define PULLERS 2

static const char *PAT = "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c";
static const char *BOT_ID = "Bq7dYg4KxWnZcT3rA";

static rcc_core *core;
static atomic_int failures;
static atomic_int events_pulled;
static atomic_int pullers_closed;
static atomic_int sent_events;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what, rcc_status st, rcc_error *err) {
    fprintf(stderr, "%s: status %d: %s\n", what, (int)st, err ? rcc_error_message(err) : "");
    rcc_error_free(err);
    atomic_fetch_add(&failures, 1);
}

static void *worker(void *arg) {
    int n = (int)(size_t)arg;
    for (int i = 0; i < SENDS_PER_WORKER; i++) {
        char *json = NULL;
        rcc_error *err = NULL;
        rcc_status st = rcc_account_status(core, NULL, &json, &err);
        if (st != RCC_STATUS_OK) {
            fail("status(all)", st, err);
        }
        rcc_string_free(json);
        json = NULL;
        st = rcc_account_status(core, "default", &json, &err);
        if (st != RCC_STATUS_OK) {
            fail("status(default)", st, err);
        }
        rcc_string_free(json);
        json = NULL;
        char text[64];
        snprintf(text, sizeof text, "worker %d message %d", n, i);
        st = rcc_send_text(core, "default", "GENERAL", text, NULL, &json, &err);
        if (st != RCC_STATUS_OK || strstr(json, text) == NULL) {
            fail("send", st, err);
        }
        rcc_string_free(json);
    }
    return NULL;
}

static void *puller(void *arg) {
    (void)arg;
    for (;;) {
        char *json = NULL;
        rcc_error *err = NULL;
        rcc_status st = rcc_next_event(core, 200, &json, &err);
        if (st == RCC_STATUS_OK) {
            atomic_fetch_add(&events_pulled, 1);
            if (strstr(json, "\"type\":\"sent\"") != NULL) {
                atomic_fetch_add(&sent_events, 1);
            }
            rcc_string_free(json);
        } else if (st == RCC_STATUS_TIMEOUT) {
            rcc_error_free(err);
        } else if (st == RCC_STATUS_CLOSED) {
            rcc_error_free(err);
            atomic_fetch_add(&pullers_closed, 1);
            return NULL;
        } else {
            fail("next_event", st, err);
            return NULL;
        }
    }
}

static void *closer(void *arg) {
    (void)arg;
    rcc_status st = rcc_core_close(core);
    if (st != RCC_STATUS_OK) {
        fail("close", st, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: threads SIMULATOR_URL\n");
        return 2;
    }
    char config[1024];
    snprintf(config, sizeof config,
             "{\"baseUrl\": \"%s\", \"authToken\": \"%s\", \"userId\": \"%s\","
             " \"dmPolicy\": \"open\", \"allowFrom\": [\"*\"]}",
             argv[1], PAT, BOT_ID);
    rcc_error *err = NULL;
    rcc_status st = rcc_core_new(NULL, &core, &err);
    EXPECT_OK(st, err, "rcc_core_new");
    st = rcc_apply_config(core, config, 0, NULL, &err);
    EXPECT_OK(st, err, "rcc_apply_config");

    /* Wait until the account is authenticated before sending. */
    int ready = 0;
    for (int i = 0; i < 200 && !ready; i++) {
        char *json = NULL;
        st = rcc_next_event(core, 100, &json, &err);
        if (st == RCC_STATUS_OK) {
            ready = strstr(json, "\"type\":\"authenticated\"") != NULL;
            rcc_string_free(json);
        } else {
            CHECK(st == RCC_STATUS_TIMEOUT);
            rcc_error_free(err);
        }
    }
    CHECK(ready);

    pthread_t pullers[PULLERS], workers[WORKERS], closers[2];
    for (size_t i = 0; i < PULLERS; i++) {
        CHECK(pthread_create(&pullers[i], NULL, puller, NULL) == 0);
    }
    for (size_t i = 0; i < WORKERS; i++) {
        CHECK(pthread_create(&workers[i], NULL, worker, (void *)i) == 0);
    }
    for (size_t i = 0; i < WORKERS; i++) {
        CHECK(pthread_join(workers[i], NULL) == 0);
    }
    CHECK(atomic_load(&failures) == 0);

    /* Let the pullers take the `sent` events, then block on an empty queue. */
    for (int i = 0; i < 100 && atomic_load(&sent_events) < WORKERS * SENDS_PER_WORKER; i++) {
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
    }
    CHECK(atomic_load(&sent_events) == WORKERS * SENDS_PER_WORKER);
    CHECK(atomic_load(&pullers_closed) == 0);

    /* Two closers at once, while both pulls are blocked. */
    double started = now_s();
    for (size_t i = 0; i < 2; i++) {
        CHECK(pthread_create(&closers[i], NULL, closer, NULL) == 0);
    }
    for (size_t i = 0; i < 2; i++) {
        CHECK(pthread_join(closers[i], NULL) == 0);
    }
    for (size_t i = 0; i < PULLERS; i++) {
        CHECK(pthread_join(pullers[i], NULL) == 0);
    }
    double took = now_s() - started;
    CHECK(atomic_load(&pullers_closed) == PULLERS);
    CHECK(atomic_load(&failures) == 0);
    CHECK(took < 5.0);

    rcc_core_free(core);
    printf("threads: %d checks passed, %d events pulled, closed in %.3f s\n", checks_passed,
           atomic_load(&events_pulled), took);
    return 0;
}
