package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.cluster.ClusterListener;
import io.hotclone.cluster.ClusterSession;
import io.hotclone.cluster.Member;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "status",
        description = {
                "Show a protected service as the coordinator sees it: its epoch, its primary, its standbys.",
                "",
                "One line per live node: name, role, the address a standby is replicated to, the newest "
                        + "checkpoint it holds (a standby: the last one replicated to it; the primary: the last one "
                        + "it committed) and the epoch it serves in. A program that ended says so, with its status.",
                "",
                "Under each node, its vid table: the ids the program knows its threads by (the same on every "
                        + "node) and, after '=', the ids this node's kernel gives them, which an operator there can "
                        + "kill: the primary's running program, a standby's hot clone (its first thread only "
                        + "until a switch resumes it).",
                "",
                "Example:  hotclone status --zk 10.0.0.9:2181 --service app --json",
                ""},
        mixinStandardHelpOptions = true)
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Option(names = "--json", description = "Print one JSON object instead: service, epoch, ended (status or null), members.")
    boolean json;

    @Override
    public Integer call() {
        if (cluster.zk == null) {
            throw new HotcloneException("status needs the coordinator: give --zk HOST:PORT");
        }
        // An observer: it never publishes itself, so it is no member of the service.
        String observer = "status-" + ProcessHandle.current().pid();
        try (ClusterSession session = ClusterSession.join(cluster.zk, cluster.service, observer,
                cluster.lease, ClusterListener.NONE)) {
            long epoch = session.epoch();
            List<Member> members = session.members();
            OptionalInt ended = session.ended();
            System.out.println(json ? json(epoch, members, ended) : text(epoch, members, ended));
        }
        return 0;
    }

    private String text(long epoch, List<Member> members, OptionalInt ended) {
        StringBuilder out = new StringBuilder("service " + cluster.service + ": epoch " + epoch + ", "
                + members.stream().filter(m -> m.role() == io.hotclone.cluster.Role.PRIMARY).map(Member::name)
                .findFirst().map(p -> "primary " + p).orElse("no primary"));
        ended.ifPresent(status -> out.append(", the program ended with status ").append(status));
        for (Member m : members) {
            out.append(String.format("%n  %-16s %-8s %-22s seq=%d epoch=%d", m.name(), m.role(),
                    m.replicationAddress().isEmpty() ? "-" : m.replicationAddress(), m.committedSeq(), m.epoch()));
            if (!m.vids().isEmpty()) {
                out.append(String.format("%n  %-16s vids (program's id=this node's): %s", "", m.vids().render()));
            }
        }
        return out.toString();
    }

    private String json(long epoch, List<Member> members, OptionalInt ended) {
        String list = members.stream().map(m -> String.format(
                "{\"name\": \"%s\", \"role\": \"%s\", \"replication\": \"%s\", \"seq\": %d, \"epoch\": %d, \"vids\": {%s}}",
                m.name(), m.role(), m.replicationAddress(), m.committedSeq(), m.epoch(),
                m.vids().realByVirtual().entrySet().stream().map(e -> "\"" + e.getKey() + "\": " + e.getValue())
                        .collect(Collectors.joining(", ")))).collect(Collectors.joining(", "));
        return String.format("{\"service\": \"%s\", \"epoch\": %d, \"ended\": %s, \"members\": [%s]}", cluster.service,
                epoch, ended.isPresent() ? Integer.toString(ended.getAsInt()) : "null", list);
    }
}
