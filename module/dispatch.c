// SPDX-License-Identifier: GPL-2.0
/*
 * The dispatch queue of a disk: its in-flight limit, and the order in
 * which requests beyond it go to the device.
 *
 * Every machio request to a disk -- Mach or Portfolio, from any space,
 * through any partition -- passes here on its way to the device.  With
 * no limit set (the default) it goes straight on, at the cost of one
 * load.  With a limit (Mach's MDIOCSETL, 1..255), at most that many
 * requests are at the device at once; the rest wait here, and each
 * completion lets the best waiting one go.
 *
 * The best is the one with the highest priority, FIFO among equal ones,
 * where a waiting request gains one level of priority for every request
 * the queue dispatches while it waits, so that none starves.  Linear
 * aging orders requests by a key fixed when they arrive: request a goes
 * before b when
 *
 *	prio_a + (v - v_a) > prio_b + (v - v_b),  i.e.  v_a - prio_a < v_b - prio_b
 *
 * where v counts the disk's dispatches and v_a, v_b are its value when
 * they arrived: v cancels out.  So the waiting requests sit in an rbtree
 * keyed by v_arrival - prio (then by arrival), and a request of priority
 * p waits behind no request that arrives once p's deficit is made up --
 * once 255 - p more requests have been dispatched.
 *
 * Completion may run in interrupt context and submit_bio() may sleep,
 * so a request picked there is started from the disk's work item;
 * requests picked in process context (submit, a raised limit) start at
 * once.
 */
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include "machio.h"

void machio_dispatch_init(struct machio_disk *d)
{
	spin_lock_init(&d->dlock);
	d->waiting_reqs = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&d->ready);
	INIT_WORK(&d->dispatch_work, machio_dispatch_work);
}

/* Equal keys go after each other: FIFO among them. */
static bool machio_dispatch_less(struct rb_node *a, const struct rb_node *b)
{
	const struct machio_req *ra = rb_entry(a, struct machio_req, dnode);
	const struct machio_req *rb = rb_entry(b, struct machio_req, dnode);

	return (s64)(ra->dkey - rb->dkey) < 0;
}

/* The best waiting request, taken out and counted in flight.  Under d->dlock. */
static struct machio_req *machio_dispatch_pick(struct machio_disk *d)
{
	struct machio_req *req;
	struct rb_node *node;

	if (d->limit && d->inflight >= d->limit)
		return NULL;
	node = rb_first_cached(&d->waiting_reqs);
	if (!node)
		return NULL;
	rb_erase_cached(node, &d->waiting_reqs);
	d->inflight++;
	d->dispatched++;
	req = rb_entry(node, struct machio_req, dnode);
	req->dwaiting = false;
	return req;
}

/* Start requests picked under the lock, oldest pick first.  Process context. */
static void machio_dispatch_start_list(struct list_head *ready)
{
	struct machio_req *req, *tmp;

	/* A started request may complete, and be freed, at once: _safe. */
	list_for_each_entry_safe(req, tmp, ready, node) {
		list_del_init(&req->node);
		machio_req_start_biased(req);
	}
}

/*
 * Send @req to the device now, or have it wait its turn.  Consumes the
 * submitter's bias on @req: machio_req_start_biased() drops it once the
 * request is started.  Process context.
 */
void machio_dispatch(struct machio_req *req)
{
	struct machio_disk *d = req->dev->disk;
	unsigned long flags;

	/* No limit: nothing waits, nothing is counted. */
	if (likely(!READ_ONCE(d->limit))) {
		machio_req_start_biased(req);
		return;
	}
	spin_lock_irqsave(&d->dlock, flags);
	if (!d->limit) {
		spin_unlock_irqrestore(&d->dlock, flags);
		machio_req_start_biased(req);
		return;
	}
	req->dcounted = true;
	if (d->inflight < d->limit && RB_EMPTY_ROOT(&d->waiting_reqs.rb_root)) {
		d->inflight++;
		d->dispatched++;
		spin_unlock_irqrestore(&d->dlock, flags);
		machio_req_start_biased(req);
		return;
	}
	/* Its priority, made up by aging once prio more have gone before it. */
	req->dkey = d->dispatched - req->prio;
	rb_add_cached(&req->dnode, &d->waiting_reqs, machio_dispatch_less);
	req->dwaiting = true;
	spin_unlock_irqrestore(&d->dlock, flags);
}

/*
 * AbortIO: take @req out of its disk's queue if it still waits there,
 * and out of the disk's count.  True if it did: then @req will never be
 * started, and its caller completes it.  Any context; the caller keeps
 * @req from completing meanwhile (it is not started while it waits).
 */
bool machio_dispatch_cancel(struct machio_req *req)
{
	struct machio_disk *d = req->dev->disk;
	unsigned long flags;
	bool waiting;

	spin_lock_irqsave(&d->dlock, flags);
	waiting = req->dwaiting;
	if (waiting) {
		rb_erase_cached(&req->dnode, &d->waiting_reqs);
		req->dwaiting = false;
		req->dcounted = false;
	}
	spin_unlock_irqrestore(&d->dlock, flags);
	return waiting;
}

/* Start what completions picked.  Process context; holds a disk reference. */
void machio_dispatch_work(struct work_struct *work)
{
	struct machio_disk *d = container_of(work, struct machio_disk, dispatch_work);
	LIST_HEAD(ready);

	spin_lock_irq(&d->dlock);
	list_splice_init(&d->ready, &ready);
	spin_unlock_irq(&d->dlock);
	machio_dispatch_start_list(&ready);
	machio_disk_put(d);
}

/*
 * All I/O of @req is over: if it was counted, its place goes to the best
 * waiting request, which the work item starts.  Any context; @req still
 * holds its device, and so @d.
 */
void machio_dispatch_done(struct machio_req *req)
{
	struct machio_disk *d = req->dev->disk;
	struct machio_req *next;
	unsigned long flags;
	bool kick = false;

	if (!req->dcounted)
		return;
	req->dcounted = false;
	spin_lock_irqsave(&d->dlock, flags);
	d->inflight--;
	while ((next = machio_dispatch_pick(d))) {
		list_add_tail(&next->node, &d->ready);
		kick = true;
	}
	spin_unlock_irqrestore(&d->dlock, flags);
	if (kick) {
		refcount_inc(&d->ref);
		if (!queue_work(machio_wq, &d->dispatch_work))
			refcount_dec(&d->ref);	/* already queued, with its reference */
	}
}

/*
 * MDIOCSETL: 0 (no limit) or 1..255.  Requests already at the device
 * stay there; waiting ones the new limit lets go are started now.
 * Process context.
 */
int machio_dispatch_set_limit(struct machio_disk *d, u32 limit)
{
	struct machio_req *req;
	LIST_HEAD(ready);

	if (limit > MACHIO_LIMIT_MAX)
		return -EINVAL;
	spin_lock_irq(&d->dlock);
	WRITE_ONCE(d->limit, limit);
	while ((req = machio_dispatch_pick(d)))
		list_add_tail(&req->node, &ready);
	spin_unlock_irq(&d->dlock);
	machio_dispatch_start_list(&ready);
	return 0;
}

u32 machio_dispatch_get_limit(const struct machio_disk *d)
{
	return READ_ONCE(d->limit);
}
