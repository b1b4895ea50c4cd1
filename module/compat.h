/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel interfaces machio uses that changed between 6.1 and
 * current kernels, each behind one small named helper.  Everything else
 * the module calls has kept its signature since 6.1.
 */
#ifndef _MACHIO_COMPAT_H
#define _MACHIO_COMPAT_H

#include <linux/blkdev.h>
#include <linux/fs.h>

/*
 * fd -> block device.  file_bdev() arrived in 6.9 and is literally this
 * expression; I_BDEV() on the mapping host works on every version.
 */
static inline struct block_device *machio_file_bdev(struct file *file)
{
	return I_BDEV(file->f_mapping->host);
}

#endif /* _MACHIO_COMPAT_H */
