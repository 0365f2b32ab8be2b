#!/usr/bin/env python3
"""Writes the classes of dev.panbpf.bindings in the shape jextract 22 emits.

jextract cannot be installed on our build machines, so this script stands in for it: it holds the list of
symbols we bind (what jextract's --include-* flags would select, see ../README.md) and prints each header
class and struct class the way jextract lays them out. LayoutProofTest compiles a C probe against the real
headers and checks every offset, size, constant and prototype declared here.

Run from the repository root:  python3 bindings/tools/gen_bindings.py
"""
import os
import textwrap

OUT = os.path.join(os.path.dirname(__file__), "..", "src", "main", "java", "dev", "panbpf", "bindings")
PKG = "dev.panbpf.bindings"

# C scalar -> (layout constant, Java carrier, ValueLayout class, byte size)
SCALARS = {
    "u8": ("C_CHAR", "byte", "OfByte", 1),
    "u16": ("C_SHORT", "short", "OfShort", 2),
    "u32": ("C_INT", "int", "OfInt", 4),
    "s32": ("C_INT", "int", "OfInt", 4),
    "u64": ("C_LONG_LONG", "long", "OfLong", 8),
    "s64": ("C_LONG_LONG", "long", "OfLong", 8),
    "long": ("C_LONG", "long", "OfLong", 8),
    "ptr": ("C_POINTER", "MemorySegment", "AddressLayout", 8),
}


class F:
    """A struct member: a scalar, an array (count), a nested group (group) or a union of same-typed names."""

    def __init__(self, name, ctype=None, count=None, group=None, bits=None):
        self.name, self.ctype, self.count, self.group, self.bits = name, ctype, count, group, bits


class G:
    """A struct or union. anon: members are reached from the parent in C (flattened accessors in Java)."""

    def __init__(self, name, fields, union=False, packed=False, size=None, anon=False):
        self.name, self.fields, self.union, self.packed, self.size, self.anon = name, fields, union, packed, size, anon


def scalar_size(t):
    return SCALARS[t][3]


def align_of(f, packed):
    if packed:
        return 1
    if f.group is not None:
        return max(align_of(x, f.group.packed) for x in f.group.fields)
    return scalar_size(f.ctype)


def size_of(f):
    if f.group is not None:
        return group_size(f.group)
    return scalar_size(f.ctype) * (f.count or 1)


def group_align(g):
    return 1 if g.packed else max(align_of(f, False) for f in g.fields)


def group_size(g):
    if g.union:
        raw = max(size_of(f) for f in g.fields)
    else:
        off = 0
        for f in g.fields:
            a = align_of(f, g.packed)
            off = (off + a - 1) // a * a + size_of(f)
        raw = off
    a = group_align(g)
    raw = (raw + a - 1) // a * a
    return max(raw, g.size or 0)


def layout_expr(g, hdr, indent, packed=False):
    """The MemoryLayout expression for g, with padding where C inserts it."""
    items, off = [], 0
    packed = packed or g.packed
    for f in g.fields:
        if not g.union:
            a = align_of(f, g.packed)
            pad = (-off) % a
            if pad:
                items.append(f"MemoryLayout.paddingLayout({pad})")
                off += pad
        if f.group is not None:
            inner = layout_expr(f.group, hdr, indent + 4, packed)
            items.append(f"{inner}.withName(\"{f.name}\")")
        elif f.count:
            c = SCALARS[f.ctype][0]
            items.append(f"MemoryLayout.sequenceLayout({f.count}, {hdr}.{c}).withName(\"{f.name}\")")
        else:
            c = SCALARS[f.ctype][0]
            lay = f"{hdr}.{c}"
            if packed and scalar_size(f.ctype) > 1:
                lay += ".withByteAlignment(1)"
            items.append(f"{lay}.withName(\"{f.name}\")")
        if not g.union:
            off += size_of(f)
    total = group_size(g)
    used = off if not g.union else max(size_of(f) for f in g.fields)
    if total > used and not g.union:
        items.append(f"MemoryLayout.paddingLayout({total - used})")
    if g.union and total > used:
        items.append(f"MemoryLayout.paddingLayout({total})")
    kind = "unionLayout" if g.union else "structLayout"
    pad = " " * (indent + 4)
    return f"MemoryLayout.{kind}(\n{pad}" + f",\n{pad}".join(items) + f"\n{' ' * indent})"


def member_offsets(g, base=0):
    """(field, absolute offset, path of names) for every scalar/array member reachable without a named group."""
    out, off = [], 0
    for f in g.fields:
        if not g.union:
            a = align_of(f, g.packed)
            off = (off + a - 1) // a * a
        here = base + (0 if g.union else off)
        if f.group is not None and f.group.anon:
            out += [(x, o, [f.name] + p) for x, o, p in member_offsets(f.group, here)]
        else:
            out.append((f, here, [f.name]))
        if not g.union:
            off += size_of(f)
    return out


def accessors(g, hdr, layout_ref, static_prefix=""):
    lines = []
    for f, off, path in member_offsets(g):
        n = f.name
        select = ", ".join(f"groupElement(\"{p}\")" for p in path)
        if f.group is not None:
            lines.append(textwrap.dedent(f"""
                private static final GroupLayout {n}$LAYOUT = (GroupLayout){layout_ref}.select({select});
                /** Layout of field {n}. */
                public static final GroupLayout {n}$layout() {{ return {n}$LAYOUT; }}
                private static final long {n}$OFFSET = {off};
                /** Offset of field {n}. */
                public static final long {n}$offset() {{ return {n}$OFFSET; }}
                /** Getter for field {n}: a slice of the struct. */
                public static MemorySegment {n}(MemorySegment struct) {{ return struct.asSlice({n}$OFFSET, {n}$LAYOUT.byteSize()); }}
                /** Setter for field {n}. */
                public static void {n}(MemorySegment struct, MemorySegment fieldValue) {{ MemorySegment.copy(fieldValue, 0L, struct, {n}$OFFSET, {n}$LAYOUT.byteSize()); }}
            """))
        elif f.count:
            lines.append(textwrap.dedent(f"""
                private static final SequenceLayout {n}$LAYOUT = (SequenceLayout){layout_ref}.select({select});
                /** Layout of field {n}. */
                public static final SequenceLayout {n}$layout() {{ return {n}$LAYOUT; }}
                private static final long {n}$OFFSET = {off};
                /** Offset of field {n}. */
                public static final long {n}$offset() {{ return {n}$OFFSET; }}
                /** Getter for field {n}: a slice of the struct. */
                public static MemorySegment {n}(MemorySegment struct) {{ return struct.asSlice({n}$OFFSET, {n}$LAYOUT.byteSize()); }}
                /** Setter for field {n}. */
                public static void {n}(MemorySegment struct, MemorySegment fieldValue) {{ MemorySegment.copy(fieldValue, 0L, struct, {n}$OFFSET, {n}$LAYOUT.byteSize()); }}
            """))
        else:
            _, carrier, vl, _ = SCALARS[f.ctype]
            lines.append(textwrap.dedent(f"""
                private static final {vl} {n}$LAYOUT = ({vl}){layout_ref}.select({select});
                /** Layout of field {n}. */
                public static final {vl} {n}$layout() {{ return {n}$LAYOUT; }}
                private static final long {n}$OFFSET = {off};
                /** Offset of field {n}. */
                public static final long {n}$offset() {{ return {n}$OFFSET; }}
                /** Getter for field {n}. */
                public static {carrier} {n}(MemorySegment struct) {{ return struct.get({n}$LAYOUT, {n}$OFFSET); }}
                /** Setter for field {n}. */
                public static void {n}(MemorySegment struct, {carrier} fieldValue) {{ struct.set({n}$LAYOUT, {n}$OFFSET, fieldValue); }}
            """))
        if f.bits:
            consts = "\n".join(
                f"    /** Bit {b} of {n} is C bitfield {bn}. */\n    public static int {bn}() {{ return {b}; }}"
                for bn, b in f.bits)
            lines.append(f"/** Bit positions of the C bitfields held in {n}. */\n"
                         f"public static final class {n}$bits {{\n    private {n}$bits() {{ }}\n{consts}\n}}\n")
    return "".join(lines)


def nested_named(g, hdr, parent_cls):
    """Nested classes for named (non-anonymous) groups, as jextract emits for named struct members."""
    out = []
    for f, off, path in member_offsets(g):
        if f.group is None:
            continue
        cls = f.name
        body = accessors(f.group, hdr, "$LAYOUT") + nested_named(f.group, hdr, f"{parent_cls}.{cls}")
        out.append(f"""
/** The C member {f.name}, {'a union' if f.group.union else 'a struct'}. */
public static class {cls} {{
    {cls}() {{ }}
    private static final GroupLayout $LAYOUT = (GroupLayout){parent_cls}.$LAYOUT.select({', '.join(f'groupElement("{p}")' for p in path)});
    /** The layout of this member. */
    public static final GroupLayout layout() {{ return $LAYOUT; }}
{textwrap.indent(body, '    ')}
    /** Size of this member in bytes. */
    public static long sizeof() {{ return layout().byteSize(); }}
}}
""")
    return "".join(out)


def struct_class(cname, g, hdr, cdecl):
    body = accessors(g, hdr, "$LAYOUT") + nested_named(g, hdr, cname)
    return f"""// Generated by bindings/tools/gen_bindings.py in the shape of jextract 22. Do not edit.
package {PKG};

import java.lang.foreign.*;
import java.lang.foreign.ValueLayout.*;
import java.util.function.Consumer;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * {{@snippet lang=c :
{textwrap.indent(cdecl.strip(), ' * ')}
 * }}
 */
public class {cname} {{

    {cname}() {{ }}

    private static final GroupLayout $LAYOUT = {layout_expr(g, hdr, 4)}.withName("{g.name}");

    /** The layout of this {'union' if g.union else 'struct'}. */
    public static final GroupLayout layout() {{ return $LAYOUT; }}
{textwrap.indent(body, '    ')}
    /** Size of this {'union' if g.union else 'struct'} in bytes. */
    public static long sizeof() {{ return layout().byteSize(); }}

    /** Allocate a segment of size {{@code layout().byteSize()}} using {{@code allocator}}. */
    public static MemorySegment allocate(SegmentAllocator allocator) {{ return allocator.allocate(layout()); }}

    /** Allocate an array of size {{@code elementCount}} using {{@code allocator}}. */
    public static MemorySegment allocateArray(long elementCount, SegmentAllocator allocator) {{
        return allocator.allocate(MemoryLayout.sequenceLayout(elementCount, layout()));
    }}

    /** Reinterprets {{@code addr}} using target {{@code arena}} and {{@code cleanupAction}} (if any). */
    public static MemorySegment reinterpret(MemorySegment addr, Arena arena, Consumer<MemorySegment> cleanup) {{
        return reinterpret(addr, 1, arena, cleanup);
    }}

    /** Reinterprets {{@code addr}} as an array of {{@code elementCount}} elements. */
    public static MemorySegment reinterpret(MemorySegment addr, long elementCount, Arena arena, Consumer<MemorySegment> cleanup) {{
        return addr.reinterpret(layout().byteSize() * elementCount, arena, cleanup);
    }}
}}
"""


# ---------------------------------------------------------------------------------------------- header classes

class Fn:
    """A function: C prototype (kept in the Javadoc; the layout proof checks it against the header),
    Java return/params as SCALARS keys (None = void), errno capture, variadic (fixed parameter count)."""

    def __init__(self, name, ret, params, proto, errno=True, variadic=False):
        self.name, self.ret, self.params, self.proto, self.errno, self.variadic = name, ret, params, proto, errno, variadic


def fn_code(hdr, fn):
    lay = lambda t: f"{hdr}.{SCALARS[t][0]}"
    car = lambda t: SCALARS[t][1] if t else "void"
    desc_args = ", ".join(lay(t) for t, _ in fn.params)
    desc = (f"FunctionDescriptor.of({lay(fn.ret)}{', ' if desc_args else ''}{desc_args})" if fn.ret
            else f"FunctionDescriptor.ofVoid({desc_args})")
    opts = ", ERRNO_OPTION" if fn.errno else ""
    jparams = ", ".join(f"{car(t)} {n}" for t, n in fn.params)
    jargs = ", ".join(n for _, n in fn.params)
    if fn.errno:
        jparams = "MemorySegment errnoState" + (", " + jparams if jparams else "")
        jargs = "errnoState" + (", " + jargs if jargs else "")
    proto = textwrap.indent(fn.proto.strip(), "     * ")
    errdoc = ("\n     * <p>{@code errnoState} is a segment of {@link #errnoStateLayout()}; errno is stored there"
              " right after the call.") if fn.errno else ""
    ret_kw = "" if fn.ret is None else f"return ({car(fn.ret)})"
    if fn.variadic:
        return f"""
    /**
     * Variadic invoker class for:
     * {{@snippet lang=c :
{proto}
     * }}
     * Build one invoker per argument shape, once, with {{@link #makeInvoker(MemoryLayout...)}}.{errdoc}
     */
    public static class {fn.name} {{
        private static final FunctionDescriptor BASE_DESC = {desc};
        private static final MemorySegment ADDR = {hdr}.findOrThrow("{fn.name}");

        private final MethodHandle handle;
        private final FunctionDescriptor descriptor;

        private {fn.name}(MethodHandle handle, FunctionDescriptor descriptor) {{
            this.handle = handle;
            this.descriptor = descriptor;
        }}

        /** Makes an invoker for the given variadic argument layouts. */
        public static {fn.name} makeInvoker(MemoryLayout... layouts) {{
            FunctionDescriptor desc$ = BASE_DESC.appendArgumentLayouts(layouts);
            Linker.Option fva$ = Linker.Option.firstVariadicArg(BASE_DESC.argumentLayouts().size());
            var mh$ = Linker.nativeLinker().downcallHandle(ADDR, desc$, fva${opts});
            return new {fn.name}(mh$, desc$);
        }}

        /** The base descriptor, without variadic arguments. */
        public static FunctionDescriptor descriptor() {{ return BASE_DESC; }}

        /** The handle of this invoker{', with the errno state segment as its first parameter' if fn.errno else ''}. */
        public MethodHandle handle() {{ return handle; }}

        /** The descriptor of this invoker. */
        public FunctionDescriptor invokerDescriptor() {{ return descriptor; }}
    }}
"""
    return f"""
    private static class {fn.name} {{
        public static final FunctionDescriptor DESC = {desc};
        public static final MemorySegment ADDR = {hdr}.findOrThrow("{fn.name}");
        public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC{opts});
    }}

    /** Function descriptor for {fn.name}. */
    public static FunctionDescriptor {fn.name}$descriptor() {{ return {fn.name}.DESC; }}

    /** Downcall method handle for {fn.name}. */
    public static MethodHandle {fn.name}$handle() {{ return {fn.name}.HANDLE; }}

    /** Address of {fn.name}. */
    public static MemorySegment {fn.name}$address() {{ return {fn.name}.ADDR; }}

    /**
     * {{@snippet lang=c :
{proto}
     * }}{errdoc}
     */
    public static {car(fn.ret)} {fn.name}({jparams}) {{
        var mh$ = {fn.name}.HANDLE;
        try {{
            {ret_kw}mh$.invokeExact({jargs});
        }} catch (Error | RuntimeException ex) {{
            throw ex;
        }} catch (Throwable ex$) {{
            throw new AssertionError("should not reach here", ex$);
        }}
    }}
"""


def const_code(name, jtype, value, cexpr):
    suffix = "L" if jtype == "long" else ""
    return f"""
    private static final {jtype} {name} = ({jtype}){value}{suffix};
    /** {{@snippet lang=c : {cexpr} }} */
    public static {jtype} {name}() {{ return {name}; }}
"""


def header_class(hdr, cheader, consts, fns, library="libc", extra=""):
    lookup = ""
    if any(True for _ in fns):
        if library == "libbpf":
            lookup = """
    /** libbpf.so.1 from the system's library path, loaded once for the life of the JVM. */
    static final SymbolLookup SYMBOL_LOOKUP = SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
"""
        else:
            lookup = """
    static final SymbolLookup SYMBOL_LOOKUP = Linker.nativeLinker().defaultLookup();
"""
    if fns:
        lookup += """
    static MemorySegment findOrThrow(String symbol) {
        return SYMBOL_LOOKUP.find(symbol).orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + symbol));
    }
"""
    errno = ""
    if any(f.errno for f in fns):
        errno = """
    /** Linker option that stores errno right after each call into a caller-supplied segment. */
    static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

    /** Layout of the call-state segment holding errno; allocate one per thread and reuse it. */
    public static StructLayout errnoStateLayout() { return (StructLayout)Linker.Option.captureStateLayout(); }
"""
    cbody = "".join(const_code(*c) for c in consts)
    fbody = "".join(fn_code(hdr, f) for f in fns)
    return f"""// Generated by bindings/tools/gen_bindings.py in the shape of jextract 22. Do not edit.
package {PKG};

import java.lang.foreign.*;
import java.lang.foreign.ValueLayout.*;
import java.lang.invoke.MethodHandle;

/** Symbols of {{@code <{cheader}>}}. */
public class {hdr} {{

    {hdr}() {{ }}

    /** C char. */
    public static final ValueLayout.OfByte C_CHAR = ValueLayout.JAVA_BYTE;
    /** C short. */
    public static final ValueLayout.OfShort C_SHORT = ValueLayout.JAVA_SHORT;
    /** C int. */
    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    /** C long long. */
    public static final ValueLayout.OfLong C_LONG_LONG = ValueLayout.JAVA_LONG;
    /** C pointer. */
    public static final AddressLayout C_POINTER = ValueLayout.ADDRESS
            .withTargetLayout(MemoryLayout.sequenceLayout(java.lang.Long.MAX_VALUE, ValueLayout.JAVA_BYTE));
    /** C long (LP64). */
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
{lookup}{errno}{cbody}{fbody}{extra}}}
"""


def I(name, value, cexpr=None):
    return (name, "int", value, cexpr or name)


def L(name, value, cexpr=None):
    return (name, "long", value, cexpr or name)


# ---------------------------------------------------------------------------------------------------- the spec

HEADERS = []  # (hdr, cheader, consts, fns, library)
STRUCTS = []  # (class name, group, header class, C declaration)

HEADERS.append(("unistd_h", "unistd.h", [
    I("SYS_bpf", 321), I("SYS_perf_event_open", 298),
    I("_SC_PAGESIZE", 30), I("_SC_NPROCESSORS_CONF", 83), I("_SC_NPROCESSORS_ONLN", 84),
], [
    Fn("syscall", "long", [("long", "__sysno")], "long syscall(long __sysno, ...)", variadic=True),
    Fn("close", "u32", [("u32", "__fd")], "int close(int __fd)"),
    Fn("read", "long", [("u32", "__fd"), ("ptr", "__buf"), ("long", "__nbytes")],
       "ssize_t read(int __fd, void *__buf, size_t __nbytes)"),
    Fn("write", "long", [("u32", "__fd"), ("ptr", "__buf"), ("long", "__n")],
       "ssize_t write(int __fd, const void *__buf, size_t __n)"),
    Fn("sysconf", "long", [("u32", "__name")], "long sysconf(int __name)"),
], "libc"))

HEADERS.append(("string_h", "string.h", [], [
    Fn("strerror", "ptr", [("u32", "__errnum")], "char *strerror(int __errnum)", errno=False),
    Fn("strlen", "long", [("ptr", "__s")], "size_t strlen(const char *__s)", errno=False),
], "libc"))

HEADERS.append(("stdio_h", "stdio.h", [], [
    Fn("vsnprintf", "u32", [("ptr", "__s"), ("long", "__maxlen"), ("ptr", "__format"), ("ptr", "__arg")],
       "int vsnprintf(char *restrict __s, size_t __maxlen, const char *restrict __format, __gnuc_va_list __arg)",
       errno=False),
], "libc"))

HEADERS.append(("errno_h", "errno.h", [
    I(n, v) for n, v in [
        ("EPERM", 1), ("ENOENT", 2), ("ESRCH", 3), ("EINTR", 4), ("EIO", 5), ("ENXIO", 6), ("E2BIG", 7),
        ("ENOEXEC", 8), ("EBADF", 9), ("EAGAIN", 11), ("ENOMEM", 12), ("EACCES", 13), ("EFAULT", 14),
        ("EBUSY", 16), ("EEXIST", 17), ("ENODEV", 19), ("ENOTDIR", 20), ("EINVAL", 22), ("ENFILE", 23),
        ("EMFILE", 24), ("ENOTTY", 25), ("EFBIG", 27), ("ENOSPC", 28), ("ESPIPE", 29), ("EROFS", 30),
        ("ERANGE", 34), ("EDEADLK", 35), ("ENAMETOOLONG", 36), ("ENOSYS", 38), ("ENOTEMPTY", 39),
        ("ELOOP", 40), ("ENOMSG", 42), ("ENODATA", 61), ("ETIME", 62), ("EPROTO", 71), ("EBADMSG", 74),
        ("EOVERFLOW", 75), ("EBADFD", 77), ("EOPNOTSUPP", 95), ("EAFNOSUPPORT", 97), ("EADDRINUSE", 98),
        ("ENETDOWN", 100), ("ETIMEDOUT", 110), ("EALREADY", 114), ("EINPROGRESS", 115), ("ECANCELED", 125),
    ]], [], "libc"))

HEADERS.append(("sys_mman_h", "sys/mman.h", [
    I("PROT_NONE", 0), I("PROT_READ", 1), I("PROT_WRITE", 2), I("MAP_SHARED", 1), I("MAP_PRIVATE", 2),
    I("MAP_ANONYMOUS", 0x20), I("MAP_FIXED", 0x10), I("MAP_POPULATE", 0x8000),
], [
    Fn("mmap", "ptr", [("ptr", "__addr"), ("long", "__len"), ("u32", "__prot"), ("u32", "__flags"),
                       ("u32", "__fd"), ("long", "__offset")],
       "void *mmap(void *__addr, size_t __len, int __prot, int __flags, int __fd, __off_t __offset)"),
    Fn("munmap", "u32", [("ptr", "__addr"), ("long", "__len")], "int munmap(void *__addr, size_t __len)"),
], "libc"))

HEADERS.append(("sys_ioctl_h", "sys/ioctl.h", [], [
    Fn("ioctl", "u32", [("u32", "__fd"), ("long", "__request")], "int ioctl(int __fd, unsigned long __request, ...)",
       variadic=True),
], "libc"))

HEADERS.append(("sys_epoll_h", "sys/epoll.h", [
    I("EPOLLIN", 1), I("EPOLLPRI", 2), I("EPOLLOUT", 4), I("EPOLLERR", 8), I("EPOLLHUP", 16),
    I("EPOLLET", -2147483648, "EPOLLET"), I("EPOLL_CTL_ADD", 1), I("EPOLL_CTL_DEL", 2), I("EPOLL_CTL_MOD", 3),
    I("EPOLL_CLOEXEC", 0o2000000),
], [
    Fn("epoll_create1", "u32", [("u32", "__flags")], "int epoll_create1(int __flags)"),
    Fn("epoll_ctl", "u32", [("u32", "__epfd"), ("u32", "__op"), ("u32", "__fd"), ("ptr", "__event")],
       "int epoll_ctl(int __epfd, int __op, int __fd, struct epoll_event *__event)"),
    Fn("epoll_wait", "u32", [("u32", "__epfd"), ("ptr", "__events"), ("u32", "__maxevents"), ("u32", "__timeout")],
       "int epoll_wait(int __epfd, struct epoll_event *__events, int __maxevents, int __timeout)"),
], "libc"))
EPOLL_DATA = G("epoll_data", [F("ptr", "ptr"), F("fd", "u32"), F("u32", "u32"), F("u64", "u64")], union=True)
STRUCTS.append(("epoll_data", EPOLL_DATA, "sys_epoll_h", """
typedef union epoll_data {
    void *ptr;
    int fd;
    uint32_t u32;
    uint64_t u64;
} epoll_data_t
"""))
STRUCTS.append(("epoll_event", G("epoll_event", [F("events", "u32"), F("data", group=EPOLL_DATA)], packed=True),
                "sys_epoll_h", """
struct epoll_event {
    uint32_t events;
    epoll_data_t data;
} __attribute__ ((__packed__))
"""))

HEADERS.append(("sys_eventfd_h", "sys/eventfd.h", [
    I("EFD_SEMAPHORE", 1), I("EFD_NONBLOCK", 0o4000), I("EFD_CLOEXEC", 0o2000000),
], [
    Fn("eventfd", "u32", [("u32", "__count"), ("u32", "__flags")], "int eventfd(unsigned int __count, int __flags)"),
], "libc"))

HEADERS.append(("sched_h", "sched.h", [I("CPU_SETSIZE", 1024)], [
    Fn("sched_setaffinity", "u32", [("u32", "__pid"), ("long", "__cpusetsize"), ("ptr", "__cpuset")],
       "int sched_setaffinity(__pid_t __pid, size_t __cpusetsize, const cpu_set_t *__cpuset)"),
    Fn("sched_getaffinity", "u32", [("u32", "__pid"), ("long", "__cpusetsize"), ("ptr", "__cpuset")],
       "int sched_getaffinity(__pid_t __pid, size_t __cpusetsize, cpu_set_t *__cpuset)"),
    Fn("sched_getcpu", "u32", [], "int sched_getcpu(void)"),
], "libc"))
STRUCTS.append(("cpu_set_t", G("cpu_set_t", [F("__bits", "long", count=16)]), "sched_h", """
typedef struct {
    __cpu_mask __bits[__CPU_SETSIZE / __NCPUBITS];
} cpu_set_t
"""))

# linux/bpf.h -------------------------------------------------------------------------------------------------
BPF_CONSTS = [I(n, v) for n, v in [
    ("BPF_MAP_CREATE", 0), ("BPF_MAP_LOOKUP_ELEM", 1), ("BPF_MAP_UPDATE_ELEM", 2), ("BPF_MAP_DELETE_ELEM", 3),
    ("BPF_MAP_GET_NEXT_KEY", 4), ("BPF_PROG_LOAD", 5), ("BPF_PROG_TEST_RUN", 10), ("BPF_OBJ_GET_INFO_BY_FD", 15),
    ("BPF_MAP_LOOKUP_AND_DELETE_ELEM", 21), ("BPF_MAP_FREEZE", 22), ("BPF_LINK_CREATE", 28),
    ("BPF_MAP_TYPE_UNSPEC", 0), ("BPF_MAP_TYPE_HASH", 1), ("BPF_MAP_TYPE_ARRAY", 2), ("BPF_MAP_TYPE_PROG_ARRAY", 3),
    ("BPF_MAP_TYPE_PERF_EVENT_ARRAY", 4), ("BPF_MAP_TYPE_PERCPU_HASH", 5), ("BPF_MAP_TYPE_PERCPU_ARRAY", 6),
    ("BPF_MAP_TYPE_LRU_HASH", 9), ("BPF_MAP_TYPE_QUEUE", 22), ("BPF_MAP_TYPE_STACK", 23),
    ("BPF_MAP_TYPE_RINGBUF", 27), ("BPF_MAP_TYPE_USER_RINGBUF", 31), ("BPF_MAP_TYPE_BLOOM_FILTER", 30),
    ("BPF_PROG_TYPE_UNSPEC", 0), ("BPF_PROG_TYPE_SOCKET_FILTER", 1), ("BPF_PROG_TYPE_KPROBE", 2),
    ("BPF_PROG_TYPE_TRACEPOINT", 5), ("BPF_PROG_TYPE_XDP", 6), ("BPF_PROG_TYPE_RAW_TRACEPOINT", 17),
    ("BPF_PROG_TYPE_TRACING", 26), ("BPF_PROG_TYPE_SYSCALL", 31),
    ("BPF_XDP", 37), ("BPF_TRACE_RAW_TP", 23),
    ("BPF_ANY", 0), ("BPF_NOEXIST", 1), ("BPF_EXIST", 2), ("BPF_F_LOCK", 4),
    ("BPF_F_NO_PREALLOC", 1), ("BPF_F_NUMA_NODE", 4), ("BPF_F_RDONLY", 8), ("BPF_F_WRONLY", 16),
    ("BPF_F_RDONLY_PROG", 128), ("BPF_F_WRONLY_PROG", 256), ("BPF_F_MMAPABLE", 1024),
    ("BPF_F_TEST_RUN_ON_CPU", 1),
    ("BPF_OBJ_NAME_LEN", 16),
    ("BPF_RINGBUF_BUSY_BIT", -2147483648), ("BPF_RINGBUF_DISCARD_BIT", 1 << 30), ("BPF_RINGBUF_HDR_SZ", 8),
    ("BPF_RB_NO_WAKEUP", 1), ("BPF_RB_FORCE_WAKEUP", 2),
    ("BPF_RB_AVAIL_DATA", 0), ("BPF_RB_RING_SIZE", 1), ("BPF_RB_CONS_POS", 2), ("BPF_RB_PROD_POS", 3),
    ("XDP_ABORTED", 0), ("XDP_DROP", 1), ("XDP_PASS", 2), ("XDP_TX", 3), ("XDP_REDIRECT", 4),
]] + [L("BPF_F_INDEX_MASK", 0xffffffff), L("BPF_F_CURRENT_CPU", 0xffffffff)]
HEADERS.append(("bpf_h", "linux/bpf.h", BPF_CONSTS, [], "libc"))

u32 = lambda n: F(n, "u32")
u64 = lambda n: F(n, "u64")
alias = lambda t, *names: G("$anon", [F(n, t) for n in names], union=True, anon=True)
BPF_ATTR = G("bpf_attr", [
    F("$anon$map_create", group=G("$anon", [
        u32("map_type"), u32("key_size"), u32("value_size"), u32("max_entries"), u32("map_flags"),
        u32("inner_map_fd"), u32("numa_node"), F("map_name", "u8", count=16), u32("map_ifindex"), u32("btf_fd"),
        u32("btf_key_type_id"), u32("btf_value_type_id"), u32("btf_vmlinux_value_type_id"), u64("map_extra")],
        anon=True)),
    F("$anon$map_elem", group=G("$anon", [
        u32("map_fd"), u64("key"), F("$anon$value", group=alias("u64", "value", "next_key")), u64("flags")],
        anon=True)),
    F("$anon$prog_load", group=G("$anon", [
        u32("prog_type"), u32("insn_cnt"), u64("insns"), u64("license"), u32("log_level"), u32("log_size"),
        u64("log_buf"), u32("kern_version"), u32("prog_flags"), F("prog_name", "u8", count=16), u32("prog_ifindex"),
        u32("expected_attach_type"), u32("prog_btf_fd"), u32("func_info_rec_size"), u64("func_info"),
        u32("func_info_cnt"), u32("line_info_rec_size"), u64("line_info"), u32("line_info_cnt"),
        u32("attach_btf_id"), F("$anon$attach", group=alias("u32", "attach_prog_fd", "attach_btf_obj_fd")),
        u32("core_relo_cnt"), u64("fd_array"), u64("core_relos"), u32("core_relo_rec_size")], anon=True)),
    F("test", group=G("test", [
        u32("prog_fd"), u32("retval"), u32("data_size_in"), u32("data_size_out"), u64("data_in"), u64("data_out"),
        u32("repeat"), u32("duration"), u32("ctx_size_in"), u32("ctx_size_out"), u64("ctx_in"), u64("ctx_out"),
        u32("flags"), u32("cpu"), u32("batch_size")])),
    F("info", group=G("info", [u32("bpf_fd"), u32("info_len"), u64("info")])),
    F("link_create", group=G("link_create", [
        u32("prog_fd"), F("$anon$target", group=alias("u32", "target_fd", "target_ifindex")),
        u32("attach_type"), u32("flags"), u32("target_btf_id")], size=48)),
], union=True, size=144)
STRUCTS.append(("bpf_attr", BPF_ATTR, "bpf_h", """
union bpf_attr {
    struct { __u32 map_type; __u32 key_size; __u32 value_size; __u32 max_entries; __u32 map_flags;
             __u32 inner_map_fd; __u32 numa_node; char map_name[BPF_OBJ_NAME_LEN]; __u32 map_ifindex;
             __u32 btf_fd; __u32 btf_key_type_id; __u32 btf_value_type_id; __u32 btf_vmlinux_value_type_id;
             __u64 map_extra; };                                        // BPF_MAP_CREATE
    struct { __u32 map_fd; __aligned_u64 key; union { __aligned_u64 value; __aligned_u64 next_key; };
             __u64 flags; };                                            // BPF_MAP_*_ELEM
    struct { __u32 prog_type; __u32 insn_cnt; __aligned_u64 insns; __aligned_u64 license; ... };   // BPF_PROG_LOAD
    struct { __u32 prog_fd; __u32 retval; ... __u32 batch_size; } test;   // BPF_PROG_TEST_RUN
    struct { __u32 bpf_fd; __u32 info_len; __aligned_u64 info; } info;  // BPF_OBJ_GET_INFO_BY_FD
    struct { __u32 prog_fd; union { __u32 target_fd; __u32 target_ifindex; }; __u32 attach_type;
             __u32 flags; union { __u32 target_btf_id; ... }; } link_create;   // BPF_LINK_CREATE
    ...   // other commands' variants are not bound
} __attribute__((aligned(8)))
"""))
STRUCTS.append(("bpf_map_info", G("bpf_map_info", [
    u32("type"), u32("id"), u32("key_size"), u32("value_size"), u32("max_entries"), u32("map_flags"),
    F("name", "u8", count=16), u32("ifindex"), u32("btf_vmlinux_value_type_id"), u64("netns_dev"), u64("netns_ino"),
    u32("btf_id"), u32("btf_key_type_id"), u32("btf_value_type_id"), u64("map_extra")]), "bpf_h", """
struct bpf_map_info {
    __u32 type; __u32 id; __u32 key_size; __u32 value_size; __u32 max_entries; __u32 map_flags;
    char name[BPF_OBJ_NAME_LEN]; __u32 ifindex; __u32 btf_vmlinux_value_type_id; __u64 netns_dev;
    __u64 netns_ino; __u32 btf_id; __u32 btf_key_type_id; __u32 btf_value_type_id; __u32 :32; __u64 map_extra;
} __attribute__((aligned(8)))
"""))

# linux/btf.h -------------------------------------------------------------------------------------------------
HEADERS.append(("btf_h", "linux/btf.h", [I(n, v) for n, v in [
    ("BTF_KIND_UNKN", 0), ("BTF_KIND_INT", 1), ("BTF_KIND_PTR", 2), ("BTF_KIND_ARRAY", 3), ("BTF_KIND_STRUCT", 4),
    ("BTF_KIND_UNION", 5), ("BTF_KIND_ENUM", 6), ("BTF_KIND_FWD", 7), ("BTF_KIND_TYPEDEF", 8),
    ("BTF_KIND_VOLATILE", 9), ("BTF_KIND_CONST", 10), ("BTF_KIND_RESTRICT", 11), ("BTF_KIND_FUNC", 12),
    ("BTF_KIND_FUNC_PROTO", 13), ("BTF_KIND_VAR", 14), ("BTF_KIND_DATASEC", 15), ("BTF_KIND_FLOAT", 16),
    ("BTF_KIND_DECL_TAG", 17), ("BTF_KIND_TYPE_TAG", 18), ("BTF_KIND_ENUM64", 19),
    ("BTF_INT_SIGNED", 1), ("BTF_INT_CHAR", 2), ("BTF_INT_BOOL", 4),
]], [], "libc"))
STRUCTS.append(("btf_type", G("btf_type", [u32("name_off"), u32("info"), F("$anon$size", group=alias("u32", "size", "type"))]),
                "btf_h", "struct btf_type { __u32 name_off; __u32 info; union { __u32 size; __u32 type; }; }"))
STRUCTS.append(("btf_member", G("btf_member", [u32("name_off"), u32("type"), u32("offset")]), "btf_h",
                "struct btf_member { __u32 name_off; __u32 type; __u32 offset; }"))
STRUCTS.append(("btf_array", G("btf_array", [u32("type"), u32("index_type"), u32("nelems")]), "btf_h",
                "struct btf_array { __u32 type; __u32 index_type; __u32 nelems; }"))
STRUCTS.append(("btf_enum", G("btf_enum", [u32("name_off"), F("val", "s32")]), "btf_h",
                "struct btf_enum { __u32 name_off; __s32 val; }"))
STRUCTS.append(("btf_var_secinfo", G("btf_var_secinfo", [u32("type"), u32("offset"), u32("size")]), "btf_h",
                "struct btf_var_secinfo { __u32 type; __u32 offset; __u32 size; }"))

# linux/perf_event.h ------------------------------------------------------------------------------------------
HEADERS.append(("perf_event_h", "linux/perf_event.h", [
    I("PERF_TYPE_HARDWARE", 0), I("PERF_TYPE_SOFTWARE", 1), I("PERF_COUNT_SW_CPU_CLOCK", 0),
    I("PERF_COUNT_SW_BPF_OUTPUT", 10), I("PERF_SAMPLE_IP", 1), I("PERF_SAMPLE_TID", 2), I("PERF_SAMPLE_TIME", 4),
    I("PERF_SAMPLE_CPU", 1 << 7), I("PERF_SAMPLE_RAW", 1 << 10),
    I("PERF_RECORD_LOST", 2), I("PERF_RECORD_SAMPLE", 9), I("PERF_RECORD_LOST_SAMPLES", 13),
    L("PERF_FLAG_FD_CLOEXEC", 8), I("PERF_EVENT_IOC_ENABLE", 0x2400), I("PERF_EVENT_IOC_DISABLE", 0x2401),
    I("PERF_EVENT_IOC_RESET", 0x2403), I("PERF_ATTR_SIZE_VER0", 64),
], [], "libc"))
STRUCTS.append(("perf_event_attr", G("perf_event_attr", [
    u32("type"), u32("size"), u64("config"), F("$anon$sample", group=alias("u64", "sample_period", "sample_freq")),
    u64("sample_type"), u64("read_format"),
    F("flags", "u64", bits=[("disabled", 0), ("inherit", 1), ("exclude_kernel", 5), ("watermark", 14),
                            ("sample_id_all", 18), ("use_clockid", 25)]),
    F("$anon$wakeup", group=alias("u32", "wakeup_events", "wakeup_watermark")), u32("bp_type"),
    F("$anon$config1", group=alias("u64", "bp_addr", "config1")),
    F("$anon$config2", group=alias("u64", "bp_len", "config2")),
    u64("branch_sample_type"), u64("sample_regs_user"), u32("sample_stack_user"), F("clockid", "s32"),
    u64("sample_regs_intr"), u32("aux_watermark"), F("sample_max_stack", "u16"), F("__reserved_2", "u16"),
    u32("aux_sample_size"), u32("__reserved_3"), u64("sig_data")]), "perf_event_h", """
struct perf_event_attr {
    __u32 type; __u32 size; __u64 config; union { __u64 sample_period; __u64 sample_freq; };
    __u64 sample_type; __u64 read_format;
    __u64 disabled : 1, inherit : 1, ..., watermark : 1, ...;   // bitfields: see flags$bits
    union { __u32 wakeup_events; __u32 wakeup_watermark; }; __u32 bp_type;
    union { __u64 bp_addr; __u64 kprobe_func; __u64 uprobe_path; __u64 config1; };
    union { __u64 bp_len; __u64 kprobe_addr; __u64 probe_offset; __u64 config2; };
    __u64 branch_sample_type; __u64 sample_regs_user; __u32 sample_stack_user; __s32 clockid;
    __u64 sample_regs_intr; __u32 aux_watermark; __u16 sample_max_stack; __u16 __reserved_2;
    __u32 aux_sample_size; __u32 __reserved_3; __u64 sig_data;
}
"""))
STRUCTS.append(("perf_event_mmap_page", G("perf_event_mmap_page", [
    u32("version"), u32("compat_version"), u32("lock"), u32("index"), F("offset", "s64"), u64("time_enabled"),
    u64("time_running"), u64("capabilities"), F("pmc_width", "u16"), F("time_shift", "u16"), u32("time_mult"),
    u64("time_offset"), u64("time_zero"), u32("size"), u32("__reserved_1"), u64("time_cycles"), u64("time_mask"),
    F("__reserved", "u8", count=116 * 8), u64("data_head"), u64("data_tail"), u64("data_offset"), u64("data_size"),
    u64("aux_head"), u64("aux_tail"), u64("aux_offset"), u64("aux_size")]), "perf_event_h", """
struct perf_event_mmap_page {
    __u32 version; __u32 compat_version; __u32 lock; __u32 index; __s64 offset; __u64 time_enabled;
    __u64 time_running; union { __u64 capabilities; struct { __u64 cap_... : 1, ...; }; }; __u16 pmc_width;
    __u16 time_shift; __u32 time_mult; __u64 time_offset; __u64 time_zero; __u32 size; __u32 __reserved_1;
    __u64 time_cycles; __u64 time_mask; __u8 __reserved[116*8];
    __u64 data_head; __u64 data_tail; __u64 data_offset; __u64 data_size;
    __u64 aux_head; __u64 aux_tail; __u64 aux_offset; __u64 aux_size;
}
"""))
STRUCTS.append(("perf_event_header", G("perf_event_header", [u32("type"), F("misc", "u16"), F("size", "u16")]),
                "perf_event_h", "struct perf_event_header { __u32 type; __u16 misc; __u16 size; }"))

# bpf/libbpf.h ------------------------------------------------------------------------------------------------
P = lambda n: ("ptr", n)
HEADERS.append(("libbpf_h", "bpf/libbpf.h", [
    I("LIBBPF_WARN", 0), I("LIBBPF_INFO", 1), I("LIBBPF_DEBUG", 2),
    I("LIBBPF_MAJOR_VERSION", 1), I("LIBBPF_MINOR_VERSION", 1),
], [
    Fn("libbpf_set_print", "ptr", [P("fn")], "libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn)", errno=False),
    Fn("libbpf_major_version", "u32", [], "__u32 libbpf_major_version(void)", errno=False),
    Fn("libbpf_minor_version", "u32", [], "__u32 libbpf_minor_version(void)", errno=False),
    Fn("libbpf_version_string", "ptr", [], "const char *libbpf_version_string(void)", errno=False),
    Fn("libbpf_strerror", "u32", [("u32", "err"), P("buf"), ("long", "size")],
       "int libbpf_strerror(int err, char *buf, size_t size)", errno=False),
    Fn("bpf_object__open_file", "ptr", [P("path"), P("opts")],
       "struct bpf_object *bpf_object__open_file(const char *path, const struct bpf_object_open_opts *opts)"),
    Fn("bpf_object__open_mem", "ptr", [P("obj_buf"), ("long", "obj_buf_sz"), P("opts")],
       "struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz, "
       "const struct bpf_object_open_opts *opts)"),
    Fn("bpf_object__load", "u32", [P("obj")], "int bpf_object__load(struct bpf_object *obj)"),
    Fn("bpf_object__close", None, [P("object")], "void bpf_object__close(struct bpf_object *object)", errno=False),
    Fn("bpf_object__name", "ptr", [P("obj")], "const char *bpf_object__name(const struct bpf_object *obj)",
       errno=False),
    Fn("bpf_object__next_program", "ptr", [P("obj"), P("prog")],
       "struct bpf_program *bpf_object__next_program(const struct bpf_object *obj, struct bpf_program *prog)",
       errno=False),
    Fn("bpf_object__next_map", "ptr", [P("obj"), P("map")],
       "struct bpf_map *bpf_object__next_map(const struct bpf_object *obj, const struct bpf_map *map)", errno=False),
    Fn("bpf_object__btf", "ptr", [P("obj")], "struct btf *bpf_object__btf(const struct bpf_object *obj)", errno=False),
    Fn("bpf_program__name", "ptr", [P("prog")], "const char *bpf_program__name(const struct bpf_program *prog)",
       errno=False),
    Fn("bpf_program__section_name", "ptr", [P("prog")],
       "const char *bpf_program__section_name(const struct bpf_program *prog)", errno=False),
    Fn("bpf_program__fd", "u32", [P("prog")], "int bpf_program__fd(const struct bpf_program *prog)", errno=False),
    Fn("bpf_program__type", "u32", [P("prog")], "enum bpf_prog_type bpf_program__type(const struct bpf_program *prog)",
       errno=False),
    Fn("bpf_program__set_autoload", "u32", [P("prog"), ("u8", "autoload")],
       "int bpf_program__set_autoload(struct bpf_program *prog, _Bool autoload)", errno=False),
    Fn("bpf_program__attach", "ptr", [P("prog")], "struct bpf_link *bpf_program__attach(const struct bpf_program *prog)"),
    Fn("bpf_program__attach_xdp", "ptr", [P("prog"), ("u32", "ifindex")],
       "struct bpf_link *bpf_program__attach_xdp(const struct bpf_program *prog, int ifindex)"),
    Fn("bpf_map__name", "ptr", [P("map")], "const char *bpf_map__name(const struct bpf_map *map)", errno=False),
    Fn("bpf_map__fd", "u32", [P("map")], "int bpf_map__fd(const struct bpf_map *map)", errno=False),
    Fn("bpf_map__type", "u32", [P("map")], "enum bpf_map_type bpf_map__type(const struct bpf_map *map)", errno=False),
    Fn("bpf_map__key_size", "u32", [P("map")], "__u32 bpf_map__key_size(const struct bpf_map *map)", errno=False),
    Fn("bpf_map__value_size", "u32", [P("map")], "__u32 bpf_map__value_size(const struct bpf_map *map)", errno=False),
    Fn("bpf_map__max_entries", "u32", [P("map")], "__u32 bpf_map__max_entries(const struct bpf_map *map)",
       errno=False),
    Fn("bpf_map__set_max_entries", "u32", [P("map"), ("u32", "max_entries")],
       "int bpf_map__set_max_entries(struct bpf_map *map, __u32 max_entries)", errno=False),
    Fn("bpf_map__map_flags", "u32", [P("map")], "__u32 bpf_map__map_flags(const struct bpf_map *map)", errno=False),
    Fn("bpf_map__initial_value", "ptr", [P("map"), P("psize")],
       "const void *bpf_map__initial_value(struct bpf_map *map, size_t *psize)", errno=False),
    Fn("bpf_map__set_initial_value", "u32", [P("map"), P("data"), ("long", "size")],
       "int bpf_map__set_initial_value(struct bpf_map *map, const void *data, size_t size)", errno=False),
    Fn("bpf_link__destroy", "u32", [P("link")], "int bpf_link__destroy(struct bpf_link *link)", errno=False),
    Fn("bpf_link__fd", "u32", [P("link")], "int bpf_link__fd(const struct bpf_link *link)", errno=False),
    Fn("btf__find_by_name_kind", "u32", [P("btf"), P("type_name"), ("u32", "kind")],
       "__s32 btf__find_by_name_kind(const struct btf *btf, const char *type_name, __u32 kind)", errno=False),
    Fn("btf__type_cnt", "u32", [P("btf")], "__u32 btf__type_cnt(const struct btf *btf)", errno=False),
    Fn("btf__type_by_id", "ptr", [P("btf"), ("u32", "id")],
       "const struct btf_type *btf__type_by_id(const struct btf *btf, __u32 id)", errno=False),
    Fn("btf__name_by_offset", "ptr", [P("btf"), ("u32", "offset")],
       "const char *btf__name_by_offset(const struct btf *btf, __u32 offset)", errno=False),
    Fn("btf__resolve_size", "s64", [P("btf"), ("u32", "type_id")],
       "__s64 btf__resolve_size(const struct btf *btf, __u32 type_id)", errno=False),
], "libbpf"))

# Only the leading members are bound: libbpf reads opts->sz and treats members past it as zero, so a caller may
# pass this size (1.1's) to any libbpf 1.x.
STRUCTS.append(("bpf_object_open_opts", G("bpf_object_open_opts", [F("sz", "long"), F("object_name", "ptr")],
                                          size=80), "libbpf_h", """
struct bpf_object_open_opts {
    size_t sz; const char *object_name;
    ...   // relaxed_maps, pin_root_path, kconfig, btf_custom_path, kernel_log_*: not bound (left zero)
}
"""))


def main():
    os.makedirs(OUT, exist_ok=True)
    for hdr, cheader, consts, fns, lib in HEADERS:
        with open(os.path.join(OUT, hdr + ".java"), "w") as f:
            f.write(header_class(hdr, cheader, consts, fns, lib))
    for cname, g, hdr, cdecl in STRUCTS:
        with open(os.path.join(OUT, cname + ".java"), "w") as f:
            f.write(struct_class(cname, g, hdr, cdecl))


if __name__ == "__main__":
    main()
