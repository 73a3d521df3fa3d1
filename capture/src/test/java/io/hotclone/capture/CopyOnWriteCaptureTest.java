package io.hotclone.capture;

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
             Chain chain = new Chain(0, false)) {
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
             Chain chain = new Chain(0, false)) {
            memstate.program().awaitTick(2, WAIT);
            Checkpointer.Result viaCopy = new Checkpointer(memstate.pid(), copied, chain).checkpoint();
            Checkpointer.Result underFreeze = new Checkpointer(memstate.pid(), streamed, false).checkpoint();
            assertTrue(viaCopy.copyOnWrite(), "MAP_SHARED memory does not keep a program from being copied: " + viaCopy);
            List<Long> expected = pageAddresses(streamed, underFreeze.seq());
            List<Long> got = pageAddresses(copied, viaCopy.seq());
            assertTrue(new TreeSet<>(got).equals(new TreeSet<>(expected)) && got.size() == expected.size(),
                    "the shared area's pages are there too, each once: " + got.size() + " pages, " + expected.size()
                            + " expected");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dontfork", "wipeonfork"})
    void memoryAForkLeavesOutOrEmptiesIsReadUnderTheFreezeInstead(String advice) {
        try (Child counter = Child.start(dir, TestPrograms.compile("counter").toString(), "--verify-file",
                dir.resolve("verify").toString(), "--fork-advice", advice);
             Journal journal = Journal.create(dir.resolve("journal"));
             Journal streamed = Journal.create(dir.resolve("streamed"));
             Chain chain = new Chain(0, false)) {
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

    private static List<Long> pageAddresses(Journal journal, long seq) {
        List<Long> addresses = new ArrayList<>();
        journal.pages(seq, (address, contents) -> {
            for (long p = 0; p < contents.byteSize(); p += 4096) {
                addresses.add(address + p);
            }
        });
        return addresses;
    }
}
