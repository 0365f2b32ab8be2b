package dev.panbpf.codegen;

/**
 * Helpers holds the fixed parts of every skeleton: its link set, its typed ring and perf readers and its global
 * access.
 */
final class Helpers {
    private Helpers() { }

    static final String LINKS = """

                /** Links holds the links attachAll() made; closing it detaches every one of them. */
                public static final class Links implements AutoCloseable {
                    private final List<BpfLink> links;

                    private Links(List<BpfLink> links) {
                        this.links = List.copyOf(links);
                    }

                    /** The links, one per attached program. */
                    public List<BpfLink> links() {
                        return links;
                    }

                    /** Detaches every link, even when closing one of them fails. */
                    @Override
                    public void close() {
                        RuntimeException failure = null;
                        for (BpfLink l : links) {
                            try {
                                l.close();
                            } catch (RuntimeException e) {
                                if (failure == null) {
                                    failure = e;
                                } else {
                                    failure.addSuppressed(e);
                                }
                            }
                        }
                        if (failure != null) {
                            throw failure;
                        }
                    }
                }
            """;

    static final String TYPED_RING = """

                /** TypedRing reads a ring buffer whose records are one known struct, decoded into records. */
                public static final class TypedRing<R extends Record> implements AutoCloseable {
                    private final RingBuffer ring;
                    private final StructCodec<R> codec;

                    private TypedRing(RingBuffer ring, StructCodec<R> codec) {
                        this.ring = ring;
                        this.codec = codec;
                    }

                    /** Waits up to {@code timeout} for records and hands each to {@code handler}; returns how many. */
                    public int poll(EventHandler<? super R> handler, Duration timeout) {
                        return ring.poll(codec, handler, timeout);
                    }

                    /** Hands the records there are now to {@code handler} without waiting; returns how many. */
                    public int consume(EventHandler<? super R> handler) {
                        return ring.consume(codec, handler);
                    }

                    /** Records the program could not reserve, as panbpf.bpf.h's wrappers count them (0 without). */
                    public long producerDrops() {
                        return ring.producerDrops();
                    }

                    /** Makes a poll waiting now (or the next one) return; any thread, such as a Ctrl-C hook. */
                    public void wakeup() {
                        ring.wakeup();
                    }

                    /** The codec it decodes with, verified by load(): for records read another way. */
                    public StructCodec<R> codec() {
                        return codec;
                    }

                    /** The untyped reader underneath. */
                    public RingBuffer ring() {
                        return ring;
                    }

                    @Override
                    public void close() {
                        ring.close();
                    }
                }
            """;

    static final String TYPED_PERF = """

                /**
                 * TypedPerf reads a perf event array whose samples are one known struct, decoded into records; each
                 * CPU's samples arrive in order, across CPUs they do not (see OrderedPerfBuffer for that).
                 */
                public static final class TypedPerf<R extends Record> implements AutoCloseable {
                    private final PerfBuffer perf;
                    private final StructCodec<R> codec;

                    private TypedPerf(PerfBuffer perf, StructCodec<R> codec) {
                        this.perf = perf;
                        this.codec = codec;
                    }

                    /** Waits up to {@code timeout} for samples and hands each to {@code handler}; returns how many. */
                    public int poll(EventHandler<? super R> handler, Duration timeout) {
                        return perf.poll(codec, handler, timeout);
                    }

                    /** Hands the samples there are now to {@code handler} without waiting; returns how many. */
                    public int consume(EventHandler<? super R> handler) {
                        return perf.consume(codec, handler);
                    }

                    /** Samples the kernel dropped because a CPU's buffer was full, on all CPUs. */
                    public long lost() {
                        return perf.lost();
                    }

                    /** Failed outputs other than a full buffer, as panbpf.bpf.h's wrapper counts them (0 without). */
                    public long producerDrops() {
                        return perf.producerDrops();
                    }

                    /** Makes a poll waiting now (or the next one) return; any thread, such as a Ctrl-C hook. */
                    public void wakeup() {
                        perf.wakeup();
                    }

                    /** The codec it decodes with, verified by load(): for samples read with their CPU. */
                    public StructCodec<R> codec() {
                        return codec;
                    }

                    /** The untyped reader underneath, which also gives each sample's CPU and time. */
                    public PerfBuffer perf() {
                        return perf;
                    }

                    @Override
                    public void close() {
                        perf.close();
                    }
                }
            """;

    static final String GLOBALS = """

                /** Reads a global of {@code size} bytes as a long, sign-extended when {@code signed}. */
                private long read(String name, long size, boolean signed) {
                    MemorySegment s = object.global(name);
                    return switch ((int) size) {
                        case 1 -> signed ? s.get(ValueLayout.JAVA_BYTE, 0) : Byte.toUnsignedLong(s.get(ValueLayout.JAVA_BYTE, 0));
                        case 2 -> signed ? s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0)
                                : Short.toUnsignedLong(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0));
                        case 4 -> signed ? s.get(ValueLayout.JAVA_INT_UNALIGNED, 0)
                                : Integer.toUnsignedLong(s.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
                        default -> s.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
                    };
                }

                /** Writes the low {@code size} bytes of {@code bits} into a global, through BpfObject's checks. */
                private void write(String name, long size, long bits) {
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment s = a.allocate(size);
                        switch ((int) size) {
                            case 1 -> s.set(ValueLayout.JAVA_BYTE, 0, (byte) bits);
                            case 2 -> s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) bits);
                            case 4 -> s.set(ValueLayout.JAVA_INT_UNALIGNED, 0, (int) bits);
                            default -> s.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, bits);
                        }
                        object.setGlobal(name, s);
                    }
                }
            """;
}
