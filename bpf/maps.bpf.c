// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every map and setting more than one unit of the lifecycle object uses,
 * defined once; the units declare them extern through their headers. This
 * unit is linked first: libbpf 1.1's linker resolves an extern map only to
 * a definition it has already seen.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lifecycle.h"
#include "pid_ns.bpf.h"
#include "losses.bpf.h"
#include "counters.bpf.h"
#include "session_maps.bpf.h"
#include "scope.bpf.h"

/* pid_ns.bpf.h */
const volatile bool ns_init = true;
const volatile __u64 ns_dev = 0;
const volatile __u64 ns_ino = 0;
int ns_level = -1;

/* scope.bpf.h */
const volatile __u32 scope_kind = PCTX_SCOPE_NONE;
const volatile __u64 scope_cgroup_id = 0;
const volatile __u32 tracer_tgid = 0;

/* counters.bpf.h */
const volatile __u32 ncounters = 0;
const volatile __u32 nr_cpus = 1;
const volatile __u32 time_counters = 0;
const volatile __u64 tick_ns = 4000000;
struct pctx_counters_map counters SEC(".maps");
struct pctx_threads_map threads SEC(".maps");
struct pctx_thread_scratch_map thread_scratch SEC(".maps");

/* losses.bpf.h and session_maps.bpf.h */
struct pctx_stats_map stats SEC(".maps");
struct pctx_tracked_map tracked SEC(".maps");
struct pctx_records_map records SEC(".maps");
