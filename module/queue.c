// SPDX-License-Identifier: GPL-2.0
/*
 * io_done_queues: FIFO completion queues.
 *
 * A queue is made by io_done_queue_create (MACHIO_IOC_QUEUE_CREATE), or
 * with options by MACHIO_IOC_QUEUE_SETUP: a completion ring (ring.c), an
 * eventfd to signal, and always a file of its own that poll() reports
 * readable while completions wait and that maps the ring.
 *
 * Completions are posted in completion order from any context under
 * q->lock, with nothing allocated: a queue without a ring links the
 * request itself onto @done, a ring queue writes the record into a slot
 * the request reserved when it was accepted.  Either wakes one exclusive
 * waiter (one that wants it: reap.c).  By then the request holds no
 * pages.  Taking completions is in reap.c.
 */
#include <linux/anon_inodes.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"
#include "compat.h"

#define MACHIO_QUEUE_FLAGS	(MACHIO_QUEUE_RING | MACHIO_QUEUE_EVENTFD | MACHIO_QUEUE_POLLED)

static void machio_queue_free(struct machio_port *port)
{
	struct machio_queue *q = machio_to_queue(port);

	WARN_ON_ONCE(!list_empty(&q->done) || !list_empty(&q->polling) || q->inflight);
	if (q->ring.entries) {
		atomic_sub(q->ring.entries, &q->space->nr_ring_slots);
		machio_ring_destroy(&q->ring);
	}
	if (q->eventfd)
		eventfd_ctx_put(q->eventfd);
	machio_pool_destroy(q);
	machio_space_put(q->space);
	kfree(q);
}

static void machio_queue_put_work(struct work_struct *work)
{
	machio_port_put(&container_of(work, struct machio_queue, put_work)->port);
}

/*
 * Drop a reference to @q from any context: freeing @q may sleep, so the
 * last one goes to a work item (nobody else can be using @put_work then).
 */
void machio_queue_put_any(struct machio_queue *q)
{
	if (!refcount_dec_not_one(&q->port.ref.refcount))
		queue_work(machio_wq, &q->put_work);
}

static void machio_queue_signal_work(struct work_struct *work)
{
	struct machio_queue *q = container_of(work, struct machio_queue, signal_work);

	machio_eventfd_signal(q->eventfd);
	machio_port_put(&q->port);
}

static struct machio_queue *machio_queue_alloc(struct machio_space *space)
{
	struct machio_queue *q;

	q = kzalloc(sizeof(*q), MACHIO_GFP);
	if (!q)
		return NULL;
	machio_port_init(&q->port, MACHIO_KIND_QUEUE, machio_queue_free);
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->done);
	init_waitqueue_head(&q->wait);
	INIT_WORK(&q->signal_work, machio_queue_signal_work);
	INIT_LIST_HEAD(&q->polling);
	INIT_WORK(&q->poll_work, machio_poll_work);
	init_llist_head(&q->pool_returned);
	INIT_WORK(&q->put_work, machio_queue_put_work);
	q->space = space;
	kref_get(&space->ref);
	return q;
}

static int machio_queue_check_host(struct machio_space *space, u32 host)
{
	struct machio_port *hostp;

	/* Anything but the host name. */
	return machio_name_lookup(space, host, MACHIO_KIND_HOST, &hostp) ? -EINVAL : 0;
}

int machio_queue_create(struct machio_space *space, u32 host, u32 *name)
{
	struct machio_queue *q;
	int ret;

	ret = machio_queue_check_host(space, host);
	if (ret)
		return ret;
	q = machio_queue_alloc(space);
	if (!q)
		return -ENOMEM;
	ret = machio_name_alloc(space, MACHIO_KIND_QUEUE, &q->port, name);
	if (ret)
		machio_port_put(&q->port);
	return ret;
}

/* Ring slots come out of the space's budget (max_ring_slots). */
static int machio_queue_add_ring(struct machio_queue *q, u32 entries)
{
	struct machio_space *space = q->space;
	int ret;

	if (atomic_add_return(entries, &space->nr_ring_slots) >
	    READ_ONCE(machio_max_ring_slots)) {
		atomic_sub(entries, &space->nr_ring_slots);
		return -EAGAIN;
	}
	ret = machio_ring_init(&q->ring, entries);
	if (ret)
		atomic_sub(entries, &space->nr_ring_slots);
	return ret;
}

static const struct file_operations machio_queue_fops;

/*
 * MACHIO_IOC_QUEUE_SETUP: a named queue with its options, and its file
 * (*@file, with a reserved descriptor in arg->fd) for the caller to
 * install once it has told the user.  The file holds a reference to the
 * queue; the name, as always, another.
 */
int machio_queue_setup(struct machio_space *space, struct machio_queue_setup *arg,
		       struct file **file)
{
	struct machio_queue *q;
	int ret, fd;

	if (arg->flags & ~MACHIO_QUEUE_FLAGS)
		return -EINVAL;
	if (arg->flags & MACHIO_QUEUE_RING) {
		if (!arg->ring_entries || arg->ring_entries > MACHIO_RING_MAX_ENTRIES ||
		    !is_power_of_2(arg->ring_entries))
			return -EINVAL;
	} else if (arg->ring_entries) {
		return -EINVAL;
	}
	if (!(arg->flags & MACHIO_QUEUE_EVENTFD) && arg->eventfd)
		return -EINVAL;
	ret = machio_queue_check_host(space, arg->host);
	if (ret)
		return ret;

	q = machio_queue_alloc(space);
	if (!q)
		return -ENOMEM;
	q->polled = arg->flags & MACHIO_QUEUE_POLLED;
	if (arg->flags & MACHIO_QUEUE_RING) {
		ret = machio_queue_add_ring(q, arg->ring_entries);
		if (ret)
			goto err_queue;
	}
	if (arg->flags & MACHIO_QUEUE_EVENTFD) {
		q->eventfd = eventfd_ctx_fdget(arg->eventfd);
		if (IS_ERR(q->eventfd)) {
			ret = PTR_ERR(q->eventfd);
			q->eventfd = NULL;
			goto err_queue;
		}
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_queue;
	}
	machio_port_get(&q->port);	/* the file's */
	*file = anon_inode_getfile("[machio-queue]", &machio_queue_fops, q,
				   O_RDWR | O_CLOEXEC);
	if (IS_ERR(*file)) {
		ret = PTR_ERR(*file);
		machio_port_put(&q->port);
		goto err_fd;
	}
	ret = machio_name_alloc(space, MACHIO_KIND_QUEUE, &q->port, &arg->queue);
	if (ret)
		goto err_file;

	arg->fd = fd;
	arg->ring_size = q->ring.entries ? machio_ring_map_size(&q->ring) : 0;
	arg->cqes_offset = q->ring.entries ? PAGE_SIZE : 0;
	return 0;

err_file:
	fput(*file);
err_fd:
	put_unused_fd(fd);
err_queue:
	machio_port_put(&q->port);
	return ret;
}

/*
 * Account a request of @op about to be accepted on @q, with room for its
 * completion in the ring, and take a request to reuse from the pool
 * under the same lock.  Returns that request (not zeroed), NULL if the
 * pool is empty, ERR_PTR(-ESHUTDOWN) once @q is dead or ERR_PTR(-EAGAIN)
 * if the ring has no room.  Each success is undone by a completion
 * posted or by machio_queue_cancel().
 */
struct machio_req *machio_queue_begin(struct machio_queue *q, u32 op)
{
	struct machio_req *req = NULL;
	int ret = 0;

	spin_lock_irq(&q->lock);
	if (q->dead)
		ret = -ESHUTDOWN;
	else if (q->ring.entries)
		ret = machio_ring_reserve(&q->ring, machio_req_cqe_slots(op));
	if (!ret) {
		q->inflight++;
		req = machio_pool_take(q);
	}
	spin_unlock_irq(&q->lock);
	return ret ? ERR_PTR(ret) : req;
}

/* Undo machio_queue_begin() for a request refused after all. */
void machio_queue_cancel(struct machio_queue *q, u32 op)
{
	spin_lock_irq(&q->lock);
	if (q->ring.entries)
		machio_ring_unreserve(&q->ring, machio_req_cqe_slots(op));
	q->inflight--;
	wake_up(&q->wait);	/* a terminate may wait for nothing in flight */
	spin_unlock_irq(&q->lock);
}

/* Completions waiting; a hint without q->lock. */
u32 machio_queue_nr_ready(const struct machio_queue *q)
{
	if (q->ring.entries)
		return machio_ring_ready(&q->ring);
	return READ_ONCE(q->nr_done);
}

static void machio_queue_signal(struct machio_queue *q)
{
	/* Not from inside another eventfd's wakeup: from a worker then. */
	if (likely(eventfd_signal_allowed())) {
		machio_eventfd_signal(q->eventfd);
		return;
	}
	machio_port_get(&q->port);
	if (!queue_work(machio_wq, &q->signal_work))
		machio_port_put(&q->port);	/* one already pending will do */
}

/*
 * Post a finished request.  Any context, O(1), never sleeps.  Returns
 * true if @q keeps the request (it is on @done); false if the caller is
 * to free it: its record went into the ring, or @q is terminated.
 */
bool machio_queue_post(struct machio_queue *q, struct machio_req *req)
{
	struct machio_cqe cqe[MACHIO_CQE_MAX_SLOTS];
	unsigned long flags;
	bool keep = false;
	u32 nr = 0;

	/* Outside the lock: the record is the request's own business. */
	if (q->ring.entries)
		nr = machio_req_fill_cqe(req, cqe, false);

	spin_lock_irqsave(&q->lock, flags);
	if (q->ring.entries)
		machio_ring_unreserve(&q->ring, machio_req_cqe_slots(req->op));
	if (q->dead) {
		/* Discarded. */
	} else if (q->ring.entries) {
		machio_ring_post(&q->ring, cqe, nr);
		/* An out-of-line buffer is its process's from here on. */
		req->delivered = !req->code;
	} else {
		list_add_tail(&req->node, &q->done);
		q->nr_done++;
		keep = true;
	}
	q->inflight--;
	/*
	 * One exclusive waiter, plus poll()ers and terminate if it is
	 * draining.  Still under q->lock: once it is dropped, a waiter may
	 * free the request and with it the last reference to @q.
	 */
	wake_up(&q->wait);
	if (q->eventfd && !q->dead)
		machio_queue_signal(q);
	spin_unlock_irqrestore(&q->lock, flags);
	return keep;
}

/*
 * Mark @q dead, wake every waiter (they return KERN_TERMINATED) and
 * discard the results queued so far; requests still in flight are freed
 * as they complete.  With @wait, then wait until none is in flight, so
 * that no more I/O touches the caller's buffers -- killably, since a
 * stalled device may take long: -EINTR if the caller is killed.
 */
int machio_queue_terminate(struct machio_queue *q, bool wait)
{
	struct machio_req *req, *tmp;
	LIST_HEAD(discard);

	spin_lock_irq(&q->lock);
	q->dead = true;
	if (q->ring.entries)
		machio_ring_mark_dead(&q->ring);
	list_splice_init(&q->done, &discard);
	q->nr_done = 0;
	spin_unlock_irq(&q->lock);
	wake_up_all(&q->wait);
	if (q->eventfd)
		machio_eventfd_signal(q->eventfd);

	list_for_each_entry_safe(req, tmp, &discard, node)
		machio_req_free(req);
	/* Polled I/O completes only if someone polls: we do, or a worker. */
	if (q->polled)
		return machio_poll_drain(q, wait);
	if (wait && wait_event_killable(q->wait, READ_ONCE(q->inflight) == 0))
		return -EINTR;
	return 0;
}

int machio_queue_terminate_name(struct machio_space *space, u32 name)
{
	struct machio_port *port;
	int ret;

	ret = machio_name_lookup(space, name, MACHIO_KIND_QUEUE, &port);
	if (ret)
		return ret;
	/* Whoever turns the name dead does the terminate. */
	ret = machio_name_kill(space, name, port);
	if (!ret)
		ret = machio_queue_terminate(machio_to_queue(port), true);
	machio_port_put(port);
	return ret;
}

/* ---- The queue's file ---- */

static __poll_t machio_queue_poll(struct file *file, struct poll_table_struct *pt)
{
	struct machio_queue *q = file->private_data;

	poll_wait(file, &q->wait, pt);
	if (READ_ONCE(q->dead))
		return EPOLLIN | EPOLLRDNORM | EPOLLHUP;
	return machio_queue_nr_ready(q) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The ring's pages, one by one as they are touched. */
static vm_fault_t machio_queue_fault(struct vm_fault *vmf)
{
	struct machio_queue *q = vmf->vma->vm_file->private_data;
	struct page *page = machio_ring_page(&q->ring, vmf->pgoff);

	if (!page)
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct machio_queue_vm_ops = {
	.fault = machio_queue_fault,
};

static int machio_queue_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct machio_queue *q = file->private_data;

	if (!q->ring.entries)
		return -ENODEV;
	/* Consumers share the ring with the kernel: a private copy is useless. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff >= q->ring.nr_pages ||
	    vma_pages(vma) > q->ring.nr_pages - vma->vm_pgoff)
		return -EINVAL;
	machio_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &machio_queue_vm_ops;
	return 0;
}

static int machio_queue_release(struct inode *inode, struct file *file)
{
	struct machio_queue *q = file->private_data;

	machio_port_put(&q->port);
	return 0;
}

static const struct file_operations machio_queue_fops = {
	.owner = THIS_MODULE,
	.poll = machio_queue_poll,
	.mmap = machio_queue_mmap,
	.release = machio_queue_release,
	.llseek = noop_llseek,
};
