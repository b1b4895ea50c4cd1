// SPDX-License-Identifier: GPL-2.0
/*
 * Completion rings: an io_done_queue's completions written straight into
 * memory its process maps, so that a program reaps without a system call
 * whenever completions are waiting.
 *
 * The ring is one header page plus the slot pages, each page allocated
 * on its own (charged to the caller's memory cgroup) and mapped by the
 * queue file's fault handler, so no large contiguous allocation is
 * needed.  The kernel reaches a slot through its page's linear address.
 *
 * The kernel is the only producer.  Under the queue's lock it writes a
 * completion's slots after its trusted tail and then publishes the tail
 * (release).  Consumers -- threads of the process, or the kernel on
 * their behalf in MACHIO_IOC_QUEUE_WAIT/REAP -- copy the completion at
 * head and take it with one compare-and-swap of the 64-bit head.
 *
 * The ring cannot overflow: every request on the queue reserves the
 * slots of its completion when it is accepted (machio_ring_reserve), and
 * is refused when the completions waiting plus those reserved would not
 * fit.  Head is the consumers' to write, so the kernel never trusts it:
 * a head that makes no sense counts as a full ring, and a consumer that
 * moves it wrongly can only lose or repeat its own completions.  Nothing
 * the kernel writes ever leaves the ring's pages.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"

#define MACHIO_CQES_PER_PAGE	(PAGE_SIZE / MACHIO_CQE_SIZE)

static_assert(sizeof(struct machio_cqe) == MACHIO_CQE_SIZE);
static_assert(sizeof(struct machio_ring_header) <= PAGE_SIZE);

static u32 machio_pos_slot(u64 pos)
{
	return (u32)pos;
}

static u32 machio_pos_count(u64 pos)
{
	return (u32)(pos >> 32);
}

static struct machio_ring_header *machio_ring_hdr(const struct machio_ring *ring)
{
	return page_address(ring->pages[0]);
}

static struct machio_cqe *machio_ring_slot(const struct machio_ring *ring, u32 index)
{
	index &= ring->entries - 1;
	return (struct machio_cqe *)page_address(ring->pages[1 + index / MACHIO_CQES_PER_PAGE]) +
	       index % MACHIO_CQES_PER_PAGE;
}

/* How many pages a ring of @entries slots takes, header included. */
static unsigned int machio_ring_nr_pages(u32 entries)
{
	return 1 + DIV_ROUND_UP(entries, MACHIO_CQES_PER_PAGE);
}

int machio_ring_init(struct machio_ring *ring, u32 entries)
{
	struct machio_ring_header *hdr;
	unsigned int i, nr = machio_ring_nr_pages(entries);

	ring->pages = kcalloc(nr, sizeof(*ring->pages), MACHIO_GFP);
	if (!ring->pages)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		ring->pages[i] = alloc_page(MACHIO_GFP | __GFP_ZERO);
		if (!ring->pages[i]) {
			ring->nr_pages = i;
			machio_ring_destroy(ring);
			return -ENOMEM;
		}
	}
	ring->nr_pages = nr;
	ring->entries = entries;
	hdr = machio_ring_hdr(ring);
	hdr->entries = entries;
	return 0;
}

void machio_ring_destroy(struct machio_ring *ring)
{
	unsigned int i;

	for (i = 0; i < ring->nr_pages; i++)
		__free_page(ring->pages[i]);
	kfree(ring->pages);
	ring->pages = NULL;
	ring->nr_pages = 0;
	ring->entries = 0;
}

u64 machio_ring_map_size(const struct machio_ring *ring)
{
	return (u64)ring->nr_pages << PAGE_SHIFT;
}

/* The page behind offset @pgoff of the queue file's mapping, or NULL. */
struct page *machio_ring_page(const struct machio_ring *ring, unsigned long pgoff)
{
	return pgoff < ring->nr_pages ? ring->pages[pgoff] : NULL;
}

/* Slots waiting to be consumed, by an untrusted head: a wild one is "full".  q->lock. */
static u32 machio_ring_used(const struct machio_ring *ring)
{
	u64 head = READ_ONCE(machio_ring_hdr(ring)->head);
	u32 used = machio_pos_slot(ring->tail) - machio_pos_slot(head);

	/* Under q->lock both tails agree, so a head past them is wild too. */
	return used > ring->entries ? ring->entries : used;
}

/* Completions waiting; any context, no lock (a hint unless under q->lock). */
u32 machio_ring_ready(const struct machio_ring *ring)
{
	u64 head = READ_ONCE(machio_ring_hdr(ring)->head);
	u32 ready = machio_pos_count(READ_ONCE(ring->tail)) - machio_pos_count(head);

	/* A consumer ahead of the producer: nothing to take. */
	return ready > ring->entries ? 0 : ready;
}

/*
 * Reserve room for a completion of @slots slots.  Called under q->lock;
 * -EAGAIN if the waiting and reserved completions leave no room.
 */
int machio_ring_reserve(struct machio_ring *ring, u32 slots)
{
	if (machio_ring_used(ring) + ring->reserved + slots > ring->entries)
		return -EAGAIN;
	ring->reserved += slots;
	return 0;
}

void machio_ring_unreserve(struct machio_ring *ring, u32 slots)
{
	ring->reserved -= slots;
}

/*
 * Append @nr slots of one completion, which the caller reserved, and
 * publish them.  Called under q->lock, any context.
 */
void machio_ring_post(struct machio_ring *ring, const struct machio_cqe *cqe, u32 nr)
{
	u32 slot = machio_pos_slot(ring->tail);
	u32 i;

	u64 tail = ring->tail + ((u64)1 << 32) + nr;

	for (i = 0; i < nr; i++)
		*machio_ring_slot(ring, slot + i) = cqe[i];
	/*
	 * The slots are visible before either tail that covers them, and the
	 * consumers' tail before the kernel's: a kernel consumer must never
	 * take an entry (and move head) past a tail user-space consumers
	 * cannot see yet, or they would take the slot after it unwritten.
	 */
	smp_wmb();
	WRITE_ONCE(machio_ring_hdr(ring)->tail, tail);
	/* The header's tail before ours (see above). */
	smp_wmb();
	WRITE_ONCE(ring->tail, tail);
}

void machio_ring_mark_dead(struct machio_ring *ring)
{
	WRITE_ONCE(machio_ring_hdr(ring)->flags, MACHIO_RING_DEAD);
}

/*
 * Copy the oldest completion to @out (room for MACHIO_CQE_MAX_SLOTS
 * slots) without taking it.  Returns its head position and sets *@nr to
 * its slot count, or returns 0 with *@nr 0 when the ring is empty.
 */
static u64 machio_ring_peek(struct machio_ring *ring, struct machio_cqe *out,
			    u32 *nr)
{
	struct machio_ring_header *hdr = machio_ring_hdr(ring);
	u64 head = READ_ONCE(hdr->head);
	/* After head, so never behind it; acquire: the slots before it are written. */
	u64 tail = smp_load_acquire(&ring->tail);
	u32 i, avail = machio_pos_slot(tail) - machio_pos_slot(head);

	*nr = 0;
	if (machio_pos_count(tail) == machio_pos_count(head) || !avail ||
	    avail > ring->entries)
		return 0;
	out[0] = *machio_ring_slot(ring, machio_pos_slot(head));
	/* The slot count is in consumer-writable memory: keep it sane. */
	*nr = clamp_t(u32, out[0].slots, 1, min_t(u32, avail, MACHIO_CQE_MAX_SLOTS));
	for (i = 1; i < *nr; i++)
		out[i] = *machio_ring_slot(ring, machio_pos_slot(head) + i);
	return head;
}

/* Take the completion peeked at @head; false if a consumer took it first. */
static bool machio_ring_commit(struct machio_ring *ring, u64 head, u32 nr)
{
	u64 *p = &machio_ring_hdr(ring)->head;

	return cmpxchg(p, head, head + ((u64)1 << 32) + nr) == head;
}

/*
 * Take the oldest completion for a consumer in the kernel: @deliver gets
 * a copy (and may fail, -EFAULT, leaving it in the ring); it is taken
 * only if that worked and no other consumer took it meanwhile, in which
 * case the next one is tried.  Returns the completion's slot count, 0 if
 * the ring is empty, -EMSGSIZE if @deliver has no room for it (it
 * returned 1), or @deliver's error.  Process context, no lock.
 */
int machio_ring_take(struct machio_ring *ring,
		     int (*deliver)(const struct machio_cqe *cqe, u32 nr, void *arg),
		     void *arg)
{
	struct machio_cqe cqe[MACHIO_CQE_MAX_SLOTS];
	u64 head;
	u32 nr;
	int ret;

	for (;;) {
		head = machio_ring_peek(ring, cqe, &nr);
		if (!nr)
			return 0;
		ret = deliver(cqe, nr, arg);
		if (ret < 0)
			return ret;
		if (ret > 0)
			return -EMSGSIZE;	/* no room: left in the ring */
		if (machio_ring_commit(ring, head, nr))
			return nr;
	}
}
