/*
 * test_hal_mic.c - microphone capture through ALSA (hal/mic_alsa.c).
 *
 * No sound card is needed: each test writes an ALSA configuration that
 * defines a `type file` PCM whose `infile` is a raw S16_LE file, over a
 * `null` slave, and opens it through hal_mic_open's alsa_conf.  That is a
 * real ALSA capture device, driven exactly as a microphone would be:
 * non-blocking, poll() on its descriptors, hal_mic_read when ready.
 *
 * The speech is generated at test time with espeak-ng (-w, a WAV file)
 * and converted with sox to 16 kHz mono S16_LE; the captured frames must
 * equal the file's samples, speech must carry energy and silence none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <poll.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "hal/hal.h"

#define RATE   16000u
#define PERIOD 320u     /* 20 ms */

typedef struct fixture {
    char     dir[64];
    char     speech[128];    /* raw S16_LE, 16 kHz, mono */
    char     silence[128];
    hal_mic *mic;
} fixture;

static int run(const char *cmd) {
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_hal_mic.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->speech, sizeof f->speech, "%s/speech.raw", f->dir);
    snprintf(f->silence, sizeof f->silence, "%s/silence.raw", f->dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "espeak-ng -w '%s/speech.wav' 'Hello from the gateway. The temperature is twenty one degrees.' && "
             "sox '%s/speech.wav' -r %u -c 1 -b 16 -e signed-integer -L -t raw '%s' && "
             "sox -n -r %u -c 1 -b 16 -e signed-integer -L -t raw '%s' trim 0 1.0",
             f->dir, f->dir, RATE, f->speech, RATE, f->silence);
    assert_int_equal(run(cmd), 0);
    assert_int_equal(hal_mic_open_alsa(&f->mic), HAL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    hal_mic_close(f->mic);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

/* Reads a whole file; *ret_samples counts int16 samples. */
static int16_t *read_samples(const char *path, size_t *ret_samples) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    struct stat st;
    assert_int_equal(fstat(fileno(fp), &st), 0);
    size_t n = (size_t)st.st_size / 2;
    int16_t *buf = malloc(n * 2 + 2);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 2, n, fp), n);
    fclose(fp);
    *ret_samples = n;
    return buf;
}

static void file_pcm_conf(char *out, size_t size, const char *infile) {
    snprintf(out, size,
             "pcm.wasmd_mic {\n"
             "    type file\n"
             "    slave.pcm { type null }\n"
             "    file \"/dev/null\"\n"
             "    infile \"%s\"\n"
             "    format \"raw\"\n"
             "}\n", infile);
}

/*
 * Captures through poll() until at least want frames came (rounded up to
 * whole periods), or nothing came three times in a row.  Returns the
 * frame count.
 */
static size_t capture(hal_mic_stream *s, int16_t *buf, size_t cap, size_t want) {
    int n = hal_mic_poll_count(s);
    assert_true(n >= 1 && n <= 8);
    struct pollfd pfds[8];
    assert_int_equal(hal_mic_poll_descriptors(s, pfds, (unsigned)n), n);
    size_t got = 0;
    unsigned idle = 0;
    while (got < want && idle < 3) {
        int r = poll(pfds, (nfds_t)n, 1000);
        assert_true(r >= 0);
        unsigned short rev = 0;
        assert_int_equal(hal_mic_poll_revents(s, pfds, (unsigned)n, &rev), HAL_OK);
        assert_false(rev & POLLERR);
        if (!(rev & POLLIN)) {
            idle++;
            continue;
        }
        /* Ask for no more than the periods still wanted, since the source is never late. */
        size_t room = (want - got + PERIOD - 1) / PERIOD * PERIOD;
        if (room > cap - got)
            room = cap - got;
        size_t frames = 0;
        assert_int_equal(hal_mic_read(s, buf + got, room, &frames), HAL_OK);
        /* hal_mic_read delivers whole periods only, except at the end of the file. */
        if (frames == 0)
            idle++;
        got += frames;
    }
    return got;
}

static double rms(const int16_t *s, size_t n) {
    double acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += (double)s[i] * s[i];
    return n ? sqrt(acc / (double)n) : 0;
}

static void test_speech_captured_exactly(void **state) {
    fixture *f = *state;
    size_t nsamples;
    int16_t *ref = read_samples(f->speech, &nsamples);
    assert_true(nsamples > RATE);    /* more than a second of speech */

    char conf[512];
    file_pcm_conf(conf, sizeof conf, f->speech);
    hal_mic_config cfg = { .pcm = "wasmd_mic", .alsa_conf = conf, .rate = RATE,
                           .channels = 1, .period_frames = PERIOD, .periods = 4 };
    hal_mic_stream *s = NULL;
    assert_int_equal(hal_mic_open(f->mic, &cfg, &s), HAL_OK);
    assert_int_equal(s->rate, RATE);
    assert_int_equal(s->channels, 1);
    assert_int_equal(s->period_frames, PERIOD);

    size_t cap = nsamples + 16 * PERIOD;
    int16_t *buf = calloc(cap, sizeof *buf);
    assert_non_null(buf);
    size_t got = capture(s, buf, cap, nsamples);
    assert_true(got >= nsamples && got < nsamples + PERIOD);
    assert_int_equal(got % PERIOD, 0);
    assert_memory_equal(buf, ref, nsamples * sizeof *ref);
    /* Past the end of its infile, the file plugin passes on the null slave's silence. */
    for (size_t i = nsamples; i < got; i++)
        assert_int_equal(buf[i], 0);
    assert_true(rms(buf, got) > 300.0);

    hal_mic_stats st = hal_mic_get_stats(s);
    assert_int_equal(st.frames, got);
    assert_int_equal(st.overruns, 0);
    hal_mic_close_stream(s);
    free(buf);
    free(ref);
}

static void test_silence_has_no_energy(void **state) {
    fixture *f = *state;
    char conf[512];
    file_pcm_conf(conf, sizeof conf, f->silence);
    hal_mic_config cfg = { .pcm = "wasmd_mic", .alsa_conf = conf, .rate = RATE,
                           .channels = 1, .period_frames = PERIOD };
    hal_mic_stream *s = NULL;
    assert_int_equal(hal_mic_open(f->mic, &cfg, &s), HAL_OK);
    int16_t *buf = calloc(2 * RATE, sizeof *buf);
    assert_non_null(buf);
    size_t got = capture(s, buf, 2 * RATE, RATE);
    assert_int_equal(got, RATE);
    assert_true(rms(buf, got) < 1.0);
    hal_mic_close_stream(s);
    free(buf);
}

/* The speech file in 20 ms periods: the loudest periods are speech, well above silence. */
static void test_speech_periods_stand_out(void **state) {
    fixture *f = *state;
    size_t nsamples;
    int16_t *ref = read_samples(f->speech, &nsamples);
    size_t loud = 0;
    for (size_t p = 0; p + PERIOD <= nsamples; p += PERIOD)
        if (rms(ref + p, PERIOD) > 500.0)
            loud++;
    assert_true(loud * PERIOD > RATE / 2);  /* at least half a second of voiced periods */
    free(ref);
}

static void test_missing_devices_fail_cleanly(void **state) {
    fixture *f = *state;
    hal_mic_stream *s = NULL;
    hal_mic_config cfg = { .pcm = "hw:99,0", .rate = RATE, .channels = 1, .period_frames = PERIOD };
    assert_int_equal(hal_mic_open(f->mic, &cfg, &s), HAL_ERR_NO_DEVICE);
    assert_null(s);

    cfg.pcm = "wasmd_no_such_pcm";
    cfg.alsa_conf = "pcm.other { type null }\n";
    assert_int_equal(hal_mic_open(f->mic, &cfg, &s), HAL_ERR_NO_DEVICE);

    cfg.alsa_conf = "pcm.wasmd_no_such_pcm { type file \n";    /* unterminated */
    assert_int_equal(hal_mic_open(f->mic, &cfg, &s), HAL_ERR_CONFIG);

    char conf[512];
    file_pcm_conf(conf, sizeof conf, "/nonexistent/dir/speech.raw");
    cfg.pcm = "wasmd_mic";
    cfg.alsa_conf = conf;
    assert_int_not_equal(hal_mic_open(f->mic, &cfg, &s), HAL_OK);
    assert_null(s);
}

static void test_bad_arguments(void **state) {
    fixture *f = *state;
    hal_mic_stream *s = NULL;
    hal_mic_config cfg = { .pcm = "default", .rate = 100, .channels = 1, .period_frames = PERIOD };
    assert_int_equal(hal_mic_open(f->mic, &cfg, &s), HAL_ERR_INVALID);
    cfg.rate = RATE;
    cfg.channels = 0;
    assert_int_equal(hal_mic_open(f->mic, &cfg, &s), HAL_ERR_INVALID);
    cfg.channels = 1;
    cfg.period_frames = 0;
    assert_int_equal(hal_mic_open(f->mic, &cfg, &s), HAL_ERR_INVALID);
    assert_null(s);
    hal_mic_close_stream(NULL);
    assert_string_equal(hal_status_name(HAL_ERR_CONFIG), "HAL_ERR_CONFIG");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_speech_captured_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silence_has_no_energy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_speech_periods_stand_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_devices_fail_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
