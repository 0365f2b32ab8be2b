// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * producer: the shared test and benchmark producer of panbpf.
 *
 * Run program `produce` (XDP) with BPF_PROG_TEST_RUN over any packet; each run emits `config.count` records
 * of `config.size` payload bytes to the ring buffer `rb` (target bit 0) and/or the perf event array `pb`
 * (target bit 1). Java sets the behaviour through the one-entry array `config` and reads the outcome from the
 * one-entry array `counters`.
 *
 * Payload (the first `size` bytes of):
 *   | u64 seq | u64 ts | u32 cpu | u32 cpu_seq | pattern: byte at offset i (i >= 24) is (seq + i) & 0xff |
 * seq is global (fetch-add on counters.seq), cpu_seq counts records per CPU.
 *
 * Discards: with discard_every = k > 0, the ring record whose seq % k == k - 1 is reserved, filled and then
 * discarded (counted in ring_discarded, not in ring_ok). The perf buffer has no discard.
 *
 * Mixed sizes: with size = 0, record seq gets MIXED_SIZES[seq % 6] bytes (8, 40, 200, 1500, 72, 3000),
 * so consecutive records never share a length (the benchmarks' mixed-size drain row).
 *
 * Batched wakeups: with wakeup_every = n > 0, the ring record whose seq % n == n - 1 is submitted with
 * BPF_RB_FORCE_WAKEUP and every other one with rb_flags (typically BPF_RB_NO_WAKEUP), so a sleeping consumer
 * is woken once per n records instead of per record.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MIN_SIZE 8
#define MAX_SIZE 8192
#define HEADER_SIZE 24
/* The pattern area holds bytes j & 0xff; a record with seq s reads it from offset s & 0xff, so byte i of the
 * payload is (s + i) & 0xff without writing the pattern per record. */
#define PATTERN_SIZE (256 + MAX_SIZE)

#define MIXED_COUNT 6

#define TARGET_RING 1
#define TARGET_PERF 2

struct producer_config {
    __u32 count;         /* records per run */
    __u32 size;          /* payload bytes, clamped to 8..8192; 0 = the mixed sizes */
    __u32 discard_every; /* discard every k-th ring record, 0 = never */
    __u32 rb_flags;      /* flags for ringbuf submit/discard: 0, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP */
    __u32 target;        /* bit 0: ring buffer, bit 1: perf buffer */
    __u32 wakeup_every;  /* force a ring wakeup on every n-th record, 0 = never */
};

struct producer_counters {
    __u64 seq;
    __u64 ring_ok;
    __u64 ring_failed;
    __u64 ring_discarded;
    __u64 perf_ok;
    __u64 perf_failed;
};

/* The first 24 bytes of every record. */
struct producer_record {
    __u64 seq;
    __u64 ts;
    __u32 cpu;
    __u32 cpu_seq;
};

struct producer_scratch {
    __u8 bytes[PATTERN_SIZE];
    __u32 ready;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} rb SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} pb SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct producer_config);
} config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct producer_counters);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} cpu_seq SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct producer_scratch);
} scratch SEC(".maps");

struct run {
    struct xdp_md *ctx;
    struct producer_counters *counters;
    struct producer_scratch *scratch;
    __u64 *cpu_seq;
    __u32 size;          /* 0: mixed sizes */
    __u32 discard_every;
    __u32 rb_flags;
    __u32 target;
    __u32 wakeup_every;
};

/* The payload size of record seq in the mixed mode: a cycle of lengths from tiny to page-sized. */
static __u32 mixed_size(__u64 seq)
{
    switch (seq % MIXED_COUNT) {
    case 0: return 8;
    case 1: return 40;
    case 2: return 200;
    case 3: return 1500;
    case 4: return 72;
    default: return 3000;
    }
}

static long fill_pattern(__u32 i, struct run *r)
{
    if (i < PATTERN_SIZE)
        r->scratch->bytes[i] = i & 0xff;
    return 0;
}

/* Not inlined, so struct producer_record stays in the object's BTF, where Java verifies its record against it. */
static __noinline void emit_ring(struct run *r, struct producer_record *rec, __u32 size)
{
    struct bpf_dynptr dp;
    __u64 base = rec->seq & 0xff;

    if (bpf_ringbuf_reserve_dynptr(&rb, size, 0, &dp)) {
        /* The verifier wants the dynptr released even when the reservation failed. */
        bpf_ringbuf_discard_dynptr(&dp, 0);
        __sync_fetch_and_add(&r->counters->ring_failed, 1);
        return;
    }
    bpf_dynptr_write(&dp, 0, rec, size < HEADER_SIZE ? size : HEADER_SIZE, 0);
    if (size > HEADER_SIZE && size <= MAX_SIZE)
        bpf_dynptr_write(&dp, HEADER_SIZE, &r->scratch->bytes[base + HEADER_SIZE], size - HEADER_SIZE, 0);

    if (r->discard_every && rec->seq % r->discard_every == r->discard_every - 1) {
        bpf_ringbuf_discard_dynptr(&dp, r->rb_flags);
        __sync_fetch_and_add(&r->counters->ring_discarded, 1);
    } else {
        __u64 flags = r->rb_flags;

        if (r->wakeup_every && rec->seq % r->wakeup_every == r->wakeup_every - 1)
            flags = BPF_RB_FORCE_WAKEUP;
        bpf_ringbuf_submit_dynptr(&dp, flags);
        __sync_fetch_and_add(&r->counters->ring_ok, 1);
    }
}

static void emit_perf(struct run *r, struct producer_record *rec, __u32 size)
{
    __u64 base = rec->seq & 0xff;
    __u8 *at = &r->scratch->bytes[base];
    long err;

    if (size < MIN_SIZE || size > MAX_SIZE)
        return;
    /* The perf helper needs one contiguous buffer: put the header just before this record's pattern, send,
     * then restore the pattern bytes the header covered. */
    __builtin_memcpy(at, rec, HEADER_SIZE);
    err = bpf_perf_event_output(r->ctx, &pb, BPF_F_CURRENT_CPU, at, size);
#pragma unroll
    for (int j = 0; j < HEADER_SIZE; j++)
        at[j] = (base + j) & 0xff;
    if (err)
        __sync_fetch_and_add(&r->counters->perf_failed, 1);
    else
        __sync_fetch_and_add(&r->counters->perf_ok, 1);
}

static long emit(__u32 index, struct run *r)
{
    struct producer_record rec;
    __u32 size;

    rec.seq = __sync_fetch_and_add(&r->counters->seq, 1);
    rec.ts = bpf_ktime_get_ns();
    rec.cpu = bpf_get_smp_processor_id();
    rec.cpu_seq = (*r->cpu_seq)++;
    size = r->size ? r->size : mixed_size(rec.seq);
    if (r->target & TARGET_RING)
        emit_ring(r, &rec, size);
    if (r->target & TARGET_PERF)
        emit_perf(r, &rec, size);
    return 0;
}

SEC("xdp")
int produce(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct producer_config *cfg = bpf_map_lookup_elem(&config, &zero);
    struct producer_counters *cnt = bpf_map_lookup_elem(&counters, &zero);
    struct producer_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
    __u64 *cs = bpf_map_lookup_elem(&cpu_seq, &zero);
    struct run r;

    if (!cfg || !cnt || !s || !cs)
        return XDP_PASS;
    r.ctx = ctx;
    r.counters = cnt;
    r.scratch = s;
    if (!s->ready) {
        bpf_loop(PATTERN_SIZE, fill_pattern, &r, 0);
        s->ready = 1;
    }
    r.cpu_seq = cs;
    r.size = cfg->size == 0 ? 0 : cfg->size < MIN_SIZE ? MIN_SIZE : cfg->size > MAX_SIZE ? MAX_SIZE : cfg->size;
    r.discard_every = cfg->discard_every;
    r.rb_flags = cfg->rb_flags;
    r.target = cfg->target;
    r.wakeup_every = cfg->wakeup_every;
    bpf_loop(cfg->count, emit, &r, 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
