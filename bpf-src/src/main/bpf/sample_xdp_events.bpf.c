// SPDX-License-Identifier: GPL-2.0
// Sample 1: one event per received IPv4 packet, sent over both a perf event array and a ring buffer so the
// Java side can show the two transports carrying the same data.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// Addresses are in host byte order (10.0.0.1 is 0x0a000001), so Java can print them with shifts.
struct packet_event {
	__u32 src_ip;
	__u32 dest_ip;
	__u32 packet_size; // bytes the interface received: Ethernet header to the end of the frame
};

enum packet_drop { DROP_RING_FULL = 0, DROP_PERF_FAILED = 1, DROP_SLOTS };

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} packets_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} packets_perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DROP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} packet_drops SEC(".maps");

static void count_drop(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&packet_drops, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
}

// Sends one event both ways. A function of its own (not inlined) puts struct packet_event into the object's
// BTF, where Java checks its record against the C layout before reading any event.
static __noinline int emit(struct xdp_md *ctx, struct packet_event *ev)
{
	// Perf buffer: the event is copied into this CPU's buffer.
	if (bpf_perf_event_output(ctx, &packets_perf, BPF_F_CURRENT_CPU, ev, sizeof(*ev)) < 0)
		count_drop(DROP_PERF_FAILED);

	// Ring buffer: reserve space shared by all CPUs, fill it in place, submit.
	struct packet_event *slot = bpf_ringbuf_reserve(&packets_ring, sizeof(*slot), 0);

	if (!slot) {
		count_drop(DROP_RING_FULL);
		return 0;
	}
	*slot = *ev;
	bpf_ringbuf_submit(slot, 0);
	return 0;
}

SEC("xdp")
int packet_events(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	// The verifier insists on these bounds checks before any header byte is read.
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	struct packet_event ev = {
		.src_ip = bpf_ntohl(ip->saddr),
		.dest_ip = bpf_ntohl(ip->daddr),
		.packet_size = data_end - data,
	};

	emit(ctx, &ev);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
