package io.hotclone.journal;

import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/** Damage done to a closed journal's queue files, the way a bad disk or a newer writer would. */
final class QueueFiles {
    private QueueFiles() {
    }

    /** Flips one bit in the middle of the first occurrence of {@code pattern} in the queue files. */
    static void flipFirst(Path dir, byte[] pattern) throws IOException {
        for (Path file : cycleFiles(dir)) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size());
                int at = indexOf(map, pattern);
                if (at >= 0) {
                    int victim = at + pattern.length / 2;
                    map.put(victim, (byte) (map.get(victim) ^ 0x10));
                    map.force();
                    return;
                }
            }
        }
        throw new AssertionError("pattern not found in the queue files of " + dir);
    }

    /** Appends one record of epoch 1 with a valid CRC and an empty payload but any tag and version. */
    static void appendRaw(Path dir, int tag, int version, long seq) {
        appendRaw(dir, tag, version, seq, new byte[0]);
    }

    /** Appends one record of epoch 1 with a valid CRC, any tag and version, and {@code payload}. */
    static void appendRaw(Path dir, int tag, int version, long seq, byte[] payload) {
        byte[] head = new byte[Envelope.SIZE + payload.length];
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        b.put(4, (byte) tag).put(5, (byte) version).putShort(6, Envelope.MAGIC).putLong(8, 1).putLong(16, seq);
        b.put(Envelope.SIZE, payload);
        CRC32C crc = new CRC32C();
        crc.update(head, 4, head.length - 4);
        b.putInt(0, (int) crc.getValue());
        try (ChronicleQueue queue = JournalQueue.builder(dir, JournalQueue.ROLL_CYCLE).build();
             ExcerptAppender appender = queue.createAppender();
             DocumentContext dc = appender.writingDocument()) {
            dc.wire().bytes().write(head);
        }
    }

    /** Cuts {@code file} to {@code size} bytes. */
    static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    /** Flips one bit of the byte at {@code offset} of {@code file}. */
    static void flip(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x10)).rewind();
            ch.write(b, offset);
        }
    }

    /** The queue files of journal {@code dir}, oldest first. */
    static List<Path> cycleFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".cq4")).sorted().toList();
        }
    }

    private static int indexOf(ByteBuffer haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.limit() - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack.get(i + j) != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
