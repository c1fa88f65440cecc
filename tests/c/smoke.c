/* Smoke test of the C ABI without a server: version, error paths, lifecycle. */
#include <stdatomic.h>

#include "check.h"

static atomic_int destroyed;

static void on_event(void *user_data, const char *event_json) {
    (void)user_data;
    (void)event_json;
}

static void on_destroy(void *user_data) {
    CHECK(user_data == (void *)&destroyed);
    atomic_fetch_add(&destroyed, 1);
}

int main(void) {
    rcc_core *core = NULL;
    rcc_error *err = NULL;
    char *json = NULL;
    rcc_status st;

    /* Version: a static, non-empty string. */
    CHECK(rcc_version() != NULL && strlen(rcc_version()) > 0);

    /* NULL arguments. */
    st = rcc_core_new(NULL, NULL, &err);
    EXPECT_ERR(st, err, RCC_STATUS_INVALID_ARGUMENT, "out", "rcc_core_new(out = NULL)");
    st = rcc_account_status(NULL, NULL, &json, &err);
    EXPECT_ERR(st, err, RCC_STATUS_INVALID_ARGUMENT, "core", "rcc_account_status(NULL core)");
    CHECK(json == NULL);
    CHECK(rcc_next_event(NULL, 0, &json, NULL) == RCC_STATUS_INVALID_ARGUMENT);
    CHECK(rcc_core_close(NULL) == RCC_STATUS_INVALID_ARGUMENT);
    CHECK(rcc_config_schema(NULL) == RCC_STATUS_INVALID_ARGUMENT);
    CHECK(rcc_error_code(NULL) == RCC_STATUS_INVALID_ARGUMENT);
    CHECK(rcc_error_message(NULL) == NULL);
    rcc_error_free(NULL);
    rcc_string_free(NULL);
    rcc_core_free(NULL);

    /* Options: invalid JSON, unknown key, bad value, then a good core. */
    st = rcc_core_new("{workerThreads", &core, &err);
    EXPECT_ERR(st, err, RCC_STATUS_INVALID_JSON, "options_json", "rcc_core_new(bad JSON)");
    CHECK(core == NULL);
    st = rcc_core_new("{\"workerThread\": 1}", &core, &err);
    EXPECT_ERR(st, err, RCC_STATUS_CONFIG, "workerThread", "rcc_core_new(unknown key)");
    st = rcc_core_new("{\"workerThreads\": 0}", &core, &err);
    EXPECT_ERR(st, err, RCC_STATUS_CONFIG, "workerThreads", "rcc_core_new(0 threads)");
    st = rcc_core_new("{\"workerThreads\": 1, \"eventCapacity\": 64}", &core, &err);
    EXPECT_OK(st, err, "rcc_core_new");
    CHECK(core != NULL);

    /* Invalid UTF-8 and a NULL required string. */
    st = rcc_stop_account(core, "\xff\xfe", &err);
    EXPECT_ERR(st, err, RCC_STATUS_INVALID_UTF8, "account_id", "rcc_stop_account(bad UTF-8)");
    st = rcc_send_text(core, "default", NULL, "hi", NULL, NULL, &err);
    EXPECT_ERR(st, err, RCC_STATUS_INVALID_ARGUMENT, "target", "rcc_send_text(NULL target)");
    CHECK(rcc_stop_account(core, NULL, NULL) == RCC_STATUS_INVALID_ARGUMENT);

    /* Configuration: bad JSON, then an invalid value whose message names the key. */
    st = rcc_apply_config(core, "{not json", 0, &json, &err);
    EXPECT_ERR(st, err, RCC_STATUS_INVALID_JSON, "channels_rocketchat_json", "bad config JSON");
    CHECK(json == NULL);
    st = rcc_apply_config(core,
                          "{\"baseUrl\": \"ftp://chat.example.com\", \"authToken\": \"t\","
                          " \"userId\": \"u\"}",
                          0, &json, &err);
    EXPECT_ERR(st, err, RCC_STATUS_CONFIG, "baseUrl", "invalid baseUrl");
    CHECK(json == NULL);

    /* An empty configuration runs nothing. */
    st = rcc_apply_config(core, "{}", 0, &json, &err);
    EXPECT_OK(st, err, "rcc_apply_config({})");
    CHECK(json != NULL && strstr(json, "\"started\":[]") != NULL);
    rcc_string_free(json);
    json = NULL;
    st = rcc_account_status(core, NULL, &json, &err);
    EXPECT_OK(st, err, "rcc_account_status(all)");
    CHECK(strcmp(json, "[]") == 0);
    rcc_string_free(json);
    json = NULL;
    st = rcc_account_status(core, "nobody", &json, &err);
    EXPECT_ERR(st, err, RCC_STATUS_NOT_FOUND, "nobody", "status of an unknown account");
    st = rcc_stop_account(core, "nobody", &err);
    EXPECT_ERR(st, err, RCC_STATUS_NOT_FOUND, "nobody", "stop an unknown account");
    st = rcc_send_text(core, "nobody", "GENERAL", "hi", NULL, &json, &err);
    EXPECT_ERR(st, err, RCC_STATUS_NOT_FOUND, "nobody", "send through an unknown account");

    /* No event yet: a pull times out. */
    st = rcc_next_event(core, 20, &json, &err);
    EXPECT_ERR(st, err, RCC_STATUS_TIMEOUT, NULL, "pull with nothing queued");
    CHECK(json == NULL);

    /* Schema. */
    st = rcc_config_schema(&json);
    CHECK(st == RCC_STATUS_OK && json != NULL && strstr(json, "baseUrl") != NULL);
    rcc_string_free(json);
    json = NULL;

    /* A callback: pulls are refused while it is set; removing it allows them again. */
    st = rcc_set_event_callback(core, on_event, &destroyed, on_destroy, &err);
    EXPECT_OK(st, err, "rcc_set_event_callback");
    st = rcc_next_event(core, 0, &json, &err);
    EXPECT_ERR(st, err, RCC_STATUS_INVALID_STATE, "callback", "pull while a callback is set");
    st = rcc_set_event_callback(core, NULL, NULL, NULL, &err);
    EXPECT_OK(st, err, "remove the callback");
    st = rcc_next_event(core, 0, &json, &err);
    EXPECT_ERR(st, err, RCC_STATUS_TIMEOUT, NULL, "pull after removing the callback");
    st = rcc_set_event_callback(core, on_event, &destroyed, on_destroy, &err);
    EXPECT_OK(st, err, "set the callback again");

    /* Close twice; the first close destroys the callback's user_data exactly once. */
    CHECK(rcc_core_close(core) == RCC_STATUS_OK);
    CHECK(atomic_load(&destroyed) == 2);
    CHECK(rcc_core_close(core) == RCC_STATUS_OK);
    CHECK(atomic_load(&destroyed) == 2);

    /* A closed core. */
    st = rcc_next_event(core, 1000, &json, &err);
    EXPECT_ERR(st, err, RCC_STATUS_CLOSED, NULL, "pull after close");
    st = rcc_apply_config(core, "{}", 0, NULL, &err);
    EXPECT_ERR(st, err, RCC_STATUS_CLOSED, NULL, "apply after close");
    st = rcc_set_event_callback(core, on_event, &destroyed, on_destroy, &err);
    EXPECT_ERR(st, err, RCC_STATUS_CLOSED, NULL, "callback after close");
    CHECK(atomic_load(&destroyed) == 2); /* refused: ownership stayed with us */

    rcc_core_free(core);
    printf("smoke: %d checks passed\n", checks_passed);
    return 0;
}
