package io.hotclone.image;

import io.hotclone.process.FileIdentities;
import io.hotclone.process.IpcNamespace;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.FileIdentity;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Decides what backs each mapping and so how it is captured; refuses, naming the mapping,
 * what hotclone cannot rebuild yet.
 */
public final class AreaClassifier {
    private final ProcFs proc;
    private final Map<Long, MemoryArea> previous;
    private final List<MapsEntry> kernelAreas;

    /**
     * @param previous    the areas of the checkpoint before, by start address: a file mapping
     *                    that is still the same (same path and inode) keeps the identity checked
     *                    then, which spares two stat calls per library under the freeze
     * @param kernelAreas /proc/PID/maps as read, when the entries classified are a view of it
     *                    with areas joined or cut differently (dirty tracking by mprotect): their
     *                    files are found under the kernel's areas' names in map_files
     */
    public AreaClassifier(ProcFs proc, Map<Long, MemoryArea> previous, List<MapsEntry> kernelAreas) {
        this.proc = proc;
        this.previous = previous;
        this.kernelAreas = kernelAreas;
    }

    /** @param seq the checkpoint being taken, from which a mapping seen first now counts */
    public MemoryArea classify(MapsEntry m, long seq) {
        String name = m.name();
        AreaKind kind = switch (name) {
            case "[heap]" -> AreaKind.HEAP;
            case "[stack]" -> AreaKind.STACK;
            case "[vdso]" -> AreaKind.VDSO;
            case "[vvar]" -> AreaKind.VVAR;
            case "[vvar_vclock]" -> AreaKind.VVAR_VCLOCK;
            case "[vsyscall]" -> AreaKind.VSYSCALL;
            default -> kindOf(m);
        };
        return switch (kind) {
            case FILE -> new MemoryArea(m.start(), m.end(), m.prot(), m.shared(), kind, name, m.offset(), identity(m),
                    seq);
            // The kernel's shmem object behind it (a System V segment's id is its inode), which the
            // processes that share it have in common.
            case SHARED_ANONYMOUS, SYSV_SHM -> new MemoryArea(m.start(), m.end(), m.prot(), true, kind, name,
                    m.offset(), new FileIdentity(0, m.inode(), 0, 0), seq);
            default -> new MemoryArea(m.start(), m.end(), m.prot(), m.shared(), kind, name, 0, null, seq);
        };
    }

    private AreaKind kindOf(MapsEntry m) {
        String name = m.name();
        if (m.inode() == 0 && (name.isEmpty() || name.startsWith("[anon:"))) {
            return m.shared() ? AreaKind.SHARED_ANONYMOUS : AreaKind.ANONYMOUS;
        }
        if (name.equals("/dev/zero (deleted)") || name.equals("/dev/zero")) {
            return m.shared() ? AreaKind.SHARED_ANONYMOUS : AreaKind.ANONYMOUS;
        }
        if (name.startsWith("/SYSV")) {
            if (!IpcNamespace.isOwn(proc.pid())) {
                throw refuse(m, "is System V shared memory segment " + m.inode() + " (key 0x" + name.substring(5, 13)
                        + ") of the node's IPC namespace, which a restore cannot take along: hotclone keeps the"
                        + " segments of a program it started (hotclone run), in an IPC namespace of its own");
            }
            return AreaKind.SYSV_SHM;
        }
        if (name.startsWith("/memfd:")) {
            throw refuse(m, "maps a memfd (" + name + "), which hotclone cannot checkpoint yet");
        }
        if (name.endsWith(" (deleted)")) {
            throw refuse(m, "maps a file that was deleted (" + name + "); hotclone restores file"
                    + " mappings by path, so the file must still exist");
        }
        if (name.startsWith("/")) {
            return AreaKind.FILE;
        }
        throw refuse(m, "is a kernel mapping hotclone does not know how to rebuild (" + name + ")");
    }

    private FileIdentity identity(MapsEntry m) {
        MemoryArea before = previous.get(m.start());
        if (before != null && before.file() != null && before.path().equals(m.name())
                && before.file().inode() == m.inode()) {
            return before.file();
        }
        MapsEntry vma = kernelArea(m.start());
        Path mapped = proc.path("map_files/" + Long.toHexString(vma.start()) + "-" + Long.toHexString(vma.end()));
        FileIdentity actual = FileIdentities.of(mapped);
        FileIdentity named = FileIdentities.of(Path.of(m.name()));
        if (actual.device() != named.device() || actual.inode() != named.inode()) {
            throw refuse(m, "maps a file that is no longer at " + m.name() + " (it was replaced)");
        }
        return actual;
    }

    /** The kernel's area holding {@code address}. */
    private MapsEntry kernelArea(long address) {
        int lo = 0;
        int hi = kernelAreas.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            MapsEntry e = kernelAreas.get(mid);
            if (e.end() <= address) {
                lo = mid + 1;
            } else if (e.start() > address) {
                hi = mid - 1;
            } else {
                return e;
            }
        }
        throw new HotcloneException("process " + proc.pid() + " has no area at 0x" + Long.toHexString(address)
                + " in /proc/" + proc.pid() + "/maps any more");
    }

    private HotcloneException refuse(MapsEntry m, String why) {
        return new HotcloneException("cannot checkpoint process " + proc.pid() + ": the mapping at 0x"
                + Long.toHexString(m.start()) + "-0x" + Long.toHexString(m.end()) + " " + why);
    }
}
