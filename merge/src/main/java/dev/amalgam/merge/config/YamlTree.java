package dev.amalgam.merge.config;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.Collections;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.common.Anchor;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.CollectionEndEvent;
import org.snakeyaml.engine.v2.events.CollectionStartEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads one YAML document into a Jackson tree the way PyYAML's {@code safe_load} (mergekit's reader) sees it:
 * anchors and aliases are expanded, and {@code <<:} merge keys copy the keys of the merged mapping(s) that the
 * mapping does not set itself (of a list of mappings, an earlier one wins; snakeyaml-engine's composer does this). Scalars follow the YAML 1.2 core
 * schema (plain {@code true}/{@code false}, numbers, {@code null}/{@code ~}; {@code 1e-3} is a number), and plain
 * {@code yes}/{@code no}/{@code on}/{@code off} are booleans as in PyYAML's YAML 1.1.
 *
 * <p>Against YAML bombs: at most {@link #MAX_ALIASES} aliases of collections (snakeyaml-engine's count) and at
 * most {@link #MAX_NODES} nodes after expansion, at most {@link #MAX_DEPTH} levels of nesting; a recursive alias, a non-scalar key, a custom tag
 * ({@code !!binary}, {@code !!java...}), {@code .inf} / {@code .nan} and more than one document are errors.
 */
final class YamlTree {

    /** Most aliases of collections a document may use. */
    static final int MAX_ALIASES = 1_000;
    /** Most nodes (scalars, lists, mappings) the expanded document may have. */
    static final int MAX_NODES = 200_000;
    /** Most nesting levels of lists and mappings (a config needs about ten). */
    static final int MAX_DEPTH = 100;
    /** Most characters of a document. */
    static final int MAX_CODE_POINTS = 8 * 1024 * 1024;

    /** PyYAML's other boolean spellings (the core schema has true/false already). */
    private static final java.util.regex.Pattern YAML11_BOOL =
            java.util.regex.Pattern.compile("yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF");
    private static final Set<Tag> SCALAR_TAGS = Set.of(Tag.STR, Tag.INT, Tag.FLOAT, Tag.BOOL, Tag.NULL);

    private final JsonNodeFactory f = JsonNodeFactory.instance;
    private final Set<Node> path = Collections.newSetFromMap(new IdentityHashMap<>());
    private int nodes;

    private YamlTree() {
    }

    /**
     * The document as a tree (null for an empty document).
     *
     * @throws MergeConfigException naming the line of the problem
     */
    static JsonNode read(String text) {
        LoadSettings settings = LoadSettings.builder().setSchema(new CoreSchema()).setMaxAliasesForCollections(MAX_ALIASES)
                .setAllowRecursiveKeys(false).setCodePointLimit(MAX_CODE_POINTS).setAllowDuplicateKeys(true).build();
        Node root;
        try {
            checkEvents(settings, text);
            root = new Compose(settings).composeString(text).orElse(null);
        } catch (YamlEngineException e) {
            throw new MergeConfigException(List.of("config is not valid YAML: " + e.getMessage()));
        } catch (MergeConfigException e) {
            throw e;
        } catch (RuntimeException e) { // whatever else the YAML engine throws on hostile input is a problem too
            throw new MergeConfigException(List.of("config is not valid YAML: " + e));
        }
        return root == null ? null : new YamlTree().convert(root);
    }

    /**
     * Checks on the parser's event stream (no recursion), before the composer runs: a document nested thousands
     * deep would overflow the recursive composer, and an alias to a collection that is still open (a node that
     * contains itself, also through a {@code <<:} merge key) would send its merge-key flattening round for ever.
     */
    private static void checkEvents(LoadSettings settings, String text) {
        java.util.ArrayDeque<String> open = new java.util.ArrayDeque<>(); // anchors of the open collections ("" if none)
        for (Event e : new Parse(settings).parseString(text)) {
            if (e instanceof CollectionStartEvent c) {
                if (open.size() >= MAX_DEPTH) {
                    throw eventProblem(e, "nested deeper than " + MAX_DEPTH + " levels");
                }
                open.push(c.getAnchor().map(Anchor::getValue).orElse(""));
            } else if (e instanceof CollectionEndEvent) {
                open.pop();
            } else if (e instanceof AliasEvent a && open.contains(a.getAlias().getValue())) {
                throw eventProblem(e, "recursive alias: *" + a.getAlias().getValue() + " is inside its own anchor");
            }
        }
    }

    private static MergeConfigException eventProblem(Event e, String message) {
        String line = e.getStartMark().map(m -> "line " + (m.getLine() + 1) + ": ").orElse("");
        return new MergeConfigException(List.of("config is not valid YAML: " + line + message));
    }

    private JsonNode convert(Node node) {
        if (++nodes > MAX_NODES) {
            throw problem(node, "the document expands to more than " + MAX_NODES + " nodes (aliases included)");
        }
        if (!path.add(node)) {
            throw problem(node, "recursive alias: a node contains itself");
        }
        try {
            if (node instanceof ScalarNode s) {
                return scalar(s);
            }
            if (node instanceof SequenceNode s) {
                return sequence(s);
            }
            if (node instanceof MappingNode m) {
                return mapping(m);
            }
            throw problem(node, "unsupported YAML node");
        } finally {
            path.remove(node);
        }
    }

    private ArrayNode sequence(SequenceNode s) {
        if (!s.getTag().equals(Tag.SEQ)) {
            throw problem(s, "unsupported YAML tag " + tagName(s.getTag().getValue()));
        }
        ArrayNode a = f.arrayNode();
        for (Node e : s.getValue()) {
            a.add(convert(e));
        }
        return a;
    }

    private ObjectNode mapping(MappingNode m) {
        if (!m.getTag().equals(Tag.MAP)) {
            throw problem(m, "unsupported YAML tag " + tagName(m.getTag().getValue()));
        }
        ObjectNode o = f.objectNode();
        // merge keys were flattened by the composer (snakeyaml-engine's MergeUtils, PyYAML's rules: the mapping's
        // own keys win, and of a list of merged mappings the earlier one)
        for (NodeTuple t : m.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode key) || key.getTag().equals(Tag.NULL)
                    || !SCALAR_TAGS.contains(key.getTag())) {
                throw problem(t.getKeyNode(), "mapping keys must be plain strings");
            }
            o.remove(key.getValue()); // a repeated key: the last one wins, as in PyYAML
            o.set(key.getValue(), convert(t.getValueNode()));
        }
        return o;
    }

    private JsonNode scalar(ScalarNode s) {
        Tag tag = s.getTag();
        String v = s.getValue();
        if (tag.equals(Tag.STR)) {
            if (s.isPlain() && YAML11_BOOL.matcher(v).matches()) {
                // PyYAML (YAML 1.1) also reads plain yes/no/on/off as booleans
                return f.booleanNode(v.equalsIgnoreCase("yes") || v.equalsIgnoreCase("on"));
            }
            return f.stringNode(v);
        }
        if (tag.equals(Tag.NULL)) {
            return f.nullNode();
        }
        if (tag.equals(Tag.BOOL)) {
            return f.booleanNode(v.equalsIgnoreCase("true"));
        }
        if (tag.equals(Tag.INT)) {
            return f.numberNode(new java.math.BigInteger(intDigits(v), radix(v)).multiply(
                    v.startsWith("-") ? java.math.BigInteger.ONE.negate() : java.math.BigInteger.ONE));
        }
        if (tag.equals(Tag.FLOAT)) {
            String lower = v.toLowerCase(java.util.Locale.ROOT);
            if (lower.endsWith("inf") || lower.endsWith("nan")) {
                throw problem(s, v + " is not a finite number");
            }
            // beyond the double range (1e400) it reads as an infinity, which the parameter checks refuse
            return f.numberNode(Double.parseDouble(v));
        }
        throw problem(s, "unsupported YAML tag " + tagName(tag.getValue()));
    }

    /** Core schema ints: decimal with an optional sign, {@code 0o} octal, {@code 0x} hexadecimal. */
    private static String intDigits(String v) {
        String u = v.startsWith("-") || v.startsWith("+") ? v.substring(1) : v;
        return u.startsWith("0o") || u.startsWith("0x") ? u.substring(2) : u;
    }

    private static int radix(String v) {
        String u = v.startsWith("-") || v.startsWith("+") ? v.substring(1) : v;
        return u.startsWith("0o") ? 8 : u.startsWith("0x") ? 16 : 10;
    }

    private static MergeConfigException problem(Node node, String message) {
        String line = node.getStartMark().map(Mark::getLine).map(l -> "line " + (l + 1) + ": ").orElse("");
        return new MergeConfigException(List.of("config is not valid YAML: " + line + message));
    }

    /** A tag as the problem names it: a language type tag (tag:yaml.org,2002:java...) only by its kind, never echoed. */
    private static String tagName(String tag) {
        return tag.contains("java") || tag.contains("python") ? "(a language-specific type tag)" : tag;
    }
}
