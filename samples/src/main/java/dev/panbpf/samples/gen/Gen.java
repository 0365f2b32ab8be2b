package dev.panbpf.samples.gen;

import dev.panbpf.codegen.Generator;
import dev.panbpf.samples.Args;
import dev.panbpf.samples.Command;
import dev.panbpf.samples.Option;
import dev.panbpf.samples.Prerequisite;
import dev.panbpf.samples.StopSignal;
import dev.panbpf.samples.UsageException;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Gen is the {@code gen} command: the generator of the panbpf Maven plugin for builds without Maven. It reads a
 * compiled BPF object and writes its typed skeleton, records and enums under a source directory; it needs
 * libbpf but neither root nor the kernel, since nothing is loaded.
 */
public final class Gen implements Command {
    @Override
    public String name() {
        return "gen";
    }

    @Override
    public String summary() {
        return "write the typed Java skeleton, records and enums of a BPF object (gen OBJ.bpf.o --package P --out DIR)";
    }

    @Override
    public List<Option> options() {
        return List.of(Option.positional("OBJ.bpf.o", "the compiled BPF object (clang -g, so it has BTF)"),
                Option.of("package", "P", "the Java package of the generated sources (default: none)"),
                Option.of("out", "DIR", "the source root to write under (default: .)"),
                Option.of("class", "NAME", "the skeleton class name (default: CamelCase of the file, + Object)"),
                Option.of("resource", "NAME", "the resource the skeleton opens, relative to its package "
                        + "(default: the object's file name)"),
                Option.of("struct", "NAMES", "also write records for these structs (comma-separated)"));
    }

    @Override
    public Set<Prerequisite> needs(Args args) {
        return EnumSet.of(Prerequisite.JAVA, Prerequisite.NATIVE_ACCESS, Prerequisite.LIBBPF);
    }

    @Override
    public int run(Args args, PrintStream out, StopSignal stop) {
        String object = args.string(Option.POSITIONAL, null);
        if (object == null) {
            throw new UsageException("name the BPF object: panbpf gen OBJ.bpf.o --package P --out DIR");
        }
        Path file = Path.of(object);
        if (!Files.isRegularFile(file)) {
            throw new UsageException("no file " + file.toAbsolutePath());
        }
        Generator g = Generator.of(file).packageName(args.string("package", ""));
        if (args.has("class")) {
            g.className(args.string("class", null));
        }
        if (args.has("resource")) {
            g.resource(args.string("resource", null));
        }
        for (String s : args.string("struct", "").split(",")) {
            if (!s.isBlank()) {
                g.struct(s.strip());
            }
        }
        Generator.Result r = g.generate();
        Path root = Path.of(args.string("out", "."));
        r.writeTo(root);
        for (Generator.SourceFile f : r.files()) {
            out.println("wrote " + root.resolve(f.path()));
        }
        for (String w : r.warnings()) {
            out.println("warning: " + w);
        }
        out.println("the skeleton opens " + file.getFileName() + " as a resource beside " + r.skeleton()
                + ".class: put the object there (or pass --resource)");
        return 0;
    }
}
