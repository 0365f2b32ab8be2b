// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bad_verifier: a program the verifier must reject (it reads the packet without checking data_end), so tests
 * can see a rejection surface with the verifier's log. Do not "fix" it. The arithmetic before the bad read only
 * makes the log long (several KiB), as real logs are.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int reads_past_packet(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    __u32 h = ctx->ingress_ifindex;

#pragma unroll
    for (int i = 0; i < 48; i++)
        h = h * 31 + (h >> 7) + i;
    return *(__u32 *)data == h ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
