package io.hotclone.image;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * A record of a checkpoint in the journal (pages travel apart): each permitted record is a
 * record type with its {@link Tag}, and a permitted sealed interface ({@link FdState}, {@link SysvIpc}) adds its
 * own permitted records. This hierarchy is the one list of record types: the journal's record
 * table, codec, listings and scans come from it, and switches over it fail to compile until they
 * handle a new kind.
 */
public sealed interface ImageRecord permits ImageHeader, ProcessState, ThreadState, MemoryArea, FdState, ZombieState,
        SysvIpc, Commit {
    /** Every record class of the hierarchy. */
    List<Class<? extends Record>> TYPES = leaves(ImageRecord.class).toList();

    private static Stream<Class<? extends Record>> leaves(Class<?> type) {
        return type.isRecord() ? Stream.of(type.asSubclass(Record.class))
                : Arrays.stream(type.getPermittedSubclasses()).flatMap(ImageRecord::leaves);
    }
}
