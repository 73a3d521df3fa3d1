package io.hotclone.restore;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.launch.HeldStart;
import io.hotclone.process.launch.Spawn;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.image.AddressSpace;
import io.hotclone.image.FdState;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;
import io.hotclone.journal.CheckpointImage;
import io.hotclone.journal.Journal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACECLONE;
import static io.hotclone.bindings.linux.Signal.SIGKILL;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_getpid;

/**
 * A process being built from an image, in two steps: {@link #start} and {@link #fill} give it
 * the image's address space and memory (it stays stopped, every area writable, and can take
 * the pages of later checkpoints with the same mappings), {@link #finish} installs the rest
 * (protections, mm fields, files, signal state, limits, registers) and lets it run.
 *
 * <p>Thread confinement: the thread that started it makes every call (it is the tracer).
 */
final class ProcessBuild {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessBuild.class);
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
        // A program checkpointed as pid 1 of namespaces of its own gets them again, where its ids are free.
        int leader = image.threads().getFirst().programTid();
        HeldStart.Placement placement = leader == 1 ? new HeldStart.OwnNamespaces()
                : new HeldStart.SharedNamespaces(leader);
        Tracee tracee = HeldStart.start(List.of(image.process().exe()), List.of(),
                group(image.process()), lifetime, placement);
        int pid = tracee.tid();
        if (leader != 1 && pid != leader) {
            LOG.warn("pid {} is taken on this node: the program is restored as pid {}, and an id it holds of itself is"
                    + " wrong (a program that hotclone runs has namespaces of its own, where its ids are free)", leader, pid);
        }
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

    /** The session and process group the program led, if any: it leads them again. */
    private static Spawn.Group group(ProcessState process) {
        return process.sessionLeader() ? Spawn.Group.OWN_SESSION
                : process.groupLeader() ? Spawn.Group.OWN_GROUP : Spawn.Group.INHERIT;
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

    /**
     * Copies the pages of every checkpoint of {@code chain} (oldest first, so newer pages win)
     * into place. A page goes only into an area whose contents count from that checkpoint on
     * ({@link MemoryArea#sinceSeq()}): older pages at its addresses belonged to another mapping.
     */
    void fill(Journal journal, List<Long> chain, List<MemoryArea> areas) {
        NavigableMap<Long, MemoryArea> byStart = new TreeMap<>(Long::compareUnsigned);
        areas.stream().filter(MemoryArea::hasContents).forEach(a -> byStart.put(a.start(), a));
        for (long seq : chain) {
            journal.pages(seq, (address, contents) -> {
                long end = address + contents.byteSize();
                for (long at = address; Long.compareUnsigned(at, end) < 0; ) {
                    Map.Entry<Long, MemoryArea> e = byStart.floorEntry(at);
                    if (e == null || !e.getValue().contains(at)) {
                        Long next = byStart.higherKey(at);
                        at = next == null || Long.compareUnsigned(next, end) > 0 ? end : next;
                        continue;
                    }
                    MemoryArea area = e.getValue();
                    long stop = Long.compareUnsigned(area.end(), end) < 0 ? area.end() : end;
                    if (area.sinceSeq() <= seq) {
                        remote.memory().write(at, contents.asSlice(at - address, stop - at));
                    }
                    at = stop;
                }
            });
        }
    }


    /**
     * Installs everything but the memory, makes the image's other threads with their ids, and
     * lets every thread run; returns the pid.
     */
    int finish(CheckpointImage image) {
        ProcessState process = image.process();
        ThreadState leader = image.threads().getFirst();
        int pid = pid();
        space.protect(image.areas());
        process.mm().restore(remote, process.auxv());
        FdState.restoreAll(remote, proc.fds(), image.fds());
        process.restore(remote, pid);
        // The ids the program's own pid namespace gives it, which its injected calls name.
        int self = (int) remote.check("getpid", SYS_getpid);
        List<ThreadState> others = image.threads().subList(1, image.threads().size());
        List<Tracee> made = new ArrayList<>();
        try {
            tracee.setOptions(HeldStart.OPTIONS | PTRACE_O_TRACECLONE);
            for (ThreadState t : others) {
                made.add(t.recreate(remote));
            }
            for (int i = 0; i < others.size(); i++) {
                ThreadState t = others.get(i);
                try (RemoteSyscalls thread = remote.sibling(made.get(i))) {
                    t.restore(thread, self, t.programTid());
                    install(thread, t);
                }
            }
            leader.restore(remote, self, self);
            install(remote, leader);
            remote.close();
            for (Tracee t : made) {
                t.detach(0);
                t.close();
            }
            tracee.detach(0);
            tracee.close();
            return pid;
        } catch (RuntimeException e) {
            Spawn.kill(pid, SIGKILL); // before its half-made threads are let go
            made.forEach(Tracee::close);
            throw e;
        }
    }

    /** The thread's registers, signal mask and xstate, last: {@code remote}'s calls are done. */
    private static void install(RemoteSyscalls remote, ThreadState thread) {
        remote.cure(MemorySegment.ofArray(thread.registers()), thread.blockedMask(), false);
        remote.tracee().setXstate(thread.xstate());
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
}
