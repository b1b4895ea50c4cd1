// SPDX-License-Identifier: GPL-2.0
/*
 * Mach port sets: a name that receives from its member ports.  A set is
 * made by mach_port_allocate(MACH_PORT_RIGHT_PORT_SET) and destroyed
 * with its name; mach_port_move_member puts a receive right of the same
 * space in (or takes it out).
 *
 * As OSF's set has one message queue, a set keeps its members' messages
 * in the order they came (a port joining brings its queued ones, at the
 * end): a receive from the set takes the oldest, whichever member it was
 * sent to.  Each message also stays on its port's own queue, where the
 * port's limit, count and sequence number keep working.  A member's lock
 * is taken before its set's.
 */
#include <linux/sched.h>
#include <linux/slab.h>
#include "machio.h"

static void machio_mpset_free(struct machio_port *port)
{
	struct machio_mpset *set = container_of(port, struct machio_mpset, port);

	WARN_ON_ONCE(!list_empty(&set->members) || !list_empty(&set->msgs));
	kfree(set);
}

struct machio_mpset *machio_mpset_create(void)
{
	struct machio_mpset *set = kzalloc(sizeof(*set), MACHIO_GFP);

	if (!set)
		return NULL;
	machio_port_init(&set->port, MACHIO_KIND_PSET, machio_mpset_free);
	spin_lock_init(&set->lock);
	set->active = true;
	INIT_LIST_HEAD(&set->members);
	INIT_LIST_HEAD(&set->msgs);
	machio_mwait_init(&set->mw);
	return set;
}

/* @mp leaves its set, its messages off the set's list.  Under @mp's lock. */
void machio_mport_leave_set_locked(struct machio_mport *mp)
{
	struct machio_mpset *set = mp->pset;
	struct machio_kmsg *kmsg;

	if (!set)
		return;
	spin_lock(&set->lock);
	list_for_each_entry(kmsg, &mp->msgs, node)
		list_del_init(&kmsg->set_node);
	list_del_init(&mp->pset_node);
	spin_unlock(&set->lock);
	mp->pset = NULL;
}

void machio_mport_leave_set(struct machio_mport *mp)
{
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	machio_mport_leave_set_locked(mp);
	spin_unlock_irqrestore(&mp->lock, flags);
}

/*
 * @kmsg joins @mp's queue, and its set's; the set's receivers are woken
 * here (the caller wakes the port's), @sync as machio_mwait_wake says.
 * Under @mp's lock.
 */
void machio_mport_enqueue_locked(struct machio_mport *mp, struct machio_kmsg *kmsg, bool sync)
{
	struct machio_mpset *set = mp->pset;

	list_add_tail(&kmsg->node, &mp->msgs);
	if (set) {
		spin_lock(&set->lock);
		list_add_tail(&kmsg->set_node, &set->msgs);
		spin_unlock(&set->lock);
		machio_mwait_wake(&set->mw, sync);	/* it lives while @mp is in it */
	}
}

/*
 * mach_port_move_member's move of the receive right's port @mp out of
 * its set and into @set (NULL: none): KERN_NOT_IN_SET to leave no set,
 * KERN_INVALID_RIGHT into a set or for a port that died meanwhile.
 * Threads waiting to receive on the port itself when it joins a set get
 * MACH_RCV_PORT_CHANGED (OSF's ipc_pset_add).  Under its space's lock.
 */
s32 machio_mpset_move(struct machio_mport *mp, struct machio_mpset *set)
{
	s32 kr = MACHIO_KERN_SUCCESS;
	bool joined = false;
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	if (mp->pset == set) {
		kr = set ? MACHIO_KERN_SUCCESS : MACHIO_KERN_NOT_IN_SET;
		goto out;
	}
	if (!mp->active) {
		kr = MACHIO_KERN_INVALID_RIGHT;
		goto out;
	}
	machio_mport_leave_set_locked(mp);
	if (!set)
		goto out;
	spin_lock(&set->lock);
	if (set->active) {
		struct machio_kmsg *kmsg;

		list_for_each_entry(kmsg, &mp->msgs, node)
			list_add_tail(&kmsg->set_node, &set->msgs);
		list_add_tail(&mp->pset_node, &set->members);
		mp->pset = set;
		mp->rcv_gen++;
		joined = true;
	} else {
		kr = MACHIO_KERN_INVALID_RIGHT;
	}
	spin_unlock(&set->lock);
out:
	spin_unlock_irqrestore(&mp->lock, flags);
	if (joined) {
		machio_mwait_wake(&mp->mw, false);
		machio_mwait_wake(&set->mw, false);
	}
	return kr;
}

/*
 * Its name is gone: receivers waiting on it get MACH_RCV_PORT_DIED, and
 * its members leave it (their messages stay on their own queues).
 * Process context.
 */
void machio_mpset_destroy(struct machio_mpset *set)
{
	struct machio_mport *mp;
	unsigned long flags;

	spin_lock_irqsave(&set->lock, flags);
	set->active = false;
	spin_unlock_irqrestore(&set->lock, flags);
	machio_mwait_wake(&set->mw, false);
	for (;;) {
		/* A member's lock comes first: take one, then look again. */
		spin_lock_irqsave(&set->lock, flags);
		mp = list_first_entry_or_null(&set->members, struct machio_mport, pset_node);
		if (mp)
			machio_port_get(&mp->port);
		spin_unlock_irqrestore(&set->lock, flags);
		if (!mp)
			break;
		spin_lock_irqsave(&mp->lock, flags);
		if (mp->pset == set)
			machio_mport_leave_set_locked(mp);
		spin_unlock_irqrestore(&mp->lock, flags);
		machio_port_put(&mp->port);
	}
}
