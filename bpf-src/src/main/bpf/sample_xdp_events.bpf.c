// SPDX-License-Identifier: GPL-2.0
// Sample 1: one event per received IPv4 packet, sent over both a perf event array and a ring buffer so the
// Java side can show the two transports carrying the same data.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "panbpf.bpf.h"

// Addresses are in host byte order (10.0.0.1 is 0x0a000001), so Java can print them with shifts.
struct packet_event {
	__u32 src_ip;
	__u32 dest_ip;
	__u32 packet_size; // bytes the interface received: Ethernet header to the end of the frame
};

// The counts of failed outputs per buffer, which the panbpf_* wrappers below keep and Java reads as
// producerDrops(): the kernel counts none for a ring buffer, and for a perf buffer only a full ring (LOST records).
PANBPF_DROPS_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} packets_ring SEC(".maps") PANBPF_RECORDS(struct packet_event);   // typed readers in the skeleton

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} packets_perf SEC(".maps") PANBPF_RECORDS(struct packet_event);

// Sends one event both ways. A function of its own (not inlined) puts struct packet_event into the object's
// BTF, where Java checks its record against the C layout before reading any event.
static __noinline int emit(struct xdp_md *ctx, struct packet_event *ev)
{
	// Perf buffer: the event is copied into this CPU's buffer; a failure is counted by the wrapper.
	panbpf_perf_event_output(ctx, &packets_perf, BPF_F_CURRENT_CPU, ev, sizeof(*ev));

	// Ring buffer: reserve space shared by all CPUs, fill it in place, submit. A full ring is counted too.
	struct packet_event *slot = panbpf_ringbuf_reserve(&packets_ring, sizeof(*slot), 0);

	if (!slot)
		return 0;
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
