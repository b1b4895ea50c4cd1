// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio tasks: one per thread that uses Portfolio through a space.
 *
 * A thread's first Portfolio call makes its task item (TASKNODE), owned
 * by the space it came through; later calls find it by the thread's
 * struct pid.  A task goes away:
 *
 *  - when its thread says so (MACHIO_PF_TASK_EXIT: libmachio does it from
 *    a thread-local destructor as the thread exits);
 *  - when its thread is found gone (the space's next new task looks for
 *    tasks whose thread no longer exists, so a thread that died without
 *    saying so is cleaned up by the next one);
 *  - when the space is closed (process exit), with every other task.
 *
 * Going away, a task deletes what it created (its IOReqs' I/O aborted
 * or waited for), closes what it opened and loses its item number
 * (SendSignal to it is BADITEM).
 */
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include "machio.h"

/* Bits 0-7 are the system's: allocated in every task, from the start. */
#define MACHIO_PF_SIGS_SYSTEM	0xffU

static void machio_pf_task_free(struct machio_pf_item *item)
{
	struct machio_pf_task *t = container_of(item, struct machio_pf_task, item);

	put_pid(t->pid);
	kfree(t);
}

void machio_pf_space_init(struct machio_pf_space *pf)
{
	mutex_init(&pf->lock);
	INIT_LIST_HEAD(&pf->tasks);
}

/* Take @t out of its space and the table.  Under pf->lock. */
static void machio_pf_task_end(struct machio_pf_task *t)
{
	unsigned long flags;

	list_del_init(&t->node);
	/* Others' messages it holds go back; its IOReqs before the opens they use. */
	machio_pf_msgs_release_held(t);
	machio_pf_delete_all_of(t);
	machio_pf_close_all(t);
	spin_lock_irqsave(&t->lock, flags);
	t->gone = true;
	spin_unlock_irqrestore(&t->lock, flags);
	machio_pf_item_remove(&t->item);
}

/* Tasks whose thread has exited without telling us.  Under pf->lock. */
static void machio_pf_reap_dead(struct machio_pf_space *pf)
{
	struct machio_pf_task *t, *tmp;

	list_for_each_entry_safe(t, tmp, &pf->tasks, node) {
		bool dead;

		rcu_read_lock();
		dead = !pid_task(t->pid, PIDTYPE_PID);
		rcu_read_unlock();
		if (dead)
			machio_pf_task_end(t);
	}
}

static struct machio_pf_task *machio_pf_task_find(struct machio_pf_space *pf, struct pid *pid)
{
	struct machio_pf_task *t;

	list_for_each_entry(t, &pf->tasks, node) {
		if (t->pid == pid)
			return t;
	}
	return NULL;
}

/*
 * The calling thread's task, made if it has none, with a reference for
 * the caller (machio_pf_item_put).  0, NOMEM or ITEMTABLEFULL.
 */
/* The space's user's world, got on first use.  Under pf->lock. */
static int machio_pf_space_world_locked(struct machio_space *space)
{
	struct machio_pf_space *pf = &space->pf;

	if (!pf->world)
		pf->world = machio_pf_world_get(space->uid);
	return pf->world ? 0 : -ENOMEM;
}

/* Make sure @space has its world (for the view's mmap).  0 or -ENOMEM. */
int machio_pf_space_world(struct machio_space *space)
{
	int ret;

	mutex_lock(&space->pf.lock);
	ret = machio_pf_space_world_locked(space);
	mutex_unlock(&space->pf.lock);
	return ret;
}

s32 machio_pf_current(struct machio_space *space, struct machio_pf_task **task)
{
	struct machio_pf_space *pf = &space->pf;
	struct pid *pid = task_pid(current);
	struct machio_pf_task *t;
	s32 err = 0;

	mutex_lock(&pf->lock);
	if (machio_pf_space_world_locked(space)) {
		err = MACHIO_PF_NOMEM;
		goto out;
	}
	t = machio_pf_task_find(pf, pid);
	if (t) {
		kref_get(&t->item.ref);
		*task = t;
		goto out;
	}
	machio_pf_reap_dead(pf);
	t = kzalloc(sizeof(*t), MACHIO_GFP);
	if (!t) {
		err = MACHIO_PF_NOMEM;
		goto out;
	}
	machio_pf_item_init(&t->item, MACHIO_PF_TASKNODE, 0, machio_pf_task_free);
	t->pid = get_pid(pid);
	spin_lock_init(&t->lock);
	init_waitqueue_head(&t->wait);
	t->sig_alloc = MACHIO_PF_SIGS_SYSTEM;
	t->item.view_size = sizeof(struct machio_pf_node);
	INIT_LIST_HEAD(&t->opens);
	INIT_LIST_HEAD(&t->items);
	err = machio_pf_item_insert(pf->world, &t->item, MACHIO_PF_OWNER_SELF);
	if (err) {
		machio_pf_item_put(&t->item);
		goto out;
	}
	list_add_tail(&t->node, &pf->tasks);
	kref_get(&t->item.ref);
	*task = t;
out:
	mutex_unlock(&pf->lock);
	return err;
}

/* MACHIO_PF_TASK_EXIT: the calling thread's task goes away, if it has one. */
void machio_pf_task_exit(struct machio_space *space)
{
	struct machio_pf_space *pf = &space->pf;
	struct machio_pf_task *t;

	mutex_lock(&pf->lock);
	t = machio_pf_task_find(pf, task_pid(current));
	if (t)
		machio_pf_task_end(t);
	mutex_unlock(&pf->lock);
}

/* The task of @number in @space's world (of this user), with a reference; NULL if none. */
struct machio_pf_task *machio_pf_task_get(struct machio_space *space, s32 number)
{
	struct machio_pf_item *item;

	if (!space->pf.world)
		return NULL;
	item = machio_pf_item_get(space->pf.world, number, MACHIO_PF_TASKNODE);
	return item ? container_of(item, struct machio_pf_task, item) : NULL;
}

/* The space is closed: every task of it goes away.  Process context. */
void machio_pf_space_release(struct machio_space *space)
{
	struct machio_pf_space *pf = &space->pf;
	struct machio_pf_task *t, *tmp;

	mutex_lock(&pf->lock);
	list_for_each_entry_safe(t, tmp, &pf->tasks, node)
		machio_pf_task_end(t);
	mutex_unlock(&pf->lock);
	if (pf->world)
		machio_pf_world_put(pf->world);
	pf->world = NULL;
}
