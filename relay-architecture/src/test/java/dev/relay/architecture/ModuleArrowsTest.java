package dev.relay.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The README's claim about module arrows ("Backends know relay-api only; relay-core knows no backend", and each
 * row's "depends on" cell) checked on the compiled classes of every library module: a class of a module may use
 * classes of its own package tree and of the relay modules its row lists, no other {@code dev.relay} class; a
 * module whose row says "the JDK only" uses nothing outside {@code java..}. The Maven Enforcer rules in each pom
 * check the same arrows on declared dependencies; this checks the imports, which a transitive dependency could
 * otherwise let through.
 */
class ModuleArrowsTest {

    private static ModuleTable table;
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        table = ModuleTable.parse(ModuleTable.readme());
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TEST_FIXTURES)
                .importPackages("dev.relay");
    }

    @TestFactory
    Stream<DynamicTest> moduleArrows_everyRowOfTheReadme_holdsForItsClasses() {
        return table.rows().stream().filter(row -> !row.unconstrained()).map(row -> DynamicTest.dynamicTest(row.module(), () -> {
            Assumptions.assumeTrue(classes.stream().anyMatch(inModule(table, row)::test), () -> row.module()
                    + " is in the README's module table but none of its classes is on relay-architecture's test classpath: "
                    + "add the module to relay-architecture/pom.xml to check its arrows");
            rule(table, row).check(classes);
        }));
    }

    @Test
    void rule_backendClassUsingTheEngine_isReported() throws Exception {
        ModuleTable.Row inmemory = table.rows().stream().filter(r -> r.module().equals("relay-inmemory")).findFirst().orElseThrow();
        JavaClasses fixture = new ClassFileImporter().importClasses(Class.forName("dev.relay.inmemory.ArrowViolationFixture"));
        AssertionError e = assertThrows(AssertionError.class, () -> rule(table, inmemory).check(fixture));
        assertTrue(e.getMessage().contains("dev.relay.core.Relay"), e.getMessage());
    }

    /** The arrows of one row as a rule over its module's classes. */
    static ArchRule rule(ModuleTable table, ModuleTable.Row row) {
        DescribedPredicate<JavaClass> inModule = inModule(table, row);
        if (row.jdkOnly()) {
            return classes().that(inModule)
                    .should().onlyDependOnClassesThat(resideInAnyPackage("java..", row.packageName() + ".."))
                    .because("the README says " + row.module() + " depends on the JDK only");
        }
        List<String> allowed = new ArrayList<>();
        allowed.add(row.packageName() + "..");
        row.relayDependencies().forEach(p -> allowed.add(p + ".."));
        return classes().that(inModule)
                .should().onlyDependOnClassesThat(not(resideInAPackage("dev.relay.."))
                        .or(resideInAnyPackage(allowed.toArray(String[]::new))))
                .because("the README says " + row.module() + " depends on " + describe(row));
    }

    @Test
    void moduleTable_everyModuleOnTheClasspath_hasARow() {
        Set<String> rows = table.rows().stream().map(ModuleTable.Row::packageName).collect(Collectors.toSet());
        Set<String> missing = new TreeSet<>();
        for (JavaClass c : classes) {
            String[] parts = c.getPackageName().split("\\.");
            if (parts.length >= 3 && !rows.contains(parts[0] + "." + parts[1] + "." + parts[2])) {
                missing.add(parts[0] + "." + parts[1] + "." + parts[2]);
            }
        }
        assertTrue(missing.isEmpty(), "packages of modules without a row in the README's module table: " + missing);
    }

    /** A row's classes: its package tree, less the packages that have rows of their own (relay-core › plan). */
    private static DescribedPredicate<JavaClass> inModule(ModuleTable table, ModuleTable.Row row) {
        List<String> carvedOut = table.rows().stream()
                .map(ModuleTable.Row::packageName)
                .filter(p -> p.startsWith(row.packageName() + "."))
                .map(p -> p + "..")
                .collect(Collectors.toList());
        DescribedPredicate<JavaClass> tree = resideInAPackage(row.packageName() + "..");
        return carvedOut.isEmpty() ? tree : tree.and(not(resideInAnyPackage(carvedOut.toArray(String[]::new))));
    }

    private static String describe(ModuleTable.Row row) {
        return row.relayDependencies().isEmpty() ? "no other relay module"
                : row.relayDependencies().stream().map(p -> p.replace("dev.relay.", "relay-")).collect(Collectors.joining(", "));
    }
}
