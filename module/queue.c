// SPDX-License-Identifier: GPL-2.0
/*
 * io_done_queues: FIFO completion queues.
 *
 * Completions are appended in completion order from any context under
 * q->lock (no allocation: the record is the request itself) and wake one
 * exclusive waiter.  By then the request holds no pages; copying the
 * result out and freeing the request happen in the waiter.
 */
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"

static void machio_queue_free(struct machio_port *port)
{
	struct machio_queue *q = machio_to_queue(port);

	WARN_ON_ONCE(!list_empty(&q->done) || q->inflight);
	kfree(q);
}

int machio_queue_create(struct machio_space *space, u32 host, u32 *name)
{
	struct machio_port *hostp;
	struct machio_queue *q;
	int ret;

	ret = machio_name_lookup(space, host, MACHIO_KIND_HOST, &hostp);
	if (ret)
		return -EINVAL;	/* anything but the host name */

	q = kzalloc(sizeof(*q), MACHIO_GFP);
	if (!q)
		return -ENOMEM;
	machio_port_init(&q->port, MACHIO_KIND_QUEUE, machio_queue_free);
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->done);
	init_waitqueue_head(&q->wait);

	ret = machio_name_alloc(space, MACHIO_KIND_QUEUE, &q->port, name);
	if (ret)
		kfree(q);
	return ret;
}

/* Account a request about to be started on @q; fails once @q is dead. */
int machio_queue_begin(struct machio_queue *q)
{
	int ret = 0;

	spin_lock_irq(&q->lock);
	if (q->dead)
		ret = -ESHUTDOWN;
	else
		q->inflight++;
	spin_unlock_irq(&q->lock);
	return ret;
}

/*
 * Queue a finished request.  Any context, O(1), never sleeps.  Returns
 * false, queueing nothing, once @q is terminated: the caller frees the
 * request instead.
 */
bool machio_queue_post(struct machio_queue *q, struct machio_req *req)
{
	unsigned long flags;
	bool live;

	spin_lock_irqsave(&q->lock, flags);
	live = !q->dead;
	if (live)
		list_add_tail(&req->node, &q->done);
	q->inflight--;
	/*
	 * One exclusive waiter, plus terminate if it is draining.  Still
	 * under q->lock: once it is dropped, a waiter may free the request
	 * and with it the last reference to @q.
	 */
	wake_up(&q->wait);
	spin_unlock_irqrestore(&q->lock, flags);
	return live;
}

/*
 * Mark @q dead, wake every waiter (they return KERN_TERMINATED) and
 * discard the results queued so far; requests still in flight are freed
 * as they complete.  With @wait, then wait until none is in flight, so
 * that no more I/O touches the caller's buffers -- killably, since a
 * stalled device may take long: -EINTR if the caller is killed.
 */
int machio_queue_terminate(struct machio_queue *q, bool wait)
{
	struct machio_req *req, *tmp;
	LIST_HEAD(discard);

	spin_lock_irq(&q->lock);
	q->dead = true;
	list_splice_init(&q->done, &discard);
	spin_unlock_irq(&q->lock);
	wake_up_all(&q->wait);

	list_for_each_entry_safe(req, tmp, &discard, node)
		machio_req_free(req);
	if (wait && wait_event_killable(q->wait, READ_ONCE(q->inflight) == 0))
		return -EINTR;
	return 0;
}

int machio_queue_terminate_name(struct machio_space *space, u32 name)
{
	struct machio_port *port;
	int ret;

	ret = machio_name_lookup(space, name, MACHIO_KIND_QUEUE, &port);
	if (ret)
		return ret;
	/* Whoever turns the name dead does the terminate. */
	ret = machio_name_kill(space, name, port);
	if (!ret)
		ret = machio_queue_terminate(machio_to_queue(port), true);
	machio_port_put(port);
	return ret;
}

/* Take the oldest completion, or learn that the queue is dead. */
static bool machio_queue_take(struct machio_queue *q, struct machio_req **req,
			      bool *dead)
{
	bool got = false;

	spin_lock_irq(&q->lock);
	*dead = q->dead;
	if (!*dead && !list_empty(&q->done)) {
		*req = list_first_entry(&q->done, struct machio_req, node);
		list_del(&(*req)->node);
		got = true;
	}
	spin_unlock_irq(&q->lock);
	return got || *dead;
}

/*
 * Put back a completion the caller could not deliver, at the head so that
 * FIFO order holds, and pass the wakeup on.  A queue terminated meanwhile
 * has already been drained: then the request is discarded here.
 */
static void machio_queue_unget(struct machio_queue *q, struct machio_req *req)
{
	bool dead;

	spin_lock_irq(&q->lock);
	dead = q->dead;
	if (!dead)
		list_add(&req->node, &q->done);
	spin_unlock_irq(&q->lock);
	if (dead)
		machio_req_free(req);
	else
		wake_up(&q->wait);
}

int machio_queue_wait(struct machio_space *space, u32 name, u64 uresult)
{
	struct machio_io_done_result res;
	struct machio_req *req = NULL;
	struct machio_port *port;
	struct machio_queue *q;
	bool dead;
	int ret;

	ret = machio_name_lookup(space, name, MACHIO_KIND_QUEUE, &port);
	if (ret)
		return ret;
	q = machio_to_queue(port);

	/*
	 * An exclusive waiter chosen by a wakeup rechecks the condition
	 * before it looks at signals, so a completion meant for it is not
	 * lost to a signal; and if another thread took it first, we sleep
	 * again.
	 */
	ret = wait_event_interruptible_exclusive(q->wait,
						 machio_queue_take(q, &req, &dead));
	if (ret) {
		/* A signal: KERN_ABORTED, not restarted behind the caller. */
		ret = -EINTR;
		goto out;
	}
	if (!req) {
		ret = -ESHUTDOWN;
		goto out;
	}

	machio_req_fill_result(req, &res, uresult);
	if (copy_to_user(u64_to_user_ptr(uresult), &res, sizeof(res))) {
		machio_queue_unget(q, req);
		ret = -EFAULT;
		goto out;
	}
	/* An out-of-line buffer is the caller's now, unless it failed. */
	req->delivered = !res.qd_code;
	machio_req_free(req);
out:
	machio_port_put(port);
	return ret;
}
