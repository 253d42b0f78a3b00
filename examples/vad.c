/*
 * vad.c - a voice-activity detector: a command (an ordinary main) that
 * lights an LED while the microphone hears speech.  It demonstrates
 * wasmd_mic_read, a blocking read that parks only this module, with GPIO.
 *
 * Each 20 ms window is loud when its RMS is above max(300, 4 x the noise
 * floor), a floor that follows quiet levels quickly and loud ones slowly.
 * Speech starts after 2 loud windows in a row and ends after 15 quiet ones
 * (300 ms), so gaps between words do not split it.  Times are audio time.
 * It runs until the daemon stops it, or, with VAD_SECONDS=N in its
 * environment, for N seconds of audio, then prints a summary and exits 0.
 *
 * Manifest: examples/modules.d/vad.yaml grants the output `led` and the
 * microphone `speech` (16 kHz, mono, S16_LE, periods of 320 frames).
 * Build: clang --target=wasm32-wasi -O2 vad.c -o vad.wasm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../sdk/wasmd.h"

#define MIN_THRESHOLD 300.0 /* RMS; digital silence is 0, speech is in the thousands */
#define START_WINDOWS 2     /* loud windows in a row that start speech */
#define END_WINDOWS 15      /* quiet windows in a row that end it */

/* Logs why the module cannot go on; main returns this, so the module fails. */
static int fail(const char *what, int32_t e) {
    wasmd_logf(WASMD_LOG_ERROR, "cannot %s: %s", what, wasmd_strerror(e));
    return 1;
}

static uint32_t rate;                     /* frames per second */
static uint32_t led;                      /* the LED's handle */
static int speaking;                      /* inside a speech segment */
static uint64_t seg_start, speech_frames; /* audio time, in frames */
static unsigned segments;

/* Audio time of `frames` as "S.SS" seconds (into a caller's buffer). */
static const char *secs(char buf[32], uint64_t frames) {
    uint64_t centi = frames * 100 / rate;
    snprintf(buf, 32, "%llu.%02llu", (unsigned long long)(centi / 100), (unsigned long long)(centi % 100));
    return buf;
}

static void set_led(int32_t on) {
    int32_t e = wasmd_gpio_set(led, on);
    if (e != WASMD_OK)
        wasmd_logf(WASMD_LOG_WARN, "cannot set the led: %s", wasmd_strerror(e));
}

static void speech_start(uint64_t at) {
    char t[32];
    speaking = 1;
    seg_start = at;
    set_led(1);
    wasmd_logf(WASMD_LOG_INFO, "speech started at %s s", secs(t, at));
}

static void speech_end(uint64_t at) {
    char t[32], d[32];
    speaking = 0;
    segments++;
    speech_frames += at - seg_start;
    set_led(0);
    wasmd_logf(WASMD_LOG_INFO, "speech ended at %s s (%s s of speech)", secs(t, at), secs(d, at - seg_start));
}

/* One 20 ms window that started at audio time `at` and had RMS `rms`. */
static void window(uint64_t at, double rms) {
    static double floor_rms;      /* the noise floor */
    static unsigned run;          /* loud (or, while speaking, quiet) windows in a row */
    static uint64_t run_start;    /* when that run began */

    double threshold = 4 * floor_rms > MIN_THRESHOLD ? 4 * floor_rms : MIN_THRESHOLD;
    int loud = rms > threshold;
    /* Down quickly (~160 ms), up slowly (~5 s): the gaps between words pull it down. */
    floor_rms += (rms - floor_rms) / (rms < floor_rms ? 8 : 256);

    if (loud == speaking) { /* no change */
        run = 0;
        return;
    }
    if (run++ == 0)
        run_start = at;
    if (run < (speaking ? END_WINDOWS : START_WINDOWS))
        return;
    run = 0;
    /* Dated from the first window of the run: when the sound really began or stopped. */
    if (speaking)
        speech_end(run_start);
    else
        speech_start(run_start);
}

int main(void) {
    /* VAD_SECONDS: stop after this much audio (for tests); unset: run for ever. */
    const char *env = getenv("VAD_SECONDS");
    double limit_s = 0;
    if (env) {
        char *end;
        limit_s = strtod(env, &end);
        if (end == env || *end || !(limit_s > 0)) {
            wasmd_logf(WASMD_LOG_ERROR, "VAD_SECONDS=%s: not a number of seconds", env);
            return 2;
        }
    }

    uint32_t mic;
    wasmd_mic_info info;
    int32_t e = wasmd_gpio_request("led", 3, WASMD_GPIO_OUTPUT, &led);
    if (e != WASMD_OK)
        return fail("open the led", e);
    e = wasmd_mic_open(&mic, &info);
    if (e != WASMD_OK)
        return fail("open the microphone", e);
    rate = info.rate;
    uint32_t ch = info.channels, win = rate / 50; /* frames in 20 ms */
    uint32_t max_frames = 4 * info.period_frames; /* read up to 4 periods at once */
    int16_t *buf = malloc((size_t)max_frames * ch * sizeof *buf);
    if (!buf || win == 0) {
        wasmd_logf(WASMD_LOG_ERROR, "bad microphone format or out of memory");
        return 1;
    }
    uint64_t limit = env ? (uint64_t)(limit_s * rate) : UINT64_MAX;
    wasmd_logf(WASMD_LOG_INFO, "listening: %u Hz, %u channel(s), %u-frame periods", rate, ch,
            info.period_frames);

    uint64_t pos = 0, sum = 0; /* frames so far; sum of squares in this window */
    uint32_t in_win = 0;       /* frames in this window */
    while (pos < limit) {
        uint32_t got;
        e = wasmd_mic_read(mic, buf, max_frames, &got);
        if (e != WASMD_OK) {
            set_led(0);
            return fail("read the microphone", e);
        }
        for (uint32_t i = 0; i < got && pos < limit; i++, pos++) {
            for (uint32_t c = 0; c < ch; c++) {
                int32_t s = buf[i * ch + c];
                sum += (uint64_t)(s * s);
            }
            if (++in_win == win) {
                window(pos + 1 - win, sqrt((double)sum / ((double)win * ch)));
                sum = 0;
                in_win = 0;
            }
        }
    }

    /* Only with VAD_SECONDS: close an open segment and summarise. */
    if (speaking)
        speech_end(pos);
    char s[32], t[32];
    printf("vad: %u speech segments, %s s of speech in %s s of audio\n", segments, secs(s, speech_frames),
           secs(t, pos));
    fflush(stdout);
    wasmd_mic_close(mic);
    free(buf);
    return 0;
}
