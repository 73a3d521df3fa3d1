package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;
import io.hotclone.image.Commit;
import io.hotclone.image.ThreadState;
import io.hotclone.image.DupFd;
import io.hotclone.image.EpollFd;
import io.hotclone.image.EventfdFd;
import io.hotclone.image.FifoFd;
import io.hotclone.image.InotifyFd;
import io.hotclone.image.PipeFd;
import io.hotclone.image.SignalFd;
import io.hotclone.image.TimerFd;
import io.hotclone.image.UnixSocketFd;
import io.hotclone.image.ImageRecord;
import io.hotclone.image.InetSocketFd;
import io.hotclone.image.ProcessImage;
import io.hotclone.image.ProcessState;
import io.hotclone.image.SharedFd;
import io.hotclone.process.FileIdentity;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.wire.Wire;
import net.openhft.chronicle.wire.WireType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.hotclone.journal.DeepEquals.assertDeepEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every record type survives its wire encoding field for field, nulls and empty lists included,
 * and journals written by earlier hotclones keep reading: each is written byte for byte as the
 * golden payloads under {@code golden/} (taken from the hand-written codec each record type had
 * before the codec was derived from the records), and those payloads read back equal.
 */
class ImageCodecTest {

    static List<Map.Entry<String, Object>> samples() {
        ProcessState p = Images.process();
        return List.of(
                Map.entry("header", Images.header(7, 3, CheckpointKind.INCREMENTAL, 6)),
                Map.entry("process", p),
                Map.entry("process-empty", new ProcessState(p.pid(), false, p.exe(), null, p.mm(), new byte[0],
                        p.cwd(), p.root(), p.umask(), p.personality(), List.of(), List.of(), List.of(), false, null, 7, 1, 1, 0, 0, 0)),
                Map.entry("epoll-fd", new EpollFd(7, 02 | 04000, true, List.of(new EpollFd.Target(5, 0x80000001, 0x1122334455667788L),
                        new EpollFd.Target(9, 0x40000001, 42)))),
                Map.entry("thread", Images.thread(4243, true)),
                Map.entry("shared-fd", new SharedFd(4, 02 | 02000, true, 3, 9)),
                Map.entry("thread-no-rseq", Images.thread(4244, false)),
                Map.entry("area-file", Images.fileArea()),
                Map.entry("area-anonymous", Images.anonymous(0x7fff_0000_0000L, 16)),
                Map.entry("regular-file-fd", Images.regularFile()),
                Map.entry("device-fd", Images.device()),
                Map.entry("inherited-fd", Images.inherited()),
                Map.entry("eventfd-fd", new EventfdFd(4, 0x802, true, (1L << 40) + 7, true)),
                Map.entry("dup-fd", new DupFd(9, 01, false, 4)),
                Map.entry("pipe-fd-read", new PipeFd(3, 04000, true, 2446262, true, 1 << 20, new byte[] {1, 2, 3})),
                Map.entry("pipe-fd-write", new PipeFd(4, 01, false, 2446262, false, 0, new byte[0])),
                Map.entry("timer-fd", new TimerFd(5, 04002, true, 7, 1, 3, 18_420_557L, 20_000_000L)),
                Map.entry("signal-fd", new SignalFd(6, 02, false, 0xa00)),
                Map.entry("unix-socket-fd-pair", new UnixSocketFd(5, 04002, false, 2, 2576176, new byte[0], false, 0,
                        2576177, 6, List.of(new byte[] {'d', '1'}, new byte[] {'d', '2'}), 1)),
                Map.entry("unix-socket-fd-listening", new UnixSocketFd(7, 02, true, 1, 2576180,
                        "/run/app.sock\0".getBytes(StandardCharsets.UTF_8), true, 128, 0, -1, List.of(), 0)),
                Map.entry("inet-socket-fd-listening", new InetSocketFd(3, 04002, true, 2, 1, 2747939, new byte[] {127, 0, 0, 1},
                        8080, true, 511, new byte[0], 0, true, false, false, true, false)),
                Map.entry("inet-socket-fd-udp", new InetSocketFd(4, 02, false, 10, 2, 2747940, new byte[16], 5353, false, 0,
                        new byte[16], 53, false, true, true, false, true)),
                Map.entry("fifo-fd", new FifoFd(5, 04000, true, "/run/app.fifo", new FileIdentity(0xfe00, 42, 0, 0), 0640,
                        1 << 17, new byte[] {7, 8, 9})),
                Map.entry("inotify-fd", new InotifyFd(6, 04000, true, List.of(new InotifyFd.Watch(1, "/srv/app", 0x300),
                        new InotifyFd.Watch(3, "/srv/app/conf", 0x80000002)))),
                Map.entry("zombie", Images.zombie()),
                Map.entry("sysv-shm", Images.ipc().get(0)),
                Map.entry("sysv-sem", Images.ipc().get(1)),
                Map.entry("sysv-msg", Images.ipc().get(2)),
                Map.entry("commit", Images.commit(9, 12, 40L << 20, 3)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void writesTheGoldenBytesAndReadsThemBack(Map.Entry<String, Object> sample) throws IOException {
        Wire wire = WireType.BINARY_LIGHT.apply(Bytes.allocateElasticOnHeap());
        RecordType type = ImageCodec.encode(sample.getValue(), wire);
        byte[] golden = golden(sample.getKey());
        if (golden == null) {
            keepForReview(sample.getKey(), wire.bytes().toByteArray());
        }
        assertArrayEquals(golden, wire.bytes().toByteArray(), sample.getKey() + ": the wire bytes changed");
        assertDeepEquals(sample.getValue(), ImageCodec.decode(type, type.version(), golden));
    }

    @Test
    void everyRecordTypeHasAGoldenSample() {
        assertEquals(Set.copyOf(ImageRecord.TYPES), samples().stream().map(e -> e.getValue().getClass()).collect(Collectors.toSet()),
                "a record type without a sample in samples() has no golden payload guarding its format");
    }

    @Test
    void aVersionOneCommitReadsWithItsFailuresUnknown() throws IOException {
        Commit c = Images.commit(9, 12, 40L << 20, 3);
        assertEquals(new Commit(c.seq(), c.areas(), c.pages(), c.pageBytes(), c.fds(), c.freezeMicros(),
                c.durationMicros(), Commit.FAILED_BEFORE_UNKNOWN), ImageCodec.decode(RecordType.COMMIT, 1, golden("commit-v1")));
    }

    @Test
    void aVersionOneThreadReadsWithoutItsIdsNameAndFutexAddresses() throws IOException {
        ThreadState t = Images.thread(4243, true);
        ThreadState v1 = (ThreadState) ImageCodec.decode(RecordType.of(t), 1, golden("thread-v1"));
        assertDeepEquals(new ThreadState(t.tid(), t.registers(), t.xstate(), t.blockedMask(), t.pending(), t.altstack(),
                t.rseq(), 0, null, 0, null), v1);
        assertEquals(4243, v1.programTid(), "a thread saved without its id in the program's namespace keeps its tid");
    }

    @Test
    void aVersionOneProcessReadsAsLeadingNoProcessGroup() throws IOException {
        ProcessState p = Images.process();
        assertDeepEquals(new ProcessState(p.pid(), p.sessionLeader(), p.exe(), p.exeIdentity(), p.mm(), p.auxv(), p.cwd(),
                p.root(), p.umask(), p.personality(), p.rlimits(), p.sigactions(), p.sharedPending(), false, null, 0, 0, 0, 0, 0, 0),
                ImageCodec.decode(RecordType.of(p), 1, golden("process-v1")));
    }

    @Test
    void aVersionTwoProcessReadsAsSharingHotclonesHostNames() throws IOException {
        ProcessState p = Images.process();
        assertDeepEquals(new ProcessState(p.pid(), p.sessionLeader(), p.exe(), p.exeIdentity(), p.mm(), p.auxv(), p.cwd(),
                p.root(), p.umask(), p.personality(), p.rlimits(), p.sigactions(), p.sharedPending(), p.groupLeader(),
                null, 0, 0, 0, 0, 0, 0), ImageCodec.decode(RecordType.of(p), 2, golden("process-v2")));
    }

    @Test
    void aVersionThreeProcessReadsAsOfAProgramOfOneProcess() throws IOException {
        ProcessState p = Images.process();
        ProcessState v3 = (ProcessState) ImageCodec.decode(RecordType.of(p), 3, golden("process-v3"));
        assertDeepEquals(new ProcessState(p.pid(), p.sessionLeader(), p.exe(), p.exeIdentity(), p.mm(), p.auxv(), p.cwd(),
                p.root(), p.umask(), p.personality(), p.rlimits(), p.sigactions(), p.sharedPending(), p.groupLeader(),
                p.uts(), 0, 0, 0, 0, 0, 0), v3);
        ThreadState leader = Images.thread(4243, true);
        ProcessImage image = new ProcessImage(v3, List.of(leader), List.of(), List.of(), List.of(), List.of());
        assertEquals(leader.programTid(), image.vpid(), "a process saved without its vpid is known by its leader thread's id");
    }

    @Test
    void aRecordOfNoJournalTypeIsRefused() {
        Wire wire = WireType.BINARY_LIGHT.apply(Bytes.allocateElasticOnHeap());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageCodec.encode("not a record", wire));
        assertEquals("no journal record type for java.lang.String", e.getMessage());
    }

    /** The golden payload {@code name}, or null when there is none. */
    private static byte[] golden(String name) throws IOException {
        try (InputStream in = ImageCodecTest.class.getResourceAsStream("/golden/" + name + ".bin")) {
            return in == null ? null : in.readAllBytes();
        }
    }

    /** A new sample's payload, kept where its author can check it and move it in; the test fails meanwhile. */
    private static void keepForReview(String name, byte[] written) throws IOException {
        Path review = Path.of("target", "golden-new", name + ".bin");
        Files.createDirectories(review.getParent());
        Files.write(review, written);
        fail("golden/" + name + ".bin is missing: this codec's payload is in " + review.toAbsolutePath()
                + "; check it and move it to transport/src/test/resources/golden/");
    }
}
