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

	/* Destroyed with its receive right, which emptied the queue and sent its requests. */
	WARN_ON_ONCE(!list_empty(&mp->msgs) || mp->nsrequest || !list_empty(&mp->dnrequests));
	machio_rtpool_drain(mp);
	WARN_ON_ONCE(mp->rt_total);	/* each message from the pool held a reference */
	kfree(mp);
}

/*
 * A new, active port: no send rights, qlimit MACH_PORT_QLIMIT_DEFAULT; a
 * realtime one with its pool of that many message buffers.
 */
struct machio_mport *machio_mport_create(bool rt)
{
	struct machio_mport *mp = kzalloc(sizeof(*mp), MACHIO_GFP);

	if (!mp)
		return NULL;
	if (rt && machio_rtpool_init(mp, MACHIO_PORT_QLIMIT_DEFAULT)) {
		kfree(mp);
		return NULL;
	}
	machio_port_init(&mp->port, MACHIO_KIND_MPORT, machio_mport_free);
	spin_lock_init(&mp->lock);
	mp->active = true;
	mp->rt = rt;
	mp->qlimit = MACHIO_PORT_QLIMIT_DEFAULT;
	INIT_LIST_HEAD(&mp->msgs);
	INIT_LIST_HEAD(&mp->pset_node);
	INIT_LIST_HEAD(&mp->dnrequests);
	machio_mwait_init(&mp->mw);
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
		struct machio_kmsg *ns;
		LIST_HEAD(gone);
		LIST_HEAD(dn);

		list_del(&mp->doomed);
		spin_lock_irqsave(&mp->lock, flags);
		machio_mport_leave_set_locked(mp);
		mp->active = false;
		list_splice_init(&mp->msgs, &gone);
		/* What a sender reserved stays counted until it sees the port died. */
		list_for_each_entry(kmsg, &gone, node)
			mp->msgcount--;
		ns = mp->nsrequest;
		mp->nsrequest = NULL;
		list_splice_init(&mp->dnrequests, &dn);
		spin_unlock_irqrestore(&mp->lock, flags);
		machio_mwait_wake(&mp->mw, false);
		list_for_each_entry_safe(kmsg, tmp, &gone, node)
			machio_kmsg_release(kmsg, doomed);
		machio_rtpool_drain(mp);
		/* Its requests: the no-senders one unused, every dead name told. */
		if (ns)
			machio_notify_send(ns, MACHIO_NOTIFY_SEND_ONCE, 0);
		list_for_each_entry_safe(kmsg, tmp, &dn, node) {
			list_del_init(&kmsg->node);
			machio_notify_send(kmsg, MACHIO_NOTIFY_DEAD_NAME, kmsg->req_name);
		}
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

/*
 * Its receive right left the space it was in: receivers there stop
 * waiting on it, its make-send count starts again from 0, and its
 * no-senders request is cancelled with a send-once notification (OSF's
 * ipc_port_clear_receiver and the man page).
 */
void machio_mport_receive_moved(struct machio_mport *mp)
{
	struct machio_kmsg *ns;
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	mp->rcv_gen++;
	mp->mscount = 0;
	ns = mp->nsrequest;
	mp->nsrequest = NULL;
	spin_unlock_irqrestore(&mp->lock, flags);
	machio_mwait_wake(&mp->mw, false);
	if (ns)
		machio_notify_send(ns, MACHIO_NOTIFY_SEND_ONCE, 0);
}

/* A place in its queue for a message, if it is alive and has room. */
bool machio_mport_reserve(struct machio_mport *mp)
{
	unsigned long flags;
	bool reserved;

	spin_lock_irqsave(&mp->lock, flags);
	reserved = mp->active && mp->msgcount < mp->qlimit;
	if (reserved)
		mp->msgcount++;
	spin_unlock_irqrestore(&mp->lock, flags);
	return reserved;
}

/* A place reserved and not used after all: senders waiting for room look again. */
void machio_mport_unreserve(struct machio_mport *mp)
{
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	mp->msgcount--;
	spin_unlock_irqrestore(&mp->lock, flags);
	machio_mwait_wake(&mp->mw, false);
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

/* A send right fewer; the last one fires the no-senders request, with the make-send count. */
void machio_mport_drop_send(struct machio_mport *mp)
{
	struct machio_kmsg *ns = NULL;
	unsigned long flags;
	u32 mscount = 0;

	spin_lock_irqsave(&mp->lock, flags);
	WARN_ON_ONCE(!mp->srights);
	if (!--mp->srights && mp->nsrequest && mp->active) {
		ns = mp->nsrequest;
		mp->nsrequest = NULL;
		mscount = mp->mscount;
	}
	spin_unlock_irqrestore(&mp->lock, flags);
	if (ns)
		machio_notify_send(ns, MACHIO_NOTIFY_NO_SENDERS, mscount);
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

/*
 * MACH_PORT_LIMITS_INFO: a new queue limit; senders waiting for room
 * look again.  A realtime port's pool grows first: -ENOMEM, and the limit
 * stays, if it cannot.
 */
int machio_mport_set_qlimit(struct machio_mport *mp, u32 qlimit)
{
	unsigned long flags;

	if (mp->rt) {
		if (machio_rtpool_resize(mp, qlimit))
			return -ENOMEM;
	} else {
		spin_lock_irqsave(&mp->lock, flags);
		mp->qlimit = qlimit;
		spin_unlock_irqrestore(&mp->lock, flags);
	}
	machio_mwait_wake(&mp->mw, false);
	return 0;
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
	info[8] = mp->nsrequest != NULL;	/* mps_nsrequest */
	info[9] = mp->rt ? MACHIO_PORT_STATUS_FLAGS_RT : 0;
	spin_unlock_irqrestore(&mp->lock, flags);
}
