package dev.panbpf.event;

/**
 * EventHandler receives events decoded into Java records by a {@link StructCodec}, as the typed
 * {@code consume} and {@code poll} overloads of the readers deliver them.
 *
 * @param <R> the record type
 */
@FunctionalInterface
public interface EventHandler<R> {
    /**
     * Handles one event and returns true to take the next, or false to stop: the call that delivered it then
     * returns, and the events after it stay for the next call, as with the readers' raw handlers.
     *
     * @param event the decoded event, the handler's to keep
     * @return whether to go on
     */
    boolean onEvent(R event);
}
