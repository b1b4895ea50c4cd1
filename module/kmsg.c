// SPDX-License-Identifier: GPL-2.0
/*
 * Mach messages in flight: a copy of what mach_msg sent, and the rights
 * it carries in its header (the destination's and the reply's) and in
 * its port descriptors.
 *
 * Copyin is all or nothing: every right is checked against the sender's
 * space, in order and as if those before it were already taken, before
 * any is taken.  So a send that fails takes nothing (OSF's
 * ipc_kmsg_copyin destroys what it took before the bad right; machio
 * does not).  Copyout gives the receiver's space the rights, a receive or
 * send right under its port's one name there (the port-to-name hash), a
 * send-once right under a new name, and writes the names in.
 *
 * A receive right in a message is in transit: its port's @transit is the
 * port that message is queued on.  A message that would put a port's
 * receive right in its own queue, directly or through a chain of such
 * messages, is destroyed when sent, and the send succeeds (OSF's
 * ipc_port_check_circularity and MACH_MSGH_BITS_CIRCULAR): that cycle
 * would keep its ports alive for ever.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"

static_assert(sizeof(struct machio_msg_header) == 24);
static_assert(sizeof(struct machio_msg_port_descriptor) == 12);
static_assert(sizeof(struct machio_msg_ool_descriptor) == 16);

#define MACHIO_BODY_START	(sizeof(struct machio_msg_header) + sizeof(struct machio_msg_body))
#define MACHIO_PORT_DESC_SIZE	sizeof(struct machio_msg_port_descriptor)

/* Protects every port's @transit. */
static DEFINE_SPINLOCK(machio_transit_lock);

static bool machio_msgt_is_send(u32 msgt)
{
	return msgt >= MACHIO_MSG_TYPE_MOVE_SEND && msgt <= MACHIO_MSG_TYPE_MAKE_SEND_ONCE;
}

static bool machio_msgt_is_port(u32 msgt)
{
	return msgt >= MACHIO_MSG_TYPE_MOVE_RECEIVE && msgt <= MACHIO_MSG_TYPE_MAKE_SEND_ONCE;
}

/* What a right sent with @msgt is when received (mach/message.h's MACH_MSG_TYPE_PORT_*). */
u8 machio_msgt_received(u32 msgt)
{
	switch (msgt) {
	case MACHIO_MSG_TYPE_MOVE_RECEIVE:
		return MACHIO_MSG_TYPE_MOVE_RECEIVE;
	case MACHIO_MSG_TYPE_MOVE_SEND_ONCE:
	case MACHIO_MSG_TYPE_MAKE_SEND_ONCE:
		return MACHIO_MSG_TYPE_MOVE_SEND_ONCE;
	default:
		return MACHIO_MSG_TYPE_MOVE_SEND;
	}
}

static bool machio_name_valid(u32 name)
{
	return name != MACHIO_PORT_NULL && name != MACHIO_PORT_DEAD;
}

/* Lay out a message of @size bytes with @nr_desc body rights in @kmsg's buffer. */
static struct machio_kmsg *machio_kmsg_init(struct machio_kmsg *kmsg, u32 size, u32 nr_desc)
{
	size_t rights = ALIGN(offsetof(struct machio_kmsg, hdr) + size, 8);
	u32 nr = 2 + nr_desc;

	memset(kmsg, 0, offsetof(struct machio_kmsg, hdr));
	INIT_LIST_HEAD(&kmsg->set_node);
	kmsg->size = size;
	kmsg->nr_rights = nr;
	kmsg->rights = (void *)kmsg + rights;
	memset(kmsg->rights, 0, nr * sizeof(struct machio_kright));
	return kmsg;
}

/* A message of @size bytes with room for @nr_desc body rights, its header rights none yet. */
struct machio_kmsg *machio_kmsg_alloc(u32 size, u32 nr_desc, gfp_t gfp)
{
	struct machio_kmsg *kmsg = kvmalloc(machio_kmsg_bytes(size, nr_desc), gfp);

	return kmsg ? machio_kmsg_init(kmsg, size, nr_desc) : NULL;
}

/*
 * A message from realtime @mp's pool: one of its buffers, which the
 * caller's reserved place in the queue guarantees (or, for a kernel
 * message, the caller counts it in the queue).  Under @mp's lock.
 */
struct machio_kmsg *machio_kmsg_from_pool(struct machio_mport *mp, u32 size, u32 nr_desc)
{
	struct machio_kmsg *kmsg = machio_rtpool_get(mp);

	if (!kmsg)
		return NULL;
	machio_kmsg_init(kmsg, size, nr_desc);
	machio_port_get(&mp->port);
	kmsg->pool = mp;
	return kmsg;
}

/*
 * A kernel message for realtime @mp from its pool, its place in the
 * queue taken at once (the pool's invariant holds), if @mp is alive and
 * has a free buffer and, with @limit, room in its queue; else NULL.
 * Under @mp's lock.
 */
struct machio_kmsg *machio_kmsg_from_pool_counted(struct machio_mport *mp, u32 size, bool limit)
{
	struct machio_kmsg *kmsg;

	if (!mp->active || !mp->rt_nfree || (limit && mp->msgcount >= mp->qlimit))
		return NULL;
	kmsg = machio_kmsg_from_pool(mp, size, 0);
	mp->msgcount++;
	kmsg->counted = true;
	return kmsg;
}

/*
 * Count a user's message in its sender's bound (max_msg_bytes) until it
 * is received or destroyed: false, and nothing counted, past it.  A
 * realtime port's buffers are bounded already, and not counted.
 */
bool machio_kmsg_charge(struct machio_space *space, struct machio_kmsg *kmsg)
{
	size_t bytes = machio_kmsg_bytes(kmsg->size, kmsg->nr_rights - 2);

	if (kmsg->pool)
		return true;
	if (atomic_long_add_return(bytes, &space->msg_bytes) > READ_ONCE(machio_max_msg_bytes)) {
		atomic_long_sub(bytes, &space->msg_bytes);
		return false;
	}
	kref_get(&space->ref);
	kmsg->sender = space;
	kmsg->charged = bytes;
	return true;
}

/* Its buffer goes: back to its pool, or freed.  Process context for a user's message. */
void machio_kmsg_free(struct machio_kmsg *kmsg)
{
	struct machio_mport *pool = kmsg->pool;

	if (kmsg->sender) {
		atomic_long_sub(kmsg->charged, &kmsg->sender->msg_bytes);
		machio_space_put(kmsg->sender);
	}

	if (!pool) {
		kvfree(kmsg);
		return;
	}
	machio_rtpool_put(pool, kmsg);
	machio_port_put(&pool->port);
}

/*
 * The first look at the message of @size bytes at @umsg: its header
 * into @hdr, the descriptors it counts into @n (0 with an error of the
 * body's form in @body_kr, which OSF reports after the header's rights).
 * 0, or mach_msg's error.
 */
s32 machio_kmsg_peek(const void __user *umsg, u32 size, struct machio_msg_header *hdr,
		     u32 *n, s32 *body_kr)
{
	struct machio_msg_body body;

	*n = 0;
	*body_kr = MACHIO_MSG_SUCCESS;
	if (size < sizeof(*hdr) || (size & 3))
		return MACHIO_SEND_MSG_TOO_SMALL;
	if (size > MACHIO_MSG_SIZE_MAX)
		return MACHIO_SEND_TOO_LARGE;
	if (copy_from_user(hdr, umsg, sizeof(*hdr)))
		return MACHIO_SEND_INVALID_DATA;
	if (!(hdr->msgh_bits & MACHIO_MSGH_BITS_COMPLEX))
		return MACHIO_MSG_SUCCESS;
	if (size < MACHIO_BODY_START) {
		*body_kr = MACHIO_SEND_MSG_TOO_SMALL;
		return MACHIO_MSG_SUCCESS;
	}
	if (copy_from_user(&body, umsg + sizeof(*hdr), sizeof(body)))
		return MACHIO_SEND_INVALID_DATA;
	if (body.msgh_descriptor_count > (size - MACHIO_BODY_START) / MACHIO_PORT_DESC_SIZE)
		*body_kr = MACHIO_SEND_MSG_TOO_SMALL;
	else
		*n = body.msgh_descriptor_count;
	return MACHIO_MSG_SUCCESS;
}

/*
 * Copy in the message of @size bytes at @umsg, whose first look
 * (machio_kmsg_peek) gave @first, @n descriptors and @body_kr, and check
 * its form: the header's bits, and a complex message's descriptors (port
 * descriptors only; memory travels inline).  What the first look saw is
 * what counts.  The rights are only named here; the body's form error
 * waits in @body_kr, because OSF reports the header's rights first.
 * With @rt, the realtime destination whose queue place the caller
 * reserved (the message fits its buffers), the message takes one of its
 * pool's buffers and nothing is allocated.  NULL, with *@kr mach_msg's
 * error, if it is no message.
 */
struct machio_kmsg *machio_kmsg_copyin(const void __user *umsg, u32 size,
				       const struct machio_msg_header *first, u32 n, s32 body_kr,
				       struct machio_mport *rt, s32 *kr)
{
	struct machio_msg_header hdr = *first;
	struct machio_kmsg *kmsg;
	u32 rdisp, ldisp, i;

	if (rt) {
		/* The caller checked it fits, and reserved its place. */
		spin_lock_irq(&rt->lock);
		kmsg = machio_kmsg_from_pool(rt, size, n);
		spin_unlock_irq(&rt->lock);
	} else {
		kmsg = machio_kmsg_alloc(size, n, MACHIO_GFP);
	}
	if (!kmsg) {
		*kr = MACHIO_SEND_NO_BUFFER;
		return NULL;
	}
	if (copy_from_user(&kmsg->hdr, umsg, size)) {
		machio_kmsg_free(kmsg);
		goto fault;
	}
	/* What was checked is what counts, whatever the sender's memory says now. */
	kmsg->hdr.msgh_bits = hdr.msgh_bits;
	if (n)
		((struct machio_msg_body *)(&kmsg->hdr + 1))->msgh_descriptor_count = n;

	rdisp = hdr.msgh_bits & MACHIO_MSGH_BITS_REMOTE_MASK;
	ldisp = (hdr.msgh_bits & MACHIO_MSGH_BITS_LOCAL_MASK) >> 8;
	if ((hdr.msgh_bits & ~(MACHIO_MSGH_BITS_REMOTE_MASK | MACHIO_MSGH_BITS_LOCAL_MASK |
			       MACHIO_MSGH_BITS_COMPLEX)) ||
	    !machio_msgt_is_send(rdisp) ||
	    (hdr.msgh_local_port != MACHIO_PORT_NULL && !machio_msgt_is_send(ldisp))) {
		machio_kmsg_free(kmsg);
		*kr = MACHIO_SEND_INVALID_HEADER;
		return NULL;
	}
	kmsg->rights[0].name = hdr.msgh_remote_port;
	kmsg->rights[0].msgt = rdisp;
	kmsg->rights[1].name = hdr.msgh_local_port;
	kmsg->rights[1].msgt = ldisp;
	for (i = 0; i < n; i++) {
		u32 off = MACHIO_BODY_START + i * MACHIO_PORT_DESC_SIZE;
		struct machio_msg_port_descriptor *d = (void *)&kmsg->hdr + off;
		struct machio_kright *k = &kmsg->rights[2 + i];

		if (d->type != MACHIO_MSG_PORT_DESCRIPTOR || !machio_msgt_is_port(d->disposition)) {
			body_kr = MACHIO_SEND_INVALID_TYPE;
			break;
		}
		k->name = d->name;
		k->msgt = d->disposition;
		k->off = off;
	}
	kmsg->body_kr = body_kr;
	return kmsg;
fault:
	*kr = MACHIO_SEND_INVALID_DATA;
	return NULL;
}

/*
 * Can @k's right be taken from @space after those before it?  Its entry
 * notes what they take (@taken, @taken_urefs).  Under the lock.
 */
static bool machio_kright_check(struct machio_space *space, struct machio_kright *k)
{
	struct machio_entry *e;

	if (machio_right_source(space, k->name, k->msgt, &e))
		return false;
	switch (k->msgt) {
	case MACHIO_MSG_TYPE_MOVE_RECEIVE:
		if (e->taken & MACHIO_RIGHT_RECEIVE)
			return false;
		e->taken |= MACHIO_RIGHT_RECEIVE;
		return true;
	case MACHIO_MSG_TYPE_MAKE_SEND:
	case MACHIO_MSG_TYPE_MAKE_SEND_ONCE:
		return !(e->taken & MACHIO_RIGHT_RECEIVE);
	case MACHIO_MSG_TYPE_MOVE_SEND_ONCE:
		if (e->taken & MACHIO_RIGHT_SEND_ONCE)
			return false;
		e->taken |= MACHIO_RIGHT_SEND_ONCE;
		return true;
	case MACHIO_MSG_TYPE_COPY_SEND:
		return e->taken_urefs < e->urefs;
	default:	/* MOVE_SEND */
		if (e->taken_urefs >= e->urefs)
			return false;
		e->taken_urefs++;
		return true;
	}
}

/*
 * Does copyin take a right at @i?  The destination must name one; a null
 * reply name asks for none; a body's null or dead name carries itself.
 */
static bool machio_kright_named(struct machio_kmsg *kmsg, u32 i)
{
	u32 name = kmsg->rights[i].name;

	return i == 0 || (i == 1 ? name != MACHIO_PORT_NULL : machio_name_valid(name));
}

/*
 * Check every right @kmsg names against @space: 0 and *@dest the
 * destination's port (not counted), or mach_msg's error for the first
 * that cannot be taken (MACHIO_SEND_INVALID_DEST, _REPLY, _RIGHT; the
 * body's form error before the body's rights).  Under the space's lock;
 * changes nothing.
 */
s32 machio_kmsg_check_rights(struct machio_space *space, struct machio_kmsg *kmsg,
			     struct machio_mport **dest)
{
	s32 kr = MACHIO_MSG_SUCCESS;
	u32 i, end;

	for (end = 0; end < kmsg->nr_rights; end++) {
		if (end == 2 && kmsg->body_kr) {
			kr = kmsg->body_kr;
			break;
		}
		if (!machio_kright_named(kmsg, end))
			continue;
		if (!machio_kright_check(space, &kmsg->rights[end])) {
			kr = end == 0 ? MACHIO_SEND_INVALID_DEST :
			     end == 1 ? MACHIO_SEND_INVALID_REPLY : MACHIO_SEND_INVALID_RIGHT;
			break;
		}
	}
	if (!kr && kmsg->nr_rights == 2 && kmsg->body_kr)
		kr = kmsg->body_kr;
	for (i = 0; i < end; i++) {
		struct machio_entry *e;

		if (!machio_kright_named(kmsg, i))
			continue;
		e = machio_entry_find(space, kmsg->rights[i].name);
		e->taken = 0;
		e->taken_urefs = 0;
	}
	if (!kr)
		*dest = machio_to_mport(machio_entry_find(space, kmsg->rights[0].name)->port);
	return kr;
}

/*
 * Take the right @msgt names from @e for the message: what it carries
 * (MACHIO_RIGHT_*) and a reference to its port, counted there.  A moved
 * right leaves the entry.  Under the space's lock.
 */
u8 machio_kright_take(struct machio_space *space, struct machio_entry *e, u32 msgt)
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
	case MACHIO_MSG_TYPE_MOVE_RECEIVE:
		/*
		 * A receiver waiting on it here learns it moved
		 * (MACH_RCV_PORT_CHANGED), and it leaves its set, which
		 * stays here (OSF's ipc_port_clear_receiver).
		 */
		machio_mport_leave_set(mp);
		machio_mport_receive_moved(mp);
		e->rights &= ~MACHIO_RIGHT_RECEIVE;
		if (!e->rights) {
			machio_entry_free(space, e);
			machio_port_put(&mp->port);
		}
		return MACHIO_RIGHT_RECEIVE;
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

/* Take the rights machio_kmsg_check_rights() passed, the space's lock still held. */
void machio_kmsg_take_rights(struct machio_space *space, struct machio_kmsg *kmsg)
{
	u32 i;

	for (i = 0; i < kmsg->nr_rights; i++) {
		struct machio_kright *k = &kmsg->rights[i];
		struct machio_entry *e;

		if (!machio_kright_named(kmsg, i))
			continue;
		e = machio_entry_find(space, k->name);
		k->mp = machio_to_mport(e->port);
		k->right = machio_kright_take(space, e, k->msgt);
		if (k->right == MACHIO_RIGHT_RECEIVE)
			kmsg->receives = true;
	}
}

/*
 * @kmsg is about to go on its destination's queue: false if a receive
 * right it carries is the destination's, or that of a port on whose
 * queue the destination's receive right waits, however far down a chain
 * of such messages (then destroy it).  Otherwise its receive rights are
 * in transit to the destination from now on.
 */
bool machio_kmsg_mark_transit(struct machio_kmsg *kmsg)
{
	struct machio_mport *dest = machio_kmsg_dest(kmsg), *base;
	bool circular = false;
	u32 i;

	if (!kmsg->receives)
		return true;
	spin_lock(&machio_transit_lock);
	for (i = 2; i < kmsg->nr_rights && !circular; i++) {
		if (kmsg->rights[i].right != MACHIO_RIGHT_RECEIVE)
			continue;
		for (base = dest; base && !circular; base = base->transit)
			circular = base == kmsg->rights[i].mp;
	}
	for (i = 2; i < kmsg->nr_rights && !circular; i++) {
		if (kmsg->rights[i].right == MACHIO_RIGHT_RECEIVE)
			kmsg->rights[i].mp->transit = dest;
	}
	spin_unlock(&machio_transit_lock);
	return !circular;
}

/* @kmsg left its queue: the receive rights it carries are no longer in transit. */
void machio_kmsg_clear_transit(struct machio_kmsg *kmsg)
{
	u32 i;

	if (!kmsg->receives)
		return;
	spin_lock(&machio_transit_lock);
	for (i = 2; i < kmsg->nr_rights; i++) {
		if (kmsg->rights[i].mp && kmsg->rights[i].right == MACHIO_RIGHT_RECEIVE)
			kmsg->rights[i].mp->transit = NULL;
	}
	spin_unlock(&machio_transit_lock);
}

/*
 * Give @space the rights @kmsg carries and write their names into it:
 * the reply right's in msgh_remote_port, the body's in their
 * descriptors; @local is the name it was received on.
 * MACHIO_MSG_SUCCESS, or MACHIO_RCV_HEADER_ERROR / _BODY_ERROR with
 * MACHIO_MSG_IPC_SPACE if the space had no room for a name (that right
 * is destroyed, its name MACHIO_PORT_NULL; the message is received all
 * the same).  Process context.
 */
s32 machio_kmsg_copyout(struct machio_space *space, struct machio_kmsg *kmsg, u32 local)
{
	struct machio_kright *reply = &kmsg->rights[1];
	bool full = false;
	s32 kr = MACHIO_MSG_SUCCESS;
	u32 i, remote = MACHIO_PORT_NULL;

	if (reply->mp) {
		remote = machio_right_copyout(space, &reply->mp, reply->right, &full);
		if (full)
			kr = MACHIO_RCV_HEADER_ERROR | MACHIO_MSG_IPC_SPACE;
	}
	kmsg->hdr.msgh_bits = MACHIO_MSGH_BITS(reply->right ? machio_msgt_received(reply->msgt) : 0,
					       machio_msgt_received(kmsg->rights[0].msgt)) |
			      (kmsg->hdr.msgh_bits & MACHIO_MSGH_BITS_COMPLEX);
	kmsg->hdr.msgh_remote_port = remote;
	kmsg->hdr.msgh_local_port = local;
	kmsg->hdr.msgh_size = kmsg->size;
	for (i = 2; i < kmsg->nr_rights; i++) {
		struct machio_kright *k = &kmsg->rights[i];
		struct machio_msg_port_descriptor *d = (void *)&kmsg->hdr + k->off;

		full = false;
		d->name = k->mp ? machio_right_copyout(space, &k->mp, k->right, &full) : k->name;
		if (full && !kr)
			kr = MACHIO_RCV_BODY_ERROR | MACHIO_MSG_IPC_SPACE;
		d->disposition = machio_msgt_received(k->msgt);
		d->pad1 = 0;
		d->pad2 = 0;
	}
	return kr;
}

/* What @kmsg still holds goes; the ports whose receive rights it held join @doomed. */
void machio_kmsg_release(struct machio_kmsg *kmsg, struct list_head *doomed)
{
	u32 i;

	machio_kmsg_clear_transit(kmsg);
	for (i = 0; i < kmsg->nr_rights; i++) {
		struct machio_mport *mp = kmsg->rights[i].mp;

		if (!mp)
			continue;
		switch (kmsg->rights[i].right) {
		case MACHIO_RIGHT_RECEIVE:
			list_add_tail(&mp->doomed, doomed);	/* with the message's reference */
			continue;
		case MACHIO_RIGHT_SEND:
			machio_mport_drop_send(mp);
			break;
		default:
			if (i > 0 || !kmsg->received) {
				/* Destroyed unused: a send-once notification. */
				machio_mport_destroy_send_once(mp);
				continue;
			}
			machio_mport_drop_send_once(mp);
			break;
		}
		machio_port_put(&mp->port);
	}
	if (kmsg->dreq)
		machio_req_release(kmsg->dreq);	/* and an undelivered read's memory */
	machio_kmsg_free(kmsg);
}

/* Destroy @kmsg and the rights it carries.  Process context. */
void machio_kmsg_destroy(struct machio_kmsg *kmsg)
{
	LIST_HEAD(doomed);

	machio_kmsg_release(kmsg, &doomed);
	machio_mport_destroy_list(&doomed);
}
