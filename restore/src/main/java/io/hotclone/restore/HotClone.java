package io.hotclone.restore;

import io.hotclone.vid.VidTable;
import java.util.Map;
import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.launch.HeldStart;
import io.hotclone.image.AddressSpace;
import io.hotclone.image.CheckpointKind;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.journal.CheckpointImage;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.Journal;

import java.util.List;
import java.util.stream.Collectors;
import io.hotclone.image.ProcessImage;

/**
 * The hot clone of a standby: a process that already holds the address space and memory of the
 * replica's last committed checkpoint, stopped, so that a switch only installs the rest of the
 * image and lets it run (the RESTORE phase is done before the primary fails).
 *
 * <p>Each new checkpoint is reconciled with the clone: an incremental one that builds on the
 * clone's brings its mapping changes (areas unmapped, mapped, grown, shrunk, protected otherwise)
 * and its pages; anything else (a full checkpoint, a gap in the chain, a vDSO that moved) builds
 * the clone anew from the journal, as a cold restore would.
 *
 * <p>The clone dies with this hotclone ({@link HeldStart.Lifetime#TIED}), and so does the
 * program it resumes as.
 *
 * <p>Thread confinement: one thread makes every call (it is the clone's tracer, and its
 * parent: it must live as long as the program's protection).
 */
public final class HotClone implements AutoCloseable {
    private ProgramBuild build;
    private CheckpointImage image;
    private long builds;

    /** The checkpoint the clone holds, or -1 if it holds none. */
    public long seq() {
        return image == null ? -1 : image.header().seq();
    }

    /** The vid table of the clone: each process's real pid behind the program's; empty while it holds nothing. */
    public VidTable vids() {
        return build == null ? VidTable.EMPTY : VidTable.of(build.pids());
    }

    /** How many times the clone was built from scratch; every other update brought only pages. */
    public long builds() {
        return builds;
    }

    /**
     * Brings the clone to committed checkpoint {@code seq} of {@code journal}: the pages of each
     * checkpoint after the clone's, or a new build.
     *
     * @throws HotcloneException if the clone cannot be built; it then holds nothing
     */
    public void update(Journal journal, long seq) {
        List<CheckpointSummary> newer = journal.checkpoints().stream()
                .filter(c -> c.seq() > seq() && c.seq() <= seq).toList();
        for (CheckpointSummary c : newer) {
            CheckpointImage next = journal.read(c.seq());
            if (!continues(next)) {
                rebuild(journal, journal.read(seq));
                return;
            }
            try {
                build.reconcile(image, next);
                build.fill(journal, List.of(c.seq()), next);
            } catch (RuntimeException e) {
                discard();
                throw Restorer.failure(next, RestorePhase.RESTORE, e);
            }
            image = next;
        }
    }

    /**
     * The SWITCH: installs the rest of the clone's checkpoint and lets the program run.
     *
     * @return the running program; the clone is empty afterwards
     */
    public Restorer.Result resume() {
        if (build == null) {
            throw new IllegalStateException("the hot clone holds no checkpoint to resume");
        }
        long begin = System.nanoTime();
        CheckpointImage resumed = image;
        try {
            int pid = build.finish(resumed);
            build = null;
            image = null;
            return new Restorer.Result(pid, resumed.header().seq(), resumed.commit().pages(),
                    (System.nanoTime() - begin) / 1000);
        } catch (RuntimeException e) {
            discard();
            throw Restorer.failure(resumed, RestorePhase.POST_RESTORE, e);
        }
    }

    /**
     * Whether checkpoint {@code next} builds on the clone's, with the same processes, their
     * special areas where they were and no area where the clone keeps a scratch.
     */
    private boolean continues(CheckpointImage next) {
        ImageHeader h = next.header();
        return build != null && h.kind() == CheckpointKind.INCREMENTAL && h.baseSeq() == seq()
                && build.holdsTheProcessesOf(next) && specials(image).equals(specials(next)) && !build.onScratch(next);
    }

    /** The kernel's areas of each process, by the pid the program knows it by. */
    private static Map<Integer, List<MemoryArea>> specials(CheckpointImage image) {
        return image.processes().stream().collect(Collectors.toMap(ProcessImage::vpid, p -> specials(p.areas())));
    }

    private static List<MemoryArea> specials(List<MemoryArea> areas) {
        return areas.stream().filter(a -> AddressSpace.special(a.path())).map(a -> a.since(0)).toList();
    }

    private void rebuild(Journal journal, CheckpointImage target) {
        discard();
        Restorer.check(target);
        ProgramBuild fresh = ProgramBuild.start(target, HeldStart.Lifetime.TIED);
        try {
            fresh.fill(journal, Restorer.chain(journal, target.header()), target);
        } catch (RuntimeException e) {
            fresh.kill();
            throw Restorer.failure(target, RestorePhase.RESTORE, e);
        }
        build = fresh;
        image = target;
        builds++;
    }

    /** Kills the clone's process, if any: the next update builds a new one. */
    public void discard() {
        if (build != null) {
            build.kill();
            build = null;
            image = null;
        }
    }

    @Override
    public void close() {
        discard();
    }
}
