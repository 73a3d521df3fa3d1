package io.hotclone.replication;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** A TCP relay in front of a standby that counts the bytes it forwards and can cut its connections. */
final class Proxy implements AutoCloseable {
    private final ServerSocketChannel server;
    private final InetSocketAddress target;
    private final AtomicLong forwarded = new AtomicLong();
    private final List<SocketChannel> open = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    Proxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        start(this::accept);
    }

    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) server.getLocalAddress();
    }

    /** Bytes forwarded from the primary to the standby so far. */
    long forwarded() {
        return forwarded.get();
    }

    /** Closes every relayed connection, both sides, with a FIN: what was forwarded is still delivered. */
    synchronized void cut() throws IOException {
        for (SocketChannel c : open) {
            c.close();
        }
        open.clear();
    }

    private synchronized void start(Runnable r) {
        Thread t = Thread.ofPlatform().daemon().name("test-proxy").start(r);
        threads.add(t);
    }

    private void accept() {
        try {
            while (true) {
                SocketChannel in = server.accept();
                SocketChannel out = SocketChannel.open(target);
                synchronized (this) {
                    open.add(in);
                    open.add(out);
                }
                start(() -> pump(in, out, true));
                start(() -> pump(out, in, false));
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void pump(SocketChannel from, SocketChannel to, boolean count) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(64 << 10);
        try {
            while (from.read(buffer) >= 0) {
                buffer.flip();
                int n = buffer.remaining();
                while (buffer.hasRemaining()) {
                    to.write(buffer);
                }
                if (count) {
                    forwarded.addAndGet(n);
                }
                buffer.clear();
            }
        } catch (IOException e) {
            // cut or closed
        }
        try {
            from.close();
            to.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws Exception {
        server.close();
        cut();
        List<Thread> all;
        synchronized (this) {
            all = List.copyOf(threads);
        }
        for (Thread t : all) {
            t.join(5_000);
        }
    }
}
