// SPDX-License-Identifier: GPL-2.0
/*
 * The name service: Mach 3's netname server, kept by the module, where a
 * process checks a send right in under a name and another looks it up.
 * It is how the first right reaches another space; every later one can
 * travel in messages.
 *
 * Every space's third name, MACHIO_NAME_SERVER, is a send right to it
 * (libmachio's name_server_port).  Names are per user: a look-up finds
 * only the names its space's user checked in (root's finds any user's:
 * its own first, then the one checked in earliest), and a name another
 * user checked in is KERN_INVALID_NAME, exactly like one nobody did, so
 * no answer tells that it exists.  Check-in and check-out act on the
 * caller's own names.
 *
 * The service holds a send right for each name, and one to its
 * signature (if any), until the name is checked out, replaced, or its
 * port dies (the entry goes at the next call that meets it, as OSF's
 * server drops a name at its dead-name notification).  A user holds at
 * most machio_max_netnames names, each charged to the memory cgroup of
 * the one who checked it in.  Few names: a list under one mutex.
 */
#include <linux/cred.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "machio.h"

struct machio_netname_entry {
	struct list_head node;		/* on machio_netnames, oldest first */
	kuid_t uid;
	struct machio_mport *port;	/* a send right */
	struct machio_mport *sig;	/* a send right, or NULL */
	char key[MACHIO_NETNAME_MAX + 1];
};

static DEFINE_MUTEX(machio_netname_lock);
static LIST_HEAD(machio_netnames);

/* The service's send right to @mp goes.  Process context. */
static void machio_netname_put_right(struct machio_mport *mp)
{
	if (!mp)
		return;
	machio_mport_drop_send(mp);
	machio_port_put(&mp->port);
}

static void machio_netname_free(struct machio_netname_entry *n)
{
	list_del(&n->node);
	machio_netname_put_right(n->port);
	machio_netname_put_right(n->sig);
	kfree(n);
}

/*
 * @uid's entry for @key, or (@any: root's look-up) anyone's, its own
 * first; entries whose port died go on the way.  Under the mutex.
 */
static struct machio_netname_entry *machio_netname_find(kuid_t uid, const char *key, bool any)
{
	struct machio_netname_entry *n, *tmp, *found = NULL;

	list_for_each_entry_safe(n, tmp, &machio_netnames, node) {
		if (strcmp(n->key, key))
			continue;
		if (!machio_mport_active(n->port)) {
			machio_netname_free(n);
			continue;
		}
		if (uid_eq(n->uid, uid))
			return n;
		if (any && !found)
			found = n;
	}
	return found;
}

/* How many names @uid holds, with the dead ones gone.  Under the mutex. */
static u32 machio_netname_count(kuid_t uid)
{
	struct machio_netname_entry *n, *tmp;
	u32 count = 0;

	list_for_each_entry_safe(n, tmp, &machio_netnames, node) {
		if (!uid_eq(n->uid, uid))
			continue;
		if (machio_mport_active(n->port))
			count++;
		else
			machio_netname_free(n);
	}
	return count;
}

/*
 * A send right for the service from @name in @space, as @msgt (MAKE_SEND
 * or COPY_SEND) takes it: *@mp, counted, or NULL for MACHIO_PORT_NULL
 * when @null_ok.  MACHIO_SEND_INVALID_RIGHT otherwise, as MIG's request
 * would have been.
 */
static s32 machio_netname_take(struct machio_space *space, u32 name, u32 msgt, bool null_ok,
			       struct machio_mport **mp)
{
	struct machio_entry *e;

	*mp = NULL;
	if (name == MACHIO_PORT_NULL && null_ok)
		return MACHIO_KERN_SUCCESS;
	spin_lock(&space->lock);
	if (machio_right_source(space, name, msgt, &e)) {
		spin_unlock(&space->lock);
		return MACHIO_SEND_INVALID_RIGHT;
	}
	*mp = machio_to_mport(e->port);
	machio_port_get(&(*mp)->port);
	machio_mport_add_send(*mp, true, msgt == MACHIO_MSG_TYPE_MAKE_SEND);
	spin_unlock(&space->lock);
	return MACHIO_KERN_SUCCESS;
}

/* netname_check_in / netname_register_send_right. */
static s32 machio_netname_check_in(struct machio_space *space, struct machio_netname *a,
				   const char *key)
{
	u32 msgt = a->op == MACHIO_NETNAME_CHECK_IN ? MACHIO_MSG_TYPE_MAKE_SEND :
						      MACHIO_MSG_TYPE_COPY_SEND;
	struct machio_netname_entry *n, *fresh;
	struct machio_mport *port, *sig;
	s32 kr;

	if (a->port == MACHIO_PORT_NULL || a->port == MACHIO_PORT_DEAD)
		return MACHIO_NETNAME_INVALID_PORT;
	fresh = kzalloc(sizeof(*fresh), MACHIO_GFP);
	if (!fresh)
		return MACHIO_KERN_RESOURCE_SHORTAGE;
	kr = machio_netname_take(space, a->signature, MACHIO_MSG_TYPE_COPY_SEND, true, &sig);
	if (kr)
		goto out_free;
	kr = machio_netname_take(space, a->port, msgt, false, &port);
	if (kr)
		goto out_sig;

	mutex_lock(&machio_netname_lock);
	n = machio_netname_find(space->uid, key, false);
	if (n) {
		/* Its signature may replace the port; the old right goes. */
		if (n->sig != sig) {
			mutex_unlock(&machio_netname_lock);
			kr = MACHIO_NETNAME_NOT_YOURS;
			goto out_port;
		}
		swap(n->port, port);
		mutex_unlock(&machio_netname_lock);
		kr = MACHIO_NETNAME_SUCCESS;
		goto out_port;	/* the old port, and the duplicate signature */
	}
	if (machio_netname_count(space->uid) >= READ_ONCE(machio_max_netnames)) {
		mutex_unlock(&machio_netname_lock);
		kr = MACHIO_KERN_RESOURCE_SHORTAGE;
		goto out_port;
	}
	fresh->uid = space->uid;
	fresh->port = port;
	fresh->sig = sig;
	strscpy(fresh->key, key, sizeof(fresh->key));
	list_add_tail(&fresh->node, &machio_netnames);
	mutex_unlock(&machio_netname_lock);
	return MACHIO_NETNAME_SUCCESS;

out_port:
	machio_netname_put_right(port);
out_sig:
	machio_netname_put_right(sig);
out_free:
	kfree(fresh);
	return kr;
}

/* netname_look_up: a send right to the name's port in @space, in @a->port. */
static s32 machio_netname_look_up(struct machio_space *space, struct machio_netname *a,
				  const char *key)
{
	struct machio_netname_entry *n;
	struct machio_mport *mp = NULL;
	char host[MACHIO_NETNAME_MAX + 1];
	bool full = false;

	memcpy(host, a->host, MACHIO_NETNAME_MAX);
	host[MACHIO_NETNAME_MAX] = '\0';
	if (host[0])
		return MACHIO_NETNAME_NO_SUCH_HOST;	/* one machine: "" */
	mutex_lock(&machio_netname_lock);
	n = machio_netname_find(space->uid, key, uid_eq(space->uid, GLOBAL_ROOT_UID));
	if (n) {
		mp = n->port;
		machio_port_get(&mp->port);
		machio_mport_add_send(mp, true, false);
	}
	mutex_unlock(&machio_netname_lock);
	if (!mp)
		return MACHIO_KERN_INVALID_NAME;
	a->port = machio_right_copyout(space, &mp, MACHIO_RIGHT_SEND, &full);
	if (mp) {
		/* Died meanwhile, or no room here: the right goes. */
		machio_netname_put_right(mp);
		if (full)
			return MACHIO_RCV_BODY_ERROR | MACHIO_MSG_IPC_SPACE;
		a->port = MACHIO_PORT_NULL;
		return MACHIO_KERN_INVALID_NAME;
	}
	return MACHIO_NETNAME_SUCCESS;
}

/* netname_check_out: the name goes, if @a->signature is the one it was checked in with. */
static s32 machio_netname_check_out(struct machio_space *space, struct machio_netname *a,
				    const char *key)
{
	struct machio_netname_entry *n;
	struct machio_mport *sig;
	s32 kr;

	kr = machio_netname_take(space, a->signature, MACHIO_MSG_TYPE_COPY_SEND, true, &sig);
	if (kr)
		return kr;
	mutex_lock(&machio_netname_lock);
	n = machio_netname_find(space->uid, key, false);
	if (!n)
		kr = MACHIO_KERN_INVALID_NAME;
	else if (n->sig != sig)
		kr = MACHIO_NETNAME_NOT_YOURS;
	else
		machio_netname_free(n);
	mutex_unlock(&machio_netname_lock);
	machio_netname_put_right(sig);
	return kr;
}

/*
 * MACHIO_IOC_NETNAME.  A server name that is not the name service's is
 * MACH_SEND_INVALID_DEST, what MIG's request to it would have got.
 */
s32 machio_netname(struct machio_space *space, struct machio_netname *a)
{
	char key[MACHIO_NETNAME_MAX + 1];
	struct machio_entry *e;
	bool server;

	spin_lock(&space->lock);
	e = machio_entry_find(space, a->server);
	server = e && e->kind == MACHIO_KIND_NETNAME;
	spin_unlock(&space->lock);
	if (!server)
		return MACHIO_SEND_INVALID_DEST;
	memcpy(key, a->name, MACHIO_NETNAME_MAX);
	key[MACHIO_NETNAME_MAX] = '\0';
	switch (a->op) {
	case MACHIO_NETNAME_CHECK_IN:
	case MACHIO_NETNAME_REGISTER_SEND_RIGHT:
		return machio_netname_check_in(space, a, key);
	case MACHIO_NETNAME_LOOK_UP:
		a->port = MACHIO_PORT_NULL;
		return machio_netname_look_up(space, a, key);
	default:	/* MACHIO_NETNAME_CHECK_OUT: the ioctl checked @op */
		return machio_netname_check_out(space, a, key);
	}
}

/* Module exit: every space is closed, so every port here is dead. */
void machio_netname_exit(void)
{
	struct machio_netname_entry *n, *tmp;

	mutex_lock(&machio_netname_lock);
	list_for_each_entry_safe(n, tmp, &machio_netnames, node)
		machio_netname_free(n);
	mutex_unlock(&machio_netname_lock);
}
