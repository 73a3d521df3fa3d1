package io.hotclone.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.bindings.HotcloneException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterSessionTest {
    private static final Duration LEASE = Duration.ofSeconds(1);
    private static final long LEASE_MS = LEASE.toMillis();
    private static final String SERVICE = "app";

    @TempDir
    Path data;

    private Coordinator coordinator;
    private final List<AutoCloseable> opened = new ArrayList<>();

    @BeforeEach
    void startCoordinator() {
        coordinator = Coordinator.start(new InetSocketAddress("127.0.0.1", 0), data);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : opened.reversed()) {
            c.close();
        }
        coordinator.close();
    }

    private ClusterSession join(String name, Events events) {
        return join(coordinator.connectString(), name, events);
    }

    private ClusterSession join(String zk, String name, Events events) {
        ClusterSession session = ClusterSession.join(zk, SERVICE, name, LEASE, events);
        opened.add(session);
        return session;
    }

    private static Member standby(String name, long seq) {
        return new Member(name, Role.STANDBY, "127.0.0.1:7000", seq, 0);
    }

    @Test
    void firstPrimaryGetsEpochOneAndASecondIsRefusedNamingIt() {
        ClusterSession alpha = join("alpha", new Events());
        ClusterSession beta = join("beta", new Events());
        assertEquals(0, alpha.epoch());

        assertEquals(1, alpha.becomePrimary(Duration.ofSeconds(1)));
        assertTrue(alpha.isPrimary());
        assertEquals(Optional.of(new Member("alpha", Role.PRIMARY, "", 0, 1)), beta.primary());

        HotcloneException refused = assertThrows(HotcloneException.class, () -> beta.becomePrimary(Duration.ofMillis(200)));
        assertTrue(refused.getMessage().contains("alpha holds its lock"), refused.getMessage());
        assertFalse(beta.isPrimary());
        assertEquals(1, beta.epoch(), "a refused node must not raise the epoch");
    }

    @Test
    void anEndedProgramStaysEndedUntilAPrimaryStartsAfresh() {
        ClusterSession alpha = join("alpha", new Events());
        ClusterSession beta = join("beta", new Events());
        alpha.becomePrimary(Duration.ofSeconds(1));
        assertEquals(OptionalInt.empty(), beta.ended());

        alpha.markEnded(3);
        assertEquals(OptionalInt.of(3), beta.ended(), "a standby sees the program ended, with its status");
        alpha.close();
        beta.becomePrimary(Duration.ofSeconds(1));
        assertEquals(OptionalInt.empty(), beta.ended(), "a fresh start runs the program again");
    }

    @Test
    void aNameAlreadyLiveIsRefused() {
        join("alpha", new Events()).publish(standby("alpha", 0));
        HotcloneException refused = assertThrows(HotcloneException.class, () -> join("alpha", new Events()));
        assertTrue(refused.getMessage().contains("name alpha is already live in service app"), refused.getMessage());
    }

    @Test
    void aMemberNodeThatVanishesIsPublishedAgain() throws Exception {
        Events events = new Events();
        ClusterSession alpha = join("alpha", events);
        alpha.publish(standby("alpha", 3));
        events.awaitMember(standby("alpha", 3), 5_000);
        try (CuratorFramework other = CuratorFrameworkFactory.newClient(coordinator.connectString(), new RetryOneTime(100))) {
            other.start();
            other.delete().forPath("/hotclone/" + SERVICE + "/members/alpha");
        }
        events.awaitNoMember("alpha", 5_000);
        events.awaitMember(standby("alpha", 3), 5_000);
    }

    @Test
    void primaryKilledWithSigkillIsGoneWithinItsLeaseAndAStandbyElectsEpochTwo() throws Exception {
        Events betaEvents = new Events();
        ClusterSession beta = join("beta", betaEvents);
        beta.publish(standby("beta", 3));
        Process alpha = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), PrimaryProcess.class.getName(),
                coordinator.connectString(), SERVICE, "alpha", Long.toString(LEASE_MS))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(alpha.getInputStream()));
            String line = CompletableFuture.supplyAsync(() -> readLine(out)).get(20, TimeUnit.SECONDS);
            assertEquals("primary epoch 1", line);
            betaEvents.awaitMember(new Member("alpha", Role.PRIMARY, "", 0, 1), 5_000);

            long killed = System.nanoTime();
            alpha.destroyForcibly(); // SIGKILL: no goodbye to ZooKeeper
            Events.Seen<Member> gone = betaEvents.awaitPrimaryGone(LEASE_MS + 2_000);
            long millis = TimeUnit.NANOSECONDS.toMillis(gone.atNanos() - killed);
            System.out.println("kill -9 of the primary to primaryGone: " + millis + " ms at a lease of " + LEASE_MS + " ms");
            assertEquals("alpha", gone.what().name());
            assertTrue(millis <= LEASE_MS + 500, "primaryGone came " + millis + " ms after the kill, lease " + LEASE_MS);
        } finally {
            alpha.destroyForcibly();
            assertTrue(alpha.waitFor(10, TimeUnit.SECONDS), "the primary's JVM did not die");
        }
        assertEquals(2, beta.elect(() -> new Standing(0, 3), Duration.ofSeconds(5)));
        assertTrue(beta.isPrimary());
        assertEquals(Optional.of(new Member("beta", Role.PRIMARY, "127.0.0.1:7000", 3, 2)), beta.primary());
    }

    @Test
    void mostUpToDateStandbyWinsAndTheOtherFollowsIt() throws Exception {
        ClusterSession alpha = join("alpha", new Events());
        Events betaEvents = new Events();
        Events gammaEvents = new Events();
        ClusterSession beta = join("beta", betaEvents);
        ClusterSession gamma = join("gamma", gammaEvents);
        beta.publish(standby("beta", 5));
        gamma.publish(standby("gamma", 7));
        assertEquals(1, alpha.becomePrimary(Duration.ofSeconds(1)));
        Member alphaPrimary = new Member("alpha", Role.PRIMARY, "", 0, 1);
        betaEvents.awaitMember(alphaPrimary, 5_000);
        gammaEvents.awaitMember(alphaPrimary, 5_000);

        alpha.close();
        assertEquals(alphaPrimary, betaEvents.awaitPrimaryGone(5_000).what());
        assertEquals(alphaPrimary, gammaEvents.awaitPrimaryGone(5_000).what());

        ExecutorService electors = Executors.newFixedThreadPool(2);
        try {
            Future<Long> betaElected = electors.submit(() -> beta.elect(() -> new Standing(0, 5), Duration.ofSeconds(10)));
            Future<Long> gammaElected = electors.submit(() -> gamma.elect(() -> new Standing(0, 7), Duration.ofSeconds(10)));
            assertEquals(2, gammaElected.get(15, TimeUnit.SECONDS), "the standby with committedSeq 7 must win");
            assertEquals(-1, betaElected.get(15, TimeUnit.SECONDS), "the standby with committedSeq 5 must follow");
        } finally {
            electors.shutdownNow();
        }
        assertTrue(gamma.isPrimary());
        assertFalse(beta.isPrimary());
        assertEquals(Optional.of(new Member("gamma", Role.PRIMARY, "127.0.0.1:7000", 7, 2)), beta.primary());
        assertEquals(2, beta.epoch());
    }

    @Test
    void aStandbyThatStandsFirstWaitsForTheOthersAndLosesToTheMoreUpToDate() throws Exception {
        ClusterSession beta = join("beta", new Events());
        ClusterSession gamma = join("gamma", new Events());
        beta.publish(standby("beta", 5));
        gamma.publish(standby("gamma", 7));
        CountDownLatch betaStood = new CountDownLatch(1);
        ExecutorService elector = Executors.newSingleThreadExecutor();
        try {
            Future<Long> betaElected = elector.submit(() -> beta.elect(() -> {
                betaStood.countDown();
                return new Standing(0, 5);
            }, Duration.ofSeconds(10)));
            assertTrue(betaStood.await(5, TimeUnit.SECONDS), "beta never stood");
            assertEquals(1, gamma.elect(() -> new Standing(0, 7), Duration.ofSeconds(10)), "gamma, the more up to date, must win");
            assertEquals(-1, betaElected.get(15, TimeUnit.SECONDS));
        } finally {
            elector.shutdownNow();
        }
    }

    @Test
    void primaryCutOffFromZooKeeperLosesItsLeaseBeforeAStandbyCanTakeOver() throws Exception {
        try (SilentLink link = new SilentLink(new InetSocketAddress("127.0.0.1", port(coordinator)))) {
            Events alphaEvents = new Events();
            ClusterSession alpha = join(link.connectString(), "alpha", alphaEvents);
            Events betaEvents = new Events();
            ClusterSession beta = join("beta", betaEvents);
            beta.publish(standby("beta", 9));
            assertEquals(1, alpha.becomePrimary(Duration.ofSeconds(1)));
            betaEvents.awaitMember(new Member("alpha", Role.PRIMARY, "", 0, 1), 5_000);

            long cut = System.nanoTime();
            link.cut();
            long lost = alphaEvents.awaitLeaseLost(LEASE_MS);
            assertFalse(alpha.isPrimary(), "a primary that lost its lease must not think it is primary");
            Events.Seen<Member> gone = betaEvents.awaitPrimaryGone(LEASE_MS + 2_000);
            long lostMillis = TimeUnit.NANOSECONDS.toMillis(lost - cut);
            long goneMillis = TimeUnit.NANOSECONDS.toMillis(gone.atNanos() - cut);
            System.out.println("silent cut to leaseLost (SUSPENDED): " + lostMillis + " ms; to the standby's primaryGone: "
                    + goneMillis + " ms; margin " + (goneMillis - lostMillis) + " ms at a lease of " + LEASE_MS + " ms");
            assertTrue(lost < gone.atNanos(), "the cut-off primary must learn it before a standby can take over");
            assertEquals(2, beta.elect(() -> new Standing(0, 9), Duration.ofSeconds(5)));

            link.mend();
            // Its session expired: it comes back as a standby of the epoch it ran, and never as primary.
            betaEvents.awaitMember(new Member("alpha", Role.STANDBY, "", 0, 1), 10_000);
            assertFalse(alpha.isPrimary());
            assertEquals(Optional.of(new Member("beta", Role.PRIMARY, "127.0.0.1:7000", 9, 2)), alpha.primary());
        }
    }

    @Test
    void stoppedCoordinatorTakesThePrimarysLeaseAtOnce() throws Exception {
        Events events = new Events();
        ClusterSession alpha = join("alpha", events);
        assertEquals(1, alpha.becomePrimary(Duration.ofSeconds(1)));
        assertFalse(events.leaseLostReported());

        long stopped = System.nanoTime();
        coordinator.close();
        long lost = events.awaitLeaseLost(LEASE_MS);
        System.out.println("coordinator stopped to leaseLost: " + TimeUnit.NANOSECONDS.toMillis(lost - stopped) + " ms");
        assertFalse(alpha.isPrimary());
    }

    @Test
    void epochNeverDecreasesAcrossACoordinatorRestart() {
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port(coordinator));
        try (ClusterSession alpha = ClusterSession.join(coordinator.connectString(), SERVICE, "alpha", LEASE, new Events())) {
            assertEquals(1, alpha.becomePrimary(Duration.ofSeconds(1)));
        }
        coordinator.close();
        coordinator = Coordinator.start(address, data);
        ClusterSession beta = join("beta", new Events());
        assertEquals(1, beta.epoch());
        assertEquals(2, beta.becomePrimary(Duration.ofSeconds(1)));
    }

    @Test
    void secondCoordinatorOnATakenPortIsRefusedWithTheFix() {
        HotcloneException refused = assertThrows(HotcloneException.class,
                () -> Coordinator.start(new InetSocketAddress("127.0.0.1", port(coordinator)), data.resolve("other")));
        assertTrue(refused.getMessage().contains("the port is taken"), refused.getMessage());
    }

    @Test
    void joiningWhereNoZooKeeperAnswersNamesTheAddress() {
        String nowhere = "127.0.0.1:" + port(coordinator);
        coordinator.close();
        HotcloneException refused = assertThrows(HotcloneException.class, () -> join(nowhere, "alpha", new Events()));
        assertTrue(refused.getMessage().contains("no ZooKeeper answered at " + nowhere), refused.getMessage());
    }

    @Test
    void bestCandidateHasTheNewestEpochThenTheHighestSeqThenTheSmallestName() {
        assertEquals(Optional.of("c"), PrimaryElection.best(Map.of("a", new Standing(1, 5), "b", new Standing(1, 6),
                "c", new Standing(1, 7))));
        assertEquals(Optional.of("a"), PrimaryElection.best(Map.of("b", new Standing(1, 7), "a", new Standing(1, 7),
                "c", new Standing(1, 1))));
        assertEquals(Optional.of("b"), PrimaryElection.best(Map.of("a", new Standing(1, 100), "b", new Standing(2, 95))),
                "a higher seq of an older reign is a history the service left");
        assertEquals(Optional.empty(), PrimaryElection.best(Map.of()));
    }

    private static int port(Coordinator c) {
        String connect = c.connectString();
        return Integer.parseInt(connect.substring(connect.lastIndexOf(':') + 1));
    }

    private static String readLine(BufferedReader in) {
        try {
            return in.readLine();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
