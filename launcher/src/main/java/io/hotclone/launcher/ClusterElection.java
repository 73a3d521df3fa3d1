package io.hotclone.launcher;

import io.hotclone.cluster.ClusterSession;
import io.hotclone.cluster.Member;
import io.hotclone.cluster.Standing;
import io.hotclone.replication.ReplicaServer;
import io.hotclone.restore.Election;

import java.time.Duration;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A switch's {@link Election} held on the node's {@link ClusterSession}. It lives here, where the
 * node is wired, because neither restore/ nor cluster/ may import the other.
 */
record ClusterElection(ClusterSession session, Duration lease) implements Election {
    @Override
    public OptionalInt ended() {
        return session.ended();
    }

    /** Waits up to five leases for the election to be decided. */
    @Override
    public OptionalLong campaign(ReplicaServer replica) {
        long epoch = session.elect(() -> new Standing(replica.committedEpoch(), replica.committedSeq()),
                lease.multipliedBy(5));
        return epoch < 0 ? OptionalLong.empty() : OptionalLong.of(epoch);
    }

    @Override
    public long epoch() {
        return session.epoch();
    }

    @Override
    public String primary() {
        return session.primary().map(Member::name).orElse("?");
    }

    @Override
    public void abandon() {
        session.close();
    }
}
