package dev.panbpf.event;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.internal.BtfTypes;
import dev.panbpf.internal.CType;
import dev.panbpf.internal.Decoders;
import dev.panbpf.internal.ObjectBtf;
import dev.panbpf.internal.RecordDecoder;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.Objects;

/**
 * StructCodec reads and writes a Java record as the C struct it describes: {@link #of} derives the layout (gcc's
 * x86-64 placement, see {@link Unsigned}, {@link Size}, {@link Padding}, {@link EnumValue}), {@link #verify}
 * proves it against the struct in a BPF object's BTF, and {@link #decode}/{@link #encode} convert between a
 * {@link MemorySegment} and the record through method handles built once, so an event costs only its reads and
 * the constructor call. Codecs are thread-safe; their only state is whether they were verified, which the typed
 * buffer views ({@code RingBuffer.consume(codec, ...)}, {@code PerfBuffer.poll(codec, ...)}) require.
 *
 * @param <R> the record type
 */
public final class StructCodec<R extends Record> {
    private static final ClassValue<StructCodec<?>> CACHE = new ClassValue<>() {
        @Override
        protected StructCodec<?> computeValue(Class<?> type) {
            return create(type.asSubclass(Record.class), Access.lookupFor(type));
        }
    };

    private static final MethodHandle TOO_SHORT;

    static {
        try {
            TOO_SHORT = MethodHandles.lookup().findStatic(StructCodec.class, "tooShort", MethodType.methodType(
                    IllegalArgumentException.class, Class.class, long.class, MemorySegment.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        Decoders.register(codec -> ((StructCodec<?>) codec).decoder);
    }

    private final Class<R> type;
    private final StructShape shape;
    private final long size;
    private final StructLayout layout;
    private final RecordDecoder decoder;    // bounds check, reads and constructor, folded for the JIT
    private final MethodHandle[] writers;   // each (MemorySegment, long, Object) void
    private volatile boolean verified;      // by verify() or assumeVerified(); typed buffer views require it

    private StructCodec(Class<R> type, StructShape shape, RecordDecoder decoder, MethodHandle[] writers) {
        this.type = type;
        this.shape = shape;
        this.size = shape.size();
        this.layout = Layouts.of(shape);
        this.decoder = decoder;
        this.writers = writers;
    }

    /**
     * Returns the codec of {@code type}, deriving it on first use (cached per class). Fails with an error naming
     * the component when a component has no C layout or its annotations contradict each other.
     *
     * @param <R> the record type
     * @param type the record class
     * @return the codec, the same for every call with this class
     */
    @SuppressWarnings("unchecked")
    public static <R extends Record> StructCodec<R> of(Class<R> type) {
        return (StructCodec<R>) CACHE.get(Objects.requireNonNull(type, "type"));
    }

    /**
     * Returns a codec that calls the record through {@code lookup}, for records panbpf's module cannot reach.
     *
     * @param <R> the record type
     * @param type the record class
     * @param lookup a lookup with access to the record, such as {@code MethodHandles.lookup()} in its module
     * @return the codec
     */
    public static <R extends Record> StructCodec<R> of(Class<R> type, MethodHandles.Lookup lookup) {
        return create(type, lookup);
    }

    private static <R extends Record> StructCodec<R> create(Class<R> type, MethodHandles.Lookup lookup) {
        StructShape shape = StructShape.of(type);
        MethodHandle tooShort = MethodHandles.insertArguments(TOO_SHORT, 0, type, shape.size());
        return new StructCodec<>(type, shape, Decoder.folded(Decoder.of(shape, lookup), shape.size(), tooShort),
                Writers.of(shape, lookup));
    }

    /** {@return the record type} */
    public Class<R> type() {
        return type;
    }

    /** {@return the size of the C struct in bytes, trailing padding included} */
    public long byteSize() {
        return size;
    }

    /** {@return the C layout as a named FFM layout with natural alignment and explicit padding members} */
    public StructLayout layout() {
        return layout;
    }

    /**
     * Decodes the struct at the start of {@code segment}; the segment may be longer than the struct.
     *
     * @param segment memory holding the struct
     * @return the decoded record
     */
    public R decode(MemorySegment segment) {
        return decode(segment, 0);
    }

    /**
     * Decodes the struct at {@code offset} in {@code segment}.
     *
     * @param segment memory holding the struct
     * @param offset where the struct starts, in bytes
     * @return the decoded record
     */
    @SuppressWarnings("unchecked")
    public R decode(MemorySegment segment, long offset) {
        return (R) decoder.decode(segment, offset);
    }

    /**
     * Encodes {@code value} at the start of {@code segment}, zeroing padding and unused array elements.
     *
     * @param value the record to write
     * @param segment the memory to write it to, at least {@link #byteSize()} bytes
     */
    public void encode(R value, MemorySegment segment) {
        encode(value, segment, 0);
    }

    /**
     * Encodes {@code value} at {@code offset} in {@code segment}.
     *
     * @param value the record to write
     * @param segment the memory to write it to
     * @param offset where the struct starts, in bytes
     */
    public void encode(R value, MemorySegment segment, long offset) {
        Objects.requireNonNull(value, "value");
        if (offset < 0 || segment.byteSize() - offset < size) {
            throw tooShort(segment, offset);
        }
        segment.asSlice(offset, size).fill((byte) 0);
        try {
            for (MethodHandle w : writers) {
                w.invokeExact(segment, offset, (Object) value);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Encodes {@code value} into a new segment of {@link #byteSize()} bytes from {@code allocator}.
     *
     * @param value the record to write
     * @param allocator where the segment comes from, such as an arena
     * @return the new segment holding the struct
     */
    public MemorySegment encode(R value, SegmentAllocator allocator) {
        MemorySegment s = allocator.allocate(layout);
        encode(value, s, 0);
        return s;
    }

    /**
     * Proves this record lays out like {@code struct} in the BTF of {@code object} (opened or loaded): same size,
     * and for every component a member of the same name (exactly, or as snake_case of a camelCase name) at the same
     * offset with the same size and a compatible kind, nested records member by member, and no C member left
     * unaccounted for. Signedness is not compared: {@code int} may read a {@code __u32}. Returns this codec.
     *
     * @param object the BPF object whose BTF holds the struct
     * @param struct the C struct's name
     * @return this codec, now verified
     * @throws StructMismatchException listing every difference
     * @throws dev.panbpf.BpfException when the object has no BTF or no such struct
     */
    public StructCodec<R> verify(BpfObject object, String struct) {
        Objects.requireNonNull(struct, "struct");
        String owner = "BPF object '" + object.name() + "'";
        CType.Struct c = ObjectBtf.read(object, btf -> BtfTypes.struct(btf, struct, owner));
        List<String> differences = BtfCheck.compare(shape, c);
        if (!differences.isEmpty()) {
            throw new StructMismatchException("record " + type.getName() + " does not match struct " + struct
                    + " of " + owner + " (" + differences.size() + " difference" + (differences.size() == 1 ? "" : "s")
                    + "):\n  - " + String.join("\n  - ", differences) + "\nJava layout:\n" + describe()
                    + "C layout:\n" + BtfCheck.describe(c), differences);
        }
        verified = true;
        return this;
    }

    /**
     * Marks this codec as checked by other means, for objects built without BTF (no {@code -g}): the typed buffer
     * views then accept it. Prefer {@link #verify}, which proves the layout instead of trusting it.
     *
     * @return this codec, now counted as verified
     */
    public StructCodec<R> assumeVerified() {
        verified = true;
        return this;
    }

    /** {@return whether {@link #verify} succeeded (or {@link #assumeVerified} was called) for this record type} */
    public boolean isVerified() {
        return verified;
    }

    /**
     * Throws unless this codec was {@link #verify verified} (or {@link #assumeVerified assumed so}); the readers'
     * typed views call it before decoding anything.
     *
     * @param view what the codec is about to be used for, for the message
     * @throws IllegalStateException when it was not
     */
    public void requireVerified(String view) {
        if (!verified) {
            throw new IllegalStateException("a " + view + " of " + type.getName() + " needs its codec proven against "
                    + "the BPF program's struct first: call StructCodec.of(" + type.getSimpleName() + ".class)"
                    + ".verify(object, \"<struct name>\") once after loading (or assumeVerified() for an object "
                    + "without BTF), so a layout drift fails loudly instead of decoding wrong values");
        }
    }

    // ------------------------------------------------------------------------------------- buffers and maps

    /**
     * Looks up the 4-byte {@code key} in {@code map} and decodes the value, or returns null when absent.
     *
     * @param map a map whose values are this struct
     * @param key the 4-byte key
     * @return the decoded value, or null
     */
    public R lookup(BpfMap map, int key) {
        try (Arena a = Arena.ofConfined()) {
            return lookup(map, a.allocateFrom(ValueLayout.JAVA_INT, key));
        }
    }

    /**
     * Looks up {@code key} in {@code map} and decodes the value, or returns null when absent.
     *
     * @param map a map whose values are this struct
     * @param key the key, the map's key size of native memory
     * @return the decoded value, or null
     */
    public R lookup(BpfMap map, MemorySegment key) {
        checkValueSize(map);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(layout);
            return map.lookup(key, value) ? decode(value) : null;
        }
    }

    /**
     * Encodes {@code value} and stores it at the 4-byte {@code key} of {@code map}.
     *
     * @param map a map whose values are this struct
     * @param key the 4-byte key
     * @param value the record to store
     */
    public void update(BpfMap map, int key, R value) {
        try (Arena a = Arena.ofConfined()) {
            update(map, a.allocateFrom(ValueLayout.JAVA_INT, key), value);
        }
    }

    /**
     * Encodes {@code value} and stores it at {@code key} of {@code map}, creating or replacing the entry.
     *
     * @param map a map whose values are this struct
     * @param key the key, the map's key size of native memory
     * @param value the record to store
     */
    public void update(BpfMap map, MemorySegment key, R value) {
        checkValueSize(map);
        try (Arena a = Arena.ofConfined()) {
            map.update(key, encode(value, a));
        }
    }

    /**
     * Looks up a struct key, encoded by {@code keyCodec}, in {@code map} and decodes the value, or returns null when
     * absent. A key codec whose size is not the map's key size is refused before any syscall.
     *
     * @param <K> the key record type
     * @param map a map whose keys are {@code K} structs and values this struct
     * @param keyCodec the codec of the key struct
     * @param key the key record
     * @return the decoded value, or null
     */
    public <K extends Record> R lookup(BpfMap map, StructCodec<K> keyCodec, K key) {
        try (Arena a = Arena.ofConfined()) {
            return lookup(map, keyCodec.encode(key, a));
        }
    }

    /**
     * Encodes the struct {@code key} with {@code keyCodec} and {@code value} with this codec, and stores them.
     *
     * @param <K> the key record type
     * @param map a map whose keys are {@code K} structs and values this struct
     * @param keyCodec the codec of the key struct
     * @param key the key record
     * @param value the record to store
     */
    public <K extends Record> void update(BpfMap map, StructCodec<K> keyCodec, K key, R value) {
        try (Arena a = Arena.ofConfined()) {
            update(map, keyCodec.encode(key, a), value);
        }
    }

    private void checkValueSize(BpfMap map) {
        if (map.valueSize() != size) {
            throw new IllegalArgumentException(map + " has " + map.valueSize() + "-byte values, but struct "
                    + type.getSimpleName() + " has " + size + " bytes; verify the record against the map's value "
                    + "struct (StructCodec.verify)");
        }
    }

    /** {@return the layout as C-like text with every member's offset and size, for logs and error messages} */
    public String describe() {
        return Layouts.describe(shape);
    }

    StructShape shape() {
        return shape;
    }

    private IllegalArgumentException tooShort(MemorySegment segment, long offset) {
        return tooShort(type, size, segment, offset);
    }

    private static IllegalArgumentException tooShort(Class<?> type, long size, MemorySegment segment, long offset) {
        return new IllegalArgumentException("struct " + type.getSimpleName() + " needs " + size + " bytes at offset "
                + offset + ", but the segment has " + segment.byteSize() + " bytes");
    }

    @Override
    public String toString() {
        return "StructCodec[" + type.getName() + ", " + size + " bytes]";
    }
}
