// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * execsnoop: one record per execve on the machine, sent to the ring buffer `execs`.
 * The panbpf Maven plugin compiles this file and generates ExecsnoopObject, ExecEvent and the typed reader.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "panbpf.bpf.h"

/* The tracepoint's fields, from /sys/kernel/tracing/events/syscalls/sys_enter_execve/format. */
struct sys_enter_execve_args {
    __u64 common;          /* common_type, flags, preempt_count, pid */
    __s32 syscall_nr;
    __u32 pad;
    const char *filename;
    const char *const *argv;
    const char *const *envp;
};

struct exec_event {
    __u32 pid;
    __u32 uid;
    char comm[16];         /* the program calling execve */
    char filename[128];    /* what it executes */
};

/* The event is only ever a ring buffer reservation: keep it in BTF so Java gets (and checks) its record. */
PANBPF_KEEP(struct exec_event);

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} execs SEC(".maps") PANBPF_RECORDS(struct exec_event);

/* The counter of what the program could not send: a ring buffer counts no losses itself. */
PANBPF_DROPS_MAP;

SEC("tp/syscalls/sys_enter_execve")
int on_execve(struct sys_enter_execve_args *ctx)
{
    /* Like bpf_ringbuf_reserve; when the ring is full it also counts the drop, which Java reads. */
    struct exec_event *e = panbpf_ringbuf_reserve(&execs, sizeof(*e), 0);

    if (!e)
        return 0;
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->uid = (__u32)bpf_get_current_uid_gid();
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    bpf_probe_read_user_str(e->filename, sizeof(e->filename), ctx->filename);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
