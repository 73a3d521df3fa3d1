package io.hotclone.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The documents of a Chronicle Queue file, found by walking their headers as Chronicle lays them
 * out (a little-endian int: the length in the low 30 bits, bit 30 metadata, bit 31 unfinished;
 * 0 where nothing is written yet; documents 4-byte aligned): where a journal's records lie, for
 * tests that damage them.
 */
public final class QueueDocs {
    private QueueDocs() {
    }

    /** One finished document: its 4-byte header at {@code header}, then {@code length} bytes. */
    public record Doc(long header, int length, boolean metadata) {
        /** The first byte of its contents. */
        public long contents() {
            return header + 4;
        }

        public long end() {
            return header + 4 + length;
        }
    }

    /** Every finished document of queue file {@code file}, in file order. */
    public static List<Doc> all(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<Doc> docs = new ArrayList<>();
        int at = 0;
        while (at + 4 <= bytes.limit()) {
            int header = bytes.getInt(at);
            if (header == 0 || header < 0) {
                break; // nothing written yet, or unfinished
            }
            int length = header & ((1 << 30) - 1);
            docs.add(new Doc(at, length, (header & (1 << 30)) != 0));
            at = (at + 4 + length + 3) & ~3;
        }
        return docs;
    }

    /** The data documents (a journal's records) of queue file {@code file}, in file order. */
    public static List<Doc> records(Path file) throws IOException {
        return all(file).stream().filter(d -> !d.metadata()).toList();
    }
}
