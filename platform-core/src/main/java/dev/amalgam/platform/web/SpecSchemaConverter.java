package dev.amalgam.platform.web;

import io.swagger.v3.core.converter.AnnotatedType;
import io.swagger.v3.core.converter.ModelConverter;
import io.swagger.v3.core.converter.ModelConverterContext;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.Iterator;
import java.util.Locale;

/**
 * Schemas of the types job specs are read into, as they appear in the JSON rather than as Java sees them: a
 * Jackson tree is any JSON value; an enum is a string of its spec names ({@code specName()} or {@code id()}, else
 * its lower-case name, as the spec readers accept); a registry entry with a {@code specName()} is a string.
 */
final class SpecSchemaConverter implements ModelConverter {

    @Override
    public Schema<?> resolve(AnnotatedType annotated, ModelConverterContext context, Iterator<ModelConverter> chain) {
        Class<?> raw = rawClass(annotated.getType());
        if (raw != null && tools.jackson.databind.JsonNode.class.isAssignableFrom(raw)) {
            return new Schema<>().description("any JSON value");
        }
        if (raw != null && raw.isEnum()) {
            StringSchema s = new StringSchema();
            Method name = nameMethod(raw);
            for (Object constant : raw.getEnumConstants()) {
                s.addEnumItem(name == null ? ((Enum<?>) constant).name().toLowerCase(Locale.ROOT) : invoke(name, constant));
            }
            return s;
        }
        if (raw != null && !raw.isPrimitive() && !raw.getName().startsWith("java.") && nameMethod(raw) != null) {
            return new StringSchema();
        }
        return chain.hasNext() ? chain.next().resolve(annotated, context, chain) : null;
    }

    private static Method nameMethod(Class<?> type) {
        for (String candidate : new String[] {"specName", "id"}) {
            try {
                Method m = type.getMethod(candidate);
                if (m.getReturnType() == String.class && m.getParameterCount() == 0) {
                    return m;
                }
            } catch (NoSuchMethodException e) {
                // try the next
            }
        }
        return null;
    }

    private static String invoke(Method m, Object target) {
        try {
            return (String) m.invoke(target);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Class<?> rawClass(Type type) {
        if (type instanceof Class<?> c) {
            return c;
        }
        if (type instanceof com.fasterxml.jackson.databind.JavaType j) {
            return j.getRawClass();
        }
        if (type instanceof java.lang.reflect.ParameterizedType p && p.getRawType() instanceof Class<?> c) {
            return c;
        }
        return null;
    }
}
