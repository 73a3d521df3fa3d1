package io.hotclone.journal;

import java.io.File;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The fixed head of every record, little-endian, before its payload:
 * <pre>
 *  0 int   CRC32C of every byte after this field (envelope and payload)
 *  4 u8    record type tag      5 u8 record type version      6 u16 magic "hc"
 *  8 long  epoch               16 long checkpoint seq         24 payload
 * </pre>
 * The CRC covers the envelope too, so a flipped seq or tag is caught like a flipped page byte.
 *
 * <p>Page records: PAGES holds one run, {@code 24 long address}, then its contents; PAGE_RUNS
 * holds several, {@code 24 int count, 28 int 0, 32 count x (long address, long length)}, then
 * their contents one after the other. Page contents follow the head in the queue file and are
 * read apart from it ({@link Stored#pageContentsOffset}).
 */
final class Envelope {
    static final int SIZE = 24;
    /** A PAGES record's envelope and the program address of its contents, which follow. */
    static final int PAGE_HEAD = SIZE + Long.BYTES;
    /** The most runs a PAGE_RUNS record holds. */
    static final int MAX_RUNS = 1024;
    /** The longest head of a page record: a PAGE_RUNS record's of {@link #MAX_RUNS} runs. */
    static final int MAX_PAGE_HEAD = runsHead(MAX_RUNS);
    static final short MAGIC = 0x6368;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Envelope() {
    }

    /** The head of a PAGE_RUNS record of {@code count} runs: envelope, count, run table. */
    static int runsHead(int count) {
        return SIZE + Long.BYTES + count * 2 * Long.BYTES;
    }

    /**
     * Fills the envelope at the start of {@code head} (whose first {@link #SIZE} bytes are
     * reserved for it) with the CRC over the rest of {@code head} followed by {@code tail}, and
     * returns that CRC.
     */
    static int seal(byte[] head, RecordType type, long epoch, long seq, MemorySegment tail) {
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        b.put(4, (byte) type.tag()).put(5, (byte) type.version()).putShort(6, MAGIC)
                .putLong(8, epoch).putLong(16, seq);
        CRC32C crc = new CRC32C();
        crc.update(head, 4, head.length - 4);
        crc.update(tail.asByteBuffer());
        b.putInt(0, (int) crc.getValue());
        return (int) crc.getValue();
    }

    /** A record that cannot be read: its type (or what its tag was) and what is wrong. */
    static final class BadRecord extends Exception {
        final String type;
        final String what;

        BadRecord(String type, String what) {
            super(type + " record: " + what, null, false, false);
            this.type = type;
            this.what = what;
        }
    }

    /**
     * A record as it lies in the queue: {@code bytes} is its mapped view, valid only while its
     * document is open, and it starts at {@code offset} of the queue file {@code file}.
     */
    record Stored(long index, MemorySegment bytes, File file, long offset) {
        boolean complete() {
            return bytes.byteSize() >= SIZE;
        }

        /** Its type, once its envelope proves it a record this hotclone can read. */
        RecordType type() throws BadRecord {
            if (!complete()) {
                throw new BadRecord("?", "record of " + bytes.byteSize() + " bytes, shorter than its "
                        + SIZE + "-byte envelope");
            }
            if (magic() != MAGIC) {
                throw new BadRecord("?", String.format("not a hotclone record (magic 0x%04x, expected 0x%04x)",
                        magic(), MAGIC));
            }
            RecordType type = RecordType.ofTag(tag()).orElseThrow(() -> new BadRecord("tag " + tag(),
                    "unknown record type tag " + tag() + "; this hotclone reads tags " + RecordType.knownTags()
                            + " (written by a newer hotclone?)"));
            if (!type.reads(version())) {
                throw new BadRecord(type.label(), "record version " + version() + "; this hotclone reads version "
                        + type.versionsRead() + " (written by a newer hotclone?)");
            }
            if (type == RecordType.PAGE_RUNS) {
                int count = bytes.byteSize() >= SIZE + Integer.BYTES ? bytes.get(INT, SIZE) : -1;
                if (count < 1 || count > MAX_RUNS || runsHead(count) > bytes.byteSize()) {
                    throw new BadRecord(type.label(), "a run table of " + count + " runs in a record of "
                            + bytes.byteSize() + " bytes (1 to " + MAX_RUNS + " runs, within the record)");
                }
            }
            return type;
        }

        void checkCrc(RecordType type) throws BadRecord {
            checkCrc(type, computedCrc());
        }

        /**
         * For a page record whose contents are read apart from the mapping: a CRC over its
         * envelope and run table, for the reader to add the contents to as they come.
         */
        CRC32C pageCrc() {
            CRC32C crc = new CRC32C();
            crc.update(bytes.asSlice(4, pageHeadLength() - 4).asByteBuffer());
            return crc;
        }

        /** For a page record: {@code crc}, from {@link #pageCrc} with all of the contents added, must be its CRC. */
        void checkPageCrc(CRC32C crc) throws BadRecord {
            checkCrc(tag() == RecordType.PAGE_RUNS.tag() ? RecordType.PAGE_RUNS : RecordType.PAGES, (int) crc.getValue());
        }

        private void checkCrc(RecordType type, int computed) throws BadRecord {
            int stored = storedCrc();
            if (stored != computed) {
                throw new BadRecord(type.label(), String.format(
                        "CRC32C mismatch (stored 0x%08x, computed 0x%08x): the record is corrupt", stored, computed));
            }
        }

        int storedCrc() {
            return bytes.get(INT, 0);
        }

        int computedCrc() {
            CRC32C crc = new CRC32C();
            crc.update(bytes.asSlice(4).asByteBuffer());
            return (int) crc.getValue();
        }

        int tag() {
            return bytes.get(ValueLayout.JAVA_BYTE, 4) & 0xff;
        }

        int version() {
            return bytes.get(ValueLayout.JAVA_BYTE, 5) & 0xff;
        }

        short magic() {
            return bytes.get(SHORT, 6);
        }

        long epoch() {
            return bytes.get(LONG, 8);
        }

        long seq() {
            return bytes.get(LONG, 16);
        }

        MemorySegment payload() {
            return bytes.asSlice(SIZE);
        }

        /** For a page record: its runs (1 for PAGES; a PAGE_RUNS count is checked by {@link #type}). */
        int runCount() {
            return tag() == RecordType.PAGE_RUNS.tag() ? bytes.get(INT, SIZE) : 1;
        }

        /** For a page record: the program address run {@code i} starts at. */
        long runAddress(int i) {
            return tag() == RecordType.PAGE_RUNS.tag() ? bytes.get(LONG, SIZE + Long.BYTES + 16L * i) : bytes.get(LONG, SIZE);
        }

        /** For a page record: the bytes of run {@code i}. */
        long runLength(int i) {
            return tag() == RecordType.PAGE_RUNS.tag() ? bytes.get(LONG, SIZE + 2 * Long.BYTES + 16L * i)
                    : bytes.byteSize() - PAGE_HEAD;
        }

        /** For a page record whose {@link #type} was read: the bytes before its contents. */
        int pageHeadLength() {
            return tag() == RecordType.PAGE_RUNS.tag() ? runsHead(runCount()) : PAGE_HEAD;
        }

        /** For a page record: the page contents. */
        MemorySegment pageContents() {
            return bytes.asSlice(pageHeadLength());
        }

        /** For a page record: where its contents start in {@link #file}. */
        long pageContentsOffset() {
            return offset + pageHeadLength();
        }
    }
}
