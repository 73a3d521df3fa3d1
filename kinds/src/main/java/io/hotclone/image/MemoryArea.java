package io.hotclone.image;

import io.hotclone.process.FileIdentity;

/**
 * One mapping of the program's address space, as /proc/PID/maps shows it. Its dump is
 * {@link AreaClassifier}; its restore, with its pages, is restore's {@code AddressSpace}, since
 * the pages come from the journal.
 *
 * @param start    first address
 * @param end      address past the last byte
 * @param prot     PROT_READ | PROT_WRITE | PROT_EXEC bits
 * @param shared   MAP_SHARED (else MAP_PRIVATE)
 * @param kind     what backs it
 * @param path     the file path for FILE areas, else the /proc name ("[heap]", "") for reading
 * @param offset   file offset of {@code start} for FILE areas
 * @param file     identity of the file for FILE areas, else null
 * @param sinceSeq the checkpoint from which this area's pages count: the one that first saw
 *                 this mapping. Pages an older checkpoint of the chain holds for its addresses
 *                 belonged to another mapping and must not be restored into it.
 */
@Tag(value = 4, version = 2, name = "area")
public record MemoryArea(long start, long end, int prot, boolean shared, AreaKind kind,
                         String path, long offset, FileIdentity file, long sinceSeq) implements ImageRecord {

    /** The same mapping, its pages counted from checkpoint {@code seq}. */
    public MemoryArea since(long seq) {
        return new MemoryArea(start, end, prot, shared, kind, path, offset, file, seq);
    }

    public boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
    }

    public long length() {
        return end - start;
    }

    /** Whether a checkpoint carries page contents for this area. */
    public boolean hasContents() {
        return switch (kind) {
            case ANONYMOUS, HEAP, STACK, SHARED_ANONYMOUS -> true;
            case FILE -> !shared;
            case VDSO, VVAR, VVAR_VCLOCK, VSYSCALL -> false;
        };
    }
}
