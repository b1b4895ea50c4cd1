// SPDX-License-Identifier: GPL-2.0
/*
 * mach_msg: simple messages between ports, with OSF's header rights.
 *
 * A send copies the message in, takes the rights its header names from
 * the sender's space (the destination's, consumed when the message is
 * received; the reply right's, which the message carries), and queues
 * it on the destination port, FIFO, waiting while the port's queue is at
 * its limit.  A receive takes the first message of a port whose receive
 * right the space holds, gives its space the reply right (a send-once
 * right under a new name; a send right under the port's name there, if
 * it has one), and copies it out with the port's sequence number.
 *
 * Complex messages (port and memory descriptors) are not taken yet
 * (MACH_SEND_INVALID_TYPE).  Messages are charged to the sender's memory
 * cgroup; a port holds at most its queue limit of them.
 */
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"

static_assert(sizeof(struct machio_msg_header) == 24);

void machio_kmsg_destroy(struct machio_kmsg *kmsg)
{
	if (kmsg->reply) {
		if (kmsg->reply_right == MACHIO_RIGHT_SEND)
			machio_mport_drop_send(kmsg->reply);
		else
			machio_mport_drop_send_once(kmsg->reply);
		machio_port_put(&kmsg->reply->port);
	}
	if (kmsg->dest) {
		/* The destination right it carried is used up. */
		if (kmsg->dest_right == MACHIO_RIGHT_SEND)
			machio_mport_drop_send(kmsg->dest);
		else
			machio_mport_drop_send_once(kmsg->dest);
		machio_port_put(&kmsg->dest->port);
	}
	kvfree(kmsg);
}

static bool machio_msgt_is_send(u32 msgt)
{
	return msgt >= MACHIO_MSG_TYPE_MOVE_SEND && msgt <= MACHIO_MSG_TYPE_MAKE_SEND_ONCE;
}

/* The entry that gives the right @msgt takes from @name, or NULL.  Under the space's lock. */
static struct machio_entry *machio_msg_source(struct machio_space *space, u32 name, u32 msgt)
{
	struct machio_entry *e;

	return machio_right_source(space, name, msgt, &e) ? NULL : e;
}

/*
 * Take the right @msgt names from @e for the message: the right it
 * carries (MACHIO_RIGHT_SEND or _SEND_ONCE), counted in its port, and a
 * reference to the port.  A moved right leaves the sender's entry.
 * Under the space's lock.
 */
static u8 machio_msg_take(struct machio_space *space, struct machio_entry *e, u32 msgt)
{
	struct machio_mport *mp = machio_to_mport(e->port);

	machio_port_get(&mp->port);
	switch (msgt) {
	case MACHIO_MSG_TYPE_MAKE_SEND:
		machio_mport_add_send(mp, true, true);
		return MACHIO_RIGHT_SEND;
	case MACHIO_MSG_TYPE_COPY_SEND:
		machio_mport_add_send(mp, true, false);
		return MACHIO_RIGHT_SEND;
	case MACHIO_MSG_TYPE_MAKE_SEND_ONCE:
		machio_mport_add_send_once(mp);
		return MACHIO_RIGHT_SEND_ONCE;
	case MACHIO_MSG_TYPE_MOVE_SEND_ONCE:
		machio_entry_free(space, e);
		machio_port_put(&mp->port);	/* the entry's: the message has its own */
		return MACHIO_RIGHT_SEND_ONCE;
	default:	/* MOVE_SEND: one user reference goes, and the right with the last */
		if (--e->urefs) {
			machio_mport_add_send(mp, true, false);
			return MACHIO_RIGHT_SEND;
		}
		e->rights &= ~MACHIO_RIGHT_SEND;
		if (!e->rights) {
			machio_entry_free(space, e);
			machio_port_put(&mp->port);
		}
		return MACHIO_RIGHT_SEND;
	}
}

/* Wait, as @option says, until @cond; 0, -ETIMEDOUT or -EINTR. */
#define machio_msg_wait(wq, cond, timed, ms)						\
	({										\
		long __r = (timed) ?							\
			wait_event_interruptible_timeout(wq, cond, msecs_to_jiffies(ms)) :	\
			wait_event_interruptible(wq, cond);				\
		__r < 0 ? -EINTR : ((timed) && !__r && !(cond)) ? -ETIMEDOUT : 0;	\
	})

static bool machio_mport_has_room(struct machio_mport *mp)
{
	return !READ_ONCE(mp->active) || READ_ONCE(mp->msgcount) < READ_ONCE(mp->qlimit);
}

/* The send half of mach_msg. */
static s32 machio_msg_send(struct machio_space *space, const struct machio_msg *a)
{
	bool timed = a->option & MACHIO_SEND_TIMEOUT;
	struct machio_entry *de, *re;
	struct machio_kmsg *kmsg;
	struct machio_mport *dest;
	u32 rdisp, ldisp, size = a->send_size;
	bool reserved, dead;
	s32 kr;

	if (size < sizeof(struct machio_msg_header) || (size & 3))
		return MACHIO_SEND_MSG_TOO_SMALL;
	if (size > MACHIO_MSG_SIZE_MAX)
		return MACHIO_SEND_TOO_LARGE;
	kmsg = kvmalloc(offsetof(struct machio_kmsg, hdr) + size, MACHIO_GFP);
	if (!kmsg)
		return MACHIO_SEND_NO_BUFFER;
	memset(kmsg, 0, offsetof(struct machio_kmsg, hdr));
	if (copy_from_user(&kmsg->hdr, u64_to_user_ptr(a->msg), size)) {
		kr = MACHIO_SEND_INVALID_DATA;
		goto out;
	}
	kmsg->size = size;
	rdisp = kmsg->hdr.msgh_bits & MACHIO_MSGH_BITS_REMOTE_MASK;
	ldisp = (kmsg->hdr.msgh_bits & MACHIO_MSGH_BITS_LOCAL_MASK) >> 8;
	if (kmsg->hdr.msgh_bits & MACHIO_MSGH_BITS_COMPLEX) {
		kr = MACHIO_SEND_INVALID_TYPE;	/* descriptors: not yet */
		goto out;
	}
	if ((kmsg->hdr.msgh_bits & ~(MACHIO_MSGH_BITS_REMOTE_MASK | MACHIO_MSGH_BITS_LOCAL_MASK)) ||
	    !machio_msgt_is_send(rdisp) ||
	    (kmsg->hdr.msgh_local_port != MACHIO_PORT_NULL && !machio_msgt_is_send(ldisp))) {
		kr = MACHIO_SEND_INVALID_HEADER;
		goto out;
	}

	for (;;) {
		spin_lock(&space->lock);
		de = machio_msg_source(space, kmsg->hdr.msgh_remote_port, rdisp);
		if (!de) {
			spin_unlock(&space->lock);
			kr = MACHIO_SEND_INVALID_DEST;
			goto out;
		}
		re = NULL;
		if (kmsg->hdr.msgh_local_port != MACHIO_PORT_NULL) {
			re = machio_msg_source(space, kmsg->hdr.msgh_local_port, ldisp);
			if (!re) {
				spin_unlock(&space->lock);
				kr = MACHIO_SEND_INVALID_REPLY;
				goto out;
			}
		}
		dest = machio_to_mport(de->port);
		/* One entry cannot give two rights that each take its last reference. */
		if (re == de && !(de->rights & MACHIO_RIGHT_RECEIVE) && de->urefs < 2 &&
		    (rdisp == MACHIO_MSG_TYPE_MOVE_SEND || rdisp == MACHIO_MSG_TYPE_MOVE_SEND_ONCE ||
		     ldisp == MACHIO_MSG_TYPE_MOVE_SEND || ldisp == MACHIO_MSG_TYPE_MOVE_SEND_ONCE)) {
			spin_unlock(&space->lock);
			kr = MACHIO_SEND_INVALID_REPLY;
			goto out;
		}
		/* A place in the queue, taken before the rights. */
		spin_lock_irq(&dest->lock);
		reserved = dest->active && dest->msgcount < dest->qlimit;
		if (reserved)
			dest->msgcount++;
		spin_unlock_irq(&dest->lock);
		if (reserved)
			break;	/* the space's lock held */
		machio_port_get(&dest->port);
		spin_unlock(&space->lock);
		if (!machio_mport_active(dest)) {
			machio_port_put(&dest->port);
			kr = MACHIO_SEND_INVALID_DEST;
			goto out;
		}
		/* Full: wait for room (and look at the names again after). */
		kr = machio_msg_wait(dest->wait, machio_mport_has_room(dest), timed, a->timeout);
		machio_port_put(&dest->port);
		if (kr == -ETIMEDOUT) {
			kr = MACHIO_SEND_TIMED_OUT;
			goto out;
		}
		if (kr == -EINTR) {
			kr = MACHIO_SEND_INTERRUPTED;
			goto out;
		}
	}
	/* Both rights are good and the port has room for it: nothing fails now. */
	if (re) {
		kmsg->reply = machio_to_mport(re->port);
		kmsg->reply_right = machio_msg_take(space, re, ldisp);
	}
	kmsg->dest_right = machio_msg_take(space, de, rdisp);
	kmsg->dest = dest;
	spin_unlock(&space->lock);
	spin_lock_irq(&dest->lock);
	dead = !dest->active;
	if (dead)
		dest->msgcount--;	/* it died meanwhile: sent, and destroyed with it */
	else
		list_add_tail(&kmsg->node, &dest->msgs);
	spin_unlock_irq(&dest->lock);
	if (dead)
		machio_kmsg_destroy(kmsg);
	else
		wake_up_all(&dest->wait);
	return MACHIO_MSG_SUCCESS;
out:
	kvfree(kmsg);
	return kr;
}

/*
 * Give @space the reply right @kmsg carries: a send-once right under a
 * new name, a send right under its port's name here if there is one.
 * The name, or MACHIO_PORT_NULL if the space has no room (the right is
 * then released).  Process context.
 */
static u32 machio_msg_copyout_reply(struct machio_space *space, struct machio_kmsg *kmsg)
{
	struct machio_mport *mp = kmsg->reply;
	struct machio_entry *e;
	u32 name, i;

	if (kmsg->reply_right == MACHIO_RIGHT_SEND) {
		spin_lock(&space->lock);
		for (i = 1; i < space->nr_slots; i++) {
			e = &space->table[i];
			if (e->kind != MACHIO_KIND_MPORT || e->port != &mp->port ||
			    (e->rights & MACHIO_RIGHT_SEND_ONCE))
				continue;
			/* Its name here: one more user reference (pegged, as OSF's receive). */
			if (e->rights & MACHIO_RIGHT_SEND) {
				machio_mport_drop_send(mp);	/* two send rights, one name */
				if (e->urefs < MACHIO_PORT_UREFS_MAX - 1)
					e->urefs++;
			} else {
				e->rights |= MACHIO_RIGHT_SEND;
				e->urefs = 1;
			}
			machio_port_put(&mp->port);	/* the entry has one */
			kmsg->reply = NULL;
			name = machio_entry_name(space, e);
			spin_unlock(&space->lock);
			return name;
		}
		spin_unlock(&space->lock);
	}
	if (machio_entry_alloc(space, 0, &e, &name))
		return MACHIO_PORT_NULL;	/* machio_kmsg_destroy releases it */
	e->kind = MACHIO_KIND_MPORT;
	e->port = &mp->port;	/* the message's reference */
	e->rights = kmsg->reply_right;
	e->urefs = 1;
	kmsg->reply = NULL;
	spin_unlock(&space->lock);
	return name;
}

/* The received type of a right the message carried (mach/message.h: PORT_SEND 17, _SEND_ONCE 18). */
static u32 machio_msg_port_type(u8 right)
{
	return right == MACHIO_RIGHT_SEND ? MACHIO_MSG_TYPE_MOVE_SEND : MACHIO_MSG_TYPE_MOVE_SEND_ONCE;
}

static bool machio_mport_has_msg(struct machio_mport *mp)
{
	return !READ_ONCE(mp->active) || !list_empty_careful(&mp->msgs);
}

/* The receive half of mach_msg. */
static s32 machio_msg_receive(struct machio_space *space, const struct machio_msg *a)
{
	bool timed = a->option & MACHIO_RCV_TIMEOUT;
	struct machio_msg_header __user *uhdr = u64_to_user_ptr(a->msg);
	struct machio_kmsg *kmsg;
	struct machio_entry *e;
	struct machio_mport *mp;
	s32 kr;
	int ret;

	spin_lock(&space->lock);
	e = machio_entry_find(space, a->rcv_name);
	if (!e || e->kind != MACHIO_KIND_MPORT || !(e->rights & MACHIO_RIGHT_RECEIVE)) {
		spin_unlock(&space->lock);
		return MACHIO_RCV_INVALID_NAME;
	}
	mp = machio_to_mport(e->port);
	machio_port_get(&mp->port);
	spin_unlock(&space->lock);

	for (;;) {
		spin_lock_irq(&mp->lock);
		if (!mp->active) {
			spin_unlock_irq(&mp->lock);
			kr = MACHIO_RCV_PORT_DIED;
			goto out;
		}
		kmsg = list_first_entry_or_null(&mp->msgs, struct machio_kmsg, node);
		if (kmsg)
			break;	/* mp->lock held */
		spin_unlock_irq(&mp->lock);
		ret = machio_msg_wait(mp->wait, machio_mport_has_msg(mp), timed, a->timeout);
		if (ret) {
			kr = ret == -ETIMEDOUT ? MACHIO_RCV_TIMED_OUT : MACHIO_RCV_INTERRUPTED;
			goto out;
		}
	}
	if (kmsg->size > a->rcv_size && (a->option & MACHIO_RCV_LARGE)) {
		/* Left queued; the caller learns the size it needs. */
		u32 size = kmsg->size;

		spin_unlock_irq(&mp->lock);
		kr = put_user(size, &uhdr->msgh_size) ? MACHIO_RCV_INVALID_DATA : MACHIO_RCV_TOO_LARGE;
		goto out;
	}
	list_del(&kmsg->node);
	mp->msgcount--;
	kmsg->hdr.msgh_seqno = mp->seqno++;
	spin_unlock_irq(&mp->lock);
	wake_up_all(&mp->wait);	/* a sender may have room now */
	if (kmsg->size > a->rcv_size) {
		machio_kmsg_destroy(kmsg);
		kr = MACHIO_RCV_TOO_LARGE;
		goto out;
	}

	kmsg->hdr.msgh_remote_port = kmsg->reply ? machio_msg_copyout_reply(space, kmsg) :
				     MACHIO_PORT_NULL;
	kmsg->hdr.msgh_local_port = a->rcv_name;
	kmsg->hdr.msgh_bits = MACHIO_MSGH_BITS(kmsg->hdr.msgh_remote_port ?
					       machio_msg_port_type(kmsg->reply_right) : 0,
					       machio_msg_port_type(kmsg->dest_right));
	kmsg->hdr.msgh_size = kmsg->size;
	kr = copy_to_user(uhdr, &kmsg->hdr, kmsg->size) ? MACHIO_RCV_INVALID_DATA :
							 MACHIO_MSG_SUCCESS;
	machio_kmsg_destroy(kmsg);
out:
	machio_port_put(&mp->port);
	return kr;
}

/* MACHIO_IOC_MSG: send, receive, or both (the reply received in the same call). */
int machio_msg(struct machio_space *space, struct machio_msg *a)
{
	if (a->notify != MACHIO_PORT_NULL) {
		a->kr = (a->option & MACHIO_SEND_MSG) ? MACHIO_SEND_INVALID_REPLY :
							MACHIO_RCV_INVALID_NAME;
		return 0;
	}
	a->kr = MACHIO_MSG_SUCCESS;
	if (a->option & MACHIO_SEND_MSG)
		a->kr = machio_msg_send(space, a);
	if (!a->kr && (a->option & MACHIO_RCV_MSG))
		a->kr = machio_msg_receive(space, a);
	return 0;
}
