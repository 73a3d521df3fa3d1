package io.hotclone.journal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;

/**
 * The one-writer lock of a journal directory: an exclusive lock on the file {@value #FILE} in
 * it, which names its holder (pid, host, command, since when) for whoever is refused.
 *
 * <p>A POSIX record lock ({@link FileChannel#tryLock}): the kernel drops it when its process
 * dies, so a lock left by a dead holder is simply taken (and the takeover logged), and unlike
 * flock(2) a program the holder forks does not inherit it. Held per process: a process that
 * asks again for a directory it holds gets the same lock counted once more, so that a node
 * keeps it across its roles (replica, then primary) while each role opens its own journal.
 * Only this class opens the lock file: closing any descriptor of it would drop a POSIX lock.
 * Readers never take it.
 */
public final class JournalLock implements AutoCloseable {
    /** The lock file in a journal directory. */
    static final String FILE = "hotclone-journal.lock";
    private static final Logger LOG = LoggerFactory.getLogger(JournalLock.class);
    private static final String LAUNCHER_MAIN = "io.hotclone.launcher.Main";
    /** The locks this process holds, by real directory path; guarded by itself. */
    private static final Map<Path, Held> HELD = new HashMap<>();

    private final Path dir;
    private boolean closed;

    private JournalLock(Path dir) {
        this.dir = dir;
    }

    /** A lock file and how many {@link JournalLock}s of this process hold it. */
    private static final class Held {
        final FileChannel channel;
        final FileLock lock;
        int count = 1;
        /** Whether a journal opened for writing since this process took the lock has freed the queue's own locks. */
        boolean queueClaimed;

        Held(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }
    }

    /**
     * Takes the writer lock of journal directory {@code dir}, creating the directory if needed.
     *
     * @throws JournalException if another process holds it (the message names it), or the
     *                          directory or its lock file cannot be created
     */
    public static JournalLock acquire(Path dir) {
        Path real;
        try {
            real = Files.createDirectories(dir).toRealPath();
        } catch (IOException e) {
            throw new JournalException("cannot create journal directory " + dir + " (" + JournalException.describe(e)
                    + "): give a directory path that can be created and written");
        }
        synchronized (HELD) {
            Held held = HELD.get(real);
            if (held != null) {
                held.count++;
                return new JournalLock(real);
            }
            HELD.put(real, lock(dir, real.resolve(FILE)));
            return new JournalLock(real);
        }
    }

    /**
     * True the first time a journal opened for writing asks, after this process took the lock: no
     * other process can write the directory, nor has any other journal of this process opened it
     * for writing yet, so any lock the queue itself holds was left by a writer that died.
     */
    boolean claimQueue() {
        synchronized (HELD) {
            Held held = HELD.get(dir);
            boolean first = held != null && !held.queueClaimed;
            if (held != null) {
                held.queueClaimed = true;
            }
            return first;
        }
    }

    /** Whether {@code file} is a journal's lock file, which belongs to no journal's contents. */
    public static boolean isLockFile(Path file) {
        return file.getFileName() != null && file.getFileName().toString().equals(FILE);
    }

    private static Held lock(Path dir, Path file) {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                throw new JournalException("journal " + dir + " is being written by " + holder(channel)
                        + ": stop it first, or use another --journal");
            }
            String previous = holder(channel);
            if (!previous.isEmpty()) {
                LOG.warn("journal {}: taking over the writer lock of {}, which is gone", dir, previous);
            }
            byte[] me = (describeThisProcess() + "\n").getBytes(StandardCharsets.UTF_8);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(me), 0);
            return new Held(channel, lock);
        } catch (IOException e) {
            close(channel);
            throw new JournalException("cannot lock journal " + dir + " through " + file + " (" + e
                    + "): check that the directory is writable", e);
        } catch (RuntimeException e) {
            close(channel);
            throw e;
        }
    }

    /**
     * What the lock file says of its holder: empty for a new file or one its holder left. Read
     * through the lock's own channel: closing another descriptor of the file would drop the lock.
     */
    private static String holder(FileChannel channel) throws IOException {
        ByteBuffer text = ByteBuffer.allocate((int) Math.min(channel.size(), 4096));
        while (text.hasRemaining() && channel.read(text, text.position()) >= 0) {
            // read on: a short read is no end of file
        }
        return new String(text.array(), 0, text.position(), StandardCharsets.UTF_8).strip();
    }

    private static String describeThisProcess() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "?";
        }
        String command = System.getProperty("sun.java.command", "java");
        if (command.startsWith(LAUNCHER_MAIN)) {
            command = "hotclone" + command.substring(LAUNCHER_MAIN.length());
        }
        return "pid " + ProcessHandle.current().pid() + " on host " + host + " (" + command + ", since "
                + Instant.now().truncatedTo(ChronoUnit.SECONDS) + ")";
    }

    /** Gives this hold up; the lock goes once every hold of this process is given up. */
    @Override
    public void close() {
        synchronized (HELD) {
            if (closed) {
                return;
            }
            closed = true;
            Held held = HELD.get(dir);
            if (--held.count == 0) {
                HELD.remove(dir);
                try {
                    // Emptied first, so that the next holder finds no one to take over from.
                    held.channel.truncate(0);
                    held.lock.release();
                } catch (IOException e) {
                    // closing the channel below releases the lock all the same
                }
                close(held.channel);
            }
        }
    }

    private static void close(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing was written that a close would flush
            }
        }
    }
}
