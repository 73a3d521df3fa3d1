package io.hotclone.journal;

/**
 * What every writer and reader of this hotclone's journals agrees on, whichever journal it is:
 * the format version and the largest page record. The classes that write, scan and report
 * records take these from here, below {@link Journal}, which uses them too.
 */
public final class JournalFormat {
    /** The journal format this hotclone writes and reads (the {@code formatVersion} of every header). */
    public static final int FORMAT_VERSION = 1;
    /**
     * The most page contents one page record holds: longer runs are split. Large, because
     * Chronicle writes each record's header through its mapping, and the first write to a fresh
     * page of a file mapping costs 0.1 to 1.5 ms in a VM (here): with 1 MiB records those writes
     * took 0.4 to 1.7 s of the freeze of a 1 GiB checkpoint, with 8 MiB records 20 to 30 ms.
     * A restore pays some of it back: a run no longer stays in the CPU's cache between its CRC
     * check and its copy into the process (1 GiB: about 0.36 s -> 0.45 s in jmh/).
     */
    public static final int MAX_RUN_BYTES = 8 << 20;

    private JournalFormat() {
    }

    /** A queue index as Chronicle shows it: cycle in the high bits, sequence in the low. */
    static String formatIndex(long index) {
        return "0x" + Long.toHexString(index);
    }
}
