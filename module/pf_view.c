// SPDX-License-Identifier: GPL-2.0
/*
 * The item view: what LookupItem() returns, with no system call.
 *
 * Portfolio lets user code read an item -- an IOReq's io_Flags, io_Error,
 * io_Actual; a message's msg_Result -- but never write it.  Each user's
 * world keeps one view slot per item index, MACHIO_PF_VIEW_SLOT bytes
 * holding the item's Opera structure (pointers 64-bit, and NULL: they
 * would be kernel addresses).  Every process of the user maps the view
 * read-only from its /dev/machio (mmap at offset 0), so LookupItem(i) is
 * the slot of i's index if the slot's n_Item is i.
 *
 * The module writes a slot when it makes the item, n_Item last (release),
 * keeps its fields current, and clears n_Item first when it deletes the
 * item, so that a reader that checks n_Item with acquire and again after
 * reading sees either the item or nothing.  The pages are allocated one
 * by one, charged to the memory cgroup of the process that made the
 * world, and mapped by the fault handler.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include "machio.h"
#include "compat.h"

#define MACHIO_PF_SLOTS_PER_PAGE	(PAGE_SIZE / MACHIO_PF_VIEW_SLOT)
#define MACHIO_PF_VIEW_PAGES		(MACHIO_PF_VIEW_SIZE / PAGE_SIZE)

static_assert(sizeof(struct machio_pf_node) == 56);

int machio_pf_view_init(struct machio_pf_world *w)
{
	unsigned int i;

	w->view = kcalloc(MACHIO_PF_VIEW_PAGES, sizeof(*w->view), MACHIO_GFP);
	if (!w->view)
		return -ENOMEM;
	for (i = 0; i < MACHIO_PF_VIEW_PAGES; i++) {
		w->view[i] = alloc_page(MACHIO_GFP | __GFP_ZERO);
		if (!w->view[i]) {
			machio_pf_view_destroy(w);
			return -ENOMEM;
		}
	}
	return 0;
}

void machio_pf_view_destroy(struct machio_pf_world *w)
{
	unsigned int i;

	if (!w->view)
		return;
	for (i = 0; i < MACHIO_PF_VIEW_PAGES; i++)
		if (w->view[i])
			__free_page(w->view[i]);
	kfree(w->view);
	w->view = NULL;
}

/* The view slot of item index @index. */
void *machio_pf_view_slot(struct machio_pf_world *w, u32 index)
{
	return page_address(w->view[index / MACHIO_PF_SLOTS_PER_PAGE]) +
	       (index % MACHIO_PF_SLOTS_PER_PAGE) * MACHIO_PF_VIEW_SLOT;
}

/* Publish @item's node in its slot: n_Item last.  Under the table's lock. */
void machio_pf_view_publish(struct machio_pf_item *item, u32 index)
{
	struct machio_pf_node *node = machio_pf_view_slot(item->world, index);

	memset(node, 0, MACHIO_PF_VIEW_SLOT);
	node->n_SubsysType = MACHIO_PF_KERNELNODE;
	node->n_Type = item->type;
	node->n_Priority = item->pri;
	node->n_Size = item->view_size;
	node->n_Owner = item->owner;
	node->n_Version = item->version;
	node->n_Revision = item->revision;
	if (item->show)
		item->show(item, node);
	/* Pairs with LookupItem's acquire load: the fields before the number. */
	smp_store_release(&node->n_Item, item->number);
}

/* The slot no longer shows @item: n_Item first.  Under the table's lock. */
void machio_pf_view_retract(struct machio_pf_world *w, u32 index)
{
	struct machio_pf_node *node = machio_pf_view_slot(w, index);

	WRITE_ONCE(node->n_Item, 0);
	/* The number is gone before the fields a reader re-checks it after. */
	smp_wmb();
	memset((u8 *)node + sizeof(*node), 0, MACHIO_PF_VIEW_SLOT - sizeof(*node));
}

static vm_fault_t machio_pf_view_fault(struct vm_fault *vmf)
{
	struct machio_space *space = vmf->vma->vm_file->private_data;
	struct machio_pf_world *w = space->pf.world;
	struct page *page;

	if (!w || vmf->pgoff >= MACHIO_PF_VIEW_PAGES)
		return VM_FAULT_SIGBUS;
	page = w->view[vmf->pgoff];
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct machio_pf_view_vm_ops = {
	.fault = machio_pf_view_fault,
};

/*
 * mmap of /dev/machio: the view of its user's items, read-only and
 * shared, from offset 0, at most MACHIO_PF_VIEW_SIZE bytes.
 */
int machio_pf_view_mmap(struct machio_space *space, struct vm_area_struct *vma)
{
	int ret;

	if (!(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_WRITE))
		return -EACCES;
	if (vma->vm_pgoff || vma_pages(vma) > MACHIO_PF_VIEW_PAGES)
		return -EINVAL;
	ret = machio_pf_space_world(space);
	if (ret)
		return ret;
	machio_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	machio_vm_flags_clear(vma, VM_MAYWRITE);
	vma->vm_ops = &machio_pf_view_vm_ops;
	return 0;
}
