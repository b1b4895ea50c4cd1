// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous requests, moved the way Solaris aphysio moves data:
 * validate, pin the user pages, hand the block layer one or more bios
 * bounded by the device's limits (our minphys), return without waiting,
 * and complete from the bio callback.
 *
 * A request carries a count of bios in flight biased by one for the
 * submitter, so a bio that completes inside submit_bio() (null_blk
 * irqmode=0, early failures) cannot finish the request while the submit
 * loop still uses it.  Whoever drops the count to zero completes it.
 *
 * Completion may run in hard interrupt, soft interrupt or task context.
 * It turns the status into a Mach code, copies an inband block out,
 * releases the pinned pages, gives up the request's place in its disk's
 * write order and posts the request to its queue -- all without sleeping
 * or allocating.  The steps that may sleep go to a work item instead:
 * the write half of an inband write, re-dirtying pages written back
 * during a read, and invalidating page-cache pages after a write.
 *
 * The page cache of the device is kept coherent exactly as O_DIRECT
 * keeps it: dirty cached pages of the range are written back (and, for a
 * write, dropped) before the request's I/O, and a write's range is
 * dropped again before its completion is posted.  Both cost one load
 * when the device has no cached pages.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"
#include "compat.h"

static bool machio_op_is_write(u32 op)
{
	return op == MACHIO_OP_WRITE || op == MACHIO_OP_WRITE_INBAND ||
	       op == MACHIO_OP_WRITE_FIXED;
}


static bool machio_op_is_inband(u32 op)
{
	return op == MACHIO_OP_READ_INBAND || op == MACHIO_OP_WRITE_INBAND;
}

static s32 machio_status_to_code(const struct machio_req *req)
{
	blk_status_t status = (blk_status_t)req->status;

	if (status == BLK_STS_OK)
		return MACHIO_KERN_SUCCESS;
	/* Whatever the driver says of a disk that has gone away. */
	if (status == BLK_STS_OFFLINE || machio_bdev_gone(req->dev->bdev))
		return MACHIO_D_DEVICE_DOWN;
	switch (status) {
	case BLK_STS_AGAIN:
		return MACHIO_D_WOULD_BLOCK;
	case BLK_STS_NOTSUPP:
		/* A device that cannot take REQ_NOWAIT would have to block. */
		if (req->mode & MACHIO_D_NOWAIT)
			return MACHIO_D_WOULD_BLOCK;
		return MACHIO_D_INVALID_OPERATION;
	case BLK_STS_RESOURCE:
		return MACHIO_D_NO_MEMORY;
	default:
		return MACHIO_D_IO_ERROR;
	}
}

static blk_opf_t machio_req_opf(const struct machio_req *req, bool write)
{
	/* Writes are flagged like O_DIRECT ones, which writeback throttling exempts. */
	blk_opf_t opf = write ? REQ_OP_WRITE | REQ_SYNC | REQ_IDLE : REQ_OP_READ;

	if (req->mode & MACHIO_D_NOWAIT)
		opf |= REQ_NOWAIT;
	/* Polled: nobody to free a tag while we sleep for one but us. */
	if (req->queue && req->queue->polled)
		opf |= REQ_POLLED | REQ_NOWAIT;
	return opf;
}

static struct address_space *machio_req_mapping(const struct machio_req *req)
{
	return req->dev->file->f_mapping;
}

static void machio_discard_work(struct work_struct *work)
{
	machio_req_free(container_of(work, struct machio_req, work));
}

/* Free @req from a work item: it is done and nobody will reap it. */
void machio_req_free_later(struct machio_req *req)
{
	INIT_WORK(&req->work, machio_discard_work);
	queue_work(machio_wq, &req->work);
}

/* Hand the finished request to its queue.  Any context unless @may_sleep. */
static void machio_req_post(struct machio_req *req, bool may_sleep)
{
	if (req->dest == MACHIO_DEST_MMSG) {
		machio_dreply_post(req);	/* the reply keeps the request */
		return;
	}
	if (req->dest == MACHIO_DEST_PF)
		machio_pf_io_done(req);
	else if (req->queue && machio_queue_post(req->queue, req))
		return;
	/* Posted into a ring, no queue (a write), or a terminated queue. */
	if (may_sleep)
		machio_req_free(req);
	else
		machio_req_release(req);
}

/* The last step of completion: nothing of the device is held after it. */
static void machio_req_done(struct machio_req *req, bool may_sleep)
{
	machio_req_free_kbuf(req);
	if (machio_op_is_fixed(req->op))
		machio_buffer_unuse(req);
	if (req->wlocked) {
		req->wlocked = false;
		machio_wlock_release(req->dev->disk, &req->wlock);
	}
	machio_req_post(req, may_sleep);
}

/* Completion, the steps that may sleep.  Process context. */
static void machio_req_finish_work(struct work_struct *work)
{
	struct machio_req *req = container_of(work, struct machio_req, work);
	struct address_space *mapping = machio_req_mapping(req);

	machio_req_unpin(req, true);
	/* Pages cached while the write was in flight are stale now. */
	if (machio_op_is_write(req->op) && mapping->nrpages)
		invalidate_inode_pages2_range(mapping, req->pos >> PAGE_SHIFT,
					      (req->pos + req->io_len - 1) >> PAGE_SHIFT);
	machio_req_done(req, true);
}

/* All I/O of @req is over.  Any context. */
static void machio_req_finish(struct machio_req *req)
{
	bool stale_cache = machio_op_is_write(req->op) && req->io_len &&
			   READ_ONCE(machio_req_mapping(req)->nrpages);

	/* Its place at the device goes to the next in its disk's queue. */
	machio_dispatch_done(req);
	if (stale_cache || !machio_req_pages_releasable(req)) {
		INIT_WORK(&req->work, machio_req_finish_work);
		queue_work(machio_wq, &req->work);
		return;
	}
	machio_req_unpin(req, false);
	machio_req_done(req, false);
}

static void machio_submit_kbuf(struct machio_req *req, bool write);
static void machio_req_put_io(struct machio_req *req);

/* Inband write, step 2 (process context): patch the block, write it. */
static void machio_rmw_write_work(struct work_struct *work)
{
	struct machio_req *req = container_of(work, struct machio_req, work);

	req->rmw_reading = false;
	memcpy(req->kbuf, req->inband, req->count);
	atomic_set(&req->remaining, 1);
	machio_submit_kbuf(req, true);
	machio_req_put_io(req);
}

/* All bios of @req are done.  Any context. */
static void machio_req_io_done(struct machio_req *req)
{
	if (req->queue && req->queue->polled)
		machio_poll_io_done(req);
	if (!req->code)
		req->code = machio_status_to_code(req);
	if (!req->code && req->op == MACHIO_OP_READ_INBAND) {
		memcpy(req->inband, req->kbuf, req->count);
	} else if (!req->code && req->op == MACHIO_OP_WRITE_INBAND &&
		   req->rmw_reading) {
		/* submit_bio() may sleep: the write goes out from a worker. */
		INIT_WORK(&req->work, machio_rmw_write_work);
		queue_work(machio_wq, &req->work);
		return;
	}
	machio_req_finish(req);
}

static void machio_req_put_io(struct machio_req *req)
{
	if (atomic_dec_and_test(&req->remaining))
		machio_req_io_done(req);
}

static void machio_bio_end_io(struct bio *bio)
{
	struct machio_req *req = bio->bi_private;

	if (bio->bi_status)
		cmpxchg(&req->status, BLK_STS_OK, (int)bio->bi_status);
	bio_put(bio);
	machio_req_put_io(req);
}

static struct bio *machio_bio_alloc(struct machio_req *req, unsigned int nvecs,
				    blk_opf_t opf, u64 pos)
{
	struct bio *bio;

	/*
	 * From our own bio set with direct reclaim: cannot fail as long as
	 * each bio is submitted before the next is allocated, as here.
	 * Small ones come from its per-CPU cache where we may use it.
	 */
	opf |= machio_bio_cache_opf(req->queue && req->queue->polled);
	bio = bio_alloc_bioset(req->dev->bdev, nvecs, opf, GFP_KERNEL, &machio_bio_set);
	bio->bi_iter.bi_sector = pos >> SECTOR_SHIFT;
	bio->bi_end_io = machio_bio_end_io;
	bio->bi_private = req;
	return bio;
}

static void machio_submit_bio(struct machio_req *req, struct bio *bio)
{
	atomic_inc(&req->remaining);
	if (req->queue && req->queue->polled)
		machio_poll_submit_bio(req, bio);
	else
		submit_bio(bio);
}

/* One block through the request's kernel buffer (inband requests). */
static void machio_submit_kbuf(struct machio_req *req, bool write)
{
	struct bio *bio;

	bio = machio_bio_alloc(req, 1, machio_req_opf(req, write), req->pos);
	/* kmalloc() aligns a power-of-two size to itself: one segment. */
	if (bio_add_page(bio, virt_to_page(req->kbuf), req->io_len,
			 offset_in_page(req->kbuf)) != req->io_len) {
		cmpxchg(&req->status, BLK_STS_OK, (int)BLK_STS_IOERR);
		bio_put(bio);
		return;
	}
	machio_submit_bio(req, bio);
}

/*
 * The pinned user pages, cut into bios no bigger than the device takes in
 * one request (max_sectors) and with no more segments than it allows, so
 * the block layer need not split them.
 */
static void machio_submit_user(struct machio_req *req, bool write)
{
	struct block_device *bdev = req->dev->bdev;
	struct request_queue *q = bdev_get_queue(bdev);
	unsigned int lbs = bdev_logical_block_size(bdev);
	unsigned int max_vecs = min_t(unsigned int, BIO_MAX_VECS,
				      queue_max_segments(q));
	u64 max_bytes = round_down((u64)queue_max_sectors(q) << SECTOR_SHIFT, lbs);
	unsigned int poff = offset_in_page(req->uaddr);
	blk_opf_t opf = machio_req_opf(req, write);
	unsigned int pi = 0;
	struct blk_plug plug;
	u32 done = 0;

	blk_start_plug(&plug);
	while (done < req->count) {
		u64 span = (u64)max_vecs * PAGE_SIZE - poff;
		u32 len = round_down(min3((u64)(req->count - done), max_bytes, span), lbs);
		u32 added = 0;
		struct bio *bio;

		/*
		 * A block that straddles more pages than the device has
		 * segments: let the block layer deal with it.
		 */
		if (!len)
			len = min_t(u32, req->count - done,
				    round_down(BIO_MAX_VECS * PAGE_SIZE - poff, lbs));
		bio = machio_bio_alloc(req, DIV_ROUND_UP(poff + len, PAGE_SIZE),
				       opf, req->pos + done);
		while (added < len) {
			unsigned int n = min_t(u32, PAGE_SIZE - poff, len - added);

			if (bio_add_page(bio, req->pages[pi], n, poff) != n)
				break;
			added += n;
			poff += n;
			if (poff == PAGE_SIZE) {
				poff = 0;
				pi++;
			}
		}
		if (added != len) {
			cmpxchg(&req->status, BLK_STS_OK, (int)BLK_STS_IOERR);
			bio_put(bio);
			break;
		}
		machio_submit_bio(req, bio);
		done += len;
	}
	blk_finish_plug(&plug);
}

/* device_read_async: fresh anonymous memory in the caller, to read into. */
static int machio_req_map_ool(struct machio_req *req)
{
	unsigned long addr;

	req->map_len = PAGE_ALIGN((u64)req->count);
	addr = vm_mmap(NULL, 0, req->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	req->uaddr = addr;
	req->mm = current->mm;
	mmgrab(req->mm);
	return 0;
}

/*
 * Check @req against the device and get its buffers ready.  Returns a
 * Mach code (> 0) for an outcome the queue reports, 0 to go ahead, or a
 * negative errno for what the submit call itself reports: a bad argument,
 * or -EAGAIN past a pin bound.
 */
static int machio_req_prepare(struct machio_req *req, s32 count)
{
	struct block_device *bdev = req->dev->bdev;
	unsigned int lbs = bdev_logical_block_size(bdev);
	u64 size = bdev_nr_bytes(bdev);
	bool write = machio_op_is_write(req->op);
	int ret;

	if (machio_bdev_gone(bdev))
		return MACHIO_D_DEVICE_DOWN;
	if (write) {
		if (!(req->dev->mode & MACHIO_D_WRITE) || bdev_read_only(bdev))
			return MACHIO_D_READ_ONLY;
	} else if (!(req->dev->mode & MACHIO_D_READ)) {
		return MACHIO_D_INVALID_OPERATION;
	}
	if (count < 0)
		return MACHIO_D_INVALID_SIZE;
	if (req->pos >= size)
		return MACHIO_D_INVALID_RECNUM;

	if (machio_op_is_inband(req->op)) {
		/* At most 128 bytes: always inside the one block at recnum. */
		if (count > MACHIO_IO_INBAND_MAX || lbs > PAGE_SIZE)
			return MACHIO_D_INVALID_SIZE;
		req->count = count;
		req->io_len = lbs;
		ret = machio_req_alloc_kbuf(req, lbs);
		if (ret)
			return ret == -ENOMEM ? MACHIO_D_NO_MEMORY : ret;
		req->rmw_reading = write;
		return 0;
	}

	if (count % lbs)
		return MACHIO_D_INVALID_SIZE;
	/* A registered buffer: @uaddr was the offset in it. */
	if (machio_op_is_fixed(req->op) &&
	    machio_buffer_use(req->fixed, req, req->uaddr, count))
		return -EFAULT;
	if (req->op != MACHIO_OP_READ && (req->uaddr & bdev_dma_alignment(bdev)))
		return MACHIO_D_INVALID_SIZE;
	/* A transfer running off the end is cut short. */
	req->count = min_t(u64, count, size - req->pos);
	req->io_len = req->count;
	if (!req->count || machio_op_is_fixed(req->op))
		return 0;

	if (req->op == MACHIO_OP_READ && machio_req_map_ool(req))
		return MACHIO_D_NO_MEMORY;
	ret = machio_req_pin(req, write);
	/* Our own fresh mapping cannot fault: only memory can be short. */
	if (ret == -ENOMEM || (ret == -EFAULT && req->op == MACHIO_OP_READ))
		return MACHIO_D_NO_MEMORY;
	return ret;	/* 0, -EAGAIN past a pin bound, or -EFAULT */
}

/*
 * Before the I/O, as O_DIRECT does: write back dirty cached pages of the
 * range, so a read sees them and none overwrites this write later; a
 * write also drops them.  Returns a Mach code.
 */
static s32 machio_req_sync_cache(struct machio_req *req)
{
	struct address_space *mapping = machio_req_mapping(req);
	loff_t end = req->pos + req->io_len - 1;

	if (!mapping->nrpages)
		return 0;
	/* Writing back or dropping cached pages would block, as for O_DIRECT. */
	if ((req->mode & MACHIO_D_NOWAIT) &&
	    filemap_range_has_page(mapping, req->pos, end))
		return MACHIO_D_WOULD_BLOCK;
	if (filemap_write_and_wait_range(mapping, req->pos, end))
		return MACHIO_D_IO_ERROR;
	/*
	 * A page that cannot be dropped (mapped and busy) stays; O_DIRECT
	 * would fall back to a buffered write there, we write anyway and
	 * drop the range again after the write.
	 */
	if (machio_op_is_write(req->op))
		invalidate_inode_pages2_range(mapping, req->pos >> PAGE_SHIFT,
					      end >> PAGE_SHIFT);
	return 0;
}

static void machio_req_start(struct machio_req *req)
{
	switch (req->op) {
	case MACHIO_OP_READ:
	case MACHIO_OP_READ_OVERWRITE:
	case MACHIO_OP_READ_FIXED:
		machio_submit_user(req, false);
		break;
	case MACHIO_OP_WRITE:
	case MACHIO_OP_WRITE_FIXED:
		machio_submit_user(req, true);
		break;
	case MACHIO_OP_READ_INBAND:
	case MACHIO_OP_WRITE_INBAND:
		/* An inband write starts by reading the block it patches. */
		machio_submit_kbuf(req, false);
		break;
	}
}

/*
 * Start @req's I/O and drop the submitter's bias it still holds (which
 * may complete it at once).  Process context.
 */
void machio_req_start_biased(struct machio_req *req)
{
	machio_req_start(req);
	machio_req_put_io(req);
}

/* A write that waited for its place in the disk order.  Process context. */
static void machio_req_start_queued(struct machio_wlock *wl)
{
	machio_dispatch(container_of(wl, struct machio_req, wlock));
}

/*
 * Take the write's place in its disk's order.  Returns 0 to start now,
 * 1 if it will be started when its turn comes, or a Mach code.
 */
static int machio_req_order_write(struct machio_req *req)
{
	struct block_device *bdev = req->dev->bdev;
	struct machio_wlock *wl = &req->wlock;
	int ret;

	wl->start = get_start_sect(bdev) + (req->pos >> SECTOR_SHIFT);
	wl->end = wl->start + (req->io_len >> SECTOR_SHIFT);
	wl->rmw = req->op == MACHIO_OP_WRITE_INBAND;
	wl->start_io = machio_req_start_queued;
	/* Before acquiring: a queued write may start and finish at once. */
	req->wlocked = true;
	ret = machio_wlock_acquire(req->dev->disk, wl,
				   req->mode & MACHIO_D_NOWAIT);
	if (ret < 0) {
		req->wlocked = false;
		return MACHIO_D_WOULD_BLOCK;
	}
	return ret;
}

/*
 * Check a request against its device, get its buffers ready and its
 * range out of the page cache.  0 to go on to machio_req_issue() (with
 * @req->code a Mach code for an outcome it reports at once, or 0), or a
 * negative errno to refuse it (machio_req_refuse): a bad argument, or
 * -EAGAIN past a pin bound.
 */
int machio_req_prepare_io(struct machio_req *req, s32 count)
{
	int ret = machio_req_prepare(req, count);

	if (ret < 0)
		return ret;
	req->code = ret;
	if (!req->code && req->io_len)
		req->code = machio_req_sync_cache(req);
	return 0;
}

/*
 * Send a prepared request on: to its disk's write order, its dispatch
 * queue and the device, or -- with a code already, or nothing to move --
 * straight to its completion, right here.  Process context.
 */
void machio_req_issue(struct machio_req *req)
{
	if (!req->code && req->io_len && machio_op_is_write(req->op)) {
		int ret = machio_req_order_write(req);

		if (ret == 1)
			return;	/* started, with its bias, in its turn */
		req->code = ret;
	}
	/* Now or in its turn, with the submitter's bias dropped then. */
	if (!req->code && req->io_len) {
		machio_dispatch(req);
		return;
	}
	/* Drop the submitter's bias: completes the request right here. */
	machio_req_put_io(req);
}

/* Refused after all: no completion will come for it.  Process context. */
void machio_req_refuse(struct machio_req *req)
{
	if (req->queue)
		machio_queue_cancel(req->queue, req->op);
	machio_req_unpin(req, true);
	machio_req_free(req);	/* also drops the device, queue and count */
}

/*
 * AbortIO took @req from its disk's queue (machio_dispatch_cancel())
 * before any of its I/O: it completes now, with nothing moved.  Process
 * context.
 */
void machio_req_abort(struct machio_req *req)
{
	req->code = MACHIO_CODE_ABORTED;
	machio_req_put_io(req);
}

/* A zeroed request of @space to @dev, taking over the caller's reference to @dev. */
static void machio_req_init(struct machio_req *req, struct machio_space *space,
			    struct machio_device *dev)
{
	memset(req, 0, sizeof(*req));
	INIT_LIST_HEAD(&req->node);
	req->space = space;
	kref_get(&space->ref);
	req->dev = dev;
	atomic_set(&req->remaining, 1);
}

/*
 * A request of @space to @dev for a front end with its own destination
 * (machio_submit takes its requests from its queue's pool instead):
 * counted in the space's requests, with a reference to @dev.  ERR_PTR
 * -EAGAIN past max_requests, or -ENOMEM.  Process context.
 */
struct machio_req *machio_req_new(struct machio_space *space, struct machio_device *dev)
{
	struct machio_req *req;

	if (atomic_inc_return(&space->nr_reqs) > READ_ONCE(machio_max_requests)) {
		atomic_dec(&space->nr_reqs);
		return ERR_PTR(-EAGAIN);
	}
	req = kmem_cache_alloc(machio_req_cache, MACHIO_GFP);
	if (!req) {
		atomic_dec(&space->nr_reqs);
		return ERR_PTR(-ENOMEM);
	}
	machio_port_get(&dev->port);
	machio_req_init(req, space, dev);
	return req;
}

/*
 * Look @name up, or take another reference to the port the batch's
 * previous request named, without the space's lock.  A batch thus sees
 * each of its names as it was when first looked up.
 */
static int machio_lookup_port(struct machio_space *space, struct machio_lookup *lookup,
			      unsigned int slot, u32 name, enum machio_kind kind,
			      struct machio_port **port)
{
	int ret;

	if (lookup && lookup->ports[slot] && lookup->names[slot] == name) {
		*port = lookup->ports[slot];
		machio_port_get(*port);
		return 0;
	}
	ret = machio_name_lookup(space, name, kind, port);
	if (ret || !lookup)
		return ret;
	if (lookup->ports[slot])
		machio_port_put(lookup->ports[slot]);
	lookup->names[slot] = name;
	lookup->ports[slot] = *port;
	machio_port_get(*port);
	return 0;
}

void machio_lookup_release(struct machio_lookup *lookup)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lookup->ports); i++)
		if (lookup->ports[i])
			machio_port_put(lookup->ports[i]);
}

/*
 * Accept one request.  Returns 0 once it is accepted (its outcome goes to
 * its queue), or a negative errno and nothing accepted.  @lookup: the
 * batch's names, or NULL.
 */
int machio_submit(struct machio_space *space, const struct machio_io_request *arg,
		  struct machio_lookup *lookup)
{
	struct machio_port *devp, *qp = NULL, *bufp = NULL;
	struct machio_queue *q = NULL;
	struct machio_req *req;
	int ret;

	if (memchr_inv(arg->reserved, 0, sizeof(arg->reserved)) || arg->pad ||
	    arg->priority > MACHIO_PRIORITY_MAX || arg->op < MACHIO_OP_READ || arg->op > MACHIO_OP_WRITE_FIXED ||
	    (arg->fixed && !machio_op_is_fixed(arg->op)) ||
	    (arg->mode & ~MACHIO_MODE_ALL))
		return -EINVAL;

	ret = machio_lookup_port(space, lookup, 0, arg->device, MACHIO_KIND_DEVICE, &devp);
	if (ret)
		return ret;
	/* Only writes may pass MACH_PORT_NULL: their result is discarded. */
	if (arg->queue != MACHIO_PORT_NULL || !machio_op_is_write(arg->op)) {
		ret = machio_lookup_port(space, lookup, 1, arg->queue, MACHIO_KIND_QUEUE, &qp);
		if (ret)
			goto err_dev;
		q = machio_to_queue(qp);
		/* A polled queue: zero-copy I/O to a device with poll queues. */
		if (q->polled && (!machio_poll_op_ok(arg->op) ||
				  !machio_bdev_can_poll(machio_to_device(devp)->bdev))) {
			ret = -EOPNOTSUPP;
			goto err_queue;
		}
	}

	if (machio_op_is_fixed(arg->op)) {
		ret = machio_lookup_port(space, lookup, 2, arg->fixed, MACHIO_KIND_BUFFER, &bufp);
		if (ret)
			goto err_queue;
	}

	/* Reaped or not, a request holds memory until it is freed. */
	if (atomic_inc_return(&space->nr_reqs) > READ_ONCE(machio_max_requests)) {
		ret = -EAGAIN;
		goto err_count;
	}
	/* Room for its completion, and a request from the queue's pool. */
	req = NULL;
	if (q) {
		req = machio_queue_begin(q, arg->op);
		if (IS_ERR(req)) {
			ret = PTR_ERR(req);
			goto err_count;
		}
	}
	if (!req)
		req = kmem_cache_alloc(machio_req_cache, MACHIO_GFP);
	if (!req) {
		ret = -ENOMEM;
		goto err_begun;
	}
	machio_req_init(req, space, machio_to_device(devp));
	req->queue = q;
	if (bufp)
		req->fixed = machio_to_buffer(bufp);
	req->op = arg->op;
	req->reqid = arg->reqid;
	req->mode = arg->mode;
	req->prio = arg->priority;
	req->uaddr = arg->buffer;
	req->pos = (u64)arg->recnum * bdev_logical_block_size(req->dev->bdev);

	/*
	 * The bytes of an inband request live beside it, so that the rest
	 * do not carry them.  Write data is copied now: the caller may reuse
	 * its buffer.
	 */
	if (machio_op_is_inband(req->op)) {
		req->inband = kzalloc(MACHIO_IO_INBAND_MAX, MACHIO_GFP);
		if (!req->inband) {
			ret = -ENOMEM;
			goto err_req;
		}
	}
	if (req->op == MACHIO_OP_WRITE_INBAND && arg->count > 0 &&
	    arg->count <= MACHIO_IO_INBAND_MAX &&
	    copy_from_user(req->inband, u64_to_user_ptr(arg->buffer), arg->count)) {
		ret = -EFAULT;
		goto err_req;
	}

	ret = machio_req_prepare_io(req, arg->count);
	if (ret < 0)
		goto err_req;
	machio_req_issue(req);
	return 0;

err_req:
	machio_req_refuse(req);
	return ret;
err_begun:
	if (q)
		machio_queue_cancel(q, arg->op);
err_count:
	atomic_dec(&space->nr_reqs);
	if (bufp)
		machio_port_put(bufp);
err_queue:
	if (qp)
		machio_port_put(qp);
err_dev:
	machio_port_put(devp);
	return ret;
}

static s32 machio_op_to_type(u32 op)
{
	switch (op) {
	case MACHIO_OP_READ:
	case MACHIO_OP_READ_INBAND:
		return MACHIO_IO_DONE_READ;
	case MACHIO_OP_READ_OVERWRITE:
	case MACHIO_OP_READ_FIXED:
		return MACHIO_IO_DONE_OVERWRITE;
	default:
		return MACHIO_IO_DONE_WRITE;
	}
}

/* The ring slots a request's completion takes, at most. */
u32 machio_req_cqe_slots(u32 op)
{
	return op == MACHIO_OP_READ_INBAND ? MACHIO_CQE_MAX_SLOTS : 1;
}

/*
 * The completion record of @req in @cqe (room for MACHIO_CQE_MAX_SLOTS
 * slots); returns the slots it takes.  Any context.  An out-of-line
 * buffer lives in the memory of the process that submitted the read; a
 * @foreign taker (a waiter in another process of a shared space) cannot
 * reach it, so it gets D_INVALID_OPERATION and no address, and the
 * buffer is unmapped from the submitter when the request is freed.
 */
u32 machio_req_fill_cqe(const struct machio_req *req, struct machio_cqe *cqe,
			bool foreign)
{
	u32 nr = 1;

	memset(cqe, 0, sizeof(*cqe));	/* no kernel bytes leak out */
	cqe->type = machio_op_to_type(req->op);
	cqe->reqid = req->reqid;
	cqe->code = req->code;
	cqe->slots = 1;
	if (req->code)
		return 1;
	if (req->op == MACHIO_OP_READ && foreign) {
		cqe->code = MACHIO_D_INVALID_OPERATION;
		return 1;
	}
	cqe->count = req->count;
	switch (req->op) {
	case MACHIO_OP_READ:
		/* A 0-byte read has no buffer. */
		if (req->mm)
			cqe->data = req->uaddr;
		break;
	case MACHIO_OP_READ_OVERWRITE:
	case MACHIO_OP_READ_FIXED:
		cqe->data = req->uaddr;
		break;
	case MACHIO_OP_READ_INBAND:
		nr += DIV_ROUND_UP(req->count, MACHIO_CQE_SIZE);
		memset(&cqe[1], 0, (nr - 1) * MACHIO_CQE_SIZE);
		memcpy(&cqe[1], req->inband, req->count);
		cqe->flags = MACHIO_CQE_INBAND;
		cqe->slots = nr;
		break;
	}
	return nr;
}

/*
 * The request's memory back to its queue's pool (dropping the request's
 * reference to the queue, from any context), or to the slab cache.
 */
static void machio_req_recycle(struct machio_req *req)
{
	struct machio_queue *q = req->queue;

	if (!q) {
		kmem_cache_free(machio_req_cache, req);
		return;
	}
	machio_pool_give(q, req);
	machio_queue_put_any(q);
}

/*
 * Unmap an out-of-line buffer that its process never received.  From its
 * own process directly; otherwise from the module's work item, which can
 * borrow the mm if the process still lives.  Returns false if this
 * context can do neither.
 */
static bool machio_req_unmap_ool(struct machio_req *req)
{
	if (req->mm == current->mm) {
		vm_munmap(req->uaddr, req->map_len);
		return true;
	}
	if (!(current->flags & PF_KTHREAD) || current->mm)
		return false;
	if (mmget_not_zero(req->mm)) {
		kthread_use_mm(req->mm);
		vm_munmap(req->uaddr, req->map_len);
		kthread_unuse_mm(req->mm);
		mmput(req->mm);
	}
	return true;
}

/*
 * Release what a finished request still holds.  Process context; its
 * pages were released when its I/O completed.
 */
void machio_req_free(struct machio_req *req)
{
	struct machio_space *space = req->space;

	if (req->mm) {
		if (!req->delivered && !machio_req_unmap_ool(req)) {
			machio_req_free_later(req);
			return;
		}
		mmdrop(req->mm);
	}
	machio_req_free_kbuf(req);
	kfree(req->inband);
	if (req->dest == MACHIO_DEST_PF && req->ioreq)
		machio_pf_item_put(&req->ioreq->item);
	else if (req->dest == MACHIO_DEST_MMSG && req->reply)
		machio_dreply_discard(req->reply);	/* refused: never sent */
	if (machio_op_is_fixed(req->op) && req->fixed) {
		machio_buffer_unuse(req);	/* refused before its I/O */
		machio_port_put(&req->fixed->port);
	}
	if (req->dev)
		machio_port_put(&req->dev->port);
	if (!req->uncounted)
		atomic_dec(&space->nr_reqs);
	machio_req_recycle(req);
	machio_space_put(space);
}

/* Drop a reference unless it is the last one (whose release may sleep). */
static bool machio_kref_put_not_last(struct kref *ref)
{
	return refcount_dec_not_one(&ref->refcount);
}

/*
 * Free a finished request from any context: at once when that needs
 * nothing that may sleep -- the usual case, since the names, the open
 * file and other requests keep its ports and space alive -- or else from
 * a work item.  Each reference dropped here is forgotten, so that the
 * work item drops only the rest.  The queue's goes last, with the
 * request into its pool: a queue's last reference is dropped safely
 * anywhere.
 */
void machio_req_release(struct machio_req *req)
{
	struct machio_space *space = req->space;

	if (req->mm || req->kbuf)
		goto later;
	if (machio_op_is_fixed(req->op) && req->fixed) {
		if (!machio_kref_put_not_last(&req->fixed->port.ref))
			goto later;
		req->fixed = NULL;
	}
	if (!machio_kref_put_not_last(&req->dev->port.ref))
		goto later;
	req->dev = NULL;
	kfree(req->inband);
	req->inband = NULL;
	if (req->dest == MACHIO_DEST_PF) {
		if (!machio_kref_put_not_last(&req->ioreq->item.ref))
			goto later;
		req->ioreq = NULL;
	}
	/* Uncounted before the space may go: another thread may drop it. */
	atomic_dec(&space->nr_reqs);
	req->uncounted = true;
	if (!machio_kref_put_not_last(&space->ref))
		goto later;
	machio_req_recycle(req);
	return;
later:
	machio_req_free_later(req);
}
