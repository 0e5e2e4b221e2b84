/* wait.h — how client and server wait for each other: the one policy both
 * sides follow, so that each knows when the other may be asleep.
 *
 * A peer that has just worked (sent, received, completed) polls for the
 * next piece of work for a while, pausing the CPU between polls but
 * keeping it, and then blocks: on the provider's wait object (tcp, verbs)
 * or, where there is none (shm), on its doorbell (bell.h) with a short nap
 * as the safety net. It never yields the CPU while it polls: beside a
 * CPU-bound process, sched_yield hands the core to that process for a
 * whole time slice (milliseconds), while a sleeper woken by its bell or
 * wait object preempts it at once (`make bench` section i: shm misses
 * beside nice-19 load had a p99 of 4 ms with yielding spins).
 *
 * How long to poll: a server worker, DAFS_SPIN_NS. A client too, while
 * polling pays (struct dafs_spin). Measured in `make bench` section i and
 * with 32 fio processes: a poll of four times the replies' mean latency
 * lost more than it saved beside nice-19 load (the slower replies found
 * the client asleep, and waking took up to half a millisecond: shm misses
 * 30k/s, against 65k with the full poll), and the full poll for every
 * client starved the server with 32 clients on 2 cores.
 *
 * Who rings whom: a client rings the server's bell when the server may be
 * asleep: it has not heard from it for DAFS_RING_AFTER_NS, or it found the
 * last reply only after sleeping (the reply may have waited while the
 * server's own spin ran out). A client that may stop polling early says
 * so in its request (DAFS_HF_RING), and the server rings it with the
 * reply. A request without the flag is a promise: the client polls for
 * DAFS_SPIN_NS after sending it, whatever it learns meanwhile, and the
 * server rings only a reply that comes DAFS_RING_AFTER_NS or more after
 * the worker's previous poll (the earliest the request can have come:
 * it may have waited while the worker slept or served others).
 */
#ifndef DAFS_WAIT_H
#define DAFS_WAIT_H

#include <stdint.h>

#define DAFS_SPIN_NS       200000u  /* how long a peer polls after its last work */
#define DAFS_RING_AFTER_NS 100000u  /* ring a peer silent for this long */

/* One pause of a polling loop: tells the core (and a hypervisor) that this
 * is a spin, without giving up the CPU. */
static inline void dafs_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Whether polling pays a client. It does not when the reply came after
 * the poll ended, or when the CPU was taken from the poller (a gap of
 * DAFS_PREEMPTED_NS between two polls: another process wanted the core,
 * and with more clients than cores a spinner takes what the server
 * needs). Then the next DAFS_SPIN_SKIP replies are waited for asleep (the
 * requests say so, DAFS_HF_RING), and polling is tried again. */
#define DAFS_SPIN_SKIP    8
#define DAFS_PREEMPTED_NS 50000u

struct dafs_spin {
	unsigned skip;                 /* replies left to wait for asleep */
};

static inline uint64_t dafs_spin_budget(const struct dafs_spin *sp)
{
	return sp->skip ? 0 : DAFS_SPIN_NS;
}

static inline void dafs_spin_missed(struct dafs_spin *sp)
{
	sp->skip = DAFS_SPIN_SKIP;
}

static inline void dafs_spin_replied(struct dafs_spin *sp)
{
	if (sp->skip)
		sp->skip--;
}

#endif
