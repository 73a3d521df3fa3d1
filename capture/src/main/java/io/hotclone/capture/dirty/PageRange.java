package io.hotclone.capture.dirty;

/**
 * Whole pages from {@code start} up to {@code end} (exclusive), both page-aligned addresses in
 * the tracked program.
 */
public record PageRange(long start, long end) {
    public static final int PAGE = 4096;

    public PageRange {
        if ((start | end) % PAGE != 0 || start >= end) {
            throw new IllegalArgumentException("not a page range: 0x" + Long.toHexString(start)
                    + "-0x" + Long.toHexString(end));
        }
    }

    public long length() {
        return end - start;
    }

    public long pages() {
        return length() / PAGE;
    }

    @Override
    public String toString() {
        return "0x" + Long.toHexString(start) + "-0x" + Long.toHexString(end);
    }
}
