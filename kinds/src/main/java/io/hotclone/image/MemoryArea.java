package io.hotclone.image;

import io.hotclone.process.FileIdentity;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 * @param offset   file offset of {@code start} for FILE areas, offset into the kernel's shmem
 *                 object for SHARED_ANONYMOUS ones, into the segment for SYSV_SHM ones
 * @param file     identity of the file for FILE areas; for SHARED_ANONYMOUS ones, the shmem
 *                 object's inode, which tells the processes that share it (null in checkpoints
 *                 older than that); for SYSV_SHM ones, the segment's id as the inode; else null
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

    /**
     * The starts of the shared anonymous areas of a process that its parent maps at the same
     * place, the same shmem object from the same offset: memory inherited over fork, which a
     * restore shares again by making the process from its parent with that area mapped.
     */
    public static Set<Long> inherited(List<MemoryArea> areas, List<MemoryArea> parentAreas) {
        Map<Long, MemoryArea> parents = new HashMap<>();
        parentAreas.forEach(a -> parents.put(a.start(), a));
        Set<Long> inherited = new HashSet<>();
        for (MemoryArea a : areas) {
            MemoryArea p = parents.get(a.start());
            if (a.kind() == AreaKind.SHARED_ANONYMOUS && a.file() != null && p != null
                    && p.kind() == AreaKind.SHARED_ANONYMOUS && a.file().equals(p.file()) && p.end() == a.end()
                    && p.offset() == a.offset()) {
                inherited.add(a.start());
            }
        }
        return inherited;
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
            case SYSV_SHM, VDSO, VVAR, VVAR_VCLOCK, VSYSCALL -> false;
        };
    }
}
