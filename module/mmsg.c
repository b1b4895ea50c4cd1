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

/* What a sender waiting for room waits for: @arg is the port. */
static bool machio_mport_has_room(void *arg)
{
	struct machio_mport *mp = arg;

	return !READ_ONCE(mp->active) || READ_ONCE(mp->msgcount) < READ_ONCE(mp->qlimit);
}

/*
 * The realtime port @hdr is sent to, counted, or NULL: its messages come
 * from its pool, so the place in its queue is reserved before the copy.
 */
static struct machio_mport *machio_msg_rt_dest(struct machio_space *space,
					       const struct machio_msg_header *hdr)
{
	struct machio_mport *mp = NULL;
	struct machio_entry *e;

	spin_lock(&space->lock);
	if (!machio_right_source(space, hdr->msgh_remote_port,
				 hdr->msgh_bits & MACHIO_MSGH_BITS_REMOTE_MASK, &e) &&
	    machio_to_mport(e->port)->rt) {
		mp = machio_to_mport(e->port);
		machio_port_get(&mp->port);
	}
	spin_unlock(&space->lock);
	return mp;
}

/* Wait, as @a says, until @mp's queue has room: 0 or mach_msg's error. */
static s32 machio_msg_wait_room(struct machio_mport *mp, const struct machio_msg *a)
{
	int ret;

	if (!machio_mport_active(mp))
		return MACHIO_SEND_INVALID_DEST;
	ret = machio_mwait(&mp->mw, machio_mport_has_room, mp, false,
			   a->option & MACHIO_SEND_TIMEOUT, a->timeout);
	if (ret)
		return ret == -ETIMEDOUT ? MACHIO_SEND_TIMED_OUT : MACHIO_SEND_INTERRUPTED;
	return MACHIO_MSG_SUCCESS;
}

/* A place in @mp's queue, waiting for one as @a says: 0 or mach_msg's error. */
static s32 machio_msg_reserve(struct machio_mport *mp, const struct machio_msg *a)
{
	s32 kr;

	while (!machio_mport_reserve(mp)) {
		kr = machio_msg_wait_room(mp, a);
		if (kr)
			return kr;
	}
	return MACHIO_MSG_SUCCESS;
}

/*
 * The send half of mach_msg.  To a regular port the message is copied
 * in first and then waits for a place in the queue (and is checked
 * again after); to a realtime port the place comes first, and with it a
 * buffer of the port's pool: such a send allocates nothing.
 */
static s32 machio_msg_send(struct machio_space *space, const struct machio_msg *a)
{
	const void __user *umsg = u64_to_user_ptr(a->msg);
	struct machio_mport *dest, *rt = NULL;
	struct machio_msg_header hdr;
	bool sync = a->option & MACHIO_RCV_MSG;	/* this thread waits for the reply next */
	struct machio_kmsg *kmsg;
	bool dead;
	s32 kr, body_kr;
	u32 n;

	kr = machio_kmsg_peek(umsg, a->send_size, &hdr, &n, &body_kr);
	if (kr)
		return kr;
	rt = machio_msg_rt_dest(space, &hdr);
	if (rt) {
		kr = machio_rtpool_fits(a->send_size, n) ? machio_msg_reserve(rt, a) :
							    MACHIO_SEND_TOO_LARGE;
		if (kr) {
			machio_port_put(&rt->port);
			return kr;
		}
	}
	kmsg = machio_kmsg_copyin(umsg, a->send_size, &hdr, n, body_kr, rt, &kr);
	if (!kmsg)
		goto unreserve;
	if (!machio_kmsg_charge(space, kmsg)) {
		kr = MACHIO_SEND_NO_BUFFER;	/* past the space's max_msg_bytes */
		goto out;
	}
	for (;;) {
		spin_lock(&space->lock);
		kr = machio_kmsg_check_rights(space, kmsg, &dest);
		if (!kr && rt && dest != rt)
			kr = MACHIO_SEND_INVALID_DEST;	/* the name was changed meanwhile */
		if (kr) {
			spin_unlock(&space->lock);
			goto out;
		}
		if (rt)
			break;	/* its place is reserved */
		/* A place in the queue, taken before the rights. */
		if (machio_mport_reserve(dest))
			break;	/* the space's lock held */
		machio_port_get(&dest->port);
		spin_unlock(&space->lock);
		/* Full: wait for room (and look at the names again after). */
		kr = machio_msg_wait_room(dest, a);
		machio_port_put(&dest->port);
		if (kr)
			goto out;
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
		machio_mport_enqueue_locked(dest, kmsg, sync);
	spin_unlock_irq(&dest->lock);
	machio_mwait_wake(&dest->mw, sync);
	if (dead)
		machio_kmsg_destroy(kmsg);
	if (rt)
		machio_port_put(&rt->port);
	return MACHIO_MSG_SUCCESS;
out:
	machio_kmsg_free(kmsg);
unreserve:
	if (rt) {
		machio_mport_unreserve(rt);
		machio_port_put(&rt->port);
	}
	return kr;
}

/* What a receiver of a port waits for: a message, or the port gone or moved. */
struct machio_rcv_wait {
	struct machio_mport *mp;
	u32 gen;
};

static bool machio_mport_rcv_ready(void *arg)
{
	struct machio_rcv_wait *r = arg;

	return !READ_ONCE(r->mp->active) || READ_ONCE(r->mp->rcv_gen) != r->gen ||
	       !list_empty_careful(&r->mp->msgs);
}

static bool machio_mpset_rcv_ready(void *arg)
{
	struct machio_mpset *set = arg;

	return !READ_ONCE(set->active) || !list_empty_careful(&set->msgs);
}

/* Wait for a message as @a says (a timeout of 0 only looks): 0 or mach_msg's error. */
static s32 machio_msg_rcv_wait(struct machio_mwait *w, bool (*ready)(void *), void *arg,
			       const struct machio_msg *a)
{
	bool timed = a->option & MACHIO_RCV_TIMEOUT;
	int ret = machio_mwait(w, ready, arg, !timed || a->timeout, timed, a->timeout);

	if (ret)
		return ret == -ETIMEDOUT ? MACHIO_RCV_TIMED_OUT : MACHIO_RCV_INTERRUPTED;
	return MACHIO_MSG_SUCCESS;
}

/*
 * Receive @kmsg, the first message of @mp, whose lock the caller holds
 * (and its set's lock, @set, for a receive from the set: dropped here
 * too), into @space; @local is the name it comes in on (0: the receive
 * right's name here).
 */
static s32 machio_msg_take(struct machio_space *space, struct machio_mport *mp,
			   struct machio_kmsg *kmsg, struct machio_mpset *set, u32 local,
			   const struct machio_msg *a)
{
	struct machio_msg_header __user *uhdr = u64_to_user_ptr(a->rcv_msg ?: a->msg);
	struct machio_entry *e;
	s32 kr;

	if (kmsg->size > a->rcv_size && (a->option & MACHIO_RCV_LARGE)) {
		/* Left queued; the caller learns the size it needs. */
		u32 size = kmsg->size;

		if (set)
			spin_unlock(&set->lock);
		spin_unlock_irq(&mp->lock);
		return put_user(size, &uhdr->msgh_size) ? MACHIO_RCV_INVALID_DATA :
							  MACHIO_RCV_TOO_LARGE;
	}
	list_del(&kmsg->node);
	list_del_init(&kmsg->set_node);
	if (set)
		spin_unlock(&set->lock);
	mp->msgcount--;
	kmsg->hdr.msgh_seqno = mp->seqno++;
	spin_unlock_irq(&mp->lock);
	machio_mwait_wake(&mp->mw, false);	/* a sender may have room now */
	machio_kmsg_clear_transit(kmsg);
	if (kmsg->size > a->rcv_size) {
		machio_kmsg_destroy(kmsg);
		return MACHIO_RCV_TOO_LARGE;
	}
	if (!local) {
		spin_lock(&space->lock);
		e = machio_entry_of(space, &mp->port);
		local = e ? machio_entry_name(space, e) : MACHIO_PORT_NULL;
		spin_unlock(&space->lock);
	}
	kr = machio_kmsg_copyout(space, kmsg, local);
	if (kmsg->dreq) {
		s32 data_kr = machio_dreply_deliver(kmsg);

		kr = kr ?: data_kr;
	}
	if (copy_to_user(uhdr, &kmsg->hdr, kmsg->size))
		kr = MACHIO_RCV_INVALID_DATA;
	kmsg->received = true;	/* its destination right is used up */
	machio_kmsg_destroy(kmsg);
	return kr;
}

/* Receive from the port set @set: the oldest message of any member. */
static s32 machio_msg_receive_set(struct machio_space *space, struct machio_mpset *set,
				  const struct machio_msg *a)
{
	struct machio_kmsg *kmsg;
	struct machio_mport *mp;
	s32 kr;

	for (;;) {
		spin_lock_irq(&set->lock);
		if (!set->active) {
			spin_unlock_irq(&set->lock);
			return MACHIO_RCV_PORT_DIED;
		}
		kmsg = list_first_entry_or_null(&set->msgs, struct machio_kmsg, set_node);
		if (!kmsg) {
			spin_unlock_irq(&set->lock);
			kr = machio_msg_rcv_wait(&set->mw, machio_mpset_rcv_ready, set, a);
			if (kr)
				return kr;
			continue;
		}
		/* The member's lock comes first: take it, then look again. */
		mp = machio_kmsg_dest(kmsg);
		machio_port_get(&mp->port);
		spin_unlock_irq(&set->lock);
		spin_lock_irq(&mp->lock);
		spin_lock(&set->lock);
		kmsg = list_first_entry_or_null(&set->msgs, struct machio_kmsg, set_node);
		if (kmsg && machio_kmsg_dest(kmsg) == mp && mp->pset == set) {
			/* Its port's first message too: both lists keep the order they came in. */
			WARN_ON_ONCE(list_first_entry(&mp->msgs, struct machio_kmsg, node) != kmsg);
			kr = machio_msg_take(space, mp, kmsg, set, 0, a);
			machio_port_put(&mp->port);
			return kr;
		}
		spin_unlock(&set->lock);
		spin_unlock_irq(&mp->lock);
		machio_port_put(&mp->port);
	}
}

/* The receive half of mach_msg, from a receive right or a port set. */
static s32 machio_msg_receive(struct machio_space *space, const struct machio_msg *a)
{
	struct machio_rcv_wait rw;
	struct machio_kmsg *kmsg;
	struct machio_entry *e;
	struct machio_mport *mp;
	s32 kr;

	spin_lock(&space->lock);
	e = machio_entry_find(space, a->rcv_name);
	if (e && e->kind == MACHIO_KIND_PSET) {
		struct machio_mpset *set = container_of(e->port, struct machio_mpset, port);

		machio_port_get(&set->port);
		spin_unlock(&space->lock);
		kr = machio_msg_receive_set(space, set, a);
		machio_port_put(&set->port);
		return kr;
	}
	if (!e || e->kind != MACHIO_KIND_MPORT || !(e->rights & MACHIO_RIGHT_RECEIVE)) {
		spin_unlock(&space->lock);
		return MACHIO_RCV_INVALID_NAME;
	}
	mp = machio_to_mport(e->port);
	machio_port_get(&mp->port);
	rw.mp = mp;
	rw.gen = READ_ONCE(mp->rcv_gen);	/* moves happen under this lock */
	spin_unlock(&space->lock);

	for (;;) {
		spin_lock_irq(&mp->lock);
		if (!mp->active || mp->rcv_gen != rw.gen || mp->pset) {
			kr = !mp->active ? MACHIO_RCV_PORT_DIED :
			     mp->rcv_gen != rw.gen ? MACHIO_RCV_PORT_CHANGED : MACHIO_RCV_IN_SET;
			spin_unlock_irq(&mp->lock);
			goto out;
		}
		kmsg = list_first_entry_or_null(&mp->msgs, struct machio_kmsg, node);
		if (kmsg)
			break;	/* mp->lock held */
		spin_unlock_irq(&mp->lock);
		kr = machio_msg_rcv_wait(&mp->mw, machio_mport_rcv_ready, &rw, a);
		if (kr)
			goto out;
	}
	kr = machio_msg_take(space, mp, kmsg, NULL, a->rcv_name, a);
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
