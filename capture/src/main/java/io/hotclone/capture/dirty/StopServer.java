package io.hotclone.capture.dirty;

import io.hotclone.process.ptrace.RemoteMemory;
import io.hotclone.process.ptrace.SyscallStop;

/**
 * What a program's lifelong tracer asks its dirty tracker at the program's stops, for a
 * tracker that needs them served ({@link DirtyTracker#stops()}): a tracker by page protection
 * makes the program fault on its first writes, and must open what the kernel is about to write
 * for it and follow the mappings it changes. The defaults serve nothing.
 *
 * <p>Thread confinement: the program's tracer thread, with the program in the stop asked about.
 */
public interface StopServer {
    /** Serves nothing: no tracker armed (yet), or one that needs no tracer. */
    StopServer NONE = new StopServer() {
    };

    /**
     * A SIGSEGV for a write the protection forbade (SEGV_ACCERR) at {@code address}.
     *
     * @return whether it was the tracker's doing and is served: the write runs again, the signal
     *         is not delivered
     */
    default boolean fault(long address) {
        return false;
    }

    /** Whether the tracker keeps any page from being written now. */
    default boolean protectsAny() {
        return false;
    }

    /**
     * At the entry of system call {@code entry} ({@code memory} reads the program's arguments):
     * work (injected calls) to run before the call, which its tracer then has the program make
     * anew; null when there is none.
     */
    default Runnable beforeCall(SyscallStop entry, RemoteMemory memory) {
        return null;
    }

    /**
     * At the exit of system call {@code entry}, which returned {@code result}.
     *
     * @return whether the call met a protected page, opened now: its tracer has the program make
     *         it again
     */
    default boolean afterCall(SyscallStop entry, long result) {
        return false;
    }
}
