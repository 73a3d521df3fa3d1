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
 */
final class Envelope {
    static final int SIZE = 24;
    /** A page record's envelope and the program address of its contents, which follow. */
    static final int PAGE_HEAD = SIZE + Long.BYTES;
    static final short MAGIC = 0x6368;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Envelope() {
    }

    /**
     * Fills the envelope at the start of {@code head} (whose first {@link #SIZE} bytes are
     * reserved for it) with the CRC over the rest of {@code head} followed by {@code tail}, and
     * returns that CRC.
     */
    static int seal(byte[] head, RecordType type, long epoch, long seq, MemorySegment tail) {
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        b.put(4, (byte) type.tag).put(5, (byte) type.version).putShort(6, MAGIC)
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
            if (version() != type.version) {
                throw new BadRecord(type.label(), "record version " + version() + "; this hotclone reads version "
                        + type.version + " (written by a newer hotclone?)");
            }
            return type;
        }

        void checkCrc(RecordType type) throws BadRecord {
            checkCrc(type, computedCrc());
        }

        /**
         * For a page record whose contents are read apart from the mapping: a CRC over its
         * envelope and address, for the reader to add the contents to as they come.
         */
        CRC32C pageCrc() {
            CRC32C crc = new CRC32C();
            crc.update(bytes.asSlice(4, PAGE_HEAD - 4).asByteBuffer());
            return crc;
        }

        /** For a page record: {@code crc}, from {@link #pageCrc} with all of the contents added, must be its CRC. */
        void checkPageCrc(CRC32C crc) throws BadRecord {
            checkCrc(RecordType.PAGES, (int) crc.getValue());
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

        /** For a page record: the program address its contents start at. */
        long pageAddress() {
            return bytes.get(LONG, SIZE);
        }

        /** For a page record: the page contents. */
        MemorySegment pageContents() {
            return bytes.asSlice(PAGE_HEAD);
        }

        /** For a page record: where its contents start in {@link #file}. */
        long pageContentsOffset() {
            return offset + PAGE_HEAD;
        }
    }
}
