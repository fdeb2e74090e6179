package dev.amalgam.modelio;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A restricted reader of the {@code data.pkl} that {@code torch.save} writes for a state dict. It never executes
 * code: it interprets the pickle opcodes itself and knows a fixed list of globals, each standing for a data
 * structure rather than a callable (mergekit's lazy unpickler's list without numpy, plus {@code _rebuild_parameter} for saved parameters):
 * {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2}, {@code torch._utils._rebuild_parameter},
 * {@code _codecs.encode} (how protocol 2 stores bytes) and the typed storages {@code torch.FloatStorage},
 * {@code HalfStorage}, {@code BFloat16Storage}, {@code DoubleStorage}, {@code LongStorage}, {@code IntStorage},
 * {@code ShortStorage}, {@code CharStorage}, {@code ByteStorage}, {@code BoolStorage}. Any other global (e.g.
 * {@code os.system}), an unknown opcode or a reduce of anything but those fails with a message naming it and its
 * byte offset.
 *
 * <p>Opcodes: those of protocols 2 to 4 that build the values above (marks, tuples, lists, dicts, ints, floats,
 * strings, booleans, None, memo get/put, GLOBAL / STACK_GLOBAL, REDUCE, BUILD, BINPERSID, FRAME).
 */
final class TorchUnpickler {

    /** A storage named by a persistent id: {@code ('storage', torch.FloatStorage, '0', 'cpu', numel)}. */
    record StorageRef(DType dtype, String key, long numel) {
    }

    /** What {@code _rebuild_tensor_v2(storage, offset, size, stride, ...)} describes. */
    record TensorRef(StorageRef storage, long offset, long[] shape, long[] stride) {
    }

    /** A global from the allowlist. */
    private record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    private static final Map<String, DType> STORAGES = Map.of(
            "FloatStorage", DType.F32, "HalfStorage", DType.F16, "BFloat16Storage", DType.BF16,
            "DoubleStorage", DType.F64, "LongStorage", DType.I64, "IntStorage", DType.I32,
            "ShortStorage", DType.I16, "CharStorage", DType.I8, "ByteStorage", DType.U8, "BoolStorage", DType.BOOL);

    private static final Object MARK = new Object();

    private final byte[] data;
    private final String where;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    private final Map<Integer, Object> memo = new HashMap<>();

    private TorchUnpickler(byte[] data, String where) {
        this.data = data;
        this.where = where;
    }

    /**
     * Reads a state dict: the top-level mapping from tensor names to tensors (what {@code torch.save(model.state_dict())}
     * writes; a checkpoint that nests the weights under another key is refused).
     *
     * @throws IllegalArgumentException naming {@code where}, the byte offset and the reason
     */
    static Map<String, TensorRef> stateDict(byte[] pickle, String where) {
        Object root = new TorchUnpickler(pickle, where).run();
        if (!(root instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(where + ": the pickle holds " + describe(root)
                    + ", not a state dict (a mapping of names to tensors)");
        }
        Map<String, TensorRef> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String name)) {
                throw new IllegalArgumentException(where + ": state dict key " + describe(e.getKey()) + " is not a string");
            }
            if (!(e.getValue() instanceof TensorRef t)) {
                throw new IllegalArgumentException(where + ": state dict entry '" + name + "' is " + describe(e.getValue())
                        + ", not a tensor");
            }
            out.put(name, t);
        }
        return out;
    }

    private Object run() {
        while (true) {
            if (pos >= data.length) {
                throw fail("the pickle ends without STOP");
            }
            int at = pos;
            int op = data[pos++] & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto < 2 || proto > 5) {
                        throw fail("pickle protocol " + proto + " is not supported (torch.save writes 2)");
                    }
                }
                case 0x95 -> pos += 8; // FRAME: a length hint, the opcodes follow inline
                case '.' -> { // STOP
                    return pop(at);
                }
                case '(' -> stack.add(MARK);
                case ')' -> stack.add(List.of());
                case ']' -> stack.add(new ArrayList<>());
                case '}' -> stack.add(new LinkedHashMap<>());
                case 'N' -> stack.add(null);
                case 0x88 -> stack.add(Boolean.TRUE);
                case 0x89 -> stack.add(Boolean.FALSE);
                case 'J' -> stack.add((long) i32());
                case 'K' -> stack.add((long) u8());
                case 'M' -> stack.add((long) (u8() | (u8() << 8)));
                case 0x8a -> stack.add(long1(at));
                case 'G' -> stack.add(Double.longBitsToDouble(be64()));
                case 'X' -> stack.add(string(u32(at), at));
                case 0x8c -> stack.add(string(u8(), at)); // SHORT_BINUNICODE
                case 'T' -> stack.add(string(u32(at), at)); // BINSTRING (latin-1 in py2; names are ASCII)
                case 'U' -> stack.add(string(u8(), at)); // SHORT_BINSTRING
                case 'q' -> memo.put(u8(), peek(at));
                case 'r' -> memo.put(u32(at), peek(at));
                case 0x94 -> memo.put(memo.size(), peek(at)); // MEMOIZE
                case 'h' -> stack.add(memoGet(u8(), at));
                case 'j' -> stack.add(memoGet(u32(at), at));
                case 't' -> stack.add(nullSafe(popMark(at)));
                case 0x85 -> stack.add(tuple(1, at));
                case 0x86 -> stack.add(tuple(2, at));
                case 0x87 -> stack.add(tuple(3, at));
                case 'a' -> {
                    Object v = pop(at);
                    list(peek(at), at).add(v);
                }
                case 'e' -> {
                    List<Object> items = popMark(at);
                    list(peek(at), at).addAll(items);
                }
                case 's' -> {
                    Object v = pop(at);
                    Object k = pop(at);
                    dict(peek(at), at).put(k, v);
                }
                case 'u' -> {
                    List<Object> items = popMark(at);
                    if (items.size() % 2 != 0) {
                        throw fail(at, "SETITEMS with an odd number of items");
                    }
                    Map<Object, Object> d = dict(peek(at), at);
                    for (int i = 0; i < items.size(); i += 2) {
                        d.put(items.get(i), items.get(i + 1));
                    }
                }
                case 'c' -> stack.add(global(line(at), line(at), at)); // GLOBAL "module\nname\n"
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(at);
                    Object module = pop(at);
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw fail(at, "STACK_GLOBAL needs two strings");
                    }
                    stack.add(global(m, n, at));
                }
                case 'Q' -> stack.add(persistentId(pop(at), at)); // BINPERSID
                case 'R' -> { // REDUCE
                    Object args = pop(at);
                    Object fn = pop(at);
                    stack.add(reduce(fn, args, at));
                }
                case 'b' -> { // BUILD: an OrderedDict's state is its _metadata attribute, not needed here
                    Object state = pop(at);
                    Object obj = peek(at);
                    if (!(obj instanceof Map<?, ?>) || !(state instanceof Map<?, ?> || state == null)) {
                        throw fail(at, "BUILD of " + describe(obj) + " with " + describe(state) + " is not allowed");
                    }
                }
                default -> throw fail(at, String.format("opcode 0x%02x ('%s') is not allowed in a state dict pickle",
                        op, op >= 32 && op < 127 ? String.valueOf((char) op) : "?"));
            }
        }
    }

    private Global global(String module, String name, int at) {
        Global g = new Global(module, name);
        boolean allowed = switch (module) {
            case "collections" -> name.equals("OrderedDict");
            case "torch._utils" -> name.equals("_rebuild_tensor_v2") || name.equals("_rebuild_parameter");
            case "_codecs" -> name.equals("encode");
            case "torch" -> STORAGES.containsKey(name);
            default -> false;
        };
        if (!allowed) {
            throw fail(at, "forbidden global '" + g.qualified() + "': only what torch.save writes for a state dict is"
                    + " read (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter,"
                    + " _codecs.encode, torch.<Type>Storage); the file is not loaded");
        }
        return g;
    }

    private StorageRef persistentId(Object pid, int at) {
        if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0))
                || !(t.get(1) instanceof Global g) || !g.module().equals("torch") || !STORAGES.containsKey(g.name())
                || !(t.get(2) instanceof String key) || !(t.get(4) instanceof Long numel)) {
            throw fail(at, "persistent id " + describe(pid) + " is not ('storage', torch.<Type>Storage, key, location,"
                    + " numel)");
        }
        if (key.isEmpty() || key.contains("/") || key.contains("\\") || key.startsWith(".")) {
            throw fail(at, "storage key '" + key + "' is not a plain name");
        }
        return new StorageRef(STORAGES.get(g.name()), key, numel);
    }

    private Object reduce(Object fn, Object args, int at) {
        if (!(fn instanceof Global g)) {
            throw fail(at, "REDUCE of " + describe(fn) + " (only allowed globals can be called)");
        }
        if (!(args instanceof List<?> a)) {
            throw fail(at, "REDUCE of " + g.qualified() + " without an argument tuple");
        }
        switch (g.qualified()) {
            case "collections.OrderedDict" -> {
                if (!a.isEmpty()) {
                    throw fail(at, "OrderedDict with arguments is not what torch.save writes");
                }
                return new LinkedHashMap<>();
            }
            case "torch._utils._rebuild_tensor_v2" -> {
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (a.size() < 4 || !(a.get(0) instanceof StorageRef s) || !(a.get(1) instanceof Long offset)) {
                    throw fail(at, "_rebuild_tensor_v2 needs (storage, offset, size, stride, ...), got " + describe(a));
                }
                return new TensorRef(s, offset, longs(a.get(2), "size", at), longs(a.get(3), "stride", at));
            }
            case "torch._utils._rebuild_parameter" -> {
                if (a.isEmpty() || !(a.get(0) instanceof TensorRef t)) {
                    throw fail(at, "_rebuild_parameter needs (tensor, requires_grad, hooks), got " + describe(a));
                }
                return t;
            }
            case "_codecs.encode" -> {
                if (a.size() != 2 || !(a.get(0) instanceof String s) || !"latin1".equals(a.get(1))) {
                    throw fail(at, "_codecs.encode needs (text, 'latin1'), got " + describe(a));
                }
                return s.getBytes(StandardCharsets.ISO_8859_1);
            }
            default -> throw fail(at, g.qualified() + " cannot be called");
        }
    }

    private long[] longs(Object o, String what, int at) {
        if (!(o instanceof List<?> l)) {
            throw fail(at, "tensor " + what + " is " + describe(o) + ", not a tuple of ints");
        }
        long[] r = new long[l.size()];
        for (int i = 0; i < r.length; i++) {
            if (!(l.get(i) instanceof Long v) || v < 0) {
                throw fail(at, "tensor " + what + " " + describe(l) + " has a non-integer or negative entry");
            }
            r[i] = v;
        }
        return r;
    }

    private List<Object> tuple(int n, int at) {
        if (stack.size() < n) {
            throw fail(at, "stack underflow");
        }
        List<Object> items = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
        stack.subList(stack.size() - n, stack.size()).clear();
        if (items.contains(MARK)) {
            throw fail(at, "a tuple cannot hold a mark");
        }
        return java.util.Collections.unmodifiableList(items);
    }

    private static List<Object> nullSafe(List<Object> items) {
        // List.copyOf refuses nulls; tuples may hold None
        return java.util.Collections.unmodifiableList(new ArrayList<>(items));
    }

    private List<Object> popMark(int at) {
        int m = stack.lastIndexOf(MARK);
        if (m < 0) {
            throw fail(at, "no MARK on the stack");
        }
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, int at) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw fail(at, "APPEND to " + describe(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, int at) {
        if (o instanceof LinkedHashMap<?, ?> d) {
            return (Map<Object, Object>) d;
        }
        throw fail(at, "SETITEM on " + describe(o));
    }

    private Object pop(int at) {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw fail(at, "stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek(int at) {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw fail(at, "stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private Object memoGet(int key, int at) {
        if (!memo.containsKey(key)) {
            throw fail(at, "memo entry " + key + " was never stored");
        }
        return memo.get(key);
    }

    private int u8() {
        need(1);
        return data[pos++] & 0xff;
    }

    private int i32() {
        need(4);
        int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff) << 16 | data[pos + 3] << 24;
        pos += 4;
        return v;
    }

    private int u32(int at) {
        int v = i32();
        if (v < 0) {
            throw fail(at, "length " + Integer.toUnsignedString(v) + " is too large");
        }
        return v;
    }

    private long be64() {
        need(8);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (data[pos++] & 0xff);
        }
        return v;
    }

    private long long1(int at) {
        int n = u8();
        if (n > 8) {
            throw fail(at, "LONG1 of " + n + " bytes does not fit 64 bits");
        }
        need(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = v << 8 | (data[pos + i] & 0xff);
        }
        if (n > 0 && n < 8 && (data[pos + n - 1] & 0x80) != 0) {
            v -= 1L << (8 * n); // two's complement, sign from the last byte
        }
        pos += n;
        return v;
    }

    private String string(int n, int at) {
        need(n);
        String s = new String(data, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    private String line(int at) {
        int end = pos;
        while (end < data.length && data[end] != '\n') {
            end++;
        }
        if (end >= data.length) {
            throw fail(at, "GLOBAL without a newline");
        }
        String s = new String(data, pos, end - pos, StandardCharsets.UTF_8);
        pos = end + 1;
        return s;
    }

    private void need(int n) {
        if (n < 0 || pos + n > data.length) {
            throw fail("the pickle is truncated at byte " + pos);
        }
    }

    private IllegalArgumentException fail(int at, String why) {
        return new IllegalArgumentException(where + " (byte " + at + "): " + why);
    }

    private IllegalArgumentException fail(String why) {
        return new IllegalArgumentException(where + ": " + why);
    }

    private static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Global g) {
            return g.qualified();
        }
        if (o instanceof TensorRef) {
            return "a tensor";
        }
        if (o instanceof Map<?, ?>) {
            return "a mapping";
        }
        if (o instanceof List<?> l) {
            return "(" + String.join(", ", l.stream().map(TorchUnpickler::describe).toList()) + ")";
        }
        if (o instanceof String s) {
            return "'" + s + "'";
        }
        return String.valueOf(o);
    }
}
