/* Round trip against the simulator (URL in argv[1]): configure the seed bot, wait until it is
 * authenticated, ask the harness to post as alice ("POST <rid> <text>" on stdout), receive the
 * message by pull and answer; then the same through the event callback, which calls back into
 * the API from the events thread. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

static const char *PAT = "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c";
static const char *BOT_ID = "Bq7dYg4KxWnZcT3rA";

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* Pull until an event whose JSON contains `needle`; returns it (caller frees). */
static char *pull_until(rcc_core *core, const char *needle, int seconds) {
    for (int waited = 0; waited < seconds * 10; waited++) {
        char *json = NULL;
        rcc_error *err = NULL;
        rcc_status st = rcc_next_event(core, 100, &json, &err);
        if (st == RCC_STATUS_TIMEOUT) {
            rcc_error_free(err);
            continue;
        }
        EXPECT_OK(st, err, "rcc_next_event");
        fprintf(stderr, "event: %s\n", json);
        if (strstr(json, needle) != NULL) {
            return json;
        }
        rcc_string_free(json);
    }
    fprintf(stderr, "no event with %s within %d s\n", needle, seconds);
    exit(1);
}

struct listener {
    rcc_core *core;
    pthread_t main_thread;
    atomic_int messages;
    atomic_int replies_ok;
    atomic_int wrong_thread;
    atomic_int destroyed;
};

static void on_event(void *user_data, const char *event_json) {
    struct listener *l = user_data;
    if (pthread_equal(pthread_self(), l->main_thread)) {
        atomic_fetch_add(&l->wrong_thread, 1);
    }
    fprintf(stderr, "callback event: %s\n", event_json);
    if (strstr(event_json, "\"type\":\"message\"") == NULL ||
        strstr(event_json, "second hello") == NULL) {
        return;
    }
    atomic_fetch_add(&l->messages, 1);
    /* Re-entrant calls from the events thread: a status read and a blocking send. */
    char *status = NULL;
    rcc_error *err = NULL;
    rcc_status st = rcc_account_status(l->core, "default", &status, &err);
    if (st != RCC_STATUS_OK || strstr(status, "\"accountId\":\"default\"") == NULL) {
        fprintf(stderr, "status from the callback failed: %d\n", (int)st);
        rcc_error_free(err);
        rcc_string_free(status);
        return;
    }
    rcc_string_free(status);
    char *sent = NULL;
    st = rcc_send_text(l->core, "default", "GENERAL", "pong via callback", NULL, &sent, &err);
    if (st == RCC_STATUS_OK && strstr(sent, "pong via callback") != NULL) {
        atomic_fetch_add(&l->replies_ok, 1);
    } else {
        fprintf(stderr, "send from the callback failed: %s\n", err ? rcc_error_message(err) : "");
    }
    rcc_error_free(err);
    rcc_string_free(sent);
}

static void on_destroy(void *user_data) {
    struct listener *l = user_data;
    atomic_fetch_add(&l->destroyed, 1);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: roundtrip SIMULATOR_URL\n");
        return 2;
    }
    char config[1024];
    snprintf(config, sizeof config,
             "{\"baseUrl\": \"%s\", \"authToken\": \"%s\", \"userId\": \"%s\","
             " \"dmPolicy\": \"open\", \"allowFrom\": [\"*\"]}",
             argv[1], PAT, BOT_ID);

    rcc_core *core = NULL;
    rcc_error *err = NULL;
    char *json = NULL;
    rcc_status st = rcc_core_new(NULL, &core, &err);
    EXPECT_OK(st, err, "rcc_core_new");

    st = rcc_apply_config(core, config, 0, &json, &err);
    EXPECT_OK(st, err, "rcc_apply_config");
    CHECK(strstr(json, "\"started\":[\"default\"]") != NULL);
    rcc_string_free(json);

    /* Pull: the events from the start are all there, in order. */
    json = pull_until(core, "\"type\":\"authenticated\"", 20);
    CHECK(strstr(json, "\"accountId\":\"default\"") != NULL);
    CHECK(strstr(json, BOT_ID) != NULL);
    rcc_string_free(json);

    printf("POST GENERAL hello @mybot\n");
    fflush(stdout);
    json = pull_until(core, "\"type\":\"message\"", 20);
    CHECK(strstr(json, "hello @mybot") != NULL);
    rcc_string_free(json);

    json = NULL;
    st = rcc_send_text(core, "default", "GENERAL", "pong from C", NULL, &json, &err);
    EXPECT_OK(st, err, "rcc_send_text");
    CHECK(json != NULL && strstr(json, "pong from C") != NULL);
    rcc_string_free(json);

    /* Callback. */
    struct listener l = {.core = core, .main_thread = pthread_self()};
    st = rcc_set_event_callback(core, on_event, &l, on_destroy, &err);
    EXPECT_OK(st, err, "rcc_set_event_callback");
    printf("POST GENERAL second hello @mybot\n");
    fflush(stdout);
    for (int i = 0; i < 200 && atomic_load(&l.replies_ok) == 0; i++) {
        sleep_ms(100);
    }
    CHECK(atomic_load(&l.messages) == 1);
    CHECK(atomic_load(&l.replies_ok) == 1);
    CHECK(atomic_load(&l.wrong_thread) == 0);
    CHECK(atomic_load(&l.destroyed) == 0);

    CHECK(rcc_core_close(core) == RCC_STATUS_OK);
    CHECK(atomic_load(&l.destroyed) == 1);
    rcc_core_free(core);
    CHECK(atomic_load(&l.destroyed) == 1);
    printf("roundtrip: %d checks passed\n", checks_passed);
    return 0;
}
