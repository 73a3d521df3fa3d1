package io.hotclone.image;

import io.hotclone.process.RseqState;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rseq;

/**
 * One thread at the barrier.
 *
 * @param tid          thread id on the capturing node
 * @param registers    struct user_regs_struct as PTRACE_GETREGS returns it (fs_base, gs_base included)
 * @param xstate       the NT_X86_XSTATE regset (FPU, SSE, AVX ...), {@link ImageHeader#xstateSize()} bytes
 * @param blockedMask  the blocked signal mask
 * @param pending      thread-directed pending signals, each a 128-byte siginfo_t
 * @param altstack     the alternate signal stack
 * @param rseq         the rseq registration, or null when the thread has none
 */
@Tag(value = 3, version = 1, name = "thread")
public record ThreadState(int tid, byte[] registers, byte[] xstate, long blockedMask,
                          List<byte[]> pending, SigaltstackState altstack, RseqState rseq) implements ImageRecord {

    /**
     * The state of one frozen thread.
     *
     * @param xstate the thread's xstate, read before any injected call
     * @param remote system calls in that thread, whose saved registers and mask are the thread's
     */
    public static ThreadState dump(Tracee tracee, byte[] xstate, RemoteSyscalls remote) {
        MemorySegment regs = remote.savedRegisters();
        return new ThreadState(tracee.tid(), regs.toArray(ValueLayout.JAVA_BYTE), xstate,
                remote.savedSigmask(), tracee.pendingSignals(false), SigaltstackState.dump(remote), tracee.rseq());
    }

    /**
     * Installs the alternate stack, the rseq registration and the pending signals in thread
     * {@code tid} of process {@code pid}, which {@code remote} runs in; its registers, mask and
     * xstate go in last, as the tracer lets it go.
     */
    public void restore(RemoteSyscalls remote, int pid, int tid) {
        altstack.restore(remote);
        if (rseq != null) {
            remote.check("rseq(0x" + Long.toHexString(rseq.address()) + ")", SYS_rseq, rseq.address(),
                    rseq.length(), 0, rseq.signature() & 0xffffffffL);
        }
        PendingSignals.restoreThread(remote, pid, tid, pending);
    }
}
