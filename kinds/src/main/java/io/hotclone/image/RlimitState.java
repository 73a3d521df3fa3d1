package io.hotclone.image;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.rlimit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Resource.RLIM_NLIMITS;
import static java.lang.foreign.MemorySegment.NULL;

/** One resource limit (RLIMIT_*), as prlimit64 reads it; hotclone reads and sets it from outside. */
public record RlimitState(int resource, long soft, long hard) {

    /** Every resource limit of process {@code pid}. */
    static List<RlimitState> dumpAll(int pid) {
        List<RlimitState> limits = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            MemorySegment old = rlimit.allocate(arena);
            for (int r = 0; r < RLIM_NLIMITS; r++) {
                if (Libc.prlimit(callState, pid, r, NULL, old) != 0) {
                    throw new SyscallException("prlimit(pid=" + pid + ", resource=" + r + ")", Libc.errno(callState));
                }
                limits.add(new RlimitState(r, rlimit.rlim_cur(old), rlimit.rlim_max(old)));
            }
        }
        return limits;
    }

    /** Sets {@code limits} on process {@code pid}. */
    static void restoreAll(int pid, List<RlimitState> limits) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            MemorySegment limit = rlimit.allocate(arena);
            for (RlimitState r : limits) {
                rlimit.rlim_cur(limit, r.soft);
                rlimit.rlim_max(limit, r.hard);
                if (Libc.prlimit(callState, pid, r.resource, limit, NULL) != 0) {
                    throw new SyscallException("prlimit(pid=" + pid + ", resource=" + r.resource + ", soft="
                            + r.soft + ", hard=" + r.hard + ")", Libc.errno(callState));
                }
            }
        }
    }
}
