/*
 * pctx-bpf: illumos libtnfctl(3TNF) on Linux USDT probes.
 *
 * Names, types and semantics follow libtnfctl: tnfctl_pid_open() and
 * tnfctl_indirect_open() give a handle on another process, whose probes
 * tnfctl_probe_apply() and tnfctl_probe_apply_ids() walk, tnfctl_probe_enable()
 * and tnfctl_probe_disable() switch, tnfctl_probe_state_get() describes, and
 * tnfctl_check_libs() rescans after dlopen/dlclose; tnfctl_close() disables
 * what the handle enabled.
 *
 * Linux differences, all deliberate:
 * - A probe is a USDT probe (<sys/sdt.h>, .note.stapsdt): provider:name in
 *   one load object, at one or more sites. The target needs no libtnfprobe:
 *   TNFCTL_ERR_NOLIBTNFPROBE means "the target has no USDT probes".
 * - The target is never stopped. Enabling attaches a uprobe with a BPF
 *   program, which current kernels allow only to CAP_SYS_ADMIN
 *   (TNFCTL_ERR_ACCES; tnfctl_errmsg() says what to grant). Listing needs
 *   only read access to the target's /proc/PID/maps and objects.
 * - Not TNFCTL_ERR_BUSY: several handles, in one process or several, may
 *   control one target; closing one leaves the others' probes firing.
 * - Nothing is written to a trace file and there is no tracing/debug
 *   distinction ("traced" equals "enabled"): hits stream to the callback set
 *   with tnfctl_hit_callback_set(), delivered by tnfctl_poll().
 * - Semaphores are raised by the kernel (the uprobe's reference counter), so
 *   p_write of an indirect configuration is never called; p_read is used to
 *   read semaphore values for tnfctl_probe_state_get().
 * - Addresses are uintptr_t (illumos's paddr_t), ids unsigned long (ulong_t). An object's text_base is
 *   the address of its first mapped page (file offset 0), as /proc/PID/maps
 *   shows it; data_base is unused.
 * - In indirect mode, an object with objfd >= 0 is read and attached through
 *   that descriptor (pctx-bpf keeps its own duplicate); otherwise objname is
 *   opened. On kernels without BPF cookies (before 5.15), libbpf 1.1 can
 *   attach to a shared object only by the path /proc/PID/maps shows, so
 *   there pass objfd -1 and that objname for libraries.
 * - Pids are as the initial pid namespace sees them.
 * - Functions are MT-safe on different handles; one handle is used by one
 *   thread at a time.
 */
#ifndef PCTX_TNFCTL_H
#define PCTX_TNFCTL_H

#include <pctx/export.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TNFCTL_ERR_NONE = 0,
    TNFCTL_ERR_ACCES,         /* permission: reading the target, or uprobes */
    TNFCTL_ERR_NOTARGET,      /* the target has gone */
    TNFCTL_ERR_ALLOCFAIL,     /* out of memory */
    TNFCTL_ERR_INTERNAL,      /* internal error, or an indirect callback failed */
    TNFCTL_ERR_SIZETOOSMALL,  /* unused */
    TNFCTL_ERR_SIZETOOBIG,    /* unused */
    TNFCTL_ERR_BADARG,        /* a bad argument */
    TNFCTL_ERR_NOTDYNAMIC,    /* unused */
    TNFCTL_ERR_NOLIBTNFPROBE, /* the target has no USDT probes */
    TNFCTL_ERR_BUFBROKEN,     /* unused */
    TNFCTL_ERR_BUFEXISTS,     /* unused */
    TNFCTL_ERR_NOBUF,         /* unused */
    TNFCTL_ERR_BADDEALLOC,    /* unused */
    TNFCTL_ERR_NOPROCESS,     /* no such process */
    TNFCTL_ERR_FILENOTFOUND,  /* unused */
    TNFCTL_ERR_BUSY,          /* never returned: see above */
    TNFCTL_ERR_INVALIDPROBE,  /* no probe with that id (any more) */
    TNFCTL_ERR_USR1,          /* for probe operation callbacks */
    TNFCTL_ERR_USR2,
    TNFCTL_ERR_USR3,
    TNFCTL_ERR_USR4,
    TNFCTL_ERR_USR5
} tnfctl_errcode_t;

typedef enum {
    TNFCTL_TARG_DEFAULT, /* leave the target running */
    TNFCTL_TARG_KILL,    /* SIGKILL it */
    TNFCTL_TARG_RESUME,  /* leave it running (it never was stopped) */
    TNFCTL_TARG_SUSPEND  /* SIGSTOP it */
} tnfctl_targ_op_t;

typedef struct tnfctl_handle tnfctl_handle_t;
typedef struct tnfctl_probe_handle tnfctl_probe_t;

/* The most arguments a USDT probe has. */
#define TNFCTL_MAX_ARGS 12

/* Valid until the next tnfctl_check_libs() or tnfctl_close(). */
typedef struct tnfctl_probe_state {
    unsigned long id;
    const char* attr_string; /* "provider P; name N; args T1,T2" */
    int enabled;
    int traced;                    /* equals enabled */
    int new_probe;                 /* found by the latest tnfctl_check_libs() */
    const char* obj_name;          /* the object's path as the target sees it */
    const char* const* func_names; /* NULL: not known for USDT sites */
    const uintptr_t* func_addrs;   /* NULL */
    /* pctx-bpf additions */
    const char* provider;
    const char* name;
    uintptr_t address; /* the first site, in the target */
    unsigned long nsites;
    uintptr_t semaphore;      /* 0: the probe has none */
    unsigned semaphore_count; /* its value in the target now */
    int nargs;
    const char* const* arg_types; /* "int32", "uint8", ... */
} tnfctl_probe_state_t;

typedef tnfctl_errcode_t (*tnfctl_probe_op_t)(tnfctl_handle_t*, tnfctl_probe_t*, void*);

typedef struct tnfctl_ind_obj_info {
    int objfd;           /* -1 indicates fd not available */
    uintptr_t text_base; /* address of the object's first page */
    uintptr_t data_base; /* unused */
    const char* objname; /* null-terminated pathname to the object */
} tnfctl_ind_obj_info_t;

typedef int tnfctl_ind_obj_f(void* prochandle, const struct tnfctl_ind_obj_info* obj,
                             void* client_data);

typedef struct tnfctl_ind_config {
    int (*p_read)(void* prochandle, uintptr_t addr, char* buf, size_t size);
    int (*p_write)(void* prochandle, uintptr_t addr, char* buf, size_t size);
    pid_t (*p_getpid)(void* prochandle);
    int (*p_obj_iter)(void* prochandle, tnfctl_ind_obj_f* func, void* client_data);
} tnfctl_ind_config_t;

/* One probe hit, valid during the callback. */
typedef struct tnfctl_hit {
    unsigned long probe_id;
    const char* provider;
    const char* name;
    pid_t pid;
    pid_t tid;
    uint64_t time_ns; /* CLOCK_MONOTONIC */
    int nargs;
    int64_t args[TNFCTL_MAX_ARGS]; /* sign- or zero-extended by type */
    int arg_signed[TNFCTL_MAX_ARGS];
} tnfctl_hit_t;

typedef void tnfctl_hit_f(void* arg, const tnfctl_hit_t* hit);

PCTX_API tnfctl_errcode_t tnfctl_pid_open(pid_t pid, tnfctl_handle_t** ret_val);
PCTX_API tnfctl_errcode_t tnfctl_indirect_open(void* prochandle, tnfctl_ind_config_t* config,
                                               tnfctl_handle_t** ret_val);
PCTX_API tnfctl_errcode_t tnfctl_check_libs(tnfctl_handle_t* hndl);
PCTX_API tnfctl_errcode_t tnfctl_close(tnfctl_handle_t* hndl, tnfctl_targ_op_t action);

PCTX_API tnfctl_errcode_t tnfctl_probe_apply(tnfctl_handle_t* hndl, tnfctl_probe_op_t probe_op,
                                             void* clientdata);
PCTX_API tnfctl_errcode_t tnfctl_probe_apply_ids(tnfctl_handle_t* hndl, unsigned long probe_count,
                                                 unsigned long* probe_ids, tnfctl_probe_op_t probe_op,
                                                 void* clientdata);
PCTX_API tnfctl_errcode_t tnfctl_probe_state_get(tnfctl_handle_t* hndl, tnfctl_probe_t* probe_hndl,
                                                 tnfctl_probe_state_t* state);
PCTX_API tnfctl_errcode_t tnfctl_probe_enable(tnfctl_handle_t* hndl, tnfctl_probe_t* probe_hndl,
                                              void* ignored);
PCTX_API tnfctl_errcode_t tnfctl_probe_disable(tnfctl_handle_t* hndl, tnfctl_probe_t* probe_hndl,
                                               void* ignored);

PCTX_API const char* tnfctl_strerror(tnfctl_errcode_t errcode);

/* pctx-bpf additions. */
/* The detailed message of this thread's last failed call ("" if none). */
PCTX_API const char* tnfctl_errmsg(void);
PCTX_API tnfctl_errcode_t tnfctl_hit_callback_set(tnfctl_handle_t* hndl, tnfctl_hit_f* fn,
                                                  void* arg);
/* Delivers pending hits, waiting up to timeout_ms for them (the kernel wakes
 * a waiting poll only once 64 KiB of hits are buffered: keep the timeout
 * finite, it bounds the latency); *delivered (if not NULL) gets their number. */
PCTX_API tnfctl_errcode_t tnfctl_poll(tnfctl_handle_t* hndl, int timeout_ms, int* delivered);
/* Readable when a batch of hits is pending; -1 before the first enable. */
PCTX_API int tnfctl_hits_fd(tnfctl_handle_t* hndl);
/* Hits lost because the buffer was full. */
PCTX_API uint64_t tnfctl_lost(tnfctl_handle_t* hndl);

#ifdef __cplusplus
}
#endif

#endif /* PCTX_TNFCTL_H */
