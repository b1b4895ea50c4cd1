// SPDX-License-Identifier: GPL-2.0
/*
 * Portfolio signals: AllocSignal, FreeSignal, WaitSignal, SendSignal,
 * GetCurrentSignals, with Opera's rules (kernel/signal.c).
 *
 * Each task has 32 signal bits.  Bits 0-7 are the system's: allocated in
 * every task from the start, never allocated or freed by it, and sent by
 * the kernel only (SIGF_IODONE for I/O, SIGF_ABORT); bit 31 is illegal;
 * bits 8-30 are the task's to allocate.  A signal does not count: one
 * pending bit per signal.  SIGF_ABORT is in every wait mask.
 *
 * The bits are under the task's irq-safe lock, so that I/O completion can
 * signal from any context without allocating (machio_pf_signal_task).
 */
#include <linux/sched/signal.h>
#include "machio.h"

#define MACHIO_PF_SIGS_SYSTEM	0x000000ffU
#define MACHIO_PF_SIG_ILLEGAL	0x80000000U

/* Raise @bits in @t and wake it if it waits for one.  Any context. */
void machio_pf_signal_task(struct machio_pf_task *t, u32 bits)
{
	unsigned long flags;

	spin_lock_irqsave(&t->lock, flags);
	t->sig_pending |= bits;
	if (t->sig_pending & t->sig_wait)
		wake_up(&t->wait);
	spin_unlock_irqrestore(&t->lock, flags);
}

/*
 * AllocSignal(mask): with 0, the lowest free bit of 8-30, or 0 if none
 * is; otherwise exactly @mask, or 0 if any of it is taken, and
 * ILLEGALSIGNAL if it touches the system's bits or bit 31.  New bits
 * start clear.
 */
s32 machio_pf_alloc_signal(struct machio_pf_task *t, u32 mask)
{
	u32 free, got;

	if (mask & (MACHIO_PF_SIGS_SYSTEM | MACHIO_PF_SIG_ILLEGAL))
		return MACHIO_PF_ILLEGALSIGNAL;
	spin_lock_irq(&t->lock);
	free = ~t->sig_alloc & ~(MACHIO_PF_SIGS_SYSTEM | MACHIO_PF_SIG_ILLEGAL);
	if (!mask)
		got = free & -free;	/* the lowest, or none */
	else
		got = (mask & ~free) ? 0 : mask;
	t->sig_alloc |= got;
	t->sig_pending &= ~got;
	spin_unlock_irq(&t->lock);
	return (s32)got;
}

/* FreeSignal(mask): ILLEGALSIGNAL for the system's bits, bit 31 or a bit not allocated. */
s32 machio_pf_free_signal(struct machio_pf_task *t, u32 mask)
{
	s32 ret = 0;

	if (mask & (MACHIO_PF_SIGS_SYSTEM | MACHIO_PF_SIG_ILLEGAL))
		return MACHIO_PF_ILLEGALSIGNAL;
	spin_lock_irq(&t->lock);
	if (mask & ~t->sig_alloc) {
		ret = MACHIO_PF_ILLEGALSIGNAL;
	} else {
		t->sig_alloc &= ~mask;
		t->sig_pending &= ~mask;
	}
	spin_unlock_irq(&t->lock);
	return ret;
}

static bool machio_pf_signalled(struct machio_pf_task *t, u32 mask, u32 *got)
{
	bool ret;

	spin_lock_irq(&t->lock);
	*got = t->sig_pending & mask;
	ret = *got != 0;
	if (ret) {
		t->sig_pending &= ~*got;
		t->sig_wait = 0;
	} else {
		t->sig_wait = mask;
	}
	spin_unlock_irq(&t->lock);
	return ret;
}

/*
 * WaitSignal(mask): the bits of @mask (and SIGF_ABORT) that are pending,
 * cleared, waiting until there is one.  ILLEGALSIGNAL for a bit not
 * allocated.  -EINTR on a Linux signal (the library waits again).
 */
int machio_pf_wait_signal(struct machio_pf_task *t, u32 mask, s32 *result)
{
	u32 got;

	if (mask & ~t->sig_alloc) {
		*result = MACHIO_PF_ILLEGALSIGNAL;
		return 0;
	}
	mask |= MACHIO_PF_SIGF_ABORT;
	if (wait_event_interruptible(t->wait, machio_pf_signalled(t, mask, &got))) {
		spin_lock_irq(&t->lock);
		t->sig_wait = 0;
		spin_unlock_irq(&t->lock);
		return -EINTR;
	}
	*result = (s32)got;
	return 0;
}

/*
 * SendSignal(task, mask) from user space: BADITEM if @target is no task
 * of this user; ILLEGALSIGNAL for bit 31 or a bit @target has not
 * allocated; BADPRIV for the system's bits, which only the kernel sends.
 */
s32 machio_pf_send_signal(struct machio_pf_task *target, u32 mask)
{
	unsigned long flags;
	s32 ret = 0;

	spin_lock_irqsave(&target->lock, flags);
	if (target->gone)
		ret = MACHIO_PF_BADITEM;
	else if ((mask & MACHIO_PF_SIG_ILLEGAL) || (mask & ~target->sig_alloc))
		ret = MACHIO_PF_ILLEGALSIGNAL;
	else if (mask & MACHIO_PF_SIGS_SYSTEM)
		ret = MACHIO_PF_BADPRIV;
	spin_unlock_irqrestore(&target->lock, flags);
	if (!ret)
		machio_pf_signal_task(target, mask);
	return ret;
}

/* Whether @t has allocated every bit of @mask. */
bool machio_pf_signals_allocated(struct machio_pf_task *t, u32 mask)
{
	bool ret;

	spin_lock_irq(&t->lock);
	ret = !(mask & ~t->sig_alloc);
	spin_unlock_irq(&t->lock);
	return ret;
}

/* GetCurrentSignals: the pending bits, left pending. */
s32 machio_pf_current_signals(struct machio_pf_task *t)
{
	s32 bits;

	spin_lock_irq(&t->lock);
	bits = (s32)t->sig_pending;
	spin_unlock_irq(&t->lock);
	return bits;
}
