/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The hit record the USDT program (usdt.bpf.c) sends to userspace. Plain C:
 * included by BPF and C++.
 */
#ifndef PCTX_BPF_USDT_H
#define PCTX_BPF_USDT_H

#ifndef __VMLINUX_H__ /* userspace: BPF gets these from vmlinux.h */
#include <linux/types.h>
#endif

/* libbpf's BPF_USDT_MAX_ARG_CNT: the most a <sys/sdt.h> probe has. */
#define PCTX_USDT_MAX_ARGS 12

/* Probe sites one handle can attach (libbpf's spec and IP maps). */
#define PCTX_USDT_MAX_SITES 1024

/* Buffered hits that wake the reader; fewer wait until its poll times out. */
#define PCTX_USDT_WAKEUP_BYTES (64 * 1024)

struct pctx_probe_hit {
	__u64 time_ns;	/* CLOCK_MONOTONIC */
	__u64 probe_id; /* the BPF cookie userspace gave the attachment */
	__u32 pid;
	__u32 tid;
	__u32 nargs;
	__u32 pad;
	__s64 args[PCTX_USDT_MAX_ARGS]; /* sign- or zero-extended per spec */
};

#endif /* PCTX_BPF_USDT_H */
