package io.hotclone.journal;

import io.hotclone.image.ImageRecord;
import io.hotclone.image.ProcessState;
import io.hotclone.journal.Envelope.BadRecord;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Reads committed checkpoints: their metadata, and their pages, every CRC checked. It seeks
 * straight to a checkpoint through the index. Thread-safe.
 */
final class CheckpointReader {
    private final Path dir;
    private final JournalIndex index;
    private final JournalFiles files;

    CheckpointReader(Path dir, JournalIndex index, JournalFiles files) {
        this.dir = dir;
        this.index = index;
        this.files = files;
    }

    /** The metadata of committed checkpoint {@code seq}, every CRC checked. */
    CheckpointImage read(long seq) {
        ImageAssembler image = new ImageAssembler();
        files.visit(index.entry(seq), r -> {
            RecordType type = checkEnvelope(seq, r);
            if (!type.carriesPages()) {
                checkCrc(seq, r, type);
                image.add(decode(seq, r, type));
            }
        });
        return image.image();
    }

    /**
     * Hands the page runs of committed checkpoint {@code seq} to {@code sink}: see {@link Journal#pages}.
     *
     * @param vpid only the runs of the process the program knows by this pid (those after its
     *             process record); 0: every run
     */
    void pages(long seq, int vpid, PageSink sink) {
        try (Arena buffers = Arena.ofConfined(); QueueFileIo io = QueueFileIo.forReading()) {
            MemorySegment buffer = buffers.allocate(JournalFormat.MAX_RUN_BYTES);
            int[] section = {0};
            files.visit(index.entry(seq), r -> {
                RecordType type = checkEnvelope(seq, r);
                if (vpid != 0 && type == RecordType.PROCESS) {
                    checkCrc(seq, r, type);
                    section[0] = ((ProcessState) decode(seq, r, type)).vpid();
                }
                // A process record that did not save its vpid is of a single-process checkpoint.
                if (type.carriesPages() && (vpid == 0 || section[0] == 0 || section[0] == vpid)) {
                    MemorySegment contents = buffer.asSlice(0, r.pageContents().byteSize());
                    readPages(seq, r, io, contents);
                    // The view dies with this arena, so a sink that keeps it fails cleanly instead
                    // of seeing the next run's bytes.
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment view = contents.reinterpret(arena, null).asReadOnly();
                        long at = 0;
                        for (int i = 0; i < r.runCount(); i++) {
                            sink.accept(r.runAddress(i), view.asSlice(at, r.runLength(i)));
                            at += r.runLength(i);
                        }
                    }
                }
            });
        }
    }

    private ImageRecord decode(long seq, Envelope.Stored r, RecordType type) {
        try {
            return ImageCodec.decode(type, r);
        } catch (RuntimeException e) {
            throw recordError(seq, r.index(), new BadRecord(type.label(), "cannot be decoded: " + e));
        }
    }

    /** Reads the contents of page record {@code r} into {@code contents} and checks its CRC. */
    private void readPages(long seq, Envelope.Stored r, QueueFileIo io, MemorySegment contents) {
        try {
            // Piece by piece, each added to the CRC while it is still in the CPU's cache.
            CRC32C crc = r.pageCrc();
            for (long done = 0; done < contents.byteSize(); done += QueueFileIo.PIECE) {
                MemorySegment piece = contents.asSlice(done, Math.min(QueueFileIo.PIECE, contents.byteSize() - done));
                io.read(r.file(), r.pageContentsOffset() + done, piece);
                crc.update(piece.asByteBuffer());
            }
            r.checkPageCrc(crc);
        } catch (BadRecord e) {
            throw recordError(seq, r.index(), e);
        } catch (IOException e) {
            throw new JournalException("journal " + dir + ", checkpoint seq " + seq + ", index " + JournalFormat.formatIndex(r.index())
                    + ": cannot read the pages from " + r.file() + " (" + e + "): check that the journal's files are"
                    + " readable and were not truncated", e);
        }
    }

    private RecordType checkEnvelope(long seq, Envelope.Stored r) {
        try {
            RecordType type = r.type();
            if (r.seq() != seq) {
                throw new BadRecord(type.label(), "belongs to checkpoint seq " + r.seq());
            }
            return type;
        } catch (BadRecord e) {
            throw recordError(seq, r.index(), e);
        }
    }

    private void checkCrc(long seq, Envelope.Stored r, RecordType type) {
        try {
            r.checkCrc(type);
        } catch (BadRecord e) {
            throw recordError(seq, r.index(), e);
        }
    }

    private JournalException recordError(long seq, long index, BadRecord e) {
        return new JournalException("journal " + dir + ", checkpoint seq " + seq + ", index " + JournalFormat.formatIndex(index)
                + ": " + e.getMessage() + "; this checkpoint cannot be restored: restore an earlier one"
                + " (`hotclone journal verify " + dir + "` lists every problem)");
    }
}
