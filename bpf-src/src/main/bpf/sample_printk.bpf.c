// SPDX-License-Identifier: GPL-2.0
// Sample 4: the same event sent two ways, as a bpf_printk line into the kernel's trace buffer (read from
// /sys/kernel/tracing/trace_pipe) and as a ring buffer record, to compare what reaches user space.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct printk_event {
	__u32 tag; // identifies this run's lines among everyone else's
	__u32 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} printk_tag SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} printk_seq SEC(".maps"); // 0: printk lines written, 1: ring records sent

// A test run with a large repeat count produces in bursts of millions per second; 4 MiB (256 Ki records of 16
// bytes with their headers) lets the consumer catch up between bursts.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} printk_ring SEC(".maps");

static __always_inline int next(__u32 slot, __u32 *tag, __u32 *seq)
{
	__u32 zero = 0;
	__u32 *t = bpf_map_lookup_elem(&printk_tag, &zero);
	__u64 *s = bpf_map_lookup_elem(&printk_seq, &slot);

	if (!t || !s)
		return -1;
	*tag = *t;
	*seq = __sync_fetch_and_add(s, 1);
	return 0;
}

// Run with BPF_PROG_TEST_RUN; every run writes one line to the trace buffer.
SEC("xdp")
int printk_line(struct xdp_md *ctx)
{
	__u32 tag, seq;

	if (next(0, &tag, &seq) == 0)
		bpf_printk("panbpf-printk tag=%u seq=%u", tag, seq);
	return XDP_PASS;
}

// The same event as a ring buffer record.
SEC("xdp")
int ring_record(struct xdp_md *ctx)
{
	__u32 tag, seq;

	if (next(1, &tag, &seq))
		return XDP_PASS;
	struct printk_event *e = bpf_ringbuf_reserve(&printk_ring, sizeof(*e), 0);

	if (e) {
		e->tag = tag;
		e->seq = seq;
		bpf_ringbuf_submit(e, 0);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
