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

/* The reader is woken each time this much more is unread; less waits until
 * its poll times out. A power of two: BPF divides by shifting. */
#define PCTX_USDT_WAKEUP_BYTES (256 * 1024)

struct pctx_probe_hit {
	__u64 time_ns;	/* CLOCK_MONOTONIC */
	__u64 probe_id; /* the BPF cookie userspace gave the attachment */
	__u32 pid;
	__u32 tid;
	__u32 nargs;
	__u32 pad;
	__s64 args[PCTX_USDT_MAX_ARGS]; /* sign- or zero-extended per spec */
};

/* What one hit takes in the ring buffer: the record and the kernel's 8-byte
 * header (BPF_RINGBUF_HDR_SZ), which keeps it 8-byte aligned. */
#define PCTX_USDT_RECORD_BYTES (sizeof(struct pctx_probe_hit) + 8)

#endif /* PCTX_BPF_USDT_H */
