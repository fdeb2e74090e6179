package dev.amalgam.modelio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The parsed and validated header of a safetensors file: where the data buffer starts, the
 * {@code __metadata__} map and the tensors ordered by offset. Each rule of the format is checked
 * here, in the order a reader meets them, with a message naming the rule.
 */
record SafetensorsHeader(long dataStart, Map<String, String> metadata, List<TensorInfo> tensors) {

    static SafetensorsHeader read(Path path, FileChannel ch) {
        try {
            return parse(path, ch);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    private static SafetensorsHeader parse(Path path, FileChannel ch) throws IOException {
        long fileLength = ch.size();
        if (fileLength < 8) {
            throw new SafetensorsFormatException(path, "file is " + fileLength
                    + " bytes, too short for the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(path, "header length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + SafetensorsFile.MAX_HEADER_BYTES + " bytes");
        }
        if (n < 2) {
            throw new SafetensorsFormatException(path, "header length " + n + " is too small for a JSON object");
        }
        if (8 + n > fileLength) {
            throw new SafetensorsFormatException(path, "header length " + n + " runs past the end of the file ("
                    + fileLength + " bytes): file truncated or header length corrupt");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
        readFully(ch, headerBytes, 8);
        String json;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(headerBytes.flip());
            json = chars.toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(path, "header is not valid UTF-8", e);
        }
        JsonNode root;
        try {
            root = Json.STRICT_MAPPER.readTree(json);
        } catch (JacksonException e) {
            throw new SafetensorsFormatException(path, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(path, "header is not a JSON object");
        }
        Map<String, String> metadata = Map.of();
        List<TensorInfo> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals("__metadata__")) {
                metadata = parseMetadata(path, e.getValue());
            } else {
                tensors.add(parseTensor(path, e.getKey(), e.getValue()));
            }
        }
        List<TensorInfo> sorted = SafetensorsFile.sortedByOffset(tensors);
        long dataLength = fileLength - 8 - n;
        checkLayout(path, sorted, dataLength);
        return new SafetensorsHeader(8 + n, metadata, sorted);
    }

    private static Map<String, String> parseMetadata(Path path, JsonNode node) {
        if (!node.isObject()) {
            throw new SafetensorsFormatException(path, "__metadata__ must be an object of strings, got " + node.getNodeType());
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isString()) {
                throw new SafetensorsFormatException(path, "__metadata__ value for '" + e.getKey()
                        + "' must be a string, got " + e.getValue().getNodeType());
            }
            m.put(e.getKey(), e.getValue().asString());
        }
        return Collections.unmodifiableMap(m);
    }

    private static TensorInfo parseTensor(Path path, String name, JsonNode node) {
        if (!node.isObject()) {
            throw new SafetensorsFormatException(path, "tensor '" + name + "' entry must be an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isString()) {
            throw new SafetensorsFormatException(path, "tensor '" + name + "' has no string \"dtype\"");
        }
        DType dtype;
        try {
            dtype = DType.fromSafetensorsName(dtypeNode.asString());
        } catch (IllegalArgumentException e) {
            throw new SafetensorsFormatException(path, "tensor '" + name + "': " + e.getMessage(), e);
        }
        long[] shape = longArray(path, name, "shape", node.get("shape"), -1);
        long[] offsets = longArray(path, name, "data_offsets", node.get("data_offsets"), 2);
        if (offsets[1] < offsets[0]) {
            throw new SafetensorsFormatException(path, "tensor '" + name + "' has data_offsets "
                    + Arrays.toString(offsets) + " with end before begin");
        }
        long numel;
        long expectedBytes;
        try {
            numel = Shapes.numel(shape);
            expectedBytes = Math.multiplyExact(numel, (long) dtype.size());
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(path, "tensor '" + name + "' shape " + Arrays.toString(shape)
                    + " overflows 64-bit element count");
        }
        if (offsets[1] - offsets[0] != expectedBytes) {
            throw new SafetensorsFormatException(path, "tensor '" + name + "' wrong size: shape "
                    + Arrays.toString(shape) + " x " + dtype + " (" + dtype.size() + " bytes) needs "
                    + expectedBytes + " bytes but data_offsets " + Arrays.toString(offsets) + " span "
                    + (offsets[1] - offsets[0]));
        }
        return new TensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] longArray(Path path, String name, String field, JsonNode node, int requiredLength) {
        if (node == null || !node.isArray()) {
            throw new SafetensorsFormatException(path, "tensor '" + name + "' has no array \"" + field + "\"");
        }
        if (requiredLength >= 0 && node.size() != requiredLength) {
            throw new SafetensorsFormatException(path, "tensor '" + name + "' \"" + field + "\" must have "
                    + requiredLength + " entries, has " + node.size());
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw new SafetensorsFormatException(path, "tensor '" + name + "' \"" + field
                        + "\" entry " + v + " is not a non-negative 64-bit integer");
            }
            out[i] = v.asLong();
        }
        return out;
    }

    /** Offsets must tile the data buffer from 0 with no hole or overlap and end exactly at the file's end. */
    private static void checkLayout(Path path, List<TensorInfo> sorted, long dataLength) {
        long expectedBegin = 0;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.end() > dataLength) {
                throw new SafetensorsFormatException(path, "tensor '" + t.name() + "' data_offsets ["
                        + t.begin() + ", " + t.end() + "] run past the end of the file: the data buffer has only "
                        + dataLength + " bytes (file truncated?)");
            }
            if (t.begin() > expectedBegin) {
                throw new SafetensorsFormatException(path, "hole in the data buffer: bytes [" + expectedBegin
                        + ", " + t.begin() + ") before tensor '" + t.name() + "' belong to no tensor");
            }
            if (t.begin() < expectedBegin) {
                throw new SafetensorsFormatException(path, "tensor '" + t.name() + "' data_offsets ["
                        + t.begin() + ", " + t.end() + "] overlap tensor '" + previous.name() + "' ["
                        + previous.begin() + ", " + previous.end() + "]");
            }
            expectedBegin = t.end();
            previous = t;
        }
        if (expectedBegin != dataLength) {
            throw new SafetensorsFormatException(path, "file length mismatch: the tensors end at data offset "
                    + expectedBegin + " but the data buffer has " + dataLength + " bytes ("
                    + (dataLength - expectedBegin) + " trailing bytes)");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int r = ch.read(dst, pos);
            if (r < 0) {
                throw new IOException("unexpected end of file at " + pos);
            }
            pos += r;
        }
    }
}
