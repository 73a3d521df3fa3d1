package io.hotclone.capture.dirty;

import io.hotclone.bindings.HotcloneException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static io.hotclone.capture.dirty.DirtyWriter.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** UffdWpTracker on a live program (testprograms/dirtywriter), armed and read from outside it. */
@Timeout(120)
class UffdWpTrackerTest {
    @Test
    void armedProgramKeepsNoUserfaultfdAndHasNothingDirty() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(128, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                assertTrue(registeredAreas(w.pid) > 0, "areas registered for write-protect (VmFlags uw)");
                assertTrue(tracker.tracked().stream().anyMatch(a -> a.start() <= w.area && w.page(w.pages) <= a.end()),
                        "test area tracked: " + tracker.tracked());
                assertEquals(List.of(), fdTargets(w.pid).stream().filter(t -> t.contains("userfaultfd")).toList(),
                        "the program's own copy of the userfaultfd is closed");
                PageRange rseq = w.rseqPage();
                DirtySet set = tracker.collect();
                assertEquals(set, set.within(rseq.start(), rseq.end()),
                        "nothing but the kernel's rseq update (page " + rseq + ") ran since arming");
                tracker.commit(set);
            }
            assertEquals(0, registeredAreas(w.pid), "closing the tracker unregistered every area");
        }
    }

    @Test
    void writtenPagesAreCollectedMergedOnceEach() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(128, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                w.thaw();
                for (int page : new int[] {3, 7, 8, 100}) {
                    w.write(w.page(page));
                }
                w.freeze();
                DirtySet set = tracker.collect();
                assertEquals(List.of(w.range(3, 4), w.range(7, 9), w.range(100, 101)),
                        set.within(w.testArea()).ranges());
                tracker.commit(set);

                DirtySet again = tracker.collect();
                assertEquals(DirtySet.empty(), again.within(w.testArea()), "collect re-armed the written pages");
                tracker.commit(again);
            }
        }
    }

    @Test
    void moreRangesThanOneScanReturnsAreAllCollected() throws Exception {
        int ranges = PagemapScan.VECTOR * 2 + 7;
        try (DirtyWriter w = DirtyWriter.start(ranges * 2, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                w.thaw();
                w.writes(1, 2, ranges); // every other page: no two written pages touch
                w.freeze();
                List<PageRange> expected = new ArrayList<>();
                for (int i = 0; i < ranges; i++) {
                    expected.add(w.range(1 + 2 * i, 2 + 2 * i));
                }
                assertEquals(expected, tracker.collect().within(w.testArea()).ranges());
            }
        }
    }

    @Test
    void abortedSetIsCollectedAgainWithNewWrites() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(128, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                w.thaw();
                w.write(w.page(5));
                w.freeze();
                DirtySet failed = tracker.collect();
                tracker.abort(failed); // the checkpoint holding it failed

                w.thaw();
                w.write(w.page(9));
                w.freeze();
                DirtySet set = tracker.collect();
                assertEquals(w.pageSet(5, 9), set.within(w.testArea()));
                assertEquals(set, set.union(failed), "everything aborted comes back");
                tracker.commit(set);
                assertEquals(DirtySet.empty(), tracker.collect().within(w.testArea()), "clean once committed");
            }
        }
    }

    @Test
    void settlingASetThatIsNotOutstandingIsRefused() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(16, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                DirtySet set = tracker.collect();
                tracker.commit(set);
                assertThrows(IllegalArgumentException.class, () -> tracker.commit(set));
                assertThrows(IllegalArgumentException.class, () -> tracker.abort(set));
            }
        }
    }

    @Test
    void newAreaIsDirtyWholeOnceTrackedThenOnlyItsWrites() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(16, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                w.thaw();
                long added = w.map(32, true);
                w.freeze();
                tracker.track(w.areas());
                assertTrue(tracker.tracked().stream().anyMatch(a -> a.start() <= added && added < a.end()),
                        "new area tracked");
                DirtySet first = tracker.collect();
                assertEquals(List.of(new PageRange(added, added + 32L * PAGE)),
                        first.within(added, added + 32L * PAGE).ranges(), "nothing watched the new area before");
                tracker.commit(first);

                w.thaw();
                w.write(added + 2L * PAGE);
                w.freeze();
                tracker.track(w.areas());
                assertEquals(List.of(new PageRange(added + 2L * PAGE, added + 3L * PAGE)),
                        tracker.collect().within(added, added + 32L * PAGE).ranges());
            }
        }
    }

    @Test
    void areaMappedAgainBehindTheTrackersBackFailsCollectAndLosesNothing() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(64, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                w.thaw();
                w.write(w.page(10));
                w.remap(w.page(20), 4); // a new mapping the tracker was not told about
                w.freeze();
                HotcloneException e = assertThrows(HotcloneException.class, tracker::collect);
                assertTrue(e.getMessage().contains("call track()"), e.getMessage());

                tracker.track(w.areas());
                DirtySet set = tracker.collect();
                assertTrue(contains(set, w.page(10)), "the write found before the failure is kept: " + set);
                for (int page = 20; page < 24; page++) {
                    assertTrue(contains(set, w.page(page)), "the remapped page " + page + " is dirty: " + set);
                }
                tracker.commit(set);
                assertEquals(DirtySet.empty(), tracker.collect().within(w.testArea()), "armed again");
            }
        }
    }

    @Test
    void reservedAddressSpaceIsCarriedWholeUntilPartOfItIsMadeAccessible() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(16, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                w.thaw();
                long reserved = w.reserve(256);
                w.freeze();
                tracker.track(w.areas());
                assertTrue(tracker.untracked().stream().anyMatch(u -> u.area().start() == reserved
                        && u.reason().startsWith("PROT_NONE")), "reservation untracked: " + tracker.untracked());
                tracker.commit(tracker.collect());

                long opened = reserved + 64L * PAGE;
                w.thaw();
                w.allow(opened, 16);
                w.write(opened + 6L * PAGE);
                w.freeze();
                tracker.track(w.areas());
                assertTrue(tracker.tracked().stream().anyMatch(a -> a.start() == opened), "opened part tracked");
                DirtySet first = tracker.collect();
                assertEquals(List.of(new PageRange(opened, opened + 16L * PAGE)),
                        first.within(reserved, reserved + 256L * PAGE).ranges(), "nothing watched it before");
                tracker.commit(first);

                w.thaw();
                w.write(opened + 11L * PAGE);
                w.freeze();
                tracker.track(w.areas());
                assertEquals(List.of(new PageRange(opened + 11L * PAGE, opened + 12L * PAGE)),
                        tracker.collect().within(reserved, reserved + 256L * PAGE).ranges());
            }
        }
    }

    @Test
    void discardedPagesAreCollected() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(64, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                w.thaw();
                w.discard(w.page(30), 2); // they read as zeros now: the checkpoint must say so
                w.freeze();
                assertEquals(List.of(w.range(30, 32)), tracker.collect().within(w.testArea()).ranges());
            }
        }
    }

    @Test
    void writeIntoUntouchedMemoryReportsExactlyThatPage() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(16, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                w.thaw();
                long fresh = w.map(1024, false);
                w.freeze();
                tracker.track(w.areas());
                tracker.commit(tracker.collect());
                w.thaw();
                long written = fresh + 700L * PAGE;
                w.write(written);
                w.freeze();
                assertEquals(List.of(new PageRange(written, written + PAGE)),
                        tracker.collect().within(fresh, fresh + 1024L * PAGE).ranges());
            }
        }
    }

    @Test
    void writeToHugePageReportsOnlyItsBasePageAndSplitsIt() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(1024, true)) {
            long huge = anonHugeKiB(w.pid);
            assumeTrue(huge > 0, "no transparent huge pages for MADV_HUGEPAGE memory on this machine");
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                w.thaw();
                w.write(w.page(700));
                w.freeze();
                assertEquals(List.of(w.range(700, 701)), tracker.collect().within(w.testArea()).ranges());
                assertTrue(anonHugeKiB(w.pid) < huge, "the written huge page was split");
            }
        }
    }

    /**
     * Random writes, random failed checkpoints: collect must hold every page a naive oracle says
     * was written and not yet committed, and nothing else but hot pages (reported by the two
     * collects before, left unprotected since).
     */
    @Test
    void collectedPagesEqualWrittenPagesOverRandomRounds() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int areaPages = 512;
        try (DirtyWriter w = DirtyWriter.start(areaPages, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                TreeSet<Integer> oracle = new TreeSet<>(); // written and not yet in a committed checkpoint
                DirtySet before = DirtySet.empty();
                DirtySet last = DirtySet.empty();
                for (int round = 0; round < 25; round++) {
                    w.thaw();
                    int writes = random.nextInt(25);
                    for (int i = 0; i < writes; i++) {
                        int page = random.nextInt(areaPages);
                        w.write(w.page(page));
                        oracle.add(page);
                    }
                    w.freeze();
                    DirtySet set = tracker.collect();
                    DirtySet written = w.pageSet(oracle.stream().mapToInt(Integer::intValue).toArray());
                    DirtySet collected = set.within(w.testArea());
                    String where = "round " + round + " of seed " + seed;
                    assertEquals(written, collected.intersect(written), where + ": every written page is collected");
                    DirtySet hot = last.intersect(before);
                    assertEquals(collected, written.union(collected.intersect(hot)), where
                            + ": a page not written is collected only if hot");
                    before = last;
                    last = collected;
                    if (random.nextInt(4) == 0) {
                        tracker.abort(set);
                    } else {
                        tracker.commit(set);
                        oracle.clear();
                    }
                }
            }
        }
    }

    @Test
    void aPageWrittenInTwoIntervalsInARowIsLeftUnprotectedAndCollectedEveryTime() throws Exception {
        try (DirtyWriter w = DirtyWriter.start(64, false)) {
            w.freeze();
            try (UffdWpTracker tracker = w.startTracker()) {
                for (int round = 0; round < 2; round++) {
                    w.thaw();
                    w.write(w.page(5));
                    w.write(w.page(9 + round));
                    w.freeze();
                    tracker.commit(tracker.collect());
                }
                assertFalse(writeProtected(w.pid, w.page(5)), "page 5, written twice in a row, is hot: unprotected");
                assertTrue(writeProtected(w.pid, w.page(10)), "page 10, written once, is protected again");
                w.thaw();
                w.freeze();
                assertEquals(w.pageSet(5), tracker.collect().within(w.testArea()),
                        "an unprotected page reads as written, so the next checkpoint copies it even if unwritten");
            }
        }
    }

    /** Whether the page at {@code address} of {@code pid} is userfaultfd write-protected (pagemap bit 57). */
    private static boolean writeProtected(int pid, long address) throws IOException {
        try (FileChannel pagemap = FileChannel.open(Path.of("/proc/" + pid + "/pagemap"))) {
            ByteBuffer entry = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            pagemap.read(entry, address / PAGE * 8);
            return (entry.getLong(0) & (1L << 57)) != 0;
        }
    }

    private static boolean contains(DirtySet set, long page) {
        return !set.within(page, page + PAGE).isEmpty();
    }

    private static List<String> fdTargets(int pid) throws IOException {
        try (var fds = Files.list(Path.of("/proc", Integer.toString(pid), "fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    return "";
                }
            }).toList();
        }
    }

    /** Areas whose VmFlags in /proc/PID/smaps say "uw": registered for userfaultfd write-protect. */
    private static long registeredAreas(int pid) throws IOException {
        return Files.readAllLines(Path.of("/proc", Integer.toString(pid), "smaps")).stream()
                .filter(line -> line.startsWith("VmFlags:") && (line + " ").contains(" uw ")).count();
    }

    private static long anonHugeKiB(int pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "smaps_rollup"))) {
            if (line.startsWith("AnonHugePages:")) {
                return Long.parseLong(line.substring(14).replace("kB", "").strip());
            }
        }
        return 0;
    }
}
