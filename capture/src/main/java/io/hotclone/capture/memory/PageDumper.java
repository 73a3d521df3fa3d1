package io.hotclone.capture.memory;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.ptrace.RemoteMemory;
import io.hotclone.capture.dirty.DirtySet;
import io.hotclone.capture.dirty.PageRange;
import io.hotclone.image.AreaKind;
import io.hotclone.image.MemoryArea;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Copies the pages a checkpoint must carry from a frozen process, in batches of up to
 * {@link #BATCH_BYTES} gathered from scattered runs by one process_vm_readv, into
 * the buffers of a {@link PageBatches}: the append ring's slots, or the stage.
 */
public final class PageDumper implements AutoCloseable {
    static final int PAGE = 4096;
    /** A batch fills a journal page record at most: fewer, larger records make a cheaper append. */
    public static final int BATCH_BYTES = io.hotclone.journal.JournalFormat.MAX_RUN_BYTES;

    private final int pid;
    private final RemoteMemory memory;
    private final Pagemap pagemap;
    private final long[] addresses = new long[RemoteMemory.MAX_RANGES];
    private final long[] lengths = new long[RemoteMemory.MAX_RANGES];
    private int ranges;
    private long batched;
    private long pages;
    private long[] entries = new long[0];

    public PageDumper(int pid) {
        this.pid = pid;
        this.memory = new RemoteMemory(pid);
        this.pagemap = new Pagemap(pid);
    }

    /** Reads the pages of {@code areas} that hold contents into {@code writer}; returns how many. */
    public long dump(List<MemoryArea> areas, PageBatches writer) {
        begin();
        for (MemoryArea area : areas) {
            if (area.hasContents()) {
                dumpRange(area, area.start(), area.end(), writer);
            }
        }
        flush(writer);
        return pages;
    }

    /**
     * Writes the pages of an incremental checkpoint {@code seq}: of an area it builds on (the
     * same mapping in {@code before}), the pages {@code dirty} says were written, plus every
     * touched page of any part it grew by; of an area that is new, or that the tracker does not
     * watch, every page {@link #carried} says holds contents.
     *
     * @param before    the areas of the checkpoint this one builds on, by start address
     * @param untracked start addresses of areas the dirty tracker does not watch
     */
    public long dumpChanges(List<MemoryArea> areas, long seq, Map<Long, MemoryArea> before, DirtySet dirty,
                            Set<Long> untracked, PageBatches writer) {
        begin();
        for (MemoryArea area : areas) {
            if (!area.hasContents()) {
                continue;
            }
            MemoryArea previous = area.sinceSeq() < seq ? before.get(area.start()) : null;
            if (previous == null || untracked.contains(area.start())) {
                dumpRange(area, area.start(), area.end(), writer);
                continue;
            }
            long keptEnd = Math.min(area.end(), previous.end());
            for (PageRange r : dirty.within(area.start(), keptEnd).ranges()) {
                copy(area, r.start(), r.end(), writer);
            }
            if (area.end() > keptEnd) {
                dumpRange(area, keptEnd, area.end(), writer);
            }
        }
        flush(writer);
        return pages;
    }

    /** Starts a checkpoint's pages: a dumper serves one checkpoint after another, and one may have failed midway. */
    private void begin() {
        ranges = 0;
        batched = 0;
        pages = 0;
    }

    /** The pages of [from, to) of {@code area} that {@link #carried} says hold contents. */
    private void dumpRange(MemoryArea area, long from, long to, PageBatches writer) {
        int count = (int) ((to - from) / PAGE);
        if (entries.length < count) {
            entries = new long[count];
        }
        pagemap.read(from, entries, count);
        int i = 0;
        while (i < count) {
            if (!carried(area, entries[i])) {
                i++;
                continue;
            }
            int j = i + 1;
            while (j < count && carried(area, entries[j])) {
                j++;
            }
            copy(area, from + (long) i * PAGE, from + (long) j * PAGE, writer);
            i = j;
        }
    }

    private void copy(MemoryArea area, long start, long end, PageBatches writer) {
        if ((area.prot() & 1) != 0) {
            gather(start, end, writer);
        } else {
            flush(writer);
            readForced(start, end, writer);
        }
    }

    /**
     * Whether a page goes into the checkpoint. Private memory: every page the process has
     * touched (present or swapped); a page of a private file mapping only once written (it is
     * then anonymous); shared anonymous memory: every page, since its pages need not be mapped
     * in this process to hold data. A marker (a never-touched page userfaultfd write-protects)
     * holds nothing.
     */
    static boolean carried(MemoryArea area, long entry) {
        if (Pagemap.marker(entry)) {
            return area.kind() == AreaKind.SHARED_ANONYMOUS;
        }
        return switch (area.kind()) {
            case ANONYMOUS, HEAP, STACK -> (entry & (Pagemap.PRESENT | Pagemap.SWAPPED)) != 0;
            case FILE -> !area.shared() && ((entry & Pagemap.SWAPPED) != 0
                    || (entry & (Pagemap.PRESENT | Pagemap.FILE_OR_SHARED)) == Pagemap.PRESENT);
            case SHARED_ANONYMOUS -> true;
            case SYSV_SHM, VDSO, VVAR, VVAR_VCLOCK, VSYSCALL -> false;
        };
    }

    /** Adds [start, end) to the batch, flushing whenever the batch is full. */
    private void gather(long start, long end, PageBatches writer) {
        while (start < end) {
            if (batched == BATCH_BYTES || ranges == RemoteMemory.MAX_RANGES) {
                flush(writer);
            }
            long len = Math.min(end - start, BATCH_BYTES - batched);
            addresses[ranges] = start;
            lengths[ranges] = len;
            ranges++;
            batched += len;
            start += len;
        }
    }

    private void flush(PageBatches writer) {
        if (ranges == 0) {
            return;
        }
        memory.readv(writer.buffer(), addresses, lengths, ranges);
        writer.filled(addresses, lengths, ranges);
        for (int i = 0; i < ranges; i++) {
            pages += lengths[i] / PAGE;
        }
        ranges = 0;
        batched = 0;
    }

    /** Pages of an area without PROT_READ: /proc/PID/mem reads them with FOLL_FORCE. */
    private void readForced(long start, long end, PageBatches writer) {
        try (FileChannel mem = FileChannel.open(Path.of("/proc", Integer.toString(pid), "mem"), StandardOpenOption.READ)) {
            while (start < end) {
                int len = (int) Math.min(end - start, BATCH_BYTES);
                var bb = writer.buffer().asSlice(0, len).asByteBuffer();
                while (bb.hasRemaining()) {
                    if (mem.read(bb, start + bb.position()) <= 0) {
                        throw new IOException("short read");
                    }
                }
                addresses[0] = start;
                lengths[0] = len;
                writer.filled(addresses, lengths, 1);
                pages += len / PAGE;
                start += len;
            }
        } catch (IOException e) {
            throw new HotcloneException("cannot read unreadable pages of process " + pid + " at 0x"
                    + Long.toHexString(start) + " through /proc/" + pid + "/mem: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        pagemap.close();
        memory.close();
    }
}
