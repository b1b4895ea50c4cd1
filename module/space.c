// SPDX-License-Identifier: GPL-2.0
/*
 * Port name spaces: one per open of /dev/machio.
 *
 * A name is index << 8 | generation.  Index 0 is never used, so no name is
 * MACH_PORT_NULL, and the index limit keeps every name below MACH_PORT_DEAD.
 * Freeing a slot bumps its generation, so a recycled slot yields a new name
 * and a stale name is recognised as such.
 *
 * Lookups take a reference on the object under the table spinlock, so an
 * object found by name stays valid after the lock is dropped even if the
 * name is deallocated concurrently.
 */
#include <linux/cred.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "machio.h"

#define MACHIO_INITIAL_SLOTS	16
#define MACHIO_INITIAL_RHASH_BITS 4

static inline u32 machio_name_make(u32 index, u8 gen)
{
	return index << MACHIO_NAME_GEN_BITS | gen;
}

void machio_port_init(struct machio_port *port, enum machio_kind kind,
		      void (*free)(struct machio_port *port))
{
	kref_init(&port->ref);
	port->kind = kind;
	port->free = free;
}

void machio_port_release(struct kref *ref)
{
	struct machio_port *port = container_of(ref, struct machio_port, ref);

	port->free(port);
}

struct machio_space *machio_space_create(void)
{
	struct machio_space *space;
	int ret;

	space = kzalloc(sizeof(*space), MACHIO_GFP);
	if (!space)
		return NULL;
	kref_init(&space->ref);
	atomic_set(&space->nr_reqs, 0);
	atomic_set(&space->nr_pinned, 0);
	atomic_set(&space->nr_ring_slots, 0);
	spin_lock_init(&space->lock);
	space->uid = current_fsuid();
	machio_pf_space_init(&space->pf);
	space->table = kvcalloc(MACHIO_INITIAL_SLOTS, sizeof(*space->table),
				MACHIO_GFP);
	if (!space->table)
		goto err_free;
	space->rhash = kvcalloc(1U << MACHIO_INITIAL_RHASH_BITS, sizeof(*space->rhash), MACHIO_GFP);
	if (!space->rhash)
		goto err_table;
	space->rhash_bits = MACHIO_INITIAL_RHASH_BITS;
	space->nr_slots = MACHIO_INITIAL_SLOTS;
	space->next_fresh = 1;

	/*
	 * Like a Mach task, a space starts out with host and task names, and
	 * a send right to the name service (Mach 3's registered
	 * name_server_port), always the third name.
	 */
	ret = machio_name_alloc(space, MACHIO_KIND_HOST, NULL, &space->host_name);
	if (!ret)
		ret = machio_name_alloc(space, MACHIO_KIND_TASK, NULL,
					&space->task_name);
	if (!ret) {
		struct machio_entry *e;
		u32 name;

		ret = machio_entry_alloc(space, MACHIO_NAME_SERVER, &e, &name);
		if (!ret) {
			e->kind = MACHIO_KIND_NETNAME;
			spin_unlock(&space->lock);
		}
	}
	if (ret)
		goto err_table;
	/*
	 * The space may outlive its file while its I/O drains; the module
	 * must outlive it.  We run in open(), which holds a module reference.
	 */
	__module_get(THIS_MODULE);
	return space;

err_table:
	kvfree(space->rhash);
	kvfree(space->table);
err_free:
	kfree(space);
	return NULL;
}

/*
 * The file and every request are gone; every port was detached at close
 * (machio_space_detach_next).  Process context: at close, or in the work
 * item that frees the last request, whose workqueue module exit flushes,
 * so dropping the module reference last is safe.
 */
static void machio_space_release(struct kref *ref)
{
	struct machio_space *space = container_of(ref, struct machio_space, ref);

	WARN_ON_ONCE(atomic_read(&space->nr_reqs) ||
		     atomic_read(&space->nr_pinned) || atomic_long_read(&space->msg_bytes));
	kvfree(space->rhash);
	kvfree(space->table);
	kfree(space);
	module_put(THIS_MODULE);
}

void machio_space_put(struct machio_space *space)
{
	kref_put(&space->ref, machio_space_release);
}

static u32 *machio_rhash_bucket(struct machio_space *space, struct machio_port *port)
{
	return &space->rhash[hash_ptr(port, space->rhash_bits)];
}

/*
 * Put @e, an MPORT entry holding a receive or send right, on the
 * port-to-name hash (OSF's ipc_hash): the one name its port has here.
 * Under the lock.
 */
void machio_entry_hash(struct machio_space *space, struct machio_entry *e)
{
	u32 *bucket = machio_rhash_bucket(space, e->port);

	e->rnext = *bucket;
	*bucket = e - space->table;
	e->hashed = true;
}

/* Take @e off the hash, if it is on it.  Under the lock. */
void machio_entry_unhash(struct machio_space *space, struct machio_entry *e)
{
	u32 *link, index = e - space->table;

	if (!e->hashed)
		return;
	for (link = machio_rhash_bucket(space, e->port); *link != index;
	     link = &space->table[*link].rnext)
		;
	*link = e->rnext;
	e->hashed = false;
}

/* The entry naming @port's receive or send right here, or NULL.  Under the lock. */
struct machio_entry *machio_entry_of(struct machio_space *space, struct machio_port *port)
{
	u32 index;

	for (index = *machio_rhash_bucket(space, port); index; index = space->table[index].rnext) {
		if (space->table[index].port == port)
			return &space->table[index];
	}
	return NULL;
}

/*
 * Make room for one more slot.  The bigger table and hash are allocated
 * without the lock held; the copy, the rehash and the switch happen under it.
 */
static int machio_space_grow(struct machio_space *space, u32 need)
{
	struct machio_entry *bigger, *old;
	u32 *rhash, *old_rhash, want, bits, i;

	spin_lock(&space->lock);
	want = min(max(space->nr_slots * 2, need), machio_max_names + 1);
	spin_unlock(&space->lock);

	bits = max_t(u32, ilog2(roundup_pow_of_two(want)), MACHIO_INITIAL_RHASH_BITS);
	bigger = kvcalloc(want, sizeof(*bigger), MACHIO_GFP);
	rhash = kvcalloc(1U << bits, sizeof(*rhash), MACHIO_GFP);
	if (!bigger || !rhash) {
		kvfree(bigger);
		kvfree(rhash);
		return -ENOMEM;
	}

	spin_lock(&space->lock);
	if (want <= space->nr_slots) {
		/* Someone else grew it meanwhile. */
		spin_unlock(&space->lock);
		kvfree(bigger);
		kvfree(rhash);
		return 0;
	}
	memcpy(bigger, space->table, space->nr_slots * sizeof(*bigger));
	old = space->table;
	old_rhash = space->rhash;
	space->table = bigger;
	space->rhash = rhash;
	space->rhash_bits = bits;
	for (i = 1; i < space->nr_slots; i++) {
		if (bigger[i].hashed)
			machio_entry_hash(space, &bigger[i]);
	}
	space->nr_slots = want;
	spin_unlock(&space->lock);
	kvfree(old);
	kvfree(old_rhash);
	return 0;
}

/* Take @index off the free list.  Under the lock; @index is on it. */
static void machio_free_list_unlink(struct machio_space *space, u32 index)
{
	u32 *link = &space->free_head;

	while (*link != index)
		link = &space->table[*link].next_free;
	*link = space->table[index].next_free;
}

/*
 * Find room for a name: any (@want 0), or exactly @want.  On success
 * returns 0 with space->lock held and *@e a fresh entry (kind FREE: the
 * caller fills it in, or gives it back with machio_entry_free, before it
 * unlocks) named *@name.  -ENOSPC past machio_max_names names (or a @want
 * whose index lies beyond the largest table), -EEXIST if @want's slot is
 * in use, -EINVAL for a @want no slot can hold (index 0), -ENOMEM.
 */
int machio_entry_alloc(struct machio_space *space, u32 want, struct machio_entry **e,
		       u32 *name)
{
	u32 index = want >> MACHIO_NAME_GEN_BITS;
	int ret;

	if (want && !index)
		return -EINVAL;
	for (;;) {
		spin_lock(&space->lock);
		if (space->nr_used >= machio_max_names ||
		    (want && index > machio_max_names)) {
			spin_unlock(&space->lock);
			return -ENOSPC;
		}
		if (!want && space->free_head) {
			index = space->free_head;
			space->free_head = space->table[index].next_free;
			break;
		}
		if (!want)
			index = space->next_fresh;
		if (index < space->nr_slots)
			break;
		spin_unlock(&space->lock);
		ret = machio_space_grow(space, index + 1);
		if (ret)
			return ret;
	}
	if (want) {
		if (index < space->next_fresh) {
			if (space->table[index].kind != MACHIO_KIND_FREE) {
				spin_unlock(&space->lock);
				return -EEXIST;
			}
			machio_free_list_unlink(space, index);
		} else {
			/* Slots skipped on the way there are free ones. */
			for (; space->next_fresh < index; space->next_fresh++) {
				space->table[space->next_fresh].next_free = space->free_head;
				space->free_head = space->next_fresh;
			}
			space->next_fresh++;
		}
		space->table[index].gen = want & MACHIO_NAME_GEN_MASK;
	} else if (index == space->next_fresh) {
		space->next_fresh++;
	}
	*e = &space->table[index];
	(*e)->next_free = 0;
	if (!want && !(*e)->gen)
		(*e)->gen = 1;
	space->nr_used++;
	*name = machio_name_make(index, (*e)->gen);
	return 0;
}

/* The name of entry @e.  Under the lock. */
u32 machio_entry_name(struct machio_space *space, struct machio_entry *e)
{
	return machio_name_make(e - space->table, e->gen);
}

/*
 * Give @port a new name in @space.  The table takes over the caller's
 * reference to @port.  Returns -ENOSPC when the space holds
 * machio_max_names names already.
 */
int machio_name_alloc(struct machio_space *space, enum machio_kind kind,
		      struct machio_port *port, u32 *name)
{
	struct machio_entry *e;
	int ret;

	ret = machio_entry_alloc(space, 0, &e, name);
	if (ret)
		return ret;
	e->kind = kind;
	e->port = port;
	spin_unlock(&space->lock);
	return 0;
}

/* Called with the lock held: the entry @name denotes, or NULL. */
struct machio_entry *machio_entry_find(struct machio_space *space, u32 name)
{
	u32 index = name >> MACHIO_NAME_GEN_BITS;
	struct machio_entry *e;

	if (name == MACHIO_PORT_NULL || name == MACHIO_PORT_DEAD ||
	    index == 0 || index >= space->nr_slots)
		return NULL;
	e = &space->table[index];
	if (e->kind == MACHIO_KIND_FREE ||
	    e->gen != (name & MACHIO_NAME_GEN_MASK))
		return NULL;
	return e;
}

/*
 * Translate @name to an object of @kind and take a reference on it.
 * Host and task names have no object: *port is set to NULL.
 * Returns -EINVAL for a name that is not of @kind, -ESHUTDOWN for a dead
 * name (an object of @kind that was terminated).
 */
int machio_name_lookup(struct machio_space *space, u32 name,
		       enum machio_kind kind, struct machio_port **port)
{
	struct machio_entry *e;
	int ret = -EINVAL;

	*port = NULL;
	spin_lock(&space->lock);
	e = machio_entry_find(space, name);
	if (!e)
		goto out;
	if (e->kind == MACHIO_KIND_DEAD) {
		ret = -ESHUTDOWN;
		goto out;
	}
	if (e->kind != kind)
		goto out;
	if (e->port)
		machio_port_get(e->port);
	*port = e->port;
	ret = 0;
out:
	spin_unlock(&space->lock);
	return ret;
}

/* Called with the lock held. */
void machio_entry_free(struct machio_space *space, struct machio_entry *e)
{
	if (e->dnrequest)
		machio_notify_cancel_dead_name(space, e);
	machio_entry_unhash(space, e);
	e->kind = MACHIO_KIND_FREE;
	e->port = NULL;
	if (!++e->gen)
		e->gen = 1;
	e->next_free = space->free_head;
	space->free_head = e - space->table;
	space->nr_used--;
}

/*
 * Turn @name, which must still denote @port, into a dead name, and drop
 * the table's reference to @port.  Every later use of the name then gets
 * -ESHUTDOWN until it is deallocated.  Returns -ESHUTDOWN if another
 * thread already killed or replaced it.
 */
int machio_name_kill(struct machio_space *space, u32 name,
		     struct machio_port *port)
{
	struct machio_entry *e;

	spin_lock(&space->lock);
	e = machio_entry_find(space, name);
	if (!e || e->port != port) {
		spin_unlock(&space->lock);
		return -ESHUTDOWN;
	}
	e->kind = MACHIO_KIND_DEAD;
	e->port = NULL;
	e->urefs = 1;
	spin_unlock(&space->lock);
	machio_port_put(port);
	return 0;
}

/*
 * mach_port_deallocate: release @name.  Host and task names cannot be
 * deallocated.  A Mach right loses one user reference (right.c).  A registered buffer's name goes at once; the call then
 * waits, killably (-EINTR), until no I/O uses the buffer.  Queues must be terminated first (-EBUSY): dropping a live
 * queue's last name would leave its completions with nowhere to go.
 */
int machio_name_deallocate(struct machio_space *space, u32 name)
{
	struct machio_port *port = NULL;
	struct machio_entry *e;
	int ret = 0;

	spin_lock(&space->lock);
	e = machio_entry_find(space, name);
	if (!e || e->kind == MACHIO_KIND_HOST || e->kind == MACHIO_KIND_TASK ||
	    e->kind == MACHIO_KIND_NETNAME) {
		ret = -EINVAL;
	} else if (e->kind == MACHIO_KIND_QUEUE) {
		ret = -EBUSY;
	} else if (e->kind == MACHIO_KIND_MPORT || e->kind == MACHIO_KIND_PSET ||
		   e->kind == MACHIO_KIND_DEAD) {
		/* Mach rights: a user reference at a time (right.c). */
		ret = machio_right_dealloc_locked(space, e, &port);
	} else {
		port = e->port;
		machio_entry_free(space, e);
	}
	spin_unlock(&space->lock);
	/* No device touches a registered buffer once its name is gone. */
	if (port && port->kind == MACHIO_KIND_BUFFER)
		ret = machio_buffer_drain(port);
	if (port)
		machio_port_put(port);
	return ret;
}

/*
 * Teardown helper: take the next live object at or after slot *@cursor out
 * of the table, with the table's reference (and the entry's kind and
 * rights), or return NULL when none is left.  The cursor makes a whole teardown one pass over the table.
 */
struct machio_port *machio_space_detach_next(struct machio_space *space,
					     u32 *cursor, u8 *kind, u8 *rights)
{
	struct machio_port *port = NULL;

	spin_lock(&space->lock);
	for (*cursor = max(*cursor, 1U); *cursor < space->nr_slots; (*cursor)++) {
		struct machio_entry *e = &space->table[*cursor];

		if (e->port) {
			port = e->port;
			*kind = e->kind;
			*rights = e->kind == MACHIO_KIND_MPORT ? e->rights : 0;
			machio_entry_free(space, e);
			break;
		}
	}
	spin_unlock(&space->lock);
	return port;
}
