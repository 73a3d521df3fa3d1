package io.hotclone.restore;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.linux.hc_kernel_sigaction;
import io.hotclone.bindings.linux.stack_t;
import io.hotclone.process.Host;
import io.hotclone.process.launch.HeldStart;
import io.hotclone.process.FileIdentities;
import io.hotclone.image.AreaKind;
import io.hotclone.image.CheckpointKind;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessImage;
import io.hotclone.journal.CheckpointImage;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.Journal;
import io.hotclone.journal.JournalFormat;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;


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
    private final HeldStart.Lifetime lifetime;
    private RestorePhase phase;

    /**
     * @param seq      the checkpoint to restore, or -1 for the latest committed one
     * @param lifetime whether the restored program dies with this hotclone (then restore from a
     *                 thread that lives as long as the program's protection: see {@link HeldStart})
     */
    public Restorer(Journal journal, long seq, HeldStart.Lifetime lifetime) {
        this.journal = journal;
        this.seq = seq;
        this.lifetime = lifetime;
    }

    public RestorePhase phase() {
        return phase;
    }

    public Result restore() {
        long begin = System.nanoTime();
        phase = RestorePhase.PRE_RESTORE;
        CheckpointImage image = seq < 0 ? journal.latest() : journal.read(seq);
        check(image);
        ProgramBuild build = ProgramBuild.start(image, lifetime);
        try {
            phase = RestorePhase.RESTORE;
            build.fill(journal, chain(journal, image.header()), image);
            phase = RestorePhase.POST_RESTORE;
            int pid = build.finish(image);
            return new Result(pid, image.header().seq(), image.commit().pages(), (System.nanoTime() - begin) / 1000);
        } catch (RuntimeException e) {
            RestorePhase failed = phase;
            phase = RestorePhase.ABORT_RESTORE;
            build.kill();
            throw failure(image, failed, e);
        }
    }

    /** Why the restore of {@code image} failed in {@code phase}, as the operator reads it. */
    static HotcloneException failure(CheckpointImage image, RestorePhase phase, RuntimeException e) {
        return new HotcloneException("restore of checkpoint " + image.header().seq() + " failed in " + phase + ": "
                + (e instanceof HotcloneException ? e.getMessage() : e.toString()), e);
    }

    /** PRE_RESTORE: refuses an image this node cannot restore, before any process exists. */
    static void check(CheckpointImage image) {
        if (image.processes().isEmpty() || image.processes().stream().anyMatch(p -> p.threads().isEmpty())) {
            throw new HotcloneException("checkpoint " + image.header().seq() + " holds a process without a thread, or"
                    + " none: its journal is damaged; restore another checkpoint");
        }
        checkCompatible(image.header());
        checkFiles(image);
    }

    /** The checkpoints whose pages make up {@code h}'s: its full base first, {@code h} last. */
    static List<Long> chain(Journal journal, ImageHeader h) {
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
        if (h.formatVersion() != JournalFormat.FORMAT_VERSION) {
            throw new HotcloneException("checkpoint " + h.seq() + " has journal format " + h.formatVersion()
                    + " but this hotclone reads format " + JournalFormat.FORMAT_VERSION);
        }
        if (!h.machine().equals(Host.MACHINE) || h.pageSize() != Host.PAGE_SIZE) {
            throw new HotcloneException("checkpoint " + h.seq() + " is of a " + h.machine() + " machine with "
                    + h.pageSize() + "-byte pages; this node is " + Host.MACHINE + " with " + Host.PAGE_SIZE);
        }
        String kernel = Host.KERNEL_RELEASE;
        if (!h.kernelRelease().equals(kernel)) {
            throw new HotcloneException("checkpoint " + h.seq() + " was captured on kernel " + h.kernelRelease()
                    + " and this node runs " + kernel + ": the program's vDSO would differ; restore it on a node"
                    + " running the same kernel");
        }
    }

    /** Every file the image maps must be the one it mapped. */
    private static void checkFiles(CheckpointImage image) {
        for (ProcessImage p : image.processes()) {
            checkFiles(p);
        }
    }

    private static void checkFiles(ProcessImage image) {
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
}
