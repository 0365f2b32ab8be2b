/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * panbpf.bpf.h: macros that tell panbpf's generator (panbpf gen, the panbpf Maven plugin) about your types, and
 * wrappers of the output helpers that count what a program failed to send. One BPF C file includes it.
 *
 * The BTF rule: clang keeps a struct in the object's BTF only when a global variable, a map definition or a
 * non-inlined function's signature uses it. A struct that only a local variable uses (the usual ring buffer
 * event: reserved, filled, submitted) is dropped, and then no Java record can be generated or checked for it.
 *
 *   PANBPF_KEEP(struct event);            at file scope: keeps struct event in BTF, and the generator writes
 *                                         a record for it
 *   struct { ... } events SEC(".maps") PANBPF_RECORDS(struct event);
 *                                         on a ring buffer: its records are struct event, so the skeleton gets a
 *                                         typed reader (eventsReader()); on a perf event array as well; use PANBPF_KEEP too
 *
 * Producer drops: the kernel counts nothing when bpf_ringbuf_reserve or bpf_ringbuf_output fails (the ring is
 * full) and only the program sees it. The wrappers below behave exactly like their helpers (same arguments, same
 * result) and, when the helper fails, add 1 to a per-CPU counter keyed by the map's name, which panbpf's readers
 * report as producerDrops() beside delivered() and discarded().
 *
 *   PANBPF_DROPS_MAP;                     once, at file scope, before the first wrapper: defines the counter map
 *                                         panbpf_drops ("use of undeclared identifier 'panbpf_drops'" means
 *                                         this line is missing)
 *   e = panbpf_ringbuf_reserve(&events, sizeof(*e), 0);
 *   err = panbpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
 *   err = panbpf_ringbuf_reserve_dynptr(&events, size, 0, &dynptr);
 *   err = panbpf_perf_event_output(ctx, &packets, BPF_F_CURRENT_CPU, &ev, sizeof(ev));
 *
 * The rule: the first argument must name the map itself, as &name or name; the wrapper turns that text into the
 * key (the name, cut to the 15 characters the kernel keeps of a map name, NUL-padded to 16 bytes). A pointer
 * variable holding the map would count under the variable's name, which no reader looks for; a helper that
 * takes the map as a parameter must be a macro. Two maps whose names share the first 15 characters share a count.
 *
 * perf: a full perf buffer already reaches the reader as the kernel's LOST record (PerfBuffer.lost()), and the
 * helper then returns -ENOSPC; panbpf_perf_event_output counts every other failure (-ENOENT: no reader on that
 * CPU, -E2BIG: no such CPU slot, -EBUSY: nested too deep, ...), so each lost event is counted once.
 *
 * Cost: on success one extra test of the result, usually merged with the program's own; the counting code runs
 * only on failure. The counter map holds 64 names; a 65th distinct map name in one object goes uncounted.
 * The wrappers need the types of <linux/bpf.h> (or vmlinux.h), included before this header.
 */
#ifndef PANBPF_BPF_H
#define PANBPF_BPF_H

#define PANBPF_CONCAT_(a, b) a##b
#define PANBPF_CONCAT(a, b) PANBPF_CONCAT_(a, b)

/* A never-used pointer global (8 bytes of .bss) carries the type into BTF; its tag names it for the generator. */
#define PANBPF_KEEP(type) \
    type *PANBPF_CONCAT(__panbpf_keep_, __COUNTER__) \
        __attribute__((unused, btf_decl_tag("panbpf.keep:" #type)))

/* A BTF declaration tag on the map: costs nothing at run time. */
#define PANBPF_RECORDS(type) __attribute__((btf_decl_tag("panbpf.record:" #type)))

#if defined(__LINUX_BPF_H__) || defined(_UAPI__LINUX_BPF_H__) || defined(__VMLINUX_H__)
#include <bpf/bpf_helpers.h>

#define PANBPF_NAME_LEN 16
#define PANBPF_DROPS_ENTRIES 64

/* A map definition in the user's file: libbpf refuses static maps, and a weak one would put the map into every
 * object that includes this header only for PANBPF_KEEP. */
#define PANBPF_DROPS_MAP \
    struct { \
        __uint(type, BPF_MAP_TYPE_PERCPU_HASH); \
        __uint(max_entries, PANBPF_DROPS_ENTRIES); \
        __type(key, char[PANBPF_NAME_LEN]); \
        __type(value, __u64); \
    } panbpf_drops SEC(".maps")

static __always_inline int panbpf_name_char_(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Adds 1 to this CPU's count for the map whose argument text is arg ("&events" counts under "events"). arg is a
 * string literal and every loop is bounded, so clang folds the key into constant stores. */
static __always_inline void panbpf_count_drop_(void *drops, const char *arg)
{
    char key[PANBPF_NAME_LEN] = {};
    __u64 one = 1, *n;
    int at = 0;

#pragma unroll
    for (int skip = 0; skip < 3; skip++)
        if (arg[at] == '&' || arg[at] == ' ' || arg[at] == '(')
            at++;
#pragma unroll
    for (int i = 0; i < PANBPF_NAME_LEN - 1; i++) {
        if (!panbpf_name_char_(arg[at + i]))
            break;
        key[i] = arg[at + i];
    }
    n = bpf_map_lookup_elem(drops, key);
    if (n) {
        __sync_fetch_and_add(n, 1);
        return;
    }
    /* First drop of this map: create the entry (this CPU 1, the others 0); another CPU may win the race. */
    if (bpf_map_update_elem(drops, key, &one, BPF_NOEXIST)) {
        n = bpf_map_lookup_elem(drops, key);
        if (n)
            __sync_fetch_and_add(n, 1);
    }
}

#define panbpf_ringbuf_reserve(map, size, flags) ({ \
    void *panbpf_rec_ = bpf_ringbuf_reserve((map), (size), (flags)); \
    if (__builtin_expect(!panbpf_rec_, 0)) \
        panbpf_count_drop_(&panbpf_drops, #map); \
    panbpf_rec_; })

#define panbpf_ringbuf_output(map, data, size, flags) ({ \
    long panbpf_err_ = bpf_ringbuf_output((map), (data), (size), (flags)); \
    if (__builtin_expect(panbpf_err_ != 0, 0)) \
        panbpf_count_drop_(&panbpf_drops, #map); \
    panbpf_err_; })

/* On failure the dynptr must still be discarded, as with the helper. */
#define panbpf_ringbuf_reserve_dynptr(map, size, flags, ptr) ({ \
    long panbpf_err_ = bpf_ringbuf_reserve_dynptr((map), (size), (flags), (ptr)); \
    if (__builtin_expect(panbpf_err_ != 0, 0)) \
        panbpf_count_drop_(&panbpf_drops, #map); \
    panbpf_err_; })

/* -ENOSPC is a full buffer, which the kernel reports in a LOST record; counting it too would count it twice. */
#define panbpf_perf_event_output(ctx, map, flags, data, size) ({ \
    long panbpf_err_ = bpf_perf_event_output((ctx), (map), (flags), (data), (size)); \
    if (__builtin_expect(panbpf_err_ != 0, 0)) \
        if (panbpf_err_ != -28 /* ENOSPC */) \
            panbpf_count_drop_(&panbpf_drops, #map); \
    panbpf_err_; })
#else
#define PANBPF_DROPS_MAP \
    _Static_assert(0, "panbpf.bpf.h: include <linux/bpf.h> (or vmlinux.h) before panbpf.bpf.h for the drop counters")
#endif

#endif
