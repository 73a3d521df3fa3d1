package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.ProcFs;

import java.util.Optional;

/**
 * Signs, read from /proc between checkpoints, that a protected program changed enough to be
 * worth a checkpoint before its interval ends: it ran another program (exec), or it mapped much
 * more memory. Cheap enough to ask every few milliseconds: two small reads.
 *
 * <p>Thread confinement: the program's tracer thread.
 */
final class ChangeWatch implements AutoCloseable {
    /** New address space, in pages, that is worth a checkpoint of its own (64 MiB of 4 KiB pages). */
    static final long GROWTH_PAGES = 64L << 20 >> 12;

    private final int pid;
    private final ProcFs proc;
    /** The address space of the program at the base; null once it could not be opened (it is ending). */
    private AddressSpace space;
    private long pages;

    ChangeWatch(int pid) {
        this.pid = pid;
        this.proc = new ProcFs(pid);
        since();
    }

    /** Takes the program as it is now as the base: called as each checkpoint begins. */
    void since() {
        try {
            if (space == null || !space.current()) {
                close();
                space = new AddressSpace(pid);
            }
            pages = size();
        } catch (HotcloneException e) {
            pages = Long.MAX_VALUE; // gone or going: its end is noticed elsewhere
        }
    }

    /** What changed since {@link #since}, if it is worth a checkpoint now. */
    Optional<String> change() {
        try {
            if (space != null && !space.current()) {
                return Optional.of("it ran " + proc.link("exe") + " (exec)");
            }
            long grown = size() - pages;
            return grown >= GROWTH_PAGES ? Optional.of("it mapped " + (grown >> 8) + " MiB more") : Optional.empty();
        } catch (HotcloneException e) {
            return Optional.empty();
        }
    }

    private long size() {
        return proc.statm().sizePages();
    }

    @Override
    public void close() {
        if (space != null) {
            space.close();
            space = null;
        }
    }
}
