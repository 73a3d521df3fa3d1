package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.image.AreaKind;
import io.hotclone.image.MemoryArea;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.FrozenCopy;

import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.stream.Collectors;

/**
 * The pages are read after the freeze from a copy-on-write fork of the frozen program (a fork
 * costs ~20 ms per GiB of page tables here, reading the pages ~400 ms per GiB), but for shared
 * anonymous memory: the program goes on changing it under the copy, which shares it, so it is
 * staged under the freeze.
 */
final class ForkCapture implements PageCapture {
    private final FrozenCopy copy;
    /** Page bytes the stage lacked room for, to make room for after the freeze (0: none). */
    private final long stageShort;
    private List<MemoryArea> shared = List.of();
    private List<MemoryArea> unshared = List.of();

    ForkCapture(FrozenCopy copy, long stageShort) {
        this.copy = copy;
        this.stageShort = stageShort;
    }

    @Override
    public long whileFrozen(CheckpointPages pages) {
        Map<Boolean, List<MemoryArea>> byShared = pages.areas().stream()
                .collect(Collectors.partitioningBy(a -> a.kind() == AreaKind.SHARED_ANONYMOUS));
        shared = byShared.get(true);
        unshared = byShared.get(false);
        return shared.isEmpty() ? 0 : pages.readProgram(shared, pages.chain().stage());
    }

    @Override
    public long afterRelease(CheckpointPages pages) {
        if (stageShort > 0) {
            pages.chain().reserveStage(stageShort);
        }
        pages.serve();
        checkFaithful(pages.areas());
        pages.serve();
        AppendRing.Append append = pages.append();
        if (!shared.isEmpty()) {
            pages.chain().drainStage(append);
        }
        return pages.readCopy(copy.pid(), unshared, append);
    }

    @Override
    public void close() {
        copy.close();
    }

    /**
     * After the freeze, before anything is written: the copy must hold every area with contents
     * the program had at the barrier. A fork leaves out MADV_DONTFORK areas and empties
     * MADV_WIPEONFORK ones; smaps says so, and reading it walks the page tables (~25 ms per GiB),
     * which is why it is read from the copy now rather than from the program under the freeze.
     */
    private void checkFaithful(List<MemoryArea> areas) {
        NavigableMap<Long, ProcFs.VmFlags> flags = new ProcFs(copy.pid()).vmFlags();
        for (MemoryArea a : areas) {
            if (!a.hasContents()) {
                continue; // [vsyscall] is in maps only; the kernel's areas carry nothing
            }
            // The kernel may have joined the area to a neighbour (a protection in common) or split it.
            Map.Entry<Long, ProcFs.VmFlags> at = flags.floorEntry(a.start());
            boolean missing = at == null || at.getValue().end() <= a.start();
            if (missing || at.getValue().flags().contains("wf")) {
                throw new Unfaithful("its area 0x" + Long.toHexString(a.start()) + "-0x" + Long.toHexString(a.end())
                        + (a.path().isEmpty() ? "" : " (" + a.path() + ")") + (missing
                        ? " is left out of a fork (MADV_DONTFORK)" : " is emptied in a fork (MADV_WIPEONFORK)"));
            }
        }
    }

    /** A fork of the program did not copy all its memory: the checkpoint is taken again without one. */
    static final class Unfaithful extends HotcloneException {
        Unfaithful(String message) {
            super(message);
        }
    }
}
