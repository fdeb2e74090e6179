package dev.amalgam.fusion.data.parquet;

import java.util.ArrayList;
import java.util.List;

/**
 * A Parquet file's schema as a tree, built from the footer's flat, depth-first list of {@code SchemaElement}s, with
 * each node's maximum definition and repetition levels (Dremel) computed from its ancestors.
 */
final class ParquetSchema {

    /** Physical types ({@code parquet.thrift} Type). */
    static final int BOOLEAN = 0;
    static final int INT32 = 1;
    static final int INT64 = 2;
    static final int INT96 = 3;
    static final int FLOAT = 4;
    static final int DOUBLE = 5;
    static final int BYTE_ARRAY = 6;
    static final int FIXED_LEN_BYTE_ARRAY = 7;
    static final String[] TYPE_NAMES = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
        "FIXED_LEN_BYTE_ARRAY"};

    enum Repetition { REQUIRED, OPTIONAL, REPEATED }

    /**
     * One field. {@code type} is -1 for a group. {@code annotation} is the logical type in upper case (STRING, LIST,
     * MAP, DECIMAL, INTEGER, ...) or null; {@code defLevel}/{@code repLevel} are the levels at which this node is
     * defined / repeats; {@code leaves} are the indices of the leaf columns under it (itself for a leaf).
     */
    static final class Node {
        final String name;
        final Repetition repetition;
        final int type;
        final int typeLength;
        final String annotation;
        final int scale;
        final boolean unsigned;
        final List<Node> children = new ArrayList<>();
        final List<Integer> leaves = new ArrayList<>();
        final String path;
        int defLevel;
        int repLevel;

        Node(String name, Repetition repetition, int type, int typeLength, String annotation, int scale,
                boolean unsigned, String path) {
            this.name = name;
            this.repetition = repetition;
            this.type = type;
            this.typeLength = typeLength;
            this.annotation = annotation;
            this.scale = scale;
            this.unsigned = unsigned;
            this.path = path;
        }

        boolean isLeaf() {
            return type >= 0;
        }
    }

    final Node root;
    /** Leaf columns in schema order, which is the order of a row group's column chunks. */
    final List<Node> columns = new ArrayList<>();

    private ParquetSchema(Node root) {
        this.root = root;
    }

    static ParquetSchema of(List<ThriftCompact.Struct> elements) {
        if (elements.isEmpty()) {
            throw new ParquetFormatException("the footer has no schema");
        }
        ThriftCompact.Struct first = elements.get(0);
        Node root = new Node("", Repetition.REQUIRED, -1, 0, null, 0, false, "");
        ParquetSchema schema = new ParquetSchema(root);
        int[] next = {1};
        schema.children(root, first.i32(5, 0), elements, next, 0, 0);
        if (next[0] != elements.size()) {
            throw new ParquetFormatException("the schema lists " + elements.size() + " elements but its tree holds "
                    + next[0]);
        }
        return schema;
    }

    private void children(Node parent, int count, List<ThriftCompact.Struct> elements, int[] next, int def, int rep) {
        for (int i = 0; i < count; i++) {
            if (next[0] >= elements.size()) {
                throw new ParquetFormatException("the schema tree is cut short");
            }
            ThriftCompact.Struct e = elements.get(next[0]++);
            String name = e.string(4);
            int r = e.i32(3, 0);
            if (r < 0 || r > 2) {
                throw new ParquetFormatException("corrupt schema: repetition type " + r);
            }
            Repetition repetition = Repetition.values()[r];
            int type = e.has(1) ? e.i32(1) : -1;
            String path = parent.path.isEmpty() ? name : parent.path + "." + name;
            String annotation = annotation(e);
            boolean unsigned = isUnsigned(e);
            Node n = new Node(name, repetition, type, e.i32(2, 0), annotation, e.i32(7, 0), unsigned, path);
            n.defLevel = repetition == Repetition.REQUIRED ? def : def + 1;
            n.repLevel = repetition == Repetition.REPEATED ? rep + 1 : rep;
            parent.children.add(n);
            if (n.isLeaf()) {
                n.leaves.add(columns.size());
                columns.add(n);
            } else {
                children(n, e.i32(5, 0), elements, next, n.defLevel, n.repLevel);
                for (Node c : n.children) {
                    n.leaves.addAll(c.leaves);
                }
                if (n.leaves.isEmpty()) {
                    throw new ParquetFormatException(path + ": a group without columns");
                }
            }
        }
        if (parent == root) {
            for (Node c : root.children) {
                root.leaves.addAll(c.leaves);
            }
        }
    }

    /** The logical type: LogicalType (field 10, a union) first, else the legacy ConvertedType (field 6). */
    private static String annotation(ThriftCompact.Struct e) {
        ThriftCompact.Struct logical = e.struct(10);
        if (logical != null && !logical.fields().isEmpty()) {
            int id = logical.fields().keySet().iterator().next();
            return switch (id) {
                case 1 -> "STRING";
                case 2 -> "MAP";
                case 3 -> "LIST";
                case 4 -> "ENUM";
                case 5 -> "DECIMAL";
                case 6 -> "DATE";
                case 7 -> "TIME";
                case 8 -> "TIMESTAMP";
                case 10 -> "INTEGER";
                case 11 -> "UNKNOWN";
                case 12 -> "JSON";
                case 13 -> "BSON";
                case 14 -> "UUID";
                case 15 -> "FLOAT16";
                default -> "LOGICAL_TYPE_" + id;
            };
        }
        if (!e.has(6)) {
            return null;
        }
        return switch (e.i32(6)) {
            case 0 -> "STRING";
            case 1, 2 -> "MAP";
            case 3 -> "LIST";
            case 4 -> "ENUM";
            case 5 -> "DECIMAL";
            case 6 -> "DATE";
            case 7, 8 -> "TIME";
            case 9, 10 -> "TIMESTAMP";
            case 11, 12, 13, 14, 15, 16, 17, 18 -> "INTEGER";
            case 19 -> "JSON";
            case 20 -> "BSON";
            case 21 -> "INTERVAL";
            default -> "CONVERTED_TYPE_" + e.i32(6);
        };
    }

    private static boolean isUnsigned(ThriftCompact.Struct e) {
        ThriftCompact.Struct logical = e.struct(10);
        if (logical != null && logical.struct(10) != null) {
            return !logical.struct(10).bool(2, true);
        }
        int converted = e.i32(6, -1);
        return converted >= 11 && converted <= 14;
    }
}
