package io.hotclone.cluster;

import io.hotclone.bindings.HotcloneException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's membership in a service, through one ZooKeeper session whose timeout is the node's
 * {@link Lease}. The service lives under {@code /hotclone/<service>}: the member nodes
 * ({@link Membership}), the primary lock ({@link PrimaryLock}), the {@link Epoch}, the candidates
 * of an election ({@link PrimaryElection}) and the {@link EndMark}. This class joins them up and
 * says what a loss of contact means.
 *
 * <p>A primary that loses contact steps down for good: {@link #isPrimary()} turns false at once
 * and {@link ClusterListener#leaseLost()} is called; if it reconnects within its session it gives
 * up the lock and republishes itself as a standby, so the others elect.
 *
 * <p>Thread-safe. Listener calls come from Curator's threads.
 */
public final class ClusterSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterSession.class);

    private final ServiceZk zk;
    private final ClusterListener listener;
    private final Membership membership;
    private final PrimaryLock lock;
    private final Epoch epoch;
    private final EndMark endMark;
    private final ServiceWatch watch;
    private final PrimaryElection election;

    private ClusterSession(ServiceZk zk, ClusterListener listener) {
        this.zk = zk;
        this.listener = listener;
        this.membership = new Membership(zk);
        this.lock = new PrimaryLock(zk);
        this.epoch = new Epoch(zk);
        this.endMark = new EndMark(zk);
        this.watch = new ServiceWatch(zk, membership.membersPath(), listener, membership::rewrite);
        this.election = new PrimaryElection(zk, membership, lock, epoch, watch);
    }

    /**
     * Joins {@code service} as {@code name}, with a ZooKeeper session of {@code lease}. Waits up
     * to 5 s for the first connection. Refuses a name whose member node is live in the service.
     * The node is not a member until it {@link #publish}es itself.
     */
    public static ClusterSession join(String zkConnect, String service, String name, Duration lease,
            ClusterListener listener) {
        checkSegment("service", service);
        checkSegment("name", name);
        CuratorFramework client = Lease.client(zkConnect, name, lease);
        ClusterSession session = new ClusterSession(new ServiceZk(client, zkConnect, service, name, lease), listener);
        try {
            session.open();
            return session;
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
    }

    private void open() {
        try {
            Lease.start(zk, this::loseContact, this::regainContact);
            epoch.ensure();
            membership.ensure();
            watch.start(Lease.FIRST_CONNECTION);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HotcloneException("interrupted while joining service " + zk.service() + " at " + zk.zkConnect(), e);
        } catch (HotcloneException e) {
            throw e;
        } catch (Exception e) {
            throw zk.failure("join service " + zk.service(), e);
        }
    }

    /**
     * Makes {@code me} this node's ephemeral member node: written at once when ZooKeeper answers,
     * else as soon as it does again (also after a new session, or if the node vanishes). The role
     * must be PRIMARY exactly when this node is primary.
     */
    public void publish(Member me) {
        membership.publish(me);
    }

    /** The live members, sorted by name, read from ZooKeeper now. */
    public List<Member> members() {
        return membership.members();
    }

    /** The live member published as PRIMARY (the newest epoch if a stepping-down one lingers). */
    public Optional<Member> primary() {
        return membership.primary();
    }

    /** The service's current epoch, 0 before its first primary. Never decreases. */
    public long epoch() {
        return epoch.read();
    }

    public boolean isPrimary() {
        return membership.isPrimary();
    }

    /**
     * For a fresh start: takes the primary lock if it is free within {@code wait}, raises the
     * epoch and publishes this node as PRIMARY. Returns the new epoch; throws naming the holder
     * if another node holds the lock.
     */
    public long becomePrimary(Duration wait) {
        long raised = election.becomePrimary(wait);
        endMark.clear(); // a fresh start: the program runs again
        return raised;
    }

    /**
     * Records that the program of the service ended on its primary, with {@code status}: the
     * standbys then leave it ended instead of taking it over when this primary leaves.
     */
    public void markEnded(int status) {
        endMark.mark(status);
    }

    /** The exit status of the service's program if it ended on its primary, else empty. */
    public OptionalInt ended() {
        return endMark.read();
    }

    /**
     * For a standby after {@link ClusterListener#primaryGone}: the most up-to-date live standby
     * wins. Stands as a candidate with its {@code standing} (read again on each change), waits
     * until every live standby has stood (or one lease has passed) and it is the best candidate
     * (the highest {@link Standing}; a tie goes to the smallest name), takes the lock, raises the epoch
     * and publishes itself as PRIMARY; returns the new epoch. Returns -1 if another member became
     * primary meanwhile: this node then follows it. Throws if neither happens within {@code wait}.
     */
    public long elect(Supplier<Standing> standing, Duration wait) {
        return election.elect(standing, wait);
    }

    /** Leaves the service: ending the session deletes this node's member node and lock node at once. */
    @Override
    public void close() {
        membership.close();
        watch.close();
        zk.client().close();
    }

    private void loseContact(ConnectionState state) {
        if (membership.loseContact()) {
            LOG.warn("{} lost contact with ZooKeeper at {} ({}): its lease as primary of {} is lost", zk.name(), zk.zkConnect(),
                    state, zk.service());
            listener.leaseLost();
        }
    }

    /** Same session: give up the lock still held and show this node as a standby. New session: re-create the member node. */
    private void regainContact() {
        if (membership.takeStepDown()) {
            lock.giveUpQuietly();
        }
        membership.rewrite();
    }

    private static void checkSegment(String what, String value) {
        if (value.isEmpty() || value.contains("/") || value.equals(".") || value.equals("..")) {
            throw new HotcloneException("the " + what + " '" + value + "' cannot name a ZooKeeper node: use letters, digits, - or _");
        }
    }
}
