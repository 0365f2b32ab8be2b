package dev.panbpf.codegen;

import java.nio.file.Path;
import java.util.List;

/** TestObjects compiles the generator's own test C sources with the BpfCompiler the Maven plugin uses. */
final class TestObjects {
    static final Path SOURCES = Path.of("src/test/resources/codegen");
    static final Path HEADER_DIR = Path.of("src/main/resources/dev/panbpf/codegen");

    private TestObjects() { }

    /** Compiles {@code name}.bpf.c into {@code dir} with {@code flags}; returns the object. */
    static Path compile(String name, Path dir, String... flags) {
        Path out = dir.resolve(name + ".bpf.o");
        BpfCompiler.of("clang", List.of(flags), List.of(HEADER_DIR)).compile(SOURCES.resolve(name + ".bpf.c"), out);
        return out;
    }
}
