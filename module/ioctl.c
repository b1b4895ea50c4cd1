// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl interface: one handler per command, each checking that its
 * argument's input-only and reserved fields are zero and calling into the
 * object files; and the table that dispatches commands to them, copying
 * each argument in and its results out.
 */
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/nospec.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "machio.h"

static long machio_ioc_query(struct machio_space *space, void *arg)
{
	struct machio_query *q = arg;

	if (q->abi_version || q->io_inband_max || q->features || q->host_name ||
	    q->task_name || q->max_names || q->name_server || q->max_requests ||
	    q->nr_requests || q->max_pinned_pages || q->nr_pinned_pages ||
	    q->max_ring_slots || q->nr_ring_slots || q->nr_pooled || q->pad2)
		return -EINVAL;

	memset(q, 0, sizeof(*q));
	q->abi_version = MACHIO_ABI_VERSION;
	q->io_inband_max = MACHIO_IO_INBAND_MAX;
	q->host_name = space->host_name;
	q->task_name = space->task_name;
	q->max_names = READ_ONCE(machio_max_names);
	q->name_server = MACHIO_NAME_SERVER;
	q->max_requests = READ_ONCE(machio_max_requests);
	q->nr_requests = atomic_read(&space->nr_reqs);
	q->max_pinned_pages = READ_ONCE(machio_max_pinned_pages);
	q->nr_pinned_pages = atomic_read(&space->nr_pinned);
	q->max_ring_slots = READ_ONCE(machio_max_ring_slots);
	q->nr_ring_slots = atomic_read(&space->nr_ring_slots);
	q->nr_pooled = atomic_read(&space->nr_pooled);
	q->features = MACHIO_FEAT_IO_DONE_QUEUE | MACHIO_FEAT_OOL_READ |
		     MACHIO_FEAT_INBAND | MACHIO_FEAT_NOWAIT | MACHIO_FEAT_LIMITS |
		     MACHIO_FEAT_SUBMIT_BATCH | MACHIO_FEAT_QUEUE_SETUP |
		     MACHIO_FEAT_REAP | MACHIO_FEAT_FIXED_BUFFERS | MACHIO_FEAT_POLLED |
		     MACHIO_FEAT_DISPATCH | MACHIO_FEAT_PF_SIGNALS | MACHIO_FEAT_PF_IO |
		     MACHIO_FEAT_PORTS | MACHIO_FEAT_NETNAME | MACHIO_FEAT_DEVICE_RPC |
		     MACHIO_FEAT_MSG_OVERWRITE;
	return 0;
}

static long machio_ioc_queue_create(struct machio_space *space, void *arg)
{
	struct machio_queue_create *a = arg;
	int ret;

	if (a->queue || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	ret = machio_queue_create(space, a->host, &a->queue);
	if (ret)
		return ret;
	/*
	 * The name is live already; if the caller cannot learn it, it is
	 * lost to it until close -- as with any Mach right whose reply is lost.
	 */
	return 0;
}

/*
 * Copied in and out here, not by the dispatcher: the queue's file is
 * installed only once the caller has learnt its number (an installed
 * file cannot be taken back).
 */
static long machio_ioc_queue_setup(struct machio_space *space, void __user *argp)
{
	struct machio_queue_setup s, *a = &s;
	struct file *file;
	int ret;

	if (copy_from_user(a, argp, sizeof(*a)))
		return -EFAULT;
	if (a->queue || a->fd || a->ring_size || a->cqes_offset || a->pad ||
	    memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	ret = machio_queue_setup(space, a, &file);
	if (ret)
		return ret;
	if (copy_to_user(argp, a, sizeof(*a))) {
		/* Undo it all: the caller cannot learn the name nor the fd. */
		put_unused_fd(a->fd);
		fput(file);
		machio_queue_terminate_name(space, a->queue);
		machio_name_deallocate(space, a->queue);
		return -EFAULT;
	}
	fd_install(a->fd, file);
	return 0;
}

static long machio_ioc_queue_terminate(struct machio_space *space, void *arg)
{
	struct machio_queue_terminate *a = arg;

	if (a->pad || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	return machio_queue_terminate_name(space, a->queue);
}

static long machio_ioc_queue_wait(struct machio_space *space, void *arg)
{
	struct machio_queue_wait *a = arg;

	if (a->flags || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	return machio_queue_wait(space, a->queue, a->result);
}

static long machio_ioc_queue_reap(struct machio_space *space, void *arg)
{
	struct machio_queue_reap *a = arg;

	return machio_queue_reap(space, a);
}

static long machio_ioc_buffer_register(struct machio_space *space, void *arg)
{
	struct machio_buffer_register *a = arg;

	if (a->name || a->flags || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	return machio_buffer_register(space, a);
}

/* Its caller cannot learn the name: the buffer goes again. */
static void machio_undo_buffer_register(struct machio_space *space, void *arg)
{
	struct machio_buffer_register *a = arg;

	machio_name_deallocate(space, a->name);
}

static long machio_ioc_device_open(struct machio_space *space, void *arg)
{
	struct machio_device_open *a = arg;

	if (a->device || a->block_size || a->size ||
	    memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	return machio_device_open(space, a);
}

static void machio_undo_device_open(struct machio_space *space, void *arg)
{
	struct machio_device_open *a = arg;

	machio_name_deallocate(space, a->device);
}

static long machio_ioc_device_status(struct machio_space *space, void *arg)
{
	struct machio_device_status *a = arg;
	int ret;

	if (a->block_size || a->size || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	ret = machio_device_status(space, a);
	if (ret)
		return ret;
	return 0;
}

static long machio_ioc_device_limit(struct machio_space *space, void *arg)
{
	struct machio_device_limit *a = arg;
	int ret;

	if ((a->flags & ~MACHIO_LIMIT_SET) || (!(a->flags & MACHIO_LIMIT_SET) && a->limit) ||
	    a->pad || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	ret = machio_device_limit(space, a);
	if (ret)
		return ret;
	return 0;
}

static long machio_ioc_port_deallocate(struct machio_space *space, void *arg)
{
	struct machio_port_deallocate *a = arg;

	if (a->pad || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	return machio_name_deallocate(space, a->name);
}

/* mach_port_allocate_full, and the allocators that are it. */
static long machio_ioc_port_allocate(struct machio_space *space, void *arg)
{
	struct machio_port_allocate *a = arg;

	if (a->kr || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->kr = machio_right_allocate(space, a);
	return 0;
}

/* mach_port_destroy, _mod_refs, _get_refs, _type. */
static long machio_ioc_port_right(struct machio_space *space, void *arg)
{
	struct machio_port_right *a = arg;

	if (a->kr || a->value || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	switch (a->op) {
	case MACHIO_PORT_OP_DESTROY:
		a->kr = machio_right_destroy(space, a->name);
		break;
	case MACHIO_PORT_OP_MOD_REFS:
		a->kr = machio_right_mod_refs(space, a->name, a->right, a->delta);
		break;
	case MACHIO_PORT_OP_GET_REFS:
		a->kr = machio_right_get_refs(space, a->name, a->right, &a->value);
		break;
	case MACHIO_PORT_OP_TYPE:
		a->kr = machio_right_type(space, a->name, &a->value);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static long machio_ioc_port_insert_right(struct machio_space *space, void *arg)
{
	struct machio_port_insert_right *a = arg;

	if (a->kr || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->kr = machio_right_insert(space, a);
	return 0;
}

static long machio_ioc_port_extract_right(struct machio_space *space, void *arg)
{
	struct machio_port_extract_right *a = arg;

	if (a->kr || a->pad || a->poly || a->poly_type ||
	    memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->kr = machio_right_extract(space, a);
	return 0;
}

static long machio_ioc_port_names(struct machio_space *space, void *arg)
{
	struct machio_port_names *a = arg;
	int ret;

	if (a->kr || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	ret = machio_right_names(space, a);
	if (ret)
		return ret;
	return 0;
}

/* mach_port_get_attributes, mach_port_set_attributes. */
static long machio_ioc_port_attributes(struct machio_space *space, void *arg)
{
	struct machio_port_attributes *a = arg;

	if (a->kr || a->pad || (a->flags & ~MACHIO_PORT_ATTR_SET) ||
	    memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->kr = machio_right_attributes(space, a);
	return 0;
}

/* mach_msg. */
static long machio_ioc_msg(struct machio_space *space, void *arg)
{
	struct machio_msg *a = arg;

	if (a->kr || a->pad || a->reserved)
		return -EINVAL;
	machio_msg(space, a);
	return 0;
}

static long machio_ioc_port_move_member(struct machio_space *space, void *arg)
{
	struct machio_port_move_member *a = arg;

	if (a->kr || a->pad || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->kr = machio_right_move_member(space, a->member, a->after);
	return 0;
}

static long machio_ioc_port_set_status(struct machio_space *space, void *arg)
{
	struct machio_port_set_status *a = arg;
	int ret;

	if (a->kr || a->pad || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	ret = machio_right_set_status(space, a);
	if (ret)
		return ret;
	return 0;
}

static long machio_ioc_port_request_notification(struct machio_space *space, void *arg)
{
	struct machio_port_request_notification *a = arg;

	if (a->kr || a->pad || a->previous || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->kr = machio_notify_request(space, a);
	return 0;
}

/* device_read_request and its kin: answered by message. */
static long machio_ioc_device_request(struct machio_space *space, void *arg)
{
	struct machio_device_request *a = arg;
	int ret;

	ret = machio_device_request(space, a);
	if (ret)
		return ret;
	return 0;
}

/* netname_check_in, _look_up, _check_out, _register_send_right. */
static long machio_ioc_netname(struct machio_space *space, void *arg)
{
	struct machio_netname *a = arg;

	if (a->kr || a->pad || memchr_inv(a->reserved, 0, sizeof(a->reserved)) ||
	    a->op < MACHIO_NETNAME_CHECK_IN || a->op > MACHIO_NETNAME_REGISTER_SEND_RIGHT ||
	    (a->op == MACHIO_NETNAME_LOOK_UP && a->port))
		return -EINVAL;
	a->kr = machio_netname(space, a);
	return 0;
}

static long machio_ioc_submit(struct machio_space *space, void *arg)
{
	struct machio_io_request *a = arg;

	return machio_submit(space, a, NULL);
}

static long machio_ioc_submit_batch(struct machio_space *space, void *arg)
{
	struct machio_submit_batch *a = arg;
	struct machio_io_request __user *ureq;
	struct machio_lookup lookup = {};
	struct machio_io_request req;
	struct blk_plug plug;
	long done = 0;
	int ret = 0;

	if (a->flags || memchr_inv(a->reserved, 0, sizeof(a->reserved)) ||
	    a->nr > MACHIO_SUBMIT_BATCH_MAX)
		return -EINVAL;
	ureq = u64_to_user_ptr(a->requests);

	/* One plug: the block layer sees the whole batch at once. */
	blk_start_plug(&plug);
	for (; done < a->nr; done++) {
		/* A dying caller's requests would only be torn down. */
		if (done && fatal_signal_pending(current))
			break;
		if (copy_from_user(&req, &ureq[done], sizeof(req))) {
			ret = -EFAULT;
			break;
		}
		ret = machio_submit(space, &req, &lookup);
		if (ret)
			break;
	}
	blk_finish_plug(&plug);
	machio_lookup_release(&lookup);
	return done ? done : ret;
}

/* MACHIO_IOC_PF_TASK: the calling thread's task item, or (EXIT) its end. */
static long machio_ioc_pf_task(struct machio_space *space, void *arg)
{
	struct machio_pf_task_info *a = arg;
	struct machio_pf_task *t;

	if (a->result || (a->flags & ~MACHIO_PF_TASK_EXIT) ||
	    memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	if (a->flags & MACHIO_PF_TASK_EXIT) {
		machio_pf_task_exit(space);
		a->result = 0;
	} else {
		a->result = machio_pf_current(space, &t);
		if (!a->result) {
			a->result = t->item.number;
			machio_pf_task_put(t);
		}
	}
	return 0;
}

/*
 * A Portfolio call on one number (a descriptor, an item) by the calling
 * task: @call's result into @result; an error of its own (-EINTR) fails
 * the ioctl.
 */
static long machio_ioc_pf_call(struct machio_space *space, void *arg,
			       int (*call)(struct machio_space *space,
					   struct machio_pf_task *self, s32 arg, s32 *result))
{
	struct machio_pf_call *a = arg;
	struct machio_pf_task *self;
	int ret = 0;

	if (a->result || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->result = machio_pf_current(space, &self);
	if (!a->result) {
		ret = call(space, self, a->arg, &a->result);
		machio_pf_task_put(self);
	}
	if (ret)
		return ret;
	return 0;
}

/* OpenNamedDevice, through the caller's descriptor. */
static int machio_pf_do_open_device(struct machio_space *space, struct machio_pf_task *self,
				    s32 fd, s32 *result)
{
	mutex_lock(&space->pf.lock);
	*result = machio_pf_open_device(self, fd);
	mutex_unlock(&space->pf.lock);
	return 0;
}

static int machio_pf_do_close_item(struct machio_space *space, struct machio_pf_task *self,
				   s32 item, s32 *result)
{
	mutex_lock(&space->pf.lock);
	*result = machio_pf_close_item(self, item);
	mutex_unlock(&space->pf.lock);
	return 0;
}

static int machio_pf_do_delete_item(struct machio_space *space, struct machio_pf_task *self,
				    s32 item, s32 *result)
{
	*result = machio_pf_delete_item(space, self, item);
	return 0;
}

static int machio_pf_do_wait_io(struct machio_space *space, struct machio_pf_task *self,
				s32 ioreq, s32 *result)
{
	return machio_pf_wait_io(self, ioreq, result);
}

static int machio_pf_do_abort_io(struct machio_space *space, struct machio_pf_task *self,
				 s32 ioreq, s32 *result)
{
	*result = machio_pf_abort_io(self, ioreq);
	return 0;
}

static long machio_ioc_pf_open_device(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_call(space, arg, machio_pf_do_open_device);
}

static long machio_ioc_pf_close_item(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_call(space, arg, machio_pf_do_close_item);
}

static long machio_ioc_pf_delete_item(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_call(space, arg, machio_pf_do_delete_item);
}

static long machio_ioc_pf_wait_io(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_call(space, arg, machio_pf_do_wait_io);
}

static long machio_ioc_pf_abort_io(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_call(space, arg, machio_pf_do_abort_io);
}

static int machio_pf_do_get_msg(struct machio_space *space, struct machio_pf_task *self,
				s32 port, s32 *result)
{
	*result = machio_pf_get_msg(self, port);
	return 0;
}

static int machio_pf_do_get_this_msg(struct machio_space *space, struct machio_pf_task *self,
				     s32 msg, s32 *result)
{
	*result = machio_pf_get_this_msg(self, msg);
	return 0;
}

static long machio_ioc_pf_get_msg(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_call(space, arg, machio_pf_do_get_msg);
}

static long machio_ioc_pf_get_this_msg(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_call(space, arg, machio_pf_do_get_this_msg);
}

/*
 * CreateItem or FindItem, by the calling task: @call(space, self, type,
 * tags).
 */
static long machio_ioc_pf_item_tags(struct machio_space *space, void *arg,
				    s32 (*call)(struct machio_space *space,
						struct machio_pf_task *self, s32 type, u64 tags))
{
	struct machio_pf_create *a = arg;
	struct machio_pf_task *self;

	if (a->result || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->result = machio_pf_current(space, &self);
	if (!a->result) {
		a->result = call(space, self, a->type, a->tags);
		machio_pf_task_put(self);
	}
	return 0;
}

static s32 machio_pf_do_find_item(struct machio_space *space, struct machio_pf_task *self,
				  s32 type, u64 tags)
{
	return machio_pf_find_item(self, type, tags);
}

static long machio_ioc_pf_create_item(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_item_tags(space, arg, machio_pf_create_item);
}

static long machio_ioc_pf_find_item(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_item_tags(space, arg, machio_pf_do_find_item);
}

/* The name of an item of the caller's user. */
static long machio_ioc_pf_item_name(struct machio_space *space, void *arg)
{
	struct machio_pf_item_name *a = arg;
	struct machio_pf_task *self;
	int ret = 0;

	if (a->result || a->pad || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->result = machio_pf_current(space, &self);
	if (!a->result) {
		ret = machio_pf_item_name(self, a->item, a->name, a->size, &a->result);
		machio_pf_task_put(self);
	}
	if (ret)
		return ret;
	return 0;
}

/*
 * SendMsg, ReplyMsg, WaitPort, by the calling task: @call's result, or an
 * error of its own (-EINTR).
 */
static long machio_ioc_pf_msg_call(struct machio_space *space, void *arg,
				   int (*call)(struct machio_pf_task *self,
					       struct machio_pf_msg_call *a))
{
	struct machio_pf_msg_call *a = arg;
	struct machio_pf_task *self;
	int ret = 0;

	if (a->result || a->pad || memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->result = machio_pf_current(space, &self);
	if (!a->result) {
		ret = call(self, a);
		machio_pf_task_put(self);
	}
	if (ret)
		return ret;
	return 0;
}

static int machio_pf_do_send_msg(struct machio_pf_task *self, struct machio_pf_msg_call *a)
{
	a->result = machio_pf_send_msg(self, a);
	return 0;
}

static int machio_pf_do_reply_msg(struct machio_pf_task *self, struct machio_pf_msg_call *a)
{
	a->result = machio_pf_reply_msg(self, a);
	return 0;
}

static int machio_pf_do_wait_port(struct machio_pf_task *self, struct machio_pf_msg_call *a)
{
	return machio_pf_wait_port(self, a->port, a->msg, &a->result);
}

static long machio_ioc_pf_send_msg(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_msg_call(space, arg, machio_pf_do_send_msg);
}

static long machio_ioc_pf_reply_msg(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_msg_call(space, arg, machio_pf_do_reply_msg);
}

static long machio_ioc_pf_wait_port(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_msg_call(space, arg, machio_pf_do_wait_port);
}

/* SendIO, or DoIO, by the calling task. */
static long machio_ioc_pf_send_io(struct machio_space *space, void *arg)
{
	struct machio_pf_io *a = arg;
	struct machio_pf_task *self;
	int ret = 0;

	if (a->result || a->error || (a->flags & ~MACHIO_PF_IO_WAIT) ||
	    memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->result = machio_pf_current(space, &self);
	if (!a->result) {
		ret = machio_pf_send_io(space, self, a);
		machio_pf_task_put(self);
	}
	if (ret)
		return ret;
	return 0;
}

/*
 * The five signal calls: the argument checked, the caller's task found
 * (made on its first call), @call run, the result copied out.  Only
 * SendSignal names a task.
 */
static long machio_ioc_pf_signal_call(struct machio_space *space, void *arg,
				      bool names_task,
				      int (*call)(struct machio_space *space,
						  struct machio_pf_task *self,
						  struct machio_pf_signal *a))
{
	struct machio_pf_signal *a = arg;
	struct machio_pf_task *self;
	int ret;

	if (a->result || a->pad || (!names_task && a->task) ||
	    memchr_inv(a->reserved, 0, sizeof(a->reserved)))
		return -EINVAL;
	a->result = machio_pf_current(space, &self);
	if (a->result)
		goto out;
	ret = call(space, self, a);
	machio_pf_task_put(self);
	if (ret)
		return ret;
out:
	return 0;
}

static int machio_pf_do_alloc(struct machio_space *space, struct machio_pf_task *self,
			      struct machio_pf_signal *a)
{
	a->result = machio_pf_alloc_signal(self, a->mask);
	return 0;
}

static int machio_pf_do_free(struct machio_space *space, struct machio_pf_task *self,
			     struct machio_pf_signal *a)
{
	a->result = machio_pf_free_signal(self, a->mask);
	return 0;
}

static int machio_pf_do_wait(struct machio_space *space, struct machio_pf_task *self,
			     struct machio_pf_signal *a)
{
	return machio_pf_wait_signal(self, a->mask, &a->result);
}

static int machio_pf_do_send(struct machio_space *space, struct machio_pf_task *self,
			     struct machio_pf_signal *a)
{
	struct machio_pf_task *target;

	if (!a->task) {
		a->result = machio_pf_send_signal(self, a->mask);
		return 0;
	}
	/* Its own reference, even when the item named is the caller's. */
	target = machio_pf_task_get(space, a->task);
	if (!target) {
		a->result = MACHIO_PF_BADITEM;
		return 0;
	}
	a->result = machio_pf_send_signal(target, a->mask);
	machio_pf_task_put(target);
	return 0;
}

static int machio_pf_do_get(struct machio_space *space, struct machio_pf_task *self,
			    struct machio_pf_signal *a)
{
	a->result = machio_pf_current_signals(self);
	return 0;
}

static long machio_ioc_pf_alloc_signal(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_signal_call(space, arg, false, machio_pf_do_alloc);
}

static long machio_ioc_pf_free_signal(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_signal_call(space, arg, false, machio_pf_do_free);
}

static long machio_ioc_pf_wait_signal(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_signal_call(space, arg, false, machio_pf_do_wait);
}

static long machio_ioc_pf_send_signal(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_signal_call(space, arg, true, machio_pf_do_send);
}

static long machio_ioc_pf_get_signals(struct machio_space *space, void *arg)
{
	return machio_ioc_pf_signal_call(space, arg, false, machio_pf_do_get);
}

/*
 * Every command: its full code (which carries the argument's size and
 * direction, so a caller built against another layout gets ENOTTY) and
 * its handler.  Indexed by _IOC_NR, as io_uring/opdef.c indexes its
 * opcodes.  The dispatcher copies the argument in (the code's size) and,
 * for a command that returns one (_IOC_READ) and succeeded, back out; if
 * that copy fails, @undo takes back what the call made (a name the
 * caller cannot learn), and the call fails with EFAULT.  A @raw handler
 * copies for itself.
 */
struct machio_ioctl_def {
	unsigned int cmd;
	long (*handler)(struct machio_space *space, void *arg);
	void (*undo)(struct machio_space *space, void *arg);
	long (*raw)(struct machio_space *space, void __user *argp);
};

/* The largest argument: the dispatcher's buffer. */
#define MACHIO_IOC_ARG_MAX	256

#define MACHIO_IOC_SIZE_OK(c)	BUILD_BUG_ON_ZERO(_IOC_SIZE(c) > MACHIO_IOC_ARG_MAX)
#define MACHIO_IOCTL(c, fn)	\
	[_IOC_NR(c)] = { .cmd = (c) + MACHIO_IOC_SIZE_OK(c), .handler = (fn) }
#define MACHIO_IOCTL_UNDO(c, fn, u)	\
	[_IOC_NR(c)] = { .cmd = (c) + MACHIO_IOC_SIZE_OK(c), .handler = (fn), .undo = (u) }
#define MACHIO_IOCTL_RAW(c, fn)	\
	[_IOC_NR(c)] = { .cmd = (c), .raw = (fn) }

static const struct machio_ioctl_def machio_ioctls[] = {
	MACHIO_IOCTL(MACHIO_IOC_QUERY, machio_ioc_query),
	MACHIO_IOCTL(MACHIO_IOC_QUEUE_CREATE, machio_ioc_queue_create),
	MACHIO_IOCTL(MACHIO_IOC_QUEUE_TERMINATE, machio_ioc_queue_terminate),
	MACHIO_IOCTL(MACHIO_IOC_QUEUE_WAIT, machio_ioc_queue_wait),
	MACHIO_IOCTL_UNDO(MACHIO_IOC_DEVICE_OPEN, machio_ioc_device_open, machio_undo_device_open),
	MACHIO_IOCTL(MACHIO_IOC_DEVICE_STATUS, machio_ioc_device_status),
	MACHIO_IOCTL(MACHIO_IOC_PORT_DEALLOCATE, machio_ioc_port_deallocate),
	MACHIO_IOCTL(MACHIO_IOC_SUBMIT, machio_ioc_submit),
	MACHIO_IOCTL(MACHIO_IOC_SUBMIT_BATCH, machio_ioc_submit_batch),
	MACHIO_IOCTL_RAW(MACHIO_IOC_QUEUE_SETUP, machio_ioc_queue_setup),
	MACHIO_IOCTL(MACHIO_IOC_QUEUE_REAP, machio_ioc_queue_reap),
	MACHIO_IOCTL_UNDO(MACHIO_IOC_BUFFER_REGISTER, machio_ioc_buffer_register, machio_undo_buffer_register),
	MACHIO_IOCTL(MACHIO_IOC_DEVICE_LIMIT, machio_ioc_device_limit),
	MACHIO_IOCTL(MACHIO_IOC_PF_TASK, machio_ioc_pf_task),
	MACHIO_IOCTL(MACHIO_IOC_PF_ALLOC_SIGNAL, machio_ioc_pf_alloc_signal),
	MACHIO_IOCTL(MACHIO_IOC_PF_FREE_SIGNAL, machio_ioc_pf_free_signal),
	MACHIO_IOCTL(MACHIO_IOC_PF_WAIT_SIGNAL, machio_ioc_pf_wait_signal),
	MACHIO_IOCTL(MACHIO_IOC_PF_SEND_SIGNAL, machio_ioc_pf_send_signal),
	MACHIO_IOCTL(MACHIO_IOC_PF_GET_SIGNALS, machio_ioc_pf_get_signals),
	MACHIO_IOCTL(MACHIO_IOC_PF_OPEN_DEVICE, machio_ioc_pf_open_device),
	MACHIO_IOCTL(MACHIO_IOC_PF_CLOSE_ITEM, machio_ioc_pf_close_item),
	MACHIO_IOCTL(MACHIO_IOC_PF_CREATE_ITEM, machio_ioc_pf_create_item),
	MACHIO_IOCTL(MACHIO_IOC_PF_DELETE_ITEM, machio_ioc_pf_delete_item),
	MACHIO_IOCTL(MACHIO_IOC_PF_SEND_IO, machio_ioc_pf_send_io),
	MACHIO_IOCTL(MACHIO_IOC_PF_WAIT_IO, machio_ioc_pf_wait_io),
	MACHIO_IOCTL(MACHIO_IOC_PF_ABORT_IO, machio_ioc_pf_abort_io),
	MACHIO_IOCTL(MACHIO_IOC_PF_SEND_MSG, machio_ioc_pf_send_msg),
	MACHIO_IOCTL(MACHIO_IOC_PF_REPLY_MSG, machio_ioc_pf_reply_msg),
	MACHIO_IOCTL(MACHIO_IOC_PF_GET_MSG, machio_ioc_pf_get_msg),
	MACHIO_IOCTL(MACHIO_IOC_PF_GET_THIS_MSG, machio_ioc_pf_get_this_msg),
	MACHIO_IOCTL(MACHIO_IOC_PF_WAIT_PORT, machio_ioc_pf_wait_port),
	MACHIO_IOCTL(MACHIO_IOC_PF_FIND_ITEM, machio_ioc_pf_find_item),
	MACHIO_IOCTL(MACHIO_IOC_PF_ITEM_NAME, machio_ioc_pf_item_name),
	MACHIO_IOCTL(MACHIO_IOC_PORT_ALLOCATE, machio_ioc_port_allocate),
	MACHIO_IOCTL(MACHIO_IOC_PORT_RIGHT, machio_ioc_port_right),
	MACHIO_IOCTL(MACHIO_IOC_PORT_INSERT_RIGHT, machio_ioc_port_insert_right),
	MACHIO_IOCTL(MACHIO_IOC_PORT_NAMES, machio_ioc_port_names),
	MACHIO_IOCTL(MACHIO_IOC_MSG, machio_ioc_msg),
	MACHIO_IOCTL(MACHIO_IOC_PORT_ATTRIBUTES, machio_ioc_port_attributes),
	MACHIO_IOCTL(MACHIO_IOC_NETNAME, machio_ioc_netname),
	MACHIO_IOCTL(MACHIO_IOC_PORT_MOVE_MEMBER, machio_ioc_port_move_member),
	MACHIO_IOCTL(MACHIO_IOC_PORT_SET_STATUS, machio_ioc_port_set_status),
	MACHIO_IOCTL(MACHIO_IOC_PORT_REQUEST_NOTIFICATION, machio_ioc_port_request_notification),
	MACHIO_IOCTL(MACHIO_IOC_DEVICE_REQUEST, machio_ioc_device_request),
	MACHIO_IOCTL(MACHIO_IOC_PORT_EXTRACT_RIGHT, machio_ioc_port_extract_right),
};

long machio_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	u64 buf[MACHIO_IOC_ARG_MAX / sizeof(u64)];	/* aligned for every argument */
	struct machio_space *space = file->private_data;
	void __user *argp = (void __user *)arg;
	unsigned int nr = _IOC_NR(cmd), size = _IOC_SIZE(cmd);
	const struct machio_ioctl_def *def;
	long ret;

	if (_IOC_TYPE(cmd) != MACHIO_IOC_MAGIC || nr >= ARRAY_SIZE(machio_ioctls))
		return -ENOTTY;
	nr = array_index_nospec(nr, ARRAY_SIZE(machio_ioctls));
	def = &machio_ioctls[nr];
	if (def->cmd != cmd || (!def->handler && !def->raw))
		return -ENOTTY;
	if (def->raw)
		return def->raw(space, argp);
	if (copy_from_user(buf, argp, size))
		return -EFAULT;
	ret = def->handler(space, buf);
	if (ret || !(_IOC_DIR(cmd) & _IOC_READ))
		return ret;
	if (copy_to_user(argp, buf, size)) {
		if (def->undo)
			def->undo(space, buf);
		return -EFAULT;
	}
	return 0;
}
