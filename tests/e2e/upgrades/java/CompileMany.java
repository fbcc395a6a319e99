import java.io.File;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Compiles several source sets in one JVM (one warm compiler instead of a javac process each):
 * run as {@code java CompileMany.java <classpath> <classes dir>=<file listing sources>[=<more
 * classpath, first>] ...}. Each set is compiled on its own, in order, into its own directory,
 * against the classpath (a set may put the classes of a set before it first). Prints
 * {@code COMPILED <dir>} per set; on errors, prints them and exits 1.
 */
public final class CompileMany {
    public static void main(String[] args) throws Exception {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        // One file manager for all sets: the classpath's jars are opened and indexed once.
        StandardJavaFileManager files = compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8);
        for (int i = 1; i < args.length; i++) {
            String[] spec = args[i].split("=", 3);
            String classpath = spec.length == 3 ? spec[2] + File.pathSeparator + args[0] : args[0];
            new File(spec[0]).mkdirs();
            List<File> sources = new ArrayList<>();
            for (String line : Files.readAllLines(Paths.get(spec[1]))) {
                if (!line.isBlank()) {
                    sources.add(new File(line.trim()));
                }
            }
            List<String> options = List.of("-nowarn", "-proc:none", "-encoding", "UTF-8",
                    "-d", spec[0], "-cp", classpath);
            StringWriter out = new StringWriter();
            boolean ok = compiler.getTask(out, files, null, options, null,
                    files.getJavaFileObjectsFromFiles(sources)).call();
            if (!ok) {
                System.out.println(out);
                System.exit(1);
            }
            System.out.println("COMPILED " + spec[0]);
        }
    }
}
