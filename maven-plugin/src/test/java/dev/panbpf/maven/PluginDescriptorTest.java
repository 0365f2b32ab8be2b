package dev.panbpf.maven;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The hand-written plugin.xml declares exactly GenerateMojo's fields, and its version is filled in. */
class PluginDescriptorTest {
    @Test
    void descriptorParametersAreTheMojosFields() throws Exception {
        Element root;
        try (InputStream in = GenerateMojo.class.getResourceAsStream("/META-INF/maven/plugin.xml")) {
            root = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(in).getDocumentElement();
        }
        Set<String> declared = new TreeSet<>();
        NodeList names = root.getElementsByTagName("parameter");
        for (int i = 0; i < names.getLength(); i++) {
            declared.add(((Element) names.item(i)).getElementsByTagName("name").item(0).getTextContent());
        }
        Set<String> fields = new TreeSet<>();
        for (Field f : GenerateMojo.class.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers())) {
                fields.add(f.getName());
            }
        }
        assertEquals(fields, declared);
        assertEquals(GenerateMojo.class.getName(),
                root.getElementsByTagName("implementation").item(0).getTextContent());
        assertFalse(root.getElementsByTagName("version").item(0).getTextContent().contains("@"));
    }
}
