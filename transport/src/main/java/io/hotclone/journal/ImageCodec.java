package io.hotclone.journal;

import io.hotclone.image.ImageRecord;
import io.hotclone.image.RecordCodec;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.wire.WireOut;
import net.openhft.chronicle.wire.WireType;

import java.lang.foreign.ValueLayout;

/**
 * The payload of every metadata record in Chronicle's binary wire: the fields of its record
 * class, written by name, as {@link RecordCodec} derives them from the record's components.
 */
final class ImageCodec {
    private ImageCodec() {
    }

    /** Writes the payload of {@code record} and says which record type it is. */
    static RecordType encode(Object record, WireOut w) {
        RecordType type = RecordType.of(record);
        RecordCodec.of(type.type()).write((Record) record, w);
        return type;
    }

    /** Reads the payload of a metadata record of {@code type}, as its envelope's version wrote it. */
    static ImageRecord decode(RecordType type, Envelope.Stored r) {
        return decode(type, r.version(), r.payload().toArray(ValueLayout.JAVA_BYTE));
    }

    /** Decodes a payload of record version {@code version} held in memory. */
    static ImageRecord decode(RecordType type, int version, byte[] payload) {
        if (type.carriesPages()) {
            throw new IllegalArgumentException("page records carry raw bytes, not wire fields");
        }
        return (ImageRecord) RecordCodec.of(type.type()).read(WireType.BINARY_LIGHT.apply(Bytes.wrapForRead(payload)), version);
    }
}
