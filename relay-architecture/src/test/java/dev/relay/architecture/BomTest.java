package dev.relay.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * relay-bom lists every published relay artifact, at the reactor's version: a library module of the parent pom
 * (packaging jar, not marked {@code relay.library.skip}) that the BOM forgets would leave its users to guess
 * its version.
 */
class BomTest {

    private static final Path ROOT = Path.of(System.getProperty("relay.root", ".."));

    @Test
    void bom_everyLibraryModule_isListedAtTheReactorVersion() throws Exception {
        Document parent = read(ROOT.resolve("pom.xml"));
        Document bom = read(ROOT.resolve("relay-bom/pom.xml"));
        assertEquals(text(parent.getDocumentElement(), "version"), text(bom.getDocumentElement(), "version"),
                "relay-bom's <version> must equal relay-parent's");

        Set<String> listed = new TreeSet<>();
        NodeList deps = bom.getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element dep = (Element) deps.item(i);
            assertEquals("dev.relay", text(dep, "groupId"), "relay-bom manages relay's own artifacts only");
            assertEquals("${project.version}", text(dep, "version"), "relay-bom: " + text(dep, "artifactId") + " at ${project.version}");
            listed.add(text(dep, "artifactId"));
        }

        List<String> libraries = new ArrayList<>();
        NodeList modules = parent.getElementsByTagName("module");
        for (int i = 0; i < modules.getLength(); i++) {
            String module = modules.item(i).getTextContent().trim();
            Path pom = ROOT.resolve(module).resolve("pom.xml");
            if (!Files.isRegularFile(pom)) {
                continue;
            }
            Element project = read(pom).getDocumentElement();
            String packaging = text(project, "packaging");
            boolean program = project.getElementsByTagName("relay.library.skip").getLength() > 0
                    && "true".equals(project.getElementsByTagName("relay.library.skip").item(0).getTextContent().trim());
            if ((packaging == null || packaging.equals("jar")) && !program) {
                libraries.add(text(project, "artifactId"));
            }
        }
        assertTrue(libraries.contains("relay-core"), "the parent's modules were not read: " + libraries);
        Set<String> missing = new TreeSet<>(libraries);
        missing.removeAll(listed);
        assertTrue(missing.isEmpty(), "library modules missing from relay-bom/pom.xml: " + missing
                + " (add <dependency><groupId>dev.relay</groupId><artifactId>…</artifactId><version>${project.version}</version></dependency>)");
        Set<String> stale = new TreeSet<>(listed);
        stale.removeAll(libraries);
        assertTrue(stale.isEmpty(), "relay-bom lists artifacts that no library module builds: " + stale);
    }

    private static Document read(Path pom) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return factory.newDocumentBuilder().parse(pom.toFile());
    }

    /** @return the text of the direct child element {@code name}, or null */
    private static String text(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element && ((Element) n).getTagName().equals(name)) {
                return n.getTextContent().trim();
            }
        }
        return null;
    }
}
