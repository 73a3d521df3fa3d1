package io.hotclone.capture.dirty;

import io.hotclone.capture.TracerLoop;
import io.hotclone.image.MemoryArea;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static io.hotclone.capture.dirty.DirtyWriter.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MprotectTracker on a live program (testprograms/dirtywriter) served by the production tracer
 * loop ({@code SeizedLoop}), as under {@code --dirty-tracking mprotect}: its first writes fault
 * and are served, the buffers of its system calls are opened at their entry, and the mappings
 * it changes itself are followed at their exit.
 */
@Timeout(120)
class MprotectTrackerTest {
    private static final int MAX_BLOCK_PAGES = (int) (FaultServer.MAX_BLOCK / PAGE);

    /**
     * Random writes, random failed checkpoints: collect must hold every page a naive oracle says
     * was written and not yet committed, and nothing else but what the tracker documents it may
     * add: the sets given back by the failed checkpoints since, hot pages (collected the two
     * times before, left open since), and the blocks a first write opens around its page (the
     * aligned {@link FaultServer#HOT_BLOCK} block of a written page; from a written page on,
     * as many pages as the run of open pages it continues, up to {@link FaultServer#MAX_BLOCK}).
     */
    @Test
    void collectedPagesAreWrittenPagesAndTheBlocksOpenedForThemOverRandomRounds() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int areaPages = 2048; // 128 hot blocks: a round's few writes open a small part of it
        // Half the writes land in a small region, so that pages are written in rounds in a row (hot)
        // and blocks written twice; some are sequential sweeps, which open growing blocks.
        int region = random.nextInt(areaPages - 64);
        try (DirtyWriter w = DirtyWriter.served(areaPages)) {
            MprotectTracker tracker = start(w);
            TreeSet<Integer> oracle = new TreeSet<>(); // written and not yet in a committed checkpoint
            DirtySet given = DirtySet.empty(); // collected by failed checkpoints since the last committed one
            DirtySet before = DirtySet.empty();
            DirtySet last = DirtySet.empty();
            for (int round = 0; round < 2 * UffdWpTracker.COOL_DOWN + 3; round++) {
                TreeSet<Integer> written = new TreeSet<>();
                int writes = random.nextInt(10);
                for (int i = 0; i < writes; i++) {
                    int page = random.nextBoolean() ? region + random.nextInt(64) : random.nextInt(areaPages);
                    int room = areaPages - page;
                    int sweep = room > 2 && random.nextInt(8) == 0 ? 2 + random.nextInt(Math.min(40, room - 1)) : 1;
                    w.writes(page, 1, sweep);
                    for (int p = page; p < page + sweep; p++) {
                        written.add(p);
                    }
                }
                oracle.addAll(written);
                boolean fails = random.nextInt(4) == 0;
                DirtySet set = checkpoint(w, tracker, !fails);
                DirtySet collected = set.within(w.testArea());
                String where = "round " + round + " of seed " + seed;
                DirtySet owed = w.pageSet(oracle.stream().mapToInt(Integer::intValue).toArray());
                assertEquals(owed, collected.intersect(owed), where + ": every page written since the last committed"
                        + " checkpoint is collected");
                DirtySet allowed = owed.union(given).union(last.intersect(before)).union(blocks(w, written, set));
                assertEquals(DirtySet.empty(), collected.minus(allowed), where + ": pages collected though neither"
                        + " written, given back, hot nor in a block opened for a write");
                before = last;
                last = collected;
                if (fails) {
                    given = given.union(collected);
                } else {
                    oracle.clear();
                    given = DirtySet.empty();
                }
            }
        }
    }

    /**
     * What the first writes to {@code written} may have opened: each page's aligned hot block,
     * and from each page on as many pages as {@code set} holds right below it (an upper bound of
     * the run of pages open when it faulted, all of which {@code set} reports), up to MAX_BLOCK.
     */
    private static DirtySet blocks(DirtyWriter w, TreeSet<Integer> written, DirtySet set) {
        List<PageRange> blocks = new ArrayList<>();
        for (int page : written) {
            long address = w.page(page);
            long hot = address & -FaultServer.HOT_BLOCK;
            blocks.add(new PageRange(hot, hot + FaultServer.HOT_BLOCK));
            int run = 0;
            while (run < MAX_BLOCK_PAGES && contains(set, address - (run + 1L) * PAGE)) {
                run++;
            }
            blocks.add(new PageRange(address, address + Math.max(1, run) * (long) PAGE));
        }
        return DirtySet.of(blocks).within(w.testArea());
    }

    @Test
    void kernelWritingIntoProtectedPagesOnTheProgramsBehalfSucceedsAndReportsExactlyThosePages() throws Exception {
        try (DirtyWriter w = DirtyWriter.served(64)) {
            MprotectTracker tracker = start(w);
            for (int round = 0; round < 2; round++) {
                // read(2) into pages 10-12, all protected again by the collect before: opened at its entry
                w.read(w.page(10) + 100, 2 * PAGE);
                assertEquals(List.of(w.range(10, 13)), checkpoint(w, tracker, true).within(w.testArea()).ranges(),
                        "round " + round + ": the pages of the read's buffer, no more (a read failing with EFAULT"
                                + " and run again would have its whole area opened)");
            }
        }
    }

    @Test
    void mappingsTheProgramChangesItselfAreFollowedAndNoWriteIsLost() throws Exception {
        try (DirtyWriter w = DirtyWriter.served(128)) {
            MprotectTracker tracker = start(w);
            w.write(w.page(60));
            w.allow(w.page(40), 4); // its own mprotect over protected pages: writable now, without a fault
            w.write(w.page(41));
            w.discard(w.page(50), 2);
            w.remap(w.page(20), 4);
            w.unmap(w.page(30), 2);
            DirtySet set = checkpoint(w, tracker, true);
            assertEquals(DirtySet.of(List.of(w.range(20, 24), w.range(40, 44), w.range(50, 52), w.range(60, 61))),
                    set.within(w.testArea()), "the written page, the mprotected and the remapped pages whole (armed"
                            + " anew), the discarded pages; nothing of the unmapped ones");
            assertTrue(set.within(w.page(30), w.page(32)).isEmpty(), "unmapped pages are not collected: " + set);

            // All armed again: each first write faults and opens its page alone (16 pages apart or more).
            w.write(w.page(21));
            w.write(w.page(42));
            w.write(w.page(70));
            assertEquals(w.pageSet(21, 42, 70), checkpoint(w, tracker, true).within(w.testArea()));
        }
    }

    /** At the first barrier, as a full checkpoint: arms a tracker, which the loop serves from then on. */
    private static MprotectTracker start(DirtyWriter w) {
        return w.atBarrier(b -> {
            MprotectTracker t = MprotectTracker.start(b.remote(), w.areas(b.maps(), b.maps()), b.thread());
            w.loop().serve(t);
            return t;
        });
    }

    /**
     * At a barrier, as an incremental checkpoint: the tracker follows the areas seen through it
     * and collects; the set is committed, or given back as by a failed checkpoint.
     */
    private static DirtySet checkpoint(DirtyWriter w, MprotectTracker t, boolean committed) {
        return w.atBarrier((TracerLoop.Barrier b) -> {
            t.barrier(b.remote(), b.thread());
            List<MemoryArea> areas = w.areas(b.maps(), t.view(b.maps()));
            t.track(areas);
            DirtySet set = t.collect();
            if (committed) {
                t.commit(set);
            } else {
                t.abort(set);
            }
            return set;
        });
    }

    private static boolean contains(DirtySet set, long page) {
        return !set.within(page, page + PAGE).isEmpty();
    }
}
