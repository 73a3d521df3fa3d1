package io.hotclone.process.ptrace;

import io.hotclone.bindings.Native;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.siginfo_t;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.hotclone.bindings.linux.Signal.SIGSTOP;
import static io.hotclone.bindings.linux.Signal.SI_QUEUE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rt_tgsigqueueinfo;

/**
 * The SIGSTOP this hotclone sends a traced program to make it stop for its tracer, marked so
 * that the tracer knows it from anyone else's (which it must deliver): sent with
 * rt_tgsigqueueinfo, whose value (si_value: a mark and this hotclone's pid) the kernel passes on
 * as written. The sender's pid cannot tell: the kernel sets it to 0 for a receiver in a pid
 * namespace the sender is not in, as a program that hotclone runs is. It goes to the program's
 * first thread, the one its tracer follows, not to the process: a process-directed signal may be
 * taken by another thread, untraced, whose SIGSTOP would stop the whole program for good.
 */
public final class WakeUp {
    private static final int SELF = (int) ProcessHandle.current().pid();
    /** si_value: "hcWU" above this hotclone's pid. */
    private static final long MARK = 0x68635755L << 32 | SELF;

    private WakeUp() {
    }

    /** Sends it to the first thread of process {@code pid}; false if the process is gone. */
    public static boolean send(int pid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(siginfo_t.sizeof(), 8);
            siginfo_t.si_signo(info, SIGSTOP);
            siginfo_t.si_code(info, SI_QUEUE);
            siginfo_t.si_pid(info, SELF);
            info.set(ValueLayout.JAVA_LONG_UNALIGNED, siginfo_t.si_int$offset(), MARK);
            MemorySegment cs = Native.callState();
            return Libc.syscall(cs, SYS_rt_tgsigqueueinfo, pid, pid, SIGSTOP, info.address(), 0, 0) == 0;
        }
    }

    /** Whether a signal's siginfo, as PTRACE_GETSIGINFO or PTRACE_PEEKSIGINFO read it, is this hotclone's wake-up. */
    public static boolean is(MemorySegment info) {
        return info.get(ValueLayout.JAVA_INT_UNALIGNED, siginfo_t.si_signo$offset()) == SIGSTOP
                && info.get(ValueLayout.JAVA_INT_UNALIGNED, siginfo_t.si_code$offset()) == SI_QUEUE
                && info.get(ValueLayout.JAVA_LONG_UNALIGNED, siginfo_t.si_int$offset()) == MARK;
    }
}
