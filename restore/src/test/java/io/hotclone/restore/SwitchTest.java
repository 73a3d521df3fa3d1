package io.hotclone.restore;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.Chain;
import io.hotclone.capture.Checkpointer;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.journal.Journal;
import io.hotclone.replication.ReplicaListener;
import io.hotclone.replication.ReplicaServer;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SWITCH automaton's outcomes, driven by a scripted election over a real replica. */
@Timeout(120)
class SwitchTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String SERVICE = "app";

    @TempDir
    Path dir;

    /** An election that answers as scripted and records what the switch asked of it. */
    private static final class Scripted implements Election {
        final List<String> asked = new ArrayList<>();
        OptionalInt ended = OptionalInt.empty();
        OptionalLong won = OptionalLong.empty();
        boolean coordinatorDown;

        @Override
        public OptionalInt ended() {
            asked.add("ended");
            if (coordinatorDown) {
                throw new HotcloneException("no ZooKeeper answered");
            }
            return ended;
        }

        @Override
        public OptionalLong campaign(ReplicaServer replica) {
            asked.add("campaign");
            return won;
        }

        @Override
        public long epoch() {
            asked.add("epoch");
            return 7;
        }

        @Override
        public String primary() {
            asked.add("primary");
            return "other";
        }

        @Override
        public void abandon() {
            asked.add("abandon");
        }
    }

    @Test
    void whenTheProgramEndedOnItsPrimaryNothingIsTakenOver() {
        Scripted election = new Scripted();
        election.ended = OptionalInt.of(3);
        try (ReplicaServer replica = replica(); HotClone clone = new HotClone()) {
            Switch.Outcome outcome = new Switch(SERVICE, dir.resolve("journal"), election).run(replica, clone, System::nanoTime);
            assertEquals(new Switch.Outcome.Ended(3), outcome);
            assertEquals(List.of("ended"), election.asked, "no election once the program ended");
        }
    }

    @Test
    void whenTheCoordinatorCannotSayWhetherTheProgramEndedTheSwitchIsLeftUnsettled() {
        Scripted election = new Scripted();
        election.coordinatorDown = true;
        try (ReplicaServer replica = replica(); HotClone clone = new HotClone()) {
            Switch.Outcome outcome = new Switch(SERVICE, dir.resolve("journal"), election).run(replica, clone, System::nanoTime);
            assertEquals(new Switch.Outcome.Unsettled(), outcome);
        }
    }

    @Test
    void aStandbyWithoutACommittedCheckpointDoesNotStandForPrimary() {
        Scripted election = new Scripted();
        election.won = OptionalLong.of(2);
        try (ReplicaServer replica = replica(); HotClone clone = new HotClone()) {
            Switch.Outcome outcome = new Switch(SERVICE, dir.resolve("journal"), election).run(replica, clone, System::nanoTime);
            assertEquals(new Switch.Outcome.Standby(), outcome);
            assertEquals(List.of("ended"), election.asked, "no candidacy without a checkpoint to resume");
        }
    }

    @Test
    void aStandbyThatLosesTheElectionFencesAtTheWinnersEpochAndStaysAStandby() {
        try (Program program = Program.start(dir, memstate())) {
            checkpoint(program);
            Scripted election = new Scripted();
            try (ReplicaServer replica = replica(); HotClone clone = new HotClone()) {
                Switch.Outcome outcome = new Switch(SERVICE, dir.resolve("journal"), election).run(replica, clone, System::nanoTime);
                assertEquals(new Switch.Outcome.Standby(), outcome);
                assertEquals(List.of("ended", "campaign", "epoch", "primary"), election.asked);
            }
        }
    }

    @Test
    void aStandbyThatWinsWithoutAHotCloneRestoresTheProgramFromItsJournal() {
        Path verify = dir.resolve("verify");
        try (Program program = Program.start(dir, memstate(verify))) {
            long seq = checkpoint(program);
            program.kill9();
            long last = program.lastTick(); // once it is dead: none printed after is missed
            long outputBefore = program.stdoutSize();
            Scripted election = new Scripted();
            election.won = OptionalLong.of(2);
            Switch.Outcome outcome;
            try (ReplicaServer replica = replica(); HotClone clone = new HotClone()) {
                assertEquals(seq, replica.committedSeq());
                outcome = new Switch(SERVICE, dir.resolve("journal"), election).run(replica, clone, System::nanoTime);
            }
            Switch.Outcome.Primary primary = assertInstanceOf(Switch.Outcome.Primary.class, outcome);
            assertEquals(2, primary.epoch());
            try (Program resumed = Program.adopt(primary.pid(), program.stdout(), outputBefore)) {
                long tick = resumed.awaitTick(1, WAIT);
                assertTrue(tick > 1 && tick <= last + 1, "resumes from the checkpoint: tick " + tick + " after " + last);
                resumed.signal(Program.SIGUSR1);
                Verify.assertPasses(resumed, verify, WAIT);
            }
        }
    }

    @Test
    void aSwitchThatFailsAfterTheElectionLeavesTheServiceAndSaysInWhichPhase() {
        try (Program program = Program.start(dir, memstate())) {
            checkpoint(program);
            Scripted election = new Scripted();
            election.won = OptionalLong.of(2);
            try (ReplicaServer replica = replica(); HotClone clone = new HotClone()) {
                // The cold restore reads a journal that is not there.
                Switch broken = new Switch(SERVICE, dir.resolve("no-journal"), election);
                HotcloneException e = assertThrows(HotcloneException.class, () -> broken.run(replica, clone, System::nanoTime));
                assertTrue(e.getMessage().startsWith("switch failed in SWITCH"), e.getMessage());
                assertEquals("abandon", election.asked.getLast(), "the node leaves the service to the other standbys");
            }
        }
    }

    private ReplicaServer replica() {
        return ReplicaServer.listen(new InetSocketAddress("127.0.0.1", 0), dir.resolve("journal"), SERVICE,
                ReplicaListener.NONE);
    }

    /** One full checkpoint of {@code program} into the journal the replica then opens. */
    private long checkpoint(Program program) {
        try (Journal journal = Journal.create(dir.resolve("journal"));
             Chain chain = new Chain(1, Tracking.UFFD)) {
            program.awaitTick(1, WAIT);
            return new Checkpointer(program.pid(), journal, chain).checkpoint().seq();
        }
    }

    private List<String> memstate() {
        return memstate(dir.resolve("verify"));
    }

    private List<String> memstate(Path verify) {
        return List.of(TestPrograms.compile("memstate", dir).toString(), "--verify-file", verify.toString(), "--log",
                dir.resolve("log").toString(), "--data", dir.resolve("data").toString(), "--heap-mib", "8");
    }
}
