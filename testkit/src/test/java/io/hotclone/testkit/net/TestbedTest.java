package io.hotclone.testkit.net;

import io.hotclone.testkit.TestPrograms;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class TestbedTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int PORT = 7000;
    /** Accepts connections on argv[1] and prints every line it receives. */
    private static final String SERVER = """
            import socket, sys
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8); print("listening", flush=True)
            while True:
                c, _ = s.accept()
                for line in c.makefile():
                    print(line.strip(), flush=True)
                c.close()
            """;

    @TempDir
    Path dir;

    @Test
    void nodesReachEachOtherAndTheHostUntilALinkIsCutAndAgainOnceItHeals() {
        try (Testbed bed = Testbed.create()) {
            Node a = bed.node("a");
            Node b = bed.node("b");
            NodeProcess server = a.start(List.of(TestPrograms.python().toString(), "-c", SERVER, Integer.toString(PORT)),
                    Map.of(), dir.resolve("a.log"));
            server.awaitLine(Pattern.compile("listening"), WAIT);
            assertTrue(reachable(a.address()), "the root namespace reaches node a");

            NodeProcess client = b.start(List.of("bash", "-c", "echo from-b >/dev/tcp/" + a.address().getHostAddress()
                    + "/" + PORT), Map.of(), dir.resolve("b.log"));
            assertEquals(0, client.awaitExit(WAIT), "node b reaches node a");
            server.awaitLine(Pattern.compile("from-b"), WAIT);

            a.cut();
            assertFalse(reachable(a.address()), "a cut node is out of reach");
            a.heal();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!reachable(a.address())) {
                assertTrue(System.nanoTime() < deadline, "node a reachable again within " + WAIT + " of healing");
            }
            assertTrue(server.isAlive(), "the node's processes ran on while it was cut off");
        }
    }

    @Test
    void killingANodeKillsAllItsProcessesAtOnce() {
        try (Testbed bed = Testbed.create()) {
            Node a = bed.node("a");
            NodeProcess p = a.start(List.of("sh", "-c", "sleep 1000 & exec sleep 1001"), Map.of(), dir.resolve("a.log"));
            long deadline = System.nanoTime() + WAIT.toNanos();
            List<ProcessHandle> processes;
            while ((processes = ProcessHandle.of(p.pid()).orElseThrow().descendants().toList()).size() < 2) {
                assertTrue(System.nanoTime() < deadline, "both sleeps of node a start within " + WAIT);
                Thread.onSpinWait();
            }
            a.kill();
            assertFalse(p.isAlive());
            processes.forEach(h -> assertFalse(h.isAlive(), "process " + h.pid() + " of node a still runs"));
        }
    }

    @Test
    void closingLeavesNoNamespaceLinkOrBridgeBehind() {
        String owner = Testbed.ip("-o", "link", "show");
        Testbed bed = Testbed.create();
        bed.node("a");
        bed.node("b");
        bed.close();
        assertEquals("", Testbed.ip("netns", "list").lines().filter(l -> l.startsWith("hct")).reduce("", String::concat));
        assertEquals(owner.lines().filter(l -> l.contains(": hct")).count(),
                Testbed.ip("-o", "link", "show").lines().filter(l -> l.contains(": hct")).count());
    }

    private static boolean reachable(InetAddress address) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, PORT), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
