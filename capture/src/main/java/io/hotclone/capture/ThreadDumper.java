package io.hotclone.capture;

import io.hotclone.bindings.linux.stack_t;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.image.SigaltstackState;
import io.hotclone.image.ThreadState;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_sigaltstack;

/** Reads the state of one frozen thread. */
final class ThreadDumper {
    private ThreadDumper() {
    }

    /**
     * @param xstate   the thread's xstate, read before any injected call
     * @param remote   system calls in that thread, whose saved registers and mask are the thread's
     */
    static ThreadState dump(Tracee tracee, byte[] xstate, RemoteSyscalls remote) {
        MemorySegment regs = remote.savedRegisters();
        return new ThreadState(tracee.tid(), regs.toArray(ValueLayout.JAVA_BYTE), xstate,
                remote.savedSigmask(), tracee.pendingSignals(false), altstack(remote), tracee.rseq());
    }

    private static SigaltstackState altstack(RemoteSyscalls remote) {
        remote.check("sigaltstack(NULL, &old)", SYS_sigaltstack, 0, remote.scratch());
        try (Arena local = Arena.ofConfined()) {
            MemorySegment ss = local.allocate(stack_t.layout());
            remote.memory().read(remote.scratch(), ss);
            return new SigaltstackState(stack_t.ss_sp(ss).address(), stack_t.ss_flags(ss), stack_t.ss_size(ss));
        }
    }
}
