package io.hotclone.image;

import io.hotclone.bindings.linux.utsname;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_sethostname;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_setdomainname;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_uname;

/**
 * The host and domain names of a program in a UTS namespace of its own (as {@code hotclone run}
 * starts it): the names it set there come back in the one a restore makes.
 */
public record UtsState(String hostname, String domainname) {

    /**
     * The names the program sees, read by uname(2) in it; null when it shares hotclone's UTS
     * namespace, whose names are the node's and not the program's to keep.
     */
    static UtsState dump(ProcFs proc, RemoteSyscalls remote) {
        if (sameNamespace(proc.pid())) {
            return null;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment names = utsname.allocate(arena);
            remote.check("uname", SYS_uname, remote.put(0, names));
            remote.memory().read(remote.scratch(), names);
            return new UtsState(utsname.nodename(names).getString(0), utsname.domainname(names).getString(0));
        }
    }

    /**
     * Sets the names in the process {@code remote} runs in, unless it shares hotclone's UTS
     * namespace: a restore must never rename the node.
     */
    void restore(RemoteSyscalls remote, int pid) {
        if (sameNamespace(pid)) {
            return;
        }
        for (boolean host : new boolean[] {true, false}) {
            String name = host ? hostname : domainname;
            remote.check((host ? "sethostname(" : "setdomainname(") + name + ")",
                    host ? SYS_sethostname : SYS_setdomainname, remote.putString(0, name),
                    name.getBytes(StandardCharsets.UTF_8).length);
        }
    }

    private static boolean sameNamespace(int pid) {
        return new ProcFs(pid).link("ns/uts").equals(new ProcFs((int) ProcessHandle.current().pid()).link("ns/uts"));
    }
}
