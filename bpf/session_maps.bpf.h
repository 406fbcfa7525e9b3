/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The lifecycle programs' own maps, defined in maps.bpf.c: the tracked
 * processes and the ring buffer every record goes through.
 */
#ifndef PCTX_SESSION_MAPS_BPF_H
#define PCTX_SESSION_MAPS_BPF_H

struct pctx_tracked_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* resized by the loader */
	__type(key, __u32);	    /* tgid, loader's view */
	__type(value, struct pctx_tracked);
};
extern struct pctx_tracked_map tracked SEC(".maps");

struct pctx_records_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized by the loader */
};
extern struct pctx_records_map records SEC(".maps");

#endif /* PCTX_SESSION_MAPS_BPF_H */
