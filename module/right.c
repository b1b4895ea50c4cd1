// SPDX-License-Identifier: GPL-2.0
/*
 * Mach port rights in a space's name table, with OSF's rules
 * (ipc/mach_port.c, ipc/ipc_right.c):
 *
 *  - an MPORT entry holds a receive right, a send right, or both (one name
 *    per port per space), or a send-once right (a name of its own);
 *  - send rights and dead names count user references (at most 65534 and
 *    65535), the other rights exactly one;
 *  - a send or send-once right whose port died is a dead name: converted
 *    when next looked at (OSF's ipc_right_check), its user references
 *    kept (a send-once right's: one);
 *  - the names of kernel objects (host, task, queues, devices, buffers)
 *    are send rights to them as mach_port_type sees them; their lives are
 *    their own calls' (terminate, deallocate), so the calls here that
 *    would count or destroy them answer KERN_INVALID_RIGHT.
 *
 * Every call returns its kern_return_t.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"

#define MACHIO_SEND_UREFS_MAX	(MACHIO_PORT_UREFS_MAX - 1)

/* The right an entry holds turns into a dead name if its port died.  Under the lock. */
static void machio_right_check(struct machio_space *space, struct machio_entry *e)
{
	struct machio_mport *mp;

	if (e->kind != MACHIO_KIND_MPORT || (e->rights & MACHIO_RIGHT_RECEIVE))
		return;
	mp = machio_to_mport(e->port);
	if (machio_mport_active(mp))
		return;
	if (e->rights & MACHIO_RIGHT_SEND) {
		machio_mport_drop_send(mp);
	} else {
		machio_mport_drop_send_once(mp);
		e->urefs = 1;
	}
	machio_entry_unhash(space, e);
	if (e->dnrequest && e->urefs < MACHIO_PORT_UREFS_MAX)
		e->urefs++;	/* the dead-name notification's reference (OSF) */
	e->dnrequest = false;
	e->kind = MACHIO_KIND_DEAD;
	e->rights = 0;
	e->port = NULL;
	machio_port_put(&mp->port);	/* not the last: the port's free is a kfree */
}

/* The entry of @name, checked.  Under the lock. */
struct machio_entry *machio_right_find(struct machio_space *space, u32 name)
{
	struct machio_entry *e = machio_entry_find(space, name);

	if (e)
		machio_right_check(space, e);
	return e;
}

/* mach_port_type's bits for @e.  Under the lock, checked. */
static u32 machio_entry_type(const struct machio_entry *e)
{
	u32 type = 0;

	switch (e->kind) {
	case MACHIO_KIND_MPORT:
		if (e->rights & MACHIO_RIGHT_SEND)
			type |= MACHIO_PORT_TYPE_SEND;
		if (e->rights & MACHIO_RIGHT_RECEIVE)
			type |= MACHIO_PORT_TYPE_RECEIVE;
		if (e->rights & MACHIO_RIGHT_SEND_ONCE)
			type |= MACHIO_PORT_TYPE_SEND_ONCE;
		return type;
	case MACHIO_KIND_PSET:
		return MACHIO_PORT_TYPE_PORT_SET;
	case MACHIO_KIND_DEAD:
		return MACHIO_PORT_TYPE_DEAD_NAME;
	default:
		return MACHIO_PORT_TYPE_SEND;	/* to a kernel object */
	}
}

/*
 * The table's reference to @port goes, with the rights the entry held:
 * a receive right destroys its port, a set goes, send counts drop.
 */
void machio_right_release(struct machio_port *port, u8 kind, u8 rights)
{
	if (kind == MACHIO_KIND_MPORT) {
		struct machio_mport *mp = machio_to_mport(port);

		if (rights & MACHIO_RIGHT_RECEIVE)
			machio_mport_destroy(mp);
		if (rights & MACHIO_RIGHT_SEND)
			machio_mport_drop_send(mp);
		if (rights & MACHIO_RIGHT_SEND_ONCE) {
			machio_mport_destroy_send_once(mp);	/* with the reference */
			return;
		}
	} else if (kind == MACHIO_KIND_PSET) {
		machio_mpset_destroy(container_of(port, struct machio_mpset, port));
	}
	machio_port_put(port);
}

/* A kern_return_t for machio_entry_alloc()'s errno. */
static s32 machio_alloc_kr(int err)
{
	switch (err) {
	case -EEXIST:
		return MACHIO_KERN_NAME_EXISTS;
	case -ENOSPC:
		return MACHIO_KERN_NO_SPACE;
	case -EINVAL:
		return MACHIO_KERN_INVALID_VALUE;
	default:
		return MACHIO_KERN_RESOURCE_SHORTAGE;
	}
}

/*
 * mach_port_allocate_full, in OSF's order: KERN_INVALID_VALUE for a
 * chosen name that is not valid, a subsystem with a right other than
 * receive, a realtime right other than receive, or a bad right;
 * KERN_INVALID_ARGUMENT for any subsystem (machio has no RPC
 * subsystems); then KERN_NAME_EXISTS, KERN_NO_SPACE,
 * KERN_RESOURCE_SHORTAGE.  Unlike OSF (a bug there), a chosen name for a
 * dead name is honoured.
 */
s32 machio_right_allocate(struct machio_space *space, struct machio_port_allocate *a)
{
	bool named = a->qos & MACHIO_QOS_NAME, rt = a->qos & MACHIO_QOS_RT;
	struct machio_port *port = NULL;
	struct machio_entry *e;
	u8 kind, rights = 0;
	u32 name;
	int ret;

	if (named && (a->name == MACHIO_PORT_NULL || a->name == MACHIO_PORT_DEAD))
		return MACHIO_KERN_INVALID_VALUE;
	if (a->subsystem)
		return a->right == MACHIO_PORT_RIGHT_RECEIVE ? MACHIO_KERN_INVALID_ARGUMENT :
							       MACHIO_KERN_INVALID_VALUE;
	if (rt && a->right != MACHIO_PORT_RIGHT_RECEIVE)
		return MACHIO_KERN_INVALID_VALUE;
	switch (a->right) {
	case MACHIO_PORT_RIGHT_RECEIVE: {
		struct machio_mport *mp = machio_mport_create(rt);

		if (!mp)
			return MACHIO_KERN_RESOURCE_SHORTAGE;
		port = &mp->port;
		kind = MACHIO_KIND_MPORT;
		rights = MACHIO_RIGHT_RECEIVE;
		break;
	}
	case MACHIO_PORT_RIGHT_PORT_SET: {
		struct machio_mpset *set = machio_mpset_create();

		if (!set)
			return MACHIO_KERN_RESOURCE_SHORTAGE;
		port = &set->port;
		kind = MACHIO_KIND_PSET;
		break;
	}
	case MACHIO_PORT_RIGHT_DEAD_NAME:
		kind = MACHIO_KIND_DEAD;
		break;
	default:
		return MACHIO_KERN_INVALID_VALUE;
	}
	ret = machio_entry_alloc(space, named ? a->name : 0, &e, &name);
	if (ret) {
		if (port)
			machio_right_release(port, kind, rights);
		return machio_alloc_kr(ret);
	}
	e->kind = kind;
	e->port = port;
	e->rights = rights;
	e->urefs = kind == MACHIO_KIND_DEAD ? 1 : 0;
	if (port)
		machio_entry_hash(space, e);	/* a receive right or a set */
	spin_unlock(&space->lock);
	a->name = name;
	return MACHIO_KERN_SUCCESS;
}

/*
 * mach_port_deallocate of an MPORT, PSET or DEAD entry: one user
 * reference of a send right, a send-once right, or a dead name goes,
 * and the name with the last.  -EBUSY (KERN_INVALID_RIGHT) for a receive
 * right alone or a port set.  Under the lock; *@put is what to drop
 * after it, or NULL.
 */
int machio_right_dealloc_locked(struct machio_space *space, struct machio_entry *e,
				struct machio_port **put)
{
	*put = NULL;
	machio_right_check(space, e);
	switch (e->kind) {
	case MACHIO_KIND_DEAD:
		if (!--e->urefs)
			machio_entry_free(space, e);
		return 0;
	case MACHIO_KIND_MPORT:
		break;
	default:
		return -EBUSY;
	}
	if (e->rights & MACHIO_RIGHT_SEND_ONCE) {
		struct machio_mport *mp = machio_to_mport(e->port);

		machio_entry_free(space, e);
		machio_mport_destroy_send_once(mp);	/* with the entry's reference */
		return 0;
	}
	if (!(e->rights & MACHIO_RIGHT_SEND))
		return -EBUSY;
	if (--e->urefs)
		return 0;
	machio_mport_drop_send(machio_to_mport(e->port));
	e->rights &= ~MACHIO_RIGHT_SEND;
	if (!e->rights) {
		*put = e->port;
		machio_entry_free(space, e);
	}
	return 0;
}

/* mach_port_destroy: every right the name holds, and the name.  Kernel objects' names: KERN_INVALID_RIGHT. */
s32 machio_right_destroy(struct machio_space *space, u32 name)
{
	struct machio_port *port;
	struct machio_entry *e;
	u8 kind, rights;

	spin_lock(&space->lock);
	e = machio_right_find(space, name);
	if (!e) {
		spin_unlock(&space->lock);
		return MACHIO_KERN_INVALID_NAME;
	}
	if (e->kind != MACHIO_KIND_MPORT && e->kind != MACHIO_KIND_PSET &&
	    e->kind != MACHIO_KIND_DEAD) {
		spin_unlock(&space->lock);
		return MACHIO_KERN_INVALID_RIGHT;
	}
	port = e->port;
	kind = e->kind;
	rights = e->rights;
	machio_entry_free(space, e);
	spin_unlock(&space->lock);
	if (port)
		machio_right_release(port, kind, rights);
	return MACHIO_KERN_SUCCESS;
}

/* A new user-reference count: KERN_INVALID_VALUE below 0, KERN_UREFS_OVERFLOW above @max. */
static s32 machio_urefs_delta(u32 urefs, s32 delta, u32 max, u32 *out)
{
	s64 n = (s64)urefs + delta;

	if (n < 0)
		return MACHIO_KERN_INVALID_VALUE;
	if (n > max)
		return MACHIO_KERN_UREFS_OVERFLOW;
	*out = n;
	return MACHIO_KERN_SUCCESS;
}

/*
 * mach_port_mod_refs for @e, checked, of the right @right.  Under the
 * lock; *@put is a reference to drop after it, *@destroy a port whose
 * receive right went (destroyed after the lock too).
 */
static s32 machio_right_delta(struct machio_space *space, struct machio_entry *e, u32 right,
			      s32 delta, struct machio_port **put, u8 *put_kind, u8 *put_rights)
{
	bool mport = e->kind == MACHIO_KIND_MPORT;
	u32 n;
	s32 kr;

	switch (right) {
	case MACHIO_PORT_RIGHT_RECEIVE:
	case MACHIO_PORT_RIGHT_SEND_ONCE:
	case MACHIO_PORT_RIGHT_PORT_SET: {
		/* One reference each: only 0 or -1. */
		bool has = right == MACHIO_PORT_RIGHT_PORT_SET ? e->kind == MACHIO_KIND_PSET :
			   mport && (e->rights & (right == MACHIO_PORT_RIGHT_RECEIVE ?
						  MACHIO_RIGHT_RECEIVE : MACHIO_RIGHT_SEND_ONCE));

		if (!has)
			return MACHIO_KERN_INVALID_RIGHT;
		if (delta == 0)
			return MACHIO_KERN_SUCCESS;
		if (delta != -1)
			return MACHIO_KERN_INVALID_VALUE;
		*put = e->port;
		*put_kind = e->kind;
		if (right != MACHIO_PORT_RIGHT_RECEIVE || !(e->rights & MACHIO_RIGHT_SEND)) {
			*put_rights = e->rights;
			machio_entry_free(space, e);
			return MACHIO_KERN_SUCCESS;
		}
		/* The receive right goes, and with its port the send right: a dead name. */
		*put_rights = e->rights;
		machio_entry_unhash(space, e);
		if (e->dnrequest && e->urefs < MACHIO_PORT_UREFS_MAX)
			e->urefs++;	/* its request fires as the port is destroyed */
		e->dnrequest = false;
		e->kind = MACHIO_KIND_DEAD;
		e->rights = 0;
		e->port = NULL;
		return MACHIO_KERN_SUCCESS;
	}
	case MACHIO_PORT_RIGHT_DEAD_NAME:
		if (e->kind != MACHIO_KIND_DEAD)
			return MACHIO_KERN_INVALID_RIGHT;
		kr = machio_urefs_delta(e->urefs, delta, MACHIO_PORT_UREFS_MAX, &n);
		if (kr)
			return kr;
		if (!n)
			machio_entry_free(space, e);
		else
			e->urefs = n;
		return MACHIO_KERN_SUCCESS;
	default:	/* MACHIO_PORT_RIGHT_SEND */
		if (!mport || !(e->rights & MACHIO_RIGHT_SEND))
			return MACHIO_KERN_INVALID_RIGHT;
		kr = machio_urefs_delta(e->urefs, delta, MACHIO_SEND_UREFS_MAX, &n);
		if (kr)
			return kr;
		if (n) {
			e->urefs = n;
			return MACHIO_KERN_SUCCESS;
		}
		machio_mport_drop_send(machio_to_mport(e->port));
		e->urefs = 0;
		e->rights &= ~MACHIO_RIGHT_SEND;
		if (!e->rights) {
			*put = e->port;
			*put_kind = MACHIO_KIND_MPORT;
			*put_rights = 0;
			machio_entry_free(space, e);
		}
		return MACHIO_KERN_SUCCESS;
	}
}

/*
 * mach_port_mod_refs: KERN_INVALID_VALUE for a bad right (checked first),
 * KERN_INVALID_NAME, then the right's own rules: KERN_INVALID_RIGHT when
 * the name has no such right (a send right whose port died has become a
 * dead name: OSF's answer too), KERN_INVALID_VALUE below zero or a delta
 * other than 0 and -1 for receive, send-once and port-set rights,
 * KERN_UREFS_OVERFLOW.
 */
s32 machio_right_mod_refs(struct machio_space *space, u32 name, u32 right, s32 delta)
{
	struct machio_port *put = NULL;
	struct machio_entry *e;
	u8 kind = 0, rights = 0;
	s32 kr;

	if (right >= MACHIO_PORT_RIGHT_NUMBER)
		return MACHIO_KERN_INVALID_VALUE;
	spin_lock(&space->lock);
	e = machio_right_find(space, name);
	kr = e ? machio_right_delta(space, e, right, delta, &put, &kind, &rights) :
		 MACHIO_KERN_INVALID_NAME;
	spin_unlock(&space->lock);
	if (put)
		machio_right_release(put, kind, rights);
	return kr;
}

/*
 * mach_port_get_refs: KERN_INVALID_VALUE for a bad right, then
 * KERN_INVALID_NAME; the user references of a send right or dead name,
 * 1 for the other rights, 0 for a right the name does not hold.
 */
s32 machio_right_get_refs(struct machio_space *space, u32 name, u32 right, u32 *refs)
{
	struct machio_entry *e;
	s32 kr = MACHIO_KERN_SUCCESS;

	if (right >= MACHIO_PORT_RIGHT_NUMBER)
		return MACHIO_KERN_INVALID_VALUE;
	spin_lock(&space->lock);
	e = machio_right_find(space, name);
	if (!e)
		kr = MACHIO_KERN_INVALID_NAME;
	else if (!(machio_entry_type(e) & MACHIO_PORT_TYPE(right)))
		*refs = 0;
	else if (e->kind == MACHIO_KIND_DEAD ||
		 (e->kind == MACHIO_KIND_MPORT && right == MACHIO_PORT_RIGHT_SEND))
		*refs = e->urefs;
	else
		*refs = 1;
	spin_unlock(&space->lock);
	return kr;
}

/* mach_port_type: its MACH_PORT_TYPE_* bits, or KERN_INVALID_NAME. */
s32 machio_right_type(struct machio_space *space, u32 name, u32 *type)
{
	struct machio_entry *e;
	s32 kr = MACHIO_KERN_SUCCESS;

	spin_lock(&space->lock);
	e = machio_right_find(space, name);
	if (e)
		*type = machio_entry_type(e);
	else
		kr = MACHIO_KERN_INVALID_NAME;
	spin_unlock(&space->lock);
	return kr;
}

/*
 * What @msgt_name needs of @poly's entry: KERN_INVALID_NAME without one,
 * KERN_INVALID_CAPABILITY for a dead name (a send right whose port died
 * is one by now), KERN_INVALID_RIGHT for one without the right.  Under
 * the lock; insert_right and mach_msg's copyin share it.
 */
s32 machio_right_source(struct machio_space *space, u32 poly, u32 msgt_name,
			struct machio_entry **src)
{
	struct machio_entry *e = machio_right_find(space, poly);
	u8 need;

	if (!e)
		return MACHIO_KERN_INVALID_NAME;
	if (e->kind == MACHIO_KIND_DEAD)
		return MACHIO_KERN_INVALID_CAPABILITY;
	switch (msgt_name) {
	case MACHIO_MSG_TYPE_MAKE_SEND:
	case MACHIO_MSG_TYPE_MAKE_SEND_ONCE:
	case MACHIO_MSG_TYPE_MOVE_RECEIVE:
		need = MACHIO_RIGHT_RECEIVE;
		break;
	case MACHIO_MSG_TYPE_MOVE_SEND_ONCE:
		need = MACHIO_RIGHT_SEND_ONCE;
		break;
	default:
		need = MACHIO_RIGHT_SEND;
		break;
	}
	if (e->kind != MACHIO_KIND_MPORT || !(e->rights & need))
		return MACHIO_KERN_INVALID_RIGHT;
	*src = e;
	return MACHIO_KERN_SUCCESS;
}

/* A send right more under @e, the port's name: KERN_UREFS_OVERFLOW at the bound.  Under the lock. */
static s32 machio_right_add_send(struct machio_entry *e, bool make)
{
	bool fresh = !(e->rights & MACHIO_RIGHT_SEND);

	if (!fresh && e->urefs >= MACHIO_SEND_UREFS_MAX)
		return MACHIO_KERN_UREFS_OVERFLOW;
	e->urefs++;
	e->rights |= MACHIO_RIGHT_SEND;
	if (fresh || make)
		machio_mport_add_send(machio_to_mport(e->port), fresh, make);
	return MACHIO_KERN_SUCCESS;
}

/*
 * mach_port_insert_right within the calling space (the only task there
 * is): @poly's right, as @msgt_name makes, copies or moves it, under
 * @name.  A send or receive right keeps its port's one name, so a name
 * other than @poly is KERN_RIGHT_EXISTS; a send-once right takes a name of
 * its own, which must be free (KERN_NAME_EXISTS).  KERN_INVALID_VALUE for
 * an invalid @name or disposition; @poly's errors (machio_right_source).
 */
s32 machio_right_insert(struct machio_space *space, const struct machio_port_insert_right *a)
{
	bool send_once = a->msgt_name == MACHIO_MSG_TYPE_MAKE_SEND_ONCE ||
			 a->msgt_name == MACHIO_MSG_TYPE_MOVE_SEND_ONCE;
	struct machio_entry *src, *dst;
	u32 got;
	s32 kr;
	int ret;

	if (a->name == MACHIO_PORT_NULL || a->name == MACHIO_PORT_DEAD ||
	    a->msgt_name < MACHIO_MSG_TYPE_MOVE_RECEIVE ||
	    a->msgt_name > MACHIO_MSG_TYPE_MAKE_SEND_ONCE)
		return MACHIO_KERN_INVALID_VALUE;
	spin_lock(&space->lock);
	kr = machio_right_source(space, a->poly, a->msgt_name, &src);
	if (kr || a->name == a->poly || !send_once) {
		if (kr)
			goto out;
		if (a->name != a->poly) {
			/* The port has its name here; a receive right alone may be renamed. */
			if (a->msgt_name != MACHIO_MSG_TYPE_MOVE_RECEIVE ||
			    (src->rights & MACHIO_RIGHT_SEND)) {
				kr = MACHIO_KERN_RIGHT_EXISTS;
				goto out;
			}
		} else if (a->msgt_name == MACHIO_MSG_TYPE_MAKE_SEND ||
			   a->msgt_name == MACHIO_MSG_TYPE_COPY_SEND) {
			kr = machio_right_add_send(src, a->msgt_name == MACHIO_MSG_TYPE_MAKE_SEND);
			goto out;
		} else if (a->msgt_name == MACHIO_MSG_TYPE_MAKE_SEND_ONCE) {
			kr = MACHIO_KERN_NAME_EXISTS;	/* @poly is the receive right's */
			goto out;
		} else {
			goto out;	/* moved to where it was */
		}
	}
	spin_unlock(&space->lock);

	/* A new name: find room, then look at @poly again. */
	ret = machio_entry_alloc(space, a->name, &dst, &got);
	if (ret)
		return machio_alloc_kr(ret);
	kr = machio_right_source(space, a->poly, a->msgt_name, &src);
	if (kr || (a->msgt_name == MACHIO_MSG_TYPE_MOVE_RECEIVE && (src->rights & MACHIO_RIGHT_SEND))) {
		machio_entry_free(space, dst);
		kr = kr ?: MACHIO_KERN_RIGHT_EXISTS;
		goto out;
	}
	dst->kind = MACHIO_KIND_MPORT;
	dst->port = src->port;
	if (a->msgt_name == MACHIO_MSG_TYPE_MAKE_SEND_ONCE) {
		machio_port_get(src->port);
		machio_mport_add_send_once(machio_to_mport(src->port));
		dst->rights = MACHIO_RIGHT_SEND_ONCE;
		dst->urefs = 1;
	} else {
		/* Moved: the reference goes with the right, and the port's name with it. */
		dst->rights = src->rights;
		dst->urefs = src->urefs;
		machio_entry_free(space, src);
		machio_entry_hash(space, dst);
	}
out:
	spin_unlock(&space->lock);
	return kr;
}

/*
 * Give @space the right *@mpp is (MACHIO_RIGHT_* @right, with its
 * reference): its name there, and *@mpp NULL.  A receive or send right
 * goes under its port's one name there if it has one; a send-once right
 * under a new name.  MACHIO_PORT_DEAD if a send or send-once right's port
 * died (the caller still holds it, to release), or MACHIO_PORT_NULL if the
 * space has no room for a name (*@full; the caller still holds it).
 * mach_msg's receive and netname_look_up share it.  Process context.
 */
u32 machio_right_copyout(struct machio_space *space, struct machio_mport **mpp, u8 right,
			 bool *full)
{
	struct machio_mport *mp = *mpp;
	struct machio_entry *e = NULL, *fresh;
	u32 name;

	if (right != MACHIO_RIGHT_RECEIVE && !machio_mport_active(mp))
		return MACHIO_PORT_DEAD;
	if (right != MACHIO_RIGHT_SEND_ONCE) {
		spin_lock(&space->lock);
		e = machio_entry_of(space, &mp->port);
		if (e)
			goto merge;
		spin_unlock(&space->lock);
	}
	if (machio_entry_alloc(space, 0, &fresh, &name)) {
		*full = true;
		return MACHIO_PORT_NULL;
	}
	/* The lock was dropped on the way: the port may have a name here now. */
	if (right != MACHIO_RIGHT_SEND_ONCE) {
		e = machio_entry_of(space, &mp->port);
		if (e) {
			machio_entry_free(space, fresh);
			goto merge;
		}
	}
	fresh->kind = MACHIO_KIND_MPORT;
	fresh->port = &mp->port;	/* the message's reference */
	fresh->rights = right;
	fresh->urefs = right == MACHIO_RIGHT_RECEIVE ? 0 : 1;
	if (right != MACHIO_RIGHT_SEND_ONCE)
		machio_entry_hash(space, fresh);
	*mpp = NULL;
	spin_unlock(&space->lock);
	return name;

merge:
	/* The port's name here takes the right; its entry already has a reference. */
	if (right == MACHIO_RIGHT_RECEIVE) {
		e->rights |= MACHIO_RIGHT_RECEIVE;
	} else if (e->rights & MACHIO_RIGHT_SEND) {
		machio_mport_drop_send(mp);	/* two send rights, one name */
		if (e->urefs < MACHIO_PORT_UREFS_MAX - 1)
			e->urefs++;	/* pegged at the bound, as OSF's copyout */
	} else {
		e->rights |= MACHIO_RIGHT_SEND;
		e->urefs = 1;
	}
	machio_port_put(&mp->port);	/* not the last: the entry has one */
	*mpp = NULL;
	name = machio_entry_name(space, e);
	spin_unlock(&space->lock);
	return name;
}

/*
 * mach_port_extract_right within the calling space (the only task there
 * is), in OSF's order: KERN_INVALID_VALUE for a disposition that is not a
 * port's, KERN_INVALID_NAME, KERN_INVALID_RIGHT.  The right @msgt_name
 * takes comes back as MIG's reply would bring it: a receive or send right
 * under its port's name here (a receive right alone: a new name), a
 * send-once right under a new one.  A dead name gives MACHIO_PORT_DEAD
 * for COPY_SEND, MOVE_SEND and MOVE_SEND_ONCE (OSF's deadok; a move takes
 * one of its user references).  KERN_RESOURCE_SHORTAGE if there is no
 * room for the name (the right is then released: a receive right's port
 * is destroyed).
 */
s32 machio_right_extract(struct machio_space *space, struct machio_port_extract_right *a)
{
	u32 msgt = a->msgt_name;
	struct machio_mport *mp;
	struct machio_entry *e;
	bool full = false;
	u8 right;

	if (msgt < MACHIO_MSG_TYPE_MOVE_RECEIVE || msgt > MACHIO_MSG_TYPE_MAKE_SEND_ONCE)
		return MACHIO_KERN_INVALID_VALUE;
	spin_lock(&space->lock);
	e = machio_right_find(space, a->name);
	if (!e) {
		spin_unlock(&space->lock);
		return MACHIO_KERN_INVALID_NAME;
	}
	a->poly_type = machio_msgt_received(msgt);
	if (e->kind == MACHIO_KIND_DEAD &&
	    (msgt == MACHIO_MSG_TYPE_COPY_SEND || msgt == MACHIO_MSG_TYPE_MOVE_SEND ||
	     msgt == MACHIO_MSG_TYPE_MOVE_SEND_ONCE)) {
		if (msgt != MACHIO_MSG_TYPE_COPY_SEND && !--e->urefs)
			machio_entry_free(space, e);
		spin_unlock(&space->lock);
		a->poly = MACHIO_PORT_DEAD;
		return MACHIO_KERN_SUCCESS;
	}
	if (machio_right_source(space, a->name, msgt, &e)) {
		spin_unlock(&space->lock);
		return MACHIO_KERN_INVALID_RIGHT;
	}
	mp = machio_to_mport(e->port);
	right = machio_kright_take(space, e, msgt);
	spin_unlock(&space->lock);
	if (right == MACHIO_RIGHT_RECEIVE) {
		unsigned long flags;

		spin_lock_irqsave(&mp->lock, flags);
		mp->seqno = 0;	/* as a receive right carried in a message (OSF) */
		spin_unlock_irqrestore(&mp->lock, flags);
	}
	a->poly = machio_right_copyout(space, &mp, right, &full);
	if (!mp)
		return MACHIO_KERN_SUCCESS;
	/* Its port died meanwhile, or no room for the name: the right goes. */
	if (right == MACHIO_RIGHT_RECEIVE) {
		machio_right_release(&mp->port, MACHIO_KIND_MPORT, MACHIO_RIGHT_RECEIVE);
	} else if (right == MACHIO_RIGHT_SEND) {
		machio_mport_drop_send(mp);
		machio_port_put(&mp->port);
	} else {
		machio_mport_destroy_send_once(mp);
	}
	if (full) {
		a->poly = MACHIO_PORT_NULL;
		return MACHIO_KERN_RESOURCE_SHORTAGE;
	}
	return MACHIO_KERN_SUCCESS;	/* MACHIO_PORT_DEAD */
}

/*
 * mach_port_names: every name of the space with its type, if @a->count
 * has room for them all; @a->count is how many there are either way.
 * -EFAULT if the arrays cannot be written, -ENOMEM.
 */
/*
 * A buffer of @per words for each of the space's names, allocated outside
 * its lock and returned with the lock held, big enough for the names
 * there are then; unless they are more than @max (NULL or a smaller
 * buffer: the caller's array has no room anyway).  ERR_PTR(-ENOMEM),
 * the lock not held.
 */
static u32 *machio_names_buffer_lock(struct machio_space *space, u32 per, u32 max)
{
	u32 *buf = NULL, room = 0;

	for (;;) {
		spin_lock(&space->lock);
		if (space->nr_used <= room || space->nr_used > max)
			return buf;
		room = space->nr_used;
		spin_unlock(&space->lock);
		kvfree(buf);
		buf = kvmalloc_array(room, per * sizeof(*buf), MACHIO_GFP);
		if (!buf)
			return ERR_PTR(-ENOMEM);
	}
}

int machio_right_names(struct machio_space *space, struct machio_port_names *a)
{
	u32 *buf, n = 0, i;
	int ret = 0;

	buf = machio_names_buffer_lock(space, 2, a->count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (space->nr_used > a->count) {
		n = space->nr_used;
	} else {
		for (i = 1; i < space->nr_slots; i++) {
			struct machio_entry *e = &space->table[i];

			if (e->kind == MACHIO_KIND_FREE)
				continue;
			machio_right_check(space, e);
			buf[2 * n] = machio_entry_name(space, e);
			buf[2 * n + 1] = machio_entry_type(e);
			n++;
		}
	}
	spin_unlock(&space->lock);
	if (n <= a->count) {
		for (i = 0; i < n && !ret; i++) {
			if (put_user(buf[2 * i], (u32 __user *)u64_to_user_ptr(a->names) + i) ||
			    put_user(buf[2 * i + 1], (u32 __user *)u64_to_user_ptr(a->types) + i))
				ret = -EFAULT;
		}
	}
	kvfree(buf);
	a->count = n;
	a->kr = MACHIO_KERN_SUCCESS;
	return ret;
}

/* MACH_PORT_RECEIVE_STATUS, with mps_pset the name of its set here. */
static void machio_right_status(struct machio_space *space, struct machio_mport *mp, u32 *info)
{
	struct machio_entry *e = NULL;
	unsigned long flags;

	machio_mport_status(mp, info);
	spin_lock(&space->lock);
	spin_lock_irqsave(&mp->lock, flags);
	if (mp->pset)
		e = machio_entry_of(space, &mp->pset->port);
	spin_unlock_irqrestore(&mp->lock, flags);
	info[0] = e ? machio_entry_name(space, e) : MACHIO_PORT_NULL;
	spin_unlock(&space->lock);
}

/*
 * mach_port_move_member, in OSF's order: KERN_INVALID_NAME and
 * KERN_INVALID_RIGHT for @member (not a receive right), then for @after
 * (not a port set); KERN_NOT_IN_SET to take a port out of no set.  A
 * port is in one set at most: joining another leaves the first.
 */
s32 machio_right_move_member(struct machio_space *space, u32 member, u32 after)
{
	struct machio_mpset *set = NULL;
	struct machio_entry *e, *s;
	s32 kr;

	spin_lock(&space->lock);
	e = machio_right_find(space, member);
	if (!e) {
		kr = MACHIO_KERN_INVALID_NAME;
		goto out;
	}
	if (e->kind != MACHIO_KIND_MPORT || !(e->rights & MACHIO_RIGHT_RECEIVE)) {
		kr = MACHIO_KERN_INVALID_RIGHT;
		goto out;
	}
	if (after != MACHIO_PORT_NULL) {
		s = machio_right_find(space, after);
		if (!s || s->kind != MACHIO_KIND_PSET) {
			kr = s ? MACHIO_KERN_INVALID_RIGHT : MACHIO_KERN_INVALID_NAME;
			goto out;
		}
		set = container_of(s->port, struct machio_mpset, port);
	}
	/* Under the space's lock: neither right can leave it meanwhile. */
	kr = machio_mpset_move(machio_to_mport(e->port), set);
out:
	spin_unlock(&space->lock);
	return kr;
}

/*
 * mach_port_get_set_status: the names of @a->name's members, if
 * @a->count has room for them all; @a->count is how many there are either
 * way.  KERN_INVALID_NAME, KERN_INVALID_RIGHT (not a port set); -EFAULT
 * if the array cannot be written, -ENOMEM.
 */
int machio_right_set_status(struct machio_space *space, struct machio_port_set_status *a)
{
	struct machio_mpset *set;
	struct machio_entry *e;
	u32 *buf, n = 0, i;
	int ret = 0;

	a->kr = MACHIO_KERN_SUCCESS;
	buf = machio_names_buffer_lock(space, 1, U32_MAX);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	e = machio_right_find(space, a->name);
	if (!e || e->kind != MACHIO_KIND_PSET) {
		spin_unlock(&space->lock);
		kvfree(buf);
		a->kr = e ? MACHIO_KERN_INVALID_RIGHT : MACHIO_KERN_INVALID_NAME;
		a->count = 0;
		return 0;
	}
	set = container_of(e->port, struct machio_mpset, port);
	for (i = 1; i < space->nr_slots; i++) {
		e = &space->table[i];
		if (e->kind == MACHIO_KIND_MPORT && (e->rights & MACHIO_RIGHT_RECEIVE) &&
		    READ_ONCE(machio_to_mport(e->port)->pset) == set)
			buf[n++] = machio_entry_name(space, e);
	}
	spin_unlock(&space->lock);
	if (n <= a->count && n &&
	    copy_to_user(u64_to_user_ptr(a->members), buf, n * sizeof(*buf)))
		ret = -EFAULT;
	kvfree(buf);
	a->count = n;
	return ret;
}

/* The words each flavor takes, or 0 for a flavor there is not. */
static u32 machio_attr_words(s32 flavor)
{
	switch (flavor) {
	case MACHIO_PORT_LIMITS_INFO:
	case MACHIO_PORT_DNREQUESTS_SIZE:
		return 1;
	case MACHIO_PORT_RECEIVE_STATUS:
		return 10;
	default:
		return 0;
	}
}

/*
 * mach_port_get_attributes / mach_port_set_attributes, in OSF's order:
 * KERN_INVALID_ARGUMENT for a flavor there is not (or, to set, the
 * receive status), KERN_FAILURE for too few words, KERN_INVALID_VALUE for
 * a queue limit over MACH_PORT_QLIMIT_MAX (0 is allowed, as OSF's code
 * does), then KERN_INVALID_NAME and KERN_INVALID_RIGHT (not a receive
 * right).  The dead-name request table's size is 0: machio has none yet.
 */
s32 machio_right_attributes(struct machio_space *space, struct machio_port_attributes *a)
{
	bool set = a->flags & MACHIO_PORT_ATTR_SET;
	u32 words = machio_attr_words(a->flavor);
	struct machio_mport *mp;
	struct machio_entry *e;

	if (!words || (set && a->flavor == MACHIO_PORT_RECEIVE_STATUS))
		return MACHIO_KERN_INVALID_ARGUMENT;
	if (a->count < words)
		return MACHIO_KERN_FAILURE;
	if (set && a->flavor == MACHIO_PORT_LIMITS_INFO && a->info[0] > MACHIO_PORT_QLIMIT_MAX)
		return MACHIO_KERN_INVALID_VALUE;
	spin_lock(&space->lock);
	e = machio_right_find(space, a->name);
	if (!e || e->kind != MACHIO_KIND_MPORT || !(e->rights & MACHIO_RIGHT_RECEIVE)) {
		spin_unlock(&space->lock);
		return e ? MACHIO_KERN_INVALID_RIGHT : MACHIO_KERN_INVALID_NAME;
	}
	mp = machio_to_mport(e->port);
	machio_port_get(&mp->port);
	spin_unlock(&space->lock);

	if (set) {
		/* A realtime port's pool grows first, or the limit stays. */
		if (a->flavor == MACHIO_PORT_LIMITS_INFO && machio_mport_set_qlimit(mp, a->info[0])) {
			machio_port_put(&mp->port);
			return MACHIO_KERN_RESOURCE_SHORTAGE;
		}
	} else {
		memset(a->info, 0, sizeof(a->info));
		a->count = words;
		if (a->flavor == MACHIO_PORT_LIMITS_INFO)
			a->info[0] = READ_ONCE(mp->qlimit);
		else if (a->flavor == MACHIO_PORT_RECEIVE_STATUS)
			machio_right_status(space, mp, a->info);
	}
	machio_port_put(&mp->port);
	return MACHIO_KERN_SUCCESS;
}
