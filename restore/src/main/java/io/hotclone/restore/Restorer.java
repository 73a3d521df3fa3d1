package io.hotclone.restore;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.hc_kernel_sigaction;
import io.hotclone.bindings.linux.rlimit;
import io.hotclone.bindings.linux.stack_t;
import io.hotclone.capture.Host;
import io.hotclone.capture.fd.FdKind;
import io.hotclone.capture.memory.FileIdentities;
import io.hotclone.capture.proc.MapsEntry;
import io.hotclone.capture.proc.ProcFs;
import io.hotclone.capture.ptrace.RemoteSyscalls;
import io.hotclone.capture.ptrace.Tracee;
import io.hotclone.image.AreaKind;
import io.hotclone.image.CheckpointKind;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.RlimitState;
import io.hotclone.image.SigactionState;
import io.hotclone.image.SigaltstackState;
import io.hotclone.image.ThreadState;
import io.hotclone.journal.CheckpointImage;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.Journal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
 * Builds a running process from a committed checkpoint: the RESTORE automaton
 * ({@link RestorePhase}).
 *
 * <p>Thread confinement: runs on the calling platform thread, the new process's tracer until
 * it is let go.
 */
public final class Restorer {
    /** What a restore produced. */
    public record Result(int pid, long seq, long pages, long durationMicros) {
    }

    private final Journal journal;
    private final long seq;
    private RestorePhase phase;

    /** @param seq the checkpoint to restore, or -1 for the latest committed one */
    public Restorer(Journal journal, long seq) {
        this.journal = journal;
        this.seq = seq;
    }

    public RestorePhase phase() {
        return phase;
    }

    public Result restore() {
        long begin = System.nanoTime();
        phase = RestorePhase.PRE_RESTORE;
        CheckpointImage image = seq < 0 ? journal.latest() : journal.read(seq);
        ProcessState process = image.process();
        if (image.threads().size() != 1) {
            throw new HotcloneException("checkpoint " + image.header().seq() + " has " + image.threads().size()
                    + " threads; this version of hotclone restores single-threaded programs only");
        }
        ThreadState thread = image.threads().getFirst();
        checkCompatible(image.header());
        checkFiles(image);
        Tracee tracee = HostProcess.start(process.exe(), process.sessionLeader());
        int pid = tracee.tid();
        try {
            phase = RestorePhase.RESTORE;
            checkXstate(tracee, image.header());
            ProcFs proc = new ProcFs(pid);
            List<MapsEntry> now = proc.maps();
            long scratch = AddressSpace.freeRange(now, image.areas(), RemoteSyscalls.SCRATCH_SIZE);
            try (RemoteSyscalls remote = RemoteSyscalls.infect(tracee, now, scratch)) {
                AddressSpace space = new AddressSpace(remote);
                space.clear(now);
                List<MapsEntry> kept = proc.maps();
                space.moveVdso(kept, image.areas(), AddressSpace.freeRange(kept, image.areas(), 64L << 20));
                space.map(image.areas());
                space.fill(journal, chain(image.header()), image.areas());
                space.protect(image.areas());
                space.setMm(process.mm(), process.auxv());
                FdKind.restoreAll(remote, proc.fds(), image.fds());
                restoreProcess(remote, pid, process);
                restoreThread(remote, pid, thread);
                phase = RestorePhase.POST_RESTORE;
                remote.cure(MemorySegment.ofArray(thread.registers()), thread.blockedMask(), false);
            }
            tracee.setXstate(thread.xstate());
            tracee.detach(0);
            tracee.close();
            return new Result(pid, image.header().seq(), image.commit().pages(), (System.nanoTime() - begin) / 1000);
        } catch (RuntimeException e) {
            RestorePhase failed = phase;
            phase = RestorePhase.ABORT_RESTORE;
            tracee.close();
            HostProcess.kill(pid);
            if (e instanceof HotcloneException) {
                throw new HotcloneException("restore of checkpoint " + image.header().seq() + " failed in " + failed
                        + ": " + e.getMessage(), e);
            }
            throw new HotcloneException("restore of checkpoint " + image.header().seq() + " failed in " + failed
                    + ": " + e, e);
        }
    }

    /** The checkpoints whose pages make up {@code h}'s: its full base first, {@code h} last. */
    private List<Long> chain(ImageHeader h) {
        Map<Long, CheckpointSummary> bySeq = new HashMap<>();
        journal.checkpoints().forEach(c -> bySeq.put(c.seq(), c));
        Deque<Long> chain = new ArrayDeque<>();
        for (long seq = h.seq(); seq != -1; ) {
            CheckpointSummary c = bySeq.get(seq);
            if (c == null) {
                throw new HotcloneException("checkpoint " + h.seq() + " builds on checkpoint " + seq
                        + ", which is not committed in the journal: restore an older checkpoint");
            }
            chain.addFirst(seq);
            seq = c.kind() == CheckpointKind.FULL ? -1 : c.baseSeq();
        }
        return List.copyOf(chain);
    }

    private static void checkCompatible(ImageHeader h) {
        if (h.formatVersion() != Journal.FORMAT_VERSION) {
            throw new HotcloneException("checkpoint " + h.seq() + " has journal format " + h.formatVersion()
                    + " but this hotclone reads format " + Journal.FORMAT_VERSION);
        }
        if (!h.machine().equals(Host.MACHINE) || h.pageSize() != Host.PAGE_SIZE) {
            throw new HotcloneException("checkpoint " + h.seq() + " is of a " + h.machine() + " machine with "
                    + h.pageSize() + "-byte pages; this node is " + Host.MACHINE + " with " + Host.PAGE_SIZE);
        }
        String kernel = Host.kernelRelease();
        if (!h.kernelRelease().equals(kernel)) {
            throw new HotcloneException("checkpoint " + h.seq() + " was captured on kernel " + h.kernelRelease()
                    + " and this node runs " + kernel + ": the program's vDSO would differ; restore it on a node"
                    + " running the same kernel");
        }
    }

    private static void checkXstate(Tracee tracee, ImageHeader h) {
        int here = tracee.xstate().length;
        if (here != h.xstateSize()) {
            throw new HotcloneException("checkpoint " + h.seq() + " holds " + h.xstateSize()
                    + "-byte xsave state but this CPU uses " + here + " bytes: restore it on a node with the same"
                    + " CPU features");
        }
    }

    /** Every file the image maps must be the one it mapped. */
    private static void checkFiles(CheckpointImage image) {
        String why = FileIdentities.difference(image.process().exeIdentity(),
                FileIdentities.of(Path.of(image.process().exe())));
        if (why != null) {
            throw new HotcloneException("cannot restore: the executable " + image.process().exe() + " changed: " + why);
        }
        for (MemoryArea a : image.areas()) {
            if (a.kind() == AreaKind.FILE) {
                why = FileIdentities.difference(a.file(), FileIdentities.of(Path.of(a.path())));
                if (why != null) {
                    throw new HotcloneException("cannot restore: " + a.path() + ", mapped at 0x"
                            + Long.toHexString(a.start()) + ", changed: " + why);
                }
            }
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
