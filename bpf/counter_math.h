/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Counter arithmetic done the same way on both sides: BPF ends a slice with
 * it, userspace adds a running thread's current slice with it, so a sample
 * and the next switch-out agree. Plain C: included by BPF and C++.
 */
#ifndef PCTX_BPF_COUNTER_MATH_H
#define PCTX_BPF_COUNTER_MATH_H

#ifndef __VMLINUX_H__ /* userspace: BPF gets these from vmlinux.h */
#include <linux/types.h>
#endif

/*
 * a * b / c, rounded down, for c > 0, b < 2^40 and a result that fits 64
 * bits. a / c * b is exact; the remainder's share, a % c * b / c, has a % c
 * and c divided alike by d, just enough for a % c to fit 24 bits and the
 * product to fit: the share keeps 23 significant bits, and a remainder
 * under 2^24 is not touched. No branch: each one would double the paths
 * the verifier walks for every counter.
 */
static inline __u64 pctx_mul_div(__u64 a, __u64 b, __u64 c)
{
	__u64 r = a % c, q = a / c * b;
	__u64 d = (r >> 24) + 1; /* <= r < c when r >= 2^24: c / d >= 1 */

	return q + r / d * b / (c / d);
}

/*
 * A slice's count scaled to the whole slice when the PMU multiplexed it:
 * delta * enabled / running. A slice enabled for 2^40 ns (18 minutes) or
 * more without a context switch has both times shortened alike first.
 */
static inline __u64 pctx_scale(__u64 delta, __u64 enabled, __u64 running)
{
	if (running == 0)
		return 0;
	if (running >= enabled)
		return delta;
	if (enabled >> 40) {
		enabled >>= 16;
		running >>= 16;
		if (running == 0) /* counted for under 2^-24 of the slice */
			return delta;
	}
	return pctx_mul_div(delta, enabled, running);
}

/*
 * A counter (not a time counter) at the end of a slice: slice is what was
 * read over the part of the slice seen, unseen the runtime that missed
 * context switches hid, observed_rt the runtime of every slice read so far.
 * The hidden runtime is made up for at the thread's observed rate, observed
 * counts over observed runtime: neither ever holds an estimate, so estimates
 * never compound. Unseen runtime longer than all observed runtime is left
 * out rather than extrapolated from too little.
 */
static inline void pctx_end_slice(__u64 *total, __u64 *observed, __u64 slice, __u64 unseen,
				  __u64 observed_rt)
{
	__u64 extra = 0;

	if (unseen > 0 && observed_rt > 0 && unseen <= observed_rt)
		extra = pctx_mul_div(*observed, unseen, observed_rt);
	*observed += slice;
	*total += slice + extra;
}

#endif /* PCTX_BPF_COUNTER_MATH_H */
