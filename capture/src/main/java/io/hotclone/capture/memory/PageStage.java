package io.hotclone.capture.memory;

import io.hotclone.journal.PageSink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Holds the pages of a checkpoint in memory while the program is frozen, so that it can run
 * again before they are written to the journal: the freeze then costs reading them at memory
 * speed (straight into the stage), not the journal's append. The caller bounds what it stages. Reused from one checkpoint
 * to the next, so its memory is faulted in once; thread-confined.
 */
public final class PageStage implements PageBatches, AutoCloseable {
    private record Run(long address, long offset, long length) {
    }

    /** The arena of the current buffer alone: a bigger buffer replaces it, and the old one is freed. */
    private Arena arena = Arena.ofConfined();
    private final List<Run> runs = new ArrayList<>();
    private MemorySegment buffer = MemorySegment.NULL;
    private long used;

    /** Whether {@code bytes} of pages fit the memory the stage has already, so that staging them allocates nothing. */
    public boolean holds(long bytes) {
        return bytes + PageDumper.BATCH_BYTES <= buffer.byteSize();
    }

    /** Makes room, now, for {@code bytes} of pages: call it between checkpoints, never under a freeze. */
    public void reserve(long bytes) {
        grow(bytes + PageDumper.BATCH_BYTES);
    }

    /** Forgets what it held, keeping its memory. */
    public void clear() {
        runs.clear();
        used = 0;
    }

    @Override
    public MemorySegment buffer() {
        grow(used + PageDumper.BATCH_BYTES);
        return buffer.asSlice(used, PageDumper.BATCH_BYTES);
    }

    @Override
    public void filled(long[] addresses, long[] lengths, int count) {
        for (int i = 0; i < count; i++) {
            runs.add(new Run(addresses[i], used, lengths[i]));
            used += lengths[i];
        }
    }

    /**
     * Passes on every page held, in the order they came; call once the program runs again.
     * Then makes room for twice as much, so that the next checkpoint's copy under the freeze
     * finds its memory allocated and faulted in already (a first touch costs ~15 us a page in
     * a VM).
     */
    public void drainTo(PageSink target) {
        for (Run r : runs) {
            target.accept(r.address(), buffer.asSlice(r.offset(), r.length()));
        }
        long held = used;
        clear();
        grow(2 * held);
    }

    private void grow(long size) {
        if (buffer.byteSize() < size) {
            Arena next = Arena.ofConfined();
            MemorySegment bigger = next.allocate(Math.max(size, buffer.byteSize() * 2), 4096);
            MemorySegment.copy(buffer, 0, bigger, 0, used);
            arena.close();
            arena = next;
            buffer = bigger;
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
