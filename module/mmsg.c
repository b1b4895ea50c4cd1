// SPDX-License-Identifier: GPL-2.0
/*
 * mach_msg: messages between ports, with OSF's header rights and port
 * descriptors (kmsg.c copies messages and their rights in and out).
 *
 * A send copies the message in, checks every right it names in the
 * sender's space, reserves a place in the destination's queue (waiting
 * while it is at its limit), and only then takes the rights and queues
 * the message, FIFO.  A receive takes the first message of a port whose
 * receive right the space holds, gives the space the rights it carries,
 * and copies it out with the port's sequence number.
 *
 * Messages are charged to the sender's memory cgroup; a port holds at
 * most its queue limit of them.
 */
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"

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
	struct machio_kmsg *kmsg;
	struct machio_mport *dest;
	bool reserved, dead;
	s32 kr;

	kmsg = machio_kmsg_copyin(u64_to_user_ptr(a->msg), a->send_size, &kr);
	if (!kmsg)
		return kr;
	for (;;) {
		spin_lock(&space->lock);
		kr = machio_kmsg_check_rights(space, kmsg, &dest);
		if (kr) {
			spin_unlock(&space->lock);
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
	/* Every right is good and the port has room: nothing fails now. */
	machio_kmsg_take_rights(space, kmsg);
	spin_unlock(&space->lock);
	/* A message that would make a cycle of receive rights is destroyed, sent (OSF). */
	dead = !machio_kmsg_mark_transit(kmsg);
	spin_lock_irq(&dest->lock);
	dead = dead || !dest->active;
	if (dead)
		dest->msgcount--;	/* or it died meanwhile: sent, and destroyed with it */
	else
		list_add_tail(&kmsg->node, &dest->msgs);
	spin_unlock_irq(&dest->lock);
	wake_up_all(&dest->wait);
	if (dead)
		machio_kmsg_destroy(kmsg);
	return MACHIO_MSG_SUCCESS;
out:
	kvfree(kmsg);
	return kr;
}

static bool machio_mport_rcv_wake(struct machio_mport *mp, u32 gen)
{
	return !READ_ONCE(mp->active) || READ_ONCE(mp->rcv_gen) != gen ||
	       !list_empty_careful(&mp->msgs);
}

/* The receive half of mach_msg. */
static s32 machio_msg_receive(struct machio_space *space, const struct machio_msg *a)
{
	bool timed = a->option & MACHIO_RCV_TIMEOUT;
	struct machio_msg_header __user *uhdr = u64_to_user_ptr(a->msg);
	struct machio_kmsg *kmsg;
	struct machio_entry *e;
	struct machio_mport *mp;
	u32 gen;
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
	gen = READ_ONCE(mp->rcv_gen);	/* moves happen under this lock */
	spin_unlock(&space->lock);

	for (;;) {
		spin_lock_irq(&mp->lock);
		if (!mp->active || mp->rcv_gen != gen) {
			kr = mp->active ? MACHIO_RCV_PORT_CHANGED : MACHIO_RCV_PORT_DIED;
			spin_unlock_irq(&mp->lock);
			goto out;
		}
		kmsg = list_first_entry_or_null(&mp->msgs, struct machio_kmsg, node);
		if (kmsg)
			break;	/* mp->lock held */
		spin_unlock_irq(&mp->lock);
		ret = machio_msg_wait(mp->wait, machio_mport_rcv_wake(mp, gen), timed, a->timeout);
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
	machio_kmsg_clear_transit(kmsg);
	if (kmsg->size > a->rcv_size) {
		machio_kmsg_destroy(kmsg);
		kr = MACHIO_RCV_TOO_LARGE;
		goto out;
	}
	kr = machio_kmsg_copyout(space, kmsg, a->rcv_name);
	if (copy_to_user(uhdr, &kmsg->hdr, kmsg->size))
		kr = MACHIO_RCV_INVALID_DATA;
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
