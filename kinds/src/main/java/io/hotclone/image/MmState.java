package io.hotclone.image;

import io.hotclone.bindings.linux.prctl_mm_map;
import io.hotclone.process.proc.ProcStat;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.hotclone.bindings.linux.Fcntl.AT_FDCWD;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_RDONLY;
import static io.hotclone.bindings.linux.Prctl.PR_SET_MM;
import static io.hotclone.bindings.linux.Prctl.PR_SET_MM_MAP;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_brk;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_openat;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_prctl;

/** The mm fields a restore sets with prctl(PR_SET_MM_MAP), as /proc/PID/stat shows them. */
public record MmState(long startCode, long endCode, long startData, long endData,
                      long startBrk, long brk, long startStack,
                      long argStart, long argEnd, long envStart, long envEnd) {

    /** The mm fields of the frozen process {@code remote} runs in; brk(0) asks its break. */
    static MmState dump(ProcStat stat, RemoteSyscalls remote) {
        long brk = remote.check("brk(0)", SYS_brk, 0);
        return new MmState(stat.startCode(), stat.endCode(), stat.startData(), stat.endData(),
                stat.startBrk(), brk, stat.startStack(), stat.argStart(), stat.argEnd(),
                stat.envStart(), stat.envEnd());
    }

    /**
     * Sets these fields and the auxiliary vector {@code auxv} in the process {@code remote} runs
     * in, and, unless null, its executable ({@code /proc/PID/exe}) to {@code exe}: a child made
     * by its parent's fork has its parent's until then. The old one must not be mapped any more.
     */
    public void restore(RemoteSyscalls remote, byte[] auxv, String exe) {
        long exeFd = exe == null ? -1 : remote.check("openat(" + exe + ") to make it the executable", SYS_openat,
                AT_FDCWD, remote.putString(0, exe), O_RDONLY | O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            long auxvAddress = remote.put(1024, MemorySegment.ofArray(auxv));
            MemorySegment map = prctl_mm_map.allocate(arena);
            prctl_mm_map.start_code(map, startCode);
            prctl_mm_map.end_code(map, endCode);
            prctl_mm_map.start_data(map, startData);
            prctl_mm_map.end_data(map, endData);
            prctl_mm_map.start_brk(map, startBrk);
            prctl_mm_map.brk(map, brk);
            prctl_mm_map.start_stack(map, startStack);
            prctl_mm_map.arg_start(map, argStart);
            prctl_mm_map.arg_end(map, argEnd);
            prctl_mm_map.env_start(map, envStart);
            prctl_mm_map.env_end(map, envEnd);
            prctl_mm_map.auxv(map, MemorySegment.ofAddress(auxvAddress));
            prctl_mm_map.auxv_size(map, auxv.length);
            prctl_mm_map.exe_fd(map, (int) exeFd);
            long mapAddress = remote.put(0, map);
            remote.check("prctl(PR_SET_MM, PR_SET_MM_MAP" + (exe == null ? "" : ", exe " + exe) + ")", SYS_prctl,
                    PR_SET_MM, PR_SET_MM_MAP, mapAddress, map.byteSize(), 0);
        } finally {
            if (exeFd >= 0) {
                remote.check("close(" + exe + ")", SYS_close, exeFd);
            }
        }
    }
}
