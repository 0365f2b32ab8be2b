// SPDX-License-Identifier: GPL-2.0
// Sample 2: report every unlinkat(2) and unlink(2) with the caller's pid, command and path over a ring buffer. It
// checks the free space before reserving and counts every event it could not deliver. Both syscalls are traced
// because tools differ: rm calls unlinkat, while glibc's unlink() (and so Java's Files.delete) calls unlink.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "panbpf.bpf.h"

#define COMM_LEN 16
#define PATH_LEN 256

struct deletion_event {
	__u32 pid;
	char comm[COMM_LEN];
	char filename[PATH_LEN];
};

// The tracepoints' records, as /sys/kernel/tracing/events/syscalls/sys_enter_unlink{,at}/format describe them.
struct unlinkat_args {
	__u64 common;      // common_type, common_flags, common_preempt_count, common_pid
	__s64 syscall_nr;
	__u64 dfd;
	__u64 pathname;    // a user-space pointer
	__u64 flag;
};

struct unlink_args {
	__u64 common;
	__s64 syscall_nr;
	__u64 pathname;
};

enum deletion_drop {
	DROP_NO_ROOM = 0,        // the free-space check said the event would not fit
	DROP_RESERVE_FAILED = 1, // another CPU took the space between the check and the reserve
	DROP_BAD_PATH = 2,       // the path could not be read (the page was not resident): discarded
	DROP_SLOTS
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} deletions SEC(".maps") PANBPF_RECORDS(struct deletion_event);   // Java gets a typed reader of it

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DROP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} deletion_drops SEC(".maps");

static void count_drop(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&deletion_drops, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
}

// Fills the reserved event. A function of its own (not inlined) puts struct deletion_event into the object's
// BTF, where Java checks its record against the C layout before reading any event.
static __noinline int fill(struct deletion_event *e, const char *pathname)
{
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return bpf_probe_read_user_str(e->filename, sizeof(e->filename), pathname);
}

static int report(const char *pathname)
{
	// Each record costs its size plus an 8-byte header. Data not yet consumed is AVAIL_DATA; the rest is free.
	__u64 used = bpf_ringbuf_query(&deletions, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&deletions, BPF_RB_RING_SIZE);

	if (used + sizeof(struct deletion_event) + 8 > size) {
		count_drop(DROP_NO_ROOM);
		return 0;
	}

	struct deletion_event *e = bpf_ringbuf_reserve(&deletions, sizeof(*e), 0);

	if (!e) {
		count_drop(DROP_RESERVE_FAILED);
		return 0;
	}
	if (fill(e, pathname) < 0) {
		// Reserved space must be either submitted or discarded; the verifier rejects a program that leaks it.
		bpf_ringbuf_discard(e, 0);
		count_drop(DROP_BAD_PATH);
		return 0;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_unlinkat")
int trace_unlinkat(struct unlinkat_args *ctx)
{
	return report((const char *)ctx->pathname);
}

SEC("tp/syscalls/sys_enter_unlink")
int trace_unlink(struct unlink_args *ctx)
{
	return report((const char *)ctx->pathname);
}

char LICENSE[] SEC("license") = "GPL";
