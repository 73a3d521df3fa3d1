package io.hotclone.process.ptrace;

import io.hotclone.bindings.linux.user_regs_struct;

import java.lang.foreign.MemorySegment;

import static io.hotclone.bindings.linux.Errno.ERESTARTNOHAND;
import static io.hotclone.bindings.linux.Errno.ERESTARTNOINTR;
import static io.hotclone.bindings.linux.Errno.ERESTARTSYS;
import static io.hotclone.bindings.linux.Errno.ERESTART_RESTARTBLOCK;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_restart_syscall;

/** What must hold of a user_regs_struct before a stopped thread is let go. */
public final class Registers {
    /** Length of the x86_64 {@code syscall} instruction. */
    static final int SYSCALL_INSN = 2;

    private Registers() {
    }

    /**
     * Turns the registers of a thread stopped inside an interrupted syscall into registers that
     * re-issue it, as the kernel's signal path would have done had the thread not been resumed
     * from a ptrace stop that skips it.
     *
     * <p>A thread frozen in a blocking call reports rax = -ERESTART* and orig_rax = the call. Left
     * like that, it would see errno 512..516 when it runs. So: the call is re-issued. For
     * -ERESTART_RESTARTBLOCK the same task can use restart_syscall(2), which finds the remaining
     * timeout in its restart block; a restored task has no restart block, so it re-issues the
     * original call (a relative sleep then sleeps its whole duration again, which a program must
     * accept from any signal anyway).
     *
     * @param sameTask whether the registers go back to the task they were read from
     */
    public static void makeResumable(MemorySegment regs, boolean sameTask) {
        long origRax = user_regs_struct.orig_rax(regs);
        if (origRax < 0) {
            return;
        }
        long rax = user_regs_struct.rax(regs);
        if (rax == -ERESTARTSYS || rax == -ERESTARTNOINTR || rax == -ERESTARTNOHAND) {
            user_regs_struct.rax(regs, origRax);
            user_regs_struct.rip(regs, user_regs_struct.rip(regs) - SYSCALL_INSN);
        } else if (rax == -ERESTART_RESTARTBLOCK) {
            user_regs_struct.rax(regs, sameTask ? SYS_restart_syscall : origRax);
            user_regs_struct.rip(regs, user_regs_struct.rip(regs) - SYSCALL_INSN);
        }
        user_regs_struct.orig_rax(regs, -1);
    }
}
