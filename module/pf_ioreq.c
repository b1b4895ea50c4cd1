// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio I/O requests: CreateIOReq, DeleteIOReq, SendIO, DoIO,
 * WaitIO, AbortIO, and their completion, with the rules of Opera's
 * kernel/sendio.c.
 *
 * An IOReq is an item its creating task owns, bound to that task's open
 * of one device; only the owner sends, waits for or aborts I/O through
 * it.  It carries one I/O at a time.  CMD_READ and CMD_WRITE become
 * machio requests on the one request path (pinned user pages, the disk's
 * dispatch queue ordered by the IOReq's priority, bios bounded by the
 * device's limits) whose completion comes back here instead of to an
 * io_done_queue; CMD_STATUS and unknown commands complete at once.
 *
 * Completion may run in any context.  It sets io_Error, io_Actual and
 * IO_DONE (in the item view, io_Flags last, with release, so CheckIO and
 * a reader of io_Error agree) and notifies -- SIGF_IODONE to the owner --
 * unless IO_QUICK is still set: SendIO clears it, under @lock, once the
 * request is found still running, so a request that completed before
 * SendIO returned and asked for IO_QUICK notifies nobody, and every other
 * completion notifies exactly once.  Nothing is allocated there: the
 * signal is a bit, and the request was allocated by SendIO.
 *
 * Deleting an IOReq (DeleteIOReq, its owner's last close of the device,
 * the owner's end) aborts a request still waiting in the dispatch queue
 * and waits, killably, for one at the device.  A deleter killed meanwhile
 * leaves the I/O to finish alone: its pages stay pinned until then, and
 * its completion no longer writes the view, whose slot may be reused.
 */
#include <linux/blkdev.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"
#include "compat.h"

static_assert(sizeof(struct machio_pf_ioinfo) == 48);
static_assert(sizeof(struct machio_pf_ioreq_view) == 168);
static_assert(offsetof(struct machio_pf_ioreq_view, io_Actual) == 136);
static_assert(sizeof(struct machio_pf_ioreq_view) <= MACHIO_PF_VIEW_SLOT);
static_assert(sizeof(struct machio_pf_device_status) == 36);

#define MACHIO_PF_IOREQ_TAGS \
	(BIT(MACHIO_PF_CREATEIOREQ_TAG_REPLYPORT - MACHIO_PF_TAG_ITEM_LAST - 1) | \
	 BIT(MACHIO_PF_CREATEIOREQ_TAG_DEVICE - MACHIO_PF_TAG_ITEM_LAST - 1))

static struct machio_pf_ioreq *machio_to_ioreq(struct machio_pf_item *item)
{
	return container_of(item, struct machio_pf_ioreq, item);
}

/* Its view slot.  Only while it has a number, and not @unviewed. */
static struct machio_pf_ioreq_view *machio_pf_ioreq_view(struct machio_pf_ioreq *ior)
{
	return machio_pf_view_slot(ior->item.world,
				   (u32)ior->item.number & (MACHIO_PF_MAX_ITEMS - 1));
}

/* io_Actual, io_Error, then io_Flags, into the view.  Under ior->lock. */
static void machio_pf_ioreq_show_state(struct machio_pf_ioreq *ior)
{
	struct machio_pf_ioreq_view *v;

	if (ior->unviewed)
		return;
	v = machio_pf_ioreq_view(ior);
	WRITE_ONCE(v->io_Actual, ior->actual);
	WRITE_ONCE(v->io_Error, ior->error);
	/* Pairs with CheckIO's acquire: io_Error and io_Actual are current. */
	smp_store_release(&v->io_Flags, ior->flags);
}

/* A new IOReq's own fields, before its number shows it.  Under the table's lock. */
static void machio_pf_ioreq_show(struct machio_pf_item *item, void *slot)
{
	struct machio_pf_ioreq *ior = machio_to_ioreq(item);
	struct machio_pf_ioreq_view *v = slot;

	v->io_Flags = ior->flags;
	/* Opera: a signal-based IOReq's io_MsgItem is its owner task. */
	v->io_MsgItem = ior->msg ? ior->msg->item.number : item->owner;
}

static void machio_pf_ioreq_free(struct machio_pf_item *item)
{
	struct machio_pf_ioreq *ior = machio_to_ioreq(item);

	if (ior->msg)
		machio_pf_item_put(&ior->msg->item);
	machio_pf_task_put(ior->task);
	machio_port_put(&ior->dev->port);
	kfree(ior);
}

/*
 * A message-based IOReq's notification: its message replied to its port
 * (msg_Result io_Error, msg_DataPtr the IOReq, msg_DataSize ioi_User),
 * queued there by the IOReq's priority.  If the message cannot go (its
 * owner sent it elsewhere, or the port is gone) the port's owner still
 * gets the port's signal, so that a WaitIO looks again.  Any context,
 * under ior->lock.
 */
static void machio_pf_ioreq_reply(struct machio_pf_ioreq *ior)
{
	struct machio_pf_world *w = ior->item.world;
	struct machio_pf_msg *msg = ior->msg;
	struct machio_pf_port *port = msg->reply_port;

	spin_lock(&w->msg_lock);
	if (machio_pf_msg_reply_locked(msg, ior->error, (u32)ior->item.number,
				       (s32)ior->user) && !port->dead)
		machio_pf_signal_task(port->task, port->signal);
	spin_unlock(&w->msg_lock);
}

/*
 * The request is done, with io_Error @err and io_Actual @actual: show it
 * and notify, unless IO_QUICK says SendIO returns it done.  Any context,
 * under ior->lock.
 */
static void machio_pf_ioreq_finish(struct machio_pf_ioreq *ior, s32 err, s32 actual)
{
	ior->error = err;
	ior->actual = actual;
	ior->req = NULL;
	ior->flags |= MACHIO_PF_IO_DONE;
	machio_pf_ioreq_show_state(ior);
	if (ior->flags & MACHIO_PF_IO_QUICK)
		;	/* SendIO returns it done: no notification */
	else if (ior->msg)
		machio_pf_ioreq_reply(ior);
	else
		machio_pf_signal_task(ior->task, MACHIO_PF_SIGF_IODONE);
	if (ior->deleting)
		wake_up_all(&ior->wait);
}

/* A Mach code of the request path as the io_Error Portfolio would give. */
static s32 machio_pf_code_to_err(s32 code)
{
	switch (code) {
	case MACHIO_KERN_SUCCESS:
		return 0;
	case MACHIO_CODE_ABORTED:
		return MACHIO_PF_ABORTED;
	case MACHIO_D_INVALID_SIZE:
	case MACHIO_D_INVALID_RECNUM:
		return MACHIO_PF_BADIOARG;
	case MACHIO_D_READ_ONLY:
		return MACHIO_PF_BADPRIV;
	case MACHIO_D_INVALID_OPERATION:
		return MACHIO_PF_NOSUPPORT;
	case MACHIO_D_DEVICE_DOWN:
		return MACHIO_PF_DEVICEOFFLINE;
	case MACHIO_D_NO_MEMORY:
		return MACHIO_PF_NOMEM;
	default:
		return MACHIO_PF_DEVICEERROR;
	}
}

/* The completion of an IOReq's machio request.  Any context. */
void machio_pf_io_done(struct machio_req *req)
{
	struct machio_pf_ioreq *ior = req->ioreq;
	unsigned long flags;

	spin_lock_irqsave(&ior->lock, flags);
	machio_pf_ioreq_finish(ior, machio_pf_code_to_err(req->code),
			       req->code ? 0 : req->count);
	spin_unlock_irqrestore(&ior->lock, flags);
}

/* SendIO's start: a new I/O, quick or not, in progress.  Under ior->lock. */
static void machio_pf_ioreq_begin(struct machio_pf_ioreq *ior, bool quick,
				  struct machio_req *req)
{
	ior->flags &= ~(MACHIO_PF_IO_DONE | MACHIO_PF_IO_QUICK);
	if (quick)
		ior->flags |= MACHIO_PF_IO_QUICK;
	ior->error = 0;
	ior->actual = 0;
	ior->req = req;
	machio_pf_ioreq_show_state(ior);
}

/* A command done in SendIO itself: 1, as SendIO returns it. */
static s32 machio_pf_complete_now(struct machio_pf_ioreq *ior, bool quick, s32 err, s32 actual)
{
	spin_lock_irq(&ior->lock);
	machio_pf_ioreq_begin(ior, quick, NULL);
	machio_pf_ioreq_finish(ior, err, actual);
	spin_unlock_irq(&ior->lock);
	return 1;
}

/* CMD_STATUS: Opera's DeviceStatus, as much of it as ioi_Recv holds. */
static s32 machio_pf_status(struct machio_pf_ioreq *ior, const struct machio_pf_ioinfo *info,
			    bool quick)
{
	struct block_device *bdev = ior->dev->bdev;
	unsigned int lbs = bdev_logical_block_size(bdev);
	struct machio_pf_device_status ds = {};
	u32 len;

	if (machio_bdev_gone(bdev))
		return machio_pf_complete_now(ior, quick, MACHIO_PF_DEVICEOFFLINE, 0);
	ds.ds_FamilyCode = MACHIO_PF_DS_DEVTYPE_HARDDISK;
	ds.ds_MaximumStatusSize = sizeof(ds);
	ds.ds_DeviceBlockSize = lbs;
	ds.ds_DeviceBlockCount = min_t(u64, bdev_nr_bytes(bdev) / lbs, U32_MAX);
	if (!(ior->dev->mode & MACHIO_D_WRITE) || bdev_read_only(bdev))
		ds.ds_DeviceUsageFlags = MACHIO_PF_DS_USAGE_READONLY;
	len = min_t(u32, info->ioi_Recv.iob_Len, sizeof(ds));
	if (len && copy_to_user(u64_to_user_ptr(info->ioi_Recv.iob_Buffer), &ds, len))
		return MACHIO_PF_BADPTR;
	return machio_pf_complete_now(ior, quick, 0, len);
}

/*
 * CMD_READ into ioi_Recv, CMD_WRITE from ioi_Send, at block ioi_Offset:
 * a machio request.  1 done, 0 in progress; NOMEM (past a bound on
 * requests or pinned pages too) or BADPTR, with nothing started.
 */
static s32 machio_pf_start_rw(struct machio_space *space, struct machio_pf_ioreq *ior,
			      const struct machio_pf_ioinfo *info, bool quick, bool write)
{
	const struct machio_pf_iobuf *buf = write ? &info->ioi_Send : &info->ioi_Recv;
	struct machio_req *req;
	s32 ret;

	if (info->ioi_Offset < 0)
		return machio_pf_complete_now(ior, quick, MACHIO_PF_BADIOARG, 0);
	req = machio_req_new(space, ior->dev);
	if (IS_ERR(req))
		return MACHIO_PF_NOMEM;
	req->dest = MACHIO_DEST_PF;
	req->ioreq = ior;
	kref_get(&ior->item.ref);
	req->op = write ? MACHIO_OP_WRITE : MACHIO_OP_READ_OVERWRITE;
	req->prio = ior->item.pri;
	req->uaddr = buf->iob_Buffer;
	req->pos = (u64)info->ioi_Offset * bdev_logical_block_size(ior->dev->bdev);
	ret = machio_req_prepare_io(req, buf->iob_Len);
	if (ret < 0) {
		machio_req_refuse(req);
		return ret == -EFAULT ? MACHIO_PF_BADPTR : MACHIO_PF_NOMEM;
	}

	spin_lock_irq(&ior->lock);
	machio_pf_ioreq_begin(ior, quick, req);
	spin_unlock_irq(&ior->lock);
	machio_req_issue(req);

	/* Done already, or from now on it notifies when it is. */
	spin_lock_irq(&ior->lock);
	if (ior->flags & MACHIO_PF_IO_DONE) {
		ret = 1;
	} else {
		ior->flags &= ~MACHIO_PF_IO_QUICK;
		machio_pf_ioreq_show_state(ior);
		ret = 0;
	}
	spin_unlock_irq(&ior->lock);
	return ret;
}

/* An IOBuf SendIO accepts: a length of 0, or a range in user memory. */
static bool machio_pf_iobuf_ok(const struct machio_pf_iobuf *buf)
{
	if (buf->iob_Len < 0)
		return false;
	return !buf->iob_Len || access_ok(u64_to_user_ptr(buf->iob_Buffer), buf->iob_Len);
}

/* io_Info into the view, as Opera copies it before checking it.  Under ior->lock. */
static void machio_pf_ioreq_show_info(struct machio_pf_ioreq *ior,
				      const struct machio_pf_ioinfo *info)
{
	struct machio_pf_ioinfo *v;

	if (ior->unviewed)
		return;
	v = &machio_pf_ioreq_view(ior)->io_Info;
	*v = *info;
	v->ioi_Send.iob_pad = 0;
	v->ioi_Recv.iob_pad = 0;
}

/* Whether the IOReq's message is on a port still. */
static bool machio_pf_ioreq_msg_out(struct machio_pf_ioreq *ior)
{
	struct machio_pf_world *w = ior->item.world;
	bool out;

	spin_lock_irq(&w->msg_lock);
	out = ior->msg->flags & (MACHIO_PF_MESSAGE_SENT | MACHIO_PF_MESSAGE_REPLIED);
	spin_unlock_irq(&w->msg_lock);
	return out;
}

/*
 * StartIO, in Opera's order: NOTOWNER, ER_IONotDone, ER_Kr_MsgSent (a
 * message-based IOReq whose last message is still on its port), BADPTR (the IOInfo),
 * BADIOARG (ioi_Flags2, flags other than IO_QUICK), BADUNIT (any unit but
 * 0), BADPTR (the buffers); then the command.
 */
static s32 machio_pf_start_io(struct machio_space *space, struct machio_pf_task *self,
			      struct machio_pf_ioreq *ior, const struct machio_pf_io *a)
{
	struct machio_pf_ioinfo info;
	bool quick;

	if (ior->item.owner != self->item.number)
		return MACHIO_PF_NOTOWNER;
	if (!(READ_ONCE(ior->flags) & MACHIO_PF_IO_DONE))
		return MACHIO_PF_IONOTDONE;
	/* Portfolio 2's rule: the last completion's message must be off its port. */
	if (ior->msg && machio_pf_ioreq_msg_out(ior))
		return MACHIO_PF_MSGSENT;
	if (copy_from_user(&info, u64_to_user_ptr(a->info), sizeof(info)))
		return MACHIO_PF_BADPTR;
	/* DoIO: quick I/O, always. */
	if (a->flags & MACHIO_PF_IO_WAIT)
		info.ioi_Flags |= MACHIO_PF_IO_QUICK;
	spin_lock_irq(&ior->lock);
	machio_pf_ioreq_show_info(ior, &info);
	ior->user = info.ioi_User;
	spin_unlock_irq(&ior->lock);
	if (info.ioi_Flags2 || (info.ioi_Flags & ~MACHIO_PF_IO_QUICK))
		return MACHIO_PF_BADIOARG;
	if (info.ioi_Unit)
		return MACHIO_PF_BADUNIT;
	if (!machio_pf_iobuf_ok(&info.ioi_Recv) || !machio_pf_iobuf_ok(&info.ioi_Send))
		return MACHIO_PF_BADPTR;
	quick = info.ioi_Flags & MACHIO_PF_IO_QUICK;
	switch (info.ioi_Command) {
	case MACHIO_PF_CMD_READ:
		return machio_pf_start_rw(space, ior, &info, quick, false);
	case MACHIO_PF_CMD_WRITE:
		return machio_pf_start_rw(space, ior, &info, quick, true);
	case MACHIO_PF_CMD_STATUS:
		return machio_pf_status(ior, &info, quick);
	default:
		return machio_pf_complete_now(ior, quick, MACHIO_PF_BADCOMMAND, 0);
	}
}

static struct machio_pf_ioreq *machio_pf_ioreq_get(struct machio_pf_task *self, s32 number)
{
	struct machio_pf_item *item;

	item = machio_pf_item_get(self->item.world, number, MACHIO_PF_IOREQNODE);
	return item ? machio_to_ioreq(item) : NULL;
}

/* Sets or clears IO_WAITING, which the view shows. */
static void machio_pf_ioreq_set_waiting(struct machio_pf_ioreq *ior, bool waiting)
{
	spin_lock_irq(&ior->lock);
	if (waiting)
		ior->flags |= MACHIO_PF_IO_WAITING;
	else
		ior->flags &= ~MACHIO_PF_IO_WAITING;
	machio_pf_ioreq_show_state(ior);
	spin_unlock_irq(&ior->lock);
}

/* IO_DONE, read under the lock: a message-based completion has replied by then. */
static bool machio_pf_ioreq_done(struct machio_pf_ioreq *ior)
{
	bool done;

	spin_lock_irq(&ior->lock);
	done = ior->flags & MACHIO_PF_IO_DONE;
	spin_unlock_irq(&ior->lock);
	return done;
}

/*
 * WaitIO's work, as Opera's internalWaitIO: with IO_QUICK set the request
 * is done, and io_Error comes back at once, for anyone; otherwise only
 * the owner waits, with IO_WAITING set, until IO_DONE.  A signal-based
 * IOReq's wait consumes SIGF_IODONE (so other IOReqs' signals may be
 * eaten, as in Opera: CheckIO them); a message-based one's consumes its
 * port's signal and then takes its message off the port if it is there
 * (Opera's WaitPort for it).  SIGF_ABORT ends the wait: BADITEM if the
 * IOReq was deleted meanwhile, else ABORTED.  -EINTR on a Linux signal.
 */
static int machio_pf_wait_done(struct machio_pf_task *self, struct machio_pf_ioreq *ior,
			       s32 *result)
{
	u32 sig = ior->msg ? ior->msg->reply_port->signal : MACHIO_PF_SIGF_IODONE;
	struct machio_pf_world *w = ior->item.world;
	bool done;
	s32 got = 0;
	int ret = 0;

	spin_lock_irq(&ior->lock);
	if (ior->flags & MACHIO_PF_IO_QUICK) {
		*result = ior->error;
		spin_unlock_irq(&ior->lock);
		return 0;
	}
	spin_unlock_irq(&ior->lock);
	if (ior->item.owner != self->item.number) {
		*result = MACHIO_PF_NOTOWNER;
		return 0;
	}
	machio_pf_ioreq_set_waiting(ior, true);
	while (!(done = machio_pf_ioreq_done(ior))) {
		ret = machio_pf_wait_signal(self, sig, &got);
		if (ret || got < 0 || (got & MACHIO_PF_SIGF_ABORT))
			break;
	}
	machio_pf_ioreq_set_waiting(ior, false);
	if (ret)
		return ret;
	if (!done) {
		/* ILLEGALSIGNAL: the port's signal was freed; or aborted. */
		*result = got < 0 ? got : READ_ONCE(ior->item.number) ?
			  MACHIO_PF_ABORTED : MACHIO_PF_BADITEM;
		return 0;
	}
	if (ior->msg) {
		spin_lock_irq(&w->msg_lock);
		if (ior->msg->on == ior->msg->reply_port)
			machio_pf_port_take(ior->msg, self);
		spin_unlock_irq(&w->msg_lock);
	}
	*result = READ_ONCE(ior->error);
	return 0;
}

/*
 * MACHIO_IOC_PF_SEND_IO: SendIO, or DoIO (MACHIO_PF_IO_WAIT).  @a->result
 * is SendIO's, or DoIO's (io_Error, or SendIO's error); @a->error is
 * io_Error once the request is done.
 */
int machio_pf_send_io(struct machio_space *space, struct machio_pf_task *self,
		      struct machio_pf_io *a)
{
	struct machio_pf_ioreq *ior;
	int ret = 0;

	/* Opera's DoIO skipped the type check: a plain bug. */
	ior = machio_pf_ioreq_get(self, a->ioreq);
	if (!ior) {
		a->result = MACHIO_PF_BADITEM;
		return 0;
	}
	a->result = machio_pf_start_io(space, self, ior, a);
	if (a->result == 0 && (a->flags & MACHIO_PF_IO_WAIT)) {
		ret = machio_pf_wait_done(self, ior, &a->result);
		if (ret == -EINTR) {
			/* Still in progress: the library waits with WaitIO. */
			a->result = 0;
			a->flags |= MACHIO_PF_IO_PENDING;
			ret = 0;
		}
	} else if (a->result == 1 && (a->flags & MACHIO_PF_IO_WAIT)) {
		a->result = READ_ONCE(ior->error);
	}
	if (READ_ONCE(ior->flags) & MACHIO_PF_IO_DONE)
		a->error = READ_ONCE(ior->error);
	machio_pf_item_put(&ior->item);
	return ret;
}

/* MACHIO_IOC_PF_WAIT_IO: WaitIO(@number): io_Error, BADITEM, NOTOWNER, ABORTED. */
int machio_pf_wait_io(struct machio_pf_task *self, s32 number, s32 *result)
{
	struct machio_pf_ioreq *ior = machio_pf_ioreq_get(self, number);
	int ret;

	if (!ior) {
		*result = MACHIO_PF_BADITEM;
		return 0;
	}
	ret = machio_pf_wait_done(self, ior, result);
	machio_pf_item_put(&ior->item);
	return ret;
}

/*
 * A request still waiting in its disk's dispatch queue leaves it and
 * completes with ABORTED (notifying as any completion); one at the device
 * completes in its own time.  Process context.
 */
static void machio_pf_ioreq_abort(struct machio_pf_ioreq *ior)
{
	struct machio_req *req = NULL;

	spin_lock_irq(&ior->lock);
	/* Not done: its request cannot complete while we hold the lock. */
	if (!(ior->flags & MACHIO_PF_IO_DONE) && ior->req && machio_dispatch_cancel(ior->req))
		req = ior->req;
	spin_unlock_irq(&ior->lock);
	if (req)
		machio_req_abort(req);
}

/* AbortIO(@number): 0 whether or not there was I/O to abort; BADITEM, NOTOWNER. */
s32 machio_pf_abort_io(struct machio_pf_task *self, s32 number)
{
	struct machio_pf_ioreq *ior = machio_pf_ioreq_get(self, number);
	s32 ret = 0;

	if (!ior)
		return MACHIO_PF_BADITEM;
	if (ior->item.owner != self->item.number)
		ret = MACHIO_PF_NOTOWNER;
	else
		machio_pf_ioreq_abort(ior);
	machio_pf_item_put(&ior->item);
	return ret;
}

/*
 * DeleteIOReq's work: abort, and wait for the I/O in progress, killably;
 * from then on its completion (if the wait was killed) leaves the view
 * alone.  Under the owner's pf->lock.
 */
static void machio_pf_ioreq_del(struct machio_pf_item *item)
{
	struct machio_pf_ioreq *ior = machio_to_ioreq(item);

	machio_pf_ioreq_abort(ior);
	spin_lock_irq(&ior->lock);
	ior->deleting = true;
	spin_unlock_irq(&ior->lock);
	wait_event_killable(ior->wait, READ_ONCE(ior->flags) & MACHIO_PF_IO_DONE);
	spin_lock_irq(&ior->lock);
	ior->unviewed = true;
	spin_unlock_irq(&ior->lock);
	/* Its message goes with it: off its port, its number gone. */
	if (ior->msg) {
		machio_pf_msg_del(&ior->msg->item);
		machio_pf_item_remove(&ior->msg->item);
	}
}

/*
 * CreateItem of an IOReq for @self, Opera's checks in its order: BADITEM
 * for no device (CREATEIOREQ_TAG_DEVICE), ER_Kr_ItemNotOpen for a device
 * @self has not open, BADITEM for a reply port (CREATEIOREQ_TAG_REPLYPORT)
 * that is none, NOTOWNER for another task's, BADTAG for a tag IOReqs do
 * not take, NOSUPPORT for TAG_ITEM_UNIQUE_NAME (Opera cannot find IOReqs
 * by name), NOMEM, ITEMTABLEFULL.  With a reply port, the IOReq has a
 * small message of its own for it, of its priority.  Under pf->lock.
 */
s32 machio_pf_create_ioreq(struct machio_pf_task *self, struct machio_pf_tags *tags)
{
	struct machio_pf_world *w = self->item.world;
	struct machio_pf_port *port = NULL;
	struct machio_pf_item *devitem;
	struct machio_pf_ioreq *ior;
	struct machio_pf_open *o;
	s32 dev, mp, err;

	if (tags->present & ~MACHIO_PF_IOREQ_TAGS)
		return MACHIO_PF_BADTAG;
	dev = (s32)MACHIO_PF_TYPE_ARG(tags, MACHIO_PF_CREATEIOREQ_TAG_DEVICE);
	devitem = machio_pf_item_get(w, dev, MACHIO_PF_DEVICENODE);
	if (!devitem)
		return MACHIO_PF_BADITEM;
	machio_pf_item_put(devitem);
	o = machio_pf_open_find(self, dev);
	if (!o)
		return MACHIO_PF_ITEMNOTOPEN;
	if (tags->unique_name)
		return tags->name ? MACHIO_PF_NOSUPPORT : MACHIO_PF_BADNAME;
	mp = (s32)MACHIO_PF_TYPE_ARG(tags, MACHIO_PF_CREATEIOREQ_TAG_REPLYPORT);
	if (mp) {
		port = machio_pf_port_get(self, mp);
		if (!port)
			return MACHIO_PF_BADITEM;
		if (port->item.owner != self->item.number) {
			machio_pf_item_put(&port->item);
			return MACHIO_PF_NOTOWNER;
		}
	}

	ior = kzalloc(sizeof(*ior), MACHIO_GFP);
	if (!ior) {
		err = MACHIO_PF_NOMEM;
		goto out_port;
	}
	machio_pf_item_init(&ior->item, MACHIO_PF_IOREQNODE, 0, machio_pf_ioreq_free);
	machio_pf_item_take_tags(&ior->item, tags);
	ior->item.view_size = sizeof(struct machio_pf_ioreq_view);
	ior->item.show = machio_pf_ioreq_show;
	ior->item.del = machio_pf_ioreq_del;
	kref_get(&self->item.ref);
	ior->task = self;
	ior->open = o;
	machio_port_get(&o->dev->port);
	ior->dev = o->dev;
	spin_lock_init(&ior->lock);
	init_waitqueue_head(&ior->wait);
	/* A new IOReq is done: CheckIO 1, WaitIO 0. */
	ior->flags = MACHIO_PF_IO_DONE | MACHIO_PF_IO_QUICK;
	if (port) {
		err = machio_pf_msg_make(self, port, ior->item.pri, true, NULL, &ior->msg);
		if (err < 0)
			goto out_ior;
		ior->msg->item.part = true;
	}
	err = machio_pf_item_insert(w, &ior->item, self->item.number);
	if (err)
		goto out_msg;
	list_add_tail(&ior->item.task_node, &self->items);
	err = ior->item.number;
	goto out_port;

out_msg:
	if (ior->msg)
		machio_pf_item_remove(&ior->msg->item);
out_ior:
	machio_pf_item_put(&ior->item);	/* and its message's */
out_port:
	if (port)
		machio_pf_item_put(&port->item);
	return err;
}

/* The last close of @o by @t: its IOReqs for that device go.  Under pf->lock. */
void machio_pf_delete_ioreqs_of(struct machio_pf_task *t, struct machio_pf_open *o)
{
	struct machio_pf_item *item, *tmp;

	list_for_each_entry_safe(item, tmp, &t->items, task_node) {
		if (item->type == MACHIO_PF_IOREQNODE && machio_to_ioreq(item)->open == o)
			machio_pf_delete_owned(item);
	}
}
