package io.hotclone.restore;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.Chain;
import io.hotclone.capture.Checkpointer;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.journal.CheckpointImage;
import io.hotclone.journal.Journal;
import io.hotclone.journal.JournalFormat;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PRE_RESTORE refuses, before any process exists, an image this node cannot bring back as it was
 * captured: another journal format, machine, page size or kernel, or an executable or mapped file
 * that changed since. Each case changes one thing of a real checkpoint that passes unchanged.
 */
@Timeout(120)
class RestoreRefusalTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Path exe;
    private Path data;
    private CheckpointImage image;

    /** A checkpoint of memstate, run from a copy of its binary, with its data file mapped MAP_PRIVATE. */
    @BeforeEach
    void checkpoint() throws Exception {
        exe = Files.copy(TestPrograms.compile("memstate"), dir.resolve("memstate"));
        data = dir.resolve("data");
        try (Program program = Program.start(dir, exe.toString(), "--verify-file", dir.resolve("verify").toString(),
                "--log", dir.resolve("log").toString(), "--data", data.toString(), "--heap-mib", "4");
             Journal journal = Journal.create(dir.resolve("journal"));
             Chain chain = new Chain(0, Tracking.NONE)) {
            program.awaitTick(1, WAIT);
            long seq = new Checkpointer(program.pid(), journal, chain).checkpoint().seq();
            image = journal.read(seq);
        }
        Restorer.check(image); // the unchanged image passes: each refusal below is for its one change
    }

    @Test
    void anotherJournalFormatIsRefused() {
        assertRefused(withHeader("formatVersion", JournalFormat.FORMAT_VERSION + 1), "has journal format " + (JournalFormat.FORMAT_VERSION + 1)
                + " but this hotclone reads format " + JournalFormat.FORMAT_VERSION);
    }

    @Test
    void anotherMachineIsRefused() {
        assertRefused(withHeader("machine", "aarch64"), "is of a aarch64 machine");
    }

    @Test
    void anotherPageSizeIsRefused() {
        assertRefused(withHeader("pageSize", 16384), "with 16384-byte pages; this node is");
    }

    @Test
    void anotherKernelIsRefusedNamingBoth() {
        assertRefused(withHeader("kernelRelease", "5.10.0-other"), "was captured on kernel 5.10.0-other and this node runs ");
    }

    @Test
    void aChangedExecutableIsRefused() throws Exception {
        Files.write(exe, new byte[] {0}, StandardOpenOption.APPEND);
        assertRefused(image, "the executable " + exe + " changed");
    }

    @Test
    void aChangedMappedFileIsRefusedNamingItAndWhereItWasMapped() throws Exception {
        Files.write(data, new byte[] {1}, StandardOpenOption.APPEND);
        assertRefused(image, "cannot restore: " + data + ", mapped at 0x");
    }

    private static void assertRefused(CheckpointImage changed, String named) {
        HotcloneException e = assertThrows(HotcloneException.class, () -> Restorer.check(changed));
        assertTrue(e.getMessage().contains(named), e.getMessage());
        assertTrue(Pattern.compile("checkpoint \\d+|cannot restore").matcher(e.getMessage()).find(), e.getMessage());
    }

    private CheckpointImage withHeader(String component, Object value) {
        return with(image, "header", with(image.header(), component, value));
    }

    /** A copy of {@code r} with one component replaced. */
    private static <R extends Record> R with(R r, String component, Object value) {
        try {
            RecordComponent[] components = r.getClass().getRecordComponents();
            Object[] values = new Object[components.length];
            for (int i = 0; i < components.length; i++) {
                values[i] = components[i].getName().equals(component) ? value : components[i].getAccessor().invoke(r);
            }
            Class<?>[] types = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
            @SuppressWarnings("unchecked")
            R copy = (R) r.getClass().getDeclaredConstructor(types).newInstance(values);
            return copy;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot copy " + r + " with " + component + " = " + value, e);
        }
    }
}
