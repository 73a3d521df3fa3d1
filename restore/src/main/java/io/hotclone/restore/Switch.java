package io.hotclone.restore;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.journal.Journal;
import io.hotclone.process.launch.HeldStart;
import io.hotclone.replication.ReplicaServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The SWITCH automaton ({@link SwitchPhase}) of a standby whose primary is gone. PRE_SWITCH: the
 * scenario (the program ended, or it is to be taken over) and the election, which only the most
 * up-to-date standby wins; its new epoch fences the old primary's records out of the replica.
 * SWITCH: the program resumes from the replica's last committed checkpoint, through the hot clone
 * when it holds it, else by a restore from the journal. POST_SWITCH is the caller's: protecting
 * the program as primary.
 *
 * <p>Thread confinement: {@link #run} on the thread that keeps the hot clone, which becomes the
 * program's tracer.
 */
public final class Switch {
    private static final Logger LOG = LoggerFactory.getLogger(Switch.class);

    /** How a switch ended. */
    public sealed interface Outcome {
        /** An outcome that ends this node's term as standby. */
        sealed interface Final extends Outcome {
        }

        /** The program ended on its primary with {@code status}: there is nothing to take over. */
        record Ended(int status) implements Final {
        }

        /** This node stays a standby: another one was elected, or this one could not be. */
        record Standby() implements Outcome {
        }

        /** The coordinator could not say whether the program ended: ask again after a lease. */
        record Unsettled() implements Outcome {
        }

        /** This node is primary in {@code epoch} and the program runs again as {@code pid}. */
        record Primary(int pid, long epoch) implements Final {
        }
    }

    private final String service;
    private final Path journal;
    private final Election election;

    /** @param journal the directory of the replica's journal, for a restore without the hot clone */
    public Switch(String service, Path journal, Election election) {
        this.service = service;
        this.journal = journal;
        this.election = election;
    }

    /**
     * Switches after the primary of the service is gone.
     *
     * @param lastHeard when the old primary was last heard of ({@link System#nanoTime}), for the
     *                  detection part of the switch's timing
     * @throws HotcloneException if the switch failed after the election was won: the node left the
     *                           service (ABORT_SWITCH), so that another standby takes the program over
     */
    public Outcome run(ReplicaServer replica, HotClone clone, LongSupplier lastHeard) {
        OptionalInt ended;
        try {
            ended = election.ended();
        } catch (HotcloneException e) {
            LOG.warn("the primary of service {} is gone and the coordinator cannot say whether its"
                    + " program ended ({}): asking again after a lease", service, e.getMessage());
            return new Outcome.Unsettled();
        }
        if (ended.isPresent()) {
            LOG.info("the program of service {} ended on its primary with status {}: nothing to"
                    + " take over", service, ended.getAsInt());
            return new Outcome.Ended(ended.getAsInt());
        }
        return takeOver(replica, clone, lastHeard);
    }

    private Outcome takeOver(ReplicaServer replica, HotClone clone, LongSupplier lastHeard) {
        long goneAt = System.nanoTime();
        long heard = lastHeard.getAsLong();
        if (replica.committedSeq() == 0) {
            LOG.warn("the primary of service {} is gone, but this standby holds no committed checkpoint: it cannot"
                    + " take the program over", service);
            return new Outcome.Standby();
        }
        SwitchPhase phase = SwitchPhase.PRE_SWITCH;
        try {
            OptionalLong won = election.campaign(replica);
            if (won.isEmpty()) {
                replica.fence(election.epoch()); // from now on only the new primary's records
                LOG.info("another standby was elected primary of service {} ({}): following it", service,
                        election.primary());
                return new Outcome.Standby();
            }
            long epoch = won.getAsLong();
            long elected = System.nanoTime();
            replica.fence(epoch);
            long seq = replica.committedSeq();
            phase = SwitchPhase.SWITCH;
            Restorer.Result restored = resumeClone(clone, replica, seq);
            String from = restored != null ? "the hot clone" : "the journal";
            replica.close();
            if (restored == null) {
                try (Journal replicated = Journal.open(journal)) {
                    restored = new Restorer(replicated, seq, HeldStart.Lifetime.TIED).restore();
                }
            }
            long resumed = System.nanoTime();
            phase = SwitchPhase.POST_SWITCH;
            LOG.info("switched: pid {} from checkpoint seq {} in {} ms (detection {} ms, election {} ms, restore {} ms"
                            + " from {}); primary of service {} now, epoch {}", restored.pid(), seq, millis(resumed - heard),
                    millis(goneAt - heard), millis(elected - goneAt), millis(resumed - elected), from, service, epoch);
            return new Outcome.Primary(restored.pid(), epoch);
        } catch (HotcloneException e) {
            if (phase == SwitchPhase.PRE_SWITCH) {
                LOG.warn("the election for service {} failed ({}): this node stays a standby and asks again after a"
                        + " lease without a primary", service, e.getMessage());
                return new Outcome.Standby();
            }
            LOG.error("switch of service {} failed in {}, {}: {}; leaving the program to another standby",
                    service, phase, SwitchPhase.ABORT_SWITCH, e.getMessage());
            election.abandon();
            throw new HotcloneException("switch failed in " + phase + ": " + e.getMessage(), e);
        }
    }

    /** The program resumed from the hot clone at checkpoint {@code seq}, or null if the clone cannot give it. */
    private static Restorer.Result resumeClone(HotClone clone, ReplicaServer replica, long seq) {
        try {
            if (clone.seq() < 0) {
                return null;
            }
            clone.update(replica.journal(), seq);
            return clone.resume();
        } catch (HotcloneException e) {
            LOG.warn("the hot clone could not take over ({}): restoring from the journal instead", e.getMessage());
            clone.discard();
            return null;
        }
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
