package io.hotclone.capture.fd;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.proc.FdInfo;
import io.hotclone.capture.proc.ProcFs;
import io.hotclone.capture.ptrace.RemoteSyscalls;
import io.hotclone.image.DeviceFd;
import io.hotclone.image.FdState;
import io.hotclone.image.RegularFileFd;

import java.util.ArrayList;
import java.util.List;

/**
 * A kind of open file: how to recognise it, save it, and open it again in a restored process.
 * Each kind is one class with both sides; adding one means a new permitted class here, its
 * record in {@code io.hotclone.image}, and its case in {@link #restore}.
 */
public sealed interface FdKind permits RegularFileKind, DeviceKind {
    /** The kinds tried in order on each descriptor. */
    List<FdKind> ALL = List.of(new RegularFileKind(), new DeviceKind());

    /** The saved state of {@code fd}, or null when the descriptor is not of this kind. */
    FdState dump(ProcFs proc, int fd, String target, FdInfo info);

    /** Every open descriptor of the process; refuses, naming it, one no kind takes. */
    static List<FdState> dumpAll(ProcFs proc) {
        List<FdState> fds = new ArrayList<>();
        for (int fd : proc.fds()) {
            String target = proc.link("fd/" + fd);
            FdInfo info = proc.fdInfo(fd);
            FdState state = null;
            for (FdKind kind : ALL) {
                state = kind.dump(proc, fd, target, info);
                if (state != null) {
                    break;
                }
            }
            if (state == null) {
                throw new HotcloneException("cannot checkpoint process " + proc.pid() + ": fd " + fd
                        + " is " + Unsupported.describe(target) + ", which hotclone cannot checkpoint yet");
            }
            fds.add(state);
        }
        return fds;
    }

    /** Opens {@code fd} again in the process {@code remote} runs in, at its number. */
    static void restore(RemoteSyscalls remote, FdState fd) {
        switch (fd) {
            case RegularFileFd f -> RegularFileKind.restore(remote, f);
            case DeviceFd d -> DeviceKind.restore(remote, d);
        }
    }
}
