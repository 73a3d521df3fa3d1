package io.hotclone.launcher;

import io.hotclone.process.launch.HeldStart;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.Checkpointer;
import io.hotclone.capture.ProtectedProgram;
import io.hotclone.process.launch.Spawn;
import io.hotclone.cluster.ClusterListener;
import io.hotclone.cluster.ClusterSession;
import io.hotclone.cluster.Member;
import io.hotclone.cluster.Role;
import io.hotclone.cluster.Standing;
import io.hotclone.journal.Journal;
import io.hotclone.journal.JournalLock;
import io.hotclone.replication.AckPolicy;
import io.hotclone.replication.ReplicaListener;
import io.hotclone.replication.ReplicaServer;
import io.hotclone.replication.Replication;
import io.hotclone.replication.ReplicationListener;
import io.hotclone.restore.HotClone;
import io.hotclone.restore.Restorer;
import io.hotclone.restore.SwitchPhase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import static io.hotclone.bindings.linux.Signal.SIGKILL;

/**
 * One node of a protected service: the primary, which runs the program and protects it towards
 * the standbys, or a standby, which holds a replica of the journal and takes the program over
 * when the primary fails (the SWITCH automaton, {@link SwitchPhase}).
 *
 * <p>Authority comes from the coordinator only: a node is primary while it holds the service's
 * ZooKeeper lock, and every checkpoint it writes carries the epoch it got with the lock, so the
 * standbys refuse the records of a primary that was replaced. A primary that loses contact with
 * the coordinator kills its program at once: the lease it held expires on the coordinator only
 * after that, so two copies never run.
 *
 * <p>Thread confinement: {@link #serve} on one platform thread, which becomes the tracer of the
 * program while this node is primary; cluster and replication events arrive from their own
 * threads and are handed over through a queue.
 */
final class Node implements AutoCloseable {
    /** What an operator sets for a node. {@code listen} is null for a node that cannot be a standby. */
    record Settings(String service, String name, String zk, Duration lease, Path journal, Duration interval,
                    Tracking tracking, double retention, Duration journalFailureLimit, AckPolicy ack, InetSocketAddress listen,
                    List<InetSocketAddress> standbys) {
    }

    /** The exit status of a primary that lost its lease and cannot become a standby (no --listen). */
    static final int LEASE_LOST = 75;
    private static final long PUBLISH_EVERY_NANOS = 1_000_000_000L;

    private static final Logger LOG = LoggerFactory.getLogger(Node.class);

    /** What the standby loop waits for. */
    private sealed interface Event {
        record PrimaryGone(Member last) implements Event {
        }

        record Committed(long seq, long epoch) implements Event {
        }
    }

    private final Settings settings;
    /** Held for the node's life, across its roles: one writer per journal, and this node is it. */
    private final JournalLock lock;
    private final ClusterSession session;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    // What the current role does with the coordinator's news; swapped as the role changes.
    private volatile Runnable onLeaseLost = () -> { };
    private volatile Consumer<List<Member>> onMembers = members -> { };
    // When the primary was last heard of, for the detection part of a switch's timing.
    private volatile long lastHeardNanos = System.nanoTime();
    // The last reason the hot clone could not be kept, said once rather than at every checkpoint.
    private String cloneFailure;

    private Node(Settings settings) {
        this.settings = settings;
        this.lock = JournalLock.acquire(settings.journal());
        try {
            this.session = join();
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }


    /** A new session at the coordinator, whose news this node's current role hears. */
    private ClusterSession join() {
        return ClusterSession.join(settings.zk(), settings.service(), settings.name(), settings.lease(),
                new ClusterListener() {
                    @Override
                    public void leaseLost() {
                        onLeaseLost.run();
                    }

                    @Override
                    public void primaryGone(Member last) {
                        events.add(new Event.PrimaryGone(last));
                    }

                    @Override
                    public void membersChanged(List<Member> members) {
                        onMembers.accept(members);
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
                Protected end = protect(pid, epoch);
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
            Switched s = standBy();
            if (s.ended().isPresent()) {
                return s.ended().getAsInt();
            }
            pid = s.pid();
            epoch = s.epoch();
        }
    }

    /** How a term as primary ended: the program's status, and whether the lease was lost first. */
    private record Protected(int status, boolean leaseLost) {
    }

    private Protected protect(int pid, long epoch) {
        AtomicBoolean lost = new AtomicBoolean();
        onLeaseLost = () -> {
            lost.set(true);
            LOG.error("lease of service {} lost (no contact with the coordinator): killing the program, pid {}",
                    settings.service(), pid);
            Spawn.kill(pid, SIGKILL);
        };
        Summary summary = new Summary();
        try (Journal journal = Journal.create(settings.journal());
             ProtectedProgram program = new ProtectedProgram(pid, journal, settings.interval(), settings.tracking(),
                     epoch, settings.retention(), settings.journalFailureLimit(), published(summary, epoch));
             Replication replication = new Replication(journal, settings.service(), epoch, settings.standbys(),
                     settings.ack(), replicationListener(program));
             ControlSocket control = ControlSocket.serve(settings.journal(), program, replication::awaitReplicated);
             Signals forwarded = Signals.forwardTo(pid)) {
            onMembers = members -> standbysOf(members).forEach(replication::addStandby);
            standbysOf(session.members()).forEach(replication::addStandby);
            if (!session.isPrimary()) {
                onLeaseLost.run(); // the lease went before this term's listener was in place
            }
            int status = program.run();
            long replicated = replication.replicatedSeq();
            LOG.info("program pid {} exited with status {}; {}; {}", pid, status, summary,
                    replicated > 0 ? "replicated up to seq " + replicated : "nothing replicated (no standby)");
            return new Protected(status, lost.get());
        } finally {
            onLeaseLost = () -> { };
            onMembers = members -> { };
        }
    }

    /**
     * Counts checkpoints in {@code summary} and publishes the newest to the coordinator about once
     * a second, for `hotclone status`. Publishing is a round trip to the coordinator, which stalls
     * while it is out of reach: it runs on a thread of its own, never on the program's tracer.
     */
    private ProtectedProgram.Listener published(Summary summary, long epoch) {
        AtomicBoolean publishing = new AtomicBoolean();
        return new ProtectedProgram.Listener() {
            private long publishedAt = System.nanoTime() - PUBLISH_EVERY_NANOS;

            @Override
            public void checkpointed(Checkpointer.Result result) {
                summary.checkpointed(result);
                long now = System.nanoTime();
                if (now - publishedAt >= PUBLISH_EVERY_NANOS && publishing.compareAndSet(false, true)) {
                    publishedAt = now;
                    Thread.ofVirtual().name("hotclone-publish").start(() -> {
                        try {
                            if (session.isPrimary()) {
                                session.publish(new Member(settings.name(), Role.PRIMARY, "", result.seq(), epoch));
                            }
                        } catch (HotcloneException | IllegalStateException e) {
                            LOG.debug("checkpoint seq {} not published: {}", result.seq(), e.getMessage()); // lease lost
                        } finally {
                            publishing.set(false);
                        }
                    });
                }
            }

            @Override
            public void checkpointFailed(HotcloneException failure) {
                summary.checkpointFailed(failure);
            }
        };
    }

    private List<InetSocketAddress> standbysOf(List<Member> members) {
        return members.stream()
                .filter(m -> m.role() == Role.STANDBY && !m.replicationAddress().isEmpty()
                        && !m.name().equals(settings.name()))
                .map(m -> Addresses.parse(m.replicationAddress(), "replication address of member " + m.name()))
                .toList();
    }

    private static ReplicationListener replicationListener(ProtectedProgram program) {
        return new ReplicationListener() {
            @Override
            public void acknowledged(InetSocketAddress standby, long seq) {
            }

            @Override
            public void connected(InetSocketAddress standby) {
                LOG.info("standby {} connected", standby);
            }

            @Override
            public void disconnected(InetSocketAddress standby, String why) {
                LOG.warn("standby {} disconnected: {}", standby, why);
            }

            @Override
            public void needsFullCheckpoint(InetSocketAddress standby) {
                LOG.info("standby {} needs a new base: the next checkpoint is full", standby);
                program.requestFullCheckpoint();
            }
        };
    }

    /** How a term as standby ended: a switch made this node primary of {@code pid}, or the service ended. */
    private record Switched(int pid, long epoch, OptionalInt ended) {
    }

    private Switched standBy() {
        events.clear();
        InetSocketAddress listen = settings.listen();
        try (ReplicaServer replica = ReplicaServer.listen(listen, settings.journal(), settings.service(),
                replicaListener());
             HotClone clone = new HotClone()) {
            publishStandby(replica);
            LOG.info("standby of service {} listening on {}, journal {}", settings.service(), replica.address(),
                    settings.journal());
            long publishedAt = System.nanoTime();
            if (primaryMissing(replica)) {
                events.add(new Event.PrimaryGone(null)); // the primary went before this node joined
            }
            while (true) {
                Event event = next(replica);
                switch (event) {
                    case Event.Committed c -> {
                        if (System.nanoTime() - publishedAt >= PUBLISH_EVERY_NANOS) {
                            publishedAt = System.nanoTime();
                            publishStandby(replica); // for `hotclone status`; the election asks afresh
                        }
                        keepCurrent(clone, replica);
                    }
                    case Event.PrimaryGone gone -> {
                        OptionalInt ended;
                        try {
                            ended = session.ended();
                        } catch (HotcloneException e) {
                            LOG.warn("the primary of service {} is gone and the coordinator cannot say whether its"
                                    + " program ended ({}): asking again after a lease", settings.service(), e.getMessage());
                            continue;
                        }
                        if (ended.isPresent()) {
                            LOG.info("the program of service {} ended on its primary with status {}: nothing to"
                                    + " take over", settings.service(), ended.getAsInt());
                            return new Switched(-1, 0, ended);
                        }
                        Optional<Switched> s = takeOver(replica, clone);
                        if (s.isPresent()) {
                            return s.get();
                        }
                        publishStandby(replica);
                    }
                }
            }
        }
    }

    /**
     * The SWITCH automaton. PRE_SWITCH: the election, which only the most up-to-date standby wins;
     * SWITCH: restore from the replica's last committed checkpoint; POST_SWITCH happens in
     * {@link #serve}, which protects the program as primary.
     *
     * @return the program taken over, or empty if another standby won the election
     */
    private Optional<Switched> takeOver(ReplicaServer replica, HotClone clone) {
        long goneAt = System.nanoTime();
        long heard = lastHeardNanos;
        if (replica.committedSeq() == 0) {
            LOG.warn("the primary of service {} is gone, but this standby holds no committed checkpoint: it cannot"
                    + " take the program over", settings.service());
            return Optional.empty();
        }
        SwitchPhase phase = SwitchPhase.PRE_SWITCH;
        try {
            long epoch = session.elect(() -> new Standing(replica.committedEpoch(), replica.committedSeq()),
                    settings.lease().multipliedBy(5));
            if (epoch < 0) {
                replica.fence(session.epoch()); // from now on only the new primary's records
                LOG.info("another standby was elected primary of service {} ({}): following it", settings.service(),
                        session.primary().map(Member::name).orElse("?"));
                return Optional.empty();
            }
            long elected = System.nanoTime();
            replica.fence(epoch);
            long seq = replica.committedSeq();
            phase = SwitchPhase.SWITCH;
            Restorer.Result restored = resumeClone(clone, replica, seq);
            String from = restored != null ? "the hot clone" : "the journal";
            replica.close();
            if (restored == null) {
                try (Journal journal = Journal.open(settings.journal())) {
                    restored = new Restorer(journal, seq, HeldStart.Lifetime.TIED).restore();
                }
            }
            long resumed = System.nanoTime();
            phase = SwitchPhase.POST_SWITCH;
            LOG.info("switched: pid {} from checkpoint seq {} in {} ms (detection {} ms, election {} ms, restore {} ms"
                            + " from {}); primary of service {} now, epoch {}", restored.pid(), seq, millis(resumed - heard),
                    millis(goneAt - heard), millis(elected - goneAt), millis(resumed - elected), from,
                    settings.service(), epoch);
            return Optional.of(new Switched(restored.pid(), epoch, OptionalInt.empty()));
        } catch (HotcloneException e) {
            if (phase == SwitchPhase.PRE_SWITCH) {
                LOG.warn("the election for service {} failed ({}): this node stays a standby and asks again after a"
                        + " lease without a primary", settings.service(), e.getMessage());
                return Optional.empty();
            }
            LOG.error("switch of service {} failed in {}, {}: {}; leaving the program to another standby",
                    settings.service(), phase, SwitchPhase.ABORT_SWITCH, e.getMessage());
            session.close();
            throw new HotcloneException("switch failed in " + phase + ": " + e.getMessage(), e);
        }
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

    /** The program resumed from the hot clone at checkpoint {@code seq}, or null if the clone cannot give it. */
    private Restorer.Result resumeClone(HotClone clone, ReplicaServer replica, long seq) {
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

    private void publishStandby(ReplicaServer replica) {
        InetSocketAddress a = replica.address();
        session.publish(new Member(settings.name(), Role.STANDBY, a.getHostString() + ":" + a.getPort(),
                replica.committedSeq(), replica.committedEpoch()));
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

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
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
