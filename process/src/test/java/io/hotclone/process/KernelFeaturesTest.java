package io.hotclone.process;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe against independent evidence of the kernel it runs on, and what hotclone needs of it. */
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

    /** UFFD_FEATURE_WP_ASYNC and PAGEMAP_SCAN came with Linux 6.7: found from it on, and only then. */
    @Test
    void asyncWriteProtectAndPagemapScanAreFoundExactlyFromLinux67On() {
        assertTrue(features.userfaultfd());
        boolean since67 = atLeast(features.kernelRelease(), 6, 7);
        assertEquals(since67, features.uffdWpAsync(), "kernel " + features.kernelRelease() + ", userfaultfd features 0x"
                + Long.toHexString(features.uffdFeatures()));
        assertEquals(since67, features.pagemapScan(), "kernel " + features.kernelRelease());
    }

    /** With CONFIG_MEM_SOFT_DIRTY every new area carries the "sd" VmFlag (VM_SOFTDIRTY), without it none does. */
    @Test
    void softDirtyIsFoundExactlyWhenAreasCarryTheSoftDirtyFlag() throws Exception {
        boolean flagged = Files.readAllLines(Path.of("/proc/self/smaps")).stream()
                .anyMatch(l -> l.startsWith("VmFlags:") && List.of(l.substring(8).trim().split(" ")).contains("sd"));
        assertEquals(flagged, features.softDirty());
    }

    @Test
    void theRestMatchesThisMachine() throws Exception {
        assertEquals(4096, features.pageSize());
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
        assertEquals(features.uffdWpAsync(), lines.contains("ok   userfaultfd write-protect async (dirty tracking)"),
                lines.toString());
        assertEquals(!features.softDirty(), lines.stream().anyMatch(l -> l.startsWith("no   soft-dirty page bits: ")),
                lines.toString());
    }

    /** "6.18.0-1-amd64" is at least 6.7; "6.1.0" is not. */
    private static boolean atLeast(String release, int major, int minor) {
        Matcher m = Pattern.compile("(\\d+)\\.(\\d+).*").matcher(release);
        assertTrue(m.matches(), "kernel release " + release);
        int maj = Integer.parseInt(m.group(1));
        return maj > major || maj == major && Integer.parseInt(m.group(2)) >= minor;
    }

    @Test
    void toJsonIsOneObjectWithEveryFeature() {
        String json = features.toJson();
        assertTrue(json.startsWith("{\"kernelRelease\":\"" + features.kernelRelease() + "\""), json);
        assertTrue(json.contains("\"uffdWpAsync\":" + features.uffdWpAsync()), json);
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
