package io.hotclone.journal;

import net.openhft.chronicle.queue.RollCycle;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Reads the records of a journal's queue files by itself, never through Chronicle's mapping of
 * them, which faults (an InternalError, a SIGBUS) on any byte a truncated file no longer has.
 * Each file is mapped only as far as it is long, and its documents are walked from its start:
 * a 4-byte little-endian header (the length in the low 30 bits, bit 30 metadata, bit 31 not
 * complete; 0 where nothing is written yet), the document, padding to 4 bytes. A record's queue
 * index is its cycle and its place among the data documents of the file, as Chronicle counts it.
 *
 * <p>What a walk stops at says how the file ends: where nothing is written yet (a live file),
 * at an unfinished document (a writer at work, or one that crashed: its torn tail), at the
 * end-of-file mark of a rolled file, or past the file's end: truncated, a loss. Thread-safe.
 */
final class CycleFiles {
    static final String SUFFIX = ".cq4";
    private static final ValueLayout.OfInt HEADER = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int LENGTH_MASK = (1 << 30) - 1;
    private static final int META_DATA = 1 << 30;
    private static final int NOT_COMPLETE = 1 << 31;

    /** How far a walk of one file got. */
    enum End {
        /** Nothing written yet: a live file, or one whose writer stopped. */
        OPEN,
        /** A document still being written, or left unfinished by a crash. */
        UNFINISHED,
        /** The mark a writer leaves when it rolls to the next file. */
        ROLLED,
        /** The file ends before its data does. */
        TRUNCATED
    }

    /**
     * Where and how a walk of one file stopped.
     *
     * @param at   the offset of the first document it could not read
     * @param size the file's size then
     */
    record Stop(End end, long at, long size) {
    }

    private final Path dir;
    private final RollCycle rollCycle;
    private final DateTimeFormatter names;
    /** Every file walked so far, by cycle. */
    private final Map<Integer, Walk> walks = new HashMap<>();

    CycleFiles(Path dir, RollCycle rollCycle) {
        this.dir = dir;
        this.rollCycle = rollCycle;
        this.names = new DateTimeFormatterBuilder().appendPattern(rollCycle.format())
                .parseDefaulting(ChronoField.HOUR_OF_DAY, 0).parseDefaulting(ChronoField.MINUTE_OF_HOUR, 0)
                .parseDefaulting(ChronoField.SECOND_OF_MINUTE, 0).toFormatter().withZone(ZoneOffset.UTC);
    }

    RollCycle rollCycle() {
        return rollCycle;
    }

    /** The cycle queue file {@code name} holds. */
    int cycleOf(String name) {
        try {
            long startMillis = Instant.from(names.parse(name.substring(0, name.length() - SUFFIX.length()))).toEpochMilli();
            return (int) (startMillis / rollCycle.lengthInMillis());
        } catch (DateTimeException e) {
            throw new JournalException("journal " + dir + " holds " + name + ", which is not named as its queue files are"
                    + " (" + rollCycle.format() + SUFFIX + ", " + e.getMessage() + "): move it out of the journal directory");
        }
    }

    /** The name of the queue file of {@code cycle}. */
    String nameOf(int cycle) {
        return names.format(Instant.ofEpochMilli((long) cycle * rollCycle.lengthInMillis())) + SUFFIX;
    }

    /** The queue files in the directory, by cycle. */
    TreeMap<Integer, Path> list() {
        TreeMap<Integer, Path> files = new TreeMap<>();
        try (Stream<Path> all = Files.list(dir)) {
            all.filter(f -> f.getFileName().toString().endsWith(SUFFIX))
                    .forEach(f -> files.put(cycleOf(f.getFileName().toString()), f));
        } catch (IOException e) {
            throw new JournalException("cannot list journal directory " + dir + " (" + JournalException.describe(e)
                    + "): check its permissions");
        }
        return files;
    }

    /** Forgets what it knows of the files of cycles before {@code cycle}, which are being deleted. */
    synchronized void forgetBefore(int cycle) {
        walks.keySet().removeIf(c -> c < cycle);
    }

    /**
     * Hands every record of the file of {@code cycle} from its {@code from}-th on to {@code visitor}
     * (each valid during the call only), all of them if {@code until} is -1, else up to the
     * {@code until}-th. Returns where the walk of the file stopped, or null if it stopped at {@code until}.
     */
    Stop read(int cycle, long from, long until, Consumer<Envelope.Stored> visitor) {
        Path file = dir.resolve(nameOf(cycle));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = channel.size();
            MemorySegment mapped = size == 0 ? MemorySegment.NULL : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Walked walked = walk(cycle, mapped);
            for (long n = from; n < walked.count(); n++) {
                long at = walked.offsets()[(int) n];
                int length = mapped.get(HEADER, at - Integer.BYTES) & LENGTH_MASK;
                visitor.accept(new Envelope.Stored(rollCycle.toIndex(cycle, n), mapped.asSlice(at, length),
                        file.toFile(), at));
                if (n == until) {
                    return null;
                }
            }
            return new Stop(walked.end(), walked.next(), size);
        } catch (NoSuchFileException e) {
            throw new JournalException("queue file " + file + " of journal " + dir + " is gone: it was deleted"
                    + " (`hotclone journal verify " + dir + "` says what was lost)");
        } catch (IOException e) {
            throw new JournalException("cannot read queue file " + file + " (" + JournalException.describe(e)
                    + "): check that the journal's files are readable");
        }
    }

    /** The walk of the file of {@code cycle}, carried on as far as {@code mapped} (its current contents) goes. */
    private synchronized Walked walk(int cycle, MemorySegment mapped) {
        Walk walk = walks.computeIfAbsent(cycle, c -> new Walk());
        walk.carryOn(mapped);
        return new Walked(walk.offsets, walk.count, walk.next, walk.end);
    }

    /** What a walk had found when it was taken: {@code offsets} is never written below {@code count}. */
    private record Walked(long[] offsets, int count, long next, End end) {
    }

    /** A file walked from its start as far as it goes: the offset of each data document's contents. Guarded by the CycleFiles. */
    private static final class Walk {
        private long[] offsets = new long[64];
        private int count;
        /** Where the next document's header is. */
        private long next;
        private End end = End.OPEN;

        /** Walks on from where it stopped, unless the file is done with. */
        void carryOn(MemorySegment mapped) {
            if (end == End.ROLLED) {
                return;
            }
            long size = mapped.byteSize();
            while (true) {
                if (next + Integer.BYTES > size) {
                    end = End.TRUNCATED;
                    return;
                }
                int header = mapped.get(HEADER, next);
                int length = header & LENGTH_MASK;
                if (header == 0) {
                    end = End.OPEN;
                    return;
                }
                if ((header & NOT_COMPLETE) != 0) {
                    end = length == 0 && (header & META_DATA) != 0 ? End.ROLLED : End.UNFINISHED;
                    return;
                }
                long contents = next + Integer.BYTES;
                if (contents + length > size) {
                    end = End.TRUNCATED;
                    return;
                }
                if ((header & META_DATA) == 0) {
                    if (count == offsets.length) {
                        offsets = Arrays.copyOf(offsets, 2 * count);
                    }
                    offsets[count++] = contents;
                }
                next = (contents + length + 3) & ~3L;
            }
        }
    }
}
