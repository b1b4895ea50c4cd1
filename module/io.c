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
 * Completion may run in hard interrupt, soft interrupt or task context:
 * it only records status, copies an inband block out of a kernel page and
 * posts to the queue.  Unpinning (which dirties pages and may sleep),
 * unmapping and freeing happen later in process context.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>
#include "machio.h"

#define MACHIO_MODE_ALL \
	(MACHIO_D_READ | MACHIO_D_WRITE | MACHIO_D_NODELAY | MACHIO_D_NOWAIT)

static bool machio_op_is_write(u32 op)
{
	return op == MACHIO_OP_WRITE || op == MACHIO_OP_WRITE_INBAND;
}

static bool machio_op_is_inband(u32 op)
{
	return op == MACHIO_OP_READ_INBAND || op == MACHIO_OP_WRITE_INBAND;
}

static void machio_req_post(struct machio_req *req);

static void machio_discard_work(struct work_struct *work)
{
	machio_req_free(container_of(work, struct machio_req, work));
}

static s32 machio_status_to_code(const struct machio_req *req)
{
	switch ((blk_status_t)req->status) {
	case BLK_STS_OK:
		return MACHIO_KERN_SUCCESS;
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
	return opf;
}

static void machio_submit_kpage(struct machio_req *req, bool write);

/* Inband write, step 2 (process context): patch the block, write it. */
static void machio_rmw_write_work(struct work_struct *work)
{
	struct machio_req *req = container_of(work, struct machio_req, work);

	req->rmw_reading = false;
	memcpy(page_address(req->kpage), req->inband, req->count);
	atomic_set(&req->remaining, 1);
	machio_submit_kpage(req, true);
	if (atomic_dec_and_test(&req->remaining))
		machio_req_post(req);
}

/* All bios of @req are done.  Any context. */
static void machio_req_complete(struct machio_req *req)
{
	if (!req->code)
		req->code = machio_status_to_code(req);
	if (req->code) {
		machio_req_post(req);
		return;
	}
	if (req->op == MACHIO_OP_READ_INBAND) {
		memcpy(req->inband, page_address(req->kpage), req->count);
	} else if (req->op == MACHIO_OP_WRITE_INBAND && req->rmw_reading) {
		/* submit_bio() may sleep: the write goes out from a worker. */
		INIT_WORK(&req->work, machio_rmw_write_work);
		queue_work(machio_wq, &req->work);
		return;
	}
	machio_req_post(req);
}

static void machio_req_put_io(struct machio_req *req)
{
	if (atomic_dec_and_test(&req->remaining))
		machio_req_complete(req);
}

static void machio_req_post(struct machio_req *req)
{
	if (req->queue) {
		machio_queue_post(req->queue, req);
	} else {
		/* A write without a queue: nobody wants the result. */
		INIT_WORK(&req->work, machio_discard_work);
		queue_work(machio_wq, &req->work);
	}
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
	 * From fs_bio_set with direct reclaim: cannot fail as long as each
	 * bio is submitted before the next is allocated, as here.
	 */
	bio = bio_alloc(req->dev->bdev, nvecs, opf, GFP_KERNEL);
	bio->bi_iter.bi_sector = pos >> SECTOR_SHIFT;
	bio->bi_end_io = machio_bio_end_io;
	bio->bi_private = req;
	return bio;
}

static void machio_submit_bio(struct machio_req *req, struct bio *bio)
{
	atomic_inc(&req->remaining);
	submit_bio(bio);
}

/* One block through the request's kernel page (inband requests). */
static void machio_submit_kpage(struct machio_req *req, bool write)
{
	unsigned int lbs = bdev_logical_block_size(req->dev->bdev);
	struct bio *bio;

	bio = machio_bio_alloc(req, 1, machio_req_opf(req, write), req->pos);
	if (bio_add_page(bio, req->kpage, lbs, 0) != lbs) {
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

/* Pin [uaddr, uaddr + count) for the life of the request. */
static int machio_req_pin(struct machio_req *req, bool write)
{
	unsigned long start = req->uaddr & PAGE_MASK;
	unsigned int nr = DIV_ROUND_UP(offset_in_page(req->uaddr) + req->count,
				       PAGE_SIZE);
	int got;

	req->pages = kvmalloc_array(nr, sizeof(*req->pages), GFP_KERNEL);
	if (!req->pages)
		return -ENOMEM;
	/* A device-to-memory transfer writes the pages: break COW now. */
	req->dirty = !write;
	while (req->nr_pages < nr) {
		got = pin_user_pages_fast(start + (unsigned long)req->nr_pages * PAGE_SIZE,
					  nr - req->nr_pages, write ? 0 : FOLL_WRITE,
					  req->pages + req->nr_pages);
		if (got <= 0)
			return got ? got : -EFAULT;
		req->nr_pages += got;
	}
	return 0;
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
 * negative errno for a bad argument the submit call itself reports.
 */
static int machio_req_prepare(struct machio_req *req, s32 count)
{
	struct block_device *bdev = req->dev->bdev;
	unsigned int lbs = bdev_logical_block_size(bdev);
	u64 size = bdev_nr_bytes(bdev);
	bool write = machio_op_is_write(req->op);

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
		req->kpage = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!req->kpage)
			return MACHIO_D_NO_MEMORY;
		req->rmw_reading = write;
		return 0;
	}

	if (count % lbs)
		return MACHIO_D_INVALID_SIZE;
	if (req->op != MACHIO_OP_READ && (req->uaddr & bdev_dma_alignment(bdev)))
		return MACHIO_D_INVALID_SIZE;
	/* A transfer running off the end is cut short. */
	req->count = min_t(u64, count, size - req->pos);
	if (!req->count)
		return 0;

	if (req->op == MACHIO_OP_READ && machio_req_map_ool(req))
		return MACHIO_D_NO_MEMORY;
	switch (machio_req_pin(req, write)) {
	case 0:
		return 0;
	case -ENOMEM:
		return MACHIO_D_NO_MEMORY;
	default:
		/* Our own fresh mapping cannot fault: only memory was short. */
		return req->op == MACHIO_OP_READ ? MACHIO_D_NO_MEMORY : -EFAULT;
	}
}

static void machio_req_start(struct machio_req *req)
{
	if (!req->count)
		return;
	switch (req->op) {
	case MACHIO_OP_READ:
	case MACHIO_OP_READ_OVERWRITE:
		machio_submit_user(req, false);
		break;
	case MACHIO_OP_WRITE:
		machio_submit_user(req, true);
		break;
	case MACHIO_OP_READ_INBAND:
	case MACHIO_OP_WRITE_INBAND:
		/* An inband write starts by reading the block it patches. */
		machio_submit_kpage(req, false);
		break;
	}
}

int machio_submit(struct machio_space *space,
		  const struct machio_io_request *arg)
{
	struct machio_port *devp, *qp = NULL;
	struct machio_req *req;
	int ret;

	if (arg->pad || memchr_inv(arg->reserved, 0, sizeof(arg->reserved)) ||
	    arg->op < MACHIO_OP_READ || arg->op > MACHIO_OP_WRITE_INBAND ||
	    (arg->mode & ~MACHIO_MODE_ALL))
		return -EINVAL;

	ret = machio_name_lookup(space, arg->device, MACHIO_KIND_DEVICE, &devp);
	if (ret)
		return ret;
	/* Only writes may pass MACH_PORT_NULL: their result is discarded. */
	if (arg->queue != MACHIO_PORT_NULL || !machio_op_is_write(arg->op)) {
		ret = machio_name_lookup(space, arg->queue, MACHIO_KIND_QUEUE, &qp);
		if (ret)
			goto err_dev;
	}

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req) {
		ret = -ENOMEM;
		goto err_queue;
	}
	req->space = space;
	atomic_inc(&space->nr_reqs);
	req->dev = machio_to_device(devp);
	req->queue = qp ? machio_to_queue(qp) : NULL;
	req->op = arg->op;
	req->reqid = arg->reqid;
	req->mode = arg->mode;
	req->uaddr = arg->buffer;
	req->pos = (u64)arg->recnum * bdev_logical_block_size(req->dev->bdev);
	atomic_set(&req->remaining, 1);

	/* Inband write data is copied now: the caller may reuse its buffer. */
	if (req->op == MACHIO_OP_WRITE_INBAND && arg->count > 0 &&
	    arg->count <= MACHIO_IO_INBAND_MAX &&
	    copy_from_user(req->inband, u64_to_user_ptr(arg->buffer), arg->count)) {
		ret = -EFAULT;
		goto err_req;
	}

	ret = machio_req_prepare(req, arg->count);
	if (ret < 0)
		goto err_req;
	req->code = ret;
	if (req->queue) {
		ret = machio_queue_begin(req->queue);
		if (ret)
			goto err_req;
	}
	if (!req->code)
		machio_req_start(req);
	/* Drop the submitter's bias: may complete the request right here. */
	machio_req_put_io(req);
	return 0;

err_req:
	machio_req_free(req);	/* also drops the device and queue */
	return ret;
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
		return MACHIO_IO_DONE_OVERWRITE;
	default:
		return MACHIO_IO_DONE_WRITE;
	}
}

/* The completion record a waiter gets; @uresult is where it goes. */
void machio_req_fill_result(struct machio_req *req,
			    struct machio_io_done_result *res, u64 uresult)
{
	memset(res, 0, sizeof(*res));	/* no kernel bytes leak out */
	res->qd_type = machio_op_to_type(req->op);
	res->qd_reqid = req->reqid;
	res->qd_code = req->code;
	if (req->code)
		return;
	res->qd_count = req->count;
	switch (req->op) {
	case MACHIO_OP_READ:
	case MACHIO_OP_READ_OVERWRITE:
		res->qd_data = req->uaddr;
		break;
	case MACHIO_OP_READ_INBAND:
		memcpy(res->qd_inline, req->inband, req->count);
		res->qd_data = uresult + offsetof(struct machio_io_done_result,
						  qd_inline);
		break;
	}
}

/* Release everything @req holds.  Process context: may sleep. */
void machio_req_free(struct machio_req *req)
{
	struct machio_space *space = req->space;

	if (req->nr_pages) {
		if (req->dirty)
			unpin_user_pages_dirty_lock(req->pages, req->nr_pages, true);
		else
			unpin_user_pages(req->pages, req->nr_pages);
	}
	kvfree(req->pages);
	if (req->kpage)
		__free_page(req->kpage);
	if (req->mm) {
		/*
		 * An out-of-line buffer nobody received (failed, discarded by
		 * terminate) is unmapped again when we are still in its mm;
		 * a dying process drops it with the rest of its memory.
		 */
		if ((!req->delivered || req->code) && req->mm == current->mm)
			vm_munmap(req->uaddr, req->map_len);
		mmdrop(req->mm);
	}
	if (req->queue)
		machio_port_put(&req->queue->port);
	machio_port_put(&req->dev->port);
	kfree(req);
	if (atomic_dec_and_test(&space->nr_reqs))
		wake_up_var(&space->nr_reqs);
}
