// SPDX-License-Identifier: GPL-2.0
/*
 * Mach ports: the object behind a receive right, and the counts of the
 * rights to it that name tables hold.
 *
 * A port is made with its receive right (mach_port_allocate) and lives
 * while any right names it.  When its receive right goes (deallocated,
 * destroyed, its space closed) the port is destroyed: inactive, so that
 * every send and send-once right to it, in every space, reads as a dead
 * name from then on (right.c converts an entry when it next looks at
 * it, as OSF's ipc_right_check does), and the last of those frees it.
 */
#include <linux/sched.h>
#include <linux/slab.h>
#include "machio.h"

static void machio_mport_free(struct machio_port *port)
{
	struct machio_mport *mp = machio_to_mport(port);

	/* Destroyed with its receive right, which emptied the queue. */
	WARN_ON_ONCE(!list_empty(&mp->msgs));
	kfree(mp);
}

/* A new, active port: no send rights, qlimit MACH_PORT_QLIMIT_DEFAULT. */
struct machio_mport *machio_mport_create(bool rt)
{
	struct machio_mport *mp = kzalloc(sizeof(*mp), MACHIO_GFP);

	if (!mp)
		return NULL;
	machio_port_init(&mp->port, MACHIO_KIND_MPORT, machio_mport_free);
	spin_lock_init(&mp->lock);
	mp->active = true;
	mp->rt = rt;
	mp->qlimit = MACHIO_PORT_QLIMIT_DEFAULT;
	INIT_LIST_HEAD(&mp->msgs);
	INIT_LIST_HEAD(&mp->pset_node);
	init_waitqueue_head(&mp->wait);
	return mp;
}

/*
 * Destroy every port on @doomed, each entry holding a reference, which
 * goes: its queued messages are destroyed, and the ports whose receive
 * rights those carried join the list, so that a chain of them takes no
 * deeper a stack than one.  Process context.
 */
void machio_mport_destroy_list(struct list_head *doomed)
{
	struct machio_kmsg *kmsg, *tmp;
	struct machio_mport *mp;
	unsigned long flags;

	while ((mp = list_first_entry_or_null(doomed, struct machio_mport, doomed))) {
		LIST_HEAD(gone);

		list_del(&mp->doomed);
		spin_lock_irqsave(&mp->lock, flags);
		machio_mport_leave_set_locked(mp);
		mp->active = false;
		list_splice_init(&mp->msgs, &gone);
		/* What a sender reserved stays counted until it sees the port died. */
		list_for_each_entry(kmsg, &gone, node)
			mp->msgcount--;
		spin_unlock_irqrestore(&mp->lock, flags);
		wake_up_all(&mp->wait);
		list_for_each_entry_safe(kmsg, tmp, &gone, node)
			machio_kmsg_release(kmsg, doomed);
		machio_port_put(&mp->port);
	}
}

/*
 * Its receive right is gone: the messages queued on it are destroyed
 * (the rights they carry released), and its waiters woken.  Process
 * context.
 */
void machio_mport_destroy(struct machio_mport *mp)
{
	LIST_HEAD(doomed);

	machio_port_get(&mp->port);
	list_add(&mp->doomed, &doomed);
	machio_mport_destroy_list(&doomed);
}

/* Its receive right left the space it was in: receivers there stop waiting on it. */
void machio_mport_receive_moved(struct machio_mport *mp)
{
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	mp->rcv_gen++;
	spin_unlock_irqrestore(&mp->lock, flags);
	wake_up_all(&mp->wait);
}

bool machio_mport_active(struct machio_mport *mp)
{
	return READ_ONCE(mp->active);
}

/*
 * A send right more: @fresh, a name holds one that did not; @make, it was
 * made from the receive right (the make-send count).
 */
void machio_mport_add_send(struct machio_mport *mp, bool fresh, bool make)
{
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	if (fresh)
		mp->srights++;
	if (make)
		mp->mscount++;
	spin_unlock_irqrestore(&mp->lock, flags);
}

void machio_mport_drop_send(struct machio_mport *mp)
{
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	WARN_ON_ONCE(!mp->srights);
	mp->srights--;
	spin_unlock_irqrestore(&mp->lock, flags);
}

void machio_mport_add_send_once(struct machio_mport *mp)
{
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	mp->sorights++;
	spin_unlock_irqrestore(&mp->lock, flags);
}

void machio_mport_drop_send_once(struct machio_mport *mp)
{
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	WARN_ON_ONCE(!mp->sorights);
	mp->sorights--;
	spin_unlock_irqrestore(&mp->lock, flags);
}

/* MACH_PORT_LIMITS_INFO: a new queue limit; senders waiting for room look again. */
void machio_mport_set_qlimit(struct machio_mport *mp, u32 qlimit)
{
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	mp->qlimit = qlimit;
	spin_unlock_irqrestore(&mp->lock, flags);
	wake_up_all(&mp->wait);
}

/*
 * MACH_PORT_RECEIVE_STATUS, OSF's mach_port_status_t word by word:
 * mps_pset (the caller fills in its set's name), mps_seqno,
 * mps_mscount, mps_qlimit, mps_msgcount, mps_sorights, mps_srights (any
 * send rights), mps_pdrequest, mps_nsrequest (no requests yet), mps_flags.
 */
void machio_mport_status(struct machio_mport *mp, u32 *info)
{
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	info[1] = mp->seqno;
	info[2] = mp->mscount;
	info[3] = mp->qlimit;
	info[4] = mp->msgcount;
	info[5] = mp->sorights;
	info[6] = mp->srights > 0;
	info[9] = mp->rt ? MACHIO_PORT_STATUS_FLAGS_RT : 0;
	spin_unlock_irqrestore(&mp->lock, flags);
}
