package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.cluster.Coordinator;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.Journal;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import io.hotclone.testkit.net.Node;
import io.hotclone.testkit.net.NodeProcess;
import io.hotclone.testkit.net.Testbed;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A primary and standbys, each a node of its own (network and PID namespaces), with a
 * coordinator: the failures the cluster is built for, as an operator would meet them.
 */
class FailoverTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int PORT = 7100;
    private static final Pattern SWITCHED = Pattern.compile(
            "(\\S+) .*switched: pid (\\d+) from checkpoint seq (\\d+) in \\d+ ms .*restore (\\d+) ms.*");
    private static final Pattern TICK = Pattern.compile("tick (\\d+)");
    private static final Pattern LISTENING = Pattern.compile(".*standby of service \\S+ listening on .*");
    // In `hotclone status --json`.
    private static final Pattern MEMBER = Pattern.compile(
            "\\{\"name\": \"(\\w+)\", \"role\": \"(\\w+)\", \"replication\": \"[^\"]*\", \"seq\": \\d+, \"epoch\": (\\d+),"
                    + " \"vids\": \\{([^}]*)}}");
    private static final Pattern SERVICE_EPOCH = Pattern.compile("\"epoch\": (\\d+), \"ended\"");
    // A copy of the program begins with one (or a switch) and ends with the other.
    private static final Pattern STARTED = Pattern.compile("(\\S+) .*protecting .* as pid \\d+,.*");
    private static final Pattern STOPPED = Pattern.compile(
            "(\\S+) .*(lease of service \\S+ lost .*killing the program|program pid \\d+ exited with status).*");

    @TempDir
    Path dir;

    private Testbed testbed;
    private Coordinator coordinator;
    private String zk;
    private final List<Program> programs = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        HotcloneCli.Run built = HotcloneCli.run(dir, "--version"); // builds ./hotclone once, outside the nodes
        assertEquals(0, built.exitCode(), built.toString());
        testbed = Testbed.create();
        coordinator = Coordinator.start(new InetSocketAddress(testbed.hostAddress(), 0), dir.resolve("coordinator"));
        zk = coordinator.connectString();
    }

    @AfterEach
    void stop() {
        programs.forEach(Program::close);
        if (testbed != null) {
            testbed.close();
        }
        if (coordinator != null) {
            coordinator.close();
        }
    }

    @Test
    void whenThePrimaryNodeDiesTheStandbyResumesTheProgramFromItsLastCheckpoint() throws Exception {
        Pair pair = startPair();
        Node a = pair.a();
        Node b = pair.b();
        NodeProcess standby = pair.standby();
        NodeProcess primary = pair.primary();
        Path verify = pair.verify();
        HotcloneCli.Run now = HotcloneCli.run(dir, "checkpoint", "--journal", journal(a).toString(), "--now");
        assertEquals(0, now.exitCode(), now.toString());
        Matcher asked = Pattern.compile("seq=(\\d+) ").matcher(now.out());
        assertTrue(asked.find(), now.toString());
        try (Journal replica = Journal.inspect(journal(b))) {
            assertTrue(replica.checkpoints().getLast().seq() >= Long.parseLong(asked.group(1)),
                    "with --ack all, --now answers once the standby holds the checkpoint: " + now.out());
        }

        long crash = System.nanoTime();
        a.kill();
        long lastOnPrimary = output(primary).lastTick();
        Matcher switched = SWITCHED.matcher(standby.awaitLine(SWITCHED, WAIT));
        assertTrue(switched.matches());
        long resumedTick = Long.parseLong(TICK.matcher(standby.awaitLine(TICK, WAIT)).replaceAll("$1"));
        long gapMillis = (System.nanoTime() - crash) / 1_000_000;
        System.out.println("failover: " + switched.group() + "; crash to first resumed output " + gapMillis + " ms");

        // Ticks and checkpoints both come every 100 ms: at most a few intervals are lost.
        assertTrue(resumedTick >= lastOnPrimary - 5 && resumedTick <= lastOnPrimary + 1, "resumes from a recent"
                + " checkpoint (seq " + switched.group(3) + "), not from the start: tick " + resumedTick
                + ", and the primary had printed tick " + lastOnPrimary + " when it died");
        assertTrue(gapMillis <= 3000, "crash to first resumed output took " + gapMillis + " ms (at most 3 s)");
        Program resumed = adopt(standby, Integer.parseInt(switched.group(2)));
        Verify.assertPasses(resumed, verify, WAIT);
    }

    /**
     * A CPython ThreadingHTTPServer counting its requests: idle between them, a checkpoint holds
     * its listening socket and no connection, and after the switch it serves on its port the count
     * it had at the checkpoint and counts on.
     */
    @Test
    void anHttpServerServesItsCountOnItsPortAfterTheSwitch() throws Exception {
        Node a = testbed.node("a");
        Node b = testbed.node("b");
        NodeProcess standby = standby(b);
        NodeProcess primary = primary(a, List.of(), List.of(TestPrograms.python().toString(),
                TestPrograms.source("httpcounter.py").toString()));
        Matcher ready = Pattern.compile("ready port=(\\d+)").matcher(primary.awaitLine(Pattern.compile(
                "ready port=\\d+"), WAIT));
        assertTrue(ready.find());
        String port = ready.group(1);
        for (int i = 1; i <= 3; i++) {
            assertEquals(Integer.toString(i), get(a, port), "the primary counts its requests");
        }
        HotcloneCli.Run now = HotcloneCli.run(dir, "checkpoint", "--journal", journal(a).toString(), "--now");
        assertEquals(0, now.exitCode(), now.toString());
        Matcher asked = Pattern.compile("seq=(\\d+) ").matcher(now.out());
        assertTrue(asked.find(), now.toString());
        awaitReplica(b, Long.parseLong(asked.group(1)));

        a.kill();
        assertTrue(SWITCHED.matcher(standby.awaitLine(SWITCHED, WAIT)).matches());
        assertEquals("4", get(b, port), "the new primary serves on the same port the count of the checkpoint, plus one");
        assertEquals("5", get(b, port));
    }

    /**
     * A parent and two children passing a token around a ring of pipes and a socketpair, a
     * logging thread in the parent, each child checking its pid and its parent's on every pass:
     * the primary node killed, the standby resumes the parent with both children, with the same
     * pids in the program, and its self-check passes.
     */
    @Test
    void aProcessTreeResumesWithBothChildrenAndTheirIdsAfterTheSwitch() throws Exception {
        Node a = testbed.node("a");
        Node b = testbed.node("b");
        NodeProcess standby = standby(b);
        Path verify = dir.resolve("verify");
        NodeProcess primary = primary(a, List.of(), List.of(TestPrograms.compile("tree").toString(), "--verify-file",
                verify.toString()));
        awaitSteadyReplication(primary, a, b);

        a.kill();
        Matcher switched = SWITCHED.matcher(standby.awaitLine(SWITCHED, WAIT));
        assertTrue(switched.matches());
        standby.awaitLine(TICK, WAIT);
        Program resumed = adopt(standby, Integer.parseInt(switched.group(2)));
        // A copy-on-write copy a checkpoint makes of the parent is its child too, with no exit signal: not the program's.
        List<Long> children = ProcessHandle.of(resumed.pid()).orElseThrow().children()
                .filter(c -> exitSignal(c.pid()) != 0).map(c -> nsPids(c.pid()).getLast()).sorted().toList();
        assertEquals(List.of(2L, 3L), children, "the parent resumes with both its children, as pids 2 and 3 of the"
                + " program's namespace");
        Verify.assertPasses(resumed, verify, WAIT);
    }

    /** One GET / from inside {@code node} to 127.0.0.1:{@code port}; the body, stripped. */
    private String get(Node node, String port) throws IOException {
        Path out = dir.resolve("get-" + node.name() + "-" + System.nanoTime() + ".out");
        NodeProcess client = node.start(List.of(TestPrograms.python().toString(), "-c",
                "import urllib.request\nprint(urllib.request.urlopen('http://127.0.0.1:" + port + "/', timeout=20)"
                        + ".read().decode().strip())"), Map.of(), out);
        assertEquals(0, client.awaitExit(WAIT), "GET / on " + node.name() + ": " + Files.readString(out));
        return Files.readString(out).strip();
    }

    @Test
    void anIsolatedPrimaryStopsItsProgramBeforeTheStandbyTakesOverAndRejoinsAfterHealing() throws Exception {
        Pair pair = startPair();
        Node a = pair.a();
        Node b = pair.b();
        NodeProcess standby = pair.standby();
        NodeProcess primary = pair.primary();
        Path verify = pair.verify();

        assertTrue(lines(standby.log()).stream().noneMatch(l -> SWITCHED.matcher(l).matches()),
                "the primary kept its lease until the cut (an overloaded machine can lose one): " + standby.log());
        a.cut();
        String killed = primary.awaitLine(Pattern.compile("(\\S+) .*lease of service \\S+ lost .*killing the program.*"),
                WAIT);
        Matcher switched = SWITCHED.matcher(standby.awaitLine(SWITCHED, WAIT));
        assertTrue(switched.matches());
        LocalTime oldCopyKilled = LocalTime.parse(killed.substring(0, killed.indexOf(' ')));
        LocalTime newCopyBorn = LocalTime.parse(switched.group(1)).minusNanos(
                Duration.ofMillis(Long.parseLong(switched.group(4))).toNanos());
        assertTrue(oldCopyKilled.isBefore(newCopyBorn), "never two live copies: the isolated primary killed its program"
                + " at " + oldCopyKilled + ", and the standby began its restore at " + newCopyBorn);

        a.heal();
        primary.awaitLine(LISTENING, WAIT);
        long epoch = awaitEpoch(a, 2).epoch();
        assertEquals(2, epoch, "the old primary, healed, holds checkpoints of the new primary's epoch");
        Verify.assertPasses(adopt(standby, Integer.parseInt(switched.group(2))), verify, WAIT);
    }

    @Test
    void ofTwoStandbysTheMoreUpToDateOneWinsAndTheOtherFollowsIt() throws Exception {
        Trio trio = startTrio();
        Node a = trio.a();
        Node b = trio.b();
        Node c = trio.c();
        NodeProcess standbyB = trio.standbyB();
        NodeProcess standbyC = trio.standbyC();
        Path verify = trio.verify();
        NodeProcess primary = trio.primary();
        output(primary).awaitTick(5, WAIT);
        long behind = awaitReplica(c, 2).seq();
        c.cut(); // c falls behind while b keeps up
        awaitReplica(b, behind + 5);
        a.kill();
        c.heal();

        Matcher switched = SWITCHED.matcher(standbyB.awaitLine(SWITCHED, WAIT));
        assertTrue(switched.matches(), "b, the more up-to-date standby, takes over");
        assertEquals(2, awaitEpoch(c, 2).epoch(), "c follows b: it receives b's checkpoints");
        assertTrue(lines(standbyC.log()).stream().noneMatch(l -> SWITCHED.matcher(l).matches()),
                "c, behind, did not take over: " + standbyC.log());
        // c may be between two sessions after its cut: it is a member again once its old session has expired
        Pattern bWithVids = Pattern.compile("\\{\"name\": \"b\", \"role\": \"PRIMARY\", [^}]*\"vids\": \\{\"\\d+\"");
        String status = awaitStatus(out -> out.contains("\"epoch\": 2") && bWithVids.matcher(out).find()
                && out.contains("{\"name\": \"c\", \"role\": \"STANDBY\""), "c's cut is healed");
        Matcher entry = MEMBER.matcher(status);
        while (entry.find() && !entry.group(1).equals("b")) {
            // to the new primary's entry
        }
        assertTrue(entry.group(4).matches("\"\\d+\": " + switched.group(2)),
                "the new primary's vid table shows the resumed program's pid behind its id: " + status);
        Verify.assertPasses(adopt(standbyB, Integer.parseInt(switched.group(2))), verify, WAIT);
    }

    /**
     * A standby killed at random moments of its replication (inside a checkpoint's records, or
     * between two) and started again resumes after the last checkpoint its journal committed: the
     * primary never resets it to a full copy. memstate rewrites its heap every tick, so that
     * full checkpoints come often and the primary's retention runs meanwhile. Seeded
     * ({@code -Dhotclone.seed}); {@code -Dhotclone.trials} kills (default 3).
     */
    @Test
    void aStandbyKilledAtRandomMomentsResumesFromItsLastCheckpointWithoutAFullCopy() throws Exception {
        long seed = Long.getLong("hotclone.seed", System.nanoTime());
        int trials = Integer.getInteger("hotclone.trials", 3);
        java.util.Random random = new java.util.Random(seed);
        System.out.println("standby restarts: seed " + seed + " (-Dhotclone.seed to replay), " + trials + " trials");
        Node a = testbed.node("a");
        Node b = testbed.node("b");
        standby(b);
        Path verify = dir.resolve("verify");
        NodeProcess primary = primary(a, List.of(), memstate(verify));
        awaitSteadyReplication(primary, a, b);
        for (int trial = 1; trial <= trials; trial++) {
            String where = "trial " + trial + " of " + trials + ", seed " + seed;
            awaitReplica(b, awaitReplica(b, 1).seq() + 1 + random.nextInt(4));
            b.kill();
            long held;
            try (Journal replica = Journal.inspect(journal(b))) {
                held = replica.checkpoints().getLast().seq();
            }
            NodeProcess standby = standby(b);
            awaitReplica(b, held + 2);
            // A standby left inside its first checkpoint holds nothing to resume from: its reset costs nothing.
            List<String> resets = lines(primary.log()).stream()
                    .filter(l -> l.contains("resetting it") && l.contains(" holds checkpoint ")).toList();
            assertEquals(List.of(), resets, where + ": the standby held seq " + held + "\n" + events(standby));
        }
        System.out.println("standby restarts: " + trials + " of " + trials + " resumed without a full copy");
    }

    /**
     * The coordinator killed at random moments (while the primary checkpoints, and in about half
     * the trials once more while the cluster recovers from that) and started again on its port
     * and data after a random downtime of up to 3 s. The primary stops its program as it loses
     * contact; a node resumes it once the coordinator is back, never while another copy lives,
     * from a checkpoint no older than both nodes held; the service ends each trial with one
     * primary committing new checkpoints and the other node following it, and the program passes
     * its self-check. Seeded ({@code -Dhotclone.seed}); {@code -Dhotclone.trials} trials (default 3).
     */
    @Test
    void theCoordinatorKilledAtRandomMomentsNeverLetsTwoCopiesRunAndTheServiceRecoversWhenItReturns()
            throws Exception {
        long seed = Long.getLong("hotclone.seed", System.nanoTime());
        int trials = Integer.getInteger("hotclone.trials", 3);
        java.util.Random random = new java.util.Random(seed);
        System.out.println("coordinator restarts: seed " + seed + " (-Dhotclone.seed to replay), " + trials + " trials");
        Map<String, Node> nodes = Map.of("a", testbed.node("a"), "b", testbed.node("b"));
        Map<String, NodeProcess> processes = new java.util.HashMap<>();
        processes.put("b", standby(nodes.get("b")));
        Path verify = dir.resolve("verify");
        // An overloaded machine adds switches of its own (a lost lease), so memstate does not count
        // its log's steps back, one per restore; two writers at once show there as gaps.
        processes.put("a", primary(nodes.get("a"), List.of(), memstate(verify, "--log-steps-back", "1000000")));
        awaitSteadyReplication(processes.get("a"), nodes.get("a"), nodes.get("b"));
        Reign reign = awaitOnePrimary(1, "the start");
        int kills = 0;
        for (int trial = 1; trial <= trials; trial++) {
            String where = "trial " + trial + " of " + trials + ", seed " + seed;
            Node standbyNode = nodes.get(reign.primary().equals("a") ? "b" : "a");
            awaitReplica(standbyNode, awaitReplica(standbyNode, 1).seq() + 1 + random.nextInt(4));
            List<CheckpointSummary> held = nodes.values().stream().map(n -> awaitReplica(n, 1)).toList();
            long floor = held.stream().mapToLong(CheckpointSummary::seq).min().orElseThrow();
            long epochAtKill = Math.max(reign.epoch(), held.stream().mapToLong(CheckpointSummary::epoch).max().orElseThrow());
            killCoordinator(Duration.ofMillis(random.nextInt(3000)), where);
            kills++;
            if (random.nextBoolean()) {
                Thread.sleep(random.nextInt(2000)); // the moment of the second kill, inside the recovery
                killCoordinator(Duration.ofMillis(random.nextInt(3000)), where);
                kills++;
            }

            reign = awaitCommittingPrimary(nodes, epochAtKill + 1, where);
            Matcher last = SWITCHED.matcher(processes.get(reign.primary()).awaitLine(
                    Pattern.compile(".*switched: .*, epoch " + reign.epoch()), WAIT));
            assertTrue(last.matches());
            for (NodeProcess node : processes.values()) {
                for (String line : lines(node.log())) {
                    Matcher switched = SWITCHED.matcher(line);
                    if (switched.matches() && switchEpoch(line) > epochAtKill) {
                        assertTrue(Long.parseLong(switched.group(3)) >= floor, where + ": no committed checkpoint"
                                + " lost: both nodes held seq " + floor + " when the coordinator died, and "
                                + node.log().getFileName() + " resumed from seq " + switched.group(3) + "\n" + events());
                    }
                }
            }
            awaitEpoch(nodes.get(reign.primary().equals("a") ? "b" : "a"), reign.epoch());
            assertOneCopyAtATime(where);
        }
        Matcher last = SWITCHED.matcher(processes.get(reign.primary()).awaitLine(
                Pattern.compile(".*switched: .*, epoch " + reign.epoch()), WAIT));
        assertTrue(last.matches());
        Program resumed = adopt(processes.get(reign.primary()), Integer.parseInt(last.group(2)));
        resumed.signal(Program.SIGUSR1); // its handler's run is part of its check
        Verify.assertPasses(resumed, verify, WAIT);
        System.out.println("coordinator restarts: " + trials + " of " + trials + " trials (" + kills + " kills, "
                + (reign.epoch() - 1) + " switches) recovered with one copy at a time; the program passed its self-check");
    }

    /**
     * The coordinator down for longer than a node's ZooKeeper client retries a call (about 5 s
     * at a 1 s lease): the primary that stopped its program waits for it as a standby instead of
     * exiting, and once it is back the service has one primary and one standby again, and the
     * program passes its self-check.
     */
    @Test
    void aPrimaryThatLostItsLeaseWaitsAsAStandbyForACoordinatorDownLongerThanItsRetries() throws Exception {
        Pair pair = startPair();
        killCoordinator(Duration.ofSeconds(15), "a long outage");
        Reign reign = awaitOnePrimary(2, "after a long outage");
        NodeProcess primary = reign.primary().equals("a") ? pair.primary() : pair.standby();
        Matcher switched = SWITCHED.matcher(primary.awaitLine(
                Pattern.compile(".*switched: .*, epoch " + reign.epoch()), WAIT));
        assertTrue(switched.matches());
        Verify.assertPasses(adopt(primary, Integer.parseInt(switched.group(2))), pair.verify(), WAIT);
    }

    /**
     * Stops the coordinator and starts it again on the same address and data after
     * {@code downtime}. Closing it drops every client's connection at once and ends no session,
     * as its process's death would: the sessions live on in its data and expire a lease after
     * it returns, unless their nodes reconnect first.
     */
    private void killCoordinator(Duration downtime, String where) throws InterruptedException {
        InetSocketAddress address = coordinator.address();
        coordinator.close();
        System.out.println("coordinator restarts: " + where + ": killed at " + LocalTime.now() + ", down for "
                + downtime.toMillis() + " ms");
        Thread.sleep(downtime); // the length of the outage, not a wait for anything
        coordinator = Coordinator.start(address, dir.resolve("coordinator"));
    }

    /**
     * Waits for a primary of epoch {@code epoch} or later that commits a checkpoint of its own. A
     * reign the coordinator shows can end before its first checkpoint (the second kill of a trial
     * lands just after an election, or the coordinator restarted with the old session still live):
     * the checkpoint found is then of a later epoch, and the reign of that epoch is the one awaited.
     */
    private Reign awaitCommittingPrimary(Map<String, Node> nodes, long epoch, String where) throws Exception {
        Reign reign = awaitOnePrimary(epoch, where);
        while (true) {
            long shown = reign.epoch();
            CheckpointSummary committed = awaitJournal(nodes.get(reign.primary()), c -> c.epoch() >= shown,
                    "a checkpoint of epoch " + shown + " or later (" + where + ")");
            if (committed.epoch() == shown) {
                return reign;
            }
            reign = awaitOnePrimary(committed.epoch(), where);
        }
    }

    /** Who is primary, and in which epoch. */
    private record Reign(String primary, long epoch) {
    }

    /** Waits until the coordinator shows exactly one primary, in the service's epoch and at least {@code epoch}, and one standby. */
    private Reign awaitOnePrimary(long epoch, String where) throws Exception {
        java.util.function.Predicate<String> wanted = out -> onePrimary(out).filter(r -> r.epoch() >= epoch).isPresent();
        return onePrimary(awaitStatus(wanted, where)).orElseThrow();
    }

    /** The primary `hotclone status --json` shows if it shows exactly one, in the service's epoch, and one standby. */
    private static java.util.Optional<Reign> onePrimary(String status) {
        Matcher epoch = SERVICE_EPOCH.matcher(status);
        long serviceEpoch = epoch.find() ? Long.parseLong(epoch.group(1)) : -1;
        List<Reign> primaries = new ArrayList<>();
        int standbys = 0;
        for (Matcher m = MEMBER.matcher(status); m.find(); ) {
            if (m.group(2).equals("PRIMARY") && Long.parseLong(m.group(3)) == serviceEpoch) {
                primaries.add(new Reign(m.group(1), serviceEpoch));
            } else if (m.group(2).equals("STANDBY")) {
                standbys++;
            }
        }
        return primaries.size() == 1 && standbys == 1 ? java.util.Optional.of(primaries.getFirst())
                : java.util.Optional.empty();
    }

    private static long switchEpoch(String switchedLine) {
        Matcher epoch = Pattern.compile(", epoch (\\d+)$").matcher(switchedLine);
        assertTrue(epoch.find(), switchedLine);
        return Long.parseLong(epoch.group(1));
    }

    /** A copy of the program on a node: from its start or resume until its node killed it or saw it exit (null: still running). */
    private record Copy(String log, LocalTime born, LocalTime gone) {
    }

    /** Never two live copies: from the nodes' logs, each copy was stopped before the next one was born, on any node. */
    private void assertOneCopyAtATime(String where) {
        List<Copy> copies = new ArrayList<>();
        try (var logs = Files.list(dir)) {
            for (Path log : logs.filter(p -> p.getFileName().toString().matches("[a-z]\\.log")).sorted().toList()) {
                LocalTime born = null;
                for (String line : lines(log)) {
                    Matcher started = STARTED.matcher(line);
                    Matcher switched = SWITCHED.matcher(line);
                    Matcher stopped = STOPPED.matcher(line);
                    if (born == null && started.matches()) {
                        born = LocalTime.parse(started.group(1));
                    } else if (born == null && switched.matches()) {
                        born = LocalTime.parse(switched.group(1)).minusNanos(
                                Duration.ofMillis(Long.parseLong(switched.group(4))).toNanos());
                    } else if (born != null && stopped.matches()) {
                        copies.add(new Copy(log.getFileName().toString(), born, LocalTime.parse(stopped.group(1))));
                        born = null;
                    }
                }
                if (born != null) {
                    copies.add(new Copy(log.getFileName().toString(), born, null));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        copies.sort(java.util.Comparator.comparing(Copy::born));
        for (int i = 1; i < copies.size(); i++) {
            Copy before = copies.get(i - 1);
            Copy next = copies.get(i);
            assertTrue(before.gone() != null && before.gone().isBefore(next.born()), where + ": never two live copies:"
                    + " the copy on " + before + " still ran when the one on " + next + " was born\n" + events());
        }
    }

    @Test
    void whenOnlyThePrimarysHotcloneIsKilledItsProgramDiesBeforeTheStandbyResumesIt() throws Exception {
        Node a = testbed.node("a");
        Node b = testbed.node("b");
        NodeProcess standby = standby(b);
        Path verify = dir.resolve("verify");
        // A shell is the first process of a's PID namespace, so the JVM dies alone, its program reparented.
        NodeProcess primary = primary(a, List.of("/bin/sh", "-c", "\"$@\"; exit $?", "sh"), counter(verify));
        awaitSteadyReplication(primary, a, b);
        Matcher protecting = Pattern.compile(".* as pid (\\d+),.*").matcher(primary.awaitLine(
                Pattern.compile(".*protecting .* as pid \\d+,.*"), WAIT));
        assertTrue(protecting.matches());
        Program old = adopt(primary, Integer.parseInt(protecting.group(1)));
        ProcessHandle jvm = ProcessHandle.of(primary.pid()).stream().flatMap(ProcessHandle::descendants)
                .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false)).findFirst()
                .orElseThrow(() -> new AssertionError("no JVM among the processes of node a: " + primary.log()));

        jvm.destroyForcibly();
        old.awaitExit(Duration.ofSeconds(5));
        LocalTime oldCopyGone = LocalTime.now();
        Matcher switched = SWITCHED.matcher(standby.awaitLine(SWITCHED, WAIT));
        assertTrue(switched.matches());
        LocalTime newCopyBorn = LocalTime.parse(switched.group(1)).minusNanos(
                Duration.ofMillis(Long.parseLong(switched.group(4))).toNanos());
        assertTrue(oldCopyGone.isBefore(newCopyBorn), "never two live copies: the old program was gone at "
                + oldCopyGone + ", and the standby began its restore at " + newCopyBorn);
        Program resumed = adopt(standby, Integer.parseInt(switched.group(2)));
        resumed.awaitTick(1, WAIT);
        assertFalse(old.isAlive(), "one writer: the old program is gone as the resumed one writes");
        Verify.assertPasses(resumed, verify, WAIT);
    }

    /**
     * The standby that wins the election dies in the middle of its switch (as soon as it says it
     * won, before or while it restores): the other standby takes over from its own journal, and
     * the program carries on and passes its self-check.
     */
    @Test
    void whenTheWinningStandbyDiesDuringItsSwitchTheOtherStandbyTakesOver() throws Exception {
        Trio trio = startTrio();
        Node a = trio.a();
        Node b = trio.b();
        Node c = trio.c();
        NodeProcess standbyB = trio.standbyB();
        NodeProcess standbyC = trio.standbyC();
        Path verify = trio.verify();
        NodeProcess primary = trio.primary();
        output(primary).awaitTick(10, WAIT);
        long held = awaitReplica(a, 10).seq() - 1;
        awaitReplica(b, held);
        awaitReplica(c, held);
        a.kill();
        Pattern won = Pattern.compile(".* (b|c) is primary of service \\S+ in epoch 2");
        Matcher winner = won.matcher(awaitEither(standbyB, standbyC, won));
        assertTrue(winner.matches());
        boolean bWon = winner.group(1).equals("b");
        (bWon ? b : c).kill();
        NodeProcess other = bWon ? standbyC : standbyB;

        Matcher switched = SWITCHED.matcher(other.awaitLine(SWITCHED, WAIT));
        assertTrue(switched.matches(), events(other));
        Verify.assertPasses(adopt(other, Integer.parseInt(switched.group(2))), verify, WAIT);
    }

    /** The first line either node logs that {@code line} matches; bounded by {@link #WAIT}. */
    private static String awaitEither(NodeProcess one, NodeProcess two, Pattern line) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (NodeProcess node : List.of(one, two)) {
                for (String l : lines(node.log())) {
                    if (line.matcher(l).matches()) {
                        return l;
                    }
                }
            }
            JournalWatch.pause();
        }
        throw new AssertionError("neither node logged " + line + " within " + WAIT + "\n" + events(one) + "\n" + events(two));
    }

    /** Node a primary of counter, nodes b and c its standbys, just started. */
    private record Trio(Node a, Node b, Node c, NodeProcess primary, NodeProcess standbyB, NodeProcess standbyC,
                        Path verify) {
    }

    private Trio startTrio() {
        Node a = testbed.node("a");
        Node b = testbed.node("b");
        Node c = testbed.node("c");
        NodeProcess standbyB = standby(b);
        NodeProcess standbyC = standby(c);
        Path verify = dir.resolve("verify");
        return new Trio(a, b, c, primary(a, verify), standbyB, standbyC, verify);
    }

    /** Node a primary, node b its standby, replicating steadily. */
    private record Pair(Node a, Node b, NodeProcess primary, NodeProcess standby, Path verify) {
    }

    private Pair startPair() {
        Node a = testbed.node("a");
        Node b = testbed.node("b");
        NodeProcess standby = standby(b);
        Path verify = dir.resolve("verify");
        NodeProcess primary = primary(a, verify);
        awaitSteadyReplication(primary, a, b);
        return new Pair(a, b, primary, standby, verify);
    }

    private NodeProcess standby(Node node) {
        NodeProcess standby = node.start(hotclone("standby", "--name", node.name(), "--listen",
                node.address().getHostAddress() + ":" + PORT, "--journal", journal(node).toString(), "--zk", zk),
                Map.of(), dir.resolve(node.name() + ".log"));
        standby.awaitLine(LISTENING, WAIT);
        return standby;
    }

    private NodeProcess primary(Node node, Path verify) {
        return primary(node, List.of(), counter(verify));
    }

    private List<String> memstate(Path verify, String... options) {
        List<String> command = new ArrayList<>(List.of(TestPrograms.compile("memstate").toString(), "--verify-file",
                verify.toString(), "--log", dir.resolve("memstate.log").toString(), "--data",
                dir.resolve("memstate.data").toString(), "--heap-mib", "16"));
        command.addAll(List.of(options));
        return command;
    }

    private static List<String> counter(Path verify) {
        return List.of(TestPrograms.compile("counter").toString(), "--verify-file", verify.toString());
    }

    /**
     * @param wrapper what runs the primary's hotclone, e.g. a shell
     * @param program the program it protects, and its arguments
     */
    private NodeProcess primary(Node node, List<String> wrapper, List<String> program) {
        List<String> run = new ArrayList<>(List.of("run", "--name", node.name(), "--journal", journal(node).toString(),
                "--zk", zk, "--listen", node.address().getHostAddress() + ":" + PORT, "--"));
        run.addAll(program);
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(hotclone(run.toArray(String[]::new)));
        return node.start(command, Map.of(), dir.resolve(node.name() + ".log"));
    }

    private Path journal(Node node) {
        return dir.resolve("journal-" + node.name());
    }

    private static List<String> hotclone(String... args) {
        List<String> command = new ArrayList<>(List.of(TestPrograms.repoRoot().resolve("hotclone").toString()));
        command.addAll(List.of(args));
        return command;
    }

    /** What the node's command and its children printed, read as a program's output (never closed: it would kill). */
    private static Program output(NodeProcess node) {
        return Program.adopt((int) node.pid(), node.log());
    }

    /**
     * Waits until the primary has run a while and the standby holds its newest checkpoint or the
     * one before: the nodes' JVMs lag while they warm up on a small machine.
     */
    private void awaitSteadyReplication(NodeProcess primary, Node primaryNode, Node standbyNode) {
        output(primary).awaitTick(10, WAIT);
        awaitReplica(standbyNode, awaitReplica(primaryNode, 10).seq() - 1);
    }

    /** Waits until `hotclone status --json` prints what {@code wanted} accepts, and returns it; a failure shows the last status and the nodes' events. */
    private String awaitStatus(java.util.function.Predicate<String> wanted, String where) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            HotcloneCli.Run status = HotcloneCli.run(dir, "status", "--zk", zk, "--json");
            assertEquals(0, status.exitCode(), status.toString());
            if (wanted.test(status.out())) {
                return status.out();
            }
            assertTrue(System.nanoTime() < deadline, "status did not become what was expected within " + WAIT + ": "
                    + status.out() + "\n" + where + "\n" + events());
            JournalWatch.pause();
        }
    }

    /** Waits until the node's journal holds committed checkpoint {@code seq} or later; returns the newest. */
    private CheckpointSummary awaitReplica(Node node, long seq) {
        return awaitJournal(node, c -> c.seq() >= seq, "seq " + seq + " or later");
    }

    private CheckpointSummary awaitEpoch(Node node, long epoch) {
        return awaitJournal(node, c -> c.epoch() >= epoch, "a checkpoint of epoch " + epoch);
    }

    private CheckpointSummary awaitJournal(Node node, java.util.function.Predicate<CheckpointSummary> wanted,
                                           String what) {
        try {
            return JournalWatch.await(journal(node), wanted, what, WAIT);
        } catch (HotcloneException e) {
            throw new AssertionError(e.getMessage() + "\n" + events(), e);
        }
    }

    /** What every node's hotclone logged, without the programs' tick lines, for a failure message. */
    private String events() {
        try (var logs = Files.list(dir)) {
            return String.join("\n", logs.filter(p -> p.toString().endsWith(".log")).sorted().map(FailoverTest::events)
                    .toList());
        } catch (IOException e) {
            return "(the nodes' logs cannot be listed: " + e + ")";
        }
    }

    /**
     * The program a node's hotclone runs, known there by its pid in the node's PID namespace (the
     * program itself lives one namespace further down, where it is pid 1).
     */
    private Program adopt(NodeProcess node, int nodePid) {
        long pid = ProcessHandle.of(node.pid()).stream().flatMap(ProcessHandle::descendants)
                .filter(p -> {
                    List<Long> ids = nsPids(p.pid());
                    return ids.size() >= 2 && ids.get(ids.size() - 1) == 1 && ids.get(ids.size() - 2) == nodePid;
                }).findFirst()
                .orElseThrow(() -> new AssertionError("no process of pid " + nodePid + " under " + node.log()))
                .pid();
        Program program = Program.adopt((int) pid, node.log());
        programs.add(program);
        return program;
    }

    /** A process's pid in each PID namespace it belongs to, outermost first (NSpid); empty once it ended. */
    /** The signal process {@code pid} sends its parent as it ends (field 38 of /proc/PID/stat), -1 once it ended. */
    private static int exitSignal(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[35]);
        } catch (IOException e) {
            return -1;
        }
    }

    private static List<Long> nsPids(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("NSpid:")) {
                    return java.util.Arrays.stream(line.substring(6).trim().split("\\s+")).map(Long::parseLong).toList();
                }
            }
            return List.of();
        } catch (IOException e) {
            return List.of(); // it ended meanwhile
        }
    }

    /** What a node's hotclone logged, without its program's tick lines, for a failure message. */
    private static String events(NodeProcess node) {
        return events(node.log());
    }

    private static String events(Path log) {
        return log + ":\n" + String.join("\n", lines(log).stream().filter(l -> !TICK.matcher(l).find()).toList());
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
