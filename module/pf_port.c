// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio message ports: CreateMsgPort, DeleteMsgPort, GetMsg and
 * WaitPort, with the rules of Opera's kernel/ports.c.
 *
 * A port is an item its creating task owns; only the owner takes
 * messages from it (GetMsg, WaitPort: NOTOWNER for anyone else), while
 * any task of its user -- a thread of this process or of another -- may
 * send to it, having found it by name (FindMsgPort).  Messages wait on
 * it by priority, higher first, FIFO among equal ones (Opera's
 * TailInsertNode); each arrival raises the port's signal in its owner.
 *
 * Every port and message of a user is under the world's msg_lock (irq
 * safe: an IOReq's completion replies its message from any context), so
 * a message moves between ports, and its state changes, atomically.
 */
#include <linux/slab.h>
#include "machio.h"

static_assert(sizeof(struct machio_pf_port_view) == 112);

#define MACHIO_PF_PORT_TAGS \
	(BIT(MACHIO_PF_CREATEPORT_TAG_SIGNAL - MACHIO_PF_TAG_ITEM_LAST - 1) | \
	 BIT(MACHIO_PF_CREATEPORT_TAG_USERDATA - MACHIO_PF_TAG_ITEM_LAST - 1))

static struct machio_pf_port *machio_to_port(struct machio_pf_item *item)
{
	return container_of(item, struct machio_pf_port, item);
}

/* The port @number of @self's user, with a reference; NULL if there is none. */
struct machio_pf_port *machio_pf_port_get(struct machio_pf_task *self, s32 number)
{
	struct machio_pf_item *item;

	item = machio_pf_item_get(self->item.world, number, MACHIO_PF_MSGPORTNODE);
	return item ? machio_to_port(item) : NULL;
}

static void machio_pf_port_show(struct machio_pf_item *item, void *slot)
{
	struct machio_pf_port *port = machio_to_port(item);
	struct machio_pf_port_view *v = slot;

	v->mp.n_Flags = port->signal_allocated ? MACHIO_PF_MSGPORT_SIGNAL_ALLOCATED : 0;
	v->mp_Signal = port->signal;
	v->mp_UserData = port->user_data;
}

static void machio_pf_port_free(struct machio_pf_item *item)
{
	struct machio_pf_port *port = machio_to_port(item);

	machio_pf_task_put(port->task);
	kfree(port);
}

/*
 * Queue @msg on @port, by priority, FIFO among equal ones (after the
 * last of at least its priority: Opera's TailInsertNode), and raise the
 * port's signal in its owner.  Under msg_lock; any context.
 */
void machio_pf_port_queue(struct machio_pf_port *port, struct machio_pf_msg *msg)
{
	struct machio_pf_msg *pos;

	list_for_each_entry_reverse(pos, &port->msgs, node) {
		if (pos->item.pri >= msg->item.pri)
			break;
	}
	/* After @pos; the head itself when none has at least its priority. */
	list_add(&msg->node, &pos->node);
	msg->on = port;
	msg->holder = port->item.number;
	machio_pf_signal_task(port->task, port->signal);
}

/* Take @msg off the port it is on, held by @task now.  Under msg_lock. */
void machio_pf_port_take(struct machio_pf_msg *msg, struct machio_pf_task *task)
{
	list_del_init(&msg->node);
	msg->on = NULL;
	msg->flags &= ~(MACHIO_PF_MESSAGE_SENT | MACHIO_PF_MESSAGE_REPLIED);
	msg->holder = task->item.number;
	machio_pf_msg_show(msg);
}

/*
 * DeleteMsgPort's work: the port takes no more messages; those on it go
 * back -- a sent one replied to its reply port with BADITEM, as Opera
 * meant to (its code took a path that refused it); a replied one, and a
 * sent one whose reply port is gone, to its owner, who may send it again
 * (Opera left it held by the deleted port, which no one could use) --
 * and the signal it allocated is freed.  Under the owner's pf->lock.
 */
static void machio_pf_port_del(struct machio_pf_item *item)
{
	struct machio_pf_port *port = machio_to_port(item);
	struct machio_pf_world *w = item->world;
	struct machio_pf_msg *msg;
	unsigned long flags;

	spin_lock_irqsave(&w->msg_lock, flags);
	port->dead = true;
	while ((msg = list_first_entry_or_null(&port->msgs, struct machio_pf_msg, node))) {
		bool sent = !(msg->flags & MACHIO_PF_MESSAGE_REPLIED);

		machio_pf_port_take(msg, port->task);
		msg->holder = msg->item.owner;
		if (sent)
			machio_pf_msg_reply_locked(msg, MACHIO_PF_BADITEM, 0, 0);
	}
	spin_unlock_irqrestore(&w->msg_lock, flags);
	if (port->signal_allocated)
		machio_pf_free_signal(port->task, port->signal);
}

/*
 * The port's signal: @mask, which @self must have allocated (bit 31 is
 * ILLEGALSIGNAL, the system's bits BADPRIV, others not allocated
 * ILLEGALSIGNAL), or with 0 a new one (ER_Kr_NoSigs if none is free).
 */
static s32 machio_pf_port_signal(struct machio_pf_task *self, u32 mask, bool *allocated)
{
	s32 got;

	*allocated = false;
	if (!mask) {
		got = machio_pf_alloc_signal(self, 0);
		if (!got)
			return MACHIO_PF_NOSIGS;
		*allocated = true;
		return got;
	}
	if (mask & 0x80000000U)
		return MACHIO_PF_ILLEGALSIGNAL;
	if (mask & 0xffU)
		return MACHIO_PF_BADPRIV;
	if (!machio_pf_signals_allocated(self, mask))
		return MACHIO_PF_ILLEGALSIGNAL;
	return (s32)mask;
}

/*
 * CreateItem of a message port for @self: CREATEPORT_TAG_SIGNAL (0 or
 * absent: a new signal), CREATEPORT_TAG_USERDATA; BADTAG for others; the
 * signal's errors; ER_Kr_UniqueItemExists; NOMEM; ITEMTABLEFULL.  Under
 * pf->lock.
 */
s32 machio_pf_create_port(struct machio_pf_task *self, struct machio_pf_tags *tags)
{
	struct machio_pf_port *port;
	s32 signal, err;
	bool allocated;

	if (tags->present & ~MACHIO_PF_PORT_TAGS)
		return MACHIO_PF_BADTAG;
	if (tags->unique_name && !tags->name)
		return MACHIO_PF_BADNAME;
	port = kzalloc(sizeof(*port), MACHIO_GFP);
	if (!port)
		return MACHIO_PF_NOMEM;
	signal = machio_pf_port_signal(self, (u32)MACHIO_PF_TYPE_ARG(tags,
						MACHIO_PF_CREATEPORT_TAG_SIGNAL), &allocated);
	if (signal < 0) {
		kfree(port);
		return signal;
	}
	machio_pf_item_init(&port->item, MACHIO_PF_MSGPORTNODE, 0, machio_pf_port_free);
	machio_pf_item_take_tags(&port->item, tags);
	port->item.view_size = sizeof(struct machio_pf_port_view);
	port->item.show = machio_pf_port_show;
	port->item.del = machio_pf_port_del;
	kref_get(&self->item.ref);
	port->task = self;
	port->signal = (u32)signal;
	port->signal_allocated = allocated;
	port->user_data = MACHIO_PF_TYPE_ARG(tags, MACHIO_PF_CREATEPORT_TAG_USERDATA);
	INIT_LIST_HEAD(&port->msgs);
	err = machio_pf_item_insert(self->item.world, &port->item, self->item.number);
	if (err) {
		if (allocated)
			machio_pf_free_signal(self, (u32)signal);
		machio_pf_item_put(&port->item);
		return err;
	}
	list_add_tail(&port->item.task_node, &self->items);
	return port->item.number;
}

/* GetMsg(@number): the first message, taken off; 0 if none; BADITEM, NOTOWNER. */
s32 machio_pf_get_msg(struct machio_pf_task *self, s32 number)
{
	struct machio_pf_port *port = machio_pf_port_get(self, number);
	struct machio_pf_world *w = self->item.world;
	struct machio_pf_msg *msg;
	s32 ret = 0;

	if (!port)
		return MACHIO_PF_BADITEM;
	if (port->item.owner != self->item.number) {
		ret = MACHIO_PF_NOTOWNER;
		goto out;
	}
	spin_lock_irq(&w->msg_lock);
	msg = list_first_entry_or_null(&port->msgs, struct machio_pf_msg, node);
	if (msg) {
		machio_pf_port_take(msg, self);
		ret = msg->item.number;
	}
	spin_unlock_irq(&w->msg_lock);
out:
	machio_pf_item_put(&port->item);
	return ret;
}

/*
 * WaitPort's wait on @port, which the caller owns: the first message
 * (@msg NULL) or @msg, once on the port, taken off.  Waits for the
 * port's signal, which it consumes (so a message that came meanwhile
 * stays queued, for GetMsg).  SIGF_ABORT ends it: BADITEM if @msg was
 * deleted, else ABORTED.  -EINTR on a Linux signal.
 */
static int machio_pf_port_wait(struct machio_pf_task *self, struct machio_pf_port *port,
			       struct machio_pf_msg *msg, s32 *result)
{
	struct machio_pf_world *w = self->item.world;
	struct machio_pf_msg *got;
	s32 sigs;
	int ret;

	for (;;) {
		spin_lock_irq(&w->msg_lock);
		if (msg) {
			got = msg->on == port ? msg : NULL;
			if (!got && !msg->dead)
				msg->waiter = self;
		} else {
			got = list_first_entry_or_null(&port->msgs, struct machio_pf_msg, node);
		}
		if (got)
			machio_pf_port_take(got, self);
		spin_unlock_irq(&w->msg_lock);
		if (got) {
			*result = got->item.number;
			ret = 0;
			break;
		}
		if (msg && READ_ONCE(msg->dead)) {
			*result = MACHIO_PF_BADITEM;
			ret = 0;
			break;
		}
		ret = machio_pf_wait_signal(self, port->signal, &sigs);
		if (ret)
			break;
		if (sigs < 0) {
			*result = sigs;	/* its signal freed meanwhile: ILLEGALSIGNAL */
			break;
		}
		if (sigs & MACHIO_PF_SIGF_ABORT) {
			*result = msg && READ_ONCE(msg->dead) ? MACHIO_PF_BADITEM : MACHIO_PF_ABORTED;
			break;
		}
	}
	if (msg) {
		spin_lock_irq(&w->msg_lock);
		if (msg->waiter == self)
			msg->waiter = NULL;
		spin_unlock_irq(&w->msg_lock);
	}
	return ret;
}

/*
 * WaitPort(@port, @msg) for @self: BADITEM (no such port, or a nonzero
 * @msg that is no message), NOTOWNER (another task's port), then the wait.
 */
int machio_pf_wait_port(struct machio_pf_task *self, s32 port, s32 msg, s32 *result)
{
	struct machio_pf_port *p = machio_pf_port_get(self, port);
	struct machio_pf_msg *m = NULL;
	int ret = 0;

	*result = MACHIO_PF_BADITEM;
	if (!p)
		return 0;
	if (p->item.owner != self->item.number) {
		*result = MACHIO_PF_NOTOWNER;
		goto out;
	}
	if (msg) {
		m = machio_pf_msg_get(self, msg);
		if (!m)
			goto out;
	}
	ret = machio_pf_port_wait(self, p, m, result);
	if (m)
		machio_pf_item_put(&m->item);
out:
	machio_pf_item_put(&p->item);
	return ret;
}
