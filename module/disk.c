// SPDX-License-Identifier: GPL-2.0
/*
 * Per-disk write order: what makes an inband write atomic.
 *
 * An inband write patches part of one block: it reads the block, patches
 * it, and writes it back.  Any other write to that block landing between
 * the read and the write would be undone.  So every machio write to a
 * disk, from any space and through any partition, takes a place in that
 * disk's order (a struct machio_wlock covering its absolute sectors)
 * before its I/O starts and leaves it when its I/O is done:
 *
 *  - an inband write excludes every write overlapping its block, and
 *    conflicting writes run in the order they were submitted;
 *  - plain writes exclude nothing among themselves;
 *  - writes to a disk on which no inband write is queued or running take
 *    a lock-free fast path: one atomic counter (@fast).
 *
 * An inband write switches its disk to the slow path (@nr_rmw) and then
 * waits until every fast-path write admitted before it has finished; in
 * the slow path writes are admitted under @lock, strictly in order
 * (a write that must wait holds back the writes submitted after it).
 * The switch is a store-buffer handshake: a plain write increments @fast
 * and then reads @nr_rmw, an inband write increments @nr_rmw and then
 * reads @fast, each with a full barrier between, so at least one of them
 * sees the other.
 *
 * Reads are not ordered: an inband write's block goes to the device in
 * one bio, so a read sees the block as it was before or after it.
 * Writes that do not come through machio cannot be ordered here, as with
 * any read-modify-write done above the device.
 *
 * Writes that had to wait are started from a work item (@kick), since
 * admission can be given up from completion context.
 */
#include <linux/blkdev.h>
#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include "machio.h"

static DEFINE_HASHTABLE(machio_disks, 6);
static DEFINE_MUTEX(machio_disks_lock);

static void machio_disk_kick_work(struct work_struct *work);

/* The disk object of @gd, made on first use.  Process context. */
struct machio_disk *machio_disk_get(struct gendisk *gd)
{
	struct machio_disk *d;

	mutex_lock(&machio_disks_lock);
	hash_for_each_possible(machio_disks, d, hnode, (unsigned long)gd) {
		if (d->gd == gd && refcount_inc_not_zero(&d->ref))
			goto out;
	}
	d = kzalloc(sizeof(*d), MACHIO_GFP);
	if (d) {
		d->gd = gd;
		refcount_set(&d->ref, 1);
		atomic_set(&d->fast, 0);
		spin_lock_init(&d->lock);
		INIT_LIST_HEAD(&d->active);
		INIT_LIST_HEAD(&d->waiting);
		INIT_WORK(&d->kick, machio_disk_kick_work);
		machio_dispatch_init(d);
		hash_add(machio_disks, &d->hnode, (unsigned long)gd);
	}
out:
	mutex_unlock(&machio_disks_lock);
	return d;
}

/* Process context. */
void machio_disk_put(struct machio_disk *d)
{
	if (!refcount_dec_and_mutex_lock(&d->ref, &machio_disks_lock))
		return;
	hash_del(&d->hnode);
	mutex_unlock(&machio_disks_lock);
	WARN_ON_ONCE(!list_empty(&d->active) || !list_empty(&d->waiting) ||
		     atomic_read(&d->fast) || d->nr_rmw || !RB_EMPTY_ROOT(&d->waiting_reqs.rb_root) ||
		     !list_empty(&d->ready));
	kfree(d);
}

/*
 * Have the work item look at @d's waiting writes.  Any context; the
 * caller holds a reference on @d (through a request's device port), and
 * a queued kick holds one of its own.
 */
static void machio_disk_kick(struct machio_disk *d)
{
	refcount_inc(&d->ref);
	if (!queue_work(machio_wq, &d->kick))
		refcount_dec(&d->ref);	/* already queued, with its reference */
}

static void machio_disk_fast_put(struct machio_disk *d)
{
	/* Fully ordered: pairs with the barrier after nr_rmw++. */
	if (atomic_dec_and_test(&d->fast) && READ_ONCE(d->nr_rmw))
		machio_disk_kick(d);
}

static bool machio_wlock_conflict(const struct machio_wlock *a,
				  const struct machio_wlock *b)
{
	return (a->rmw || b->rmw) && a->start < b->end && b->start < a->end;
}

/* May @wl start now?  Called with d->lock held. */
static bool machio_wlock_may_start(struct machio_disk *d,
				   const struct machio_wlock *wl)
{
	const struct machio_wlock *a;

	if (wl->rmw && atomic_read(&d->fast))
		return false;
	list_for_each_entry(a, &d->active, node) {
		if (machio_wlock_conflict(a, wl))
			return false;
	}
	return true;
}

/*
 * Take @wl's place in @d's order.  Returns 0 if the write may start now;
 * 1 if it was queued, and wl->start_io() will start it later from the
 * work item; -EAGAIN if it would have to wait and @nowait is set.
 * Process context.
 */
int machio_wlock_acquire(struct machio_disk *d, struct machio_wlock *wl,
			 bool nowait)
{
	unsigned long flags;
	int ret = 0;

	wl->fast = false;
	if (!wl->rmw) {
		atomic_inc(&d->fast);
		smp_mb__after_atomic();	/* pairs with the smp_mb() below */
		if (!READ_ONCE(d->nr_rmw)) {
			wl->fast = true;
			return 0;
		}
		/* Slow path; @fast keeps inband writes back until we are listed. */
	}

	spin_lock_irqsave(&d->lock, flags);
	if (wl->rmw) {
		WRITE_ONCE(d->nr_rmw, d->nr_rmw + 1);
		smp_mb();	/* pairs with machio_disk_fast_put() */
	}
	if (list_empty(&d->waiting) && machio_wlock_may_start(d, wl)) {
		list_add_tail(&wl->node, &d->active);
	} else if (nowait) {
		if (wl->rmw)
			WRITE_ONCE(d->nr_rmw, d->nr_rmw - 1);
		ret = -EAGAIN;
	} else {
		list_add_tail(&wl->node, &d->waiting);
		ret = 1;
	}
	spin_unlock_irqrestore(&d->lock, flags);

	if (!wl->rmw)
		machio_disk_fast_put(d);
	return ret;
}

/* The write of @wl is done.  Any context. */
void machio_wlock_release(struct machio_disk *d, struct machio_wlock *wl)
{
	unsigned long flags;
	bool kick;

	if (wl->fast) {
		machio_disk_fast_put(d);
		return;
	}
	spin_lock_irqsave(&d->lock, flags);
	list_del(&wl->node);
	if (wl->rmw)
		WRITE_ONCE(d->nr_rmw, d->nr_rmw - 1);
	kick = !list_empty(&d->waiting);
	spin_unlock_irqrestore(&d->lock, flags);
	if (kick)
		machio_disk_kick(d);
}

/* Start the waiting writes that may start, in order. */
static void machio_disk_kick_work(struct work_struct *work)
{
	struct machio_disk *d = container_of(work, struct machio_disk, kick);
	struct machio_wlock *wl, *tmp;
	LIST_HEAD(start);

	spin_lock_irq(&d->lock);
	list_for_each_entry_safe(wl, tmp, &d->waiting, node) {
		if (!machio_wlock_may_start(d, wl))
			break;
		list_move_tail(&wl->node, &d->active);
		list_add_tail(&wl->start_node, &start);
	}
	spin_unlock_irq(&d->lock);

	/* A started write may complete, and be freed, at once: _safe. */
	list_for_each_entry_safe(wl, tmp, &start, start_node)
		wl->start_io(wl);
	machio_disk_put(d);
}
