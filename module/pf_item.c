// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio items: one table per user.
 *
 * Portfolio names every kernel object -- task, message port, message,
 * I/O request, device -- by a 32-bit item number, valid system-wide.
 * machio keeps one such world per user (kuid), shared by every space
 * that user opens, so that a process finds and reaches another's message
 * port by name, while a process of another user can neither find nor use
 * it: its items are in another table.
 *
 * Item numbers have Opera's layout: the table index in bits 0-11 (never
 * below 16), a generation in bits 16-30, bit 31 clear.  A freed slot's
 * generation advances, so a stale number is BADITEM; a new world starts
 * at a generation the previous one did not, so numbers from a world that
 * went away (its user's last item deleted) or from another user's world
 * are stale too, for the next 32767 worlds.  The max_pf_items parameter
 * bounds a user's items below that.  A table holds at
 * most 4096 items (Opera's MAX_ITEMS), charged to the memory cgroup of
 * the process that first used Portfolio as that user, with the view of
 * its items that LookupItem reads (pf_view.c).
 */
#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "machio.h"

#define MACHIO_PF_GEN_SHIFT	16
#define MACHIO_PF_GEN_MASK	0x7fff	/* bits 16-30 */

struct machio_pf_slot {
	struct machio_pf_item *item;	/* NULL: free */
	u32 next_free;			/* free-list link (an index; 0: end) */
	u16 gen;
};

static DEFINE_HASHTABLE(machio_pf_worlds, 4);
static DEFINE_MUTEX(machio_pf_worlds_lock);
/*
 * Worlds made so far: a new world's generations start where the last
 * one's did not, so that neither a number of a world gone and made again
 * nor one of another user's world is likely to be valid in it.
 */
static u32 machio_pf_worlds_made;

/* The world of @uid, made on first use.  Process context. */
struct machio_pf_world *machio_pf_world_get(kuid_t uid)
{
	struct machio_pf_world *w;
	u32 i, gen;

	mutex_lock(&machio_pf_worlds_lock);
	hash_for_each_possible(machio_pf_worlds, w, hnode, __kuid_val(uid)) {
		if (uid_eq(w->uid, uid)) {
			refcount_inc(&w->ref);
			goto out;
		}
	}
	w = kzalloc(sizeof(*w), MACHIO_GFP);
	if (!w)
		goto out;
	w->slots = kvcalloc(MACHIO_PF_MAX_ITEMS, sizeof(*w->slots), MACHIO_GFP);
	if (!w->slots || machio_pf_view_init(w)) {
		kvfree(w->slots);
		kfree(w);
		w = NULL;
		goto out;
	}
	w->uid = uid;
	refcount_set(&w->ref, 1);
	spin_lock_init(&w->lock);
	spin_lock_init(&w->msg_lock);
	mutex_init(&w->dev_lock);
	INIT_LIST_HEAD(&w->devices);
	/* Free list in index order; every slot starts at the world's generation. */
	gen = machio_pf_worlds_made++ % MACHIO_PF_GEN_MASK + 1;
	for (i = MACHIO_PF_MIN_ITEM; i < MACHIO_PF_MAX_ITEMS; i++) {
		w->slots[i].gen = gen;
		w->slots[i].next_free = i + 1 < MACHIO_PF_MAX_ITEMS ? i + 1 : 0;
	}
	w->free_head = MACHIO_PF_MIN_ITEM;
	hash_add(machio_pf_worlds, &w->hnode, __kuid_val(uid));
out:
	mutex_unlock(&machio_pf_worlds_lock);
	return w;
}

/* Process context: the last reference frees the table. */
void machio_pf_world_put(struct machio_pf_world *w)
{
	if (!refcount_dec_and_mutex_lock(&w->ref, &machio_pf_worlds_lock))
		return;
	hash_del(&w->hnode);
	mutex_unlock(&machio_pf_worlds_lock);
	WARN_ON_ONCE(w->nr_used || !list_empty(&w->devices));
	machio_pf_view_destroy(w);
	kvfree(w->slots);
	kfree(w);
}

void machio_pf_item_init(struct machio_pf_item *item, u8 type, u8 pri,
			 void (*free)(struct machio_pf_item *item))
{
	kref_init(&item->ref);
	INIT_LIST_HEAD(&item->task_node);
	item->type = type;
	item->pri = pri;
	item->free = free;
}

/* Items of one type and name, the name compared as Opera's Find calls do. */
static bool machio_pf_same_name(const struct machio_pf_item *a, const struct machio_pf_item *b)
{
	return a->type == b->type && a->name && b->name && !strcasecmp(a->name, b->name);
}

/*
 * Whether @item may not have its name: another of its type has it and
 * one of the two wants it unique (TAG_ITEM_UNIQUE_NAME).  Under w->lock.
 */
static bool machio_pf_name_taken(struct machio_pf_world *w, const struct machio_pf_item *item)
{
	u32 i;

	if (!item->name || item->type != MACHIO_PF_MSGPORTNODE)
		return false;
	for (i = MACHIO_PF_MIN_ITEM; i < MACHIO_PF_MAX_ITEMS; i++) {
		const struct machio_pf_item *other = w->slots[i].item;

		if (other && machio_pf_same_name(item, other) && (item->unique || other->unique))
			return true;
	}
	return false;
}

/*
 * Give @item a number in @w, owned by the task item @owner (0: by the
 * kernel; MACHIO_PF_OWNER_SELF: @item is a task, its own owner), and show
 * it in the view; the table holds the reference @item was made with.  0,
 * or ITEMTABLEFULL.
 */
s32 machio_pf_item_insert(struct machio_pf_world *w, struct machio_pf_item *item, s32 owner)
{
	struct machio_pf_slot *slot;
	u32 index;

	spin_lock(&w->lock);
	index = w->free_head;
	if (!index || w->nr_used >= READ_ONCE(machio_max_pf_items)) {
		spin_unlock(&w->lock);
		return MACHIO_PF_ITEMTABLEFULL;
	}
	if (machio_pf_name_taken(w, item)) {
		spin_unlock(&w->lock);
		return MACHIO_PF_UNIQUEITEMEXISTS;
	}
	item->seq = w->seq++;
	slot = &w->slots[index];
	w->free_head = slot->next_free;
	w->nr_used++;
	slot->item = item;
	item->number = (s32)((u32)slot->gen << MACHIO_PF_GEN_SHIFT | index);
	item->owner = owner == MACHIO_PF_OWNER_SELF ? item->number : owner;
	item->world = w;
	refcount_inc(&w->ref);
	machio_pf_view_publish(item, index);
	spin_unlock(&w->lock);
	return 0;
}

/*
 * The item numbered @number, of node type @type (0: any), with a
 * reference; NULL if there is none: a stale number, a deleted item, an
 * item of another type.
 */
struct machio_pf_item *machio_pf_item_get(struct machio_pf_world *w, s32 number, u8 type)
{
	struct machio_pf_item *item = NULL;
	u32 index = (u32)number & (MACHIO_PF_MAX_ITEMS - 1);

	if (number <= 0 || index < MACHIO_PF_MIN_ITEM)
		return NULL;
	spin_lock(&w->lock);
	item = w->slots[index].item;
	if (item && item->number == number && (!type || item->type == type))
		kref_get(&item->ref);
	else
		item = NULL;
	spin_unlock(&w->lock);
	return item;
}

/* The item at @index, of node type @type, with a reference; NULL if none. */
struct machio_pf_item *machio_pf_item_at(struct machio_pf_world *w, u32 index, u8 type)
{
	struct machio_pf_item *item;

	spin_lock(&w->lock);
	item = w->slots[index].item;
	if (item && item->type == type)
		kref_get(&item->ref);
	else
		item = NULL;
	spin_unlock(&w->lock);
	return item;
}

static void machio_pf_item_release(struct kref *ref)
{
	struct machio_pf_item *item = container_of(ref, struct machio_pf_item, ref);
	struct machio_pf_world *w = item->world;

	kfree(item->name);
	item->free(item);
	if (w)
		machio_pf_world_put(w);
}

/* Process context: the last reference frees the item. */
void machio_pf_item_put(struct machio_pf_item *item)
{
	kref_put(&item->ref, machio_pf_item_release);
}

/*
 * Take @item's number away: from now on it is BADITEM, and its slot's
 * next item gets a new generation.  Drops the table's reference.
 */
void machio_pf_item_remove(struct machio_pf_item *item)
{
	struct machio_pf_world *w = item->world;
	struct machio_pf_slot *slot;
	u32 index;

	spin_lock(&w->lock);
	index = (u32)item->number & (MACHIO_PF_MAX_ITEMS - 1);
	slot = &w->slots[index];
	if (WARN_ON_ONCE(slot->item != item)) {
		spin_unlock(&w->lock);
		return;
	}
	slot->item = NULL;
	machio_pf_view_retract(w, index);
	slot->gen = slot->gen == MACHIO_PF_GEN_MASK ? 1 : slot->gen + 1;
	slot->next_free = w->free_head;
	w->free_head = index;
	w->nr_used--;
	item->number = 0;
	spin_unlock(&w->lock);
	machio_pf_item_put(item);
}

/*
 * Delete @item, which its owner created: the type's own work (an IOReq's
 * I/O aborted and waited for), then its number.  Under its owner's
 * pf->lock.
 */
void machio_pf_delete_owned(struct machio_pf_item *item)
{
	list_del_init(&item->task_node);
	if (item->del)
		item->del(item);
	machio_pf_item_remove(item);
}

/* @t ends: everything it created goes, the newest first.  Under pf->lock. */
void machio_pf_delete_all_of(struct machio_pf_task *t)
{
	while (!list_empty(&t->items))
		machio_pf_delete_owned(list_last_entry(&t->items, struct machio_pf_item, task_node));
}

/*
 * CreateItem(@type, @utags) for @self: the item of the type's create
 * routine, or ER_Kr_BadType for a subsystem other than the kernel's,
 * BADSUBTYPE for a node type machio cannot create, an error of the tag
 * list, or the type's own.
 */
s32 machio_pf_create_item(struct machio_space *space, struct machio_pf_task *self,
			  s32 type, u64 utags)
{
	struct machio_pf_tags tags = {};
	s32 ret;

	s32 (*create)(struct machio_pf_task *self, struct machio_pf_tags *tags);

	if (((u32)type >> 8) != MACHIO_PF_KERNELNODE)
		return MACHIO_PF_BADTYPE;
	switch (type & 0xff) {
	case MACHIO_PF_IOREQNODE:
		create = machio_pf_create_ioreq;
		break;
	case MACHIO_PF_MSGPORTNODE:
		create = machio_pf_create_port;
		break;
	case MACHIO_PF_MESSAGENODE:
		create = machio_pf_create_msg;
		break;
	default:
		return MACHIO_PF_BADSUBTYPE;
	}
	ret = machio_pf_tags_read(utags, &tags);
	if (!ret) {
		mutex_lock(&space->pf.lock);
		ret = create(self, &tags);
		mutex_unlock(&space->pf.lock);
	}
	kfree(tags.name);
	return ret;
}

/*
 * DeleteItem(@number) for @self: 0; BADITEM; BADPRIV for an item @self
 * does not own (Opera's code, where its documentation says NOTOWNER);
 * NOSUPPORT for its own task (a thread ends by exiting).
 */
s32 machio_pf_delete_item(struct machio_space *space, struct machio_pf_task *self, s32 number)
{
	struct machio_pf_item *item;
	s32 ret = 0;

	item = machio_pf_item_get(self->item.world, number, 0);
	if (!item)
		return MACHIO_PF_BADITEM;
	/* An IOReq's message goes with its IOReq. */
	if (item->owner != self->item.number || item->part)
		ret = MACHIO_PF_BADPRIV;
	else if (item == &self->item)
		ret = MACHIO_PF_NOSUPPORT;
	if (!ret) {
		mutex_lock(&space->pf.lock);
		/* Unless something else of the task's deleted it meanwhile. */
		if (item->number == number)
			machio_pf_delete_owned(item);
		mutex_unlock(&space->pf.lock);
	}
	machio_pf_item_put(item);
	return ret;
}

/*
 * The name of item @number of @self's user into @uname (@size bytes,
 * NUL-terminated, truncated to fit): its length, 0 for none, BADITEM.
 * -EFAULT if it cannot be written.
 */
int machio_pf_item_name(struct machio_pf_task *self, s32 number, u64 uname, u32 size,
			s32 *result)
{
	struct machio_pf_item *item = machio_pf_item_get(self->item.world, number, 0);
	size_t len, n;
	int ret = 0;

	if (!item) {
		*result = MACHIO_PF_BADITEM;
		return 0;
	}
	len = item->name ? strlen(item->name) : 0;
	*result = len;
	if (size) {
		n = min_t(size_t, len, size - 1);
		if (copy_to_user(u64_to_user_ptr(uname), item->name ?: "", n) ||
		    put_user(0, (char __user *)u64_to_user_ptr(uname) + n))
			ret = -EFAULT;
	}
	machio_pf_item_put(item);
	return ret;
}

/*
 * FindItem(@type, @utags) for @self: the item of that type named as the
 * list's TAG_ITEM_NAME says, compared without regard to case (Opera's
 * find used the name alone); among several, the one of highest priority,
 * then the oldest -- Opera's lists kept that order and its find took the
 * first.  NOTFOUND for none, or no name; BADSUBTYPE for a type Opera
 * could not search (IOReqs, messages); ER_Kr_BadType.
 */
s32 machio_pf_find_item(struct machio_pf_task *self, s32 type, u64 utags)
{
	struct machio_pf_world *w = self->item.world;
	struct machio_pf_tags tags = {};
	struct machio_pf_item *best = NULL;
	s32 ret;
	u32 i;

	if (((u32)type >> 8) != MACHIO_PF_KERNELNODE)
		return MACHIO_PF_BADTYPE;
	switch (type & 0xff) {
	case MACHIO_PF_MSGPORTNODE:
	case MACHIO_PF_DEVICENODE:
	case MACHIO_PF_TASKNODE:
		break;
	default:
		return MACHIO_PF_BADSUBTYPE;
	}
	ret = machio_pf_tags_read(utags, &tags);
	if (ret)
		goto out;
	ret = MACHIO_PF_NOTFOUND;
	if (!tags.name)
		goto out;
	spin_lock(&w->lock);
	for (i = MACHIO_PF_MIN_ITEM; i < MACHIO_PF_MAX_ITEMS; i++) {
		struct machio_pf_item *item = w->slots[i].item;

		if (!item || item->type != (type & 0xff) || !item->name ||
		    strcasecmp(item->name, tags.name))
			continue;
		if (!best || item->pri > best->pri ||
		    (item->pri == best->pri && (s32)(item->seq - best->seq) < 0))
			best = item;
	}
	if (best)
		ret = best->number;
	spin_unlock(&w->lock);
out:
	kfree(tags.name);
	return ret;
}
