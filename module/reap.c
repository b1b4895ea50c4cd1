// SPDX-License-Identifier: GPL-2.0
/*
 * Taking completions: io_done_queue_wait (one, into an io_done_result_t)
 * and MACHIO_IOC_QUEUE_REAP (between min and max 32-byte records, with a
 * deadline), from a queue's list or its ring alike.
 *
 * Waiters sleep exclusively, each with the number of completions it
 * wants; their wake function declines a wakeup while fewer are waiting,
 * so the wakeup goes on to the next waiter, as io_uring's waiters do.  So
 * one completion wakes one waiter that can use it, a waiter for eight
 * does not swallow the wakeup one for one needed, and terminate (which
 * wakes everyone) still reaches all.
 *
 * A completion is copied to the caller first and taken only once that
 * worked: a bad user address leaves it, in order, for the next waiter.
 */
#include <linux/hrtimer.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"

#define MACHIO_REAP_MAX		65536

struct machio_waiter {
	struct wait_queue_entry wq;
	struct machio_queue *q;
	u32 min;
};

static bool machio_queue_ready(const struct machio_queue *q, u32 min)
{
	return READ_ONCE(q->dead) || machio_queue_nr_ready(q) >= min;
}

static int machio_waiter_wake(struct wait_queue_entry *wq, unsigned int mode,
			      int sync, void *key)
{
	struct machio_waiter *w = container_of(wq, struct machio_waiter, wq);

	if (!machio_queue_ready(w->q, w->min))
		return 0;	/* not enough for it: the next waiter's turn */
	return autoremove_wake_function(wq, mode, sync, key);
}

/*
 * Sleep until at least @min completions wait or @q is dead.  Returns 0,
 * -ESHUTDOWN once dead, -EINTR on a signal, -ETIME at @deadline (NULL:
 * none).  The ready check comes before the signal check, so a wakeup
 * meant for this waiter is not lost to a signal.
 */
static int machio_queue_sleep(struct machio_queue *q, u32 min, ktime_t *deadline)
{
	struct machio_waiter w = { .q = q, .min = min };
	int ret = 0;

	/* A polled queue's I/O completes only when we poll for it. */
	if (q->polled) {
		ret = machio_poll_wait(q, min, deadline);
		if (ret <= 0)
			return ret;
		ret = 0;	/* nothing in flight to poll: sleep for a completion */
	}

	init_waitqueue_func_entry(&w.wq, machio_waiter_wake);
	w.wq.private = current;
	INIT_LIST_HEAD(&w.wq.entry);	/* prepare_to_wait*() adds it only when empty */
	for (;;) {
		prepare_to_wait_exclusive(&q->wait, &w.wq, TASK_INTERRUPTIBLE);
		if (machio_queue_ready(q, min))
			break;
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (!deadline)
			schedule();
		else if (!schedule_hrtimeout(deadline, HRTIMER_MODE_ABS))
			ret = -ETIME;
		if (ret)
			break;
	}
	finish_wait(&q->wait, &w.wq);
	if (!ret && READ_ONCE(q->dead))
		ret = -ESHUTDOWN;
	return ret;
}

/* Take the oldest queued request off @q's list. */
static struct machio_req *machio_queue_pop(struct machio_queue *q)
{
	struct machio_req *req = NULL;

	spin_lock_irq(&q->lock);
	if (!q->dead && !list_empty(&q->done)) {
		req = list_first_entry(&q->done, struct machio_req, node);
		list_del(&req->node);
		q->nr_done--;
	}
	spin_unlock_irq(&q->lock);
	return req;
}

/*
 * Put back a completion the caller could not take, at the head so that
 * FIFO order holds, and pass the wakeup on.  A queue terminated meanwhile
 * has already been drained: then the request is discarded here.
 */
static void machio_queue_unpop(struct machio_queue *q, struct machio_req *req)
{
	bool dead;

	spin_lock_irq(&q->lock);
	dead = q->dead;
	if (!dead) {
		list_add(&req->node, &q->done);
		q->nr_done++;
	}
	spin_unlock_irq(&q->lock);
	if (dead)
		machio_req_free(req);
	else
		wake_up(&q->wait);
}

/*
 * @deliver returns 0 when it has the completion, 1 when it has no room
 * for it, or a negative errno; it is given a copy of the record.
 */
typedef int (*machio_deliver_t)(const struct machio_cqe *cqe, u32 nr, void *arg);

/*
 * Hand the oldest completion of @q to @deliver and take it.  Returns its
 * slot count, 0 if there is none, -EMSGSIZE if @deliver had no room for
 * it, -ESHUTDOWN once @q is dead, or @deliver's error.
 */
static int machio_queue_take(struct machio_queue *q, machio_deliver_t deliver,
			     void *arg)
{
	struct machio_cqe cqe[MACHIO_CQE_MAX_SLOTS];
	struct machio_req *req;
	int ret;
	u32 nr;

	if (READ_ONCE(q->dead))
		return -ESHUTDOWN;
	if (q->ring.entries)
		return machio_ring_take(&q->ring, deliver, arg);

	req = machio_queue_pop(q);
	if (!req)
		return 0;
	/* An out-of-line buffer in another process's memory is not ours. */
	nr = machio_req_fill_cqe(req, cqe, req->mm && req->mm != current->mm);
	ret = deliver(cqe, nr, arg);
	if (ret) {
		machio_queue_unpop(q, req);
		return ret == 1 ? -EMSGSIZE : ret;
	}
	/* An out-of-line buffer is the caller's now, unless it failed. */
	req->delivered = !cqe[0].code;
	machio_req_free(req);
	return nr;
}

/* io_done_queue_wait: the completion as an io_done_result_t at @arg. */
static int machio_deliver_result(const struct machio_cqe *cqe, u32 nr, void *arg)
{
	u64 uresult = *(u64 *)arg;
	struct machio_io_done_result res;

	memset(&res, 0, sizeof(res));	/* no kernel bytes leak out */
	res.qd_type = cqe->type;
	res.qd_reqid = cqe->reqid;
	res.qd_code = cqe->code;
	res.qd_count = cqe->count;
	res.qd_data = cqe->data;
	if (nr > 1) {
		/* The record's own slots: never more than qd_inline holds. */
		memcpy(res.qd_inline, &cqe[1], (nr - 1) * MACHIO_CQE_SIZE);
		res.qd_data = uresult + offsetof(struct machio_io_done_result, qd_inline);
	}
	if (copy_to_user(u64_to_user_ptr(uresult), &res, sizeof(res)))
		return -EFAULT;
	return 0;
}

int machio_queue_wait(struct machio_space *space, u32 name, u64 uresult)
{
	struct machio_port *port;
	struct machio_queue *q;
	int ret;

	ret = machio_name_lookup(space, name, MACHIO_KIND_QUEUE, &port);
	if (ret)
		return ret;
	q = machio_to_queue(port);
	do {
		ret = machio_queue_sleep(q, 1, NULL);
		if (!ret)
			ret = machio_queue_take(q, machio_deliver_result, &uresult);
		/* 0: another waiter took it first; sleep again. */
	} while (!ret);
	machio_port_put(port);
	return ret < 0 ? ret : 0;
}

/*
 * MACHIO_IOC_QUEUE_REAP's destination: slots of a user array.  A copy is
 * written at @used; only once the completion is taken does the caller
 * move @used past it, since a ring consumer may lose the race for it and
 * try the next one into the same place.
 */
struct machio_reap_dest {
	struct machio_cqe __user *cqes;
	u32 used;
	u32 max;
};

static int machio_deliver_cqe(const struct machio_cqe *cqe, u32 nr, void *arg)
{
	struct machio_reap_dest *d = arg;

	if (nr > d->max - d->used)
		return 1;
	if (copy_to_user(d->cqes + d->used, cqe, nr * sizeof(*cqe)))
		return -EFAULT;
	return 0;
}

int machio_queue_reap(struct machio_space *space, const struct machio_queue_reap *arg)
{
	struct machio_reap_dest d = { .cqes = u64_to_user_ptr(arg->cqes), .max = arg->max };
	ktime_t deadline, *until = NULL;
	struct machio_port *port;
	struct machio_queue *q;
	u32 taken = 0;
	int ret;

	if ((arg->flags & ~MACHIO_REAP_TIMEOUT) || !arg->max ||
	    arg->max > MACHIO_REAP_MAX || arg->min > arg->max ||
	    (!(arg->flags & MACHIO_REAP_TIMEOUT) && arg->timeout_ns) ||
	    memchr_inv(arg->reserved, 0, sizeof(arg->reserved)))
		return -EINVAL;
	if (arg->flags & MACHIO_REAP_TIMEOUT) {
		deadline = ktime_add_safe(ktime_get(), ns_to_ktime(min_t(u64, arg->timeout_ns,
									KTIME_MAX)));
		until = &deadline;
	}
	ret = machio_name_lookup(space, arg->queue, MACHIO_KIND_QUEUE, &port);
	if (ret)
		return ret;
	q = machio_to_queue(port);

	for (;;) {
		if (taken < arg->min) {
			ret = machio_queue_sleep(q, arg->min - taken, until);
			if (ret == -ETIME)
				until = NULL;	/* take what there is, then return */
			else if (ret)
				break;
		}
		/* Everything there is, up to @max slots. */
		while ((ret = machio_queue_take(q, machio_deliver_cqe, &d)) > 0) {
			d.used += ret;
			taken++;
		}
		if (ret == -EMSGSIZE) {
			/* Full, or the oldest does not fit at all. */
			ret = taken ? 0 : -EOVERFLOW;
			break;
		}
		/* ret 0: nothing left (or taken by another waiter). */
		if (ret || taken >= arg->min ||
		    (arg->flags & MACHIO_REAP_TIMEOUT && !until))
			break;
	}
	machio_port_put(port);
	/* What was taken is the caller's, whatever stopped the loop. */
	return taken ? taken : ret;
}
