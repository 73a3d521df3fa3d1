package io.hotclone.journal;

import java.util.Arrays;
import java.util.Optional;

/**
 * The record types of the journal. A tag is part of the format: never reuse or renumber one.
 * A version changes whenever the type's fields change; a reader refuses versions it does not know,
 * and reads those from {@code oldest} on (a journal written before the change stays readable).
 */
enum RecordType {
    HEADER(1, 1),
    PROCESS(2, 1),
    THREAD(3, 1),
    AREA(4, 2),
    REGULAR_FILE_FD(5, 1),
    DEVICE_FD(6, 1),
    PAGES(7, 1),
    /** Version 2 added failedBefore. */
    COMMIT(8, 2, 1),
    INHERITED_FD(9, 1),
    /** Pages of several runs in one record: a run table after the envelope, then their contents. */
    PAGE_RUNS(10, 1);

    private static final RecordType[] BY_TAG = new RecordType[256];

    static {
        for (RecordType t : values()) {
            BY_TAG[t.tag] = t;
        }
    }

    final int tag;
    /** The version written. */
    final int version;
    /** The oldest version read. */
    final int oldest;

    RecordType(int tag, int version) {
        this(tag, version, version);
    }

    RecordType(int tag, int version, int oldest) {
        this.tag = tag;
        this.version = version;
        this.oldest = oldest;
    }

    /** Whether this hotclone reads records of this type written as {@code version}. */
    boolean reads(int version) {
        return version >= oldest && version <= this.version;
    }

    /** The versions this hotclone reads, for error messages: "2", "1 to 2". */
    String versionsRead() {
        return oldest == version ? String.valueOf(version) : oldest + " to " + version;
    }

    static Optional<RecordType> ofTag(int tag) {
        return Optional.ofNullable(BY_TAG[tag & 0xff]);
    }

    /** The tags this hotclone reads, for error messages. */
    static String knownTags() {
        return Arrays.toString(Arrays.stream(values()).mapToInt(t -> t.tag).toArray());
    }

    /** Whether records of this type carry page contents, read apart from their head. */
    boolean carriesPages() {
        return this == PAGES || this == PAGE_RUNS;
    }

    /** The name users see: "thread", "regular-file-fd". */
    String label() {
        return name().toLowerCase().replace('_', '-');
    }
}
