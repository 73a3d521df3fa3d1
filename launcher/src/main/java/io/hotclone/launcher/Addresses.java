package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.net.InetSocketAddress;

/** HOST:PORT as operators write it, in options and in the coordinator's member records. */
final class Addresses implements ITypeConverter<InetSocketAddress> {

    /** @param what what the text is, for the error: "--listen", "replication address of member b" */
    static InetSocketAddress parse(String text, String what) {
        int colon = text.lastIndexOf(':');
        String host = colon > 0 ? text.substring(0, colon) : "";
        String port = colon > 0 ? text.substring(colon + 1) : "";
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty() || !port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
            throw new HotcloneException(what + " " + text + " is not HOST:PORT: write it as 10.0.0.2:7100 or"
                    + " standby-1:7100");
        }
        InetSocketAddress address = new InetSocketAddress(host, Integer.parseInt(port));
        if (address.isUnresolved()) {
            throw new HotcloneException(what + " " + text + ": host " + host + " is unknown here (no address for it):"
                    + " give an IP address or a name this machine resolves");
        }
        return address;
    }

    @Override
    public InetSocketAddress convert(String value) {
        try {
            return parse(value, "address");
        } catch (HotcloneException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
