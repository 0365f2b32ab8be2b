// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * queue: a BPF_MAP_TYPE_QUEUE shared with Java. `push_values` pushes `push_count` (a .rodata global, at most
 * 64) consecutive values starting at the .bss global `next_value`; `pop_values` pops until the queue is empty
 * and adds what it got to the .bss globals `popped_sum` and `popped_count`. Both are XDP programs so that
 * BPF_PROG_TEST_RUN can run them.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define CAPACITY 64

const volatile __u32 push_count = 0;

__u64 next_value = 0;
__u64 popped_sum = 0;
__u64 popped_count = 0;

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, CAPACITY);
    __type(value, __u64);
} values SEC(".maps");

SEC("xdp")
int push_values(struct xdp_md *ctx)
{
    for (int i = 0; i < CAPACITY && i < push_count; i++) {
        __u64 v = next_value;

        if (bpf_map_push_elem(&values, &v, 0))
            break;
        next_value = v + 1;
    }
    return XDP_PASS;
}

SEC("xdp")
int pop_values(struct xdp_md *ctx)
{
    for (int i = 0; i < CAPACITY; i++) {
        __u64 v;

        if (bpf_map_pop_elem(&values, &v))
            break;
        popped_sum += v;
        popped_count++;
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
