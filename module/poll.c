// SPDX-License-Identifier: GPL-2.0
/*
 * Polled queues (MACHIO_QUEUE_POLLED): I/O sent to the devices' poll
 * queues, which raise no interrupt; it completes when a waiter polls the
 * device for it, as with io_uring's IORING_SETUP_IOPOLL.
 *
 * Every polled request is on its queue's @polling list from its first
 * bio until its I/O is over, holding a reference to the last bio it
 * submitted (@poll_bio, under q->lock).  A waiter takes one request off
 * the head (round robin), takes its own reference to that bio, drops the
 * lock and calls bio_poll() on it once: that reaps whatever the bio's
 * hardware queue has finished, this request's and others'.  Completion
 * runs in the poller's context and takes the request off the list first.
 *
 * Nothing else polls, so terminate polls until nothing is in flight, and
 * a space closed with polled I/O in flight leaves a work item polling it.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/sched/signal.h>
#include "machio.h"

/* The ops a polled queue takes: zero-copy reads and writes. */
bool machio_poll_op_ok(u32 op)
{
	return op == MACHIO_OP_READ_OVERWRITE || op == MACHIO_OP_WRITE ||
	       op == MACHIO_OP_READ_FIXED || op == MACHIO_OP_WRITE_FIXED;
}

/* Submit @bio of a polled request, remembering it as the one to poll. */
void machio_poll_submit_bio(struct machio_req *req, struct bio *bio)
{
	struct machio_queue *q = req->queue;
	struct bio *old;
	unsigned long flags;

	bio_get(bio);
	spin_lock_irqsave(&q->lock, flags);
	if (list_empty(&req->node))
		list_add_tail(&req->node, &q->polling);
	old = req->poll_bio;
	req->poll_bio = bio;
	spin_unlock_irqrestore(&q->lock, flags);
	if (old)
		bio_put(old);
	submit_bio(bio);
}

/* All I/O of a polled request is over: it is no longer polled for.  Any context. */
void machio_poll_io_done(struct machio_req *req)
{
	struct machio_queue *q = req->queue;
	unsigned long flags;
	struct bio *bio;

	spin_lock_irqsave(&q->lock, flags);
	list_del_init(&req->node);
	bio = req->poll_bio;
	req->poll_bio = NULL;
	spin_unlock_irqrestore(&q->lock, flags);
	if (bio)
		bio_put(bio);
}

/* Poll the device once for the oldest polled request.  False: none in flight. */
static bool machio_poll_once(struct machio_queue *q)
{
	struct machio_req *req;
	struct bio *bio = NULL;
	bool busy;

	spin_lock_irq(&q->lock);
	busy = !list_empty(&q->polling);
	if (busy) {
		req = list_first_entry(&q->polling, struct machio_req, node);
		bio = req->poll_bio;
		if (bio)
			bio_get(bio);
		list_move_tail(&req->node, &q->polling);
	}
	spin_unlock_irq(&q->lock);
	if (bio) {
		bio_poll(bio, NULL, BLK_POLL_ONESHOT);
		bio_put(bio);
	}
	return busy;
}

/*
 * Until at least @min completions wait: poll while polled I/O is in
 * flight, sleep (reap.c's way) while none is.  0, -ESHUTDOWN, -EINTR or
 * -ETIME, as machio_queue_sleep().
 */
int machio_poll_wait(struct machio_queue *q, u32 min, ktime_t *deadline)
{
	for (;;) {
		if (READ_ONCE(q->dead))
			return -ESHUTDOWN;
		if (machio_queue_nr_ready(q) >= min)
			return 0;
		if (signal_pending(current))
			return -EINTR;
		if (deadline && ktime_after(ktime_get(), *deadline))
			return -ETIME;
		if (!machio_poll_once(q))
			return 1;	/* nothing to poll: the caller sleeps */
		cond_resched();
	}
}

/*
 * Poll until no request of @q is in flight.  With @wait, in the caller
 * (killably: -EINTR); without, from a work item that holds @q.
 */
int machio_poll_drain(struct machio_queue *q, bool wait)
{
	if (!wait) {
		machio_port_get(&q->port);
		if (!queue_work(machio_wq, &q->poll_work))
			machio_port_put(&q->port);
		return 0;
	}
	while (READ_ONCE(q->inflight)) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (!machio_poll_once(q))
			usleep_range(100, 200);	/* accepted, not submitted yet */
		cond_resched();
	}
	return 0;
}

void machio_poll_work(struct work_struct *work)
{
	struct machio_queue *q = container_of(work, struct machio_queue, poll_work);

	while (READ_ONCE(q->inflight)) {
		if (!machio_poll_once(q))
			usleep_range(100, 200);
		cond_resched();
	}
	machio_port_put(&q->port);
}
