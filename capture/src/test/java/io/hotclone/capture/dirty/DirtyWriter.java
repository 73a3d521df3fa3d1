package io.hotclone.capture.dirty;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Errno;
import io.hotclone.capture.TracerLoop;
import io.hotclone.image.AreaClassifier;
import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.image.AreaKind;
import io.hotclone.image.MemoryArea;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACESYSGOOD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * testprograms/dirtywriter, started detached from the JVM (whose reaper would swallow ptrace
 * stops) and talked to through two FIFOs; either seized by the calling thread, which must make
 * every call ({@link #start}), or traced for its whole life by a {@link TracerLoop}, as a
 * program protected by page protection is ({@link #served}). Closing kills it.
 */
final class DirtyWriter implements AutoCloseable {
    static final int PAGE = 4096;
    private static final long ANSWER_SECONDS = 10;
    private static final String EOF = "\0eof";

    final int pid;
    /** The area the program mapped and touched at startup. */
    final long area;
    final int pages;
    private final Path dir;
    private final OutputStream commands;
    private final BlockingQueue<String> answers;
    /** Seized by the calling thread, or null when {@link #loop} traces it. */
    private final Tracee tracee;
    private final TracerLoop loop;
    private boolean frozen;

    private DirtyWriter(Path dir, int pid, OutputStream commands, BlockingQueue<String> answers, long area, int pages,
                        boolean served) {
        this.dir = dir;
        this.pid = pid;
        this.commands = commands;
        this.answers = answers;
        this.area = area;
        this.pages = pages;
        this.tracee = served ? null : Tracee.seize(pid, PTRACE_O_TRACESYSGOOD);
        this.loop = served ? TracerLoop.start(pid) : null;
    }

    /** Starts {@code dirtywriter PAGES [thp]} and seizes it. */
    static DirtyWriter start(int pages, boolean thp) throws Exception {
        return launch(pages, thp, false);
    }

    /** Starts {@code dirtywriter PAGES}, traced and served from now on by a {@link TracerLoop}. */
    static DirtyWriter served(int pages) throws Exception {
        return launch(pages, false, true);
    }

    private static DirtyWriter launch(int pages, boolean thp, boolean served) throws Exception {
        Path binary = compile();
        Path dir = Files.createTempDirectory("dirtywriter");
        run("mkfifo", dir.resolve("in").toString(), dir.resolve("out").toString());
        List<String> command = new ArrayList<>(List.of("sh", "-c", "setsid \"$0\" \"$@\" <in >out 2>err & echo $!",
                binary.toString(), Integer.toString(pages)));
        if (thp) {
            command.add("thp");
        }
        Process sh = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        // One line only: the program keeps sh's stdout until it has opened both FIFOs.
        int pid = Integer.parseInt(new BufferedReader(new InputStreamReader(sh.getInputStream(),
                StandardCharsets.US_ASCII)).readLine().strip());
        try {
            // The program's shell opens "in", then "out", before exec: open them in that order.
            OutputStream commands = CompletableFuture.supplyAsync(() -> open(dir.resolve("in")))
                    .get(ANSWER_SECONDS, TimeUnit.SECONDS);
            BlockingQueue<String> answers = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> readAnswers(dir.resolve("out"), answers), "dirtywriter-" + pid);
            reader.setDaemon(true);
            reader.start();
            String[] first = take(answers, dir, "startup").split(" ");
            return new DirtyWriter(dir, pid, commands, answers, Long.decode(first[1]), Integer.parseInt(first[2]),
                    served);
        } catch (Exception | Error e) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            throw e;
        }
    }

    /** Stops the program at a barrier. */
    void freeze() {
        seized();
        tracee.interrupt();
        tracee.awaitInterruptStop();
        frozen = true;
    }

    void thaw() {
        seized();
        tracee.cont(0);
        frozen = false;
    }

    private void seized() {
        if (tracee == null) {
            throw new IllegalStateException("dirtywriter " + pid + " is served by a tracer loop: use atBarrier");
        }
    }

    /** Served: stops the program at a barrier and runs {@code work} there, on its tracer thread. */
    <T> T atBarrier(Function<TracerLoop.Barrier, T> work) {
        return loop.atBarrier(work);
    }

    /** Served: the loop that traces the program. */
    TracerLoop loop() {
        return loop;
    }

    /** Frozen: the program's areas as the checkpointer classifies them. */
    List<MemoryArea> areas() {
        List<MapsEntry> maps = new ProcFs(pid).maps();
        return areas(maps, maps);
    }

    /**
     * Stopped: the program's areas as the checkpointer classifies them, from {@code maps} as it
     * sees them (a tracker's view of {@code kernelMaps}, /proc/PID/maps read at the barrier).
     */
    List<MemoryArea> areas(List<MapsEntry> kernelMaps, List<MapsEntry> maps) {
        AreaClassifier classifier = new AreaClassifier(new ProcFs(pid), Map.of(), kernelMaps);
        return maps.stream().map(m -> classifier.classify(m, 1)).toList();
    }

    /** Frozen: arms a tracker the way the checkpointer will, through injected syscalls. */
    UffdWpTracker startTracker() {
        ProcFs proc = new ProcFs(pid);
        try (RemoteSyscalls remote = RemoteSyscalls.infect(tracee, proc.maps(), 0)) {
            return UffdWpTracker.start(pid, remote, areas());
        }
    }

    /**
     * Frozen: the page of the thread's rseq area, which the kernel writes on every return to
     * user space after a migration (hence after every barrier and injected syscall).
     */
    PageRange rseqPage() {
        long page = tracee.rseq().address() & -PAGE;
        return new PageRange(page, page + PAGE);
    }

    long page(int index) {
        return area + (long) index * PAGE;
    }

    /** The area the program mapped at startup, as a tracker's sets are cut to it. */
    MemoryArea testArea() {
        return new MemoryArea(area, page(pages), 3, false, AreaKind.ANONYMOUS, "", 0, null, 1);
    }

    /** Pages {@code [from, to)} of the area. */
    PageRange range(int from, int to) {
        return new PageRange(page(from), page(to));
    }

    /** The set of the area's pages at {@code indexes}. */
    DirtySet pageSet(int... indexes) {
        List<PageRange> ranges = new ArrayList<>();
        for (int i : indexes) {
            ranges.add(range(i, i + 1));
        }
        return DirtySet.of(ranges);
    }

    /** Running: writes one byte at {@code address}. */
    void write(long address) {
        expect("write 0x" + Long.toHexString(address), "ok");
    }

    /** Running: writes one byte in {@code count} pages, every {@code step}-th from page {@code first}. */
    void writes(int first, int step, int count) {
        expect("writes 0x" + Long.toHexString(page(first)) + " " + (long) step * PAGE + " " + count, "ok");
    }

    /** Running: maps a new area of {@code pages} pages, touched or not; returns its address. */
    long map(int pages, boolean touch) {
        String answer = command("map " + pages + (touch ? " touch" : " fresh"));
        return Long.decode(answer.substring("mapped ".length()));
    }

    /** Running: maps a PROT_NONE area of {@code pages} pages; returns its address. */
    long reserve(int pages) {
        return Long.decode(command("reserve " + pages).substring("mapped ".length()));
    }

    /** Running: makes {@code [address, +pages)} readable and writable. */
    void allow(long address, int pages) {
        expect("allow 0x" + Long.toHexString(address) + " " + pages, "ok");
    }

    /** Running: maps a new touched area over {@code [address, +pages)}. */
    void remap(long address, int pages) {
        expect("remap 0x" + Long.toHexString(address) + " " + pages, "ok");
    }

    /** Running: munmap of {@code [address, +pages)}. */
    void unmap(long address, int pages) {
        expect("unmap 0x" + Long.toHexString(address) + " " + pages, "ok");
    }

    /** Running: has the kernel write {@code count} bytes at {@code address} (read(2) from a pipe). */
    void read(long address, int count) {
        expect("read 0x" + Long.toHexString(address) + " " + count, "ok");
    }

    /** Running: MADV_DONTNEED on {@code [address, +pages)}. */
    void discard(long address, int pages) {
        expect("discard 0x" + Long.toHexString(address) + " " + pages, "ok");
    }

    private void expect(String command, String answer) {
        assertEquals(answer, command(command), "dirtywriter's answer to " + command);
    }

    private String command(String line) {
        if (frozen) {
            throw new IllegalStateException("dirtywriter is frozen: thaw it before sending " + line);
        }
        try {
            commands.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            commands.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot send '" + line + "' to dirtywriter " + pid, e);
        }
        return take(answers, dir, line);
    }

    private static String take(BlockingQueue<String> answers, Path dir, String waitingFor) {
        String answer;
        try {
            answer = answers.poll(ANSWER_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (answer == null || answer.equals(EOF)) {
            fail("dirtywriter " + (answer == null ? "did not answer within " + ANSWER_SECONDS + " s" : "ended")
                    + " while the test waited for '" + waitingFor + "'; its stderr: " + stderr(dir));
        }
        return answer;
    }

    private static String stderr(Path dir) {
        try {
            return Files.readString(dir.resolve("err"));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static void readAnswers(Path out, BlockingQueue<String> answers) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new FileInputStream(out.toFile()),
                StandardCharsets.US_ASCII))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                answers.add(line);
            }
        } catch (IOException ignored) {
            // The program is gone; the EOF below tells the waiting test.
        }
        answers.add(EOF);
    }

    private static OutputStream open(Path fifo) {
        try {
            return new FileOutputStream(fifo.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path compile() throws Exception {
        Path root = Path.of(System.getProperty("hotclone.repo", "..")).toAbsolutePath().normalize();
        Path source = root.resolve("testprograms/dirtywriter.c");
        Path binary = Path.of("target", "testprograms", "dirtywriter").toAbsolutePath();
        if (!Files.exists(binary) || Files.getLastModifiedTime(binary).compareTo(Files.getLastModifiedTime(source)) < 0) {
            Files.createDirectories(binary.getParent());
            run("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", binary.toString(), source.toString());
        }
        return binary;
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " failed: " + output);
        }
    }

    /** As its tracer, waits for the killed program's end (ECHILD: it was already collected). */
    private void awaitEnd() {
        try {
            while (!tracee.await().gone()) {
                // a stop reported before the kill landed
            }
        } catch (SyscallException e) {
            if (e.errno() != Errno.ECHILD) {
                throw e;
            }
        }
    }

    /** Kills the program, collects its end as its tracer (or waits for its loop's end), and removes the FIFOs. */
    @Override
    public void close() throws Exception {
        try {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            if (tracee != null) {
                awaitEnd();
                tracee.close();
            } else {
                loop.close();
            }
            commands.close();
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
