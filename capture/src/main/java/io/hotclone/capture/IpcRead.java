package io.hotclone.capture;

import io.hotclone.image.SysvIpc;
import io.hotclone.process.IpcNamespace;

import java.util.List;
import java.util.concurrent.Future;

/**
 * The read of the System V IPC objects of the program's IPC namespace at the barrier, on a
 * thread in that namespace, beside the rest of the first process's capture (the objects cannot
 * change while every process of the program is stopped): it cost 0.4-0.9 ms a checkpoint of the
 * freeze when made in line. None for a program that shares hotclone's namespace.
 */
final class IpcRead implements AutoCloseable {
    /** No read: a process other than the program's first one. */
    static final IpcRead NONE = new IpcRead(null, false);

    private final IpcNamespace ns;
    private final boolean joinedHere;
    private final Future<List<SysvIpc>> reading;

    private IpcRead(IpcNamespace ns, boolean joinedHere) {
        this.ns = ns;
        this.joinedHere = joinedHere;
        this.reading = ns == null ? null : ns.submit(SysvIpc::readAll);
    }

    /**
     * Starts reading the objects of the namespace of the program's first process {@code pid},
     * on the chain's thread there, else on one of its own.
     */
    static IpcRead start(Chain chain, int pid) {
        if (chain != null) {
            return new IpcRead(chain.ipc(pid), false);
        }
        return new IpcRead(IpcNamespace.isOwn(pid) ? IpcNamespace.join(pid) : null, true);
    }

    /** The objects read, refused as {@link SysvIpc#kept} says ({@code vpid}: the first process's pid in the program). */
    List<SysvIpc> take(int pid, int vpid) {
        return reading == null ? List.of() : SysvIpc.kept(ns.result(reading), pid, vpid);
    }

    @Override
    public void close() {
        if (joinedHere && ns != null) {
            ns.close();
        }
    }
}
