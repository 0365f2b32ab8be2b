package dev.panbpf.samples.printk;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * TracePipe reads {@code /sys/kernel/tracing/trace_pipe}, where bpf_printk lines land, on a thread of its own and
 * hands each line that passes a filter to a consumer. Reading the pipe consumes it: two readers would each see
 * part of the lines.
 *
 * <p>A read of trace_pipe blocks until there is data. {@link #close()} closes the channel from the calling
 * thread; the JDK then signals the reader thread out of its read (AsynchronousCloseException), so close never
 * waits for a line that may never come.
 */
public final class TracePipe implements AutoCloseable {
    /** The pipe's usual path. */
    public static final Path PATH = Path.of("/sys/kernel/tracing/trace_pipe");

    private final FileChannel channel;
    private final Thread reader;
    private volatile IOException failure;

    private TracePipe(Path path, Predicate<String> filter, Consumer<String> lines) throws IOException {
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        this.reader = new Thread(() -> read(filter, lines), "trace-pipe-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** TracePipe.open starts reading {@link #PATH}, passing lines that {@code filter} accepts to {@code lines}. */
    public static TracePipe open(Predicate<String> filter, Consumer<String> lines) throws IOException {
        return open(PATH, filter, lines);
    }

    /** TracePipe.open starts reading the pipe at {@code path}. */
    public static TracePipe open(Path path, Predicate<String> filter, Consumer<String> lines) throws IOException {
        return new TracePipe(path, filter, lines);
    }

    private void read(Predicate<String> filter, Consumer<String> lines) {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try {
            while (channel.read(buf) >= 0) {
                buf.flip();
                // Split on newline bytes before decoding, so a character cut by the read boundary stays whole.
                while (buf.hasRemaining()) {
                    byte b = buf.get();
                    if (b != '\n') {
                        line.write(b);
                        continue;
                    }
                    String text = line.toString(StandardCharsets.UTF_8);
                    line.reset();
                    if (filter.test(text)) {
                        lines.accept(text);
                    }
                }
                buf.clear();
            }
        } catch (ClosedChannelException closed) {
            // close() released us (AsynchronousCloseException is one of these)
        } catch (IOException e) {
            failure = e;
        }
    }

    /** Stops the reader thread and closes the pipe; throws if the reader had failed. */
    @Override
    public void close() throws IOException {
        channel.close();
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (reader.isAlive()) {
            throw new IOException("the trace_pipe reader did not stop within 2 s");
        }
        if (failure != null) {
            throw failure;
        }
    }
}
