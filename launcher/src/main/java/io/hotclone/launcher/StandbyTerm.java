package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.cluster.ClusterSession;
import io.hotclone.cluster.Member;
import io.hotclone.cluster.Role;
import io.hotclone.replication.ReplicaListener;
import io.hotclone.replication.ReplicaServer;
import io.hotclone.restore.HotClone;
import io.hotclone.restore.Switch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A node's terms as standby: each {@link #run} receives the primary's checkpoints into the replica
 * journal, keeps the hot clone at the newest one, publishes what it holds, and runs the
 * {@link Switch} when the primary is gone, until a switch makes this node primary or the program
 * ends. One per node: when the primary was last heard of outlives a term.
 *
 * <p>Thread confinement: {@link #run} on the node's thread, the hot clone's tracer; replication
 * and coordinator events arrive from their own threads and are handed over through a queue.
 */
final class StandbyTerm {
    private static final Logger LOG = LoggerFactory.getLogger(StandbyTerm.class);

    /** What the standby loop waits for. */
    private sealed interface Event {
        record PrimaryGone(Member last) implements Event {
        }

        record Committed(long seq, long epoch) implements Event {
        }
    }

    private final Node.Settings settings;
    private final ClusterSession session;
    private final Switch switcher;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    // When the primary was last heard of, for the detection part of a switch's timing.
    private volatile long lastHeardNanos = System.nanoTime();
    // The last reason the hot clone could not be kept, said once rather than at every checkpoint.
    private String cloneFailure;

    StandbyTerm(Node.Settings settings, ClusterSession session, Switch switcher) {
        this.settings = settings;
        this.session = session;
        this.switcher = switcher;
    }

    /** @return how the term ended: this node is primary of the program now, or the program ended */
    Switch.Outcome.Final run() {
        events.clear();
        try (ReplicaServer replica = ReplicaServer.listen(settings.listen(), settings.journal(), settings.service(),
                replicaListener());
             HotClone clone = new HotClone()) {
            publishStandby(replica, clone);
            LOG.info("standby of service {} listening on {}, journal {}", settings.service(), replica.address(),
                    settings.journal());
            long publishedAt = System.nanoTime();
            if (primaryMissing(replica)) {
                events.add(new Event.PrimaryGone(null)); // the primary went before this node joined
            }
            while (true) {
                switch (next(replica)) {
                    case Event.Committed c -> {
                        if (System.nanoTime() - publishedAt >= Node.PUBLISH_EVERY_NANOS) {
                            publishedAt = System.nanoTime();
                            publishStandby(replica, clone); // for `hotclone status`; the election asks afresh
                        }
                        keepCurrent(clone, replica);
                    }
                    case Event.PrimaryGone gone -> {
                        switch (switcher.run(replica, clone, () -> lastHeardNanos)) {
                            case Switch.Outcome.Unsettled u -> { }
                            case Switch.Outcome.Standby s -> publishStandby(replica, clone);
                            case Switch.Outcome.Final end -> {
                                return end;
                            }
                        }
                    }
                }
            }
        }
    }

    /** From the coordinator's threads: the primary's member node vanished. */
    void primaryGone(Member last) {
        events.add(new Event.PrimaryGone(last));
    }

    /** Applies the replica's newest checkpoint to the hot clone; a failure leaves a cold restore for the switch. */
    private void keepCurrent(HotClone clone, ReplicaServer replica) {
        long seq = replica.committedSeq();
        if (seq <= clone.seq()) {
            return;
        }
        try {
            long builds = clone.builds();
            clone.update(replica.journal(), seq);
            if (clone.builds() != builds) {
                LOG.info("hot clone built from checkpoint seq {}", seq);
            }
            cloneFailure = null;
        } catch (HotcloneException e) {
            if (!e.getMessage().equals(cloneFailure)) {
                LOG.warn("no hot clone (a switch will restore from the journal): {}", e.getMessage());
                cloneFailure = e.getMessage();
            }
        }
    }

    private ReplicaListener replicaListener() {
        return new ReplicaListener() {
            @Override
            public void primaryConnected(String service, long epoch, InetSocketAddress from) {
                lastHeardNanos = System.nanoTime();
                LOG.info("primary {} (epoch {}) connected", from, epoch);
            }

            @Override
            public void committed(long seq, long epoch) {
                lastHeardNanos = System.nanoTime();
                events.add(new Event.Committed(seq, epoch));
            }

            @Override
            public void primarySilent(Duration silentFor) {
                lastHeardNanos = Math.min(lastHeardNanos, System.nanoTime() - silentFor.toNanos());
            }
        };
    }

    private void publishStandby(ReplicaServer replica, HotClone clone) {
        InetSocketAddress a = replica.address();
        session.publish(new Member(settings.name(), Role.STANDBY, a.getHostString() + ":" + a.getPort(),
                replica.committedSeq(), replica.committedEpoch(), clone.vids()));
    }

    /**
     * The next event, or a PrimaryGone of its own when a lease passes without one and the service
     * has no primary while this standby holds a checkpoint: the coordinator's news of the old
     * primary's end is lost if this node was cut off from it at that moment.
     */
    private Event next(ReplicaServer replica) {
        try {
            while (true) {
                Event event = events.poll(settings.lease().toNanos(), TimeUnit.NANOSECONDS);
                if (event != null) {
                    return event;
                }
                if (primaryMissing(replica)) {
                    return new Event.PrimaryGone(null);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HotcloneException("standby of service " + settings.service() + " interrupted");
        }
    }

    /**
     * Whether the service has no primary while this standby holds a checkpoint to take over from.
     * False while the coordinator cannot say (out of reach): a primary that just lost its lease
     * rejoins as a standby while the coordinator may still be down, and waits for it.
     */
    private boolean primaryMissing(ReplicaServer replica) {
        try {
            return replica.committedSeq() > 0 && session.primary().isEmpty();
        } catch (HotcloneException e) {
            LOG.debug("cannot ask the coordinator about the primary of service {}: {}", settings.service(),
                    e.getMessage());
            return false;
        }
    }
}
