/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel interfaces machio uses that changed between 6.1 and
 * current kernels, each behind one small named helper.  Everything else
 * the module calls has kept its signature since 6.1.
 */
#ifndef _MACHIO_COMPAT_H
#define _MACHIO_COMPAT_H

#include <linux/blkdev.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/mm.h>

/*
 * fd -> block device.  file_bdev() arrived in 6.9 and is literally this
 * expression; I_BDEV() on the mapping host works on every version.
 */
static inline struct block_device *machio_file_bdev(struct file *file)
{
	return I_BDEV(file->f_mapping->host);
}

/*
 * Has the disk behind @bdev gone away (del_gendisk, or a driver that
 * marked it dead)?  Its size then reads 0, so without this check every
 * request would look out of range.  disk_live() is inline in 6.1 and an
 * exported function from 6.10 on; GD_DEAD exists throughout.
 */
static inline bool machio_bdev_gone(struct block_device *bdev)
{
	struct gendisk *disk = bdev->bd_disk;

	return test_bit(GD_DEAD, &disk->state) || !disk_live(disk);
}

/* eventfd_signal() lost its count argument in 6.8 (probed by Kbuild). */
static inline void machio_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef MACHIO_EVENTFD_SIGNAL_NO_COUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* vm_flags became read-only, written through vm_flags_set(), in 6.3 (probed). */
static inline void machio_vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
#ifdef MACHIO_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void machio_vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
#ifdef MACHIO_HAVE_VM_FLAGS_SET
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/* Does @bdev's queue take polled I/O?  A queue limit from 6.11 (probed). */
static inline bool machio_bdev_can_poll(struct block_device *bdev)
{
	struct request_queue *q = bdev_get_queue(bdev);

#ifdef MACHIO_HAVE_BLK_FEAT_POLL
	return q->limits.features & BLK_FEAT_POLL;
#else
	return test_bit(QUEUE_FLAG_POLL, &q->queue_flags);
#endif
}

/*
 * May a bio come from its bio set's per-CPU cache (REQ_ALLOC_CACHE)?  Its
 * last bio_put() returns it there, which 6.2 made safe in any context
 * (commit b99182c501c3, "bio: add pcpu caching for non-polling
 * bio_put"); 6.1 allows only process context (its bio_alloc_bioset()
 * kernel-doc), which for us means polled I/O, completed by the poller.
 * A behaviour, not an interface: Kbuild sets the flag from the kernel's
 * version, there being nothing in the headers to probe.
 */
static inline blk_opf_t machio_bio_cache_opf(bool polled)
{
#ifdef MACHIO_BIO_CACHE_ANY_CONTEXT
	return REQ_ALLOC_CACHE;
#else
	return polled ? REQ_ALLOC_CACHE : 0;
#endif
}

#endif /* _MACHIO_COMPAT_H */
