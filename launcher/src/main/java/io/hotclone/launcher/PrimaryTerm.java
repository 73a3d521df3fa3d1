package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.Checkpointer;
import io.hotclone.capture.ProtectedProgram;
import io.hotclone.cluster.ClusterSession;
import io.hotclone.cluster.Member;
import io.hotclone.cluster.Role;
import io.hotclone.journal.Journal;
import io.hotclone.process.launch.Spawn;
import io.hotclone.replication.Replication;
import io.hotclone.replication.ReplicationListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.hotclone.bindings.linux.Signal.SIGKILL;

/**
 * One term of a node as primary: protects the program (pid) into the journal, replicates it to
 * the standbys the coordinator lists, publishes its newest checkpoint, and kills the program at
 * once if the lease is lost.
 *
 * <p>Thread confinement: {@link #run} on the node's thread, the program's tracer;
 * {@link #leaseLost} and {@link #membersChanged} are called from the coordinator's threads.
 */
final class PrimaryTerm {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryTerm.class);

    /** How the term ended: the program's status, and whether the lease was lost first. */
    record End(int status, boolean leaseLost) {
    }

    private final Node.Settings settings;
    private final ClusterSession session;
    private final int pid;
    private final long epoch;
    private final AtomicBoolean lost = new AtomicBoolean();
    // Set while the term replicates: the standbys the coordinator lists are added to it.
    private volatile Replication replication;

    PrimaryTerm(Node.Settings settings, ClusterSession session, int pid, long epoch) {
        this.settings = settings;
        this.session = session;
        this.pid = pid;
        this.epoch = epoch;
    }

    End run() {
        if (!session.isPrimary()) {
            // The lease went between the election and this term (a switch's restore, or a stall,
            // can outlast a lease): a standby may be taking over, so the program must not run on
            // while protection is set up. From here on the node routes a lost lease to this term.
            leaseLost();
            return new End(Spawn.waitFor(pid), true);
        }
        Summary summary = new Summary();
        try (Journal journal = Journal.create(settings.journal());
             ProtectedProgram program = new ProtectedProgram(pid, journal, settings.interval(), settings.tracking(),
                     epoch, settings.retention(), settings.journalFailureLimit(), published(summary));
             Replication replicated = new Replication(journal, settings.service(), epoch, settings.standbys(),
                     settings.ack(), replicationListener(program));
             ControlSocket control = ControlSocket.serve(settings.journal(), program, replicated::awaitReplicated);
             Signals forwarded = Signals.forwardTo(pid)) {
            replication = replicated;
            standbysOf(session.members()).forEach(replicated::addStandby);
            int status = forwarded.status(program.run());
            long upTo = replicated.replicatedSeq();
            LOG.info("program pid {} exited with status {}; {}; {}", pid, status, summary,
                    upTo > 0 ? "replicated up to seq " + upTo : "nothing replicated (no standby)");
            return new End(status, lost.get());
        } finally {
            replication = null;
        }
    }

    /** The node lost contact with the coordinator: the program must die before a standby can take over. */
    void leaseLost() {
        lost.set(true);
        LOG.error("lease of service {} lost (no contact with the coordinator): killing the program, pid {}",
                settings.service(), pid);
        Spawn.kill(pid, SIGKILL);
    }

    /** The service's live members changed: replicate to every standby among them too. */
    void membersChanged(List<Member> members) {
        Replication r = replication;
        if (r != null) {
            standbysOf(members).forEach(r::addStandby);
        }
    }

    /**
     * Counts checkpoints in {@code summary} and publishes the newest to the coordinator about once
     * a second, for `hotclone status`. Publishing is a round trip to the coordinator, which stalls
     * while it is out of reach: it runs on a thread of its own, never on the program's tracer.
     */
    private ProtectedProgram.Listener published(Summary summary) {
        AtomicBoolean publishing = new AtomicBoolean();
        return new ProtectedProgram.Listener() {
            private long publishedAt = System.nanoTime() - Node.PUBLISH_EVERY_NANOS;

            @Override
            public void checkpointed(Checkpointer.Result result) {
                summary.checkpointed(result);
                long now = System.nanoTime();
                if (now - publishedAt >= Node.PUBLISH_EVERY_NANOS && publishing.compareAndSet(false, true)) {
                    publishedAt = now;
                    Thread.ofVirtual().name("hotclone-publish").start(() -> {
                        try {
                            if (session.isPrimary()) {
                                session.publish(new Member(settings.name(), Role.PRIMARY, "", result.seq(), epoch,
                                        result.vids()));
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
}
