// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * typed_events: structs for panbpf's typed-event tests (records checked against BTF, decoded from real events).
 *
 * Run program `emit` (XDP) with BPF_PROG_TEST_RUN over a 64-byte packet. It reads the struct net_event that Java
 * wrote into `input` (key 0), derives an output event from it (below), stores that in `last` (key 0) and sends it
 * to the ring buffer `events` and the perf event array `perf_events` (current CPU); it also stores a struct header in `headers` (key 0). Maps `bits` and `shapes` only
 * put their value types into the BTF.
 *
 * Output event, from input `in`:
 *   ts = bpf_ktime_get_ns(), pid = in.pid + 1, comm = in.comm, flags = in.flags | 0x80, sport = in.sport,
 *   src = in.src, dst = in.src with port + 1 and proto 17, kind = in.kind, delta = -in.delta,
 *   bytes = in.bytes + packet length, level = in.level - 1
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum event_kind { EVENT_OPEN = 1, EVENT_CLOSE = 2, EVENT_EXEC = 7 };

/* 8 bytes: 1 byte of tail padding. */
struct endpoint {
    __u32 addr;
    __u16 port;
    __u8 proto;
};

/* A char array, unsigned fields of every width, implicit padding, nested structs and an enum: 72 bytes. */
struct net_event {
    __u64 ts;
    __u32 pid;
    char comm[16];
    __u8 flags;
    __u16 sport;            /* 1 byte of padding before it */
    struct endpoint src;
    struct endpoint dst;
    enum event_kind kind;
    __s32 delta;
    __u64 bytes;
    __s8 level;             /* 7 bytes of tail padding */
};

/* Reserved bytes that are a member: a record must read them or declare them as padding. 16 bytes. */
struct header {
    __u32 magic;
    __u8 reserved[4];
    __u32 len;
    volatile __u16 version;
};

/* An anonymous union and an over-aligned member: a gap natural alignment does not explain. 48 bytes. */
struct odd_shapes {
    __u32 id;
    union {
        __u32 ipv4;
        __u8 ipv6[16];
    };
    __u64 stamp __attribute__((aligned(16)));
    __u8 tail;
};

/* Bitfields, which panbpf refuses to map. */
struct with_bits {
    __u32 low : 3;
    __u32 high : 29;
    __u64 value;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct net_event);
} input SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct net_event);
} last SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct header);
} headers SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct with_bits);
} bits SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct odd_shapes);
} shapes SEC(".maps");

SEC("xdp")
int emit(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct net_event *in = bpf_map_lookup_elem(&input, &zero);
    struct net_event out;
    struct header h = { .magic = 0xfeedbeef, .reserved = { 1, 2, 3, 4 }, .len = sizeof(out), .version = 3 };

    if (!in)
        return XDP_ABORTED;
    out = *in;
    out.ts = bpf_ktime_get_ns();
    out.pid = in->pid + 1;
    out.flags = in->flags | 0x80;
    out.dst = in->src;
    out.dst.port = in->src.port + 1;
    out.dst.proto = 17;
    out.delta = -in->delta;
    out.bytes = in->bytes + (ctx->data_end - ctx->data);
    out.level = in->level - 1;
    bpf_map_update_elem(&last, &zero, &out, BPF_ANY);
    bpf_map_update_elem(&headers, &zero, &h, BPF_ANY);
    /* Without a perf reader on this CPU the output fails; the tests that read it install one. */
    bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &out, sizeof(out));
    if (bpf_ringbuf_output(&events, &out, sizeof(out), 0))
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
