package io.hotclone.process.proc;

import io.hotclone.bindings.HotcloneException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/** Reads what /proc says about one process; every failure names the file it could not read. */
public final class ProcFs {
    private final int pid;
    private final Path dir;

    public ProcFs(int pid) {
        this.pid = pid;
        this.dir = Path.of("/proc", Integer.toString(pid));
    }

    public int pid() {
        return pid;
    }

    public Path path(String name) {
        return dir.resolve(name);
    }

    public boolean exists() {
        return Files.isDirectory(dir);
    }

    public List<MapsEntry> maps() {
        List<MapsEntry> entries = new ArrayList<>();
        for (String line : lines("maps")) {
            if (!line.isEmpty()) {
                entries.add(MapsEntry.parse(line));
            }
        }
        return entries;
    }

    /** One area's VmFlags line of /proc/PID/smaps. */
    public record VmFlags(long start, long end, Set<String> flags) {
    }

    /**
     * The VmFlags of every area, by start address (reading smaps walks the page tables: ~25 ms
     * per GiB).
     */
    public NavigableMap<Long, VmFlags> vmFlags() {
        NavigableMap<Long, VmFlags> flags = new TreeMap<>();
        long start = -1;
        long end = -1;
        for (String line : lines("smaps")) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.indexOf(':') > space) { // an area's header: its maps line
                start = Long.parseUnsignedLong(line, 0, dash, 16);
                end = Long.parseUnsignedLong(line, dash + 1, space, 16);
            } else if (line.startsWith("VmFlags:") && start >= 0) {
                flags.put(start, new VmFlags(start, end, Set.of(line.substring("VmFlags:".length()).trim().split("\\s+"))));
            }
        }
        return flags;
    }

    public Statm statm() {
        return Statm.parse(text("statm"));
    }

    public ProcStat stat() {
        return ProcStat.parse(text("stat"));
    }

    /** The "Key:\tvalue" lines of /proc/PID/status. */
    public Map<String, String> status() {
        Map<String, String> fields = new TreeMap<>();
        for (String line : lines("status")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                fields.put(line.substring(0, colon), line.substring(colon + 1).strip());
            }
        }
        return fields;
    }

    public byte[] bytes(String name) {
        try {
            return Files.readAllBytes(path(name));
        } catch (IOException e) {
            throw failure(name, e);
        }
    }

    public String text(String name) {
        return new String(bytes(name));
    }

    public List<String> lines(String name) {
        return text(name).lines().toList();
    }

    /** Target of a /proc symlink (exe, cwd, root, fd/N). */
    public String link(String name) {
        try {
            return Files.readSymbolicLink(path(name)).toString();
        } catch (IOException e) {
            throw failure(name, e);
        }
    }

    /** Open descriptor numbers, ascending. */
    public List<Integer> fds() {
        try (var stream = Files.list(path("fd"))) {
            return stream.map(p -> Integer.parseInt(p.getFileName().toString())).sorted().toList();
        } catch (IOException e) {
            throw failure("fd", e);
        }
    }

    /** Thread ids of the process, ascending. */
    public List<Integer> tasks() {
        try (var stream = Files.list(path("task"))) {
            return stream.map(p -> Integer.parseInt(p.getFileName().toString())).sorted().toList();
        } catch (IOException e) {
            throw failure("task", e);
        }
    }

    /**
     * The id thread {@code tid} has in the innermost pid namespace it lives in, the program's
     * own (the last of its NSpid): the id the program knows it by.
     */
    public int innermostId(int tid) {
        for (String line : lines("task/" + tid + "/status")) {
            if (line.startsWith("NSpid:")) {
                String[] ids = line.substring("NSpid:".length()).strip().split("\\s+");
                return Integer.parseInt(ids[ids.length - 1]);
            }
        }
        throw new HotcloneException("/proc/" + pid + "/task/" + tid + "/status has no NSpid line: this kernel is older"
                + " than hotclone supports (4.1+)");
    }

    /** The name of thread {@code tid} (its comm, as prctl(PR_SET_NAME) set it). */
    public String threadName(int tid) {
        String comm = text("task/" + tid + "/comm");
        return comm.endsWith("\n") ? comm.substring(0, comm.length() - 1) : comm;
    }

    /** Pids of the children of every thread of the process. */
    public List<Integer> children() {
        List<Integer> children = new ArrayList<>();
        for (int tid : tasks()) {
            String text = text("task/" + tid + "/children").strip();
            if (!text.isEmpty()) {
                for (String child : text.split(" ")) {
                    children.add(Integer.parseInt(child));
                }
            }
        }
        return children;
    }

    public FdInfo fdInfo(int fd) {
        return FdInfo.parse(fd, lines("fdinfo/" + fd));
    }

    private HotcloneException failure(String name, IOException e) {
        if (e instanceof NoSuchFileException && !exists()) {
            return new HotcloneException("process " + pid + " does not exist (no /proc/" + pid + ")");
        }
        return new HotcloneException("cannot read /proc/" + pid + "/" + name + ": " + e, e);
    }
}
