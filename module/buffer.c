// SPDX-License-Identifier: GPL-2.0
/*
 * Registered buffers: user memory pinned once (FOLL_LONGTERM) and named
 * in the space, so that requests naming it and an offset skip the pin
 * and unpin of every I/O, as io_uring's registered buffers do.
 *
 * The pins are charged to the caller's RLIMIT_MEMLOCK (account_locked_vm
 * on its mm, which CAP_IPC_LOCK bypasses), as io_uring charged its
 * buffers, and to the module-wide pin total that keeps every page's
 * reference count from wrapping (pin.c).  The page array is charged to
 * the caller's memory cgroup.
 *
 * A buffer is a port: the name holds one reference and every request
 * using it another, so the pages stay pinned until the last I/O into
 * them is over.  Deallocating the name (mach_port_deallocate) then waits,
 * killably, until no request uses the buffer, so when it returns no
 * device touches the memory any more.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include "machio.h"

/* The largest buffer one registration pins: 1 GiB. */
#define MACHIO_BUFFER_MAX	(1ULL << 30)

/*
 * The last reference.  Always process context: requests drop theirs from
 * the completion path only when it is not the last (io.c), so the charge
 * is gone by the time the deallocate or close that dropped it returns.
 */
static void machio_buffer_free(struct machio_port *port)
{
	struct machio_buffer *buf = container_of(port, struct machio_buffer, port);

	/* Read into by the device: dirty, as a direct-I/O read leaves them. */
	unpin_user_pages_dirty_lock(buf->pages, buf->nr_pages, true);
	machio_pin_uncharge_total(buf->nr_pages);
	account_locked_vm(buf->mm, buf->nr_pages, false);
	mmdrop(buf->mm);
	kvfree(buf->pages);
	kfree(buf);
}

int machio_buffer_register(struct machio_space *space,
			   struct machio_buffer_register *arg)
{
	unsigned long start = arg->addr & PAGE_MASK;
	struct machio_buffer *buf;
	unsigned int nr, got = 0;
	int ret;

	if (!arg->len || arg->len > MACHIO_BUFFER_MAX ||
	    arg->addr + arg->len < arg->addr)
		return -EINVAL;
	nr = DIV_ROUND_UP(offset_in_page(arg->addr) + arg->len, PAGE_SIZE);

	buf = kzalloc(sizeof(*buf), MACHIO_GFP);
	if (!buf)
		return -ENOMEM;
	machio_port_init(&buf->port, MACHIO_KIND_BUFFER, machio_buffer_free);
	atomic_set(&buf->inflight, 0);
	init_waitqueue_head(&buf->wait);
	buf->addr = arg->addr;
	buf->len = arg->len;
	buf->pages = kvmalloc_array(nr, sizeof(*buf->pages), MACHIO_GFP);
	if (!buf->pages) {
		ret = -ENOMEM;
		goto err_buf;
	}
	/* RLIMIT_MEMLOCK, as io_uring's registered buffers: -ENOMEM past it. */
	ret = account_locked_vm(current->mm, nr, true);
	if (ret)
		goto err_pages;
	ret = machio_pin_charge_total(nr);
	if (ret)
		goto err_locked;

	while (got < nr) {
		/* The device writes into them: break COW now, for good. */
		ret = pin_user_pages_fast(start + (unsigned long)got * PAGE_SIZE, nr - got,
					  FOLL_WRITE | FOLL_LONGTERM, buf->pages + got);
		if (ret <= 0) {
			ret = ret == -ENOMEM ? ret : -EFAULT;
			goto err_unpin;
		}
		got += ret;
	}
	buf->nr_pages = nr;
	buf->mm = current->mm;
	mmgrab(buf->mm);

	ret = machio_name_alloc(space, MACHIO_KIND_BUFFER, &buf->port, &arg->name);
	if (ret)
		machio_port_put(&buf->port);
	return ret;

err_unpin:
	unpin_user_pages(buf->pages, got);
	machio_pin_uncharge_total(nr);
err_locked:
	account_locked_vm(current->mm, nr, false);
err_pages:
	kvfree(buf->pages);
err_buf:
	kfree(buf);
	return ret;
}

/*
 * Point @req at [@offset, @offset + @count) of @buf, which the request
 * holds a reference to; -EINVAL if that is not inside the buffer.
 */
int machio_buffer_use(struct machio_buffer *buf, struct machio_req *req,
		      u64 offset, u32 count)
{
	u64 first = offset_in_page(buf->addr) + offset;

	if (offset > buf->len || count > buf->len - offset)
		return -EINVAL;
	req->uaddr = buf->addr + offset;
	req->pages = buf->pages + (first >> PAGE_SHIFT);
	req->fixed_busy = true;
	atomic_inc(&buf->inflight);
	return 0;
}

/* The I/O of @req, which used its buffer, is over.  Any context. */
void machio_buffer_unuse(struct machio_req *req)
{
	struct machio_buffer *buf = req->fixed;

	if (!req->fixed_busy)
		return;
	req->fixed_busy = false;
	if (atomic_dec_and_test(&buf->inflight))
		wake_up_all(&buf->wait);
}

/* After its name is gone: until no I/O uses it.  -EINTR if killed. */
int machio_buffer_drain(struct machio_port *port)
{
	struct machio_buffer *buf = container_of(port, struct machio_buffer, port);

	if (wait_event_killable(buf->wait, !atomic_read(&buf->inflight)))
		return -EINTR;
	return 0;
}
