// SPDX-License-Identifier: GPL-2.0
/*
 * machio: Mach io_done_queue style asynchronous I/O on Linux block devices.
 *
 * /dev/machio is a misc device that any user may open.  Each open is a
 * task's port name space.  The module only ever acts through block-device
 * file descriptors the caller already holds, with no more access than
 * those descriptors grant, so opening /dev/machio grants nothing new.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/workqueue.h>
#include "machio.h"

unsigned int machio_max_names = 4096;
unsigned int machio_max_requests = 65536;
unsigned int machio_max_pinned_pages = 16384;		/* 64 MiB of 4 KiB pages */
unsigned int machio_max_pinned_total = 262144;		/* 1 GiB */
unsigned int machio_max_ring_slots = 524288;		/* 16 MiB of slots */
unsigned int machio_max_pf_items = MACHIO_PF_MAX_ITEMS - MACHIO_PF_MIN_ITEM;
unsigned int machio_max_netnames = 64;
unsigned int machio_max_msg_bytes = 16 << 20;
unsigned int machio_msg_spin_us = 200;
struct workqueue_struct *machio_wq;
struct kmem_cache *machio_req_cache;
/* Every bio machio sends, with a per-CPU cache of small ones. */
struct bio_set machio_bio_set;

/*
 * No page may reach 2^21 pins (its reference count would wrap, pin.c):
 * machio's pins together stay at half of that.
 */
#define MACHIO_PINNED_TOTAL_LIMIT	(1U << 20)
#define MACHIO_MAX_REQUESTS_LIMIT	(1U << 20)
#define MACHIO_MAX_RING_SLOTS_LIMIT	(1U << 24)

/*
 * A parameter taking an unsigned number in [@min, @max] (anything else
 * is EINVAL), writable at run time, with its description.
 */
#define MACHIO_UINT_PARAM(name, min, max, desc)						\
	static int machio_set_##name(const char *val, const struct kernel_param *kp)	\
	{										\
		return param_set_uint_minmax(val, kp, (min), (max));			\
	}										\
	static const struct kernel_param_ops machio_##name##_ops = {			\
		.set = machio_set_##name,						\
		.get = param_get_uint,							\
	};										\
	module_param_cb(name, &machio_##name##_ops, &machio_##name, 0644);		\
	MODULE_PARM_DESC(name, desc)

/* Host and task names take two slots of every space. */
MACHIO_UINT_PARAM(max_names, 4, MACHIO_MAX_NAMES_LIMIT,
		  "Names one name space may hold, host, task and name server included (4..1048576, default 4096)");
MACHIO_UINT_PARAM(max_requests, 1, MACHIO_MAX_REQUESTS_LIMIT,
		  "Requests one name space may have in flight or unreaped (1..1048576, default 65536)");
MACHIO_UINT_PARAM(max_pinned_pages, 1, MACHIO_PINNED_TOTAL_LIMIT,
		  "User pages one name space may have pinned for I/O at once (1..1048576, default 16384)");
MACHIO_UINT_PARAM(max_pinned_total, 1, MACHIO_PINNED_TOTAL_LIMIT,
		  "User pages all of machio may have pinned for I/O at once (1..1048576, default 262144)");
MACHIO_UINT_PARAM(max_ring_slots, 1, MACHIO_MAX_RING_SLOTS_LIMIT,
		  "Completion ring slots (32 bytes each) the queues of one name space may have (1..16777216, default 524288)");
/* Opera's whole item table, its first 16 indexes never used, at most. */
MACHIO_UINT_PARAM(max_pf_items, 1, MACHIO_PF_MAX_ITEMS - MACHIO_PF_MIN_ITEM,
		  "Portfolio items one user may have (1..4080, default 4080)");
MACHIO_UINT_PARAM(max_msg_bytes, 2 * MACHIO_MSG_SIZE_MAX, 1U << 30,
		  "Bytes of Mach messages one space may have queued and not yet received (256 KiB..1 GiB, default 16 MiB)");
/* mwait.c */
MACHIO_UINT_PARAM(msg_spin_us, 0, 1000,
		  "Longest a mach_msg receiver spins for its message before it sleeps, in microseconds: it spins as long as being woken has taken (0..1000, default 200; 0: never)");
MACHIO_UINT_PARAM(max_netnames, 1, 65536,
		  "Names one user may have checked in with the name service (1..65536, default 64)");

static int machio_open(struct inode *inode, struct file *file)
{
	struct machio_space *space;

	space = machio_space_create();
	if (!space)
		return -ENOMEM;
	/* misc_open() left the miscdevice here; we do not need it. */
	file->private_data = space;
	return 0;
}

static int machio_release(struct inode *inode, struct file *file)
{
	struct machio_space *space = file->private_data;
	struct machio_port *port;
	u32 cursor = 0;
	u8 kind, rights;

	/*
	 * No ioctl can be running: it would hold a file reference.  Take
	 * every object out of the table and terminate each queue without
	 * waiting for the device: I/O still in flight drains in the
	 * background, each request holding what it needs (its ports, the
	 * space, through the space the module), and the last one to be
	 * freed frees the space.  Neither current nor its mm may be used
	 * here: this can run at process exit or in a worker.
	 */
	/* Its Portfolio tasks go first: their items refer to its ports. */
	machio_pf_space_release(space);
	while ((port = machio_space_detach_next(space, &cursor, &kind, &rights))) {
		if (port->kind == MACHIO_KIND_QUEUE)
			machio_queue_terminate(machio_to_queue(port), false);
		/* Its rights go: a receive right's port dies, and its set. */
		machio_right_release(port, kind, rights);
	}
	machio_space_put(space);
	return 0;
}

/* The only mapping: the view of the user's Portfolio items (pf_view.c). */
static int machio_mmap(struct file *file, struct vm_area_struct *vma)
{
	return machio_pf_view_mmap(file->private_data, vma);
}

static const struct file_operations machio_fops = {
	.owner = THIS_MODULE,
	.open = machio_open,
	.release = machio_release,
	.mmap = machio_mmap,
	.unlocked_ioctl = machio_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice machio_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "machio",
	.fops = &machio_fops,
	/* Harmless to everyone: see the comment at the top. */
	.mode = 0666,
};

static int __init machio_init(void)
{
	int ret;

	/*
	 * Deferred completion steps, queued writes, discards; must make
	 * progress under reclaim.
	 */
	machio_wq = alloc_workqueue("machio", WQ_MEM_RECLAIM, 0);
	if (!machio_wq)
		return -ENOMEM;
	/* Charged to the submitter's memory cgroup, like every request byte. */
	machio_req_cache = KMEM_CACHE(machio_req, SLAB_ACCOUNT);
	if (!machio_req_cache) {
		ret = -ENOMEM;
		goto err_wq;
	}
	ret = bioset_init(&machio_bio_set, BIO_POOL_SIZE, 0,
			  BIOSET_NEED_BVECS | BIOSET_PERCPU_CACHE);
	if (ret)
		goto err_cache;
	ret = misc_register(&machio_misc);
	if (ret) {
		pr_err("cannot register /dev/machio: %d\n", ret);
		goto err_bioset;
	}
	return 0;

err_bioset:
	bioset_exit(&machio_bio_set);
err_cache:
	kmem_cache_destroy(machio_req_cache);
err_wq:
	destroy_workqueue(machio_wq);
	return ret;
}

static void __exit machio_exit(void)
{
	misc_deregister(&machio_misc);
	machio_netname_exit();
	/* Flushes: no work item still runs module code after this. */
	destroy_workqueue(machio_wq);
	bioset_exit(&machio_bio_set);
	kmem_cache_destroy(machio_req_cache);
}

module_init(machio_init);
module_exit(machio_exit);

MODULE_DESCRIPTION("Mach io_done_queue asynchronous I/O for block devices");
MODULE_AUTHOR("machio developers");
MODULE_LICENSE("GPL");
