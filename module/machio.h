/* SPDX-License-Identifier: GPL-2.0 */
/*
 * machio internal objects.
 *
 * A struct machio_space is one open of /dev/machio: a task's Mach port name
 * space.  It maps 32-bit names to kernel objects (host, task, io_done_queues,
 * devices).  Objects that can outlive their name (because I/O in flight still
 * points at them) embed a struct machio_port with a kref.
 */
#ifndef _MACHIO_H
#define _MACHIO_H

#include <linux/kref.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/machio.h>

#define MACHIO_NAME_GEN_BITS	8
#define MACHIO_NAME_GEN_MASK	((1U << MACHIO_NAME_GEN_BITS) - 1)
/* Index limit keeps (index << 8 | gen) below MACHIO_PORT_DEAD. */
#define MACHIO_MAX_NAMES_LIMIT	(1U << 20)

enum machio_kind {
	MACHIO_KIND_FREE = 0,
	MACHIO_KIND_HOST,
	MACHIO_KIND_TASK,
	MACHIO_KIND_QUEUE,
	MACHIO_KIND_DEVICE,
	MACHIO_KIND_DEAD,	/* the object behind the name was terminated */
};

struct machio_port {
	struct kref ref;
	enum machio_kind kind;
	void (*free)(struct machio_port *port);
};

struct machio_entry {
	struct machio_port *port;	/* NULL for host, task, dead, free */
	u32 next_free;			/* free-list link while FREE */
	u8 kind;
	u8 gen;
};

struct machio_space {
	atomic_t nr_reqs;		/* requests not yet freed */
	spinlock_t lock;		/* protects the name table */
	struct machio_entry *table;	/* [0] unused: no name has index 0 */
	u32 nr_slots;
	u32 nr_used;
	u32 free_head;			/* 0: free list empty */
	u32 host_name;
	u32 task_name;
};

extern unsigned int machio_max_names;
extern struct workqueue_struct *machio_wq;

struct machio_space *machio_space_create(void);
void machio_space_destroy(struct machio_space *space);
int machio_name_alloc(struct machio_space *space, enum machio_kind kind,
		      struct machio_port *port, u32 *name);
int machio_name_lookup(struct machio_space *space, u32 name,
		       enum machio_kind kind, struct machio_port **port);
int machio_name_deallocate(struct machio_space *space, u32 name);

int machio_name_kill(struct machio_space *space, u32 name,
		     struct machio_port *port);
struct machio_port *machio_space_detach_next(struct machio_space *space,
					     u32 *cursor);

void machio_port_init(struct machio_port *port, enum machio_kind kind,
		      void (*free)(struct machio_port *port));
void machio_port_release(struct kref *ref);

static inline void machio_port_get(struct machio_port *port)
{
	kref_get(&port->ref);
}

static inline void machio_port_put(struct machio_port *port)
{
	kref_put(&port->ref, machio_port_release);
}

/*
 * An io_done_queue.  @lock protects @done, @inflight and @dead and is taken
 * from any context (bio completion may run in hard interrupt context).
 * Waiters sleep exclusively on @wait, so one completion wakes one waiter;
 * terminate sleeps there non-exclusively until nothing is in flight.
 */
struct machio_queue {
	struct machio_port port;
	spinlock_t lock;
	struct list_head done;		/* completed requests, completion order */
	unsigned int inflight;		/* accepted, not yet on @done */
	bool dead;			/* terminated */
	wait_queue_head_t wait;
};

/* A device port: a block device reached through the caller's own fd. */
struct machio_device {
	struct machio_port port;
	struct file *file;		/* our reference, dropped at free */
	struct block_device *bdev;
	u32 mode;			/* MACHIO_D_READ/WRITE granted */
};

/*
 * One asynchronous request, from submit until a waiter (or terminate, or
 * the discard work for writes without a queue) frees it in process
 * context.  The bio completion path only records status and posts.
 */
struct machio_req {
	struct list_head node;		/* on queue->done */
	struct work_struct work;	/* inband write step 2, or discard */
	struct machio_space *space;
	struct machio_queue *queue;	/* NULL: completion discarded */
	struct machio_device *dev;
	struct mm_struct *mm;		/* out-of-line read: mapping's mm */
	u32 op;				/* MACHIO_OP_* */
	u32 reqid;
	u32 mode;
	s32 code;			/* KERN_* / D_* once done */
	u32 count;			/* bytes to transfer */
	u64 uaddr;			/* user buffer or out-of-line mapping */
	u64 map_len;			/* out-of-line mapping length */
	u64 pos;			/* device byte offset */
	atomic_t remaining;		/* bios in flight + submitter bias */
	int status;			/* first failing blk_status_t */
	bool rmw_reading;		/* inband write: reading the block */
	bool dirty;			/* pages were read into */
	bool delivered;			/* a waiter got the result */
	struct page **pages;		/* pinned user pages */
	unsigned int nr_pages;
	struct page *kpage;		/* inband: one block */
	u8 inband[MACHIO_IO_INBAND_MAX];
};

static inline struct machio_queue *machio_to_queue(struct machio_port *port)
{
	return container_of(port, struct machio_queue, port);
}

static inline struct machio_device *machio_to_device(struct machio_port *port)
{
	return container_of(port, struct machio_device, port);
}

/* queue.c */
int machio_queue_create(struct machio_space *space, u32 host, u32 *name);
int machio_queue_terminate_name(struct machio_space *space, u32 name);
void machio_queue_terminate(struct machio_queue *q);
int machio_queue_wait(struct machio_space *space, u32 name, u64 result);
int machio_queue_begin(struct machio_queue *q);
void machio_queue_post(struct machio_queue *q, struct machio_req *req);

/* device.c */
int machio_device_open(struct machio_space *space,
		       struct machio_device_open *arg);
int machio_device_status(struct machio_space *space,
			 struct machio_device_status *arg);

/* io.c */
int machio_submit(struct machio_space *space,
		  const struct machio_io_request *arg);
void machio_req_fill_result(struct machio_req *req,
			    struct machio_io_done_result *res, u64 uresult);
void machio_req_free(struct machio_req *req);

#endif /* _MACHIO_H */
