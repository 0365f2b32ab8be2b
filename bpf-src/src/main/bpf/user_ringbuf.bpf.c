// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user_ringbuf: the BPF end of panbpf's user ring buffer tests.
 *
 * Java writes samples into the user ring buffer `user_rb` with UserRingBuffer; running program `drain` (XDP) with
 * BPF_PROG_TEST_RUN calls bpf_user_ringbuf_drain once and adds what it saw to the one-entry array `totals`.
 *
 * Sample layout, written by the test:
 *   | u64 value | u32 size | u32 pad | pattern: byte i (i >= 16) is (value + i) & 0xff |
 * `value` counts up from 0 in submission order, `size` repeats the sample's length. For each sample the program
 * checks that the sample is exactly `size` bytes long, that its last pattern byte is right, and that `value` is
 * the one after the previous sample's; anything else counts as bad or out of order.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define HEAD_SIZE 16

struct sample_head {
    __u64 value;
    __u32 size;
    __u32 pad;
};

struct drain_totals {
    __u64 drains;        /* runs of the program */
    __s64 last_ret;      /* what the last bpf_user_ringbuf_drain returned: samples taken, or -errno */
    __u64 samples;       /* samples handed to the callback */
    __u64 value_sum;     /* sum of their values */
    __u64 bytes;         /* sum of their sizes */
    __u64 bad;           /* samples of the wrong length or with a wrong last byte */
    __u64 out_of_order;  /* samples whose value is not the previous one's + 1 */
    __u64 next;          /* the value expected next */
};

struct {
    __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
    __uint(max_entries, 16 * 4096);
} user_rb SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct drain_totals);
} totals SEC(".maps");

/* Callback state lives on the stack: bpf_user_ringbuf_drain takes a stack pointer as its context. */
struct drain_ctx {
    __u64 samples;
    __u64 value_sum;
    __u64 bytes;
    __u64 bad;
    __u64 out_of_order;
    __u64 next;
};

static long on_sample(struct bpf_dynptr *sample, void *data)
{
    struct drain_ctx *c = data;
    struct sample_head head;
    __u8 last, beyond;

    if (bpf_dynptr_read(&head, sizeof(head), sample, 0, 0)) {
        c->bad++;
        return 0;
    }
    c->samples++;
    c->value_sum += head.value;
    c->bytes += head.size;
    if (head.value != c->next)
        c->out_of_order++;
    c->next = head.value + 1;

    /* Exactly `size` bytes: the last one can be read and the one after it cannot. */
    if (head.size < HEAD_SIZE || bpf_dynptr_read(&last, 1, sample, head.size - 1, 0) ||
        !bpf_dynptr_read(&beyond, 1, sample, head.size, 0)) {
        c->bad++;
        return 0;
    }
    if (head.size > HEAD_SIZE && last != (__u8)(head.value + head.size - 1))
        c->bad++;
    return 0;
}

SEC("xdp")
int drain(struct xdp_md *xdp)
{
    __u32 key = 0;
    struct drain_totals *t = bpf_map_lookup_elem(&totals, &key);
    struct drain_ctx c = {};
    long n;

    if (!t)
        return XDP_PASS;
    c.next = t->next;
    n = bpf_user_ringbuf_drain(&user_rb, on_sample, &c, 0);
    t->drains++;
    t->last_ret = n;
    t->samples += c.samples;
    t->value_sum += c.value_sum;
    t->bytes += c.bytes;
    t->bad += c.bad;
    t->out_of_order += c.out_of_order;
    t->next = c.next;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
