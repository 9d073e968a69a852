package dev.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The runnable jar ({@code target/relay-cli.jar}, shaded in {@code package}; Failsafe runs this after it) started as
 * an operator starts it: {@code java -jar relay-cli.jar …} in a new JVM.
 */
class CliJarIT {

    private static Result java(String... args) throws IOException, InterruptedException {
        Path jar = Path.of("target", "relay-cli.jar");
        assertTrue(Files.isRegularFile(jar), "no " + jar.toAbsolutePath() + ": run through 'mvn verify' (the shade runs in package)");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new java.util.ArrayList<>(List.of(java.toString(), "-jar", jar.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "java -jar relay-cli.jar did not end");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private record Result(int status, String out, String err) {
    }

    @Test
    void jar_help_listsTheCommands() throws Exception {
        Result r = java("--help");
        assertEquals(0, r.status(), r.toString());
        for (String command : List.of("lanes", "gaps", "manifest", "migrate")) {
            assertTrue(r.out().contains(command), command + " in " + r.out());
        }
    }

    @Test
    void jar_version_isTheProjectVersion() throws Exception {
        Result r = java("--version");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().matches("relay \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\R"), r.out());
    }

    @Test
    void jar_badArgument_exit2() throws Exception {
        Result r = java("gaps", "--window", "soon");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("'soon' is not an ISO-8601 duration"), r.err());
    }
}
