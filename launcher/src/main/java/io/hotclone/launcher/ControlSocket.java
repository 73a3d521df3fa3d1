package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.Checkpointer;
import io.hotclone.capture.ProtectedProgram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongFunction;

/**
 * The admin endpoint of a {@code hotclone run}: a Unix socket in its journal directory that
 * takes one line, {@code checkpoint}, and answers with the checkpoint's line as
 * {@code hotclone journal ls} prints it, or {@code error: why}.
 */
final class ControlSocket implements AutoCloseable {
    static final String FILE = "control.sock";
    private static final Logger LOG = LoggerFactory.getLogger(ControlSocket.class);
    private static final Duration REPLICATION_WAIT = Duration.ofSeconds(10);

    private final Path path;
    private final ServerSocketChannel server;

    private ControlSocket(Path path, ServerSocketChannel server) {
        this.path = path;
        this.server = server;
    }

    /** Serves {@code program} on {@code journal}/control.sock, on a daemon thread; no standbys. */
    static ControlSocket serve(Path journal, ProtectedProgram program) {
        return serve(journal, program, CompletableFuture::completedFuture);
    }

    /**
     * Serves {@code program} on {@code journal}/control.sock, on a daemon thread: a checkpoint is
     * answered once {@code replicated} completes for its seq (the standbys acknowledged it, as
     * the --ack policy says).
     */
    static ControlSocket serve(Path journal, ProtectedProgram program, LongFunction<CompletableFuture<Long>> replicated) {
        Path path = journal.resolve(FILE);
        try {
            Files.deleteIfExists(path);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
            ControlSocket socket = new ControlSocket(path, server);
            Thread.ofPlatform().daemon().name("hotclone-control").start(() -> socket.accept(program, replicated));
            return socket;
        } catch (IOException e) {
            throw new HotcloneException("cannot open the control socket " + path + ": " + e.getMessage(), e);
        }
    }

    private void accept(ProtectedProgram program, LongFunction<CompletableFuture<Long>> replicated) {
        while (server.isOpen()) {
            try (SocketChannel client = server.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client),
                        StandardCharsets.UTF_8));
                String request = in.readLine();
                String answer = "checkpoint".equals(request) ? checkpoint(program, replicated)
                        : "error: unknown request " + request;
                client.write(StandardCharsets.UTF_8.encode(answer + "\n"));
            } catch (IOException e) {
                if (server.isOpen()) {
                    LOG.warn("control socket {}: {}", path, e.toString());
                }
            }
        }
    }

    private static String checkpoint(ProtectedProgram program, LongFunction<CompletableFuture<Long>> replicated) {
        try {
            Checkpointer.Result r = program.requestCheckpoint().get();
            try {
                replicated.apply(r.seq()).get(REPLICATION_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                return "error: checkpoint seq " + r.seq() + " is committed here, but the standbys did not acknowledge it"
                        + " within " + REPLICATION_WAIT.toSeconds() + " s as --ack asks: check that they run and"
                        + " reach this node";
            }
            return "seq=" + r.seq() + " pages=" + r.pages() + " bytes=" + r.pageBytes() + " freeze_us="
                    + r.freezeMicros() + " duration_us=" + r.durationMicros();
        } catch (ExecutionException e) {
            return "error: " + e.getCause().getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "error: interrupted";
        }
    }

    /** Asks the {@code hotclone run} of {@code journal} for a checkpoint now; returns its line. */
    static String requestCheckpoint(Path journal) {
        Path path = journal.resolve(FILE);
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            channel.write(StandardCharsets.UTF_8.encode("checkpoint\n"));
            String answer = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel),
                    StandardCharsets.UTF_8)).readLine();
            if (answer == null || answer.startsWith("error: ")) {
                throw new HotcloneException("the hotclone run of journal " + journal + " took no checkpoint: "
                        + (answer == null ? "it closed the connection" : answer.substring("error: ".length())));
            }
            return answer;
        } catch (IOException e) {
            throw new HotcloneException("no hotclone run is protecting a program with journal " + journal
                    + " (cannot connect to " + path + ": " + e.getMessage() + ")", e);
        }
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot remove the control socket {}: {}", path, e.toString());
        }
    }
}
