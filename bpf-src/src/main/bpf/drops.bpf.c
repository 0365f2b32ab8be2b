// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * drops: the test object of panbpf.bpf.h's drop-counting wrappers.
 *
 * Program `produce_ring` (XDP, run with BPF_PROG_TEST_RUN and a repeat count) makes one attempt per run to put
 * a 64-byte record into a ring: run n uses panbpf_ringbuf_reserve (n % 3 == 0; every 7th of those records is
 * discarded), panbpf_ringbuf_output (n % 3 == 1) or panbpf_ringbuf_reserve_dynptr (n % 3 == 2). The global
 * `ring` picks the ring: 0 is `drops_ring`, 1 is `drops_ring_with_long_name` (longer than the 15 characters the
 * kernel keeps of a map name). `produce_perf` makes one panbpf_perf_event_output per run to `drops_perf` on the
 * current CPU. The globals count attempts and the failures the program saw, for the test to compare with what
 * the readers report.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "panbpf.bpf.h"

#define RECORD_SIZE 64

struct drops_record {
    __u64 seq;
    __u8 pad[RECORD_SIZE - 8];
};

PANBPF_DROPS_MAP;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} drops_ring SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} drops_ring_with_long_name SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} drops_perf SEC(".maps");

__u32 ring;
__u64 ring_attempts;
__u64 ring_failed;
__u64 ring_discarded;
__u64 perf_attempts;
__u64 perf_failed;

/* The wrappers key their count by the text of their map argument, so each ring gets its own copy of put: a
 * function taking the map as a pointer would count every drop under the pointer's name. */
#define DEFINE_PUT(map)                                                                 \
static __always_inline long put_##map(__u64 seq)                                        \
{                                                                                       \
    struct drops_record rec = { .seq = seq };                                           \
    struct drops_record *r;                                                             \
    struct bpf_dynptr dp;                                                               \
    long err;                                                                           \
                                                                                        \
    switch (seq % 3) {                                                                  \
    case 0:                                                                             \
        r = panbpf_ringbuf_reserve(&map, sizeof(*r), 0);                                \
        if (!r)                                                                         \
            return -1;                                                                  \
        r->seq = seq;                                                                   \
        if (seq % 7 == 6) {                                                             \
            bpf_ringbuf_discard(r, 0);                                                  \
            __sync_fetch_and_add(&ring_discarded, 1);                                   \
        } else {                                                                        \
            bpf_ringbuf_submit(r, 0);                                                   \
        }                                                                               \
        return 0;                                                                       \
    case 1:                                                                             \
        return panbpf_ringbuf_output(&map, &rec, sizeof(rec), 0);                       \
    default:                                                                            \
        err = panbpf_ringbuf_reserve_dynptr(&map, sizeof(rec), 0, &dp);                 \
        if (err) {                                                                      \
            /* The verifier wants the dynptr released even when the reservation failed. */ \
            bpf_ringbuf_discard_dynptr(&dp, 0);                                         \
            return err;                                                                 \
        }                                                                               \
        bpf_dynptr_write(&dp, 0, &rec, sizeof(rec), 0);                                 \
        bpf_ringbuf_submit_dynptr(&dp, 0);                                              \
        return 0;                                                                       \
    }                                                                                   \
}

DEFINE_PUT(drops_ring)
DEFINE_PUT(drops_ring_with_long_name)

SEC("xdp")
int produce_ring(struct xdp_md *ctx)
{
    __u64 seq = __sync_fetch_and_add(&ring_attempts, 1);
    long err;

    if (ring == 0)
        err = put_drops_ring(seq);
    else
        err = put_drops_ring_with_long_name(seq);
    if (err)
        __sync_fetch_and_add(&ring_failed, 1);
    return XDP_PASS;
}

SEC("xdp")
int produce_perf(struct xdp_md *ctx)
{
    struct drops_record rec = { .seq = __sync_fetch_and_add(&perf_attempts, 1) };

    if (panbpf_perf_event_output(ctx, &drops_perf, BPF_F_CURRENT_CPU, &rec, sizeof(rec)))
        __sync_fetch_and_add(&perf_failed, 1);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
