// SPDX-License-Identifier: GPL-2.0
// Sample 3: classify each packet's IPv4 source address and push the verdict into a queue map. Three versions of
// the rule show a program evolving; all of them speak the same message enum, which the Java side checks against
// this object's BTF before it pops anything.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// Keep in step with dev.panbpf.samples.fizzbuzz.Message: names and values are compared at startup.
enum fizzbuzz_message {
	FIZZBUZZ_NUMBER = 0,    // none of the rules matched
	FIZZBUZZ_FIZZ = 1,      // divisible by 3
	FIZZBUZZ_BUZZ = 2,      // divisible by 5
	FIZZBUZZ_FIZZBUZZ = 3,  // divisible by 15 (v2 and later)
	FIZZBUZZ_FIBONACCI = 4, // address mod 256 is a Fibonacci number (v3; takes precedence)
};

struct fizzbuzz_entry {
	__u32 addr;                    // source address, host byte order
	enum fizzbuzz_message message; // 4 bytes, as C enums are here
};

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4096);
	__type(value, struct fizzbuzz_entry);
} fizzbuzz_queue SEC(".maps");

static int source_address(struct xdp_md *ctx, __u32 *addr)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	*addr = bpf_ntohl(ip->saddr);
	return 0;
}

static int push(__u32 addr, enum fizzbuzz_message message)
{
	struct fizzbuzz_entry entry = { .addr = addr, .message = message };

	// A full queue refuses the push; the packet still passes.
	bpf_map_push_elem(&fizzbuzz_queue, &entry, BPF_ANY);
	return XDP_PASS;
}

static __always_inline int is_fibonacci(__u32 n)
{
	// The Fibonacci numbers below 256.
	switch (n) {
	case 0: case 1: case 2: case 3: case 5: case 8: case 13: case 21:
	case 34: case 55: case 89: case 144: case 233:
		return 1;
	default:
		return 0;
	}
}

// v1: the first try. 15 says Fizz, because 3 is checked first.
SEC("xdp")
int fizzbuzz_v1(struct xdp_md *ctx)
{
	__u32 a;

	if (source_address(ctx, &a))
		return XDP_PASS;
	if (a % 3 == 0)
		return push(a, FIZZBUZZ_FIZZ);
	if (a % 5 == 0)
		return push(a, FIZZBUZZ_BUZZ);
	return push(a, FIZZBUZZ_NUMBER);
}

// v2: multiples of 15 get their own message.
SEC("xdp")
int fizzbuzz_v2(struct xdp_md *ctx)
{
	__u32 a;

	if (source_address(ctx, &a))
		return XDP_PASS;
	if (a % 15 == 0)
		return push(a, FIZZBUZZ_FIZZBUZZ);
	if (a % 3 == 0)
		return push(a, FIZZBUZZ_FIZZ);
	if (a % 5 == 0)
		return push(a, FIZZBUZZ_BUZZ);
	return push(a, FIZZBUZZ_NUMBER);
}

// v3: a Fibonacci last byte wins over everything else.
SEC("xdp")
int fizzbuzz_v3(struct xdp_md *ctx)
{
	__u32 a;

	if (source_address(ctx, &a))
		return XDP_PASS;
	if (is_fibonacci(a & 0xff))
		return push(a, FIZZBUZZ_FIBONACCI);
	if (a % 15 == 0)
		return push(a, FIZZBUZZ_FIZZBUZZ);
	if (a % 3 == 0)
		return push(a, FIZZBUZZ_FIZZ);
	if (a % 5 == 0)
		return push(a, FIZZBUZZ_BUZZ);
	return push(a, FIZZBUZZ_NUMBER);
}

char LICENSE[] SEC("license") = "GPL";
