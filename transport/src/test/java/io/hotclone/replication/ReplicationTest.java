package io.hotclone.replication;

import io.hotclone.testkit.Seconds;
import io.hotclone.image.CheckpointKind;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.CheckpointWriter;
import io.hotclone.journal.Checkpoints;
import io.hotclone.journal.Journal;
import io.hotclone.journal.TestJournals;
import io.hotclone.journal.VerifyReport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A primary's journal shipped to standbys on loopback, in one process. */
class ReplicationTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final InetSocketAddress ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private static final int PAGE = Checkpoints.PAGE;
    /** Short heartbeats, so that silence shows fast. */
    private static final Options FAST = new Options(Duration.ofMillis(50), 5, Options.DEFAULT.maxLagBytes());

    @TempDir
    Path tmp;

    private final Events events = new Events();
    private final Arena arena = Arena.ofShared();
    /** Closed after each test, last first. */
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        arena.close();
    }

    private <T extends AutoCloseable> T opened(T c) {
        open.add(c);
        return c;
    }

    private Journal journal(String name) {
        return opened(Journal.create(tmp.resolve(name)));
    }

    private ReplicaServer standby(String name) {
        return standby(ANY, name, Options.DEFAULT);
    }

    private ReplicaServer standby(InetSocketAddress bind, String name, Options options) {
        return opened(ReplicaServer.listen(bind, tmp.resolve(name), "svc", events, options));
    }

    private Replication replicate(Journal journal, long epoch, AckPolicy policy, Options options, InetSocketAddress... to) {
        return opened(new Replication(journal, "svc", epoch, List.of(to), policy, events, options));
    }

    private MemorySegment pages(long seed, long bytes) {
        return Checkpoints.contents(arena, seed, bytes);
    }

    private void full(Journal j, long epoch, long seed, long bytes) {
        Checkpoints.write(j, CheckpointKind.FULL, -1, epoch, List.of(pages(seed, bytes)));
    }

    /** An incremental checkpoint of {@code bytes}: in scattered runs of a page each (one PAGE_RUNS record) up to 2 MiB. */
    private void incremental(Journal j, long epoch, long seed, long bytes) {
        List<MemorySegment> runs = bytes > (2L << 20) ? List.of(pages(seed, bytes))
                : java.util.stream.LongStream.range(0, bytes / PAGE).mapToObj(i -> pages(seed + i, PAGE)).toList();
        Checkpoints.write(j, CheckpointKind.INCREMENTAL, j.nextSeq() - 1, epoch, runs);
    }

    private static long await(Replication r, long seq) throws Exception {
        return r.awaitReplicated(seq).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static List<Long> seqs(Journal j) {
        return j.checkpoints().stream().map(CheckpointSummary::seq).toList();
    }

    @Test
    void everyCommittedCheckpointArrivesIdenticalAndTheReplicaOpensForRestore() throws Exception {
        Journal primary = journal("p");
        full(primary, 1, 1, 20L << 20); // three page records
        ReplicaServer standby = standby("r");
        Replication replication = replicate(primary, 1, AckPolicy.ALL, Options.DEFAULT, standby.address());
        incremental(primary, 1, 2, 3 * PAGE);
        incremental(primary, 1, 3, 5L << 20);

        assertEquals(3, await(replication, 3));
        assertEquals(3, replication.replicatedSeq());
        assertEquals(3, standby.committedSeq());
        assertEquals(1, standby.committedEpoch());
        Checkpoints.assertReplica(primary, standby.journal(), 1);
        assertEquals(List.of("committed 1 1", "committed 2 1", "committed 3 1"),
                events.lines().stream().filter(l -> l.startsWith("committed")).toList());

        replication.close();
        standby.close();
        try (Journal restored = Journal.open(tmp.resolve("r"))) {
            Checkpoints.assertReplica(primary, restored, 1);
        }
    }

    @Test
    void aConnectionCutInsideACheckpointResumesAndResendsItFromItsHeader() throws Exception {
        Journal primary = journal("p");
        ReplicaServer standby = standby("r");
        Proxy proxy = opened(new Proxy(standby.address()));
        Replication replication = replicate(primary, 1, AckPolicy.ALL, Options.DEFAULT, proxy.address());
        full(primary, 1, 1, 2 * PAGE);
        assertEquals(1, await(replication, 1));

        long before = proxy.forwarded();
        long run = 4L << 20;
        CheckpointWriter second = Checkpoints.begin(primary, CheckpointKind.INCREMENTAL, 1, 1, List.of(pages(2, run)));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (proxy.forwarded() - before < run) {
            assertTrue(System.nanoTime() < deadline, "the proxy forwarded only " + (proxy.forwarded() - before)
                    + " bytes of checkpoint 2 within " + WAIT);
            Thread.onSpinWait();
        }
        int cutAt = events.size();
        proxy.cut();
        events.await(l -> l.startsWith("disconnected"), cutAt, WAIT, "disconnected after the cut");
        events.await(l -> l.startsWith("connected"), cutAt, WAIT, "connected again after the cut");

        Checkpoints.commit(second, 2, run);
        assertEquals(2, await(replication, 2));
        Journal replica = standby.journal();
        Checkpoints.assertReplica(primary, replica, 1);
        VerifyReport report = replica.verify();
        assertEquals(List.of(2L), report.abandoned().stream().map(VerifyReport.Uncommitted::seq).toList(),
                "the torn copy of checkpoint 2 is left behind, abandoned");
        assertTrue(report.tornTail().isEmpty());
        assertEquals(List.of("committed 1 1", "committed 2 1"),
                events.lines().stream().filter(l -> l.startsWith("committed")).toList(), "no checkpoint twice");
    }

    /**
     * A standby killed while appending a header is left with a copy of it that the primary's
     * journal does not hold record for record (here: another header of the same seq). It still
     * holds every checkpoint before, so the primary resends that checkpoint from its header
     * instead of copying the whole chain again.
     */
    @Test
    void aRestartedStandbyLeftInsideACheckpointResumesAfterItsLastCommitWithoutAReset() throws Exception {
        Journal primary = journal("p");
        ReplicaServer standby = standby("r");
        Replication replication = replicate(primary, 1, AckPolicy.ALL, Options.DEFAULT, standby.address());
        full(primary, 1, 1, 2 * PAGE);
        assertEquals(1, await(replication, 1));
        replication.close();
        standby.close();
        try (Journal r = Journal.create(tmp.resolve("r"))) {
            Checkpoints.begin(r, CheckpointKind.FULL, -1, 1, List.of(pages(99, PAGE))).close();
        }
        incremental(primary, 1, 2, PAGE);

        ReplicaServer back = standby("r");
        assertEquals(1, back.committedSeq());
        Replication again = replicate(primary, 1, AckPolicy.ALL, Options.DEFAULT, back.address());
        assertEquals(2, await(again, 2));
        Checkpoints.assertReplica(primary, back.journal(), 1);
        assertEquals(List.of(2L), back.journal().verify().abandoned().stream().map(VerifyReport.Uncommitted::seq).toList(),
                "the standby kept its journal (a reset would have emptied it) and left its torn copy of seq 2 behind");
    }

    /**
     * A standby that missed a switch: the new primary's journal holds its last commit, then a
     * checkpoint of the old epoch it is fenced against, then the new chain's full checkpoint. It
     * gets the new chain from that full checkpoint on, keeping what it held, and is not reset.
     */
    @Test
    void aStandbyFencedAtTheNewEpochGetsTheNewChainFromItsFullCheckpointAfterWhatItHolds() throws Exception {
        Journal primary = journal("p");
        full(primary, 1, 1, PAGE);
        ReplicaServer standby = standby("r");
        Replication old = replicate(primary, 1, AckPolicy.ALL, Options.DEFAULT, standby.address());
        assertEquals(1, await(old, 1));
        old.close();
        incremental(primary, 1, 2, PAGE); // the old primary's last, which the standby missed
        standby.fence(2);
        full(primary, 2, 3, PAGE); // the new primary's first
        incremental(primary, 2, 4, PAGE);

        Replication replication = replicate(primary, 2, AckPolicy.ALL, Options.DEFAULT, standby.address());
        assertEquals(4, await(replication, 4));
        assertEquals(List.of(1L, 3L, 4L), seqs(standby.journal()));
        assertEquals(primary.checkpointsAfter(2), standby.journal().checkpointsAfter(2));
    }

    @Test
    void aStandbyWithAnotherHistoryIsResetAndGetsTheNewestChainFromItsFullCheckpoint() throws Exception {
        try (Journal old = Journal.create(tmp.resolve("r"))) { // an old primary, now a standby
            full(old, 1, 91, PAGE);
            incremental(old, 1, 92, PAGE);
        }
        Journal primary = journal("p");
        full(primary, 2, 1, PAGE);
        incremental(primary, 2, 2, PAGE);
        full(primary, 2, 3, 3 * PAGE);
        incremental(primary, 2, 4, 2 * PAGE);

        ReplicaServer standby = standby("r");
        assertEquals(2, standby.committedSeq());
        Replication replication = replicate(primary, 2, AckPolicy.ALL, Options.DEFAULT, standby.address());
        assertEquals(4, await(replication, 4));

        Checkpoints.assertReplica(primary, standby.journal(), 3);
        assertEquals(List.of(3L, 4L), seqs(standby.journal()));
        assertEquals(2, standby.committedEpoch());
    }

    @Test
    void aStandbyLaggingBehindADroppedCycleIsResetAndGetsTheChainFromTheNewFullCheckpoint() throws Exception {
        Journal primary = opened(TestJournals.secondly(tmp.resolve("p"))); // a file a second
        ReplicaServer standby = standby("r");
        Replication replication = replicate(primary, 1, AckPolicy.ALL, Options.DEFAULT, standby.address());
        full(primary, 1, 1, PAGE);
        incremental(primary, 1, 2, PAGE);
        assertEquals(2, await(replication, 2));
        replication.close();
        standby.close(); // the standby stops at seq 2 while the primary goes on

        Seconds.awaitNext();
        incremental(primary, 1, 3, PAGE);
        full(primary, 1, 4, 2 * PAGE);
        incremental(primary, 1, 5, PAGE);
        assertTrue(primary.dropCyclesBefore(4) >= 1, "the cycle of seqs 1 and 2 goes");

        ReplicaServer back = standby("r");
        assertEquals(2, back.committedSeq());
        Replication again = replicate(primary, 1, AckPolicy.ALL, Options.DEFAULT, back.address());
        assertEquals(5, await(again, 5));
        Checkpoints.assertReplica(primary, back.journal(), 4);
        assertEquals(List.of(4L, 5L), seqs(back.journal()));
    }

    @Test
    void aFencedStandbyDropsAndRefusesAPrimaryOfAnOlderEpoch() throws Exception {
        Journal primary = journal("p");
        ReplicaServer standby = standby("r");
        Replication replication = replicate(primary, 3, AckPolicy.ALL, Options.DEFAULT, standby.address());
        full(primary, 3, 1, PAGE);
        assertEquals(1, await(replication, 1));

        int fencedAt = events.size();
        standby.fence(4);
        String refused = events.await(l -> l.startsWith("disconnected") && l.contains("refused"), fencedAt, WAIT,
                "a refusal after the fence");
        assertTrue(refused.contains("epoch 3 is older than epoch 4"), refused);
        assertEquals(1, replication.replicatedSeq());
        replication.close();

        incremental(primary, 3, 2, PAGE);
        int retriedAt = events.size();
        replicate(primary, 3, AckPolicy.ALL, Options.DEFAULT, standby.address());
        String again = events.await(l -> l.startsWith("disconnected") && l.contains("refused"), retriedAt, WAIT,
                "a new connection of the epoch-3 primary, with checkpoint 2 to ship, refused too");
        assertTrue(again.contains("epoch 3 is older than epoch 4"), again);
        assertEquals(1, standby.committedSeq());
        assertEquals(List.of(1L), seqs(standby.journal()));
    }

    @Test
    void aPrimaryOfAnotherServiceIsRefusedAtHello() throws Exception {
        Journal primary = journal("p");
        full(primary, 1, 1, PAGE);
        ReplicaServer standby = standby("r");
        opened(new Replication(primary, "other", 1, List.of(standby.address()), AckPolicy.ALL, events));
        String refused = events.await("disconnected", WAIT);
        assertTrue(refused.contains("this standby replicates service svc, not other"), refused);
        assertEquals(0, standby.committedSeq());
    }

    private void twoStandbysOneStopped(AckPolicy policy, long replicatedWithOneStopped) throws Exception {
        Journal primary = journal("p");
        ReplicaServer a = standby("a");
        ReplicaServer b = standby("b");
        InetSocketAddress bAddress = b.address();
        Replication replication = replicate(primary, 1, policy, Options.DEFAULT, a.address(), bAddress);
        full(primary, 1, 1, PAGE);
        events.await("ack " + Events.name(a.address()) + " 1", WAIT);
        events.await("ack " + Events.name(bAddress) + " 1", WAIT);
        assertEquals(1, await(replication, 1));

        b.close();
        incremental(primary, 1, 2, PAGE);
        events.await("ack " + Events.name(a.address()) + " 2", WAIT);
        assertEquals(replicatedWithOneStopped, replication.replicatedSeq());
        assertEquals(replicatedWithOneStopped >= 2, replication.awaitReplicated(2).isDone());

        // B comes back with its journal and resumes where it stopped.
        ReplicaServer back = standby(bAddress, "b", Options.DEFAULT);
        assertEquals(2, await(replication, 2));
        events.await("ack " + Events.name(bAddress) + " 2", WAIT);
        Checkpoints.assertReplica(primary, back.journal(), 1);
    }

    @Test
    void withAckPolicyAllAStoppedStandbyHoldsReplicatedSeqBack() throws Exception {
        twoStandbysOneStopped(AckPolicy.ALL, 1);
    }

    @Test
    void withAckPolicyOneAnyStandbyAdvancesReplicatedSeq() throws Exception {
        twoStandbysOneStopped(AckPolicy.ONE, 2);
    }

    @Test
    void aStandbyTooFarBehindAsksForAFullCheckpointAndCatchesUpFromIt() throws Exception {
        Journal primary = journal("p");
        full(primary, 1, 1, PAGE);
        for (int i = 0; i < 3; i++) {
            incremental(primary, 1, 2 + i, 16 * PAGE);
        }
        ReplicaServer standby = standby("r");
        Options smallLag = new Options(Options.DEFAULT.heartbeat(), Options.DEFAULT.missed(), 20 * PAGE);
        Replication replication = replicate(primary, 1, AckPolicy.ALL, smallLag, standby.address());
        events.await("needsFull", WAIT);
        full(primary, 1, 9, 2 * PAGE);
        assertEquals(5, await(replication, 5));
        assertEquals(List.of(5L), seqs(standby.journal()));
        Checkpoints.assertReplica(primary, standby.journal(), 5);
    }

    @Test
    void aSilentPrimaryIsReportedWithinTheHeartbeatTimeoutAndDropped() throws Exception {
        ReplicaServer standby = standby(ANY, "r", FAST);
        try (Link primary = Link.connect(standby.address(), FAST.heartbeat(), WAIT)) {
            primary.send(new Message.Hello("svc", 1, "test"));
            Message position = primary.read(() -> { });
            assertEquals(new Message.Position(Optional.empty(), Optional.empty()), position);
            long quietSince = System.nanoTime();
            String silent = events.await("silent", WAIT);
            long noticedAfter = (System.nanoTime() - quietSince) / 1_000_000;
            long reported = Long.parseLong(silent.split(" ")[1]);
            assertTrue(reported >= FAST.timeout().toMillis(), silent);
            assertTrue(noticedAfter < FAST.timeout().toMillis() + 2 * FAST.heartbeat().toMillis() + 200,
                    "silence noticed after " + noticedAfter + " ms, timeout " + FAST.timeout().toMillis() + " ms");
            assertTrue(primary.read(() -> { }) instanceof Message.Heartbeat, "the standby sent heartbeats meanwhile");
        }
    }

    @Test
    void aSilentStandbyIsDroppedWithinTheHeartbeatTimeout() throws Exception {
        try (var server = java.nio.channels.ServerSocketChannel.open().bind(ANY)) {
            InetSocketAddress address = (InetSocketAddress) server.getLocalAddress();
            Journal primary = journal("p");
            replicate(primary, 1, AckPolicy.ALL, FAST, address);
            try (Link standby = new Link(server.accept(), FAST.heartbeat())) {
                assertTrue(standby.read(() -> { }) instanceof Message.Hello);
                standby.send(new Message.Position(Optional.empty(), Optional.empty()));
                long quietSince = System.nanoTime();
                String dropped = events.await("disconnected", WAIT);
                long noticedAfter = (System.nanoTime() - quietSince) / 1_000_000;
                assertTrue(dropped.contains("no frame from standby"), dropped);
                assertTrue(noticedAfter < FAST.timeout().toMillis() + 2 * FAST.heartbeat().toMillis() + 200,
                        "silence noticed after " + noticedAfter + " ms");
            }
        }
    }

    @Test
    void throughputOnLoopback() throws Exception {
        long bytes = 256L << 20;
        Journal primary = journal("p");
        full(primary, 1, 1, bytes);
        ReplicaServer standby = standby("r");
        long start = System.nanoTime();
        Replication replication = replicate(primary, 1, AckPolicy.ALL, Options.DEFAULT, standby.address());
        await(replication, 1);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("replication throughput on loopback: %d MiB in %.3f s = %.0f MB/s%n",
                bytes >> 20, seconds, bytes / seconds / 1e6);
        Checkpoints.assertReplica(primary, standby.journal(), 1);
    }
}
