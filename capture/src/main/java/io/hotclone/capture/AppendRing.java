package io.hotclone.capture;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.memory.FaultedMemory;
import io.hotclone.capture.memory.PageBatches;
import io.hotclone.capture.memory.PageDumper;
import io.hotclone.process.ptrace.RemoteMemory;
import io.hotclone.image.Commit;
import io.hotclone.journal.CheckpointWriter;
import io.hotclone.journal.PageSink;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The pipeline from a checkpoint's capture to the journal: the capture thread (the program's
 * tracer) reads page batches straight into the preallocated slots of an LMAX Disruptor ring,
 * and one appender thread writes each into the checkpoint's {@link CheckpointWriter}, so that
 * reading the next batch overlaps writing the last. The writer is begun, given its metadata
 * and committed through the ring too: Chronicle appenders belong to the thread that made them.
 *
 * <p>A failure on the appender fails its checkpoint: the appender closes the writer (the
 * checkpoint stays invisible, having no commit) and skips the rest of that checkpoint's slots,
 * and the capture thread throws at its next call. The capture thread never waits on a full
 * ring for an appender that has failed or stopped. The next checkpoint starts afresh.
 *
 * <p>The slots are allocated, and so faulted in, once (a first touch costs ~13 us a page here):
 * a protected program keeps its ring from one checkpoint to the next.
 *
 * <p>Measured here (jmh FullCheckpointFreezeBenchmark, medians, 2 shared cores): a 1 GiB full
 * checkpoint streamed under the freeze 426 -> 337 ms, read from a copy-on-write copy 1546 -> 784 ms.
 *
 * <p>Thread confinement: {@link #begin} and every {@link Append} method on one thread, the
 * ring's single producer; one checkpoint at a time.
 */
final class AppendRing implements AutoCloseable {
    /** How long the capture thread parks before it looks again for a free slot. */
    private static final long RETRY_NANOS = 50_000;
    /** How often a wait for the appender checks that it still runs. */
    private static final long CHECK_MILLIS = 100;
    /** How often a wait for the appender runs {@link #whileWaiting}, when there is one. */
    private static final long SERVE_NANOS = 200_000;

    /** One slot: a batch of pages, or a step on the checkpoint's writer. */
    private static final class Slot {
        final MemorySegment buffer;
        final long[] addresses = new long[RemoteMemory.MAX_RANGES];
        final long[] lengths = new long[RemoteMemory.MAX_RANGES];
        int runs;
        long used;
        Append append;
        /** Run on the appender thread instead of writing pages, when not null. */
        Consumer<Append> step;
        /** Completed once the slot is handled, when not null. */
        CompletableFuture<Void> reply;

        Slot(MemorySegment buffer) {
            this.buffer = buffer;
        }
    }

    private final String name;
    private final FaultedMemory memory;
    private final Disruptor<Slot> disruptor;
    private final RingBuffer<Slot> ring;
    private final UnaryOperator<CheckpointWriter> writers;
    private volatile Thread appender;

    /**
     * @param name    the appender thread's name
     * @param slots   a power of two: how many batches can wait for the appender
     * @param writers applied to each checkpoint's writer as it is begun (tests inject failures)
     */
    /** Run by the capture thread after each batch it hands on and while it waits for the appender, or null. */
    private Runnable whileWaiting;

    /**
     * Has the capture thread run {@code work} after each batch it hands on and while it waits
     * for the appender (a program traced for its whole life is served meanwhile); null: nothing.
     */
    void whileWaiting(Runnable work) {
        whileWaiting = work;
    }

    AppendRing(String name, int slots, UnaryOperator<CheckpointWriter> writers) {
        this.name = name;
        this.writers = writers;
        memory = new FaultedMemory((long) slots * PageDumper.BATCH_BYTES);
        long[] made = new long[1];
        disruptor = new Disruptor<>(() -> new Slot(memory.segment().asSlice(made[0]++ * PageDumper.BATCH_BYTES,
                PageDumper.BATCH_BYTES)), slots,
                r -> {
                    Thread t = Thread.ofPlatform().daemon().name(name).unstarted(r);
                    appender = t;
                    return t;
                }, ProducerType.SINGLE, new BlockingWaitStrategy());
        disruptor.handleEventsWith((EventHandler<Slot>) (slot, sequence, endOfBatch) -> handle(slot));
        disruptor.setDefaultExceptionHandler(new FailCheckpoint());
        ring = disruptor.start();
    }

    /**
     * Begins a checkpoint: the appender calls {@code begin} (which writes its header) on its own
     * thread, then writes every record and page given to the {@link Append} returned.
     *
     * @param seq the checkpoint's seq, named by failures
     */
    Append begin(long seq, Supplier<CheckpointWriter> begin) {
        Append append = new Append(seq);
        append.step(a -> a.writer = writers.apply(begin.get()), false);
        return append;
    }

    private static void handle(Slot slot) {
        Append a = slot.append;
        if (a.failure == null) {
            if (slot.step != null) {
                slot.step.accept(a);
            } else {
                a.writer.pages(slot.addresses, slot.lengths, slot.runs, slot.buffer.asSlice(0, slot.used));
            }
        }
        if (slot.reply != null) {
            if (a.failure == null) {
                slot.reply.complete(null);
            } else {
                slot.reply.completeExceptionally(a.failure);
            }
        }
    }

    /**
     * Replaces the Disruptor's default, which would stop the appender and leave the capture
     * thread blocked on a full ring: the failure fails its checkpoint and the appender goes on.
     */
    private static final class FailCheckpoint implements ExceptionHandler<Slot> {
        @Override
        public void handleEventException(Throwable failure, long sequence, Slot slot) {
            Append a = slot.append;
            a.fail(failure);
            if (slot.reply != null) {
                slot.reply.completeExceptionally(failure);
            }
        }

        @Override
        public void handleOnStartException(Throwable failure) {
            // the appender starts with no checkpoint to fail
        }

        @Override
        public void handleOnShutdownException(Throwable failure) {
            // nothing is left to fail
        }
    }

    /**
     * One checkpoint on its way through the ring. Its page batches are read straight into the
     * ring's slots ({@link PageBatches}) or copied into them ({@link PageSink}, for pages staged
     * elsewhere).
     */
    final class Append implements PageBatches, PageSink, AutoCloseable {
        private final long seq;
        /** Appender thread only. */
        private CheckpointWriter writer;
        private volatile Throwable failure;
        /** The slot being filled by the capture thread, or -1. */
        private long claimed = -1;
        private boolean closed;

        private Append(long seq) {
            this.seq = seq;
        }

        /** Writes records on the appender thread, in ring order (metadata between header and pages). */
        void records(Consumer<CheckpointWriter> records) {
            step(a -> records.accept(a.writer), false);
        }

        /** A whole slot to read a batch into: the one being filled by {@link #accept}, if any, goes first. */
        @Override
        public MemorySegment buffer() {
            if (claimed >= 0 && ring.get(claimed).runs > 0) {
                publish();
            }
            return slot().buffer;
        }

        @Override
        public void filled(long[] addresses, long[] lengths, int runs) {
            Slot s = slot();
            System.arraycopy(addresses, 0, s.addresses, 0, runs);
            System.arraycopy(lengths, 0, s.lengths, 0, runs);
            s.runs = runs;
            s.used = 0;
            for (int i = 0; i < runs; i++) {
                s.used += lengths[i];
            }
            publish();
            serve();
        }

        @Override
        public void accept(long address, MemorySegment contents) {
            long length = contents.byteSize();
            Slot s = slot();
            if (s.used + length > s.buffer.byteSize() || s.runs == s.addresses.length) {
                publish();
                s = slot();
            }
            MemorySegment.copy(contents, 0, s.buffer, s.used, length);
            s.addresses[s.runs] = address;
            s.lengths[s.runs] = length;
            s.runs++;
            s.used += length;
        }

        /** Waits until every page given so far is written; throws if the checkpoint failed. */
        void drain() {
            step(a -> { }, true);
        }

        /** Commits the checkpoint once every page given is written, and waits for it. */
        void commit(Commit c) {
            step(a -> a.writer.commit(c), true);
        }

        /**
         * Ends the checkpoint, abandoning it unless committed, once the appender is done with it.
         * Throws nothing: a failure reached the capture thread already, and the appender closed
         * the failed checkpoint's writer itself.
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                publishClaimed();
                if (failure == null && !appenderStopped()) {
                    step(a -> {
                        if (a.writer != null) {
                            a.writer.close();
                            a.writer = null;
                        }
                    }, true);
                }
            } catch (HotcloneException e) {
                // the failure is the checkpoint's, thrown to the capture thread already
            }
        }

        private void step(Consumer<Append> step, boolean wait) {
            publishClaimed();
            Slot s = claim();
            s.step = step;
            CompletableFuture<Void> reply = wait ? new CompletableFuture<>() : null;
            s.reply = reply;
            publish();
            if (wait) {
                await(reply);
            }
        }

        /** Runs on the appender thread: fails this checkpoint and closes its writer, so the journal takes the next. */
        private void fail(Throwable e) {
            if (failure == null) {
                failure = e;
            }
            if (writer != null) {
                CheckpointWriter w = writer;
                writer = null;
                try {
                    w.close();
                } catch (RuntimeException closing) {
                    e.addSuppressed(closing);
                }
            }
        }

        private Slot slot() {
            return claimed >= 0 ? ring.get(claimed) : claim();
        }

        /** Claims the next free slot, waiting while the appender writes, but never for an appender that failed or stopped. */
        private Slot claim() {
            checkFailure();
            while (claimed < 0) {
                try {
                    claimed = ring.tryNext();
                } catch (InsufficientCapacityException full) {
                    checkFailure();
                    if (appenderStopped()) {
                        throw stopped();
                    }
                    LockSupport.parkNanos(RETRY_NANOS);
                    serve();
                }
            }
            Slot s = ring.get(claimed);
            s.append = this;
            s.step = null;
            s.reply = null;
            s.runs = 0;
            s.used = 0;
            return s;
        }

        private void publishClaimed() {
            if (claimed >= 0) {
                publish();
            }
        }

        private void publish() {
            ring.publish(claimed);
            claimed = -1;
        }

        private void await(CompletableFuture<Void> reply) {
            long timeout = whileWaiting != null ? SERVE_NANOS : TimeUnit.MILLISECONDS.toNanos(CHECK_MILLIS);
            while (true) {
                try {
                    reply.get(timeout, TimeUnit.NANOSECONDS);
                    return;
                } catch (ExecutionException e) {
                    checkFailure();
                    throw failed(e.getCause());
                } catch (TimeoutException e) {
                    serve();
                    if (appenderStopped()) {
                        throw stopped();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new HotcloneException("interrupted while waiting for the journal appender " + name
                            + " to write checkpoint seq " + seq);
                }
            }
        }

        private void checkFailure() {
            if (failure != null) {
                throw failed(failure);
            }
        }

        private HotcloneException failed(Throwable cause) {
            return new JournalFailure("the journal appender failed checkpoint seq " + seq + ", which stays"
                    + " uncommitted: " + (cause.getMessage() != null ? cause.getMessage() : cause.toString()), cause);
        }

        private HotcloneException stopped() {
            return new JournalFailure("the journal appender thread " + name + " stopped while checkpoint seq "
                    + seq + " was being written: the checkpoint stays uncommitted; report this as a bug", null);
        }
    }

    private void serve() {
        Runnable work = whileWaiting;
        if (work != null) {
            work.run();
        }
    }

    private boolean appenderStopped() {
        Thread t = appender;
        return t == null || !t.isAlive();
    }

    /** Stops the appender once it has handled every slot published, then frees the slots. */
    @Override
    public void close() {
        try {
            disruptor.shutdown(10, TimeUnit.SECONDS);
        } catch (com.lmax.disruptor.TimeoutException e) {
            disruptor.halt();
        }
        Thread t = appender;
        try {
            if (t != null) {
                t.join(TimeUnit.SECONDS.toMillis(10));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t == null || !t.isAlive()) {
            memory.close(); // else the slots stay until exit rather than be unmapped under the appender
        }
    }
}
