// SPDX-License-Identifier: GPL-2.0
/*
 * A realtime port's message pool (MACH_PORT_QOS rt): as many message
 * buffers as its queue limit, allocated with the port (charged to the
 * memory cgroup of the one who allocates it) and grown before its limit
 * is raised, so that a send that has a place in its queue takes a buffer
 * here and never calls the general allocator.
 *
 * The pool's invariant: buffers free >= queue limit - messages counted in
 * the queue (each place a sender reserves and each queued message from a
 * user holds at most one buffer).  A buffer coming back to a pool that
 * holds more than the limit (it was lowered) is freed instead.  The
 * port's lock protects it.
 */
#include <linux/slab.h>
#include "machio.h"

/* One buffer: a struct machio_kmsg, its message and its rights. */
#define MACHIO_RT_SLOT		2048

struct machio_rt_slot {
	struct machio_rt_slot *next;
};

/* Does a message of @size bytes with @nr_desc descriptors fit a buffer? */
bool machio_rtpool_fits(u32 size, u32 nr_desc)
{
	return machio_kmsg_bytes(size, nr_desc) <= MACHIO_RT_SLOT;
}

static struct machio_rt_slot *machio_rtpool_alloc_list(u32 n)
{
	struct machio_rt_slot *list = NULL, *s;

	while (n--) {
		s = kmalloc(MACHIO_RT_SLOT, MACHIO_GFP);
		if (!s) {
			while (list) {
				s = list->next;
				kfree(list);
				list = s;
			}
			return ERR_PTR(-ENOMEM);
		}
		s->next = list;
		list = s;
	}
	return list;
}

static void machio_rtpool_free_list(struct machio_rt_slot *list)
{
	while (list) {
		struct machio_rt_slot *next = list->next;

		kfree(list);
		list = next;
	}
}

/* A new port's pool of @n buffers: 0 or -ENOMEM.  Before the port is visible. */
int machio_rtpool_init(struct machio_mport *mp, u32 n)
{
	struct machio_rt_slot *list = machio_rtpool_alloc_list(n);

	if (IS_ERR(list))
		return PTR_ERR(list);
	mp->rt_free = list;
	mp->rt_nfree = n;
	mp->rt_total = n;
	return 0;
}

/*
 * The queue limit becomes @qlimit: a bigger pool first (-ENOMEM, and
 * nothing changes, if it cannot grow), or free buffers beyond it go.
 */
int machio_rtpool_resize(struct machio_mport *mp, u32 qlimit)
{
	struct machio_rt_slot *more = NULL, *gone = NULL, *s;
	unsigned long flags;
	u32 want;

	for (;;) {
		spin_lock_irqsave(&mp->lock, flags);
		want = qlimit > mp->rt_total ? qlimit - mp->rt_total : 0;
		if (!want)
			break;
		spin_unlock_irqrestore(&mp->lock, flags);
		machio_rtpool_free_list(more);
		more = machio_rtpool_alloc_list(want);
		if (IS_ERR(more))
			return -ENOMEM;
		/* Look again: buffers may have come back, or been freed, meanwhile. */
		spin_lock_irqsave(&mp->lock, flags);
		if (qlimit <= mp->rt_total + want)
			break;
		spin_unlock_irqrestore(&mp->lock, flags);
	}
	while (more && mp->rt_total < qlimit) {
		s = more;
		more = s->next;
		s->next = mp->rt_free;
		mp->rt_free = s;
		mp->rt_nfree++;
		mp->rt_total++;
	}
	while (mp->rt_total > qlimit && mp->rt_free) {
		s = mp->rt_free;
		mp->rt_free = s->next;
		s->next = gone;
		gone = s;
		mp->rt_nfree--;
		mp->rt_total--;
	}
	mp->qlimit = qlimit;
	spin_unlock_irqrestore(&mp->lock, flags);
	machio_rtpool_free_list(more);
	machio_rtpool_free_list(gone);
	return 0;
}

/*
 * A buffer for a message to @mp, whose queue place the caller just
 * reserved: there is one, by the invariant.  Under @mp's lock.
 */
void *machio_rtpool_get(struct machio_mport *mp)
{
	struct machio_rt_slot *s = mp->rt_free;

	if (WARN_ON_ONCE(!s))
		return NULL;
	mp->rt_free = s->next;
	mp->rt_nfree--;
	return s;
}

/* @buf comes back to @mp's pool (freed if the pool is over its limit or the port died). */
void machio_rtpool_put(struct machio_mport *mp, void *buf)
{
	struct machio_rt_slot *s = buf;
	unsigned long flags;
	bool keep;

	spin_lock_irqsave(&mp->lock, flags);
	keep = mp->active && mp->rt_total <= mp->qlimit;
	if (keep) {
		s->next = mp->rt_free;
		mp->rt_free = s;
		mp->rt_nfree++;
	} else {
		mp->rt_total--;
	}
	spin_unlock_irqrestore(&mp->lock, flags);
	if (!keep)
		kfree(s);
}

/* The port died or is freed: its free buffers go (those in use go as they come back). */
void machio_rtpool_drain(struct machio_mport *mp)
{
	struct machio_rt_slot *list;
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	list = mp->rt_free;
	mp->rt_total -= mp->rt_nfree;
	mp->rt_free = NULL;
	mp->rt_nfree = 0;
	spin_unlock_irqrestore(&mp->lock, flags);
	machio_rtpool_free_list(list);
}
