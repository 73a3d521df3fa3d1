package io.hotclone.launcher;

import io.hotclone.image.Restorable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.process.KernelFeatures;
import java.util.List;
import org.junit.jupiter.api.Test;

class CheckCommandTest {
    /** A kernel like this machine's, with the given three features present or not. */
    private static KernelFeatures kernel(boolean ptrace, boolean clone3, boolean prSetMmMap) {
        return new KernelFeatures("6.18.0", 4096, ptrace, 2696, 0x2e7, true, 0x7fff, true, clone3, true,
                List.of("mnt", "pid"), "madvise", false, prSetMmMap, false, true, true, List.of("[vdso]", "[vvar]"));
    }

    @Test
    void noSoftDirtyAndNoCapSysResourceAreNotFatal() {
        KernelFeatures here = kernel(true, true, true);
        assertTrue(!here.softDirty() && !here.capSysResource(), "the kernel above lacks both");
        assertEquals(List.of(), CheckCommand.missing(here));
    }

    @Test
    void eachMissingRequirementIsNamedWithItsFix() {
        List<String> missing = CheckCommand.missing(kernel(false, false, false));
        assertEquals(3, missing.size(), missing.toString());
        assertTrue(missing.get(0).startsWith("ptrace PTRACE_SEIZE (run as root or with CAP_SYS_PTRACE"), missing.get(0));
        assertTrue(missing.get(1).startsWith("clone3 with set_tid (needs Linux 5.5+"), missing.get(1));
        assertTrue(missing.get(2).startsWith("prctl(PR_SET_MM_MAP) (needs a kernel built with"), missing.get(2));
    }

    @Test
    void theReadmeListsWhatACheckpointKeepsAndRefusesAsCheckPrintsIt() throws Exception {
        String readme = Files.readString(Path.of(System.getProperty("hotclone.repo"), "README.md"));
        for (Restorable.Entry e : Stream.concat(Restorable.KEPT.stream(), Restorable.REFUSED.stream()).toList()) {
            assertTrue(readme.contains("- **" + e.what() + "**: " + e.detail() + "\n"),
                    "README.md must list '" + e.what() + "' as hotclone check prints it: " + e.detail());
        }
    }
}
