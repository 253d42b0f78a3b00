/*
 * sched.c - round-robin time slicing of runnable instances.
 *
 * Runnable instances wait in a FIFO run queue.  While the queue is not
 * empty a uv_idle handle is active, which makes the loop poll for I/O
 * without blocking.  A turn gives each instance that was queued when it
 * began one slice (fuel_per_slice units of fuel).  An instance that used up
 * its slice goes to the back of the queue (instance.c re-enqueues it).
 * When the queue is empty the idle handle is stopped, so a daemon whose
 * instances all wait uses no CPU.
 *
 * Responsiveness: the idle callback returns to the loop once it has run
 * for WD_SCHED_POLL_NS, even in the middle of a turn (the turn goes on in
 * the next callback), so timers, descriptors and control clients are served
 * that often however many instances compute.  An instance woken by an event
 * (a parked call completed, a handler to run) joins the current turn at the
 * front of the queue, in the order woken: it reacts within about one poll
 * interval and one slice instead of waiting behind every busy instance.  It
 * gets one slice ahead of them; if it uses all of it, it goes to the back
 * like any other.
 *
 * Output: a module's stdout and stderr are handled inside its own fd_write
 * calls and charged to its fuel (instance.c, output_sink), so a module
 * flooding its output spends its own slices on it.
 *
 * At shutdown the scheduler stays open while any instance still runs its
 * shutdown handler (wd_sched_drain_begin/end): the handler runs in slices
 * like any call, so it needs the scheduler to the end.
 */
#include <assert.h>

#include "daemon/internal.h"

static void start_idle(wd_daemon *d);

/* Takes the instance at the head of the queue. */
static wd_instance *pop(wd_daemon *d) {
    wd_instance *in = d->rq_head;
    d->rq_head = in->rq_next;
    if (!d->rq_head)
        d->rq_tail = NULL;
    if (d->rq_woken == in)
        d->rq_woken = NULL;
    in->rq_next = NULL;
    in->queued = false;
    return in;
}

static void on_idle(uv_idle_t *h) {
    wd_daemon *d = wd_container_of(h, wd_daemon, idle);

    /* A new turn: those queued now; an instance re-queued during the turn waits for the next. */
    if (d->turn_left == 0)
        for (wd_instance *p = d->rq_head; p; p = p->rq_next)
            d->turn_left++;
    uint64_t start = uv_hrtime();
    while (d->turn_left > 0 && d->rq_head) {
        d->turn_left--;
        wd_instance_run_slice(pop(d));
        if (uv_hrtime() - start >= WD_SCHED_POLL_NS)
            break; /* back to the loop for I/O; the turn goes on in the next callback */
    }
    if (!d->rq_head) {
        d->turn_left = 0;
        uv_idle_stop(&d->idle);
    }
}

void wd_sched_init(wd_daemon *d) {
    uv_idle_init(d->loop, &d->idle);
    d->rq_head = d->rq_tail = d->rq_woken = NULL;
    d->turn_left = 0;
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

static void start_idle(wd_daemon *d) {
    if (!d->sched_closed && !uv_is_active((uv_handle_t *)&d->idle))
        uv_idle_start(&d->idle, on_idle);
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
    start_idle(d);
}

void wd_sched_wake(wd_daemon *d, wd_instance *in) {
    if (in->queued)
        return;
    in->queued = true;
    /* After the instances woken before it, ahead of the others. */
    wd_instance **link = d->rq_woken ? &d->rq_woken->rq_next : &d->rq_head;
    in->rq_next = *link;
    *link = in;
    if (!in->rq_next)
        d->rq_tail = in;
    d->rq_woken = in;
    if (d->turn_left > 0)
        d->turn_left++; /* it joins the turn under way */
    start_idle(d);
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
        if (d->rq_woken == p)
            d->rq_woken = prev; /* the woken instances are a prefix of the queue */
        break;
    }
    in->queued = false;
    in->rq_next = NULL;
    assert(!!d->rq_head == !!d->rq_tail);
}
