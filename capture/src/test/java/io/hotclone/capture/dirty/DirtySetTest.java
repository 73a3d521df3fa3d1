package io.hotclone.capture.dirty;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DirtySetTest {
    private static final int PAGE = PageRange.PAGE;

    @Test
    void unsortedOverlappingAndAdjacentRangesMergeIntoOne() {
        DirtySet set = DirtySet.of(List.of(r(7, 9), r(3, 4), r(8, 12), r(4, 5), r(100, 101)));
        assertEquals(List.of(r(3, 5), r(7, 12), r(100, 101)), set.ranges());
        assertEquals(2 + 5 + 1, set.pages());
    }

    @Test
    void withinClipsRangesToTheWindow() {
        DirtySet set = DirtySet.of(List.of(r(2, 6), r(8, 10), r(20, 30)));
        assertEquals(List.of(r(4, 6), r(8, 10), r(20, 22)), set.within(4L * PAGE, 22L * PAGE).ranges());
        assertEquals(DirtySet.empty(), set.within(10L * PAGE, 20L * PAGE));
    }

    @Test
    void constructorRefusesRangesThatAreNotSortedAndMerged() {
        assertThrows(IllegalArgumentException.class, () -> new DirtySet(List.of(r(5, 6), r(1, 2))));
        assertThrows(IllegalArgumentException.class, () -> new DirtySet(List.of(r(1, 2), r(2, 3))));
        assertThrows(IllegalArgumentException.class, () -> new PageRange(PAGE, PAGE));
        assertThrows(IllegalArgumentException.class, () -> new PageRange(1, PAGE));
    }

    /** of, union, intersect, minus and within against a bitmap of pages, on random ranges. */
    @Test
    void operationsMatchABitmapOracle() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int round = 0; round < 500; round++) {
            BitSet a = new BitSet();
            BitSet b = new BitSet();
            DirtySet setA = DirtySet.of(randomRanges(random, a));
            DirtySet setB = DirtySet.of(randomRanges(random, b));
            String why = "round " + round + " of seed " + seed;
            assertEquals(a, bits(setA), why);
            BitSet union = (BitSet) a.clone();
            union.or(b);
            assertEquals(union, bits(setA.union(setB)), why);
            BitSet both = (BitSet) a.clone();
            both.and(b);
            assertEquals(both, bits(setA.intersect(setB)), why);
            BitSet less = (BitSet) a.clone();
            less.andNot(b);
            assertEquals(less, bits(setA.minus(setB)), why);
            int from = random.nextInt(200);
            int to = from + 1 + random.nextInt(200);
            BitSet window = a.get(from, to);
            BitSet clipped = new BitSet();
            window.stream().forEach(i -> clipped.set(i + from));
            assertEquals(clipped, bits(setA.within((long) from * PAGE, (long) to * PAGE)), why);
        }
    }

    /** A RangeSet filled a range at a time, as faults fill it, against the same oracle. */
    @Test
    void rangeSetAddsCoversFindsGapsAndRunsLikeABitmap() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int round = 0; round < 500; round++) {
            BitSet pages = new BitSet();
            RangeSet set = new RangeSet();
            for (PageRange r : randomRanges(random, pages)) {
                set.add(r.start(), r.end());
            }
            String why = "round " + round + " of seed " + seed;
            assertEquals(pages, bits(set.toDirtySet()), why);
            int from = random.nextInt(300);
            int to = from + 1 + random.nextInt(40);
            assertEquals(pages.get(from, to).cardinality() == to - from, set.covers((long) from * PAGE, (long) to * PAGE), why);
            assertEquals(pages.get(from, to).cardinality() > 0, set.intersects((long) from * PAGE, (long) to * PAGE), why);
            BitSet gaps = new BitSet();
            set.gaps((long) from * PAGE, (long) to * PAGE).forEach(r -> gaps.set((int) (r.start() / PAGE), (int) (r.end() / PAGE)));
            BitSet expected = new BitSet();
            expected.set(from, to);
            expected.andNot(pages);
            assertEquals(expected, gaps, why);
            int run = 0;
            while (!pages.get(to) && to - run > 0 && pages.get(to - run - 1)) {
                run++;
            }
            assertEquals((long) run * PAGE, set.runEndingAt((long) to * PAGE), why);
        }
    }

    private static List<PageRange> randomRanges(Random random, BitSet pages) {
        List<PageRange> ranges = new ArrayList<>();
        for (int i = random.nextInt(12); i > 0; i--) {
            int start = random.nextInt(300);
            int end = start + 1 + random.nextInt(random.nextBoolean() ? 2 : 40);
            ranges.add(r(start, end));
            pages.set(start, end);
        }
        return ranges;
    }

    private static BitSet bits(DirtySet set) {
        BitSet pages = new BitSet();
        set.ranges().forEach(r -> pages.set((int) (r.start() / PAGE), (int) (r.end() / PAGE)));
        return pages;
    }

    private static PageRange r(int fromPage, int toPage) {
        return new PageRange((long) fromPage * PAGE, (long) toPage * PAGE);
    }
}
