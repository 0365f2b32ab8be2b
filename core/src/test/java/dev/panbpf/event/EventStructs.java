package dev.panbpf.event;

/** Records mirroring (rightly and wrongly) the structs of bpf-src's typed_events.bpf.c. */
final class EventStructs {
    private EventStructs() { }

    record Endpoint(@Unsigned(4) long addr, @Unsigned(2) int port, @Unsigned(1) int proto) { }

    enum Kind implements EnumValue {
        OPEN(1), CLOSE(2), EXEC(7);

        private final long value;

        Kind(long value) {
            this.value = value;
        }

        @Override
        public long value() {
            return value;
        }
    }

    /** struct net_event as it is. */
    record NetEvent(@Unsigned long ts, @Unsigned(4) long pid, @Size(16) String comm, @Unsigned(1) int flags,
                    @Unsigned(2) int sport, Endpoint src, Endpoint dst, Kind kind, int delta, @Unsigned long bytes,
                    byte level) { }

    /** The same struct read with raw Java types: still the same layout (signedness is not compared). */
    record NetEventRaw(long ts, int pid, @Size(16) byte[] comm, byte flags, short sport, @Size(8) byte[] src,
                       @Size(8) byte[] dst, int kind, int delta, long bytes, byte level) { }

    /** comm and pid swapped. */
    record Reordered(@Unsigned long ts, @Size(16) String comm, @Unsigned(4) long pid, @Unsigned(1) int flags,
                     @Unsigned(2) int sport, Endpoint src, Endpoint dst, Kind kind, int delta, @Unsigned long bytes,
                     byte level) { }

    /** bytes is a __u64 in C. */
    record TooNarrow(@Unsigned long ts, @Unsigned(4) long pid, @Size(16) String comm, @Unsigned(1) int flags,
                     @Unsigned(2) int sport, Endpoint src, Endpoint dst, Kind kind, int delta, int bytes,
                     byte level) { }

    /** delta is left out. */
    record MissingField(@Unsigned long ts, @Unsigned(4) long pid, @Size(16) String comm, @Unsigned(1) int flags,
                        @Unsigned(2) int sport, Endpoint src, Endpoint dst, Kind kind, @Unsigned long bytes,
                        byte level) { }

    /** The nested struct's port is too narrow, the outer record has a member C lacks. */
    record NarrowEndpoint(@Unsigned(4) long addr, byte port, @Unsigned(1) int proto) { }

    record NestedWrong(@Unsigned long ts, @Unsigned(4) long pid, @Size(16) String comm, @Unsigned(1) int flags,
                       @Unsigned(2) int sport, NarrowEndpoint src, Endpoint dst, Kind kind, int delta,
                       @Unsigned long bytes, byte level, int extra) { }

    /** struct header with its reserved bytes declared as padding. */
    record Header(@Unsigned(4) long magic, @Padding(4) @Unsigned(4) long len, short version) { }

    /** struct header with its reserved bytes read. */
    record HeaderWithReserved(int magic, @Size(4) byte[] reserved, int len, short version) { }

    /** struct header without the padding. */
    record HeaderNoPadding(@Unsigned(4) long magic, @Unsigned(4) long len, short version) { }

    /** struct header with a float where C has a __u32. */
    record HeaderWrongKind(float magic, @Padding(4) int len, short version) { }

    /** struct with_bits, whose first two members are bitfields. */
    record WithBits(int low, long value) { }
}
