package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.clone_args;
import io.hotclone.process.RobustList;
import io.hotclone.process.RseqState;
import io.hotclone.process.proc.PidNamespace;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Errno.EEXIST;
import static io.hotclone.bindings.linux.Prctl.PR_GET_TID_ADDRESS;
import static io.hotclone.bindings.linux.Sched.CLONE_FILES;
import static io.hotclone.bindings.linux.Sched.CLONE_FS;
import static io.hotclone.bindings.linux.Sched.CLONE_SIGHAND;
import static io.hotclone.bindings.linux.Sched.CLONE_SYSVSEM;
import static io.hotclone.bindings.linux.Sched.CLONE_THREAD;
import static io.hotclone.bindings.linux.Sched.CLONE_VM;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_clone3;
import static io.hotclone.bindings.linux.Prctl.PR_SET_NAME;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_prctl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rseq;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_set_robust_list;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_set_tid_address;

/**
 * One thread at the barrier.
 *
 * @param tid           thread id on the capturing node (the one an operator sees there)
 * @param registers     struct user_regs_struct as PTRACE_GETREGS returns it (fs_base, gs_base included)
 * @param xstate        the NT_X86_XSTATE regset (FPU, SSE, AVX ...), {@link ImageHeader#xstateSize()} bytes
 * @param blockedMask   the blocked signal mask
 * @param pending       thread-directed pending signals, each a 128-byte siginfo_t
 * @param altstack      the alternate signal stack
 * @param rseq          the rseq registration, or null when the thread has none
 * @param vtid          the id the program knows the thread by, in its own pid namespace (a restore
 *                      gives it the same); 0 in records of a hotclone that did not save it
 * @param name          the thread's name (prctl(PR_SET_NAME)); null when not saved
 * @param clearChildTid where the kernel writes 0 and wakes a futex when the thread ends
 *                      (set_tid_address(2): how pthread_join learns of it)
 * @param robustList    the robust futex list, or null when the thread has none
 */
@Tag(value = 3, version = 2, name = "thread")
public record ThreadState(int tid, byte[] registers, byte[] xstate, long blockedMask,
                          List<byte[]> pending, SigaltstackState altstack, RseqState rseq,
                          @Since(2) int vtid, @Since(2) String name, @Since(2) long clearChildTid,
                          @Since(2) RobustList robustList) implements ImageRecord {

    /**
     * The state of frozen threads of the process {@code proc} shows, each taken over by one of
     * {@code threads} (whose saved registers and mask are the thread's, each with a scratch of
     * its own, {@link RemoteSyscalls#SLOT_SIZE} bytes at least); their injected calls are made
     * at once ({@link RemoteSyscalls#callEach}).
     *
     * @param xstates each thread's xstate, read before any injected call
     */
    public static List<ThreadState> dumpAll(ProcFs proc, List<RemoteSyscalls> threads, List<byte[]> xstates) {
        RemoteSyscalls.checkEach(threads, "prctl(PR_GET_TID_ADDRESS)", SYS_prctl,
                r -> new long[] {PR_GET_TID_ADDRESS, r.scratch()});
        long[] clearChildTids = new long[threads.size()];
        try (Arena local = Arena.ofConfined()) {
            MemorySegment word = local.allocate(ValueLayout.JAVA_LONG);
            for (int i = 0; i < clearChildTids.length; i++) {
                threads.get(i).memory().read(threads.get(i).scratch(), word);
                clearChildTids[i] = word.get(ValueLayout.JAVA_LONG, 0);
            }
        }
        List<SigaltstackState> altstacks = SigaltstackState.dumpAll(threads);
        List<ThreadState> states = new ArrayList<>();
        try (PidNamespace namespace = PidNamespace.of(proc)) {
            for (int i = 0; i < threads.size(); i++) {
                RemoteSyscalls remote = threads.get(i);
                Tracee tracee = remote.tracee();
                int tid = tracee.tid();
                states.add(new ThreadState(tid, remote.savedRegisters().toArray(ValueLayout.JAVA_BYTE), xstates.get(i),
                        remote.savedSigmask(), tracee.pendingSignals(false), altstacks.get(i), tracee.rseq(),
                        namespace.idOf(tid), proc.threadName(tid), clearChildTids[i], tracee.robustList()));
            }
        }
        return states;
    }

    /** The id the program knows the thread by (its capturing node's id in records that did not save it). */
    public int programTid() {
        return vtid != 0 ? vtid : tid;
    }

    /**
     * Makes this thread anew, with the id the program knows it by, in the process whose thread
     * {@code leader} runs in (clone3 with set_tid, the flags pthread_create uses): the new
     * thread, attached to the leader's tracer (traced with PTRACE_O_TRACECLONE), is stopped
     * before its first instruction; it takes its registers when restored.
     */
    public Tracee recreate(RemoteSyscalls leader) {
        int id = programTid();
        try (Arena local = Arena.ofConfined()) {
            MemorySegment ids = local.allocate(ValueLayout.JAVA_INT);
            ids.set(ValueLayout.JAVA_INT, 0, id);
            MemorySegment args = clone_args.allocate(local);
            clone_args.flags(args, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM);
            clone_args.set_tid(args, leader.put(clone_args.sizeof(), ids));
            clone_args.set_tid_size(args, 1);
            long at = leader.put(0, args);
            int tid;
            try {
                tid = leader.callCloning("clone3(set_tid=" + id + ")", SYS_clone3, at, clone_args.sizeof());
            } catch (SyscallException e) {
                if (e.errno() == EEXIST) {
                    throw new HotcloneException("cannot recreate thread " + id + " (" + name + "): its id is taken in"
                            + " the pid namespace the program is restored into; restore it where its ids are free", e);
                }
                throw e;
            }
            Tracee thread = Tracee.autoAttached(tid);
            thread.awaitInterruptStop();
            return thread;
        }
    }

    /**
     * Installs the name, the clear-child-tid address, the robust list, the alternate stack, the
     * rseq registration and the pending signals in the thread {@code remote} runs in, known to
     * the program as thread {@code tid} of process {@code pid}; its registers, mask and xstate go
     * in last, as the tracer lets it go.
     */
    public void restore(RemoteSyscalls remote, int pid, int tid) {
        if (name != null) {
            remote.check("prctl(PR_SET_NAME, " + name + ")", SYS_prctl, PR_SET_NAME, remote.putString(0, name));
        }
        remote.call(SYS_set_tid_address, clearChildTid); // returns the caller's tid: it cannot fail
        if (robustList != null) {
            remote.check("set_robust_list(0x" + Long.toHexString(robustList.head()) + ")", SYS_set_robust_list,
                    robustList.head(), robustList.length());
        }
        altstack.restore(remote);
        if (rseq != null) {
            remote.check("rseq(0x" + Long.toHexString(rseq.address()) + ")", SYS_rseq, rseq.address(),
                    rseq.length(), 0, rseq.signature() & 0xffffffffL);
        }
        PendingSignals.restoreThread(remote, pid, tid, pending);
    }
}
