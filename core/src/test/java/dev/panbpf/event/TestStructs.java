package dev.panbpf.event;

/** Records used by the layout tests, each mirrored by a hand-written C struct in {@link GccLayoutTest}. */
final class TestStructs {
    private TestStructs() { }

    record Mixed(byte a, long b, short c, int d, boolean e, char f, double g, float h) { }

    record WithArrays(byte kind, @Size(16) String comm, @Size(3) int[] args, short tail, @Size(5) byte[] raw) { }

    record Inner(int x, long y) { }

    record Outer(byte tag, Inner inner, byte after) { }

    record Tiny(byte a, short b, byte c) { }

    record TwoTiny(Tiny first, Tiny second, short s) { }

    @Padding(8)
    record Padded(int a, @Padding(4) int b, byte c) { }

    enum Color { RED, GREEN, BLUE }

    enum State implements EnumValue {
        NEW(1), RUNNING(7), DONE(200);

        private final long value;

        State(long value) {
            this.value = value;
        }

        @Override
        public long value() {
            return value;
        }
    }

    record Unsigneds(@Unsigned(1) int u8, @Unsigned(2) int u16, @Unsigned(4) long u32, @Unsigned long u64,
                     @Unsigned int rawU32, Color color, @Unsigned(1) State state) { }

    record Tail(long a, byte b) { }

    record Floats(@Size(3) float[] f, @Size(2) double[] d, @Size(2) char[] c, @Size(3) short[] s,
                  @Size(2) long[] l, @Size(2) boolean[] z) { }
}
