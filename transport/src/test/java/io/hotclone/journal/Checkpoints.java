package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;
import io.hotclone.image.FdState;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessImage;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sample checkpoints written to a journal, and the comparison of two journals' checkpoints, for
 *  tests of this package and of the packages that ship journals. */
public final class Checkpoints {
    public static final int PAGE = Images.PAGE;
    static final long AREA_START = 0x7f3a_0000_0000L;

    private Checkpoints() {
    }

    /** Writes a full (base -1) or incremental checkpoint with every record type and the given page runs. */
    public static CheckpointImage write(Journal journal, CheckpointKind kind, long baseSeq, long epoch,
                                        List<MemorySegment> runs) {
        CheckpointImage image = image(journal.nextSeq(), kind, baseSeq, epoch,
                runs.stream().mapToLong(MemorySegment::byteSize).sum());
        begin(journal, kind, baseSeq, epoch, runs).commit(image.commit());
        return image;
    }

    /** Writes every record of a checkpoint but its commit, and returns its open writer. */
    public static CheckpointWriter begin(Journal journal, CheckpointKind kind, long baseSeq, long epoch,
                                         List<MemorySegment> runs) {
        long seq = journal.nextSeq();
        CheckpointImage image = image(seq, kind, baseSeq, epoch, runs.stream().mapToLong(MemorySegment::byteSize).sum());
        CheckpointWriter w = journal.begin(image.header());
        w.process(image.process());
        image.threads().forEach(w::thread);
        image.areas().forEach(w::area);
        // Runs that fit one record together go in one, as a capture's scattered pages do; longer ones alone.
        long address = AREA_START;
        List<MemorySegment> batch = new ArrayList<>();
        for (MemorySegment run : runs) {
            if (run.byteSize() > JournalFormat.MAX_RUN_BYTES / 4) {
                address = flush(w, address, batch);
                w.pages(address, run);
                address += run.byteSize();
            } else {
                batch.add(run);
            }
        }
        flush(w, address, batch);
        image.fds().forEach(w::fd);
        image.processes().getFirst().zombies().forEach(w::zombie);
        image.processes().getFirst().ipc().forEach(w::ipc);
        return w;
    }

    /** Writes {@code batch}, runs one after the other from {@code address}, as one PAGE_RUNS record; returns the end. */
    private static long flush(CheckpointWriter w, long address, List<MemorySegment> batch) {
        if (batch.isEmpty()) {
            return address;
        }
        long[] addresses = new long[batch.size()];
        long[] lengths = new long[batch.size()];
        long total = 0;
        for (int i = 0; i < batch.size(); i++) {
            addresses[i] = address + total;
            lengths[i] = batch.get(i).byteSize();
            total += lengths[i];
        }
        MemorySegment contents = java.lang.foreign.Arena.ofAuto().allocate(total, PAGE);
        long at = 0;
        for (MemorySegment run : batch) {
            MemorySegment.copy(run, 0, contents, at, run.byteSize());
            at += run.byteSize();
        }
        w.pages(addresses, lengths, batch.size(), contents);
        batch.clear();
        return address + total;
    }

    /** Writes the commit {@link #begin} left to write, for checkpoint {@code seq} of {@code pageBytes}. */
    public static void commit(CheckpointWriter w, long seq, long pageBytes) {
        w.commit(image(seq, CheckpointKind.FULL, -1, 1, pageBytes).commit());
    }

    static CheckpointImage image(long seq, CheckpointKind kind, long baseSeq, long epoch, long pageBytes) {
        List<MemoryArea> areas = List.of(Images.anonymous(AREA_START, Math.max(1, pageBytes / PAGE)), Images.fileArea());
        List<FdState> fds = List.of(Images.device(), Images.regularFile(), Images.inherited());
        return new CheckpointImage(Images.header(seq, epoch, kind, baseSeq), List.of(new ProcessImage(Images.process(),
                List.of(Images.thread(4242, true), Images.thread(4243, false)), areas, fds, List.of(Images.zombie()),
                Images.ipc())),
                Images.commit(seq, areas.size(), pageBytes, fds.size()));
    }

    /** A native segment of {@code length} pseudo-random bytes. */
    public static MemorySegment contents(java.lang.foreign.Arena arena, long seed, long length) {
        return Images.contents(arena, seed, length);
    }

    /**
     * Asserts that {@code replica} holds every committed checkpoint of {@code primary} from
     * {@code fromSeq} on, and nothing else committed: summaries, every metadata field and every
     * page byte alike; and that the replica verifies clean.
     */
    public static void assertReplica(Journal primary, Journal replica, long fromSeq) {
        List<CheckpointSummary> expected = primary.checkpointsAfter(fromSeq - 1);
        assertEquals(expected, replica.checkpoints(), "committed checkpoints of replica " + replica.dir());
        for (CheckpointSummary c : expected) {
            DeepEquals.assertDeepEquals(primary.read(c.seq()), replica.read(c.seq()));
            List<byte[]> want = runs(primary, c.seq());
            List<byte[]> got = runs(replica, c.seq());
            assertEquals(want.size(), got.size(), "page records of seq " + c.seq());
            for (int i = 0; i < want.size(); i++) {
                assertEquals(-1, MemorySegment.ofArray(want.get(i)).mismatch(MemorySegment.ofArray(got.get(i))),
                        "page record " + i + " of seq " + c.seq());
            }
        }
        VerifyReport report = replica.verify();
        assertTrue(report.clean(), "replica verifies clean: " + report.problems());
    }

    private static List<byte[]> runs(Journal journal, long seq) {
        List<byte[]> runs = new ArrayList<>();
        journal.pages(seq, (address, contents) -> runs.add(contents.toArray(ValueLayout.JAVA_BYTE)));
        return runs;
    }
}
