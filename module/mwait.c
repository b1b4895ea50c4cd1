// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting for Mach messages: the wait queue of a port or a port set, and
 * spin-then-sleep for its receivers.
 *
 * OSF's mach_msg hands the CPU straight from a sender to the receiver it
 * wakes; Linux has no such handoff, so a woken receiver waits for the
 * scheduler and, on an idle CPU, for that CPU to leave its idle state.
 * In an RPC that cost is paid twice per round trip, and often exceeds
 * the work itself.  So a receiver first spins for its message, for as
 * long as being woken has taken on this port lately (the classic
 * spin-then-block rule: spinning as long as blocking would cost is never
 * more than twice as dear as the best choice made in hindsight), capped
 * by the msg_spin_us parameter.  It spins only while it is the one task
 * on its CPU, nothing needs the CPU and no signal is pending.
 *
 * How long waking takes is measured, not guessed: a sender that wakes a
 * sleeper stamps the time, and the receiver, once it runs, averages the
 * difference into @wake_ns.  A port not measured yet sleeps first.
 */
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include "machio.h"

/* A woken receiver that took longer than this to run says nothing about spinning. */
#define MACHIO_WAKE_NS_MAX	(10 * NSEC_PER_MSEC)

void machio_mwait_init(struct machio_mwait *w)
{
	init_waitqueue_head(&w->wait);
	w->woken_at = 0;
	w->wake_ns = 0;
}

/*
 * Wake everyone waiting on @w (every such wait is interruptible).  The
 * caller changed what they wait for under a lock; wq_has_sleeper()'s
 * barrier pairs with the one in the waiter's prepare_to_wait, so a
 * waiter is either seen here or sees the change, and a queue nobody
 * sleeps on (its receiver spinning, say) costs no lock.  @sync: this
 * thread waits for a message itself next, so the scheduler may run the
 * woken one here (as a pipe's or a socket's writer says).
 */
void machio_mwait_wake(struct machio_mwait *w, bool sync)
{
	if (!wq_has_sleeper(&w->wait))
		return;
	WRITE_ONCE(w->woken_at, local_clock());
	if (sync)
		wake_up_interruptible_sync(&w->wait);
	else
		wake_up_interruptible_all(&w->wait);
}

/* Spin for @ready up to the budget: true if it came. */
static bool machio_mwait_spin(struct machio_mwait *w, bool (*ready)(void *), void *arg)
{
	u64 budget = min_t(u64, 2 * (u64)READ_ONCE(w->wake_ns),
			   (u64)READ_ONCE(machio_msg_spin_us) * NSEC_PER_USEC);
	u64 t0;

	if (!budget || !single_task_running())
		return false;
	t0 = local_clock();
	for (;;) {
		if (ready(arg))
			return true;
		if (need_resched() || signal_pending(current) || local_clock() - t0 >= budget)
			return false;
		cpu_relax();
	}
}

/* A receiver woken after @slept runs now: how long its waking took joins the average. */
static void machio_mwait_measure(struct machio_mwait *w, u64 slept)
{
	u64 woken = READ_ONCE(w->woken_at), now = local_clock();
	u32 old = READ_ONCE(w->wake_ns);
	u64 took;

	if (woken < slept || now < woken)
		return;	/* not woken by a sender since it slept, or clocks apart */
	took = now - woken;
	if (took > MACHIO_WAKE_NS_MAX)
		return;
	WRITE_ONCE(w->wake_ns, old ? (u32)(((u64)old * 7 + took) / 8) : (u32)took);
}

/*
 * Wait on @w until @ready(@arg): 0, or -ETIMEDOUT after @ms milliseconds
 * when @timed, or -EINTR for a signal.  A receiver (@spin) spins first;
 * the spin is not taken from @ms (it is at most msg_spin_us).
 */
int machio_mwait(struct machio_mwait *w, bool (*ready)(void *), void *arg, bool spin,
		 bool timed, u32 ms)
{
	u64 slept;
	long ret;

	if (ready(arg) || (spin && machio_mwait_spin(w, ready, arg)))
		return 0;
	slept = local_clock();
	if (timed) {
		ret = wait_event_interruptible_timeout(w->wait, ready(arg), msecs_to_jiffies(ms));
		if (!ret)
			return ready(arg) ? 0 : -ETIMEDOUT;
	} else {
		ret = wait_event_interruptible(w->wait, ready(arg));
	}
	if (ret < 0)
		return -EINTR;
	if (spin)
		machio_mwait_measure(w, slept);
	return 0;
}
