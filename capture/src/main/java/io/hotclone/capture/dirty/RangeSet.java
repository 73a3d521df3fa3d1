package io.hotclone.capture.dirty;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A mutable set of page ranges kept merged, for pages added one by one (a fault at a time) and
 * asked about at once. Not thread-safe.
 */
final class RangeSet {
    private final TreeMap<Long, Long> ends = new TreeMap<>();

    void add(long from, long to) {
        Map.Entry<Long, Long> before = ends.floorEntry(from);
        if (before != null && before.getValue() >= from) {
            from = before.getKey();
            to = Math.max(to, before.getValue());
        }
        for (Map.Entry<Long, Long> e = ends.ceilingEntry(from); e != null && e.getKey() <= to; e = ends.ceilingEntry(from)) {
            to = Math.max(to, e.getValue());
            ends.remove(e.getKey());
        }
        ends.put(from, to);
    }

    boolean covers(long from, long to) {
        Map.Entry<Long, Long> e = ends.floorEntry(from);
        return e != null && e.getValue() >= to;
    }

    /** Whether any page of {@code [from, to)} is in the set. */
    boolean intersects(long from, long to) {
        Map.Entry<Long, Long> e = ends.lowerEntry(to);
        return e != null && e.getValue() > from;
    }

    /** The length of the range of the set that ends at {@code address}, 0 if none does. */
    long runEndingAt(long address) {
        Map.Entry<Long, Long> e = ends.lowerEntry(address);
        return e != null && e.getValue() == address ? address - e.getKey() : 0;
    }

    /** The end of the last range of the set before {@code address} (not containing it), or 0. */
    long openEndBefore(long address) {
        Map.Entry<Long, Long> e = ends.lowerEntry(address);
        return e != null && e.getValue() <= address ? e.getValue() : 0;
    }

    /** The parts of {@code [from, to)} not in the set, in ascending order. */
    List<PageRange> gaps(long from, long to) {
        List<PageRange> gaps = new ArrayList<>();
        long at = from;
        Map.Entry<Long, Long> e = ends.floorEntry(from);
        if (e != null && e.getValue() > at) {
            at = e.getValue();
        }
        for (Map.Entry<Long, Long> n : ends.subMap(from, false, to, false).entrySet()) {
            if (n.getKey() > at) {
                gaps.add(new PageRange(at, n.getKey()));
            }
            at = Math.max(at, n.getValue());
        }
        if (at < to) {
            gaps.add(new PageRange(at, to));
        }
        return gaps;
    }

    DirtySet toDirtySet() {
        DirtySet.Builder b = new DirtySet.Builder();
        ends.forEach(b::add);
        return b.build();
    }

    void clear() {
        ends.clear();
    }
}
