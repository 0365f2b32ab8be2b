package dev.panbpf.codegen;

import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Compiled compiles generated sources with javac (javax.tools) and loads them, for the generator's tests. */
final class Compiled implements AutoCloseable {
    private final URLClassLoader loader;

    private Compiled(URLClassLoader loader) {
        this.loader = loader;
    }

    /** Writes {@code result} under {@code dir}/src, compiles it with -Xlint:all -Werror into {@code dir}/classes. */
    static Compiled of(Generator.Result result, Path dir) throws IOException {
        Path src = dir.resolve("src");
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        result.writeTo(src);
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(src)) {
            s.filter(p -> p.toString().endsWith(".java")).forEach(files::add);
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(diagnostics, null, null)) {
            List<String> options = List.of("-d", classes.toString(), "-classpath",
                    System.getProperty("java.class.path"), "--release", "22", "-Xlint:all", "-Werror");
            boolean ok = javac.getTask(null, fm, diagnostics, options, null, fm.getJavaFileObjectsFromPaths(files))
                    .call();
            if (!ok) {
                StringBuilder b = new StringBuilder("generated sources do not compile:\n");
                diagnostics.getDiagnostics().forEach(d -> b.append(d).append('\n'));
                throw new AssertionError(b);
            }
        }
        return new Compiled(new URLClassLoader(new URL[] {classes.toUri().toURL()}, Compiled.class.getClassLoader()));
    }

    Class<?> type(String name) throws ClassNotFoundException {
        return Class.forName(name, true, loader);
    }

    /** Calls {@code method} on {@code target} (a class for static methods), unwrapping the exception it throws. */
    static Object call(Object target, String method, Object... args) throws Throwable {
        Class<?> c = target instanceof Class<?> k ? k : target.getClass();
        for (Method m : c.getMethods()) {
            if (m.getName().equals(method) && m.getParameterCount() == args.length) {
                try {
                    return m.invoke(target instanceof Class<?> ? null : target, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            }
        }
        throw new AssertionError("no method " + method + " with " + args.length + " parameters in " + c);
    }

    @Override
    public void close() throws IOException {
        loader.close();
    }
}
