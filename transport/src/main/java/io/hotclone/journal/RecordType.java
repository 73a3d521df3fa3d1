package io.hotclone.journal;

import io.hotclone.image.Commit;
import io.hotclone.image.FdState;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.ImageRecord;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.RecordCodec;
import io.hotclone.image.Tag;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A record type of the journal: one per record class of {@link ImageRecord}, as its
 * {@link Tag} says, and the two page types, whose records carry raw bytes. A tag is part of the
 * format: never reuse or renumber one. A reader refuses versions it does not know.
 *
 * @param oldestVersion the oldest version still read (see {@link io.hotclone.image.Since})
 * @param label         the name users see: "thread", "regular-file-fd"
 * @param type          the record class, null for page records
 */
record RecordType(int tag, int version, int oldestVersion, String label, Class<? extends Record> type, Role role) {

    /** What a record is to the checkpoint it belongs to: what the journal checks and counts. */
    enum Role {
        /** Opens a checkpoint. */
        HEADER,
        /** The one process record of a checkpoint. */
        PROCESS,
        /** A memory area: counted by the commit. */
        AREA,
        /** A descriptor: counted by the commit. */
        FD,
        /** Pages: counted by the commit. */
        PAGES,
        /** Closes a checkpoint. */
        COMMIT,
        /** Any other state. */
        STATE
    }

    private static final Map<Class<?>, Role> ROLES = Map.of(ImageHeader.class, Role.HEADER,
            ProcessState.class, Role.PROCESS, MemoryArea.class, Role.AREA, Commit.class, Role.COMMIT);

    static final RecordType PAGES = new RecordType(7, 1, 1, "pages", null, Role.PAGES);
    /** Pages of several runs in one record: a run table after the envelope, then their contents. */
    static final RecordType PAGE_RUNS = new RecordType(10, 1, 1, "page-runs", null, Role.PAGES);

    private static final List<RecordType> ALL = Stream.concat(ImageRecord.TYPES.stream().map(RecordType::of),
            Stream.of(PAGES, PAGE_RUNS)).toList();
    private static final RecordType[] BY_TAG = new RecordType[256];
    private static final Map<Class<?>, RecordType> BY_CLASS = new HashMap<>();

    static {
        for (RecordType t : ALL) {
            if (BY_TAG[t.tag] != null) {
                throw new IllegalStateException("record types " + BY_TAG[t.tag].label + " and " + t.label
                        + " both have tag " + t.tag + ": give " + t.label + " a tag of its own");
            }
            BY_TAG[t.tag] = t;
            if (t.type != null) {
                BY_CLASS.put(t.type, t);
            }
        }
    }

    static final RecordType HEADER = BY_CLASS.get(ImageHeader.class);
    static final RecordType COMMIT = BY_CLASS.get(Commit.class);
    static final RecordType PROCESS = BY_CLASS.get(ProcessState.class);

    private static RecordType of(Class<? extends Record> type) {
        Tag tag = type.getAnnotation(Tag.class);
        if (tag == null || tag.value() < 1 || tag.value() > 255) {
            throw new IllegalStateException(type.getName() + " is a journal record type: it needs a @Tag from 1 to 255");
        }
        Role role = ROLES.getOrDefault(type, FdState.class.isAssignableFrom(type) ? Role.FD : Role.STATE);
        return new RecordType(tag.value(), tag.version(), RecordCodec.of(type).oldestVersion(), tag.name(), type, role);
    }

    static Optional<RecordType> ofTag(int tag) {
        return Optional.ofNullable(BY_TAG[tag & 0xff]);
    }

    /** The record type of {@code record}, or an IllegalArgumentException naming its class. */
    static RecordType of(Object record) {
        RecordType type = BY_CLASS.get(record.getClass());
        if (type == null) {
            throw new IllegalArgumentException("no journal record type for " + record.getClass().getName());
        }
        return type;
    }

    /** The tags this hotclone reads, for error messages. */
    static String knownTags() {
        return Arrays.toString(ALL.stream().mapToInt(RecordType::tag).sorted().toArray());
    }

    /** Whether records of this type carry page contents, read apart from their head. */
    boolean carriesPages() {
        return role == Role.PAGES;
    }

    /** Whether this hotclone reads records of this type written as {@code version}. */
    boolean reads(int version) {
        return version >= oldestVersion && version <= this.version;
    }

    /** The versions this hotclone reads, for error messages: "2", "1 to 2". */
    String versionsRead() {
        return oldestVersion == version ? String.valueOf(version) : oldestVersion + " to " + version;
    }
}
