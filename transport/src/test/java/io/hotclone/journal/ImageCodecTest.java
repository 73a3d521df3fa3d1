package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.wire.Wire;
import net.openhft.chronicle.wire.WireType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.hotclone.journal.DeepEquals.assertDeepEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every record type survives its wire encoding field for field, nulls and empty lists included. */
class ImageCodecTest {

    private static void roundTrips(Object record, RecordType expectedType) {
        Wire wire = WireType.BINARY_LIGHT.apply(Bytes.allocateElasticOnHeap());
        assertEquals(expectedType, ImageCodec.encode(record, wire));
        Object decoded = ImageCodec.decode(expectedType, expectedType.version, wire.bytes().toByteArray());
        assertDeepEquals(record, decoded);
    }

    @Test
    void headerRoundTrips() {
        roundTrips(Images.header(7, 3, CheckpointKind.INCREMENTAL, 6), RecordType.HEADER);
    }

    @Test
    void processRoundTrips() {
        roundTrips(Images.process(), RecordType.PROCESS);
    }

    @Test
    void processWithoutIdentityAndWithEmptyListsRoundTrips() {
        ProcessState p = Images.process();
        roundTrips(new ProcessState(p.pid(), false, p.exe(), null, p.mm(), new byte[0], p.cwd(), p.root(),
                p.umask(), p.personality(), List.of(), List.of(), List.of()), RecordType.PROCESS);
    }

    @Test
    void threadRoundTrips() {
        roundTrips(Images.thread(4243, true), RecordType.THREAD);
    }

    @Test
    void threadWithoutRseqRoundTrips() {
        ThreadState t = Images.thread(4244, false);
        roundTrips(t, RecordType.THREAD);
    }

    @Test
    void fileAreaRoundTrips() {
        roundTrips(Images.fileArea(), RecordType.AREA);
    }

    @Test
    void anonymousAreaWithoutFileRoundTrips() {
        MemoryArea a = Images.anonymous(0x7fff_0000_0000L, 16);
        roundTrips(a, RecordType.AREA);
    }

    @Test
    void regularFileFdRoundTrips() {
        roundTrips(Images.regularFile(), RecordType.REGULAR_FILE_FD);
    }

    @Test
    void deviceFdRoundTrips() {
        roundTrips(Images.device(), RecordType.DEVICE_FD);
    }

    @Test
    void inheritedFdRoundTrips() {
        roundTrips(Images.inherited(), RecordType.INHERITED_FD);
    }

    @Test
    void commitRoundTrips() {
        roundTrips(Images.commit(9, 12, 40L << 20, 3), RecordType.COMMIT);
    }

    @Test
    void aRecordOfNoJournalTypeIsRefused() {
        Wire wire = WireType.BINARY_LIGHT.apply(Bytes.allocateElasticOnHeap());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageCodec.encode("not a record", wire));
        assertEquals("no journal record type for java.lang.String", e.getMessage());
    }
}
