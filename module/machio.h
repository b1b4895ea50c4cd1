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
	spinlock_t lock;		/* protects the name table */
	struct machio_entry *table;	/* [0] unused: no name has index 0 */
	u32 nr_slots;
	u32 nr_used;
	u32 free_head;			/* 0: free list empty */
	u32 host_name;
	u32 task_name;
};

extern unsigned int machio_max_names;

struct machio_space *machio_space_create(void);
void machio_space_destroy(struct machio_space *space);
int machio_name_alloc(struct machio_space *space, enum machio_kind kind,
		      struct machio_port *port, u32 *name);
int machio_name_lookup(struct machio_space *space, u32 name,
		       enum machio_kind kind, struct machio_port **port);
int machio_name_deallocate(struct machio_space *space, u32 name);

int machio_name_kill(struct machio_space *space, u32 name,
		     struct machio_port *port);
struct machio_port *machio_space_detach_any(struct machio_space *space);

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

#endif /* _MACHIO_H */
