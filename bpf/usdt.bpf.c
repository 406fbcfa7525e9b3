// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One program for every enabled USDT probe of a handle: libbpf's USDT support
 * decodes the arguments from the site's spec, the cookie names the probe, and
 * the hit goes to userspace through a ring buffer. Failed reservations are
 * counted, never silent.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "usdt.h"
#define BPF_USDT_MAX_SPEC_CNT PCTX_USDT_MAX_SITES
#define BPF_USDT_MAX_IP_CNT (4 * PCTX_USDT_MAX_SITES)
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 21);
} hits SEC(".maps");

/* Hits the ring buffer had no room for. */
__u64 lost = 0;

SEC("usdt")
int on_probe(struct pt_regs *ctx)
{
	struct pctx_probe_hit *hit;
	__u64 pid_tgid, pending;
	bool crossed;
	int nargs, i;

	hit = bpf_ringbuf_reserve(&hits, sizeof(*hit), 0);
	if (!hit) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	/* Ids as the initial pid namespace sees them. */
	pid_tgid = bpf_get_current_pid_tgid();
	hit->time_ns = bpf_ktime_get_ns();
	hit->probe_id = bpf_usdt_cookie(ctx);
	hit->pid = pid_tgid >> 32;
	hit->tid = (__u32)pid_tgid;
	hit->pad = 0;
	nargs = bpf_usdt_arg_cnt(ctx);
	if (nargs < 0)
		nargs = 0;
	hit->nargs = nargs;
	for (i = 0; i < PCTX_USDT_MAX_ARGS; i++) {
		long val = 0;

		if (i < nargs && bpf_usdt_arg(ctx, i, &val) != 0)
			val = 0;
		hit->args[i] = val;
	}
	/*
	 * A wakeup per hit costs more than the hit (an IPI for the irq_work):
	 * wake the reader only when this record takes the unread data across a
	 * multiple of the batch. Testing "at least a batch unread" instead woke
	 * at every hit once the reader lagged; a crossing two CPUs raced past is
	 * caught at the next multiple, and the reader drains whenever its poll
	 * times out.
	 */
	pending = bpf_ringbuf_query(&hits, BPF_RB_AVAIL_DATA);
	crossed = pending / PCTX_USDT_WAKEUP_BYTES !=
		  (pending - PCTX_USDT_RECORD_BYTES) / PCTX_USDT_WAKEUP_BYTES;
	bpf_ringbuf_submit(hit, crossed ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	return 0;
}
