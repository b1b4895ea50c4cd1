// SPDX-License-Identifier: GPL-2.0
/*
 * CreateItem's tag lists, read as Opera's kernel/tags.c reads them.
 *
 * A list is an array of TagArg (struct machio_pf_tag: the LP64 layout)
 * ending at TAG_END.  TAG_NOP is skipped; TAG_JUMP continues at its
 * argument (NULL: the end), at most 20 times (BADPTR beyond).  The item
 * tags set the name (copied; NULL is BADNAME), priority, version and
 * revision; the type's own tags (10 and up) are kept for its create
 * routine, which refuses those it does not know (BADTAG).  A list that
 * cannot be read is BADPTR; one longer than MACHIO_PF_MAX_TAGS, too.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "machio.h"

#define MACHIO_PF_MAX_JUMPS	20
#define MACHIO_PF_MAX_TAGS	1024
#define MACHIO_PF_TYPE_TAGS	6	/* 10..15 */

/* Copy the name at @uname: BADNAME for NULL or too long, BADPTR if unreadable. */
static s32 machio_pf_tag_name(u64 uname, char **name)
{
	char __user *p = u64_to_user_ptr(uname);
	char *copy;
	long len;

	if (!uname)
		return MACHIO_PF_BADNAME;
	/* The length with its NUL; more than that count if too long. */
	len = strnlen_user(p, MACHIO_PF_NAME_MAX + 1);
	if (!len)
		return MACHIO_PF_BADPTR;
	if (len > MACHIO_PF_NAME_MAX + 1)
		return MACHIO_PF_BADNAME;
	copy = kmalloc(len, MACHIO_GFP);
	if (!copy)
		return MACHIO_PF_NOMEM;
	if (copy_from_user(copy, p, len) || copy[len - 1]) {
		kfree(copy);
		return MACHIO_PF_BADPTR;
	}
	kfree(*name);	/* the last one given counts */
	*name = copy;
	return 0;
}

static s32 machio_pf_tag_one(const struct machio_pf_tag *tag, struct machio_pf_tags *tags)
{
	u32 n;

	switch (tag->tag) {
	case MACHIO_PF_TAG_ITEM_NAME:
		return machio_pf_tag_name(tag->arg, &tags->name);
	case MACHIO_PF_TAG_ITEM_PRI:
		tags->pri = (u8)tag->arg;	/* no range check, as in Opera */
		return 0;
	case MACHIO_PF_TAG_ITEM_VERSION:
		tags->version = (u8)tag->arg;
		return 0;
	case MACHIO_PF_TAG_ITEM_REVISION:
		tags->revision = (u8)tag->arg;
		return 0;
	case MACHIO_PF_TAG_ITEM_CONSTANT_NAME:
		return 0;	/* names cannot change here anyway */
	case MACHIO_PF_TAG_ITEM_UNIQUE_NAME:
		tags->unique_name = true;
		return 0;
	}
	n = tag->tag - (MACHIO_PF_TAG_ITEM_LAST + 1);
	if (tag->tag <= MACHIO_PF_TAG_ITEM_LAST || n >= MACHIO_PF_TYPE_TAGS)
		return MACHIO_PF_BADTAG;
	tags->present |= 1U << n;
	tags->arg[n] = tag->arg;
	return 0;
}

/*
 * Read the list at @utags (0: none) into @tags, which the caller zeroed
 * and frees the name of whatever this returns.  0 or an Err.
 */
s32 machio_pf_tags_read(u64 utags, struct machio_pf_tags *tags)
{
	struct machio_pf_tag __user *p = u64_to_user_ptr(utags);
	unsigned int jumps = 0, seen = 0;
	struct machio_pf_tag tag;
	s32 err;

	while (p) {
		if (++seen > MACHIO_PF_MAX_TAGS)
			return MACHIO_PF_BADPTR;
		if (copy_from_user(&tag, p, sizeof(tag)))
			return MACHIO_PF_BADPTR;
		p++;
		switch (tag.tag) {
		case MACHIO_PF_TAG_END:
			return 0;
		case MACHIO_PF_TAG_NOP:
			continue;
		case MACHIO_PF_TAG_JUMP:
			if (++jumps > MACHIO_PF_MAX_JUMPS)
				return MACHIO_PF_BADPTR;
			p = u64_to_user_ptr(tag.arg);
			continue;
		}
		err = machio_pf_tag_one(&tag, tags);
		if (err)
			return err;
	}
	return 0;
}

/* The item tags into @item, which takes the name over. */
void machio_pf_item_take_tags(struct machio_pf_item *item, struct machio_pf_tags *tags)
{
	item->pri = tags->pri;
	item->version = tags->version;
	item->revision = tags->revision;
	item->unique = tags->unique_name;
	item->name = tags->name;
	tags->name = NULL;
}
