/* wait.h — how client and server wait for each other: the one policy both
 * sides follow, so that each knows when the other may be asleep.
 *
 * A peer that has just worked (sent, received, completed) polls for the
 * next piece of work for DAFS_SPIN_NS, pausing the CPU between polls but
 * keeping it, and then blocks: on the provider's wait object (tcp, verbs)
 * or, where there is none (shm), on its doorbell (bell.h) with a short nap
 * as the safety net. It never yields the CPU while it polls: beside a
 * CPU-bound process, sched_yield hands the core to that process for a
 * whole time slice (milliseconds), while a sleeper woken by its bell or
 * wait object preempts it at once (measured in `make bench` section i:
 * shm misses beside nice-19 load had a p99 of 4 ms with yielding spins).
 *
 * A sender rings the bell of a peer it has not heard from for
 * DAFS_RING_AFTER_NS, half the spin, so that a peer that went to sleep is
 * woken without waiting for its nap, and a peer still polling costs
 * nothing. The server rings a client whose reply it sends that long after
 * the request came, or whose request it found after sleeping itself (the
 * request may have waited in its queue while the client's spin ran out).
 */
#ifndef DAFS_WAIT_H
#define DAFS_WAIT_H

#define DAFS_SPIN_NS      200000u   /* poll this long after the last work */
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

#endif
