/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * panbpf.bpf.h: macros that tell panbpf's generator (panbpf gen, the panbpf Maven plugin) about your types.
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

#endif
