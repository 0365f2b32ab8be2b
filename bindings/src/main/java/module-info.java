/** FFM bindings in the shape jextract generates; {@code dev.panbpf} builds its API on them. */
module dev.panbpf.bindings {
    exports dev.panbpf.bindings;
}
