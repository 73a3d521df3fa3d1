package io.hotclone.launcher;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.hotclone.bindings.linux.Errno.EINTR;

/** Waiting for a child hotclone started itself (not through ProcessBuilder). */
final class ChildProcesses {
    private ChildProcesses() {
    }

    /** Waits for {@code pid} to end; returns its exit status, or 128 + signal as a shell does. */
    static int waitFor(int pid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
            while (Libc.waitpid(callState, pid, status, 0) != pid) {
                if (Libc.errno(callState) != EINTR) {
                    throw new SyscallException("waitpid(" + pid + ")", Libc.errno(callState));
                }
            }
            int s = status.get(ValueLayout.JAVA_INT, 0);
            return (s & 0x7f) == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
        }
    }
}
