package io.hotclone.capture.dirty;

import io.hotclone.image.MemoryArea;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Pages of a program that may differ from its last committed checkpoint: sorted, disjoint and
 * merged page ranges (two ranges never touch). A checkpoint carries the current contents of
 * every page in the set; a page no longer populated reads as zeros in anonymous memory and as
 * the file's bytes in a private file mapping, and must be carried as such.
 *
 * @param ranges ascending; each ends strictly before the next one starts
 */
public record DirtySet(List<PageRange> ranges) {
    private static final DirtySet EMPTY = new DirtySet(List.of());

    public DirtySet {
        ranges = List.copyOf(ranges);
        for (int i = 1; i < ranges.size(); i++) {
            if (ranges.get(i).start() <= ranges.get(i - 1).end()) {
                throw new IllegalArgumentException("ranges not sorted and merged: " + ranges.get(i - 1)
                        + " then " + ranges.get(i));
            }
        }
    }

    public static DirtySet empty() {
        return EMPTY;
    }

    /** The union of {@code ranges}, given in any order, overlapping or adjacent. */
    public static DirtySet of(Collection<PageRange> ranges) {
        List<PageRange> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparingLong(PageRange::start));
        Builder b = new Builder();
        sorted.forEach(b::add);
        return b.build();
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    public long pages() {
        return ranges.stream().mapToLong(PageRange::pages).sum();
    }

    public DirtySet union(DirtySet other) {
        if (other.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return other;
        }
        Builder b = new Builder();
        int i = 0;
        int j = 0;
        while (i < ranges.size() || j < other.ranges.size()) {
            boolean mine = j == other.ranges.size()
                    || (i < ranges.size() && ranges.get(i).start() <= other.ranges.get(j).start());
            b.add(mine ? ranges.get(i++) : other.ranges.get(j++));
        }
        return b.build();
    }

    /** The pages in both sets. */
    public DirtySet intersect(DirtySet other) {
        Builder b = new Builder();
        int i = 0;
        int j = 0;
        while (i < ranges.size() && j < other.ranges.size()) {
            PageRange x = ranges.get(i);
            PageRange y = other.ranges.get(j);
            long from = Math.max(x.start(), y.start());
            long to = Math.min(x.end(), y.end());
            if (from < to) {
                b.add(from, to);
            }
            if (x.end() < y.end()) {
                i++;
            } else {
                j++;
            }
        }
        return b.build();
    }

    /** The pages of this set that are not in {@code other}. */
    public DirtySet minus(DirtySet other) {
        if (other.isEmpty() || isEmpty()) {
            return this;
        }
        Builder b = new Builder();
        int j = 0;
        for (PageRange r : ranges) {
            long at = r.start();
            while (j < other.ranges.size() && other.ranges.get(j).end() <= at) {
                j++;
            }
            for (int k = j; k < other.ranges.size() && other.ranges.get(k).start() < r.end(); k++) {
                PageRange o = other.ranges.get(k);
                if (o.start() > at) {
                    b.add(at, o.start());
                }
                at = Math.max(at, o.end());
            }
            if (at < r.end()) {
                b.add(at, r.end());
            }
        }
        return b.build();
    }

    /** The part of this set inside {@code [start, end)}. */
    public DirtySet within(long start, long end) {
        Builder b = new Builder();
        for (int i = firstEndingAfter(start); i < ranges.size() && ranges.get(i).start() < end; i++) {
            PageRange r = ranges.get(i);
            b.add(Math.max(r.start(), start), Math.min(r.end(), end));
        }
        return b.build();
    }

    /** The part of this set inside {@code area}. */
    public DirtySet within(MemoryArea area) {
        return within(area.start(), area.end());
    }

    /** The part of this set inside any of {@code areas} (sorted by address, as /proc/PID/maps lists them). */
    public DirtySet within(List<MemoryArea> areas) {
        Builder b = new Builder();
        for (MemoryArea a : areas) {
            within(a).ranges.forEach(b::add);
        }
        return b.build();
    }

    private int firstEndingAfter(long address) {
        int lo = 0;
        int hi = ranges.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ranges.get(mid).end() <= address) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Collects ranges given in ascending order of start, merging overlapping and adjacent ones. */
    static final class Builder {
        private final List<PageRange> ranges = new ArrayList<>();
        private long start = -1;
        private long end = -1;

        void add(PageRange r) {
            add(r.start(), r.end());
        }

        void add(long from, long to) {
            if (from < start) {
                throw new IllegalArgumentException("range 0x" + Long.toHexString(from) + " added out of order");
            }
            if (from <= end) {
                end = Math.max(end, to);
                return;
            }
            flush();
            start = from;
            end = to;
        }

        private void flush() {
            if (start >= 0) {
                ranges.add(new PageRange(start, end));
            }
        }

        DirtySet build() {
            flush();
            start = -1;
            end = -1;
            DirtySet set = new DirtySet(ranges);
            ranges.clear();
            return set;
        }
    }
}
