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
 * How long to poll: a server worker, DAFS_SPIN_NS. A client, as long as
 * polling pays (struct dafs_spin): about four times the wait its recent replies
 * took, and not at all once they take DAFS_SPIN_NS or more, for then
 * either the server is slow or the CPU is short (more clients than cores),
 * and a spinning client takes the time the server needs.
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

#define DAFS_SPIN_NS       200000u  /* the longest poll after the last work */
#define DAFS_RING_AFTER_NS 100000u  /* ring a peer silent for this long */

/* One pause of a polling loop: tells the core (and a hypervisor) that this
 * is a spin, without giving up the CPU. */
static inline void dafs_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
/* What a client learnt of its waits: an average of the latest replies'
 * latencies (over about the last eight). */
struct dafs_spin {
	uint64_t expected_ns;
};

static inline void dafs_spin_learn(struct dafs_spin *sp, uint64_t waited_ns)
{
	/* One long wait (a slow disk, a pause) must not outweigh the rest. */
	if (waited_ns > 4 * (uint64_t)DAFS_SPIN_NS)
		waited_ns = 4 * (uint64_t)DAFS_SPIN_NS;
	sp->expected_ns = sp->expected_ns - sp->expected_ns / 8 + waited_ns / 8;
}

/* How long to poll for the next reply. */
static inline uint64_t dafs_spin_budget(const struct dafs_spin *sp)
{
	uint64_t budget = 4 * sp->expected_ns;

	if (sp->expected_ns >= DAFS_SPIN_NS)
		return 0;
	return budget < DAFS_SPIN_NS ? budget : DAFS_SPIN_NS;
}

#endif
}

/* What a client learnt of its waits: an average of the latest replies'
 * latencies (over about the last eight). */
struct dafs_spin {
	uint64_t expected_ns;
};

static inline void dafs_spin_learn(struct dafs_spin *sp, uint64_t waited_ns)
{
	/* One long wait (a slow disk, a pause) must not outweigh the rest. */
	if (waited_ns > 4 * (uint64_t)DAFS_SPIN_NS)
		waited_ns = 4 * (uint64_t)DAFS_SPIN_NS;
	sp->expected_ns = sp->expected_ns - sp->expected_ns / 8 + waited_ns / 8;
}

/* How long to poll for the next reply. */
static inline uint64_t dafs_spin_budget(const struct dafs_spin *sp)
{
	uint64_t budget = 4 * sp->expected_ns;

	if (sp->expected_ns >= DAFS_SPIN_NS)
		return 0;
	return budget < DAFS_SPIN_NS ? budget : DAFS_SPIN_NS;
}

#endif
