package io.hotclone.bindings;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The checked-in io.hotclone.bindings.linux is exactly what the generator makes from linux.bindings today. */
class GeneratedBindingsAreFreshTest {
    private static final String PACKAGE_DIR = "io/hotclone/bindings/linux";

    @Test
    void checkedInBindingsMatchAFreshGeneration() throws Exception {
        Path repo = Path.of(System.getProperty("hotclone.repo", "..")).toAbsolutePath().normalize();
        Path generator = repo.resolve("bindings/generator/BindingsGenerator.java");
        assertTrue(Files.isRegularFile(generator), "no generator at " + generator + "; is hotclone.repo the repository root?");
        Path out = Files.createTempDirectory("bindings-fresh");
        try {
            String java = ProcessHandle.current().info().command().orElseThrow();
            Process p = new ProcessBuilder(java, generator.toString(), "--out", out.toString())
                    .directory(repo.toFile()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the generator did not finish in 120 s");
            assertEquals(0, p.exitValue(), "the generator failed:\n" + log);

            Map<String, String> fresh = read(out.resolve(PACKAGE_DIR));
            Map<String, String> checkedIn = read(repo.resolve("bindings/src/main/java").resolve(PACKAGE_DIR));
            var stale = new ArrayList<String>();
            for (String name : fresh.keySet()) {
                if (!fresh.get(name).equals(checkedIn.get(name))) stale.add(name + (checkedIn.containsKey(name) ? " (differs)" : " (missing)"));
            }
            for (String name : checkedIn.keySet()) {
                if (!fresh.containsKey(name)) stale.add(name + " (no longer generated)");
            }
            if (!stale.isEmpty()) {
                fail("the generated bindings are stale: " + String.join(", ", stale)
                        + "; run bindings/regenerate and commit the result");
            }
        } finally {
            deleteTree(out);
        }
    }

    private static Map<String, String> read(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        if (!Files.isDirectory(dir)) return files;
        try (Stream<Path> list = Files.list(dir)) {
            for (Path f : list.toList()) files.put(f.getFileName().toString(), Files.readString(f));
        }
        return files;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> paths = walk.sorted(Comparator.reverseOrder()).toList();
            for (Path p : paths) Files.delete(p);
        }
    }
}
