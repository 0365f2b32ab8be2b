/**
 * FFM bindings in the shape jextract generates. Only {@code dev.panbpf} reads them: users get the library's API,
 * never the raw C functions and layouts.
 */
module dev.panbpf.bindings {
    exports dev.panbpf.bindings to dev.panbpf;
}
