// SPDX-License-Identifier: GPL-2.0
/*
 * Device ports.  A device port is made from a block-device file descriptor
 * the caller already holds; we keep our own reference to that file for the
 * port's life and grant no more than its mode.  The module never opens a
 * path itself.
 */
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include "machio.h"
#include "compat.h"

static void machio_device_free(struct machio_port *port)
{
	struct machio_device *dev = machio_to_device(port);

	machio_disk_put(dev->disk);
	fput(dev->file);
	kfree(dev);
}

/*
 * A device port for the block device behind @fd, granting no more of
 * @mode (MACHIO_D_READ | MACHIO_D_WRITE, validated) than the file allows;
 * it holds its own reference to the file.  ERR_PTR: -EBADF, -ENOTBLK,
 * -ENXIO (the disk has gone away), -ENOMEM.
 */
struct machio_device *machio_device_from_fd(int fd, u32 mode)
{
	struct machio_device *dev;
	struct file *file;
	int ret;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	ret = -ENOTBLK;
	if (!S_ISBLK(file_inode(file)->i_mode))
		goto err_put;

	/* Never more than the fd allows: the rest fails per request. */
	if (!(file->f_mode & FMODE_READ))
		mode &= ~MACHIO_D_READ;
	if (!(file->f_mode & FMODE_WRITE))
		mode &= ~MACHIO_D_WRITE;

	/* A disk that has gone away: D_NO_SUCH_DEVICE. */
	ret = -ENXIO;
	if (machio_bdev_gone(machio_file_bdev(file)))
		goto err_put;

	ret = -ENOMEM;
	dev = kzalloc(sizeof(*dev), MACHIO_GFP);
	if (!dev)
		goto err_put;
	dev->bdev = machio_file_bdev(file);
	dev->disk = machio_disk_get(dev->bdev->bd_disk);
	if (!dev->disk) {
		kfree(dev);
		goto err_put;
	}
	machio_port_init(&dev->port, MACHIO_KIND_DEVICE, machio_device_free);
	dev->file = file;
	dev->mode = mode & (MACHIO_D_READ | MACHIO_D_WRITE);
	return dev;

err_put:
	fput(file);
	return ERR_PTR(ret);
}

int machio_device_open(struct machio_space *space,
		       struct machio_device_open *arg)
{
	struct machio_device *dev;
	u32 mode = arg->mode;
	int ret;

	if (mode & ~(MACHIO_D_READ | MACHIO_D_WRITE | MACHIO_D_NODELAY))
		return -EINVAL;
	if (!(mode & (MACHIO_D_READ | MACHIO_D_WRITE)))
		mode |= MACHIO_D_READ;
	dev = machio_device_from_fd(arg->fd, mode);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	arg->block_size = bdev_logical_block_size(dev->bdev);
	arg->size = bdev_nr_bytes(dev->bdev);
	ret = machio_name_alloc(space, MACHIO_KIND_DEVICE, &dev->port,
				&arg->device);
	if (ret)
		machio_port_put(&dev->port);	/* drops the file too */
	return ret;
}

int machio_device_status(struct machio_space *space,
			 struct machio_device_status *arg)
{
	struct machio_port *port;
	struct machio_device *dev;
	int ret;

	ret = machio_name_lookup(space, arg->device, MACHIO_KIND_DEVICE, &port);
	if (ret)
		return ret;
	dev = machio_to_device(port);
	/* Read afresh: a device can be resized. */
	arg->block_size = bdev_logical_block_size(dev->bdev);
	arg->size = bdev_nr_bytes(dev->bdev);
	machio_port_put(port);
	return 0;
}

/* MDIOCGETL, and MDIOCSETL with MACHIO_LIMIT_SET (a writer's right only). */
int machio_device_limit(struct machio_space *space, struct machio_device_limit *arg)
{
	struct machio_port *port;
	struct machio_device *dev;
	int ret;

	ret = machio_name_lookup(space, arg->device, MACHIO_KIND_DEVICE, &port);
	if (ret)
		return ret;
	dev = machio_to_device(port);
	if (arg->flags & MACHIO_LIMIT_SET) {
		ret = -EPERM;
		if (dev->mode & MACHIO_D_WRITE)
			ret = machio_dispatch_set_limit(dev->disk, arg->limit);
	}
	arg->limit = machio_dispatch_get_limit(dev->disk);
	machio_port_put(port);
	return ret;
}
