/*
 * test_hal_gpio.c - GPIO through the simulated backend (hal/gpio_sim.c),
 * the generic entry points (hal/hal.c), and the libgpiod backend
 * (hal/gpio_gpiod.c) failing cleanly where there is no such chip.
 *
 * Edges are awaited with poll() on the line's event descriptor, as the
 * daemon's event loop does, never by sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>

#include <cmocka.h>

#include "hal/hal.h"

static const hal_gpio_sim_chip chips[] = {
    { "gpiochip0", "sim-a", 32 },
    { "gpiochip1", "sim-b", 8 },
};

static int setup(void **state) {
    hal_gpio *g = NULL;
    assert_int_equal(hal_gpio_open_sim(chips, 2, &g), HAL_OK);
    *state = g;
    return 0;
}

static int teardown(void **state) {
    hal_gpio_close(*state);
    return 0;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const hal_gpio_config output_cfg = { .direction = HAL_GPIO_OUTPUT, .initial_value = 1, .safe_value = 0 };
static const hal_gpio_config button_cfg = { .direction = HAL_GPIO_INPUT, .bias = HAL_GPIO_BIAS_PULL_UP,
                                            .edge = HAL_GPIO_EDGE_BOTH };

static int level(hal_gpio *g, const char *chip, unsigned off) {
    int v = -1;
    assert_int_equal(hal_gpio_sim_get_level(g, chip, off, &v), HAL_OK);
    return v;
}

/* poll() the line's descriptor for up to timeout_ms; true if an edge is queued. */
static bool edge_ready(hal_gpio_line *l, int timeout_ms) {
    struct pollfd p = { .fd = hal_gpio_event_fd(l), .events = POLLIN };
    assert_true(p.fd >= 0);
    int r = poll(&p, 1, timeout_ms);
    assert_true(r >= 0);
    return r == 1 && (p.revents & POLLIN);
}

static void test_chip_info(void **state) {
    hal_gpio *g = *state;
    hal_gpio_chip_info info;
    assert_int_equal(hal_gpio_get_chip_info(g, "gpiochip1", &info), HAL_OK);
    assert_string_equal(info.name, "gpiochip1");
    assert_string_equal(info.label, "sim-b");
    assert_int_equal(info.num_lines, 8);
    /* A chip's index works as well as its name, as with libgpiod. */
    assert_int_equal(hal_gpio_get_chip_info(g, "0", &info), HAL_OK);
    assert_string_equal(info.name, "gpiochip0");
    assert_int_equal(hal_gpio_get_chip_info(g, "gpiochip7", &info), HAL_ERR_NO_DEVICE);
    assert_int_equal(hal_gpio_get_chip_info(g, "2", &info), HAL_ERR_NO_DEVICE);
}

static void test_output_set_get(void **state) {
    hal_gpio *g = *state;
    hal_gpio_line *led = NULL;
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 17, &output_cfg, &led), HAL_OK);
    int v = -1;
    assert_int_equal(hal_gpio_get(led, &v), HAL_OK);
    assert_int_equal(v, 1);
    assert_int_equal(level(g, "gpiochip0", 17), 1);
    assert_int_equal(hal_gpio_set(led, 0), HAL_OK);
    assert_int_equal(level(g, "gpiochip0", 17), 0);
    assert_int_equal(hal_gpio_set(led, 1), HAL_OK);
    assert_int_equal(level(g, "gpiochip0", 17), 1);
    assert_int_equal(hal_gpio_set(led, 2), HAL_ERR_INVALID);
    /* Nobody drives an output from outside. */
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip0", 17, 0), HAL_ERR_DIRECTION);
    /* An output has no edges. */
    assert_int_equal(hal_gpio_event_fd(led), -1);
    hal_gpio_event ev;
    assert_int_equal(hal_gpio_read_event(led, &ev), HAL_ERR_NO_EDGES);
    hal_gpio_release(led);
}

static void test_active_low_output(void **state) {
    hal_gpio *g = *state;
    hal_gpio_config cfg = output_cfg;
    cfg.active_low = true;
    cfg.initial_value = 0;
    hal_gpio_line *led = NULL;
    assert_int_equal(hal_gpio_request(g, "gpiochip1", 3, &cfg, &led), HAL_OK);
    assert_int_equal(level(g, "gpiochip1", 3), 1);    /* logical 0 is a high wire */
    assert_int_equal(hal_gpio_set(led, 1), HAL_OK);
    assert_int_equal(level(g, "gpiochip1", 3), 0);
    int v = -1;
    assert_int_equal(hal_gpio_get(led, &v), HAL_OK);
    assert_int_equal(v, 1);
    /* Released, it goes to its safe value, logical 0: a high wire. */
    hal_gpio_release(led);
    assert_int_equal(level(g, "gpiochip1", 3), 1);
}

static void test_release_drives_safe_value(void **state) {
    hal_gpio *g = *state;
    hal_gpio_line *led = NULL;
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 4, &output_cfg, &led), HAL_OK);
    assert_int_equal(level(g, "gpiochip0", 4), 1);
    hal_gpio_release(led);
    assert_int_equal(level(g, "gpiochip0", 4), 0);

    hal_gpio_config cfg = output_cfg;
    cfg.initial_value = 0;
    cfg.safe_value = 1;
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 4, &cfg, &led), HAL_OK);
    assert_int_equal(level(g, "gpiochip0", 4), 0);
    hal_gpio_release(led);
    assert_int_equal(level(g, "gpiochip0", 4), 1);
    hal_gpio_release(NULL);
}

static void test_exclusive_use(void **state) {
    hal_gpio *g = *state;
    hal_gpio_line *a = NULL, *b = NULL;
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 5, &output_cfg, &a), HAL_OK);
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 5, &output_cfg, &b), HAL_ERR_BUSY);
    assert_null(b);
    /* The same line by the chip's index is the same line. */
    assert_int_equal(hal_gpio_request(g, "0", 5, &button_cfg, &b), HAL_ERR_BUSY);
    /* The same offset on another chip is another line. */
    assert_int_equal(hal_gpio_request(g, "gpiochip1", 5, &output_cfg, &b), HAL_OK);
    hal_gpio_release(b);
    hal_gpio_release(a);
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 5, &output_cfg, &b), HAL_OK);
    hal_gpio_release(b);
}

static void test_edges_through_poll(void **state) {
    hal_gpio *g = *state;
    hal_gpio_line *button = NULL;
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 22, &button_cfg, &button), HAL_OK);
    assert_false(edge_ready(button, 0));
    hal_gpio_event ev;
    assert_int_equal(hal_gpio_read_event(button, &ev), HAL_ERR_AGAIN);

    /* The pull-up holds the undriven wire high: a switch to ground makes the first edge. */
    assert_int_equal(level(g, "gpiochip0", 22), 1);
    uint64_t before = now_ns();
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip0", 22, 0), HAL_OK);
    uint64_t between = now_ns();
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip0", 22, 1), HAL_OK);
    uint64_t after = now_ns();
    /* Driving the same level again is no edge. */
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip0", 22, 1), HAL_OK);

    assert_true(edge_ready(button, 1000));
    assert_int_equal(hal_gpio_read_event(button, &ev), HAL_OK);
    assert_int_equal(ev.type, HAL_GPIO_FALLING_EDGE);
    assert_true(ev.timestamp_ns >= before && ev.timestamp_ns <= between);
    uint64_t first = ev.timestamp_ns;
    assert_true(edge_ready(button, 1000));
    assert_int_equal(hal_gpio_read_event(button, &ev), HAL_OK);
    assert_int_equal(ev.type, HAL_GPIO_RISING_EDGE);
    assert_true(ev.timestamp_ns >= first && ev.timestamp_ns <= after);
    assert_false(edge_ready(button, 0));
    assert_int_equal(hal_gpio_read_event(button, &ev), HAL_ERR_AGAIN);

    int v = -1;
    assert_int_equal(hal_gpio_get(button, &v), HAL_OK);
    assert_int_equal(v, 1);
    assert_int_equal(hal_gpio_set(button, 1), HAL_ERR_DIRECTION);
    hal_gpio_release(button);

    /* Edges after the release go nowhere, and the level is still followed. */
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip0", 22, 0), HAL_OK);
    assert_int_equal(level(g, "gpiochip0", 22), 0);
}

static void test_edge_filters_and_active_low(void **state) {
    hal_gpio *g = *state;
    hal_gpio_config cfg = { .direction = HAL_GPIO_INPUT, .edge = HAL_GPIO_EDGE_RISING };
    hal_gpio_line *rising = NULL, *inverted = NULL;
    assert_int_equal(hal_gpio_request(g, "gpiochip1", 0, &cfg, &rising), HAL_OK);
    cfg.edge = HAL_GPIO_EDGE_FALLING;
    cfg.active_low = true;
    assert_int_equal(hal_gpio_request(g, "gpiochip1", 1, &cfg, &inverted), HAL_OK);

    for (int i = 0; i < 3; i++) {
        assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip1", 0, 1), HAL_OK);
        assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip1", 0, 0), HAL_OK);
    }
    /* Active low: the wire rising is a logical falling edge. */
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip1", 1, 1), HAL_OK);
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip1", 1, 0), HAL_OK);

    hal_gpio_event ev;
    uint64_t last = 0;
    for (int i = 0; i < 3; i++) {
        assert_true(edge_ready(rising, 1000));
        assert_int_equal(hal_gpio_read_event(rising, &ev), HAL_OK);
        assert_int_equal(ev.type, HAL_GPIO_RISING_EDGE);
        assert_true(ev.timestamp_ns >= last);
        last = ev.timestamp_ns;
    }
    assert_int_equal(hal_gpio_read_event(rising, &ev), HAL_ERR_AGAIN);

    assert_true(edge_ready(inverted, 1000));
    assert_int_equal(hal_gpio_read_event(inverted, &ev), HAL_OK);
    assert_int_equal(ev.type, HAL_GPIO_FALLING_EDGE);
    assert_int_equal(hal_gpio_read_event(inverted, &ev), HAL_ERR_AGAIN);
    int v = -1;
    assert_int_equal(hal_gpio_get(inverted, &v), HAL_OK);
    assert_int_equal(v, 1);     /* wire low, active low: logical 1 */

    hal_gpio_release(rising);
    hal_gpio_release(inverted);
}

/* A burst larger than the pipe holds drops edges, as a full kernel queue does, and never blocks. */
static void test_edge_burst_does_not_block(void **state) {
    hal_gpio *g = *state;
    hal_gpio_line *button = NULL;
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 9, &button_cfg, &button), HAL_OK);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip0", 9, i & 1 ? 0 : 1), HAL_OK);
    unsigned n = 0;
    hal_gpio_event ev;
    while (hal_gpio_read_event(button, &ev) == HAL_OK)
        n++;
    assert_true(n > 0 && n < 20000);
    hal_gpio_release(button);
}

/* An undriven input follows its bias; once a switch drives it, the switch wins; the state records when it changed. */
static void test_sim_bias_and_line_state(void **state) {
    hal_gpio *g = *state;
    hal_gpio_sim_line st;
    assert_int_equal(hal_gpio_sim_get_line(g, "gpiochip0", 27, &st), HAL_OK);
    assert_int_equal(st.level, 0);
    assert_false(st.held);
    assert_int_equal(st.changed_ns, 0);

    uint64_t before = now_ns();
    hal_gpio_line *button = NULL;
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 27, &button_cfg, &button), HAL_OK);
    assert_int_equal(hal_gpio_sim_get_line(g, "gpiochip0", 27, &st), HAL_OK);
    assert_int_equal(st.level, 1);  /* pulled up */
    assert_true(st.held);
    assert_int_equal(st.direction, HAL_GPIO_INPUT);
    assert_true(st.changed_ns >= before && st.changed_ns <= now_ns());
    assert_false(edge_ready(button, 0)); /* the pull is no edge */

    /* A switch pulls it low; then a new request with pull-down leaves the driven wire alone. */
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip0", 27, 0), HAL_OK);
    hal_gpio_release(button);
    hal_gpio_config down = button_cfg;
    down.bias = HAL_GPIO_BIAS_PULL_DOWN;
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 27, &down, &button), HAL_OK);
    assert_int_equal(level(g, "gpiochip0", 27), 0);
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip0", 27, 1), HAL_OK);
    hal_gpio_release(button);
    down.bias = HAL_GPIO_BIAS_PULL_UP;
    assert_int_equal(hal_gpio_request(g, "gpiochip1", 3, &down, &button), HAL_OK);
    assert_int_equal(level(g, "gpiochip1", 3), 1);
    hal_gpio_release(button);
    assert_int_equal(hal_gpio_sim_get_line(g, "gpiochip0", 99, &st), HAL_ERR_NO_LINE);
}

static void test_bad_requests(void **state) {
    hal_gpio *g = *state;
    hal_gpio_line *l = NULL;
    assert_int_equal(hal_gpio_request(g, "gpiochip9", 0, &output_cfg, &l), HAL_ERR_NO_DEVICE);
    assert_int_equal(hal_gpio_request(g, "gpiochip1", 8, &output_cfg, &l), HAL_ERR_NO_LINE);
    hal_gpio_config cfg = output_cfg;
    cfg.edge = HAL_GPIO_EDGE_BOTH;          /* edges on an output */
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 0, &cfg, &l), HAL_ERR_INVALID);
    cfg = output_cfg;
    cfg.safe_value = 2;
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 0, &cfg, &l), HAL_ERR_INVALID);
    cfg = button_cfg;
    cfg.bias = (hal_gpio_bias)42;
    assert_int_equal(hal_gpio_request(g, "gpiochip0", 0, &cfg, &l), HAL_ERR_INVALID);
    assert_null(l);
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip1", 8, 1), HAL_ERR_NO_LINE);
    assert_int_equal(hal_gpio_sim_set_input(g, "nochip", 0, 1), HAL_ERR_NO_DEVICE);
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip1", 0, 7), HAL_ERR_INVALID);

    hal_gpio_sim_chip bad = { "gpiochip0", NULL, 0 };
    hal_gpio *g2 = NULL;
    assert_int_equal(hal_gpio_open_sim(&bad, 1, &g2), HAL_ERR_INVALID);
    assert_null(g2);
}

static void test_enum_strings(void **state) {
    assert_string_equal(hal_gpio_direction_string(HAL_GPIO_OUTPUT), "output");
    assert_string_equal(hal_gpio_bias_string(HAL_GPIO_BIAS_PULL_DOWN), "pull-down");
    assert_string_equal(hal_gpio_edge_string(HAL_GPIO_EDGE_FALLING), "falling");
    assert_string_equal(hal_gpio_edge_string((hal_gpio_edge)9), "?");
    assert_int_equal(hal_gpio_direction_from_string("input"), HAL_GPIO_INPUT);
    assert_int_equal(hal_gpio_bias_from_string("pull-up"), HAL_GPIO_BIAS_PULL_UP);
    assert_int_equal(hal_gpio_edge_from_string("both"), HAL_GPIO_EDGE_BOTH);
    assert_int_equal(hal_gpio_edge_from_string("sideways"), -1);
    assert_string_equal(hal_status_name(HAL_ERR_BUSY), "HAL_ERR_BUSY");
    assert_string_equal(hal_status_message(HAL_ERR_BUSY), "already in use");
    assert_string_equal(hal_status_name((hal_status)999), "?");
}

/* The libgpiod backend where there is no such chip: named statuses, nothing left open. */
static void test_gpiod_missing_chip(void **state) {
    hal_gpio *g = NULL;
    assert_int_equal(hal_gpio_open_gpiod(&g), HAL_OK);
    hal_gpio_line *l = NULL;
    assert_int_equal(hal_gpio_request(g, "gpiochip99", 0, &output_cfg, &l), HAL_ERR_NO_DEVICE);
    assert_int_equal(hal_gpio_request(g, "/dev/gpiochip99", 0, &button_cfg, &l), HAL_ERR_NO_DEVICE);
    assert_null(l);
    hal_gpio_chip_info info;
    assert_int_equal(hal_gpio_get_chip_info(g, "gpiochip99", &info), HAL_ERR_NO_DEVICE);
    /* The simulator's controls refuse another backend. */
    assert_int_equal(hal_gpio_sim_set_input(g, "gpiochip0", 0, 1), HAL_ERR_NOT_SUPPORTED);
    int v;
    assert_int_equal(hal_gpio_sim_get_level(g, "gpiochip0", 0, &v), HAL_ERR_NOT_SUPPORTED);
    hal_gpio_close(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chip_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_set_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_low_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_drives_safe_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclusive_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edges_through_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_filters_and_active_low, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_burst_does_not_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sim_bias_and_line_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test(test_enum_strings),
        cmocka_unit_test(test_gpiod_missing_chip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
