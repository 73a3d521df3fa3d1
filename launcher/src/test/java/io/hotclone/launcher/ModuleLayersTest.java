package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The modules' layers (docs/architecture.md): a module's pom may name, at compile or runtime
 * scope, only modules of a lower layer, so that the standby side never reaches into the
 * primary side and nothing low reaches up. Maven refuses cycles; this refuses reaching up.
 */
class ModuleLayersTest {
    /** Layer of every module; modules of one layer may not depend on each other. */
    private static final Map<String, Integer> LAYERS = Map.ofEntries(
            Map.entry("bindings", 1),
            Map.entry("vid-table", 1),
            Map.entry("process", 2),
            Map.entry("kinds", 3),
            Map.entry("transport", 4),
            Map.entry("cluster", 5),
            Map.entry("capture", 6),
            Map.entry("restore", 6),
            Map.entry("launcher", 7),
            Map.entry("demo", 8),
            Map.entry("testkit", 1),
            Map.entry("jmh", 9));
    private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");
    private static final Pattern DEPENDENCY = Pattern.compile(
            "<dependency><groupId>io\\.hotclone</groupId><artifactId>hotclone-([a-z-]+)</artifactId>(?:<scope>([a-z]+)</scope>)?");

    private final Path repo = Path.of(System.getProperty("hotclone.repo"));

    @Test
    void everyModuleHasALayer() throws IOException {
        Matcher m = MODULE.matcher(Files.readString(repo.resolve("pom.xml")));
        Set<String> modules = new LinkedHashSet<>();
        while (m.find()) {
            modules.add(m.group(1));
        }
        assertEquals(LAYERS.keySet(), modules, "a new module needs its layer here and in docs/architecture.md");
    }

    @Test
    void noModuleDependsOnAModuleOfItsLayerOrAbove() throws IOException {
        List<String> upward = new ArrayList<>();
        for (var module : LAYERS.entrySet()) {
            Matcher d = DEPENDENCY.matcher(Files.readString(repo.resolve(module.getKey()).resolve("pom.xml")));
            while (d.find()) {
                boolean testOnly = "test".equals(d.group(2));
                if (!testOnly && LAYERS.get(d.group(1)) >= module.getValue()) {
                    upward.add(module.getKey() + " -> " + d.group(1));
                }
            }
        }
        assertTrue(upward.isEmpty(), "dependencies on a module of the same layer or above: " + upward);
    }
}
