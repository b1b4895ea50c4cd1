// SPDX-License-Identifier: GPL-2.0
/*
 * A queue's pool of freed requests, so that a queue in steady use
 * allocates (and charges to its memory cgroup, and zeroes from a slab)
 * no request per I/O.
 *
 * A finished request is given back from any context -- the completion
 * path frees most of them -- with one lock-free push onto
 * @pool_returned.  Submitters take from @pool under q->lock, which
 * machio_queue_begin() holds anyway, and refill it from @pool_returned
 * with one exchange when it runs dry: many producers, consumers
 * serialized, as llist wants.
 *
 * A pooled request holds no reference and stays charged to the cgroup
 * that allocated it.  Each queue keeps at most MACHIO_QUEUE_POOL_MAX, and
 * a space's queues together at most max_requests, so that a space can
 * hold no more memory in pools than it could in requests; the queue's
 * free releases its pool.
 */
#include <linux/slab.h>
#include "machio.h"

#define MACHIO_QUEUE_POOL_MAX	256

/* A request to reuse, not yet zeroed, or NULL.  Under q->lock. */
struct machio_req *machio_pool_take(struct machio_queue *q)
{
	struct llist_node *node = q->pool;

	lockdep_assert_held(&q->lock);
	if (!node)
		node = llist_del_all(&q->pool_returned);
	if (!node)
		return NULL;
	q->pool = node->next;
	atomic_dec(&q->nr_pooled);
	atomic_dec(&q->space->nr_pooled);
	return llist_entry(node, struct machio_req, pool_node);
}

/*
 * Give a request that holds nothing any more to @q's pool, or free it
 * if the pool is full.  Any context; the caller holds a reference to @q.
 */
void machio_pool_give(struct machio_queue *q, struct machio_req *req)
{
	struct machio_space *space = q->space;

	if (READ_ONCE(q->dead))
		goto free;
	if (atomic_inc_return(&q->nr_pooled) > MACHIO_QUEUE_POOL_MAX)
		goto undo_queue;
	if (atomic_inc_return(&space->nr_pooled) > READ_ONCE(machio_max_requests))
		goto undo_space;
	llist_add(&req->pool_node, &q->pool_returned);
	return;

undo_space:
	atomic_dec(&space->nr_pooled);
undo_queue:
	atomic_dec(&q->nr_pooled);
free:
	kmem_cache_free(machio_req_cache, req);
}

/* Free what @q's pool holds; @q is being freed. */
void machio_pool_destroy(struct machio_queue *q)
{
	struct llist_node *node = q->pool, *next;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (; node; node = next) {
			next = node->next;
			kmem_cache_free(machio_req_cache,
					llist_entry(node, struct machio_req, pool_node));
			atomic_dec(&q->space->nr_pooled);
		}
		node = llist_del_all(&q->pool_returned);
	}
	q->pool = NULL;
	atomic_set(&q->nr_pooled, 0);
}
