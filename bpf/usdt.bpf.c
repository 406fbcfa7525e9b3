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

/*
 * The hit's probe id and arguments, decoded as libbpf's bpf_usdt_arg() does
 * but from one lookup of the site's spec: bpf_usdt_cookie(),
 * bpf_usdt_arg_cnt() and each bpf_usdt_arg() find it again (a BPF call, the
 * cookie helper and an array lookup each; a hash lookup by IP each on
 * kernels without BPF cookies), which made half the program's run time.
 */
static __always_inline void read_site(struct pt_regs *ctx, struct pctx_probe_hit *hit)
{
	struct __bpf_usdt_spec *spec;
	int spec_id, nargs;

	hit->probe_id = 0;
	hit->nargs = 0;
	spec_id = __bpf_usdt_spec_id(ctx);
	spec = spec_id < 0 ? NULL : bpf_map_lookup_elem(&__bpf_usdt_specs, &spec_id);
	if (!spec)
		return;
	hit->probe_id = spec->usdt_cookie;
	nargs = spec->arg_cnt;
	if (nargs < 0 || nargs > PCTX_USDT_MAX_ARGS)
		nargs = 0;
	hit->nargs = nargs;
	for (int i = 0; i < PCTX_USDT_MAX_ARGS; i++) {
		struct __bpf_usdt_arg_spec *arg = &spec->args[i];
		unsigned long val = 0;

		hit->args[i] = 0;
		if (i >= nargs)
			continue;
		switch (arg->arg_type) {
		case BPF_USDT_ARG_CONST:
			val = arg->val_off;
			break;
		case BPF_USDT_ARG_REG: /* reg_off: the register's place in pt_regs */
			if (bpf_probe_read_kernel(&val, sizeof(val), (void *)ctx + arg->reg_off))
				continue;
			break;
		case BPF_USDT_ARG_REG_DEREF: /* in memory at the register plus val_off */
			if (bpf_probe_read_kernel(&val, sizeof(val), (void *)ctx + arg->reg_off) ||
			    bpf_probe_read_user(&val, sizeof(val), (void *)val + arg->val_off))
				continue;
			break;
		default:
			continue;
		}
		/* 1, 2 or 4 bytes widened to 8, with their sign when signed */
		val <<= arg->arg_bitshift;
		if (arg->arg_signed)
			val = (unsigned long)((long)val >> arg->arg_bitshift);
		else
			val >>= arg->arg_bitshift;
		hit->args[i] = (long)val;
	}
}

SEC("usdt")
int on_probe(struct pt_regs *ctx)
{
	struct pctx_probe_hit *hit;
	__u64 pid_tgid, pending;
	bool crossed;

	hit = bpf_ringbuf_reserve(&hits, sizeof(*hit), 0);
	if (!hit) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	/* Ids as the initial pid namespace sees them. */
	pid_tgid = bpf_get_current_pid_tgid();
	hit->time_ns = bpf_ktime_get_ns();
	hit->pid = pid_tgid >> 32;
	hit->tid = (__u32)pid_tgid;
	hit->pad = 0;
	read_site(ctx, hit);
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
