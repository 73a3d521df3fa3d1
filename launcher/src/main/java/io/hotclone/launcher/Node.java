package io.hotclone.launcher;

import io.hotclone.capture.dirty.Tracking;
import io.hotclone.cluster.ClusterListener;
import io.hotclone.cluster.ClusterSession;
import io.hotclone.cluster.Member;
import io.hotclone.journal.JournalLock;
import io.hotclone.process.launch.HeldStart;
import io.hotclone.process.launch.Spawn;
import io.hotclone.replication.AckPolicy;
import io.hotclone.restore.Switch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One node of a protected service: the primary, which runs the program and protects it towards
 * the standbys ({@link PrimaryTerm}), or a standby, which holds a replica of the journal
 * ({@link StandbyTerm}) and takes the program over when the primary fails ({@link Switch}). This
 * class wires them to the node's cluster session and passes the program from one term to the next.
 *
 * <p>Authority comes from the coordinator only: a node is primary while it holds the service's
 * ZooKeeper lock, and every checkpoint it writes carries the epoch it got with the lock, so the
 * standbys refuse the records of a primary that was replaced. A primary that loses contact with
 * the coordinator kills its program at once: the lease it held expires on the coordinator only
 * after that, so two copies never run.
 *
 * <p>Thread confinement: {@link #serve} on one platform thread, which becomes the tracer of the
 * program while this node is primary; cluster events arrive from Curator's threads.
 */
final class Node implements AutoCloseable {
    /** What an operator sets for a node. {@code listen} is null for a node that cannot be a standby. */
    record Settings(String service, String name, String zk, Duration lease, Path journal, Duration interval,
                    Tracking tracking, double retention, Duration journalFailureLimit, AckPolicy ack, InetSocketAddress listen,
                    List<InetSocketAddress> standbys) {
    }

    /** The exit status of a primary that lost its lease and cannot become a standby (no --listen). */
    static final int LEASE_LOST = 75;
    /** How often a node publishes its newest checkpoint to the coordinator, for `hotclone status`. */
    static final long PUBLISH_EVERY_NANOS = 1_000_000_000L;

    private static final Logger LOG = LoggerFactory.getLogger(Node.class);

    private final Settings settings;
    /** Held for the node's life, across its roles: one writer per journal, and this node is it. */
    private final JournalLock lock;
    private final ClusterSession session;
    // Made once the session it stands on is joined; news before that is dropped, as a term as
    // standby starts afresh anyway (it clears what it was told before it ran).
    private volatile StandbyTerm standby;
    // The term as primary under way, null while this node is a standby.
    private volatile PrimaryTerm primary;

    private Node(Settings settings) {
        this.settings = settings;
        this.lock = JournalLock.acquire(settings.journal());
        try {
            this.session = join();
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
        this.standby = new StandbyTerm(settings, session, new Switch(settings.service(), settings.journal(),
                new ClusterElection(session, settings.lease())));
    }

    /** A new session at the coordinator, whose news goes to the term it concerns. */
    private ClusterSession join() {
        return ClusterSession.join(settings.zk(), settings.service(), settings.name(), settings.lease(),
                new ClusterListener() {
                    @Override
                    public void leaseLost() {
                        PrimaryTerm term = primary;
                        if (term != null) {
                            term.leaseLost();
                        }
                    }

                    @Override
                    public void primaryGone(Member last) {
                        StandbyTerm term = standby;
                        if (term != null) {
                            term.primaryGone(last);
                        }
                    }

                    @Override
                    public void membersChanged(List<Member> members) {
                        PrimaryTerm term = primary;
                        if (term != null) {
                            term.membersChanged(members);
                        }
                    }
                });
    }

    static Node join(Settings settings) {
        return new Node(settings);
    }

    /**
     * Becomes the primary of the service, starts {@code command} and serves until the program
     * ends: as primary, and after a lost lease as a standby that may take it over again.
     *
     * @return the program's exit status, as a shell reports it
     */
    int runPrimary(List<String> command, List<String> environment) {
        long epoch = session.becomePrimary(settings.lease().multipliedBy(2));
        int pid = HeldStart.run(command, environment, Spawn.Group.OWN_GROUP, HeldStart.Lifetime.TIED);
        LOG.info("primary of service {} (epoch {}): protecting {} as pid {}, checkpointed every {} into {}",
                settings.service(), epoch, command.getFirst(), pid, Values.Period.text(settings.interval()), settings.journal());
        return serve(pid, epoch);
    }

    /** Serves as a standby, and as primary after a switch, until the program ends. */
    int runStandby() {
        return serve(-1, 0);
    }

    private int serve(int pid, long epoch) {
        while (true) {
            if (pid > 0) {
                PrimaryTerm.End end = protect(pid, epoch);
                if (!end.leaseLost()) {
                    session.markEnded(end.status());
                    return end.status();
                }
                if (settings.listen() == null) {
                    LOG.error("lost the lease of service {}: the program (pid {}) was stopped so that a standby can"
                            + " take it over; give --listen HOST:PORT to have this node rejoin as a standby",
                            settings.service(), pid);
                    return LEASE_LOST;
                }
                LOG.warn("lost the lease of service {}: the program (pid {}) was stopped; rejoining as a standby",
                        settings.service(), pid);
            }
            switch (standby.run()) {
                case Switch.Outcome.Primary p -> {
                    pid = p.pid();
                    epoch = p.epoch();
                }
                case Switch.Outcome.Ended e -> {
                    return e.status();
                }
            }
        }
    }

    private PrimaryTerm.End protect(int pid, long epoch) {
        PrimaryTerm term = new PrimaryTerm(settings, session, pid, epoch);
        primary = term;
        try {
            return term.run();
        } finally {
            primary = null;
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } finally {
            lock.close();
        }
    }
}
