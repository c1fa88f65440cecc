/* Stopping while the event queue is full (simulator URL in argv[1], a mode in argv[2]).
 *
 * The queue holds CAPACITY events; the harness posts more messages than that ("POST <rid>
 * <text>" on stdout) while nobody takes events, so the account waits for room. Then:
 *   pull-stop       the main thread stops the account (pull mode, nobody pulling);
 *   callback-stop   the event callback, holding the first message, stops the account;
 *   callback-apply  ... restarts it with rcc_apply_config;
 *   callback-close  ... closes the core;
 *   callback-free   ... frees the core: no callback call after that, destroy once.
 * Every call must return; what was queued is still delivered, then accountStopped says
 * how many messages the account could not hand over. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <time.h>

#include "check.h"

#define CAPACITY 4
#define POSTS (CAPACITY * 3)
#define WAIT_S 30

static const char *PAT = "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c";
static const char *BOT_ID = "Bq7dYg4KxWnZcT3rA";
static const char *DM = "Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE";

static void sleep_ms(long ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct timespec deadline_in(int seconds) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += seconds;
    return ts;
}

struct state {
    rcc_core *core;
    const char *mode;
    const char *restart_config;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready;
    int messages;
    int full;
    int acted;
    rcc_status act_status;
    int restarted;
    int stopped;
    int stopped_reports_one;
    int freed;
    int calls_after_free;
    int destroyed;
};

/* Wait (the lock held) until *flag is set; false after WAIT_S seconds. */
static int wait_for(struct state *s, const int *flag) {
    struct timespec until = deadline_in(WAIT_S);
    while (!*flag) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0) {
            return *flag;
        }
    }
    return 1;
}

static void set(struct state *s, int *flag) {
    pthread_mutex_lock(&s->mu);
    *flag += 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* The callback's blocking call into the core, made while the queue is full. */
static void act(struct state *s) {
    rcc_error *err = NULL;
    char *json = NULL;
    rcc_status st = RCC_STATUS_OK;
    if (strcmp(s->mode, "callback-stop") == 0) {
        st = rcc_stop_account(s->core, "default", &err);
    } else if (strcmp(s->mode, "callback-apply") == 0) {
        st = rcc_apply_config(s->core, s->restart_config, 0, &json, &err);
        if (st == RCC_STATUS_OK && strstr(json, "\"restarted\":[\"default\"]") != NULL) {
            set(s, &s->restarted);
        } else if (st == RCC_STATUS_OK) {
            fprintf(stderr, "rcc_apply_config did not restart the account: %s\n", json);
        }
        rcc_string_free(json);
    } else if (strcmp(s->mode, "callback-close") == 0) {
        st = rcc_core_close(s->core);
    } else if (strcmp(s->mode, "callback-free") == 0) {
        rcc_core_free(s->core);
        s->freed = 1;
    }
    if (err != NULL) {
        fprintf(stderr, "%s from the callback: %s\n", s->mode, rcc_error_message(err));
        rcc_error_free(err);
    }
    pthread_mutex_lock(&s->mu);
    s->act_status = st;
    s->acted = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_event(void *user_data, const char *event_json) {
    struct state *s = user_data;
    if (s->freed) {
        fprintf(stderr, "callback after rcc_core_free: %s\n", event_json);
        s->calls_after_free++;
        return;
    }
    fprintf(stderr, "callback: %.200s\n", event_json);
    if (strstr(event_json, "\"type\":\"authenticated\"") != NULL) {
        set(s, &s->ready);
    } else if (strstr(event_json, "\"type\":\"accountStopped\"") != NULL) {
        if (strstr(event_json, "\"undelivered\":1") != NULL) {
            set(s, &s->stopped_reports_one);
        }
        set(s, &s->stopped);
    } else if (strstr(event_json, "\"type\":\"message\"") != NULL) {
        set(s, &s->messages);
        if (s->messages == 1) {
            /* Hold the first message until the harness filled the queue behind it. */
            pthread_mutex_lock(&s->mu);
            int full = wait_for(s, &s->full);
            pthread_mutex_unlock(&s->mu);
            if (full) {
                act(s);
            }
        }
    }
}

static void on_destroy(void *user_data) {
    struct state *s = user_data;
    set(s, &s->destroyed);
}

/* Messages the account took in so far (its status), or -1 when it does not run. */
static long delivered(rcc_core *core) {
    char *json = NULL;
    long n = -1;
    if (rcc_account_status(core, "default", &json, NULL) == RCC_STATUS_OK) {
        const char *at = strstr(json, "\"delivered\":");
        if (at != NULL) {
            n = strtol(at + strlen("\"delivered\":"), NULL, 10);
        }
    }
    rcc_string_free(json);
    return n;
}

/* Post more messages than the queue holds, then wait until the account took in `at_least`
 * of them: the queue is full and the account waits for room. */
static void fill_queue(rcc_core *core, long at_least) {
    for (int i = 0; i < POSTS; i++) {
        printf("POST %s flood %d\n", DM, i);
    }
    fflush(stdout);
    for (int waited = 0; delivered(core) < at_least; waited += 20) {
        if (waited > WAIT_S * 1000) {
            fprintf(stderr, "the account took in %ld messages, expected %ld\n",
                    delivered(core), at_least);
            exit(1);
        }
        sleep_ms(20);
    }
}

/* Pull until an event containing `needle`; counts the messages on the way. */
static char *pull_until(rcc_core *core, const char *needle, int *messages) {
    for (int waited = 0; waited < WAIT_S * 10; waited++) {
        char *json = NULL;
        rcc_error *err = NULL;
        rcc_status st = rcc_next_event(core, 100, &json, &err);
        if (st == RCC_STATUS_TIMEOUT) {
            rcc_error_free(err);
            continue;
        }
        EXPECT_OK(st, err, "rcc_next_event");
        if (strstr(json, needle) != NULL) {
            return json;
        }
        if (messages != NULL && strstr(json, "\"type\":\"message\"") != NULL) {
            (*messages)++;
        }
        rcc_string_free(json);
    }
    fprintf(stderr, "no event with %s within %d s\n", needle, WAIT_S);
    exit(1);
}

static void pull_stop(rcc_core *core) {
    rcc_error *err = NULL;
    char *json = pull_until(core, "\"type\":\"authenticated\"", NULL);
    rcc_string_free(json);
    fill_queue(core, CAPACITY + 1);
    printf("stopping while the queue is full\n");
    fflush(stdout);
    EXPECT_OK(rcc_stop_account(core, "default", &err), err, "rcc_stop_account");
    int messages = 0;
    json = pull_until(core, "\"type\":\"accountStopped\"", &messages);
    CHECK(strstr(json, "\"undelivered\":1") != NULL);
    rcc_string_free(json);
    CHECK(messages == CAPACITY);
    CHECK(rcc_core_close(core) == RCC_STATUS_OK);
    rcc_core_free(core);
}

static void callback_mode(struct state *s) {
    rcc_error *err = NULL;
    EXPECT_OK(rcc_set_event_callback(s->core, on_event, s, on_destroy, &err), err,
              "rcc_set_event_callback");
    pthread_mutex_lock(&s->mu);
    CHECK(wait_for(s, &s->ready));
    pthread_mutex_unlock(&s->mu);
    /* The callback holds the first message; CAPACITY more fill the queue; one more waits. */
    fill_queue(s->core, CAPACITY + 2);
    set(s, &s->full);
    pthread_mutex_lock(&s->mu);
    if (!wait_for(s, &s->acted)) {
        fprintf(stderr, "%s from the callback did not return within %d s\n", s->mode, WAIT_S);
        exit(1);
    }
    CHECK(s->act_status == RCC_STATUS_OK);
    if (strcmp(s->mode, "callback-free") == 0) {
        CHECK(wait_for(s, &s->destroyed));
        pthread_mutex_unlock(&s->mu);
        CHECK(s->calls_after_free == 0);
        CHECK(s->destroyed == 1);
        return;
    }
    /* What was queued is delivered, then the stop is reported. */
    CHECK(wait_for(s, &s->stopped));
    CHECK(s->stopped_reports_one == 1);
    CHECK(s->messages == CAPACITY + 1);
    if (strcmp(s->mode, "callback-apply") == 0) {
        CHECK(s->restarted == 1);
    }
    if (strcmp(s->mode, "callback-close") == 0) {
        CHECK(wait_for(s, &s->destroyed));
    }
    pthread_mutex_unlock(&s->mu);
    CHECK(rcc_core_close(s->core) == RCC_STATUS_OK);
    CHECK(s->destroyed == 1);
    rcc_core_free(s->core);
    CHECK(s->destroyed == 1);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: full_queue SIMULATOR_URL MODE\n");
        return 2;
    }
    char config[1024];
    char restart_config[1024];
    const char *bot = "{\"baseUrl\": \"%s\", \"authToken\": \"%s\", \"userId\": \"%s\","
                      " \"dmPolicy\": \"open\", \"allowFrom\": [\"*\"]%s}";
    snprintf(config, sizeof config, bot, argv[1], PAT, BOT_ID, "");
    snprintf(restart_config, sizeof restart_config, bot, argv[1], PAT, BOT_ID,
             ", \"groupPolicy\": \"open\"");

    struct state s = {.mode = argv[2], .restart_config = restart_config};
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    rcc_error *err = NULL;
    char *json = NULL;
    char options[64];
    snprintf(options, sizeof options, "{\"eventCapacity\": %d}", CAPACITY);
    EXPECT_OK(rcc_core_new(options, &s.core, &err), err, "rcc_core_new");

    if (strcmp(s.mode, "pull-stop") == 0) {
        EXPECT_OK(rcc_apply_config(s.core, config, 0, &json, &err), err, "rcc_apply_config");
        rcc_string_free(json);
        pull_stop(s.core);
    } else {
        EXPECT_OK(rcc_apply_config(s.core, config, 0, &json, &err), err, "rcc_apply_config");
        rcc_string_free(json);
        callback_mode(&s);
    }
    printf("full_queue %s: %d checks passed\n", s.mode, checks_passed);
    return 0;
}
