package io.hotclone.restore;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.hc_kernel_sigaction;
import io.hotclone.bindings.linux.rlimit;
import io.hotclone.bindings.linux.stack_t;
import io.hotclone.kinds.fd.FdKind;
import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.launch.HeldStart;
import io.hotclone.process.launch.Spawn;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.RlimitState;
import io.hotclone.image.SigactionState;
import io.hotclone.image.SigaltstackState;
import io.hotclone.image.ThreadState;
import io.hotclone.journal.CheckpointImage;
import io.hotclone.journal.Journal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static io.hotclone.bindings.linux.Signal.SS_DISABLE;
import static io.hotclone.bindings.linux.Signal.SS_ONSTACK;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_chdir;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_personality;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rseq;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rt_sigaction;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rt_sigqueueinfo;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rt_tgsigqueueinfo;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_sigaltstack;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_umask;
import static java.lang.foreign.MemorySegment.NULL;

/**
 * A process being built from an image, in two steps: {@link #start} and {@link #fill} give it
 * the image's address space and memory (it stays stopped, every area writable, and can take
 * the pages of later checkpoints with the same mappings), {@link #finish} installs the rest
 * (protections, mm fields, files, signal state, limits, registers) and lets it run.
 *
 * <p>Thread confinement: the thread that started it makes every call (it is the tracer).
 */
final class ProcessBuild {
    private final Tracee tracee;
    private final RemoteSyscalls remote;
    private final AddressSpace space;
    private final ProcFs proc;

    private ProcessBuild(Tracee tracee, RemoteSyscalls remote, ProcFs proc) {
        this.tracee = tracee;
        this.remote = remote;
        this.space = new AddressSpace(remote);
        this.proc = proc;
    }

    /**
     * Starts the host process (the program's own executable, held at the end of its exec) and
     * gives it the image's mappings, empty.
     */
    static ProcessBuild start(CheckpointImage image, HeldStart.Lifetime lifetime) {
        Tracee tracee = HeldStart.start(List.of(image.process().exe()), List.of(),
                image.process().sessionLeader() ? Spawn.Group.OWN_SESSION : Spawn.Group.INHERIT, lifetime);
        int pid = tracee.tid();
        RemoteSyscalls remote = null;
        try {
            checkXstate(tracee, image.header());
            ProcFs proc = new ProcFs(pid);
            List<MapsEntry> now = proc.maps();
            long scratch = AddressSpace.freeRange(now, image.areas(), RemoteSyscalls.SCRATCH_SIZE);
            remote = RemoteSyscalls.infect(tracee, now, scratch);
            ProcessBuild build = new ProcessBuild(tracee, remote, proc);
            build.space.clear(now);
            List<MapsEntry> kept = proc.maps();
            build.space.moveVdso(kept, image.areas(), AddressSpace.freeRange(kept, image.areas(), 64L << 20));
            build.space.map(image.areas());
            return build;
        } catch (RuntimeException e) {
            if (remote != null) {
                remote.close();
            }
            tracee.close();
            HeldStart.kill(pid);
            throw e;
        }
    }

    int pid() {
        return tracee.tid();
    }

    /** Whether any of {@code areas} lies on the scratch area hotclone's injected calls use. */
    boolean onScratch(List<MemoryArea> areas) {
        long from = remote.scratch();
        long to = from + RemoteSyscalls.SCRATCH_SIZE;
        return areas.stream().anyMatch(a -> Long.compareUnsigned(a.start(), to) < 0 && Long.compareUnsigned(from, a.end()) < 0);
    }

    /** Brings the mappings from {@code had} to {@code now} (see {@link AddressSpace#reconcile}). */
    void reconcile(List<MemoryArea> had, List<MemoryArea> now) {
        space.reconcile(had, now);
    }

    /** Writes the pages of the checkpoints of {@code chain}, oldest first, into {@code areas}. */
    void fill(Journal journal, List<Long> chain, List<MemoryArea> areas) {
        space.fill(journal, chain, areas);
    }

    /** Installs everything but the memory and lets the process run; returns its pid. */
    int finish(CheckpointImage image) {
        ProcessState process = image.process();
        ThreadState thread = image.threads().getFirst();
        int pid = pid();
        space.protect(image.areas());
        space.setMm(process.mm(), process.auxv());
        FdKind.restoreAll(remote, proc.fds(), image.fds());
        restoreProcess(remote, pid, process);
        restoreThread(remote, pid, thread);
        remote.cure(MemorySegment.ofArray(thread.registers()), thread.blockedMask(), false);
        remote.close();
        tracee.setXstate(thread.xstate());
        tracee.detach(0);
        tracee.close();
        return pid;
    }

    /** Kills the half-built process. */
    void kill() {
        int pid = pid();
        try {
            remote.close();
        } catch (RuntimeException ignored) {
            // it is killed below whatever state its registers are in
        }
        tracee.close();
        HeldStart.kill(pid);
    }

    private static void checkXstate(Tracee tracee, ImageHeader h) {
        int here = tracee.xstate().length;
        if (here != h.xstateSize()) {
            throw new HotcloneException("checkpoint " + h.seq() + " holds " + h.xstateSize()
                    + "-byte xsave state but this CPU uses " + here + " bytes: restore it on a node with the same"
                    + " CPU features");
        }
    }

    private static void restoreProcess(RemoteSyscalls remote, int pid, ProcessState p) {
        if (!p.root().equals("/")) {
            throw new HotcloneException("the program ran chrooted in " + p.root() + ", which hotclone cannot restore yet");
        }
        remote.check("chdir(" + p.cwd() + ")", SYS_chdir, remote.putString(0, p.cwd()));
        remote.check("umask", SYS_umask, p.umask());
        remote.check("personality", SYS_personality, p.personality() & 0xffffffffL);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment act = hc_kernel_sigaction.allocate(arena);
            for (SigactionState s : p.sigactions()) {
                hc_kernel_sigaction.handler(act, s.handler());
                hc_kernel_sigaction.flags(act, s.flags());
                hc_kernel_sigaction.restorer(act, s.restorer());
                hc_kernel_sigaction.mask(act, s.mask());
                remote.check("rt_sigaction(" + s.signal() + ")", SYS_rt_sigaction, s.signal(), remote.put(0, act), 0, 8);
            }
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            MemorySegment limit = rlimit.allocate(arena);
            for (RlimitState r : p.rlimits()) {
                rlimit.rlim_cur(limit, r.soft());
                rlimit.rlim_max(limit, r.hard());
                if (Libc.prlimit(callState, pid, r.resource(), limit, NULL) != 0) {
                    throw new SyscallException("prlimit(pid=" + pid + ", resource=" + r.resource() + ", soft="
                            + r.soft() + ", hard=" + r.hard() + ")", Libc.errno(callState));
                }
            }
        }
        for (byte[] info : p.sharedPending()) {
            remote.check("rt_sigqueueinfo", SYS_rt_sigqueueinfo, pid, signalOf(info), remote.put(0, MemorySegment.ofArray(info)));
        }
    }

    private static void restoreThread(RemoteSyscalls remote, int pid, ThreadState t) {
        SigaltstackState ss = t.altstack();
        if ((ss.flags() & SS_DISABLE) == 0) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment stack = stack_t.allocate(arena);
                stack_t.ss_sp(stack, MemorySegment.ofAddress(ss.sp()));
                stack_t.ss_flags(stack, ss.flags() & ~SS_ONSTACK);
                stack_t.ss_size(stack, ss.size());
                remote.check("sigaltstack", SYS_sigaltstack, remote.put(0, stack), 0);
            }
        }
        if (t.rseq() != null) {
            remote.check("rseq(0x" + Long.toHexString(t.rseq().address()) + ")", SYS_rseq, t.rseq().address(),
                    t.rseq().length(), 0, t.rseq().signature() & 0xffffffffL);
        }
        for (byte[] info : t.pending()) {
            remote.check("rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo, pid, pid, signalOf(info),
                    remote.put(0, MemorySegment.ofArray(info)));
        }
    }

    private static int signalOf(byte[] siginfo) {
        return ByteBuffer.wrap(siginfo).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    }
}
