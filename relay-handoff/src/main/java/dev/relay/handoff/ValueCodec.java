package dev.relay.handoff;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.util.UUID;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.Encoder;

/**
 * Writes and reads one row value as the {@code Value} union of {@code handoff-v1.avsc}: the union branch is the
 * value's Java class, so a value decodes to an equal value of the same class. Stateless; threadsafe.
 */
final class ValueCodec {

    // union branch indexes of handoff-v1.avsc (append only: a branch's index is part of the format)
    static final int NULL = 0;
    static final int BOOLEAN = 1;
    static final int INT = 2;
    static final int LONG = 3;
    static final int FLOAT = 4;
    static final int DOUBLE = 5;
    static final int STRING = 6;
    static final int BYTES = 7;
    static final int DECIMAL = 8;
    static final int BIG_INTEGER = 9;
    static final int SHORT = 10;
    static final int BYTE = 11;
    static final int LOCAL_DATE = 12;
    static final int LOCAL_TIME = 13;
    static final int LOCAL_DATE_TIME = 14;
    static final int OFFSET_DATE_TIME = 15;
    static final int OFFSET_TIME = 16;
    static final int INSTANT = 17;
    static final int UUID_ = 18;
    static final int SQL_TIMESTAMP = 19;
    static final int SQL_DATE = 20;
    /** Branches this reader knows; a higher index comes from a newer writer and fails as unknown. */
    static final int BRANCHES = 21;

    /** The branch of each value class; -1 for a class the format cannot carry. */
    private static final ClassValue<Integer> BRANCH = new ClassValue<>() {
        @Override
        protected Integer computeValue(Class<?> type) {
            if (type == Integer.class) {
                return INT;
            } else if (type == Double.class) {
                return DOUBLE;
            } else if (type == Long.class) {
                return LONG;
            } else if (type == String.class) {
                return STRING;
            } else if (type == BigDecimal.class) {
                return DECIMAL;
            } else if (type == LocalDateTime.class) {
                return LOCAL_DATE_TIME;
            } else if (type == Float.class) {
                return FLOAT;
            } else if (type == Boolean.class) {
                return BOOLEAN;
            } else if (type == byte[].class) {
                return BYTES;
            } else if (type == BigInteger.class) {
                return BIG_INTEGER;
            } else if (type == Short.class) {
                return SHORT;
            } else if (type == Byte.class) {
                return BYTE;
            } else if (type == LocalDate.class) {
                return LOCAL_DATE;
            } else if (type == LocalTime.class) {
                return LOCAL_TIME;
            } else if (type == OffsetDateTime.class) {
                return OFFSET_DATE_TIME;
            } else if (type == OffsetTime.class) {
                return OFFSET_TIME;
            } else if (type == Instant.class) {
                return INSTANT;
            } else if (type == UUID.class) {
                return UUID_;
            } else if (type == java.sql.Timestamp.class) {
                return SQL_TIMESTAMP;
            } else if (type == java.sql.Date.class) {
                return SQL_DATE;
            }
            return -1;
        }
    };

    private ValueCodec() {
    }

    /**
     * @param value a value or null
     * @return whether the format carries it
     */
    static boolean supports(Object value) {
        return value == null || BRANCH.get(value.getClass()) >= 0;
    }

    /**
     * Writes a value.
     *
     * @throws IllegalArgumentException if the format cannot carry the value's class, or a string holds an unpaired
     *     surrogate (UTF-8 cannot encode it; writing it would silently change it)
     */
    static void write(Encoder out, Object v) throws IOException {
        if (v == null) {
            out.writeIndex(NULL);
            return;
        }
        int branch = BRANCH.get(v.getClass());
        if (branch < 0) {
            throw unsupported(v);
        }
        out.writeIndex(branch);
        switch (branch) {
            case INT -> out.writeInt((Integer) v);
            case DOUBLE -> out.writeDouble((Double) v);
            case LONG -> out.writeLong((Long) v);
            case STRING -> out.writeString(checkedString((String) v));
            case DECIMAL -> {
                BigDecimal d = (BigDecimal) v;
                out.writeBytes(d.unscaledValue().toByteArray());
                out.writeInt(d.scale());
            }
            case LOCAL_DATE_TIME -> {
                LocalDateTime t = (LocalDateTime) v;
                out.writeLong(t.toLocalDate().toEpochDay());
                out.writeLong(t.toLocalTime().toNanoOfDay());
            }
            case FLOAT -> out.writeFloat((Float) v);
            case BOOLEAN -> out.writeBoolean((Boolean) v);
            case BYTES -> out.writeBytes((byte[]) v);
            case BIG_INTEGER -> out.writeBytes(((BigInteger) v).toByteArray());
            case SHORT -> out.writeInt((Short) v);
            case BYTE -> out.writeInt((Byte) v);
            case LOCAL_DATE -> out.writeLong(((LocalDate) v).toEpochDay());
            case LOCAL_TIME -> out.writeLong(((LocalTime) v).toNanoOfDay());
            case OFFSET_DATE_TIME -> {
                OffsetDateTime t = (OffsetDateTime) v;
                out.writeLong(t.toLocalDate().toEpochDay());
                out.writeLong(t.toLocalTime().toNanoOfDay());
                out.writeInt(t.getOffset().getTotalSeconds());
            }
            case OFFSET_TIME -> {
                OffsetTime t = (OffsetTime) v;
                out.writeLong(t.toLocalTime().toNanoOfDay());
                out.writeInt(t.getOffset().getTotalSeconds());
            }
            case INSTANT -> {
                Instant i = (Instant) v;
                out.writeLong(i.getEpochSecond());
                out.writeInt(i.getNano());
            }
            case UUID_ -> {
                UUID u = (UUID) v;
                out.writeLong(u.getMostSignificantBits());
                out.writeLong(u.getLeastSignificantBits());
            }
            case SQL_TIMESTAMP -> {
                LocalDateTime t = ((java.sql.Timestamp) v).toLocalDateTime();
                out.writeLong(t.toLocalDate().toEpochDay());
                out.writeLong(t.toLocalTime().toNanoOfDay());
            }
            case SQL_DATE -> out.writeLong(((java.sql.Date) v).toLocalDate().toEpochDay());
            default -> throw unsupported(v);
        }
    }

    private static IllegalArgumentException unsupported(Object v) {
        return new IllegalArgumentException("a " + v.getClass().getName() + " value cannot be handed off: the"
                + " format carries null, Boolean, Integer, Long, Short, Byte, Float, Double, BigDecimal, BigInteger, String,"
                + " byte[], java.time LocalDate/LocalTime/LocalDateTime/OffsetDateTime/OffsetTime/Instant, UUID,"
                + " java.sql.Timestamp and java.sql.Date; convert it in the source query (e.g. CAST(... AS VARCHAR))");
    }

    private static String checkedString(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    throw new IllegalArgumentException("a string holds an unpaired surrogate at index " + i
                            + " (UTF-8 cannot carry it, so it would change on the way)");
                }
            }
        }
        return s;
    }

    /**
     * Reads a value.
     *
     * @throws MalformedRecordException on a branch this reader does not know or an out-of-range field
     * @throws IOException if the bytes end early
     */
    static Object read(Decoder in) throws IOException {
        int branch = in.readIndex();
        try {
            switch (branch) {
                case NULL:
                    in.readNull();
                    return null;
                case INT:
                    return in.readInt();
                case DOUBLE:
                    return in.readDouble();
                case LONG:
                    return in.readLong();
                case STRING:
                    return in.readString();
                case DECIMAL: {
                    BigInteger unscaled = new BigInteger(bytes(in));
                    return new BigDecimal(unscaled, in.readInt());
                }
                case LOCAL_DATE_TIME:
                    return LocalDateTime.of(LocalDate.ofEpochDay(in.readLong()), LocalTime.ofNanoOfDay(in.readLong()));
                case FLOAT:
                    return in.readFloat();
                case BOOLEAN:
                    return in.readBoolean();
                case BYTES:
                    return bytes(in);
                case BIG_INTEGER:
                    return new BigInteger(bytes(in));
                case SHORT:
                    return (short) narrow(in.readInt(), Short.MIN_VALUE, Short.MAX_VALUE, "Short");
                case BYTE:
                    return (byte) narrow(in.readInt(), Byte.MIN_VALUE, Byte.MAX_VALUE, "Byte");
                case LOCAL_DATE:
                    return LocalDate.ofEpochDay(in.readLong());
                case LOCAL_TIME:
                    return LocalTime.ofNanoOfDay(in.readLong());
                case OFFSET_DATE_TIME: {
                    LocalDateTime t = LocalDateTime.of(LocalDate.ofEpochDay(in.readLong()), LocalTime.ofNanoOfDay(in.readLong()));
                    return OffsetDateTime.of(t, ZoneOffset.ofTotalSeconds(in.readInt()));
                }
                case OFFSET_TIME: {
                    LocalTime t = LocalTime.ofNanoOfDay(in.readLong());
                    return OffsetTime.of(t, ZoneOffset.ofTotalSeconds(in.readInt()));
                }
                case INSTANT:
                    return Instant.ofEpochSecond(in.readLong(), in.readInt());
                case UUID_:
                    return new UUID(in.readLong(), in.readLong());
                case SQL_TIMESTAMP:
                    return java.sql.Timestamp.valueOf(LocalDateTime.of(LocalDate.ofEpochDay(in.readLong()),
                            LocalTime.ofNanoOfDay(in.readLong())));
                case SQL_DATE:
                    return java.sql.Date.valueOf(LocalDate.ofEpochDay(in.readLong()));
                default:
                    throw new MalformedRecordException("unknown value type: union branch " + branch + " (this reader knows "
                            + BRANCHES + "; was the record written by a newer relay?)");
            }
        } catch (java.time.DateTimeException | ArithmeticException | NumberFormatException e) {
            throw new MalformedRecordException("a value of union branch " + branch + " is out of range: " + e.getMessage(), e);
        }
    }

    private static int narrow(int v, int min, int max, String type) {
        if (v < min || v > max) {
            throw new MalformedRecordException("a " + type + " value " + v + " is out of range");
        }
        return v;
    }

    private static byte[] bytes(Decoder in) throws IOException {
        ByteBuffer b = in.readBytes(null);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
