/*
 * sched.c - round-robin time slicing of runnable instances.
 *
 * Runnable instances wait in a FIFO run queue.  While the queue is not
 * empty a uv_idle handle is active, which makes the loop poll for I/O
 * without blocking; its callback gives each instance that was queued at the
 * start of the turn one slice (fuel_per_slice units of fuel), then returns
 * to the loop so that timers, parked instances and control clients are
 * served between turns.  An instance that used up its slice goes to the back
 * of the queue (instance.c re-enqueues it).  When the queue is empty the idle
 * handle is stopped, so a daemon whose instances all wait uses no CPU.
 *
 * At shutdown the scheduler stays open while any instance still runs its
 * shutdown handler (wd_sched_drain_begin/end): the handler runs in slices
 * like any call, so it needs the scheduler to the end.
 */
#include <assert.h>

#include "daemon/internal.h"

static void on_idle(uv_idle_t *h) {
    wd_daemon *d = wd_container_of(h, wd_daemon, idle);

    /* One turn: those queued now; an instance re-queued during the turn waits for the next. */
    size_t n = 0;
    for (wd_instance *p = d->rq_head; p; p = p->rq_next)
        n++;
    while (n-- > 0 && d->rq_head) {
        wd_instance *in = d->rq_head;
        d->rq_head = in->rq_next;
        if (!d->rq_head)
            d->rq_tail = NULL;
        in->rq_next = NULL;
        in->queued = false;
        wd_instance_run_slice(in);
    }
    if (!d->rq_head)
        uv_idle_stop(&d->idle);
}

void wd_sched_init(wd_daemon *d) {
    uv_idle_init(d->loop, &d->idle);
    d->rq_head = d->rq_tail = NULL;
}

static void sched_close_now(wd_daemon *d) {
    if (d->sched_closed)
        return;
    d->sched_closed = true;
    uv_close((uv_handle_t *)&d->idle, NULL);
}

void wd_sched_close(wd_daemon *d) {
    d->sched_closing = true;
    if (d->draining == 0)
        sched_close_now(d);
}

void wd_sched_drain_begin(wd_daemon *d) {
    d->draining++;
}

void wd_sched_drain_end(wd_daemon *d) {
    assert(d->draining > 0);
    if (--d->draining == 0 && d->sched_closing)
        sched_close_now(d);
}

void wd_sched_enqueue(wd_daemon *d, wd_instance *in) {
    if (in->queued)
        return;
    in->queued = true;
    in->rq_next = NULL;
    if (d->rq_tail)
        d->rq_tail->rq_next = in;
    else
        d->rq_head = in;
    d->rq_tail = in;
    if (!d->sched_closed && !uv_is_active((uv_handle_t *)&d->idle))
        uv_idle_start(&d->idle, on_idle);
}

void wd_sched_remove(wd_daemon *d, wd_instance *in) {
    if (!in->queued)
        return;
    wd_instance *prev = NULL;
    for (wd_instance *p = d->rq_head; p; prev = p, p = p->rq_next) {
        if (p != in)
            continue;
        if (prev)
            prev->rq_next = p->rq_next;
        else
            d->rq_head = p->rq_next;
        if (d->rq_tail == p)
            d->rq_tail = prev;
        break;
    }
    in->queued = false;
    in->rq_next = NULL;
    assert(!!d->rq_head == !!d->rq_tail);
}
