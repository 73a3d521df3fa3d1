package io.hotclone.capture;

import io.hotclone.capture.dirty.Tracking;
import io.hotclone.image.AreaKind;
import io.hotclone.image.MemoryArea;
import io.hotclone.journal.Journal;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoints whose pages are read after the freeze from a copy-on-write copy of the program. */
@Timeout(120)
class CopyOnWriteCaptureTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aFullCheckpointOfAProtectedProgramReadsItsPagesFromAFrozenCopyAndReapsIt() {
        try (Child counter = Child.start(dir, TestPrograms.compile("counter").toString(), "--verify-file",
                dir.resolve("verify").toString());
             Journal copied = Journal.create(dir.resolve("copied"));
             Journal streamed = Journal.create(dir.resolve("streamed"));
             Chain chain = new Chain(0, Tracking.NONE)) {
            counter.program().awaitTick(3, WAIT);
            Checkpointer.Result viaCopy = new Checkpointer(counter.pid(), copied, chain).checkpoint();
            Checkpointer.Result underFreeze = new Checkpointer(counter.pid(), streamed, false).checkpoint();

            assertTrue(viaCopy.copyOnWrite(), "a protected program's full checkpoint reads a copy: " + viaCopy);
            assertFalse(underFreeze.copyOnWrite(), "a program this hotclone did not start is read under the freeze");
            assertEquals(pageAddresses(streamed, underFreeze.seq()), pageAddresses(copied, viaCopy.seq()),
                    "the copy holds the same pages as the program");
            assertEquals(List.of((long) counter.pid()), ProcessHandle.current().children().map(ProcessHandle::pid).toList(),
                    "the copy is reaped, and was never the program's child");
            long tick = counter.program().lastTick();
            counter.program().awaitTick(tick + 2, WAIT);
        }
    }

    @Test
    void sharedAnonymousMemoryIsReadUnderTheFreezeAndTheRestFromTheCopy() {
        try (Child memstate = Child.start(dir, TestPrograms.compile("memstate").toString(), "--verify-file",
                dir.resolve("verify").toString(), "--log", dir.resolve("log").toString(), "--data",
                dir.resolve("data").toString(), "--heap-mib", "4");
             Journal copied = Journal.create(dir.resolve("copied"));
             Journal streamed = Journal.create(dir.resolve("streamed"));
             Chain chain = new Chain(0, Tracking.NONE)) {
            memstate.program().awaitTick(2, WAIT);
            Checkpointer.Result viaCopy = new Checkpointer(memstate.pid(), copied, chain).checkpoint();
            Checkpointer.Result underFreeze = new Checkpointer(memstate.pid(), streamed, false).checkpoint();
            assertTrue(viaCopy.copyOnWrite(), "MAP_SHARED memory does not keep a program from being copied: " + viaCopy);
            // The program runs on between the two checkpoints (it writes new pages of its private file
            // mapping as it ticks), so only the shared area is compared, where it keeps every page.
            List<Long> got = pageAddresses(copied, viaCopy.seq());
            assertEquals(got.size(), new TreeSet<>(got).size(), "each page once");
            assertEquals(sharedPages(streamed, underFreeze.seq()), sharedPages(copied, viaCopy.seq()),
                    "the shared area's pages, read under the freeze, are all there");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dontfork", "wipeonfork"})
    void memoryAForkLeavesOutOrEmptiesIsReadUnderTheFreezeInstead(String advice) {
        try (Child counter = Child.start(dir, TestPrograms.compile("counter").toString(), "--verify-file",
                dir.resolve("verify").toString(), "--fork-advice", advice);
             Journal journal = Journal.create(dir.resolve("journal"));
             Journal streamed = Journal.create(dir.resolve("streamed"));
             Chain chain = new Chain(0, Tracking.NONE)) {
            counter.program().awaitTick(3, WAIT);
            Checkpointer.Result first = new Checkpointer(counter.pid(), journal, chain).checkpoint();
            Checkpointer.Result underFreeze = new Checkpointer(counter.pid(), streamed, false).checkpoint();
            assertFalse(first.copyOnWrite(), "a fork would lose the " + advice + " area: " + first);
            assertEquals(pageAddresses(streamed, underFreeze.seq()), pageAddresses(journal, first.seq()),
                    "every page of the program, the " + advice + " area's too");
            assertFalse(new Checkpointer(counter.pid(), journal, chain).checkpoint().copyOnWrite(),
                    "the next checkpoint does not try a fork again");
            assertEquals(List.of((long) counter.pid()), ProcessHandle.current().children().map(ProcessHandle::pid).toList(),
                    "the unfaithful copy is reaped");
            Verify.assertPasses(counter.program(), dir.resolve("verify"), WAIT);
        }
    }

    /** The addresses of the pages of the shared anonymous areas that checkpoint {@code seq} carries. */
    private static List<Long> sharedPages(Journal journal, long seq) {
        List<MemoryArea> shared = journal.read(seq).areas().stream()
                .filter(a -> a.kind() == AreaKind.SHARED_ANONYMOUS).toList();
        assertFalse(shared.isEmpty(), "the program has a shared anonymous area");
        return pageAddresses(journal, seq).stream()
                .filter(p -> shared.stream().anyMatch(a -> p >= a.start() && p < a.end())).toList();
    }

    /**
     * The addresses of the pages checkpoint {@code seq} carries, in order, but those of the stack:
     * the program goes on between the two checkpoints a test compares, and the first one's
     * injected calls may have used a stack page the second then carries.
     */
    private static List<Long> pageAddresses(Journal journal, long seq) {
        List<MemoryArea> stacks = journal.read(seq).areas().stream().filter(a -> a.kind() == AreaKind.STACK).toList();
        List<Long> addresses = new ArrayList<>();
        journal.pages(seq, (address, contents) -> {
            for (long p = address; p < address + contents.byteSize(); p += 4096) {
                long page = p;
                if (stacks.stream().noneMatch(a -> page >= a.start() && page < a.end())) {
                    addresses.add(page);
                }
            }
        });
        return addresses;
    }
}
