// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio messages: CreateMsg, CreateSmallMsg, DeleteMsg, SendMsg,
 * SendSmallMsg, ReplyMsg, ReplySmallMsg, GetThisMsg, with the SENT /
 * REPLIED state machine of Opera's kernel/ports.c.
 *
 * A message is an item its creating task owns, with a reply port that
 * task owns.  It is held by one task at a time (msg_MsgPort: its creator
 * first), or queued on one port: SendMsg queues it on a port (SENT), the
 * port's owner takes it (GetMsg, WaitPort, GetThisMsg) and holds it, and
 * ReplyMsg queues it on its reply port (SENT | REPLIED), where its
 * creator takes it back.  Only the holder sends (NOTOWNER) or replies
 * (BADPRIV) it, and a message on a port cannot be sent or replied again
 * (ER_Kr_MsgSent).
 *
 * A standard message carries a pointer and a size, a small one two
 * values; neither copies data, so a standard message's pointer is the
 * sender's address, meaningful in the sender's process only: between
 * processes, small messages carry values (or names of shared memory).
 *
 * An IOReq with a reply port has a small message of its own (pf_ioreq.c)
 * that its completion replies from any context: all of this is under the
 * world's irq-safe msg_lock, and replying allocates nothing.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"

static_assert(sizeof(struct machio_pf_msg_view) == 96);

#define MACHIO_PF_MSG_TAGS \
	(BIT(MACHIO_PF_CREATEMSG_TAG_REPLYPORT - MACHIO_PF_TAG_ITEM_LAST - 1) | \
	 BIT(MACHIO_PF_CREATEMSG_TAG_MSG_IS_SMALL - MACHIO_PF_TAG_ITEM_LAST - 1) | \
	 BIT(MACHIO_PF_CREATEMSG_TAG_DATA_SIZE - MACHIO_PF_TAG_ITEM_LAST - 1))

static struct machio_pf_msg *machio_to_msg(struct machio_pf_item *item)
{
	return container_of(item, struct machio_pf_msg, item);
}

struct machio_pf_msg *machio_pf_msg_get(struct machio_pf_task *self, s32 number)
{
	struct machio_pf_item *item;

	item = machio_pf_item_get(self->item.world, number, MACHIO_PF_MESSAGENODE);
	return item ? machio_to_msg(item) : NULL;
}

/* Its fields into the view, unless deleted.  Under msg_lock (or the table's, new). */
static void machio_pf_msg_write_view(struct machio_pf_msg *msg, struct machio_pf_msg_view *v)
{
	v->msg.n_Flags = msg->flags;
	v->msg_ReplyPort = msg->reply_port->item.number;
	v->msg_Result = msg->result;
	v->msg_DataPtr = msg->data;
	v->msg_DataSize = msg->size;
	v->msg_MsgPort = msg->holder;
}

void machio_pf_msg_show(struct machio_pf_msg *msg)
{
	if (msg->dead)
		return;
	machio_pf_msg_write_view(msg, machio_pf_view_slot(msg->item.world,
				 (u32)msg->item.number & (MACHIO_PF_MAX_ITEMS - 1)));
}

static void machio_pf_msg_show_new(struct machio_pf_item *item, void *slot)
{
	machio_pf_msg_write_view(machio_to_msg(item), slot);
}

static void machio_pf_msg_free(struct machio_pf_item *item)
{
	struct machio_pf_msg *msg = machio_to_msg(item);

	machio_pf_item_put(&msg->reply_port->item);
	kfree(msg);
}

/*
 * Reply @msg to its reply port with @result, @data and @size:
 * ER_Kr_NoReplyPort if the port is gone, ER_Kr_MsgSent if the message is
 * on a port.  Under msg_lock; any context, nothing allocated.
 */
s32 machio_pf_msg_reply_locked(struct machio_pf_msg *msg, s32 result, u64 data, s32 size)
{
	struct machio_pf_port *port = msg->reply_port;

	if (port->dead)
		return MACHIO_PF_NOREPLYPORT;
	if (msg->dead || (msg->flags & (MACHIO_PF_MESSAGE_SENT | MACHIO_PF_MESSAGE_REPLIED)))
		return MACHIO_PF_MSGSENT;
	msg->flags |= MACHIO_PF_MESSAGE_SENT | MACHIO_PF_MESSAGE_REPLIED;
	msg->result = result;
	msg->data = data;
	msg->size = size;
	machio_pf_port_queue(port, msg);
	machio_pf_msg_show(msg);
	return 0;
}

/*
 * DeleteMsg's work: off any port it is on, and a task waiting for it in
 * WaitPort told (SIGF_ABORT: BADITEM).  Under the owner's pf->lock.
 */
void machio_pf_msg_del(struct machio_pf_item *item)
{
	struct machio_pf_msg *msg = machio_to_msg(item);
	struct machio_pf_world *w = item->world;
	unsigned long flags;

	spin_lock_irqsave(&w->msg_lock, flags);
	if (msg->on) {
		list_del_init(&msg->node);
		msg->on = NULL;
	}
	msg->flags |= MACHIO_PF_MESSAGE_SENT;
	msg->dead = true;
	if (msg->waiter)
		machio_pf_signal_task(msg->waiter, MACHIO_PF_SIGF_ABORT);
	spin_unlock_irqrestore(&w->msg_lock, flags);
}

/*
 * A message of @self replied to @port, which @self owns (checked by the
 * caller), held by @self: small or standard.  The item, with the table's
 * reference and one for @out; NOMEM, ITEMTABLEFULL.  Its name, if any,
 * comes from @tags.  Not on @self's items: the caller says.
 */
s32 machio_pf_msg_make(struct machio_pf_task *self, struct machio_pf_port *port, u8 pri,
		       bool small, struct machio_pf_tags *tags, struct machio_pf_msg **out)
{
	struct machio_pf_msg *msg;
	s32 err;

	msg = kzalloc(sizeof(*msg), MACHIO_GFP);
	if (!msg)
		return MACHIO_PF_NOMEM;
	machio_pf_item_init(&msg->item, MACHIO_PF_MESSAGENODE, pri, machio_pf_msg_free);
	if (tags)
		machio_pf_item_take_tags(&msg->item, tags);
	msg->item.pri = pri;
	msg->item.view_size = sizeof(struct machio_pf_msg_view);
	msg->item.show = machio_pf_msg_show_new;
	msg->item.del = machio_pf_msg_del;
	kref_get(&port->item.ref);
	msg->reply_port = port;
	INIT_LIST_HEAD(&msg->node);
	if (small)
		msg->flags = MACHIO_PF_MESSAGE_SMALL;
	/* Its creator holds it. */
	msg->holder = self->item.number;
	err = machio_pf_item_insert(self->item.world, &msg->item, self->item.number);
	if (err) {
		machio_pf_item_put(&msg->item);
		return err;
	}
	kref_get(&msg->item.ref);
	*out = msg;
	return msg->item.number;
}

/*
 * CreateItem of a message for @self, Opera's checks in its order:
 * BADTAGVAL for a negative CREATEMSG_TAG_DATA_SIZE or one with
 * CREATEMSG_TAG_MSG_IS_SMALL, NOSUPPORT for any other (machio has no
 * buffered messages), ER_Kr_ReplyPortNeeded, BADITEM (no such port),
 * NOTOWNER (another task's port), NOMEM, ITEMTABLEFULL.  Under pf->lock.
 */
s32 machio_pf_create_msg(struct machio_pf_task *self, struct machio_pf_tags *tags)
{
	bool small = MACHIO_PF_TYPE_TAG(tags, MACHIO_PF_CREATEMSG_TAG_MSG_IS_SMALL);
	s32 mp = (s32)MACHIO_PF_TYPE_ARG(tags, MACHIO_PF_CREATEMSG_TAG_REPLYPORT);
	struct machio_pf_port *port;
	struct machio_pf_msg *msg;
	s32 ret;

	if (tags->present & ~MACHIO_PF_MSG_TAGS)
		return MACHIO_PF_BADTAG;
	if (MACHIO_PF_TYPE_TAG(tags, MACHIO_PF_CREATEMSG_TAG_DATA_SIZE)) {
		if ((s32)MACHIO_PF_TYPE_ARG(tags, MACHIO_PF_CREATEMSG_TAG_DATA_SIZE) < 0 || small)
			return MACHIO_PF_BADTAGVAL;
		return MACHIO_PF_NOSUPPORT;
	}
	if (tags->unique_name)
		return tags->name ? MACHIO_PF_NOSUPPORT : MACHIO_PF_BADNAME;
	if (!mp)
		return MACHIO_PF_REPLYPORTNEEDED;
	port = machio_pf_port_get(self, mp);
	if (!port)
		return MACHIO_PF_BADITEM;
	if (port->item.owner != self->item.number) {
		ret = MACHIO_PF_NOTOWNER;
		goto out;
	}
	ret = machio_pf_msg_make(self, port, tags->pri, small, tags, &msg);
	if (ret > 0) {
		list_add_tail(&msg->item.task_node, &self->items);
		machio_pf_item_put(&msg->item);
	}
out:
	machio_pf_item_put(&port->item);
	return ret;
}

/* A standard message's data: a range of user memory (Opera: RAM). */
static bool machio_pf_msg_data_ok(const struct machio_pf_msg *msg, u64 data, s32 size)
{
	if (msg->flags & MACHIO_PF_MESSAGE_SMALL)
		return true;
	if (size < 0)
		return false;
	return !size || access_ok(u64_to_user_ptr(data), size);
}

/*
 * SendMsg / SendSmallMsg(@a->port, @a->msg, @a->data, @a->size): 0;
 * BADITEM (no such port or message, or a deleted port); NOTOWNER (the
 * caller does not hold the message); BADPTR (a standard message's data
 * outside user memory); ER_Kr_MsgSent (already on a port).
 */
s32 machio_pf_send_msg(struct machio_pf_task *self, const struct machio_pf_msg_call *a)
{
	struct machio_pf_world *w = self->item.world;
	struct machio_pf_port *port;
	struct machio_pf_msg *msg;
	s32 ret = 0;

	port = machio_pf_port_get(self, a->port);
	msg = machio_pf_msg_get(self, a->msg);
	if (!port || !msg) {
		ret = MACHIO_PF_BADITEM;
		goto out;
	}
	if (READ_ONCE(msg->holder) != self->item.number) {
		ret = MACHIO_PF_NOTOWNER;
		goto out;
	}
	if (!machio_pf_msg_data_ok(msg, a->data, a->size)) {
		ret = MACHIO_PF_BADPTR;
		goto out;
	}
	spin_lock_irq(&w->msg_lock);
	if (msg->flags & (MACHIO_PF_MESSAGE_SENT | MACHIO_PF_MESSAGE_REPLIED)) {
		ret = MACHIO_PF_MSGSENT;
	} else if (port->dead) {
		ret = MACHIO_PF_BADITEM;
	} else {
		msg->flags |= MACHIO_PF_MESSAGE_SENT;
		msg->result = 0;
		msg->data = a->data;
		msg->size = a->size;
		machio_pf_port_queue(port, msg);
		machio_pf_msg_show(msg);
	}
	spin_unlock_irq(&w->msg_lock);
out:
	if (msg)
		machio_pf_item_put(&msg->item);
	if (port)
		machio_pf_item_put(&port->item);
	return ret;
}

/*
 * ReplyMsg / ReplySmallMsg(@a->msg, @a->code, @a->data, @a->size): 0;
 * BADITEM; BADPRIV (the caller does not hold it); BADPTR;
 * ER_Kr_NoReplyPort; ER_Kr_MsgSent.
 */
s32 machio_pf_reply_msg(struct machio_pf_task *self, const struct machio_pf_msg_call *a)
{
	struct machio_pf_world *w = self->item.world;
	struct machio_pf_msg *msg = machio_pf_msg_get(self, a->msg);
	s32 ret;

	if (!msg)
		return MACHIO_PF_BADITEM;
	if (READ_ONCE(msg->holder) != self->item.number)
		ret = MACHIO_PF_BADPRIV;
	else if (!machio_pf_msg_data_ok(msg, a->data, a->size))
		ret = MACHIO_PF_BADPTR;
	else {
		spin_lock_irq(&w->msg_lock);
		ret = machio_pf_msg_reply_locked(msg, a->code, a->data, a->size);
		spin_unlock_irq(&w->msg_lock);
	}
	machio_pf_item_put(&msg->item);
	return ret;
}

/*
 * GetThisMsg(@number): the message, taken off the port it is on, held by
 * the caller now; -1 if it is on no port (Opera's code; its documents say
 * 0, or an error); BADITEM; BADPRIV unless the caller owns the message or
 * the port it is on.
 */
s32 machio_pf_get_this_msg(struct machio_pf_task *self, s32 number)
{
	struct machio_pf_world *w = self->item.world;
	struct machio_pf_msg *msg = machio_pf_msg_get(self, number);
	s32 ret = number;

	if (!msg)
		return MACHIO_PF_BADITEM;
	spin_lock_irq(&w->msg_lock);
	if (msg->item.owner != self->item.number &&
	    !(msg->on && msg->on->item.owner == self->item.number))
		ret = MACHIO_PF_BADPRIV;
	else if (msg->on)
		machio_pf_port_take(msg, self);
	else
		ret = -1;
	spin_unlock_irq(&w->msg_lock);
	machio_pf_item_put(&msg->item);
	return ret;
}

/*
 * @t ends: messages of others it holds (taken, not replied) go back to
 * their senders replied with KILLED, as Portfolio 2 does, so that a
 * client's message does not die with the server that had it.  Under
 * @t's pf->lock.
 */
void machio_pf_msgs_release_held(struct machio_pf_task *t)
{
	struct machio_pf_world *w = t->item.world;
	struct machio_pf_item *item;
	unsigned long flags;
	u32 index;

	for (index = MACHIO_PF_MIN_ITEM; index < MACHIO_PF_MAX_ITEMS; index++) {
		item = machio_pf_item_at(w, index, MACHIO_PF_MESSAGENODE);
		if (!item)
			continue;
		spin_lock_irqsave(&w->msg_lock, flags);
		if (item->owner != t->item.number && machio_to_msg(item)->holder == t->item.number)
			machio_pf_msg_reply_locked(machio_to_msg(item), MACHIO_PF_KILLED, 0, 0);
		spin_unlock_irqrestore(&w->msg_lock, flags);
		machio_pf_item_put(item);
	}
}
