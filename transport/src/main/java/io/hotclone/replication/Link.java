package io.hotclone.replication;

import io.hotclone.journal.JournalFormat;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.wire.DocumentContext;
import net.openhft.chronicle.wire.Wire;
import net.openhft.chronicle.wire.WireType;
import net.openhft.chronicle.wire.Wires;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * One replication connection: {@link Message}s as Chronicle Wire binary documents (a 4-byte
 * little-endian header, the length and Chronicle's flags, then the fields) over a blocking socket.
 *
 * <p>Reads wake every {@code idleEvery} while nothing arrives, so that the reading thread can send
 * heartbeats and notice silence. One thread reads; sends are serialised.
 */
final class Link implements AutoCloseable {
    /** A data frame holds one record: at most a page run and its head, with room for the fields. */
    private static final int MAX_FRAME = JournalFormat.MAX_RUN_BYTES + (1 << 16);

    /** What a reader does each time the socket stays quiet for a while. */
    interface Idle {
        void idle() throws IOException;
    }

    private final SocketChannel channel;
    private final InetSocketAddress remote;
    private final InputStream in;
    /** Room for a frame's fields besides a record. */
    private static final int FIELDS = 1 << 16;
    // Direct, for the socket to write from without a copy; freed by the GC, not by close(), which
    // another thread may call during a send.
    private ByteBuffer outBuffer = ByteBuffer.allocateDirect(FIELDS);
    private Bytes<ByteBuffer> out = Bytes.wrapForWrite(outBuffer);
    private Wire outWire = WireType.BINARY_LIGHT.apply(out);
    private byte[] frame = new byte[1 << 16];
    /** Holds the record of the last data message read, reused: a fresh array per record costs page faults. */
    private final Bytes<byte[]> record = Bytes.allocateElasticOnHeap(1 << 16);
    private volatile long lastHeard = System.nanoTime();
    private long lastSent = System.nanoTime();

    Link(SocketChannel channel, Duration idleEvery) throws IOException {
        this.channel = channel;
        this.remote = (InetSocketAddress) channel.getRemoteAddress();
        channel.socket().setTcpNoDelay(true);
        // The socket's stream, unlike the channel, honours SO_TIMEOUT in blocking mode.
        channel.socket().setSoTimeout((int) Math.max(1, idleEvery.toMillis()));
        this.in = channel.socket().getInputStream();
    }

    static Link connect(InetSocketAddress to, Duration idleEvery, Duration connectTimeout) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.socket().connect(to, (int) connectTimeout.toMillis());
            return new Link(channel, idleEvery);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    InetSocketAddress remote() {
        return remote;
    }

    String local() {
        try {
            return String.valueOf(channel.getLocalAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    synchronized void send(Message m) throws IOException {
        int needed = FIELDS + (m instanceof Message.Data d ? (int) d.record().byteSize() : 0);
        if (outBuffer.capacity() < needed) {
            outBuffer = ByteBuffer.allocateDirect(needed);
            out = Bytes.wrapForWrite(outBuffer);
            outWire = WireType.BINARY_LIGHT.apply(out);
        }
        out.clear();
        try (DocumentContext dc = outWire.writingDocument()) {
            Message.write(m, dc.wire());
        }
        ByteBuffer buffer = outBuffer.duplicate().limit((int) out.writePosition()).position(0);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        lastSent = System.nanoTime();
    }

    /** Sends a heartbeat if nothing was sent for {@code every}. */
    synchronized void heartbeatIfDue(Duration every) throws IOException {
        if (System.nanoTime() - lastSent >= every.toNanos()) {
            send(new Message.Heartbeat());
        }
    }

    /** How long since any byte arrived. */
    Duration silence() {
        return Duration.ofNanos(System.nanoTime() - lastHeard);
    }

    /** The next message; calls {@code idle} whenever nothing arrives for the idle period. */
    Message read(Idle idle) throws IOException {
        readFully(frame, 0, Integer.BYTES, idle);
        int header = ByteBuffer.wrap(frame, 0, Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN).getInt();
        int length = Wires.lengthOf(header);
        if (!Wires.isReadyData(header) || length > MAX_FRAME) {
            throw new IOException(String.format("%s sent a frame with header 0x%08x, not a hotclone replication"
                    + " message: is it a hotclone replication port?", remote, header));
        }
        if (frame.length < Integer.BYTES + length) {
            byte[] larger = new byte[Integer.BYTES + length];
            System.arraycopy(frame, 0, larger, 0, Integer.BYTES);
            frame = larger;
        }
        readFully(frame, Integer.BYTES, length, idle);
        Bytes<byte[]> bytes = Bytes.wrapForRead(frame);
        bytes.readLimit(Integer.BYTES + length);
        try (DocumentContext dc = WireType.BINARY_LIGHT.apply(bytes).readingDocument()) {
            return Message.read(dc.wire(), record);
        } catch (RuntimeException e) {
            throw new IOException(remote + " sent a frame that cannot be decoded (" + e + ")", e);
        }
    }

    private void readFully(byte[] into, int offset, int length, Idle idle) throws IOException {
        while (length > 0) {
            int n;
            try {
                n = in.read(into, offset, length);
            } catch (SocketTimeoutException e) {
                idle.idle();
                continue;
            }
            if (n < 0) {
                throw new EOFException(remote + " closed the connection");
            }
            lastHeard = System.nanoTime();
            offset += n;
            length -= n;
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to flush: a closing link has nothing more to say
        }
    }
}
