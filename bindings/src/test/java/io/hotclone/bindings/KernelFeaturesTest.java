package io.hotclone.bindings;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The facts DESIGN.md records for the machines hotclone is built and tested on. */
class KernelFeaturesTest {
    private static KernelFeatures features;

    @BeforeAll
    static void probe() {
        features = KernelFeatures.probe();
    }

    @Test
    void ptraceSeizesASpawnedChildAndReadsItsXsaveArea() {
        assertTrue(features.ptraceSeize(), features.toString());
        assertTrue(features.xsaveSize() >= 576, "xsave area of " + features.xsaveSize() + " bytes");
        assertEquals(0b11, features.xcr0() & 0b11, "x87 and SSE state are always enabled in XCR0");
    }

    @Test
    void userfaultfdOffersAsyncWriteProtect() {
        assertTrue(features.userfaultfd());
        assertTrue(features.uffdWpAsync(), "features 0x" + Long.toHexString(features.uffdFeatures()));
    }

    @Test
    void pagemapScanWorks() {
        assertTrue(features.pagemapScan());
    }

    @Test
    void theRestMatchesThisMachine() throws Exception {
        assertEquals(4096, features.pageSize());
        assertFalse(features.softDirty(), "DESIGN.md: CONFIG_MEM_SOFT_DIRTY is off here");
        assertTrue(features.clone3SetTid());
        assertTrue(features.prSetMmMap());
        assertTrue(features.capCheckpointRestore());
        assertTrue(features.namespaces().contains("pid"), features.namespaces().toString());
        assertTrue(features.vdso(), features.vdsoAreas().toString());
        assertEquals(Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip(), features.kernelRelease());
    }

    @Test
    void theProbeLeavesNoChildBehind() throws Exception {
        // The probe reaps its child: no zombie or stopped sleep of ours remains.
        KernelFeatures.probe();
        try (var children = Files.list(Path.of("/proc/self/task")).flatMap(KernelFeaturesTest::childrenOf)) {
            assertEquals(0, children.filter(pid -> comm(pid).equals("sleep")).count());
        }
    }

    @Test
    void describeSaysOkOrNoForEachFeature() {
        var lines = features.describe();
        assertTrue(lines.stream().allMatch(l -> l.startsWith("ok   ") || l.startsWith("no   ")), lines.toString());
        assertTrue(lines.contains("ok   userfaultfd write-protect async (dirty tracking)"), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("no   soft-dirty page bits: ")), lines.toString());
    }

    @Test
    void toJsonIsOneObjectWithEveryFeature() {
        String json = features.toJson();
        assertTrue(json.startsWith("{\"kernelRelease\":\"" + features.kernelRelease() + "\""), json);
        assertTrue(json.contains("\"uffdWpAsync\":true"), json);
        assertTrue(json.contains("\"namespaces\":[\""), json);
        assertTrue(json.endsWith("]}"), json);
    }

    private static java.util.stream.Stream<String> childrenOf(Path task) {
        try {
            String children = Files.readString(task.resolve("children")).strip();
            return children.isEmpty() ? java.util.stream.Stream.empty() : java.util.Arrays.stream(children.split(" "));
        } catch (java.io.IOException e) {
            return java.util.stream.Stream.empty(); // the thread ended meanwhile
        }
    }

    private static String comm(String pid) {
        try {
            return Files.readString(Path.of("/proc", pid, "comm")).strip();
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
