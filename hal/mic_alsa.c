/*
 * mic_alsa.c - microphone capture through ALSA, non-blocking and driven by
 * the caller's poll loop: the stream is started at open, the loop polls
 * the PCM's descriptors, and hal_mic_read takes the whole periods that are
 * ready.  An overrun (the loop was late and the ring filled) loses audio
 * but not the stream: it is counted, the PCM is prepared and restarted.
 */
#include "hal/internal.h"

#include <alsa/asoundlib.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Recoveries attempted within one hal_mic_read before giving up for now. */
#define MIC_MAX_RECOVERIES 4

typedef struct alsa_stream {
    hal_mic_stream base;
    snd_pcm_t     *pcm;
    snd_config_t  *conf;    /* the inline configuration the PCM came from, or NULL */
} alsa_stream;

/* alsa-lib prints its errors to stderr unless told otherwise; the status says enough. */
static void alsa_quiet(const char *file, int line, const char *function, int err, const char *fmt, ...) {
}

static hal_status alsa_status(int err) {
    return hal__from_errno(err < 0 ? -err : err);
}

static void alsa_close(hal_mic *m) {
    free(m);
}

static hal_status alsa_load_conf(const char *text, snd_config_t **ret) {
    snd_config_t *top = NULL;
    snd_input_t *in = NULL;
    if (snd_config_top(&top) < 0)
        return HAL_ERR_NOMEM;
    if (snd_input_buffer_open(&in, text, (ssize_t)strlen(text)) < 0) {
        snd_config_delete(top);
        return HAL_ERR_NOMEM;
    }
    int err = snd_config_load(top, in);
    snd_input_close(in);
    if (err < 0) {
        snd_config_delete(top);
        return HAL_ERR_CONFIG;
    }
    *ret = top;
    return HAL_OK;
}

static hal_status alsa_set_params(alsa_stream *s, const hal_mic_config *cfg) {
    snd_pcm_t *pcm = s->pcm;
    snd_pcm_hw_params_t *hw;
    snd_pcm_sw_params_t *sw;
    snd_pcm_hw_params_alloca(&hw);
    snd_pcm_sw_params_alloca(&sw);

    int err = snd_pcm_hw_params_any(pcm, hw);
    if (err < 0)
        return alsa_status(err);
    if (snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED) < 0 ||
        snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE) < 0 ||
        snd_pcm_hw_params_set_channels(pcm, hw, cfg->channels) < 0 ||
        snd_pcm_hw_params_set_rate(pcm, hw, cfg->rate, 0) < 0)
        return HAL_ERR_FORMAT;
    snd_pcm_uframes_t period = cfg->period_frames;
    int dir = 0;
    if (snd_pcm_hw_params_set_period_size(pcm, hw, period, 0) < 0 &&
        snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, &dir) < 0)
        return HAL_ERR_FORMAT;
    unsigned periods = cfg->periods;
    if (snd_pcm_hw_params_set_periods_near(pcm, hw, &periods, &dir) < 0)
        return HAL_ERR_FORMAT;
    if ((err = snd_pcm_hw_params(pcm, hw)) < 0)
        return err == -EINVAL ? HAL_ERR_FORMAT : alsa_status(err);
    snd_pcm_hw_params_get_period_size(hw, &period, &dir);
    snd_pcm_hw_params_get_periods(hw, &periods, &dir);

    if ((err = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
        (err = snd_pcm_sw_params_set_avail_min(pcm, sw, period)) < 0 ||
        (err = snd_pcm_sw_params(pcm, sw)) < 0)
        return alsa_status(err);

    s->base.rate = cfg->rate;
    s->base.channels = cfg->channels;
    s->base.period_frames = (unsigned)period;
    s->base.periods = periods;
    return HAL_OK;
}

static hal_status alsa_open(hal_mic *m, const hal_mic_config *cfg, hal_mic_stream **ret) {
    alsa_stream *s = calloc(1, sizeof *s);
    if (!s)
        return HAL_ERR_NOMEM;
    hal_status st = HAL_OK;
    int err;
    if (cfg->alsa_conf) {
        if ((st = alsa_load_conf(cfg->alsa_conf, &s->conf)) != HAL_OK)
            goto out_free;
        err = snd_pcm_open_lconf(&s->pcm, cfg->pcm, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK, s->conf);
    } else {
        err = snd_pcm_open(&s->pcm, cfg->pcm, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
    }
    if (err < 0) {
        /*
         * alsa-lib says EINVAL for a card that does not exist ("hw:99") as
         * well as for a definition naming a slave it cannot open.
         */
        st = err == -EINVAL ? HAL_ERR_NO_DEVICE : alsa_status(err);
        goto out_free_conf;
    }
    if ((st = alsa_set_params(s, cfg)) != HAL_OK)
        goto out_close_pcm;
    /* A capture stream only runs once started; the loop's poll would wait forever otherwise. */
    if ((err = snd_pcm_prepare(s->pcm)) < 0 || (err = snd_pcm_start(s->pcm)) < 0) {
        st = alsa_status(err);
        goto out_close_pcm;
    }
    *ret = &s->base;
    return HAL_OK;

out_close_pcm:
    snd_pcm_close(s->pcm);
out_free_conf:
    if (s->conf)
        snd_config_delete(s->conf);
out_free:
    free(s);
    return st;
}

static int alsa_poll_count(hal_mic_stream *base) {
    return snd_pcm_poll_descriptors_count(((alsa_stream *)base)->pcm);
}

static int alsa_poll_descriptors(hal_mic_stream *base, struct pollfd *pfds, unsigned n) {
    return snd_pcm_poll_descriptors(((alsa_stream *)base)->pcm, pfds, n);
}

static hal_status alsa_poll_revents(hal_mic_stream *base, struct pollfd *pfds, unsigned n, unsigned short *ret) {
    unsigned short rev = 0;
    int err = snd_pcm_poll_descriptors_revents(((alsa_stream *)base)->pcm, pfds, n, &rev);
    if (err < 0)
        return alsa_status(err);
    *ret = rev;
    return HAL_OK;
}

/* After an overrun or a suspend: count it, then prepare and restart the stream. */
static int alsa_recover(alsa_stream *s, int err) {
    if (err != -EPIPE && err != -ESTRPIPE)
        return err;
    s->base.stats.overruns++;
    if ((err = snd_pcm_prepare(s->pcm)) < 0)
        return err;
    return snd_pcm_start(s->pcm);
}

static hal_status alsa_read(hal_mic_stream *base, int16_t *buf, size_t max_frames, size_t *ret_frames) {
    alsa_stream *s = (alsa_stream *)base;
    size_t period = base->period_frames, got = 0;
    unsigned recoveries = 0;
    hal_status st = HAL_OK;

    while (max_frames - got >= period) {
        snd_pcm_sframes_t avail = snd_pcm_avail_update(s->pcm);
        if (avail < 0) {
            int err = (int)avail;
            if (recoveries++ == MIC_MAX_RECOVERIES || (err = alsa_recover(s, err)) < 0) {
                if (err != -EAGAIN)
                    st = alsa_status(err);
                break;
            }
            continue;
        }
        size_t want = (size_t)avail < max_frames - got ? (size_t)avail : max_frames - got;
        want -= want % period;
        if (want == 0)
            break;
        snd_pcm_sframes_t n = snd_pcm_readi(s->pcm, buf + got * base->channels, want);
        if (n == -EAGAIN || n == 0)
            break;
        if (n < 0) {
            int err = (int)n;
            if (recoveries++ == MIC_MAX_RECOVERIES || (err = alsa_recover(s, err)) < 0) {
                if (err != -EAGAIN)
                    st = alsa_status(err);
                break;
            }
            continue;
        }
        got += (size_t)n;
    }
    base->stats.frames += got;
    *ret_frames = got;
    /* Frames already read are delivered; an error then shows on the next call. */
    return got ? HAL_OK : st;
}

static void alsa_close_stream(hal_mic_stream *base) {
    alsa_stream *s = (alsa_stream *)base;
    snd_pcm_close(s->pcm);
    if (s->conf)
        snd_config_delete(s->conf);
    free(s);
}

static const hal_mic_ops alsa_ops = {
    .name             = "alsa",
    .close            = alsa_close,
    .open             = alsa_open,
    .poll_count       = alsa_poll_count,
    .poll_descriptors = alsa_poll_descriptors,
    .poll_revents     = alsa_poll_revents,
    .read             = alsa_read,
    .close_stream     = alsa_close_stream,
};

hal_status hal_mic_open_alsa(hal_mic **ret) {
    if (!ret)
        return HAL_ERR_INVALID;
    hal_mic *m = calloc(1, sizeof *m);
    if (!m)
        return HAL_ERR_NOMEM;
    m->ops = &alsa_ops;
    snd_lib_error_set_handler(alsa_quiet);
    *ret = m;
    return HAL_OK;
}
