package io.hotclone.cluster;

import io.hotclone.bindings.HotcloneException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's role in the service and its member node, {@code members/<name>} (ephemeral), kept
 * showing what the node last published: written again after a failed write, a new session or the
 * node's disappearance. Also reads the live members.
 *
 * <p>Whether this node is primary, the contact losses and the member it shows change together
 * under this object's monitor, never held across a ZooKeeper call, so a loss of contact takes
 * effect at once. Member node writes are serialised on {@code writing}, taken before the monitor,
 * so the last state recorded is the last one written.
 */
final class Membership {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
    static final Comparator<Member> BY_NAME = Comparator.comparing(Member::name);

    private final ServiceZk zk;
    private final String membersPath;
    private final Object writing = new Object();
    private volatile boolean primary;
    private long contactLosses;
    private boolean stepDownPending;
    private volatile Member published;
    private volatile boolean closed;
    // Brings the member node back to `published` after a write failed, the session was replaced or the node vanished.
    private final ScheduledExecutorService keeper;
    private String trouble;

    Membership(ServiceZk zk) {
        this.zk = zk;
        this.membersPath = zk.path("members");
        this.keeper = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon()
                .name("hotclone-membership-" + zk.name()).factory());
    }

    String membersPath() {
        return membersPath;
    }

    /** Makes the members node unless an earlier node did, and refuses this node's name if it is live. */
    void ensure() throws Exception {
        zk.ensure(membersPath, new byte[0]);
        Stat live = zk.client().checkExists().forPath(memberPath());
        if (live != null) {
            throw zk.nameTaken(live.getEphemeralOwner());
        }
    }

    /** See {@link ClusterSession#publish}. */
    void publish(Member me) {
        if (!me.name().equals(zk.name())) {
            throw new IllegalArgumentException("session " + zk.name() + " cannot publish member " + me.name());
        }
        synchronized (writing) {
            synchronized (this) {
                if ((me.role() == Role.PRIMARY) != primary) {
                    throw new IllegalStateException(zk.name() + " is " + (primary ? "" : "not ") + "primary, cannot publish role " + me.role());
                }
                published = me;
            }
            keep();
        }
    }

    /** Shows {@code seq} as this node's committed checkpoint, as a candidate in round {@code round}. */
    void showCommitted(long seq, long round) {
        Member me = published;
        publish((me != null ? me : new Member(zk.name(), Role.STANDBY, "", 0, round)).withCommittedSeq(seq));
    }

    /**
     * Holding the primary lock in {@code epoch}: publishes this node as PRIMARY. A loss of contact
     * since {@code losses} was counted (even one already over) means the lock may have gone with
     * the session: it then stays a standby and throws.
     */
    void reign(long epoch, long losses) {
        synchronized (writing) {
            Member was = published;
            Member me = was == null ? new Member(zk.name(), Role.PRIMARY, "", 0, epoch) : was.withRole(Role.PRIMARY, epoch);
            write(me);
            synchronized (this) {
                if (contactLosses != losses) {
                    stepDownPending = true;
                    published = me.withRole(Role.STANDBY, epoch);
                    throw new HotcloneException("lost contact with ZooKeeper at " + zk.zkConnect() + " while becoming primary"
                            + " of service " + zk.service() + " (epoch " + epoch + "): this node stays a standby");
                }
                published = me;
                primary = true;
            }
        }
    }

    boolean isPrimary() {
        return primary;
    }

    synchronized long contactLosses() {
        return contactLosses;
    }

    /**
     * Contact with ZooKeeper is lost: a primary steps down for good, and shows itself as a standby
     * once it can.
     *
     * @return whether this node was primary
     */
    boolean loseContact() {
        synchronized (this) {
            contactLosses++;
            boolean wasPrimary = primary;
            if (wasPrimary) {
                primary = false;
                stepDownPending = true;
                published = published.withRole(Role.STANDBY, published.epoch());
            }
            return wasPrimary;
        }
    }

    /** @return whether this node stepped down while out of contact and must still give up the lock */
    synchronized boolean takeStepDown() {
        boolean stepDown = stepDownPending;
        stepDownPending = false;
        return stepDown;
    }

    /** Writes the member node again, soon: after a new session, or when it vanished. */
    void rewrite() {
        retry(0);
    }

    /** The live members, sorted by name, read from ZooKeeper now. */
    List<Member> members() {
        try {
            List<Member> members = new ArrayList<>();
            for (String child : zk.client().getChildren().forPath(membersPath)) {
                try {
                    members.add(Member.decode(child, zk.client().getData().forPath(ZKPaths.makePath(membersPath, child))));
                } catch (KeeperException.NoNodeException gone) {
                    // left between the listing and the read
                }
            }
            members.sort(BY_NAME);
            return members;
        } catch (HotcloneException e) {
            throw e;
        } catch (Exception e) {
            throw zk.failure("read the members of service " + zk.service(), e);
        }
    }

    /** The live member published as PRIMARY (the newest epoch if a stepping-down one lingers). */
    Optional<Member> primary() {
        return members().stream().filter(m -> m.role() == Role.PRIMARY).max(Comparator.comparingLong(Member::epoch));
    }

    void close() {
        primary = false;
        closed = true;
        keeper.shutdownNow();
    }

    /**
     * Writes {@code published}; if that fails (no contact, or the member node of this node's
     * previous session still lingers until the server expires it) tries again every quarter lease.
     */
    private void keep() {
        synchronized (writing) {
            Member me = published;
            if (me == null || closed) {
                return;
            }
            try {
                write(me);
                if (trouble != null) {
                    LOG.info("{} is a member of service {} again", zk.name(), zk.service());
                    trouble = null;
                }
            } catch (RuntimeException e) {
                String now = String.valueOf(e.getMessage() != null ? e.getMessage() : e);
                if (!now.equals(trouble)) {
                    LOG.warn("{} could not publish its membership of {} (trying again every {} ms): {}", zk.name(),
                            zk.service(), zk.lease().toMillis() / 4, now);
                    trouble = now;
                }
                retry(zk.lease().toMillis() / 4);
            }
        }
    }

    private void retry(long delayMillis) {
        try {
            keeper.schedule(this::keep, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // the session is closing: the membership ends with it
        }
    }

    private void write(Member me) {
        byte[] data = me.encode();
        try {
            while (true) {
                try {
                    zk.client().create().withMode(CreateMode.EPHEMERAL).forPath(memberPath(), data);
                    return;
                } catch (KeeperException.NodeExistsException exists) {
                    Stat stat = zk.client().checkExists().forPath(memberPath());
                    if (stat == null) {
                        continue;
                    }
                    if (stat.getEphemeralOwner() != zk.sessionId()) {
                        throw zk.nameTaken(stat.getEphemeralOwner());
                    }
                    try {
                        zk.client().setData().withVersion(stat.getVersion()).forPath(memberPath(), data);
                        return;
                    } catch (KeeperException.NoNodeException | KeeperException.BadVersionException raced) {
                        LOG.debug("member node of {} changed under the update; writing it again", zk.name());
                    }
                }
            }
        } catch (HotcloneException e) {
            throw e;
        } catch (Exception e) {
            throw zk.failure("publish member " + zk.name() + " of service " + zk.service(), e);
        }
    }

    private String memberPath() {
        return ZKPaths.makePath(membersPath, zk.name());
    }
}
