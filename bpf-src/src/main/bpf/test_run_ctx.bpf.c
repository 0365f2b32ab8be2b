// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_run_ctx: a SEC("syscall") program for BPF_PROG_TEST_RUN tests. Such a program takes only a context, and
 * the kernel copies the context back into the caller's buffer after the run, so the test run writes into it.
 *
 * Context: | u64 in | u64 out |. `bump` sets out = in + 1 and returns the low 32 bits of in.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bump_ctx {
    __u64 in;
    __u64 out;
};

SEC("syscall")
int bump(struct bump_ctx *ctx)
{
    ctx->out = ctx->in + 1;
    return (int)ctx->in;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
