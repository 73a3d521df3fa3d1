package io.hotclone.testkit.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One machine of a {@link Testbed}: a network namespace with its own address. Each command it
 * starts runs in that namespace and in a PID namespace of its own (with its own /proc), so that
 * killing the namespace's first process kills all of the command's processes at once, as a
 * machine that dies takes everything with it.
 */
public final class Node {
    private final String name;
    private final String namespace;
    private final String hostSide;
    private final String nodeSide;
    private final InetAddress address;
    /** A bridge port's state when it passes traffic (BR_STATE_FORWARDING). */
    private static final String FORWARDING = "3";

    private final List<NodeProcess> started = new ArrayList<>();

    Node(String name, String namespace, String hostSide, String nodeSide, InetAddress address) {
        this.name = name;
        this.namespace = namespace;
        this.hostSide = hostSide;
        this.nodeSide = nodeSide;
        this.address = address;
    }

    public String name() {
        return name;
    }

    public InetAddress address() {
        return address;
    }

    String namespace() {
        return namespace;
    }

    String hostSide() {
        return hostSide;
    }

    String nodeSide() {
        return nodeSide;
    }

    /**
     * Starts {@code command} in this node, stdout and stderr appended to {@code log}. The process
     * this returns is {@code unshare}, whose child is the PID namespace's first process: the
     * command.
     */
    public NodeProcess start(List<String> command, Map<String, String> extraEnv, Path log) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
                "unshare", "--pid", "--fork", "--kill-child", "--mount-proc"));
        argv.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        builder.environment().putAll(extraEnv);
        try {
            NodeProcess process = new NodeProcess(builder.start(), log);
            started.add(process);
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command + " in node " + name, e);
        }
    }

    /** Kills every process of this node at once (SIGKILL to each PID namespace's first process) and waits until they are gone. */
    public void kill() {
        List<List<ProcessHandle>> dying = started.stream().map(NodeProcess::killNamespace).toList();
        for (int i = 0; i < dying.size(); i++) {
            NodeProcess.awaitGone(dying.get(i), started.get(i).log());
        }
    }

    /** The node loses all connectivity, silently (no reset reaches anyone); its processes run on. */
    public void cut() {
        Testbed.ip("link", "set", hostSide, "down");
    }

    /** Brings the node's link back and returns once the bridge forwards its traffic again. */
    public void heal() {
        Testbed.ip("link", "set", hostSide, "up");
        Path state = Path.of("/sys/class/net", hostSide, "brport", "state");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try {
            while (!Files.readString(state).strip().equals(FORWARDING)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the bridge port of node " + name + " did not forward within 30 s");
                }
                Thread.onSpinWait();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + state, e);
        }
    }
}
