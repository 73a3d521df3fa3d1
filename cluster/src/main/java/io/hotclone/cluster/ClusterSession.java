package io.hotclone.cluster;

import io.hotclone.bindings.HotcloneException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's membership in a service, through one ZooKeeper session whose timeout is the node's
 * lease. The service lives under {@code /hotclone/<service>}: {@code members/<name>} (ephemeral,
 * one per live node), {@code lock} (Curator's {@link InterProcessMutex}: only its holder is
 * primary), {@code epoch} (the current reign, raised by a version-checked write that also checks
 * the writer still holds the lock) and {@code candidates/<epoch>/<name>} during an election.
 *
 * <p>Lease timing, for a lease (session timeout) L: the ZooKeeper client pings every L/3 and
 * declares the connection lost after 2L/3 without hearing from the server; Curator then reports
 * SUSPENDED and this session calls {@link ClusterListener#leaseLost()}. The server expires a
 * silent session after L (rounded up to its tick, 100 ms on a {@link Coordinator}), and only then
 * do the lock and the member node vanish and a standby may win. So a primary cut off from
 * ZooKeeper learns it about L/3 (minus network delay and a tick) before anyone can take over: it
 * must stop its program within that margin, about 330 ms at L = 1 s. A primary that loses contact
 * steps down for good: {@link #isPrimary()} turns false at once; if it reconnects within its
 * session it gives up the lock and republishes itself as a standby, so the others elect.
 *
 * <p>Thread-safe. Listener calls come from Curator's threads.
 */
public final class ClusterSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterSession.class);
    private static final Duration FIRST_CONNECTION = Duration.ofSeconds(5);
    private static final Comparator<Member> BY_NAME = Comparator.comparing(Member::name);

    private final CuratorFramework client;
    private final String zkConnect;
    private final String service;
    private final String name;
    private final Duration lease;
    private final ClusterListener listener;
    private final String root;
    private final String membersPath;
    private final String lockPath;
    private final String epochPath;
    private final String endedPath;
    private final CuratorCache cache;
    private final CountDownLatch primed = new CountDownLatch(1);

    /** Bumped and notified on every change under the service's root, so elect() wakes without polling. */
    private final Object changes = new Object();
    private long changeCount;

    // State transitions happen under this object's monitor, never held across a ZooKeeper call,
    // so a loss of contact reaches leaseLost() at once. Member node writes are serialised on
    // `writing`, taken before the monitor, so the last state recorded is the last one written.
    private final Object writing = new Object();
    private volatile boolean primary;
    private long contactLosses;
    private boolean stepDownPending;
    private volatile Member published;
    private volatile boolean closed;
    // Brings the member node back to `published` after a write failed, the session was replaced or the node vanished.
    private final ScheduledExecutorService membership;
    private String membershipTrouble;

    private ClusterSession(CuratorFramework client, String zkConnect, String service, String name, Duration lease,
            ClusterListener listener) {
        this.client = client;
        this.zkConnect = zkConnect;
        this.service = service;
        this.name = name;
        this.lease = lease;
        this.listener = listener;
        this.root = ZKPaths.makePath("hotclone", service);
        this.membersPath = ZKPaths.makePath(root, "members");
        this.lockPath = ZKPaths.makePath(root, "lock");
        this.epochPath = ZKPaths.makePath(root, "epoch");
        this.endedPath = ZKPaths.makePath(root, "ended");
        this.cache = CuratorCache.build(client, root);
        this.membership = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon()
                .name("hotclone-membership-" + name).factory());
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
        int leaseMillis = Math.toIntExact(lease.toMillis());
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(zkConnect)
                .sessionTimeoutMs(leaseMillis)
                .connectionTimeoutMs(leaseMillis)
                .retryPolicy(new ExponentialBackoffRetry(50, 4, 400))
                .zkClientConfig(clientConfig())
                // Nodes created without data (the lock's) name their creator: a refusal can say who holds the lock.
                .defaultData(name.getBytes(StandardCharsets.UTF_8))
                .build();
        ClusterSession session = new ClusterSession(client, zkConnect, service, name, lease, listener);
        try {
            session.open();
            return session;
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
    }

    /**
     * The Netty client: ZooKeeper's default NIO client sleeps 100 ms in its clean-up before it
     * reports a disconnection, which would eat a third of the primary's margin at a 1 s lease.
     */
    private static ZKClientConfig clientConfig() {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, ClientCnxnSocketNetty.class.getName());
        return config;
    }

    private void open() {
        client.getConnectionStateListenable().addListener((c, state) -> connectionChanged(state));
        client.start();
        try {
            if (!client.blockUntilConnected(Math.toIntExact(FIRST_CONNECTION.toMillis()), TimeUnit.MILLISECONDS)) {
                throw new HotcloneException("no ZooKeeper answered at " + zkConnect + " within " + FIRST_CONNECTION.toSeconds()
                        + " s: start one there (hotclone coordinator) or point this node at a running one");
            }
            int granted = client.getZookeeperClient().getZooKeeper().getSessionTimeout();
            if (granted != lease.toMillis()) {
                throw new HotcloneException("ZooKeeper at " + zkConnect + " granted a session of " + granted
                        + " ms instead of the lease of " + lease.toMillis() + " ms: choose a lease within its"
                        + " minSessionTimeout..maxSessionTimeout (a hotclone coordinator allows 200 ms to 60 s)");
            }
            ensure(epochPath, "0".getBytes(StandardCharsets.UTF_8));
            ensure(membersPath, new byte[0]);
            Stat live = client.checkExists().forPath(memberPath());
            if (live != null) {
                throw nameTaken(live.getEphemeralOwner());
            }
            cache.listenable().addListener(CuratorCacheListener.builder()
                    .forCreates(node -> changed(null, node))
                    .forChanges(this::changed)
                    .forDeletes(old -> changed(old, null))
                    .forInitialized(this::initialized)
                    .build());
            cache.start();
            if (!primed.await(FIRST_CONNECTION.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new HotcloneException("could not read service " + service + " from ZooKeeper at " + zkConnect
                        + " within " + FIRST_CONNECTION.toSeconds() + " s: is the server overloaded?");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HotcloneException("interrupted while joining service " + service + " at " + zkConnect, e);
        } catch (HotcloneException e) {
            throw e;
        } catch (Exception e) {
            throw failure("join service " + service, e);
        }
    }

    /**
     * Makes {@code me} this node's ephemeral member node: written at once when ZooKeeper answers,
     * else as soon as it does again (also after a new session, or if the node vanishes). The role
     * must be PRIMARY exactly when this node is primary.
     */
    public void publish(Member me) {
        if (!me.name().equals(name)) {
            throw new IllegalArgumentException("session " + name + " cannot publish member " + me.name());
        }
        synchronized (writing) {
            synchronized (this) {
                if ((me.role() == Role.PRIMARY) != primary) {
                    throw new IllegalStateException(name + " is " + (primary ? "" : "not ") + "primary, cannot publish role " + me.role());
                }
                published = me;
            }
            keepMembership();
        }
    }

    /** The live members, sorted by name, read from ZooKeeper now. */
    public List<Member> members() {
        try {
            List<Member> members = new ArrayList<>();
            for (String child : client.getChildren().forPath(membersPath)) {
                try {
                    members.add(Member.decode(child, client.getData().forPath(ZKPaths.makePath(membersPath, child))));
                } catch (KeeperException.NoNodeException gone) {
                    // left between the listing and the read
                }
            }
            members.sort(BY_NAME);
            return members;
        } catch (HotcloneException e) {
            throw e;
        } catch (Exception e) {
            throw failure("read the members of service " + service, e);
        }
    }

    /** The live member published as PRIMARY (the newest epoch if a stepping-down one lingers). */
    public Optional<Member> primary() {
        return members().stream().filter(m -> m.role() == Role.PRIMARY).max(Comparator.comparingLong(Member::epoch));
    }

    /** The service's current epoch, 0 before its first primary. Never decreases. */
    public long epoch() {
        try {
            return Long.parseLong(new String(client.getData().forPath(epochPath), StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw failure("read the epoch of service " + service, e);
        }
    }

    public boolean isPrimary() {
        return primary;
    }

    /**
     * For a fresh start: takes the primary lock if it is free within {@code wait}, raises the
     * epoch and publishes this node as PRIMARY. Returns the new epoch; throws naming the holder
     * if another node holds the lock.
     */
    public long becomePrimary(Duration wait) {
        if (primary) {
            throw new IllegalStateException(name + " is already primary of " + service);
        }
        long losses = contactLosses();
        if (!acquire(wait)) {
            throw new HotcloneException("service " + service + " already has a primary: " + lockHolder()
                    + " holds its lock; this node can join as a standby, or take over once that primary's lease ("
                    + "its session) has ended");
        }
        long epoch = reign(losses);
        try {
            client.delete().quietly().forPath(endedPath); // a fresh start: the program runs again
        } catch (Exception e) {
            throw failure("clear the end mark of service " + service, e);
        }
        return epoch;
    }

    /**
     * Records that the program of the service ended on its primary, with {@code status}: the
     * standbys then leave it ended instead of taking it over when this primary leaves.
     */
    public void markEnded(int status) {
        byte[] text = Integer.toString(status).getBytes(StandardCharsets.UTF_8);
        try {
            client.create().orSetData().forPath(endedPath, text);
        } catch (Exception e) {
            throw failure("mark service " + service + " ended", e);
        }
    }

    /** The exit status of the service's program if it ended on its primary, else empty. */
    public OptionalInt ended() {
        try {
            return OptionalInt.of(Integer.parseInt(new String(client.getData().forPath(endedPath), StandardCharsets.UTF_8)));
        } catch (KeeperException.NoNodeException e) {
            return OptionalInt.empty();
        } catch (Exception e) {
            throw failure("read whether service " + service + " ended", e);
        }
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
        if (primary) {
            throw new IllegalStateException(name + " is already primary of " + service);
        }
        long start = System.nanoTime();
        long deadline = start + wait.toNanos();
        long gathered = start + lease.toNanos();
        long round = epoch();
        String candidatePath = ZKPaths.makePath(root, "candidates", Long.toString(round), name);
        try {
            Standing stood = null;
            while (true) {
                long seen = changeCount();
                Standing now = standing.get();
                if (!now.equals(stood)) {
                    stand(candidatePath, round, now);
                    stood = now;
                }
                List<Member> members = members();
                Map<String, Standing> candidates = candidates(round);
                // The epoch is read last: a winner raises it before it withdraws its candidacy, so an
                // epoch still at `round` means the lists above were read before anyone won.
                if (epoch() != round || members.stream().anyMatch(m -> m.role() == Role.PRIMARY)) {
                    return -1;
                }
                Set<String> standbys = members.stream().filter(m -> m.role() == Role.STANDBY)
                        .map(Member::name).collect(Collectors.toSet());
                candidates.keySet().retainAll(standbys);
                boolean everyoneStood = candidates.keySet().containsAll(standbys);
                Optional<String> best = best(candidates);
                long nanos = System.nanoTime();
                if (best.equals(Optional.of(name)) && (everyoneStood || nanos - gathered >= 0)) {
                    return takeOver(round, deadline);
                }
                if (nanos - deadline >= 0) {
                    throw new HotcloneException("no new primary for service " + service + " within " + wait.toMillis()
                            + " ms: candidates " + candidates + " of live standbys " + standbys
                            + "; the best one did not take over (is it stuck?)");
                }
                awaitChange(seen, everyoneStood || deadline - gathered < 0 ? deadline : gathered);
            }
        } finally {
            withdraw(candidatePath);
        }
    }

    /** The winner among candidates: the highest standing, then the smallest name. */
    static Optional<String> best(Map<String, Standing> standingByName) {
        return standingByName.entrySet().stream()
                .max(Map.Entry.<String, Standing>comparingByValue().thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder())))
                .map(Map.Entry::getKey);
    }

    /** Leaves the service: ending the session deletes this node's member node and lock node at once. */
    @Override
    public void close() {
        primary = false;
        closed = true;
        membership.shutdownNow();
        cache.close();
        client.close();
    }

    /**
     * Waits for the lock in turns of a quarter lease: a standby that stopped waiting for the
     * others (after one lease) may have won meanwhile, and then it holds the lock for good.
     */
    private long takeOver(long round, long deadline) {
        long losses = contactLosses();
        while (true) {
            long left = deadline - System.nanoTime();
            if (acquire(Duration.ofNanos(Math.max(0, Math.min(left, lease.toNanos() / 4))))) {
                if (lostRound(round)) {
                    giveUpLock();
                    return -1;
                }
                return reign(losses);
            }
            if (lostRound(round)) {
                return -1;
            }
            if (left <= 0) {
                throw new HotcloneException("won the election of service " + service + " but its lock stayed held by "
                        + lockHolder() + ": is an old primary still alive?");
            }
        }
    }

    private boolean lostRound(long round) {
        return epoch() != round || primary().isPresent();
    }

    /** A fresh mutex each time: a held one outlives a lost session in Curator's bookkeeping. */
    private boolean acquire(Duration wait) {
        try {
            return new InterProcessMutex(client, lockPath).acquire(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (Exception e) {
            throw failure("take the primary lock of service " + service, e);
        }
    }

    /**
     * Holding the lock: raise the epoch, publish PRIMARY. A loss of contact since {@code losses}
     * was counted (even one already over) means the lock may have gone with the session: step down.
     */
    private long reign(long losses) {
        try {
            long epoch = raiseEpoch();
            synchronized (writing) {
                Member was = published;
                Member me = was == null ? new Member(name, Role.PRIMARY, "", 0, epoch) : was.withRole(Role.PRIMARY, epoch);
                write(me);
                synchronized (this) {
                    if (contactLosses != losses) {
                        stepDownPending = true;
                        published = me.withRole(Role.STANDBY, epoch);
                        throw new HotcloneException("lost contact with ZooKeeper at " + zkConnect + " while becoming primary"
                                + " of service " + service + " (epoch " + epoch + "): this node stays a standby");
                    }
                    published = me;
                    primary = true;
                }
            }
            LOG.info("{} is primary of service {} in epoch {}", name, service, epoch);
            return epoch;
        } catch (RuntimeException e) {
            giveUpLockQuietly();
            throw e;
        }
    }

    /** epoch + 1, written only if nobody wrote it meanwhile and this session still holds the lock. */
    private long raiseEpoch() {
        try {
            String lockNode = ownLockNodes().stream().findFirst()
                    .orElseThrow(() -> new HotcloneException("lost the primary lock of service " + service + " before raising its epoch"));
            while (true) {
                Stat stat = new Stat();
                long current = Long.parseLong(new String(client.getData().storingStatIn(stat).forPath(epochPath), StandardCharsets.UTF_8));
                try {
                    client.transaction().forOperations(
                            client.transactionOp().check().forPath(lockNode),
                            client.transactionOp().setData().withVersion(stat.getVersion())
                                    .forPath(epochPath, Long.toString(current + 1).getBytes(StandardCharsets.UTF_8)));
                    return current + 1;
                } catch (KeeperException.BadVersionException raced) {
                    LOG.debug("epoch of {} changed while raising it; reading it again", service);
                }
            }
        } catch (HotcloneException e) {
            throw e;
        } catch (Exception e) {
            throw failure("raise the epoch of service " + service, e);
        }
    }

    private void connectionChanged(ConnectionState state) {
        switch (state) {
            case SUSPENDED, LOST -> loseContact(state);
            case CONNECTED, RECONNECTED -> regainContact();
            default -> { }
        }
    }

    private void loseContact(ConnectionState state) {
        boolean wasPrimary;
        synchronized (this) {
            contactLosses++;
            wasPrimary = primary;
            if (wasPrimary) {
                primary = false;
                stepDownPending = true;
                published = published.withRole(Role.STANDBY, published.epoch());
            }
        }
        if (wasPrimary) {
            LOG.warn("{} lost contact with ZooKeeper at {} ({}): its lease as primary of {} is lost", name, zkConnect, state, service);
            listener.leaseLost();
        }
    }

    /** Same session: give up the lock still held and show this node as a standby. New session: re-create the member node. */
    private void regainContact() {
        boolean stepDown;
        synchronized (this) {
            stepDown = stepDownPending;
            stepDownPending = false;
        }
        if (stepDown) {
            giveUpLockQuietly();
        }
        retryMembership(0);
    }

    /**
     * Writes {@code published}; if that fails (no contact, or the member node of this node's
     * previous session still lingers until the server expires it) tries again every quarter lease.
     */
    private void keepMembership() {
        synchronized (writing) {
            Member me = published;
            if (me == null || closed) {
                return;
            }
            try {
                write(me);
                if (membershipTrouble != null) {
                    LOG.info("{} is a member of service {} again", name, service);
                    membershipTrouble = null;
                }
            } catch (RuntimeException e) {
                String trouble = String.valueOf(e.getMessage() != null ? e.getMessage() : e);
                if (!trouble.equals(membershipTrouble)) {
                    LOG.warn("{} could not publish its membership of {} (trying again every {} ms): {}", name, service,
                            lease.toMillis() / 4, trouble);
                    membershipTrouble = trouble;
                }
                retryMembership(lease.toMillis() / 4);
            }
        }
    }

    private void retryMembership(long delayMillis) {
        try {
            membership.schedule(this::keepMembership, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // the session is closing: the membership ends with it
        }
    }

    private void write(Member me) {
        byte[] data = me.encode();
        try {
            while (true) {
                try {
                    client.create().withMode(CreateMode.EPHEMERAL).forPath(memberPath(), data);
                    return;
                } catch (KeeperException.NodeExistsException exists) {
                    Stat stat = client.checkExists().forPath(memberPath());
                    if (stat == null) {
                        continue;
                    }
                    if (stat.getEphemeralOwner() != sessionId()) {
                        throw nameTaken(stat.getEphemeralOwner());
                    }
                    try {
                        client.setData().withVersion(stat.getVersion()).forPath(memberPath(), data);
                        return;
                    } catch (KeeperException.NoNodeException | KeeperException.BadVersionException raced) {
                        LOG.debug("member node of {} changed under the update; writing it again", name);
                    }
                }
            }
        } catch (HotcloneException e) {
            throw e;
        } catch (Exception e) {
            throw failure("publish member " + name + " of service " + service, e);
        }
    }

    /** Stands (or updates its stand) as candidate, and shows the same committedSeq in its member node. */
    private void stand(String candidatePath, long round, Standing standing) {
        byte[] data = standing.encode();
        try {
            if (client.checkExists().forPath(candidatePath) == null) {
                client.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(candidatePath, data);
            } else {
                client.setData().forPath(candidatePath, data);
            }
        } catch (Exception e) {
            throw failure("stand for primary of service " + service, e);
        }
        Member me = published;
        publish((me != null ? me : new Member(name, Role.STANDBY, "", 0, round)).withCommittedSeq(standing.seq()));
    }

    private Map<String, Standing> candidates(long round) {
        String path = ZKPaths.makePath(root, "candidates", Long.toString(round));
        Map<String, Standing> standings = new HashMap<>();
        try {
            for (String child : client.getChildren().forPath(path)) {
                try {
                    standings.put(child, Standing.decode(client.getData().forPath(ZKPaths.makePath(path, child))));
                } catch (KeeperException.NoNodeException gone) {
                    // withdrew between the listing and the read
                }
            }
            return standings;
        } catch (KeeperException.NoNodeException none) {
            return standings;
        } catch (Exception e) {
            throw failure("read the candidates of service " + service, e);
        }
    }

    private void withdraw(String candidatePath) {
        try {
            client.delete().quietly().forPath(candidatePath);
        } catch (Exception e) {
            LOG.debug("could not withdraw candidate {}: {}", candidatePath, e.toString());
        }
    }

    private List<String> ownLockNodes() throws Exception {
        long session = sessionId();
        List<String> own = new ArrayList<>();
        List<String> children;
        try {
            children = client.getChildren().forPath(lockPath);
        } catch (KeeperException.NoNodeException none) {
            return own;
        }
        for (String child : children) {
            String path = ZKPaths.makePath(lockPath, child);
            Stat stat = client.checkExists().forPath(path);
            if (stat != null && stat.getEphemeralOwner() == session) {
                own.add(path);
            }
        }
        return own;
    }

    private void giveUpLock() {
        try {
            for (String node : ownLockNodes()) {
                client.delete().quietly().forPath(node);
            }
        } catch (Exception e) {
            throw failure("give up the primary lock of service " + service, e);
        }
    }

    private void giveUpLockQuietly() {
        try {
            giveUpLock();
        } catch (RuntimeException e) {
            LOG.warn("{} could not give up the lock of {} (its session's end will): {}", name, service, e.getMessage());
        }
    }

    private String lockHolder() {
        try {
            List<String> nodes = new ArrayList<>(new InterProcessMutex(client, lockPath).getParticipantNodes());
            if (nodes.isEmpty()) {
                return "nobody now";
            }
            return new String(client.getData().forPath(nodes.getFirst()), StandardCharsets.UTF_8);
        } catch (Exception e) {
            return "another node (" + e + ")";
        }
    }

    private void initialized() {
        primed.countDown();
        listener.membersChanged(cachedMembers());
        changed(null, null);
    }

    /** From the cache: a member node created (old null), changed, or deleted (now null). */
    private void changed(ChildData old, ChildData now) {
        ChildData node = now != null ? now : old;
        if (node != null && primed.getCount() == 0 && membersPath.equals(ZKPaths.getPathAndNode(node.getPath()).getPath())) {
            try {
                Member last = old == null ? null : Member.decode(ZKPaths.getNodeFromPath(old.getPath()), old.getData());
                if (now == null && last.name().equals(name)) {
                    retryMembership(0); // the node of a session lost meanwhile expired, or someone deleted it
                }
                boolean stillPrimary = now != null && Member.decode(ZKPaths.getNodeFromPath(now.getPath()), now.getData()).role() == Role.PRIMARY;
                if (last != null && last.role() == Role.PRIMARY && !stillPrimary && !last.name().equals(name)) {
                    listener.primaryGone(last);
                }
                listener.membersChanged(cachedMembers());
            } catch (RuntimeException e) {
                LOG.warn("{}: ignored a member change in {}: {}", name, service, e.getMessage());
            }
        }
        synchronized (changes) {
            changeCount++;
            changes.notifyAll();
        }
    }

    private List<Member> cachedMembers() {
        return cache.stream()
                .filter(d -> membersPath.equals(ZKPaths.getPathAndNode(d.getPath()).getPath()))
                .map(d -> Member.decode(ZKPaths.getNodeFromPath(d.getPath()), d.getData()))
                .sorted(BY_NAME)
                .toList();
    }

    private synchronized long contactLosses() {
        return contactLosses;
    }

    private long changeCount() {
        synchronized (changes) {
            return changeCount;
        }
    }

    private void awaitChange(long seen, long untilNanos) {
        synchronized (changes) {
            try {
                long left;
                while (changeCount == seen && (left = untilNanos - System.nanoTime()) > 0) {
                    TimeUnit.NANOSECONDS.timedWait(changes, left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HotcloneException("interrupted while electing a primary of service " + service, e);
            }
        }
    }

    private void ensure(String path, byte[] data) throws Exception {
        try {
            client.create().creatingParentsIfNeeded().forPath(path, data);
        } catch (KeeperException.NodeExistsException exists) {
            // made by an earlier node
        }
    }

    private String memberPath() {
        return ZKPaths.makePath(membersPath, name);
    }

    private long sessionId() throws Exception {
        return client.getZookeeperClient().getZooKeeper().getSessionId();
    }

    private HotcloneException nameTaken(long owner) {
        return new HotcloneException("name " + name + " is already live in service " + service + " (ZooKeeper session 0x"
                + Long.toHexString(owner) + " at " + zkConnect + "): give this node another name, or if that node died,"
                + " wait for its lease to end");
    }

    private HotcloneException failure(String what, Exception e) {
        return new HotcloneException(name + " could not " + what + " at ZooKeeper " + zkConnect + ": " + e, e);
    }

    private static void checkSegment(String what, String value) {
        if (value.isEmpty() || value.contains("/") || value.equals(".") || value.equals("..")) {
            throw new HotcloneException("the " + what + " '" + value + "' cannot name a ZooKeeper node: use letters, digits, - or _");
        }
    }
}
