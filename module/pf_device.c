// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio devices: OpenNamedDevice and CloseItem of a device.
 *
 * In Portfolio a device is one shared item that tasks open and close,
 * opens nesting.  Here a device item stands for one block device (dev_t)
 * in its user's world, made by the first open and deleted by the last
 * close.  Each task's opens of it are counted on the task, with the task's
 * own device port made from the descriptor its library opened with the
 * caller's permissions, so that no task does I/O with another's rights.
 * The last close of a device by a task ends its use of it and deletes
 * its IOReqs for it; a task's end closes all, after deleting its IOReqs.
 *
 * Locks: the space's pf->lock (the task's opens), then the world's
 * dev_lock (its devices and their open counts), then the table's lock.
 */
#include <linux/blkdev.h>
#include <linux/slab.h>
#include "machio.h"

static void machio_pf_device_free(struct machio_pf_item *item)
{
	kfree(container_of(item, struct machio_pf_device, item));
}

/* dev_OpenCnt in the view.  Under w->dev_lock. */
static void machio_pf_device_show(struct machio_pf_device *pdev)
{
	struct machio_pf_world *w = pdev->item.world;
	u32 index = (u32)pdev->item.number & (MACHIO_PF_MAX_ITEMS - 1);
	s32 *open_cnt = machio_pf_view_slot(w, index) + MACHIO_PF_DEVICE_OPENCNT;

	WRITE_ONCE(*open_cnt, pdev->nr_opens);
}

/* The device item of @devt, made if there is none.  Under w->dev_lock. */
static s32 machio_pf_device_find(struct machio_pf_world *w, struct block_device *bdev,
				 struct machio_pf_device **found)
{
	dev_t devt = bdev->bd_dev;
	struct machio_pf_device *pdev;
	s32 err;

	list_for_each_entry(pdev, &w->devices, node) {
		if (pdev->devt == devt) {
			*found = pdev;
			return 0;
		}
	}
	pdev = kzalloc(sizeof(*pdev), MACHIO_GFP);
	if (!pdev)
		return MACHIO_PF_NOMEM;
	machio_pf_item_init(&pdev->item, MACHIO_PF_DEVICENODE, 0, machio_pf_device_free);
	pdev->item.view_size = MACHIO_PF_DEVICE_SIZE;
	pdev->devt = devt;
	/* Its block device's name, for FindDevice. */
	pdev->item.name = kasprintf(MACHIO_GFP, "%pg", bdev);
	if (!pdev->item.name) {
		kfree(pdev);
		return MACHIO_PF_NOMEM;
	}
	/* The kernel's: owned by no task. */
	err = machio_pf_item_insert(w, &pdev->item, 0);
	if (err) {
		machio_pf_item_put(&pdev->item);
		return err;
	}
	list_add_tail(&pdev->node, &w->devices);
	*found = pdev;
	return 0;
}

/* @t's open of the device item @number, or NULL.  Under pf->lock. */
struct machio_pf_open *machio_pf_open_find(struct machio_pf_task *t, s32 number)
{
	struct machio_pf_open *o;

	list_for_each_entry(o, &t->opens, node) {
		if (o->pdev->item.number == number)
			return o;
	}
	return NULL;
}

/*
 * OpenNamedDevice for @t, through the block device @fd: the device item,
 * or NOTFOUND (not a block device, or one gone), NOMEM, ITEMTABLEFULL.
 * Under pf->lock.
 */
s32 machio_pf_open_device(struct machio_pf_task *t, s32 fd)
{
	struct machio_pf_world *w = t->item.world;
	struct machio_pf_device *pdev;
	struct machio_device *dev;
	struct machio_pf_open *o;
	s32 ret;

	dev = machio_device_from_fd(fd, MACHIO_D_READ | MACHIO_D_WRITE);
	if (IS_ERR(dev))
		return PTR_ERR(dev) == -ENOMEM ? MACHIO_PF_NOMEM : MACHIO_PF_NOTFOUND;
	mutex_lock(&w->dev_lock);
	ret = machio_pf_device_find(w, dev->bdev, &pdev);
	if (ret)
		goto out;
	o = machio_pf_open_find(t, pdev->item.number);
	if (!o) {
		o = kzalloc(sizeof(*o), MACHIO_GFP);
		if (!o) {
			/* A device nobody has open goes again. */
			if (!pdev->nr_opens) {
				list_del(&pdev->node);
				machio_pf_item_remove(&pdev->item);
			}
			ret = MACHIO_PF_NOMEM;
			goto out;
		}
		kref_get(&pdev->item.ref);
		o->pdev = pdev;
		o->dev = dev;
		dev = NULL;
		list_add_tail(&o->node, &t->opens);
	}
	/* Opens nest; the task's first descriptor is the one it uses. */
	o->count++;
	pdev->nr_opens++;
	machio_pf_device_show(pdev);
	ret = pdev->item.number;
out:
	mutex_unlock(&w->dev_lock);
	if (dev)
		machio_port_put(&dev->port);
	return ret;
}

/* Drop @count of @t's opens of @o's device.  Under pf->lock and w->dev_lock. */
static void machio_pf_close_opens(struct machio_pf_task *t, struct machio_pf_open *o, u32 count)
{
	struct machio_pf_device *pdev = o->pdev;

	o->count -= count;
	pdev->nr_opens -= count;
	machio_pf_device_show(pdev);
	if (o->count)
		return;
	list_del(&o->node);
	machio_port_put(&o->dev->port);
	if (!pdev->nr_opens) {
		list_del(&pdev->node);
		machio_pf_item_remove(&pdev->item);
	}
	machio_pf_item_put(&pdev->item);
	kfree(o);
}

/* CloseItem for @t: 0, BADITEM, or ITEMNOTOPEN if @t has it not open.  Under pf->lock. */
s32 machio_pf_close_item(struct machio_pf_task *t, s32 number)
{
	struct machio_pf_world *w = t->item.world;
	struct machio_pf_item *item;
	struct machio_pf_open *o;
	s32 ret = 0;

	item = machio_pf_item_get(w, number, 0);
	if (!item)
		return MACHIO_PF_BADITEM;
	o = machio_pf_open_find(t, number);
	if (o) {
		/* Opera: the task's last close of a device deletes its IOReqs for it. */
		if (o->count == 1)
			machio_pf_delete_ioreqs_of(t, o);
		mutex_lock(&w->dev_lock);
		machio_pf_close_opens(t, o, 1);
		mutex_unlock(&w->dev_lock);
	} else {
		ret = MACHIO_PF_ITEMNOTOPEN;
	}
	machio_pf_item_put(item);
	return ret;
}

/* @t ends, its IOReqs deleted: whatever it has open is closed.  Under pf->lock. */
void machio_pf_close_all(struct machio_pf_task *t)
{
	struct machio_pf_world *w = t->item.world;
	struct machio_pf_open *o, *tmp;

	mutex_lock(&w->dev_lock);
	list_for_each_entry_safe(o, tmp, &t->opens, node)
		machio_pf_close_opens(t, o, o->count);
	mutex_unlock(&w->dev_lock);
}
