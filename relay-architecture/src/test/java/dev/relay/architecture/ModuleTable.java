package dev.relay.architecture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The README's module table ("## Modules"): each row's module, the Java package its classes live in, and the relay
 * modules it may depend on. A row reads {@code | `relay-core` | holds | relay-api, Guava, SLF4J, Micrometer |};
 * a package of a module gets a row of its own as {@code `relay-core` › `plan`}. A "depends on" cell that says
 * "everything", or "–" (a module without code), constrains nothing; "the JDK only" allows no library at all.
 */
record ModuleTable(List<Row> rows) {

    /**
     * One row of the table.
     *
     * @param module the module as written, e.g. {@code relay-core › plan}
     * @param packageName the package its classes live in, e.g. {@code dev.relay.core.plan}
     * @param relayDependencies the relay packages it may use besides its own, e.g. {@code dev.relay.api}
     * @param unconstrained whether the row says "everything"
     * @param jdkOnly whether the row says "the JDK only"
     */
    record Row(String module, String packageName, Set<String> relayDependencies, boolean unconstrained, boolean jdkOnly) {
    }

    private static final Pattern MODULE = Pattern.compile("`([a-z0-9-]+)`(?:\\s*›\\s*`([a-z0-9.]+)`)?");
    private static final Pattern RELAY_MODULE = Pattern.compile("\\brelay-[a-z0-9-]+\\b");

    /** @return the README of the checkout these tests run in (Surefire's working directory is the module's). */
    static Path readme() {
        Path path = Path.of(System.getProperty("relay.readme", "../README.md"));
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("README.md not found at " + path.toAbsolutePath() + " (set -Drelay.readme=…)");
        }
        return path;
    }

    static ModuleTable parse(Path readme) {
        List<String> lines;
        try {
            lines = Files.readAllLines(readme);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Row> rows = new ArrayList<>();
        boolean inSection = false;
        for (String line : lines) {
            if (line.startsWith("## ")) {
                inSection = line.equals("## Modules");
                continue;
            }
            if (!inSection || !line.startsWith("| `")) {
                continue;
            }
            String[] cells = line.split("\\|");
            // "", module, holds, depends on
            if (cells.length < 4) {
                throw new IllegalStateException("README module row without a 'depends on' cell: " + line);
            }
            String moduleCell = cells[1].trim();
            String dependsOn = cells[cells.length - 1].trim();
            Matcher m = MODULE.matcher(moduleCell);
            if (!m.lookingAt()) {
                throw new IllegalStateException("README module row with an unreadable module cell: " + line);
            }
            String module = m.group(1) + (m.group(2) == null ? "" : " › " + m.group(2));
            String packageName = packageOf(m.group(1)) + (m.group(2) == null ? "" : "." + m.group(2));
            Set<String> deps = new LinkedHashSet<>();
            Matcher d = RELAY_MODULE.matcher(dependsOn);
            while (d.find()) {
                deps.add(packageOf(d.group()));
            }
            boolean unconstrained = dependsOn.startsWith("everything") || dependsOn.equals("–") || dependsOn.equals("-");
            rows.add(new Row(module, packageName, deps, unconstrained, dependsOn.contains("JDK only")));
        }
        if (rows.isEmpty()) {
            throw new IllegalStateException("no module table under '## Modules' in " + readme.toAbsolutePath());
        }
        return new ModuleTable(List.copyOf(rows));
    }

    /** relay-core → dev.relay.core; examples → dev.relay.examples (the Automatic-Module-Names follow the same rule). */
    static String packageOf(String artifactId) {
        return "dev.relay." + artifactId.replaceFirst("^relay-", "").replace("-", "");
    }
}
