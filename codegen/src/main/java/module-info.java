/**
 * panbpf codegen: the generator behind {@code panbpf gen} and the panbpf Maven plugin, writing a typed skeleton,
 * records and enums from a compiled BPF object.
 */
module dev.panbpf.codegen {
    requires transitive dev.panbpf;
    // Only the tests compile generated sources (javax.tools); optional, so not needed at run time.
    requires static java.compiler;

    exports dev.panbpf.codegen;
}
