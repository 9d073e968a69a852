package dev.relay.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The shaded demo jar ({@code target/relay-demo.jar}, built in {@code package}; Failsafe runs this after it) ships
 * the library and its runtime dependencies, and no test framework: JUnit, opentest4j, apiguardian and QuickTheories
 * are test-scope only everywhere the demo reaches (relay-simulation is plain code).
 */
class DemoJarIT {

    private static final List<String> TEST_FRAMEWORKS = List.of("org/junit/", "org/opentest4j/", "org/apiguardian/", "org/quicktheories/");

    @Test
    void demoJar_content_hasTheDemoAndNoTestFramework() throws IOException {
        Path jar = Path.of("target", "relay-demo.jar");
        assertTrue(Files.isRegularFile(jar), "no " + jar.toAbsolutePath() + ": run through 'mvn verify' (the shade runs in package)");
        try (JarFile file = new JarFile(jar.toFile())) {
            List<String> framework = file.stream().map(JarEntry::getName)
                    .filter(name -> TEST_FRAMEWORKS.stream().anyMatch(name::startsWith))
                    .limit(10)
                    .collect(Collectors.toList());
            assertEquals(List.of(), framework, "test-framework classes in the demo jar");
            assertEquals(IncidentDemo.class.getName(), file.getManifest().getMainAttributes().getValue("Main-Class"));
            assertNotNull(file.getEntry("dev/relay/simulation/Simulation.class"), "the simulation the demo runs on");
            assertNotNull(file.getEntry("dev/relay/core/Relay.class"), "the engine");
        }
    }
}
