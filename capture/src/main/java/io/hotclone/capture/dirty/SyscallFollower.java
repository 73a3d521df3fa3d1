package io.hotclone.capture.dirty;

import io.hotclone.process.ptrace.RemoteMemory;
import io.hotclone.process.ptrace.SyscallStop;

import java.util.List;

import static io.hotclone.bindings.linux.Errno.EFAULT;

/**
 * Follows the system calls of a program whose pages are protected for dirty tracking: what the
 * kernel is about to write for it must never meet a protected page, or the program sees EFAULT
 * or dies of SIGSEGV, so the buffers of a call are opened before it runs ({@link SystemCalls}
 * lists them), everything is opened before a fork (the child must not inherit hotclone's
 * protections), and a call that still fails with EFAULT is run again once the areas its
 * arguments point into are opened; the mappings a call changes are no longer hotclone's to
 * answer for.
 *
 * <p>Thread confinement: the program's tracer thread, at the call's entry or exit stop.
 */
final class SyscallFollower {
    private final Protections protections;
    private final Ledger ledger;
    /** Fails if the tracker is closed: nothing may change protections then. */
    private final Runnable ensureOpen;

    SyscallFollower(Protections protections, Ledger ledger, Runnable ensureOpen) {
        this.protections = protections;
        this.ledger = ledger;
        this.ensureOpen = ensureOpen;
    }

    /** See {@link StopServer#beforeCall}. */
    Runnable beforeCall(SyscallStop entry, RemoteMemory memory) {
        if (!entry.native64()) {
            return null;
        }
        if (SystemCalls.forks(entry.nr())) {
            return protections.protectsAny() ? () -> open(protections::openAll) : null;
        }
        List<PageRange> buffers = SystemCalls.buffers(entry.nr(), entry.args(), memory);
        return !buffers.isEmpty() && protections.protects(buffers) ? () -> open(() -> protections.open(buffers)) : null;
    }

    /** See {@link StopServer#afterCall}. */
    boolean afterCall(SyscallStop entry, long result) {
        if (!entry.native64()) {
            return false;
        }
        if (result == -EFAULT) {
            ensureOpen.run();
            if (protections.openAreasOf(entry.args()) || protections.openAll()) {
                return true;
            }
        }
        if (result < 0 && result > -4096) {
            return false;
        }
        SystemCalls.returned(entry.nr(), entry.args(), result, this);
        return false;
    }

    private void open(Runnable opening) {
        ensureOpen.run();
        opening.run();
    }

    /**
     * The program changed the mappings of {@code [from, to)} itself (mprotect, munmap, mmap over
     * it): hotclone no longer answers for them; the next {@link DirtyTracker#track} arms what is
     * there then, dirty whole.
     */
    void forget(long from, long to) {
        ensureOpen.run();
        protections.disarm(from, to);
    }

    /**
     * The program moved {@code [from, from + length)} to {@code [to, to + newLength)} (mremap):
     * the moved pages keep hotclone's protection, so the new place gets the program's back.
     */
    void moved(long from, long length, long to, long newLength) {
        ensureOpen.run();
        Protections.Armed a = protections.armedAt(from);
        forget(from, from + length);
        forget(to, to + newLength);
        if (a != null && a.writable()) {
            try (Protections.Calls calls = protections.calls()) {
                calls.mprotect(to, to + newLength, a.prot());
            }
        }
    }

    /**
     * The program's break is now {@code pageEnd} (brk): what hotclone armed of the heap above it
     * is unmapped, and what the heap grows into later is new.
     */
    void breakMoved(long pageEnd) {
        Protections.Armed a = protections.armedAt(pageEnd);
        if (a != null) {
            forget(pageEnd, a.end());
        }
    }

    /** The program emptied {@code [from, to)} (MADV_DONTNEED and the like): its pages changed without a write. */
    void discarded(long from, long to) {
        ensureOpen.run();
        DirtySet.Builder b = new DirtySet.Builder();
        for (Protections.Armed a : protections.overlapping(from, to)) {
            b.add(Math.max(a.start(), from), Math.min(a.end(), to));
        }
        ledger.owe(b.build());
    }

    /** The program replaced its address space (execve): nothing of it is protected any more. */
    void replaced() {
        protections.disarmAll();
    }
}
