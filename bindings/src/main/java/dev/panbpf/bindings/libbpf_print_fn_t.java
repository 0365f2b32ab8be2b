// Written in the shape jextract 22 emits for a function-pointer typedef (gen_bindings.py does not emit these).
package dev.panbpf.bindings;

import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * {@snippet lang=c :
 * typedef int (*libbpf_print_fn_t)(enum libbpf_print_level level, const char *, va_list ap)
 * }
 */
public class libbpf_print_fn_t {

    libbpf_print_fn_t() { }

    /** The function pointer signature, expressed as a functional interface. */
    public interface Function {
        /** Called by libbpf with a printf format and the va_list of its arguments. */
        int apply(int level, MemorySegment format, MemorySegment ap);
    }

    private static final FunctionDescriptor $DESC = FunctionDescriptor.of(
        libbpf_h.C_INT, libbpf_h.C_INT, libbpf_h.C_POINTER, libbpf_h.C_POINTER);

    /** The descriptor of this function pointer. */
    public static FunctionDescriptor descriptor() { return $DESC; }

    private static final MethodHandle UP$MH;
    static {
        try {
            UP$MH = MethodHandles.lookup().findVirtual(Function.class, "apply",
                MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Allocates a new upcall stub, whose implementation is defined by {@code fi}, living as long as {@code arena}. */
    public static MemorySegment allocate(Function fi, Arena arena) {
        return Linker.nativeLinker().upcallStub(UP$MH.bindTo(fi), $DESC, arena);
    }
}
