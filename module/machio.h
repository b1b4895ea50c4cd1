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

#include <linux/gfp.h>
#include <linux/kref.h>
#include <linux/llist.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/machio.h>

struct bio;
struct bio_set;
struct eventfd_ctx;
struct file;
struct page;
struct vm_area_struct;

#define MACHIO_NAME_GEN_BITS	8
#define MACHIO_NAME_GEN_MASK	((1U << MACHIO_NAME_GEN_BITS) - 1)
/* Index limit keeps (index << 8 | gen) below MACHIO_PORT_DEAD. */
#define MACHIO_MAX_NAMES_LIMIT	(1U << 20)

/*
 * Every allocation a caller can cause: charged to its memory cgroup, and
 * failing (ENOMEM, KERN_RESOURCE_SHORTAGE) at memory.max instead of
 * calling the OOM killer, with no allocation-failure splat.
 */
#define MACHIO_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

enum machio_kind {
	MACHIO_KIND_FREE = 0,
	MACHIO_KIND_HOST,
	MACHIO_KIND_TASK,
	MACHIO_KIND_QUEUE,
	MACHIO_KIND_DEVICE,
	MACHIO_KIND_BUFFER,
	MACHIO_KIND_DEAD,	/* a dead name: its object was terminated or destroyed */
	MACHIO_KIND_MPORT,	/* Mach port rights: @rights of a struct machio_mport */
	MACHIO_KIND_PSET,	/* a Mach port set (struct machio_mpset) */
	MACHIO_KIND_NETNAME,	/* the name service (netname.c) */
};

/* The rights an MPORT entry holds (a send-once right has a name of its own). */
#define MACHIO_RIGHT_SEND	(1U << 0)
#define MACHIO_RIGHT_RECEIVE	(1U << 1)
#define MACHIO_RIGHT_SEND_ONCE	(1U << 2)

struct machio_port {
	struct kref ref;
	enum machio_kind kind;
	void (*free)(struct machio_port *port);
};

struct machio_entry {
	struct machio_port *port;	/* NULL for host, task, dead, free */
	union {
		u32 next_free;		/* free-list link while FREE */
		struct {
			u16 urefs;	/* a send right's or dead name's user references */
			u8 rights;	/* MPORT: MACHIO_RIGHT_* */
			u8 taken;	/* kmsg.c's copyin: MACHIO_RIGHT_* a message takes */
		};
	};
	u32 rnext;			/* the port-to-name hash chain: the next index, or 0 */
	u16 taken_urefs;		/* kmsg.c's copyin: send references a message takes */
	u8 kind;
	u8 gen;
	bool hashed;			/* on the port-to-name hash */
	bool dnrequest;			/* its port has a dead-name request for it */
};

/*
 * A Mach port (mport.c): the receive right's object.  @lock (irqsave)
 * protects the counts and @active.  Send and send-once rights in name
 * tables hold references; a destroyed port stays until they go, and
 * each of them reads as a dead name from then on.
 */
/*
 * The wait queue of a port or a port set (mwait.c): its receivers, and
 * a port's senders waiting for room; how long waking a receiver takes.
 */
struct machio_mwait {
	wait_queue_head_t wait;
	u64 woken_at;			/* local_clock() when a sender last woke a sleeper */
	u32 wake_ns;			/* how long woken receivers took to run, on average */
};

struct machio_mport {
	struct machio_port port;
	spinlock_t lock;
	bool active;			/* its receive right exists */
	bool rt;			/* MACHIO_QOS_RT */
	u32 srights;			/* send rights: names holding one */
	u32 sorights;			/* send-once rights */
	u32 mscount;			/* make-send count */
	u32 seqno;
	u32 qlimit;
	struct list_head msgs;		/* queued struct machio_kmsg, FIFO */
	u32 msgcount;
	struct machio_mwait mw;		/* receivers, and senders waiting for room */
	u32 rcv_gen;			/* counts moves of its receive right */
	/* Notification requests (notify.c), each a reserved message. */
	struct machio_kmsg *nsrequest;	/* no-senders */
	/* A realtime port's message buffers (rtpool.c). */
	void *rt_free;
	u32 rt_nfree;
	u32 rt_total;
	u32 nssync;
	struct list_head dnrequests;	/* dead-name: struct machio_kmsg by @node */
	struct machio_mpset *pset;	/* the set it is a member of, or NULL */
	struct list_head pset_node;	/* on its set's @members */
	/* Its receive right in a message: the port that message is queued on (kmsg.c). */
	struct machio_mport *transit;
	struct list_head doomed;	/* machio_mport_destroy's work list */
};

/*
 * A right a message carries (kmsg.c): [0] the destination's, [1] the
 * reply's, then one per port descriptor.
 */
struct machio_kright {
	struct machio_mport *mp;	/* counted; NULL: none (a null or dead name) */
	u32 name;			/* sent: the sender's name; received: MACHIO_PORT_NULL/_DEAD */
	u32 off;			/* its descriptor's offset in the message (a body right) */
	u8 msgt;			/* the disposition it was sent with */
	u8 right;			/* what it is: MACHIO_RIGHT_* */
};

/* A message in flight (kmsg.c): what mach_msg sent, with the rights it carries. */
struct machio_kmsg {
	struct list_head node;		/* on its destination's @msgs */
	struct list_head set_node;	/* and on its set's, if it is a member of one */
	u32 size;			/* header and body */
	u32 nr_rights;
	struct machio_kright *rights;	/* after the message */
	bool receives;			/* it carries a receive right */
	bool received;			/* its destination right was used: no send-once notification */
	struct machio_mport *pool;	/* counted: the realtime port whose buffer it is, or NULL */
	bool counted;			/* its place in @pool's queue is taken already */
	bool ool;			/* a device_read_reply with data out of line */
	struct machio_req *dreq;	/* a device reply's request (dreply.c), or NULL */
	struct machio_space *sender;	/* counted: whose max_msg_bytes it is charged to */
	size_t charged;			/* bytes charged there */
	/* A dead-name request's reservation (notify.c): whose name it watches. */
	struct machio_space *req_space;
	u32 req_name;
	s32 body_kr;			/* copyin: the body's form error, reported after the header's */
	struct machio_msg_header hdr;	/* then the body */
};

/* The bytes a message of @size bytes with @nr_desc body rights takes. */
#define machio_kmsg_bytes(size, nr_desc)					\
	(ALIGN(offsetof(struct machio_kmsg, hdr) + (size), 8) +			\
	 (2 + (size_t)(nr_desc)) * sizeof(struct machio_kright))

/* The message itself, header and body (past the header's field, for fortify). */
static inline void *machio_kmsg_data(struct machio_kmsg *kmsg)
{
	return (u8 *)kmsg + offsetof(struct machio_kmsg, hdr);
}

static inline struct machio_mport *machio_kmsg_dest(struct machio_kmsg *kmsg)
{
	return kmsg->rights[0].mp;
}

/*
 * A Mach port set (mpset.c): its members' messages, in the order they
 * came, on one list as OSF's set has one queue.  @lock (irqsave) nests
 * inside a member's lock, and protects @members, @msgs and @active.
 */
struct machio_mpset {
	struct machio_port port;
	spinlock_t lock;
	bool active;
	struct list_head members;	/* struct machio_mport, by @pset_node */
	struct list_head msgs;		/* struct machio_kmsg, by @set_node */
	struct machio_mwait mw;		/* receivers */
};

static inline struct machio_mport *machio_to_mport(struct machio_port *port)
{
	return container_of(port, struct machio_mport, port);
}

/* Portfolio items (pf_item.c): one world, a table of items, per user. */
struct machio_pf_slot;

struct machio_pf_world {
	struct hlist_node hnode;	/* in the module's table, by @uid */
	kuid_t uid;
	refcount_t ref;			/* spaces using it, and its items */
	spinlock_t lock;		/* the table */
	struct machio_pf_slot *slots;
	u32 free_head;			/* an index; 0: full */
	u32 nr_used;
	struct page **view;		/* pf_view.c */
	struct mutex dev_lock;		/* @devices and their open counts */
	struct list_head devices;	/* struct machio_pf_device */
	/* irqsave: every port's queue and every message's state (pf_port.c). */
	spinlock_t msg_lock;
	u32 seq;			/* items inserted: their age, for FindItem */
};

struct machio_pf_item {
	struct kref ref;		/* the table's, and users' */
	struct machio_pf_world *world;	/* counted, once inserted */
	s32 number;			/* 0 once removed */
	s32 owner;			/* the owning task's item */
	s32 view_size;			/* its Opera structure's size: n_Size */
	u8 type;			/* Opera's node type */
	u8 pri;
	u8 version;
	u8 revision;
	char *name;			/* TAG_ITEM_NAME's copy, or NULL */
	u32 seq;			/* its age in its world */
	bool unique;			/* TAG_ITEM_UNIQUE_NAME: no other of its name */
	bool part;			/* made for another item, deleted with it */
	struct list_head task_node;	/* on its owner's @items, if created by a task */
	/* Its own fields into its view slot, before the number shows it. */
	void (*show)(struct machio_pf_item *item, void *slot);
	/* DeleteItem's work, under its owner's pf->lock; the number goes after. */
	void (*del)(struct machio_pf_item *item);
	void (*free)(struct machio_pf_item *item);
};

/* A Portfolio task (pf_task.c): a thread using Portfolio through a space. */
struct machio_pf_task {
	struct machio_pf_item item;
	struct pid *pid;		/* the thread */
	struct list_head node;		/* on its space's @tasks, under pf->lock */
	spinlock_t lock;		/* irqsave: the signal bits, @gone */
	u32 sig_pending;
	u32 sig_alloc;
	u32 sig_wait;			/* the mask it sleeps for, or 0 */
	wait_queue_head_t wait;
	bool gone;
	struct list_head opens;		/* struct machio_pf_open, under pf->lock */
	struct list_head items;		/* what it created, under pf->lock */
};

/* A Portfolio device (pf_device.c): one block device, in its user's world. */
struct machio_pf_device {
	struct machio_pf_item item;
	dev_t devt;
	struct list_head node;		/* on the world's @devices */
	u32 nr_opens;			/* every task's opens of it */
};

/* A task's opens of one device, and its own port to it. */
struct machio_pf_open {
	struct list_head node;		/* on the task's @opens */
	struct machio_pf_device *pdev;	/* counted */
	struct machio_device *dev;	/* from the task's own descriptor */
	u32 count;
};

/*
 * A Portfolio IOReq (pf_ioreq.c): one I/O at a time through its owner's
 * open of a device.  @lock (irqsave) orders SendIO against completion,
 * which may run in any context and changes @flags, @error, @actual, @req.
 */
struct machio_pf_ioreq {
	struct machio_pf_item item;
	struct machio_pf_task *task;	/* its owner, counted: signalled */
	struct machio_pf_open *open;	/* the owner's open it goes through */
	struct machio_device *dev;	/* counted */
	spinlock_t lock;
	u32 flags;			/* MACHIO_PF_IO_* */
	s32 error;			/* io_Error */
	s32 actual;			/* io_Actual */
	u32 user;			/* the last SendIO's ioi_User */
	struct machio_req *req;		/* in progress, or NULL */
	struct machio_pf_msg *msg;	/* its completion message, or NULL: signals */
	bool deleting;			/* its deleter waits on @wait */
	bool unviewed;			/* deleted: its view slot is no longer its own */
	wait_queue_head_t wait;
};

/* A Portfolio message port (pf_port.c).  The queue is under world->msg_lock. */
struct machio_pf_port {
	struct machio_pf_item item;
	struct machio_pf_task *task;	/* its owner, counted: signalled */
	u32 signal;			/* mp_Signal */
	bool signal_allocated;		/* by its creation, freed with it */
	bool dead;			/* deleted: takes no messages */
	u64 user_data;
	struct list_head msgs;		/* by priority, FIFO among equal ones */
};

/* A Portfolio message (pf_msg.c).  Its state is under world->msg_lock. */
struct machio_pf_msg {
	struct machio_pf_item item;
	struct machio_pf_port *reply_port;	/* counted */
	struct machio_pf_port *on;	/* the port it is queued on, or NULL */
	struct list_head node;		/* on @on's msgs */
	u32 flags;			/* MACHIO_PF_MESSAGE_* */
	s32 result;
	u64 data;			/* msg_DataPtr, or a small message's val1 */
	s32 size;			/* msg_DataSize, or val2 */
	s32 holder;			/* msg_MsgPort: @on's item, or the task holding it */
	struct machio_pf_task *waiter;	/* in WaitPort for it, or NULL */
	bool dead;			/* deleted: its view slot is not its own */
};

/* machio_pf_item_insert()'s owner for an item that is a task: itself. */
#define MACHIO_PF_OWNER_SELF	(-1)

/* A space's Portfolio side. */
struct machio_pf_space {
	struct mutex lock;		/* @tasks, @world */
	struct machio_pf_world *world;	/* its user's, from first use */
	struct list_head tasks;
};

/*
 * A name space.  @ref is held by the open file and by every request, so
 * the space outlives a close while its I/O drains in the background; the
 * space in turn holds a module reference, so rmmod waits for that I/O.
 */
struct machio_space {
	struct kref ref;
	atomic_t nr_reqs;		/* requests not yet freed */
	atomic_t nr_pinned;		/* pages its I/O in flight holds (pin.c) */
	atomic_t nr_ring_slots;		/* completion ring slots of its queues */
	atomic_t nr_pooled;		/* requests its queues keep for reuse */
	atomic_long_t msg_bytes;	/* its Mach messages not yet received (kmsg.c) */
	spinlock_t lock;		/* protects the name table */
	struct machio_entry *table;	/* [0] unused: no name has index 0 */
	u32 *rhash;			/* port to name: the entries holding receive or send rights */
	u32 rhash_bits;
	u32 nr_slots;
	u32 nr_used;
	u32 free_head;			/* 0: free list empty */
	u32 next_fresh;			/* slots from here on were never used */
	u32 host_name;
	u32 task_name;
	kuid_t uid;			/* its opener's: the Portfolio world */
	struct machio_pf_space pf;
};

extern unsigned int machio_max_names;
extern unsigned int machio_max_requests;
extern unsigned int machio_max_pinned_pages;
extern unsigned int machio_max_pinned_total;
extern unsigned int machio_max_ring_slots;
extern unsigned int machio_max_pf_items;
extern unsigned int machio_max_netnames;
extern unsigned int machio_max_msg_bytes;
extern unsigned int machio_msg_spin_us;
extern struct workqueue_struct *machio_wq;
extern struct kmem_cache *machio_req_cache;
extern struct bio_set machio_bio_set;

struct machio_space *machio_space_create(void);
void machio_space_put(struct machio_space *space);
int machio_name_alloc(struct machio_space *space, enum machio_kind kind,
		      struct machio_port *port, u32 *name);
int machio_name_lookup(struct machio_space *space, u32 name,
		       enum machio_kind kind, struct machio_port **port);
int machio_name_deallocate(struct machio_space *space, u32 name);

int machio_name_kill(struct machio_space *space, u32 name,
		     struct machio_port *port);
struct machio_port *machio_space_detach_next(struct machio_space *space,
					     u32 *cursor, u8 *kind, u8 *rights);
/* The name table's internals, for right.c: under space->lock. */
struct machio_entry *machio_entry_find(struct machio_space *space, u32 name);
void machio_entry_free(struct machio_space *space, struct machio_entry *e);
int machio_entry_alloc(struct machio_space *space, u32 want, struct machio_entry **e,
		       u32 *name);
u32 machio_entry_name(struct machio_space *space, struct machio_entry *e);
void machio_entry_hash(struct machio_space *space, struct machio_entry *e);
void machio_entry_unhash(struct machio_space *space, struct machio_entry *e);
struct machio_entry *machio_entry_of(struct machio_space *space, struct machio_port *port);

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

/* A completion ring (ring.c); @entries 0: the queue has none. */
struct machio_ring {
	struct page **pages;		/* [0]: the header; then the slots */
	unsigned int nr_pages;
	u32 entries;			/* slots, a power of two */
	u32 reserved;			/* slots requests in flight reserved */
	u64 tail;			/* trusted copy of the header's tail */
};

/*
 * An io_done_queue.  @lock protects @done, @nr_done, @inflight, @dead and
 * the ring's @reserved and @tail, and is taken from any context (bio
 * completion may run in hard interrupt context).  Completions go to the
 * ring if there is one, else onto @done.  Waiters sleep exclusively on
 * @wait with a wake function that takes a wakeup only when there is
 * enough for them (reap.c), so one completion wakes one waiter that
 * wants it; terminate sleeps there non-exclusively (and killably) until
 * nothing is in flight, and poll() waits there too.  Once @dead,
 * completions are freed instead of posted.
 */
struct machio_queue {
	struct machio_port port;
	spinlock_t lock;
	struct list_head done;		/* completed requests, completion order */
	unsigned int nr_done;		/* on @done */
	unsigned int inflight;		/* accepted, not yet posted */
	bool dead;			/* terminated */
	wait_queue_head_t wait;
	struct machio_ring ring;
	struct eventfd_ctx *eventfd;	/* signalled per completion, or NULL */
	struct work_struct signal_work;	/* an eventfd signal from a worker */
	struct machio_space *space;	/* a counted reference: ring charge */
	bool polled;			/* MACHIO_QUEUE_POLLED (poll.c) */
	struct list_head polling;	/* polled requests in flight, on @node */
	struct work_struct poll_work;	/* polls what a closed space left */
	/* Freed requests kept for reuse (pool.c). */
	struct llist_node *pool;	/* taken by submitters, under @lock */
	struct llist_head pool_returned;	/* given back, from any context */
	atomic_t nr_pooled;		/* in both */
	struct work_struct put_work;	/* a last reference dropped in any context */
};

/*
 * One per disk machio uses, shared by every space and device port on it
 * (partitions included): orders writes so that an inband write's
 * read-modify-write of a block is atomic against every other machio
 * write (disk.c), and holds the disk's dispatch queue: its in-flight
 * limit and the requests waiting beyond it (dispatch.c).  It lives while
 * a device port or a queued work item holds it, the limit with it.
 */
struct machio_disk {
	struct hlist_node hnode;	/* in the module's table, by @gd */
	struct gendisk *gd;		/* identity only; pinned by the ports */
	refcount_t ref;			/* device ports, plus queued work items */
	atomic_t fast;			/* writes admitted without @lock */
	spinlock_t lock;		/* irqsave: the fields below */
	unsigned int nr_rmw;		/* inband writes queued or running */
	struct list_head active;	/* writes admitted under @lock */
	struct list_head waiting;	/* writes not yet admitted, in order */
	struct work_struct kick;	/* starts writes from @waiting */
	/* The dispatch queue (dispatch.c), all under @dlock (irqsave). */
	spinlock_t dlock;
	u32 limit;			/* MDIOCSETL: 0, none; else at the device at most */
	u32 inflight;			/* requests counted at the device */
	u64 dispatched;			/* requests dispatched under a limit: the aging clock */
	struct rb_root_cached waiting_reqs;	/* by dkey, FIFO among equal */
	struct list_head ready;		/* picked in completion context, to start */
	struct work_struct dispatch_work;	/* starts @ready */
};

/* A write's place in its disk's order: the absolute sectors it covers. */
struct machio_wlock {
	struct list_head node;		/* on disk->active or disk->waiting */
	struct list_head start_node;	/* the kick's private list */
	sector_t start;
	sector_t end;
	bool rmw;			/* an inband write: excludes overlaps */
	bool fast;			/* admitted without the disk's lock */
	void (*start_io)(struct machio_wlock *wl);	/* for a queued write */
};

/* A device port: a block device reached through the caller's own fd. */
struct machio_device {
	struct machio_port port;
	struct file *file;		/* our reference, dropped at free */
	struct block_device *bdev;
	struct machio_disk *disk;	/* write ordering of its disk */
	u32 mode;			/* MACHIO_D_READ/WRITE granted */
};

/* A registered buffer (buffer.c): user pages pinned for many requests. */
struct machio_buffer {
	struct machio_port port;
	u64 addr;			/* user address, as registered */
	u64 len;
	struct page **pages;		/* pinned FOLL_LONGTERM */
	unsigned int nr_pages;		/* charged to RLIMIT_MEMLOCK of @mm */
	atomic_t inflight;		/* requests whose I/O uses it */
	wait_queue_head_t wait;		/* deallocate waits here for @inflight 0 */
	struct mm_struct *mm;		/* grabbed: the memlock charge's */
};

/* Pages of a transfer up to 4 KiB at any alignment: no page array to allocate. */
#define MACHIO_INLINE_PAGES	2

/*
 * One asynchronous request.  It holds its pinned pages (or inband block)
 * only while the device works on it: the completion path releases them
 * (from a work item where that may sleep) before it posts the request to
 * its queue.  What is left -- the result, the port references, an
 * out-of-line mapping -- is freed in process context by the waiter that
 * reaps it, by terminate, or by the discard work.
 */
struct machio_req {
	union {
		struct list_head node;	/* on queue->done, ->polling, disk->ready */
		struct llist_node pool_node;	/* freed, in its queue's pool */
	};
	union {
		struct work_struct work;	/* deferred completion steps, discard */
		struct {			/* waiting in its disk's dispatch queue */
			struct rb_node dnode;
			u64 dkey;
		};
	};
	struct machio_space *space;	/* a counted reference */
	struct machio_queue *queue;	/* NULL: completion discarded */
	struct machio_device *dev;
	struct mm_struct *mm;		/* out-of-line read: mapping's mm */
	u32 op;				/* MACHIO_OP_* */
	u32 reqid;
	u32 mode;
	s32 code;			/* KERN_* / D_* once done */
	u32 count;			/* bytes asked for, clamped to the device */
	u32 io_len;			/* bytes the device transfers */
	u64 uaddr;			/* user buffer or out-of-line mapping */
	union {
		u64 map_len;		/* MACHIO_OP_READ: the mapping's length */
		struct machio_buffer *fixed;	/* *_FIXED: a counted reference */
	};
	u64 pos;			/* device byte offset */
	atomic_t remaining;		/* bios in flight + submitter bias */
	int status;			/* first failing blk_status_t */
	bool rmw_reading;		/* inband write: reading the block */
	bool dirty;			/* pages are read into (pre-dirtied) */
	bool delivered;			/* its own process got the data */
	bool wlocked;			/* holds its place in disk order */
	bool uncounted;			/* no longer in space->nr_reqs */
	bool fixed_busy;		/* counted in its buffer's inflight */
	u8 prio;			/* 0..255: its place in the dispatch queue */
	bool dcounted;			/* in its disk's dispatch inflight */
	unsigned int nr_pages;		/* pinned, and charged to the space */
	u8 dest;			/* MACHIO_DEST_*: where its completion goes */
	bool dwaiting;			/* in its disk's waiting tree (d->dlock) */
	struct page **pages;		/* pinned user pages */
	struct page *page_array[MACHIO_INLINE_PAGES];	/* small I/O's @pages */
	union {
		void *kbuf;		/* inband: one block, during the I/O */
		struct bio *poll_bio;	/* polled queue: a bio to poll (q->lock) */
	};
	u8 *inband;			/* inband: the caller's bytes */
	union {
		struct machio_pf_ioreq *ioreq;	/* MACHIO_DEST_PF: counted */
		struct machio_kmsg *reply;	/* MACHIO_DEST_MMSG: reserved, until sent */
	};
	struct machio_wlock wlock;	/* writes */
};

/* Where a request's completion goes. */
enum machio_dest {
	MACHIO_DEST_QUEUE = 0,		/* @queue, an io_done_queue; NULL: discarded */
	MACHIO_DEST_PF,			/* @ioreq, a Portfolio IOReq */
	MACHIO_DEST_MMSG,		/* @reply, a Mach reply message (dreply.c) */
};

/* The D_* mode bits a request may carry. */
#define MACHIO_MODE_ALL \
	(MACHIO_D_READ | MACHIO_D_WRITE | MACHIO_D_NODELAY | MACHIO_D_NOWAIT)

/* A request's code once AbortIO took it from its disk's queue. */
#define MACHIO_CODE_ABORTED	(-1)

/* A request naming a registered buffer. */
static inline bool machio_op_is_fixed(u32 op)
{
	return op == MACHIO_OP_READ_FIXED || op == MACHIO_OP_WRITE_FIXED;
}

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
int machio_queue_setup(struct machio_space *space, struct machio_queue_setup *arg,
		       struct file **file);
int machio_queue_terminate_name(struct machio_space *space, u32 name);
int machio_queue_terminate(struct machio_queue *q, bool wait);
struct machio_req *machio_queue_begin(struct machio_queue *q, u32 op);
void machio_queue_cancel(struct machio_queue *q, u32 op);
void machio_queue_put_any(struct machio_queue *q);
bool machio_queue_post(struct machio_queue *q, struct machio_req *req);
u32 machio_queue_nr_ready(const struct machio_queue *q);

/* pool.c */
struct machio_req *machio_pool_take(struct machio_queue *q);
void machio_pool_give(struct machio_queue *q, struct machio_req *req);
void machio_pool_destroy(struct machio_queue *q);

/* poll.c */
bool machio_poll_op_ok(u32 op);
void machio_poll_submit_bio(struct machio_req *req, struct bio *bio);
void machio_poll_io_done(struct machio_req *req);
int machio_poll_wait(struct machio_queue *q, u32 min, ktime_t *deadline);
int machio_poll_drain(struct machio_queue *q, bool wait);
void machio_poll_work(struct work_struct *work);

/* reap.c */
int machio_queue_wait(struct machio_space *space, u32 name, u64 result);
int machio_queue_reap(struct machio_space *space, const struct machio_queue_reap *arg);

/* ring.c */
int machio_ring_init(struct machio_ring *ring, u32 entries);
void machio_ring_destroy(struct machio_ring *ring);
u64 machio_ring_map_size(const struct machio_ring *ring);
struct page *machio_ring_page(const struct machio_ring *ring, unsigned long pgoff);
u32 machio_ring_ready(const struct machio_ring *ring);
int machio_ring_reserve(struct machio_ring *ring, u32 slots);
void machio_ring_unreserve(struct machio_ring *ring, u32 slots);
void machio_ring_post(struct machio_ring *ring, const struct machio_cqe *cqe, u32 nr);
void machio_ring_mark_dead(struct machio_ring *ring);
int machio_ring_take(struct machio_ring *ring,
		     int (*deliver)(const struct machio_cqe *cqe, u32 nr, void *arg),
		     void *arg);

/* dispatch.c */
void machio_dispatch_init(struct machio_disk *d);
void machio_dispatch(struct machio_req *req);
void machio_dispatch_done(struct machio_req *req);
bool machio_dispatch_cancel(struct machio_req *req);
void machio_dispatch_work(struct work_struct *work);
int machio_dispatch_set_limit(struct machio_disk *d, u32 limit);
u32 machio_dispatch_get_limit(const struct machio_disk *d);

/* disk.c */
struct machio_disk *machio_disk_get(struct gendisk *gd);
void machio_disk_put(struct machio_disk *d);
int machio_wlock_acquire(struct machio_disk *d, struct machio_wlock *wl,
			 bool nowait);
void machio_wlock_release(struct machio_disk *d, struct machio_wlock *wl);

/* pin.c */
int machio_pin_charge(struct machio_space *space, unsigned int nr);
void machio_pin_uncharge(struct machio_space *space, unsigned int nr);
int machio_pin_charge_total(unsigned int nr);
void machio_pin_uncharge_total(unsigned int nr);
int machio_req_alloc_kbuf(struct machio_req *req, unsigned int len);
void machio_req_free_kbuf(struct machio_req *req);
int machio_req_pin(struct machio_req *req, bool write);
bool machio_req_pages_releasable(const struct machio_req *req);
void machio_req_unpin(struct machio_req *req, bool may_sleep);

/* buffer.c */
int machio_buffer_register(struct machio_space *space,
			   struct machio_buffer_register *arg);
int machio_buffer_use(struct machio_buffer *buf, struct machio_req *req,
		      u64 offset, u32 count);
void machio_buffer_unuse(struct machio_req *req);
int machio_buffer_drain(struct machio_port *port);

static inline struct machio_buffer *machio_to_buffer(struct machio_port *port)
{
	return container_of(port, struct machio_buffer, port);
}

/* device.c */
struct machio_device *machio_device_from_fd(int fd, u32 mode);
int machio_device_open(struct machio_space *space,
		       struct machio_device_open *arg);
int machio_device_status(struct machio_space *space,
			 struct machio_device_status *arg);
int machio_device_limit(struct machio_space *space, struct machio_device_limit *arg);

/* pf_tags.c: a CreateItem tag list, read. */
struct machio_pf_tags {
	char *name;			/* TAG_ITEM_NAME's copy (kfree), or NULL */
	u8 pri;
	u8 version;
	u8 revision;
	bool unique_name;
	u32 present;			/* bit n: type tag 10 + n was given */
	u64 arg[6];			/* type tags 10..15: the last value of each */
};

#define MACHIO_PF_TYPE_TAG(tags, tag) \
	((tags)->present & (1U << ((tag) - MACHIO_PF_TAG_ITEM_LAST - 1)))
#define MACHIO_PF_TYPE_ARG(tags, tag) ((tags)->arg[(tag) - MACHIO_PF_TAG_ITEM_LAST - 1])

s32 machio_pf_tags_read(u64 utags, struct machio_pf_tags *tags);
void machio_pf_item_take_tags(struct machio_pf_item *item, struct machio_pf_tags *tags);

/* pf_item.c */
struct machio_pf_world *machio_pf_world_get(kuid_t uid);
void machio_pf_world_put(struct machio_pf_world *w);
void machio_pf_item_init(struct machio_pf_item *item, u8 type, u8 pri,
			 void (*free)(struct machio_pf_item *item));
s32 machio_pf_item_insert(struct machio_pf_world *w, struct machio_pf_item *item, s32 owner);
struct machio_pf_item *machio_pf_item_get(struct machio_pf_world *w, s32 number, u8 type);
struct machio_pf_item *machio_pf_item_at(struct machio_pf_world *w, u32 index, u8 type);
void machio_pf_item_put(struct machio_pf_item *item);
void machio_pf_item_remove(struct machio_pf_item *item);
s32 machio_pf_create_item(struct machio_space *space, struct machio_pf_task *self,
			  s32 type, u64 utags);
s32 machio_pf_delete_item(struct machio_space *space, struct machio_pf_task *self, s32 number);
void machio_pf_delete_owned(struct machio_pf_item *item);
void machio_pf_delete_all_of(struct machio_pf_task *t);
s32 machio_pf_find_item(struct machio_pf_task *self, s32 type, u64 utags);
int machio_pf_item_name(struct machio_pf_task *self, s32 number, u64 uname, u32 size,
			s32 *result);

/* pf_port.c */
struct machio_pf_port *machio_pf_port_get(struct machio_pf_task *self, s32 number);
s32 machio_pf_create_port(struct machio_pf_task *self, struct machio_pf_tags *tags);
void machio_pf_port_queue(struct machio_pf_port *port, struct machio_pf_msg *msg);
void machio_pf_port_take(struct machio_pf_msg *msg, struct machio_pf_task *task);
s32 machio_pf_get_msg(struct machio_pf_task *self, s32 number);
int machio_pf_wait_port(struct machio_pf_task *self, s32 port, s32 msg, s32 *result);

/* pf_msg.c */
struct machio_pf_msg *machio_pf_msg_get(struct machio_pf_task *self, s32 number);
void machio_pf_msg_show(struct machio_pf_msg *msg);
s32 machio_pf_msg_reply_locked(struct machio_pf_msg *msg, s32 result, u64 data, s32 size);
void machio_pf_msg_del(struct machio_pf_item *item);
s32 machio_pf_msg_make(struct machio_pf_task *self, struct machio_pf_port *port, u8 pri,
		       bool small, struct machio_pf_tags *tags, struct machio_pf_msg **out);
s32 machio_pf_create_msg(struct machio_pf_task *self, struct machio_pf_tags *tags);
s32 machio_pf_send_msg(struct machio_pf_task *self, const struct machio_pf_msg_call *a);
s32 machio_pf_reply_msg(struct machio_pf_task *self, const struct machio_pf_msg_call *a);
s32 machio_pf_get_this_msg(struct machio_pf_task *self, s32 number);
void machio_pf_msgs_release_held(struct machio_pf_task *t);

/* pf_ioreq.c */
s32 machio_pf_create_ioreq(struct machio_pf_task *self, struct machio_pf_tags *tags);
void machio_pf_delete_ioreqs_of(struct machio_pf_task *t, struct machio_pf_open *o);
int machio_pf_send_io(struct machio_space *space, struct machio_pf_task *self,
		      struct machio_pf_io *a);
int machio_pf_wait_io(struct machio_pf_task *self, s32 number, s32 *result);
s32 machio_pf_abort_io(struct machio_pf_task *self, s32 number);
void machio_pf_io_done(struct machio_req *req);

/* pf_view.c */
int machio_pf_view_init(struct machio_pf_world *w);
void machio_pf_view_destroy(struct machio_pf_world *w);
void *machio_pf_view_slot(struct machio_pf_world *w, u32 index);
void machio_pf_view_publish(struct machio_pf_item *item, u32 index);
void machio_pf_view_retract(struct machio_pf_world *w, u32 index);
int machio_pf_view_mmap(struct machio_space *space, struct vm_area_struct *vma);

/* pf_task.c */
int machio_pf_space_world(struct machio_space *space);
void machio_pf_space_init(struct machio_pf_space *pf);
void machio_pf_space_release(struct machio_space *space);
s32 machio_pf_current(struct machio_space *space, struct machio_pf_task **task);
void machio_pf_task_exit(struct machio_space *space);
struct machio_pf_task *machio_pf_task_get(struct machio_space *space, s32 number);

static inline void machio_pf_task_put(struct machio_pf_task *t)
{
	machio_pf_item_put(&t->item);
}

/* pf_device.c */
s32 machio_pf_open_device(struct machio_pf_task *t, s32 fd);
s32 machio_pf_close_item(struct machio_pf_task *t, s32 number);
struct machio_pf_open *machio_pf_open_find(struct machio_pf_task *t, s32 number);
void machio_pf_close_all(struct machio_pf_task *t);

/* pf_signal.c */
void machio_pf_signal_task(struct machio_pf_task *t, u32 bits);
s32 machio_pf_alloc_signal(struct machio_pf_task *t, u32 mask);
s32 machio_pf_free_signal(struct machio_pf_task *t, u32 mask);
int machio_pf_wait_signal(struct machio_pf_task *t, u32 mask, s32 *result);
s32 machio_pf_send_signal(struct machio_pf_task *target, u32 mask);
s32 machio_pf_current_signals(struct machio_pf_task *t);
bool machio_pf_signals_allocated(struct machio_pf_task *t, u32 mask);

/* mport.c, mpset.c */
struct machio_mport *machio_mport_create(bool rt);
void machio_mport_destroy(struct machio_mport *mp);
void machio_mport_destroy_list(struct list_head *doomed);
void machio_mport_receive_moved(struct machio_mport *mp);
bool machio_mport_active(struct machio_mport *mp);
bool machio_mport_reserve(struct machio_mport *mp);
void machio_mport_unreserve(struct machio_mport *mp);
void machio_mport_add_send(struct machio_mport *mp, bool fresh, bool make);
void machio_mport_drop_send(struct machio_mport *mp);
void machio_mport_add_send_once(struct machio_mport *mp);
void machio_mport_drop_send_once(struct machio_mport *mp);
int machio_mport_set_qlimit(struct machio_mport *mp, u32 qlimit);
void machio_mport_status(struct machio_mport *mp, u32 *info);
struct machio_mpset *machio_mpset_create(void);
void machio_mpset_destroy(struct machio_mpset *set);
s32 machio_mpset_move(struct machio_mport *mp, struct machio_mpset *set);
void machio_mport_enqueue_locked(struct machio_mport *mp, struct machio_kmsg *kmsg, bool sync);

/* mwait.c */
void machio_mwait_init(struct machio_mwait *w);
void machio_mwait_wake(struct machio_mwait *w, bool sync);
int machio_mwait(struct machio_mwait *w, bool (*ready)(void *), void *arg, bool spin,
		 bool timed, u32 ms);
void machio_mport_leave_set_locked(struct machio_mport *mp);
void machio_mport_leave_set(struct machio_mport *mp);
s32 machio_right_move_member(struct machio_space *space, u32 member, u32 after);
int machio_right_set_status(struct machio_space *space, struct machio_port_set_status *a);

/* mmsg.c, kmsg.c */
int machio_msg(struct machio_space *space, struct machio_msg *a);
struct machio_kmsg *machio_kmsg_copyin(const void __user *umsg, u32 size,
				       const struct machio_msg_header *first, u32 n, s32 body_kr,
				       struct machio_mport *rt, s32 *kr);
s32 machio_kmsg_peek(const void __user *umsg, u32 size, struct machio_msg_header *hdr,
		     u32 *n, s32 *body_kr);
void machio_kmsg_free(struct machio_kmsg *kmsg);
bool machio_kmsg_charge(struct machio_space *space, struct machio_kmsg *kmsg);
struct machio_kmsg *machio_kmsg_from_pool(struct machio_mport *mp, u32 size, u32 nr_desc);
struct machio_kmsg *machio_kmsg_from_pool_counted(struct machio_mport *mp, u32 size, bool limit);
/* rtpool.c */
bool machio_rtpool_fits(u32 size, u32 nr_desc);
int machio_rtpool_init(struct machio_mport *mp, u32 n);
int machio_rtpool_resize(struct machio_mport *mp, u32 qlimit);
void *machio_rtpool_get(struct machio_mport *mp);
void machio_rtpool_put(struct machio_mport *mp, void *buf);
void machio_rtpool_drain(struct machio_mport *mp);
s32 machio_kmsg_check_rights(struct machio_space *space, struct machio_kmsg *kmsg,
			     struct machio_mport **dest);
void machio_kmsg_take_rights(struct machio_space *space, struct machio_kmsg *kmsg);
bool machio_kmsg_mark_transit(struct machio_kmsg *kmsg);
void machio_kmsg_clear_transit(struct machio_kmsg *kmsg);
s32 machio_kmsg_copyout(struct machio_space *space, struct machio_kmsg *kmsg, u32 local);
void machio_kmsg_release(struct machio_kmsg *kmsg, struct list_head *doomed);
void machio_kmsg_destroy(struct machio_kmsg *kmsg);

/* notify.c */
struct machio_kmsg *machio_kmsg_alloc(u32 size, u32 nr_desc, gfp_t gfp);
void machio_kmsg_send_kernel(struct machio_kmsg *kmsg);
void machio_notify_send(struct machio_kmsg *kmsg, s32 id, u32 value);
void machio_mport_destroy_send_once(struct machio_mport *mp);
void machio_notify_cancel_dead_name(struct machio_space *space, struct machio_entry *e);
s32 machio_notify_request(struct machio_space *space,
			  struct machio_port_request_notification *a);

/* dreply.c */
void machio_dreply_post(struct machio_req *req);
s32 machio_dreply_deliver(struct machio_kmsg *kmsg);
void machio_dreply_discard(struct machio_kmsg *kmsg);
int machio_device_request(struct machio_space *space, struct machio_device_request *a);

/* netname.c */
s32 machio_netname(struct machio_space *space, struct machio_netname *a);
void machio_netname_exit(void);

/* right.c */
s32 machio_right_allocate(struct machio_space *space, struct machio_port_allocate *a);
int machio_right_dealloc_locked(struct machio_space *space, struct machio_entry *e,
				struct machio_port **put);
s32 machio_right_destroy(struct machio_space *space, u32 name);
s32 machio_right_mod_refs(struct machio_space *space, u32 name, u32 right, s32 delta);
s32 machio_right_get_refs(struct machio_space *space, u32 name, u32 right, u32 *refs);
s32 machio_right_type(struct machio_space *space, u32 name, u32 *type);
s32 machio_right_insert(struct machio_space *space, const struct machio_port_insert_right *a);
s32 machio_right_source(struct machio_space *space, u32 poly, u32 msgt_name,
			struct machio_entry **src);
struct machio_entry *machio_right_find(struct machio_space *space, u32 name);
u8 machio_kright_take(struct machio_space *space, struct machio_entry *e, u32 msgt);
u8 machio_msgt_received(u32 msgt);
s32 machio_right_extract(struct machio_space *space, struct machio_port_extract_right *a);
int machio_right_names(struct machio_space *space, struct machio_port_names *a);
s32 machio_right_attributes(struct machio_space *space, struct machio_port_attributes *a);
void machio_right_release(struct machio_port *port, u8 kind, u8 rights);
u32 machio_right_copyout(struct machio_space *space, struct machio_mport **mpp, u8 right,
			 bool *full);

/* ioctl.c */
long machio_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/*
 * io.c.  A batch of submissions looks each name up once: the ports of
 * the names its last request used, one reference each.
 */
struct machio_lookup {
	u32 names[3];
	struct machio_port *ports[3];	/* device, queue, buffer */
};

int machio_submit(struct machio_space *space, const struct machio_io_request *arg,
		  struct machio_lookup *lookup);
void machio_lookup_release(struct machio_lookup *lookup);
u32 machio_req_cqe_slots(u32 op);
u32 machio_req_fill_cqe(const struct machio_req *req, struct machio_cqe *cqe,
			bool foreign);
void machio_req_free(struct machio_req *req);
void machio_req_release(struct machio_req *req);
void machio_req_free_later(struct machio_req *req);
void machio_req_start_biased(struct machio_req *req);
struct machio_req *machio_req_new(struct machio_space *space, struct machio_device *dev);
int machio_req_prepare_io(struct machio_req *req, s32 count);
void machio_req_issue(struct machio_req *req);
void machio_req_refuse(struct machio_req *req);
void machio_req_abort(struct machio_req *req);

#endif /* _MACHIO_H */
