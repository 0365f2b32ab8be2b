// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syscalls: counts getpid(2) calls of one thread, once from the tracepoint syscalls/sys_enter_getpid and once
 * from the raw tracepoint sys_enter. Set `target_tid` (a .rodata global) before load; read the counts from
 * the map `getpid_calls` (tracepoint) and the .bss global `raw_getpid_calls` (raw tracepoint).
 */
#include <linux/bpf.h>
#include <asm/unistd.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tid = 0;

__u64 raw_getpid_calls = 0;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} getpid_calls SEC(".maps");

static int is_target(void)
{
    return (__u32)bpf_get_current_pid_tgid() == target_tid;
}

SEC("tp/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
    __u32 zero = 0;
    __u64 *n;

    if (!is_target())
        return 0;
    n = bpf_map_lookup_elem(&getpid_calls, &zero);
    if (n)
        __sync_fetch_and_add(n, 1);
    return 0;
}

/* raw_tp/sys_enter gets (struct pt_regs *regs, long id). */
SEC("raw_tp/sys_enter")
int count_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
    if (is_target() && ctx->args[1] == __NR_getpid)
        __sync_fetch_and_add(&raw_getpid_calls, 1);
    return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
