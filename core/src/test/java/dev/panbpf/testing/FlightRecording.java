package dev.panbpf.testing;

import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.List;

/**
 * FlightRecording runs a JFR recording around a test and reads back the panbpf events it took, from the file
 * {@link Recording#dump} writes, as an operator's tool would.
 */
public final class FlightRecording implements AutoCloseable {
    /** The event names panbpf emits. */
    public static final List<String> PANBPF = List.of("dev.panbpf.PerfLost", "dev.panbpf.RingDiscarded",
            "dev.panbpf.ConsumerPass", "dev.panbpf.ProducerDrops");

    private final Recording recording;

    private FlightRecording(Recording recording) {
        this.recording = recording;
        recording.start();
    }

    /** Records every panbpf event, each pass however short (threshold 0), the periodic ones every 100 ms. */
    public static FlightRecording allPanbpf() {
        Recording r = new Recording();
        for (String name : PANBPF) {
            r.enable(name).withThreshold(Duration.ZERO);
        }
        r.enable("dev.panbpf.ProducerDrops").withPeriod(Duration.ofMillis(100));
        return new FlightRecording(r);
    }

    /** Records with the JDK's "default" settings, which name no panbpf event: the events' own defaults apply. */
    public static FlightRecording defaults() {
        try {
            return new FlightRecording(new Recording(Configuration.getConfiguration("default")));
        } catch (IOException | ParseException e) {
            throw new AssertionError("the JDK's default.jfc", e);
        }
    }

    /** Records JDK events only: every panbpf event disabled. */
    public static FlightRecording withoutPanbpf() {
        Recording r = new Recording();
        r.enable("jdk.ThreadStart");
        for (String name : PANBPF) {
            r.disable(name);
        }
        return new FlightRecording(r);
    }

    /** Stops, dumps to a file and returns the panbpf events read back from it, in order of start time. */
    public List<RecordedEvent> stop() {
        recording.stop();
        try {
            Path file = Files.createTempFile("panbpf", ".jfr");
            try {
                recording.dump(file);
                return RecordingFile.readAllEvents(file).stream()
                        .filter(e -> PANBPF.contains(e.getEventType().getName()))
                        .sorted((a, b) -> a.getStartTime().compareTo(b.getStartTime()))
                        .toList();
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The events of {@code events} named {@code name}. */
    public static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }

    /** The sum of {@code field} over {@code events}. */
    public static long sum(List<RecordedEvent> events, String field) {
        return events.stream().mapToLong(e -> e.getLong(field)).sum();
    }

    @Override
    public void close() {
        recording.close();
    }
}
