package dev.relay.faults;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starting child JVMs on the test classpath, and free ports. Not instantiable. */
final class Jvm {

    private Jvm() {
    }

    /**
     * @param heap the -Xmx value, e.g. "256m"
     * @param mainClass the class to run
     * @param args its arguments
     * @return the command line of a child JVM with this JVM's test classpath
     */
    static List<String> command(String heap, String mainClass, List<String> args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Duser.timezone=America/Los_Angeles", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.log.dev.relay=info", "-cp", classpath, mainClass));
        cmd.addAll(args);
        return cmd;
    }

    /** @return a port free at the time of the call */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}
