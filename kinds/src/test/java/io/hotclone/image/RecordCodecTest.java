package io.hotclone.image;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.wire.Wire;
import net.openhft.chronicle.wire.WireType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What the derived codec makes of versions and of components it cannot save. */
class RecordCodecTest {
    @Tag(value = 200, version = 1, name = "sample")
    record SampleV1(long seq, String name) {
    }

    /** SampleV1 with a component added in version 2, as a record type grows. */
    @Tag(value = 200, version = 2, name = "sample")
    record SampleV2(long seq, String name, @Since(value = 2, absent = -1) int failedBefore, @Since(2) List<byte[]> notes) {
    }

    /** SampleV1 with a component that older records lack but that is not marked as added later. */
    @Tag(value = 200, version = 2, name = "sample")
    record SampleRetyped(long seq, String name, int failedBefore) {
    }

    record Unsavable(long seq, Thread owner) {
    }

    private static Wire written(Record record) {
        Wire wire = WireType.BINARY_LIGHT.apply(Bytes.allocateElasticOnHeap());
        RecordCodec.of(record.getClass().asSubclass(Record.class)).write(record, wire);
        return wire;
    }

    @Test
    void aVersionOneRecordReadsAComponentAddedInVersionTwoAsAbsent() {
        SampleV2 read = RecordCodec.of(SampleV2.class).read(written(new SampleV1(7, "seven")), 1);
        assertEquals(7, read.seq());
        assertEquals("seven", read.name());
        assertEquals(-1, read.failedBefore());
        assertEquals(List.of(), read.notes());
    }

    @Test
    void aVersionTwoRecordReadsItsComponentAddedInVersionTwo() {
        SampleV2 written = new SampleV2(7, "seven", 3, List.of(new byte[]{1, 2}));
        SampleV2 read = RecordCodec.of(SampleV2.class).read(written(written), 2);
        assertEquals(3, read.failedBefore());
        assertEquals(1, read.notes().size());
    }

    @Test
    void aComponentAddedInVersionTwoMakesVersionOneReadable() {
        assertEquals(1, RecordCodec.of(SampleV2.class).oldestVersion());
        assertEquals(2, RecordCodec.of(SampleRetyped.class).oldestVersion());
        assertEquals(1, RecordCodec.of(SampleV1.class).oldestVersion());
    }

    @Test
    void aMissingComponentIsRefusedByName() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RecordCodec.of(SampleRetyped.class).read(written(new SampleV1(7, "seven")), 2));
        assertEquals("no field failedBefore in a version 2 SampleRetyped record", e.getMessage());
    }

    @Test
    void aComponentOfATypeTheWireCannotCarryIsRefusedWhenTheCodecIsMade() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RecordCodec.of(Unsavable.class));
        assertEquals("io.hotclone.image.RecordCodecTest$Unsavable.owner: a java.lang.Thread cannot be saved", e.getMessage());
    }
}
