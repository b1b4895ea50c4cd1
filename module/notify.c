// SPDX-License-Identifier: GPL-2.0
/*
 * Mach notifications (mach/notify.h): messages the kernel sends to a
 * send-once right when something happens to a port.
 *
 *  - no-senders: a receive right's port lost its last send right
 *    (requested with mach_port_request_notification; carries the
 *    make-send count);
 *  - dead-name: the port a name's right was to died (requested; carries
 *    the name, whose dead name gets one more user reference);
 *  - port-deleted: a name with a dead-name request went away first
 *    (carries the name);
 *  - send-once: a send-once right was destroyed without being used
 *    (never requested: every such right makes one).
 *
 * A requested notification is a message reserved when it is requested,
 * carrying the send-once right it goes to, so sending it never
 * allocates and cannot fail; a port keeps its no-senders request and
 * its dead-name requests (one per name) until they fire or are
 * replaced.  A send-once notification is allocated when its right dies,
 * without sleeping: under memory pressure it is lost (OSF panics there).
 * Kernel messages ignore the queue limit, as in Mach.
 */
#include <linux/sched.h>
#include <linux/slab.h>
#include "machio.h"

#define MACHIO_NOTIFY_SIZE	sizeof(struct machio_notification)

static_assert(MACHIO_NOTIFY_SIZE == 36);

/* A notification message, reserved; its send-once right still to be set. */
static struct machio_kmsg *machio_notify_alloc(gfp_t gfp)
{
	return machio_kmsg_alloc(MACHIO_NOTIFY_SIZE, 0, gfp);
}

/*
 * Queue @kmsg, a kernel message, on the port its destination right
 * names, whatever its queue limit; destroyed if the port died.  Any
 * context.
 */
void machio_kmsg_send_kernel(struct machio_kmsg *kmsg)
{
	struct machio_mport *dest = machio_kmsg_dest(kmsg);
	unsigned long flags;
	bool dead;

	spin_lock_irqsave(&dest->lock, flags);
	dead = !dest->active;
	if (!dead) {
		if (!kmsg->counted)
			dest->msgcount++;
		machio_mport_enqueue_locked(dest, kmsg, false);
	}
	spin_unlock_irqrestore(&dest->lock, flags);
	if (dead)
		machio_kmsg_destroy(kmsg);	/* its one right is to a dead port: nothing more */
	else
		machio_mwait_wake(&dest->mw, false);
}

/* Make @kmsg notification @id with @value. */
static void machio_notify_fill(struct machio_kmsg *kmsg, s32 id, u32 value)
{
	struct machio_notification *n = machio_kmsg_data(kmsg);

	kmsg->size = id == MACHIO_NOTIFY_SEND_ONCE ? sizeof(n->not_header) : MACHIO_NOTIFY_SIZE;
	memset(n, 0, MACHIO_NOTIFY_SIZE);
	n->not_header.msgh_size = kmsg->size;
	n->not_header.msgh_id = id;
	n->ndr[4] = 1;		/* NDR int_rep: little-endian */
	n->not_value = value;
}

/* Send @kmsg, a reserved notification, as notification @id with @value. */
void machio_notify_send(struct machio_kmsg *kmsg, s32 id, u32 value)
{
	machio_notify_fill(kmsg, id, value);
	machio_kmsg_send_kernel(kmsg);
}

static void machio_notify_take_right(struct machio_kmsg *kmsg, struct machio_mport *mp)
{
	kmsg->rights[0].mp = mp;
	kmsg->rights[0].msgt = MACHIO_MSG_TYPE_MOVE_SEND_ONCE;
	kmsg->rights[0].right = MACHIO_RIGHT_SEND_ONCE;
}

/* A send-once notification to realtime @mp from its pool: false if it has no buffer free. */
static bool machio_notify_send_once_rt(struct machio_mport *mp)
{
	struct machio_kmsg *kmsg;
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	kmsg = machio_kmsg_from_pool_counted(mp, MACHIO_NOTIFY_SIZE, false);	/* no limit: the kernel's */
	if (!kmsg) {
		spin_unlock_irqrestore(&mp->lock, flags);
		return false;
	}
	machio_notify_take_right(kmsg, mp);
	machio_notify_fill(kmsg, MACHIO_NOTIFY_SEND_ONCE, 0);
	machio_mport_enqueue_locked(mp, kmsg, false);
	spin_unlock_irqrestore(&mp->lock, flags);
	machio_mwait_wake(&mp->mw, false);
	return true;
}

/*
 * A send-once right to @mp was destroyed unused: a send-once
 * notification to it, made of that right.  Consumes the right (one of
 * @mp->sorights) and a reference to @mp.  Never sleeps.
 */
void machio_mport_destroy_send_once(struct machio_mport *mp)
{
	struct machio_kmsg *kmsg = NULL;

	if (mp->rt && machio_notify_send_once_rt(mp))
		return;
	if (machio_mport_active(mp))
		kmsg = machio_notify_alloc(GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN);
	if (!kmsg) {
		machio_mport_drop_send_once(mp);
		machio_port_put(&mp->port);
		return;
	}
	machio_notify_take_right(kmsg, mp);
	machio_notify_send(kmsg, MACHIO_NOTIFY_SEND_ONCE, 0);
}

/* @e's dead-name request on its port, taken off it, or NULL.  Under the space's lock. */
static struct machio_kmsg *machio_dnrequest_take(struct machio_space *space, struct machio_entry *e,
						 u32 name)
{
	struct machio_mport *mp = machio_to_mport(e->port);
	struct machio_kmsg *kmsg, *found = NULL;
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	list_for_each_entry(kmsg, &mp->dnrequests, node) {
		if (kmsg->req_space == space && kmsg->req_name == name) {
			list_del_init(&kmsg->node);
			found = kmsg;
			break;
		}
	}
	spin_unlock_irqrestore(&mp->lock, flags);
	return found;
}

/*
 * @e's name goes while its port lives: its dead-name request becomes a
 * port-deleted notification.  Under the space's lock (machio_entry_free).
 */
void machio_notify_cancel_dead_name(struct machio_space *space, struct machio_entry *e)
{
	u32 name = machio_entry_name(space, e);
	struct machio_kmsg *kmsg;

	e->dnrequest = false;
	if (e->kind != MACHIO_KIND_MPORT)
		return;
	kmsg = machio_dnrequest_take(space, e, name);
	if (kmsg)
		machio_notify_send(kmsg, MACHIO_NOTIFY_PORT_DELETED, name);
}

/*
 * The send-once right a replaced request held goes back to the caller,
 * under a new name (MACHIO_PORT_NULL if it has no room: the right is
 * then destroyed, a send-once notification).  Process context, no lock.
 */
static u32 machio_notify_previous(struct machio_space *space, struct machio_kmsg *old)
{
	bool full = false;
	u32 name;

	if (!old)
		return MACHIO_PORT_NULL;
	name = machio_right_copyout(space, &old->rights[0].mp, MACHIO_RIGHT_SEND_ONCE, &full);
	if (old->rights[0].mp)
		name = MACHIO_PORT_NULL;	/* dead meanwhile, or no room: it goes */
	machio_kmsg_destroy(old);
	return name;
}

/* The no-senders request: swapped in, or sent at once if it is already true. */
static struct machio_kmsg *machio_nsrequest_swap(struct machio_mport *mp, struct machio_kmsg *kmsg,
						 u32 sync, bool *now, u32 *mscount)
{
	struct machio_kmsg *old;
	unsigned long flags;

	spin_lock_irqsave(&mp->lock, flags);
	old = mp->nsrequest;
	*now = kmsg && !mp->srights && mp->mscount >= sync;
	*mscount = mp->mscount;
	mp->nsrequest = *now ? NULL : kmsg;
	mp->nssync = sync;
	spin_unlock_irqrestore(&mp->lock, flags);
	return old;
}

/* The dead-name request of @e (named @name): swapped in; NULL @kmsg cancels. */
static struct machio_kmsg *machio_dnrequest_swap(struct machio_space *space, struct machio_entry *e,
						 u32 name, struct machio_kmsg *kmsg)
{
	struct machio_mport *mp = machio_to_mport(e->port);
	struct machio_kmsg *old = e->dnrequest ? machio_dnrequest_take(space, e, name) : NULL;
	unsigned long flags;

	e->dnrequest = !!kmsg;
	if (!e->dnrequest)
		return old;
	kmsg->req_space = space;
	kmsg->req_name = name;
	spin_lock_irqsave(&mp->lock, flags);
	list_add_tail(&kmsg->node, &mp->dnrequests);
	spin_unlock_irqrestore(&mp->lock, flags);
	return old;
}

/*
 * mach_port_request_notification, in OSF's order: KERN_INVALID_VALUE for
 * a variant machio does not take (port-destroyed; send-once
 * notifications need no request) or a bad notify type, then
 * KERN_INVALID_NAME, KERN_INVALID_RIGHT (no-senders: not a receive right;
 * dead-name: not a send, send-once or receive right, or a dead name
 * without @sync), KERN_INVALID_CAPABILITY for @notify, KERN_UREFS_OVERFLOW
 * (an immediate dead-name notification), KERN_RESOURCE_SHORTAGE.
 */
s32 machio_notify_request(struct machio_space *space, struct machio_port_request_notification *a)
{
	struct machio_kmsg *kmsg = NULL, *old = NULL;
	struct machio_entry *e, *ne;
	bool now = false, dead;
	u32 mscount = 0;
	s32 kr;

	if (a->variant != MACHIO_NOTIFY_NO_SENDERS && a->variant != MACHIO_NOTIFY_DEAD_NAME)
		return MACHIO_KERN_INVALID_VALUE;
	if (a->notify != MACHIO_PORT_NULL &&
	    a->notify_type != MACHIO_MSG_TYPE_MAKE_SEND_ONCE &&
	    a->notify_type != MACHIO_MSG_TYPE_MOVE_SEND_ONCE)
		return MACHIO_KERN_INVALID_VALUE;
	if (a->notify != MACHIO_PORT_NULL) {
		kmsg = machio_notify_alloc(MACHIO_GFP);
		if (!kmsg)
			return MACHIO_KERN_RESOURCE_SHORTAGE;
	}

	spin_lock(&space->lock);
	e = machio_right_find(space, a->name);	/* a right whose port died is a dead name */
	if (!e) {
		kr = MACHIO_KERN_INVALID_NAME;
		goto fail;
	}
	dead = e->kind == MACHIO_KIND_DEAD;
	if (a->variant == MACHIO_NOTIFY_NO_SENDERS ?
	    e->kind != MACHIO_KIND_MPORT || !(e->rights & MACHIO_RIGHT_RECEIVE) :
	    dead ? !a->sync : e->kind != MACHIO_KIND_MPORT) {
		kr = MACHIO_KERN_INVALID_RIGHT;
		goto fail;
	}
	if (dead && e->urefs >= MACHIO_PORT_UREFS_MAX) {
		kr = MACHIO_KERN_UREFS_OVERFLOW;
		goto fail;
	}
	if (kmsg) {
		if (machio_right_source(space, a->notify, a->notify_type, &ne)) {
			kr = MACHIO_KERN_INVALID_CAPABILITY;
			goto fail;
		}
		/* MIG would have moved it in first: then @name was gone. */
		if (ne == e && a->notify_type == MACHIO_MSG_TYPE_MOVE_SEND_ONCE) {
			kr = MACHIO_KERN_INVALID_NAME;
			goto fail;
		}
		kmsg->rights[0].mp = machio_to_mport(ne->port);
		kmsg->rights[0].msgt = MACHIO_MSG_TYPE_MOVE_SEND_ONCE;
		kmsg->rights[0].right = machio_kright_take(space, ne, a->notify_type);
	}
	if (a->variant == MACHIO_NOTIFY_NO_SENDERS) {
		old = machio_nsrequest_swap(machio_to_mport(e->port), kmsg, a->sync, &now, &mscount);
	} else if (dead) {
		/* At once, with one more user reference for it (OSF). */
		if (kmsg) {
			e->urefs++;
			now = true;
			mscount = a->name;
		}
	} else {
		old = machio_dnrequest_swap(space, e, a->name, kmsg);
	}
	spin_unlock(&space->lock);
	if (now)
		machio_notify_send(kmsg, a->variant == MACHIO_NOTIFY_NO_SENDERS ?
				   MACHIO_NOTIFY_NO_SENDERS : MACHIO_NOTIFY_DEAD_NAME, mscount);
	a->previous = machio_notify_previous(space, old);
	return MACHIO_KERN_SUCCESS;

fail:
	spin_unlock(&space->lock);
	if (kmsg)
		machio_kmsg_free(kmsg);
	return kr;
}
