package dev.panbpf.maven;

import dev.panbpf.codegen.CodegenException;
import org.apache.maven.model.Resource;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.project.MavenProject;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * GenerateMojo is the {@code panbpf:generate} goal (phase generate-sources): it compiles the module's BPF C and
 * generates the typed Java for each object, then adds the generated sources and objects to the build. Its
 * parameters are declared in META-INF/maven/plugin.xml; Maven sets these fields from it.
 */
public final class GenerateMojo extends AbstractMojo {
    /** Maven creates the goal, then sets its parameters. */
    public GenerateMojo() { }

    private MavenProject project;
    /** Where the {@code *.bpf.c} files are (default src/main/bpf). */
    private File sourceDirectory;
    /** The Java package of the generated sources; the objects go into the same package as resources. */
    private String packageName;
    /** The clang to run: a name on the PATH or a path. */
    private String clang;
    /** Flags appended to clang's command line (such as -DDEBUG or -I for vmlinux.h). */
    private List<String> extraFlags;
    /** Where the generated Java goes (default target/generated-sources/panbpf). */
    private File outputDirectory;
    /** Where the compiled objects go (default target/generated-resources/panbpf), added as a resource root. */
    private File objectDirectory;
    /** Where stamps and the shipped header go (default target/panbpf). */
    private File workDirectory;
    /** Writes vmlinux.h (all kernel types, for CO-RE) from {@link #btfFile} onto the include path. */
    private boolean vmlinuxHeader;
    /** The BTF that vmlinux.h is written from (default /sys/kernel/btf/vmlinux, the running kernel's). */
    private File btfFile;
    /** The bpftool that writes vmlinux.h: a name on the PATH or a path. */
    private String bpftool;
    /** Skips the goal. */
    private boolean skip;

    @Override
    public void execute() throws MojoFailureException {
        if (skip) {
            getLog().info("panbpf: skipped");
            return;
        }
        BpfBuild.Settings settings = new BpfBuild.Settings(sourceDirectory.toPath(), objectDirectory.toPath(),
                outputDirectory.toPath(), workDirectory.toPath(), packageName == null ? "" : packageName,
                clang == null ? "clang" : clang, extraFlags == null ? List.of() : new ArrayList<>(extraFlags),
                !vmlinuxHeader ? null : btfFile == null ? VmlinuxHeader.KERNEL_BTF : btfFile.toPath(),
                bpftool == null ? "bpftool" : bpftool);
        try {
            List<?> built = new BpfBuild(settings, getLog()::info).run();
            if (built.isEmpty()) {
                getLog().info("panbpf: BPF objects and generated sources are up to date");
            }
        } catch (CodegenException e) {
            throw new MojoFailureException(e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new MojoFailureException("panbpf: " + e.getMessage(), e);
        }
        project.addCompileSourceRoot(outputDirectory.getPath());
        Resource objects = new Resource();
        objects.setDirectory(objectDirectory.getPath());
        if (project.getResources().stream().noneMatch(r -> objectDirectory.getPath().equals(r.getDirectory()))) {
            project.addResource(objects);
        }
    }
}
