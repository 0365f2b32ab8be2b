// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ring_events: the generator's own test object. Program `send` (XDP, run with BPF_PROG_TEST_RUN) sends one
 * struct ring_event per run to ring buffer `events`, numbered from the global `next_seq`, with the packet length
 * and `tag` (a .rodata global set before load); program `send_perf` sends the same struct to the perf event array
 * `perf_events`. RING_EVENT_V2 moves a member, as a changed C source would.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "panbpf.bpf.h"

enum ring_mode { MODE_PLAIN = 0, MODE_TAGGED = 3 };

struct ring_event {
    __u64 seq;
#ifdef RING_EVENT_V2
    __u64 extra;
#endif
    __u32 len;
    __u32 tag;
    enum ring_mode mode;
};

PANBPF_KEEP(struct ring_event);

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} events SEC(".maps") PANBPF_RECORDS(struct ring_event);

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} perf_events SEC(".maps") PANBPF_RECORDS(struct ring_event);

const volatile __u32 tag = 0;
__u64 next_seq = 0;

SEC("xdp")
int send(struct xdp_md *ctx)
{
    struct ring_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

    if (!e)
        return XDP_PASS;
    __builtin_memset(e, 0, sizeof(*e));
    e->seq = __sync_fetch_and_add(&next_seq, 1);
    e->len = ctx->data_end - ctx->data;
    e->tag = tag;
    e->mode = tag ? MODE_TAGGED : MODE_PLAIN;
    bpf_ringbuf_submit(e, 0);
    return XDP_PASS;
}

SEC("xdp")
int send_perf(struct xdp_md *ctx)
{
    struct ring_event e;

    __builtin_memset(&e, 0, sizeof(e));
    e.seq = __sync_fetch_and_add(&next_seq, 1);
    e.len = ctx->data_end - ctx->data;
    e.tag = tag;
    e.mode = tag ? MODE_TAGGED : MODE_PLAIN;
    bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
