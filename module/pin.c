// SPDX-License-Identifier: GPL-2.0
/*
 * Memory held for I/O in flight: pinned user pages, and the one-block
 * kernel buffers of inband requests (each counted as a page).  The one
 * place that pins, charges and releases them.
 *
 * A request pins its buffer only for as long as the device works on it,
 * like the block layer's own direct I/O: the pages are pinned in the
 * submitting system call and released as the request's I/O completes.
 *
 * Pins are bounded twice.  Per space (max_pinned_pages) so one caller
 * cannot hold much memory still; and module-wide (max_pinned_total, at
 * most MACHIO_PINNED_TOTAL_LIMIT) because a page's reference count must
 * never wrap: each pin of a small page adds GUP_PIN_COUNTING_BIAS (1024)
 * to it, so 2^21 pins of one page (say, one page mapped at every address
 * of a buffer) overflow it, which the kernel answers with a WARNING in
 * try_grab_folio.  A bound on all of machio's pins together is the only
 * bound that holds whatever aliasing the callers arrange.
 *
 * A read writes into its pages, so they must be dirtied.  Dirtying may
 * sleep (it locks the page); completion may not.  As the block layer does
 * for direct-I/O reads (bio_set_pages_dirty / bio_check_pages_dirty), the
 * pages are dirtied before the I/O in process context, and at completion
 * they are released at once if they are all still dirty -- the usual case
 * for anonymous memory -- or else from a work item, which dirties them
 * again.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include "machio.h"

static atomic_long_t machio_pinned_total = ATOMIC_LONG_INIT(0);

/* Reserve @nr pages of pin budget for @space; -EAGAIN past a bound. */
int machio_pin_charge(struct machio_space *space, unsigned int nr)
{
	if (nr > READ_ONCE(machio_max_pinned_pages))
		return -EAGAIN;
	if (atomic_add_return(nr, &space->nr_pinned) >
	    READ_ONCE(machio_max_pinned_pages))
		goto undo_space;
	if (atomic_long_add_return(nr, &machio_pinned_total) >
	    READ_ONCE(machio_max_pinned_total))
		goto undo_total;
	return 0;

undo_total:
	atomic_long_sub(nr, &machio_pinned_total);
undo_space:
	atomic_sub(nr, &space->nr_pinned);
	return -EAGAIN;
}

/* Any context. */
void machio_pin_uncharge(struct machio_space *space, unsigned int nr)
{
	atomic_long_sub(nr, &machio_pinned_total);
	atomic_sub(nr, &space->nr_pinned);
}

/*
 * Pins that outlive one I/O (registered buffers) count only towards the
 * module-wide bound; RLIMIT_MEMLOCK bounds them per user.
 */
int machio_pin_charge_total(unsigned int nr)
{
	if (atomic_long_add_return(nr, &machio_pinned_total) >
	    READ_ONCE(machio_max_pinned_total)) {
		atomic_long_sub(nr, &machio_pinned_total);
		return -EAGAIN;
	}
	return 0;
}

void machio_pin_uncharge_total(unsigned int nr)
{
	atomic_long_sub(nr, &machio_pinned_total);
}

/* Any context for an inline or kmalloc'ed array; vmalloc'ed: may sleep. */
static void machio_req_free_page_array(struct machio_req *req)
{
	if (req->pages != req->page_array)
		kvfree(req->pages);
	req->pages = NULL;
}

/*
 * Pin [uaddr, uaddr + count) for the I/O of @req: -EAGAIN past a pin
 * bound, -ENOMEM, or -EFAULT for memory the caller cannot hand us.  On
 * failure nothing stays pinned or charged.
 */
int machio_req_pin(struct machio_req *req, bool write)
{
	unsigned long start = req->uaddr & PAGE_MASK;
	unsigned int nr = DIV_ROUND_UP(offset_in_page(req->uaddr) + req->count,
				       PAGE_SIZE);
	unsigned int got = 0, i;
	int ret;

	ret = machio_pin_charge(req->space, nr);
	if (ret)
		return ret;
	ret = -ENOMEM;
	if (nr <= MACHIO_INLINE_PAGES)
		req->pages = req->page_array;
	else
		req->pages = kvmalloc_array(nr, sizeof(*req->pages), MACHIO_GFP);
	if (!req->pages)
		goto err_uncharge;
	/* A device-to-memory transfer writes the pages: break COW now. */
	while (got < nr) {
		ret = pin_user_pages_fast(start + (unsigned long)got * PAGE_SIZE,
					  nr - got, write ? 0 : FOLL_WRITE,
					  req->pages + got);
		if (ret <= 0) {
			/* Anything but a memory shortage: the caller's address. */
			ret = ret == -ENOMEM ? ret : -EFAULT;
			goto err_unpin;
		}
		got += ret;
	}
	if (!write) {
		/*
		 * Only pages not dirty yet need the page lock.  One cleaned
		 * before the I/O completes is caught there and re-dirtied.
		 */
		for (i = 0; i < nr; i++)
			if (!folio_test_dirty(page_folio(req->pages[i])))
				set_page_dirty_lock(req->pages[i]);
		req->dirty = true;
	}
	req->nr_pages = nr;
	return 0;

err_unpin:
	unpin_user_pages(req->pages, got);
	machio_req_free_page_array(req);
err_uncharge:
	machio_pin_uncharge(req->space, nr);
	return ret;
}

/*
 * Can the pages of @req be released in a context that may not sleep?
 * Not if one of them was cleaned (written back) during a read, which must
 * dirty it again, nor if the page array came from vmalloc.
 */
bool machio_req_pages_releasable(const struct machio_req *req)
{
	unsigned int i;

	/* A registered buffer's pages stay pinned: nothing to release. */
	if (!req->pages || machio_op_is_fixed(req->op))
		return true;
	if (is_vmalloc_addr(req->pages))
		return false;
	if (req->dirty) {
		for (i = 0; i < req->nr_pages; i++)
			if (!folio_test_dirty(page_folio(req->pages[i])))
				return false;
	}
	return true;
}

/*
 * Release the pages of @req and their charge.  With !@may_sleep only
 * after machio_req_pages_releasable() said yes.
 */
void machio_req_unpin(struct machio_req *req, bool may_sleep)
{
	if (!req->pages)
		return;
	if (machio_op_is_fixed(req->op)) {
		req->pages = NULL;	/* the buffer's, not ours */
		return;
	}
	if (may_sleep && req->dirty)
		unpin_user_pages_dirty_lock(req->pages, req->nr_pages, true);
	else
		unpin_user_pages(req->pages, req->nr_pages);
	machio_pin_uncharge(req->space, req->nr_pages);
	machio_req_free_page_array(req);
	req->nr_pages = 0;
}

/*
 * The kernel buffer of an inband request: one logical block (at most a
 * page; kmalloc aligns a power-of-two size to itself, so it is one DMA
 * segment), charged as one page.  -EAGAIN past a bound, or -ENOMEM.
 */
int machio_req_alloc_kbuf(struct machio_req *req, unsigned int len)
{
	int ret = machio_pin_charge(req->space, 1);

	if (ret)
		return ret;
	req->kbuf = kzalloc(len, MACHIO_GFP);
	if (!req->kbuf) {
		machio_pin_uncharge(req->space, 1);
		return -ENOMEM;
	}
	return 0;
}

/* Any context. */
void machio_req_free_kbuf(struct machio_req *req)
{
	if (!req->kbuf)
		return;
	kfree(req->kbuf);
	req->kbuf = NULL;
	machio_pin_uncharge(req->space, 1);
}
