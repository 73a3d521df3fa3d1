package io.hotclone.image;

import io.hotclone.process.RseqState;

import java.util.List;

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
}
