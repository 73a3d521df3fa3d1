package io.hotclone.testkit.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Several machines on one: each {@link Node} is a network namespace with a veth to a bridge in
 * the root namespace and an address of its own in a /24 of 10.0.0.0/8; the bridge holds .1, so a
 * process of the test itself (a coordinator, say) is reachable from every node. A node's link can
 * be cut and healed, and every process of a node killed at once.
 *
 * <p>Needs root and iproute2 (`ip`). Names carry this JVM's pid, so leftovers of a crashed run
 * are recognised and removed by the next one.
 */
public final class Testbed implements AutoCloseable {
    private static final String PREFIX = "hct";
    private static final AtomicInteger BEDS = new AtomicInteger();

    private final String name;
    private final String bridge;
    private final String subnet;
    private final List<Node> nodes = new ArrayList<>();
    private boolean closed;

    private Testbed(String name, String subnet) {
        this.name = name;
        this.bridge = name + "br";
        this.subnet = subnet;
    }

    /** A new bridge on a free subnet; removes what crashed runs left. */
    public static Testbed create() {
        if (!isRoot()) {
            throw new IllegalStateException("the network testbed needs root (network namespaces, veths, a bridge)");
        }
        removeLeftovers();
        String name = PREFIX + ProcessHandle.current().pid() % 100_000 + (char) ('a' + BEDS.getAndIncrement() % 26);
        String subnet = freeSubnet();
        Testbed bed = new Testbed(name, subnet);
        try {
            ip("link", "add", bed.bridge, "type", "bridge");
            ip("addr", "add", subnet + ".1/24", "dev", bed.bridge);
            ip("link", "set", bed.bridge, "up");
            return bed;
        } catch (RuntimeException e) {
            bed.close();
            throw e;
        }
    }

    /** The bridge's address in the root namespace, reachable from every node. */
    public InetAddress hostAddress() {
        return address(subnet + ".1");
    }

    /** A new node: its namespace, its link to the bridge, its address, loopback up. */
    public Node node(String nodeName) {
        int index = nodes.size() + 2;
        Node node = new Node(nodeName, name + "-" + nodeName, name + index + "h", name + index + "n",
                address(subnet + "." + index));
        nodes.add(node);
        ip("netns", "add", node.namespace());
        ip("link", "add", node.hostSide(), "type", "veth", "peer", "name", node.nodeSide());
        ip("link", "set", node.nodeSide(), "netns", node.namespace());
        ip("link", "set", node.hostSide(), "master", bridge, "up");
        ip("-n", node.namespace(), "addr", "add", node.address().getHostAddress() + "/24", "dev", node.nodeSide());
        ip("-n", node.namespace(), "link", "set", node.nodeSide(), "up");
        ip("-n", node.namespace(), "link", "set", "lo", "up");
        return node;
    }

    /** Kills every node's processes and removes the namespaces, links and bridge; never throws. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Node node : nodes) {
            try {
                node.kill();
            } catch (RuntimeException | AssertionError e) {
                System.err.println("testbed: could not kill the processes of node " + node.name() + ": " + e);
            }
            quietly("netns", "del", node.namespace());
            quietly("link", "del", node.hostSide());
        }
        quietly("link", "del", bridge);
    }

    private static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** iproute2's ip, also where /usr/sbin is not on the PATH. */
    private static final String IP = Stream.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip")
            .filter(f -> Files.isExecutable(Path.of(f))).findFirst().orElse("ip");

    /** Runs {@code ip args}; throws with its output if it fails. */
    static String ip(String... args) {
        List<String> command = new ArrayList<>(List.of(IP));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in 30 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): "
                        + out.strip());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command)
                    + " (is iproute2 installed? scripts/test installs it)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + String.join(" ", command), e);
        }
    }

    private static void quietly(String... args) {
        try {
            ip(args);
        } catch (RuntimeException e) {
            // already gone, or going with its namespace
        }
    }

    /** Namespaces and links of testbeds whose JVM is gone. */
    private static void removeLeftovers() {
        for (String line : ip("netns", "list").split("\n")) {
            String ns = line.split(" ")[0];
            if (ns.startsWith(PREFIX) && !ownerAlive(ns)) {
                quietly("netns", "del", ns);
            }
        }
        for (String line : ip("-o", "link", "show").split("\n")) {
            String[] fields = line.split(":\\s+");
            if (fields.length > 1) {
                String link = fields[1].split("@")[0];
                if (link.startsWith(PREFIX) && !ownerAlive(link)) {
                    quietly("link", "del", link);
                }
            }
        }
    }

    /** Whether the JVM whose pid (mod 100000) a testbed name carries still runs. */
    private static boolean ownerAlive(String name) {
        String digits = name.substring(PREFIX.length()).replaceAll("\\D.*", "");
        if (digits.isEmpty()) {
            return false;
        }
        long pid = Long.parseLong(digits);
        return ProcessHandle.allProcesses().anyMatch(p -> p.pid() % 100_000 == pid && p.info().command()
                .map(c -> c.endsWith("java")).orElse(false));
    }

    /** A /24 of 10.0.0.0/8 no interface here has an address in. */
    private static String freeSubnet() {
        String addresses = ip("-o", "addr", "show");
        for (int i = 0; i < 250 * 250; i++) {
            int n = (int) ((ProcessHandle.current().pid() * 31 + BEDS.get() * 7 + i) % (250 * 250));
            String subnet = "10." + (1 + n / 250) + "." + (n % 250);
            if (!addresses.contains(" " + subnet + ".")) {
                return subnet;
            }
        }
        throw new IllegalStateException("no free /24 in 10.0.0.0/8 for a testbed");
    }

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(text, e);
        }
    }
}
