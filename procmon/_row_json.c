/*
 * procmon._row_json: the compiled twin of procmon.row_json's msgspec writer.
 *
 * It writes tuples (process rows) as JSON objects keyed by the given names, the bytes the
 * msgspec writer gives (the tests hold the two to it), with no object made per row: for
 * `procmon parse`, a program compared with jc, making a msgspec Struct of each row and then
 * respelling its times cost twice the parsing of a ps -ef line.
 *
 * The values a parser's rows hold are written here: None, bools, ints that fit 64 bits,
 * floats of up to four decimals below 1e9, text, aware datetimes at a whole-minute offset,
 * and tuples or lists of text. Any other value is given to the caller's fallback, which
 * returns its JSON as bytes; that keeps rare spellings (1e-05 as 0.00001, big ints, offsets
 * with seconds) to the library that defines them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_KEYS 64
/* The decimals a float is tried with before the fallback, and the bound below which they
 * are exact: under 1e9 with four decimals, the scaled value stays far inside the 53 bits
 * of a double, so the nearest whole number is the only candidate of that many decimals. */
#define MAX_DECIMALS 4
#define FAST_FLOAT_BOUND 1e9

/* Output written straight into the bytes object returned, grown as it fills. */
typedef struct {
    PyObject *bytes;
    char *data;
    Py_ssize_t size;
    Py_ssize_t capacity;
} Buffer;

static int
grow(Buffer *buffer, Py_ssize_t more)
{
    Py_ssize_t capacity = buffer->capacity ? buffer->capacity : 8192;
    while (capacity < buffer->size + more) {
        capacity *= 2;
    }
    if (buffer->bytes == NULL) {
        buffer->bytes = PyBytes_FromStringAndSize(NULL, capacity);
        if (buffer->bytes == NULL) {
            return -1;
        }
    } else if (_PyBytes_Resize(&buffer->bytes, capacity) < 0) {
        return -1;
    }
    buffer->data = PyBytes_AS_STRING(buffer->bytes);
    buffer->capacity = capacity;
    return 0;
}

static inline int
reserve(Buffer *buffer, Py_ssize_t more)
{
    return buffer->size + more <= buffer->capacity ? 0 : grow(buffer, more);
}

static inline int
put(Buffer *buffer, const char *bytes, Py_ssize_t size)
{
    if (reserve(buffer, size) < 0) {
        return -1;
    }
    memcpy(buffer->data + buffer->size, bytes, size);
    buffer->size += size;
    return 0;
}

/* The bytes written, the buffer then empty; NULL with an error set on failure. */
static PyObject *
finish(Buffer *buffer)
{
    if (buffer->bytes == NULL) {
        return PyBytes_FromStringAndSize("", 0);
    }
    PyObject *bytes = buffer->bytes;
    buffer->bytes = NULL;
    return _PyBytes_Resize(&bytes, buffer->size) < 0 ? NULL : bytes;
}

/* How msgspec escapes each byte of UTF-8 text: 0 not at all, 'u' as \u00XX, else \ and it. */
static const char ESCAPES[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
};

static const char HEX[] = "0123456789abcdef";

/* Whether any of the eight bytes of word needs escaping: below 0x20, a quote or a backslash
 * (bytes from 0x80 on, of UTF-8 sequences, never do). Most text has none, so it is checked
 * a word at a time and copied whole. */
static inline int
needs_escape(uint64_t word)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quotes = word ^ (ones * '"'), backslashes = word ^ (ones * '\\');
    uint64_t found = ((word - ones * 0x20) & ~word) | ((quotes - ones) & ~quotes)
                     | ((backslashes - ones) & ~backslashes);
    return (found & highs) != 0;
}

/* Appends text as a JSON string; -1 with an error set on failure. */
static int
put_text(Buffer *buffer, PyObject *text)
{
    Py_ssize_t size;
    const char *bytes = PyUnicode_AsUTF8AndSize(text, &size);
    if (bytes == NULL) {
        return -1;
    }
    /* Every byte escaped at most as \u00XX, and the two quotes. */
    if (reserve(buffer, 6 * size + 2) < 0) {
        return -1;
    }
    char *out = buffer->data + buffer->size;
    *out++ = '"';
    Py_ssize_t i = 0;
    while (i + 8 <= size) {
        uint64_t word;
        memcpy(&word, bytes + i, 8);
        if (needs_escape(word)) {
            break;
        }
        i += 8;
    }
    memcpy(out, bytes, i);
    out += i;
    Py_ssize_t start = i;
    for (; i < size; i++) {
        char escape = ESCAPES[(unsigned char)bytes[i]];
        if (escape == 0) {
            continue;
        }
        memcpy(out, bytes + start, i - start);
        out += i - start;
        start = i + 1;
        *out++ = '\\';
        if (escape == 'u') {
            unsigned char c = (unsigned char)bytes[i];
            memcpy(out, "u00", 3);
            out[3] = HEX[c >> 4];
            out[4] = HEX[c & 15];
            out += 5;
        } else {
            *out++ = escape;
        }
    }
    memcpy(out, bytes + start, size - start);
    out += size - start;
    *out++ = '"';
    buffer->size = out - buffer->data;
    return 0;
}

static const char DIGIT_PAIRS[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Writes the digits of value, at least width of them (zeros first), at out; their count. */
static int
digits_of(unsigned long long value, int width, char *out)
{
    char reversed[24];
    char *end = reversed + sizeof(reversed), *start = end;
    while (value >= 100) {
        start -= 2;
        memcpy(start, DIGIT_PAIRS + 2 * (value % 100), 2);
        value /= 100;
    }
    if (value >= 10) {
        start -= 2;
        memcpy(start, DIGIT_PAIRS + 2 * value, 2);
    } else {
        *--start = (char)('0' + value);
    }
    while (end - start < width) {
        *--start = '0';
    }
    memcpy(out, start, end - start);
    return (int)(end - start);
}

/* Writes value, below 100, as two digits at out. */
static inline void
two_digits(int value, char *out)
{
    memcpy(out, DIGIT_PAIRS + 2 * value, 2);
}

static int
put_integer(Buffer *buffer, long long value)
{
    if (reserve(buffer, 21) < 0) {
        return -1;
    }
    char *out = buffer->data + buffer->size;
    unsigned long long magnitude = (unsigned long long)value;
    if (value < 0) {
        *out++ = '-';
        magnitude = 0 - magnitude;
    }
    out += digits_of(magnitude, 1, out);
    buffer->size = out - buffer->data;
    return 0;
}

static const double POWERS_OF_TEN[MAX_DECIMALS + 1] = {1.0, 10.0, 100.0, 1000.0, 10000.0};

/* Appends value as msgspec spells it when it has up to MAX_DECIMALS decimals and lies below
 * FAST_FLOAT_BOUND: its shortest decimals, at least one ("2.0"). 1 if it does not; -1 on
 * failure. The fewest decimals that read back as value are its shortest spelling. */
static int
put_float(Buffer *buffer, double value)
{
    double magnitude = fabs(value);
    if (!(magnitude < FAST_FLOAT_BOUND)) {
        return 1;
    }
    for (int decimals = 0; decimals <= MAX_DECIMALS; decimals++) {
        double scale = POWERS_OF_TEN[decimals];
        double scaled = nearbyint(magnitude * scale);
        if (scaled / scale != magnitude) {
            continue;
        }
        if (reserve(buffer, 32) < 0) {
            return -1;
        }
        char *out = buffer->data + buffer->size;
        if (signbit(value)) {
            *out++ = '-';
        }
        unsigned long long whole = (unsigned long long)scaled;
        unsigned long long units = (unsigned long long)scale;
        out += digits_of(whole / units, 1, out);
        *out++ = '.';
        if (decimals == 0) {
            *out++ = '0';
        } else {
            out += digits_of(whole % units, decimals, out);
        }
        buffer->size = out - buffer->data;
        return 0;
    }
    return 1;
}

/* The UTC offset of an aware datetime in whole minutes, in *minutes; 1 if it is naive or
 * its offset is not whole minutes, -1 with an error set on failure. */
static int
offset_minutes(PyObject *value, int *minutes)
{
    PyObject *tzinfo = PyDateTime_DATE_GET_TZINFO(value);
    if (tzinfo == PyDateTime_TimeZone_UTC) {
        *minutes = 0;
        return 0;
    }
    if (tzinfo == Py_None) {
        return 1;
    }
    PyObject *delta = PyObject_CallMethod(value, "utcoffset", NULL);
    if (delta == NULL) {
        return -1;
    }
    int result = 1;
    if (PyDelta_Check(delta) && PyDateTime_DELTA_GET_MICROSECONDS(delta) == 0) {
        long long seconds = (long long)PyDateTime_DELTA_GET_DAYS(delta) * 86400
                            + PyDateTime_DELTA_GET_SECONDS(delta);
        if (seconds % 60 == 0) {
            *minutes = (int)(seconds / 60);
            result = 0;
        }
    }
    Py_DECREF(delta);
    return result;
}

/* Appends an aware datetime as isoformat writes it: YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM.
 * 1 if its offset is not whole minutes (or it is naive); -1 on failure. */
static int
put_datetime(Buffer *buffer, PyObject *value)
{
    int minutes;
    int found = offset_minutes(value, &minutes);
    if (found != 0) {
        return found;
    }
    if (reserve(buffer, 40) < 0) {
        return -1;
    }
    char *out = buffer->data + buffer->size;
    int year = PyDateTime_GET_YEAR(value);
    out[0] = '"';
    two_digits(year / 100, out + 1);
    two_digits(year % 100, out + 3);
    out[5] = '-';
    two_digits(PyDateTime_GET_MONTH(value), out + 6);
    out[8] = '-';
    two_digits(PyDateTime_GET_DAY(value), out + 9);
    out[11] = 'T';
    two_digits(PyDateTime_DATE_GET_HOUR(value), out + 12);
    out[14] = ':';
    two_digits(PyDateTime_DATE_GET_MINUTE(value), out + 15);
    out[17] = ':';
    two_digits(PyDateTime_DATE_GET_SECOND(value), out + 18);
    out += 20;
    int microsecond = PyDateTime_DATE_GET_MICROSECOND(value);
    if (microsecond != 0) {
        *out++ = '.';
        out += digits_of(microsecond, 6, out);
    }
    *out++ = minutes < 0 ? '-' : '+';
    int magnitude = minutes < 0 ? -minutes : minutes;
    two_digits(magnitude / 60, out);
    out[2] = ':';
    two_digits(magnitude % 60, out + 3);
    out[5] = '"';
    out += 6;
    buffer->size = out - buffer->data;
    return 0;
}

/* Appends a tuple or list whose items are all text; 1 if one is not, -1 on failure. */
static int
put_texts(Buffer *buffer, PyObject *items)
{
    Py_ssize_t count = PySequence_Fast_GET_SIZE(items);
    PyObject **item = PySequence_Fast_ITEMS(items);
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!PyUnicode_Check(item[i])) {
            return 1;
        }
    }
    if (put(buffer, "[", 1) < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if ((i > 0 && put(buffer, ",", 1) < 0) || put_text(buffer, item[i]) < 0) {
            return -1;
        }
    }
    return put(buffer, "]", 1);
}

/* Appends what fallback(value) returns, which must be bytes; -1 on failure. */
static int
put_fallback(Buffer *buffer, PyObject *fallback, PyObject *value)
{
    PyObject *encoded = PyObject_CallOneArg(fallback, value);
    if (encoded == NULL) {
        return -1;
    }
    if (!PyBytes_Check(encoded)) {
        PyErr_Format(PyExc_TypeError, "fallback: returned %R for %R, not bytes", encoded, value);
        Py_DECREF(encoded);
        return -1;
    }
    int result = put(buffer, PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded));
    Py_DECREF(encoded);
    return result;
}

/* Appends one value, by the fallback where it is none of the kinds written here. */
static int
put_value(Buffer *buffer, PyObject *value, PyObject *fallback)
{
    int result = 1;
    if (value == Py_None) {
        return put(buffer, "null", 4);
    }
    if (value == Py_True) {
        return put(buffer, "true", 4);
    }
    if (value == Py_False) {
        return put(buffer, "false", 5);
    }
    if (PyUnicode_Check(value)) {
        /* Text, and str enums (ProcessStatus), which msgspec writes by their value: their
         * text. */
        return put_text(buffer, value);
    }
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (number == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (!overflow) {
            return put_integer(buffer, number);
        }
    } else if (PyFloat_CheckExact(value)) {
        result = put_float(buffer, PyFloat_AS_DOUBLE(value));
    } else if (PyDateTime_CheckExact(value)) {
        result = put_datetime(buffer, value);
    } else if (PyTuple_CheckExact(value) || PyList_CheckExact(value)) {
        result = put_texts(buffer, value);
    }
    return result == 1 ? put_fallback(buffer, fallback, value) : result;
}

PyDoc_STRVAR(encode_objects_doc,
"encode_objects(rows, keys, separator, end, fallback, /)\n"
"--\n\n"
"The JSON objects of rows (tuples of len(keys) values, keyed by keys in order), joined\n"
"by separator, then end when there are rows. Values that are not None, bools, text, ints of 64 bits, floats of up to\n"
"four decimals below 1e9, datetimes at a whole-minute UTC offset or tuples and lists of\n"
"text are written as fallback(value) returns them (bytes).");

static PyObject *
encode_objects(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "encode_objects takes 5 arguments");
        return NULL;
    }
    PyObject *rows = args[0], *keys = args[1], *separator = args[2], *end = args[3];
    PyObject *fallback = args[4];
    if (!PyList_Check(rows)) {
        PyErr_SetString(PyExc_TypeError, "rows: a list of tuples");
        return NULL;
    }
    if (!PyTuple_Check(keys) || PyTuple_GET_SIZE(keys) == 0 || PyTuple_GET_SIZE(keys) > MAX_KEYS) {
        PyErr_Format(PyExc_ValueError, "keys: a tuple of 1 to %d names", MAX_KEYS);
        return NULL;
    }
    if (!PyBytes_Check(separator) || !PyBytes_Check(end)) {
        PyErr_SetString(PyExc_TypeError, "separator, end: bytes");
        return NULL;
    }
    Py_ssize_t key_count = PyTuple_GET_SIZE(keys);
    /* Each key's text as written before its value: {"name": for the first, ,"name": after. */
    Buffer prefixes = {NULL, NULL, 0, 0};
    Py_ssize_t ends[MAX_KEYS];
    Buffer buffer = {NULL, NULL, 0, 0};
    PyObject *result = NULL;
    /* About what a process row takes, so that the buffer seldom grows. */
    if (reserve(&buffer, 512 * PyList_GET_SIZE(rows)) < 0) {
        return NULL;
    }
    for (Py_ssize_t k = 0; k < key_count; k++) {
        PyObject *key = PyTuple_GET_ITEM(keys, k);
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "keys: %R is not text", key);
            goto done;
        }
        if (put(&prefixes, k == 0 ? "{" : ",", 1) < 0 || put_text(&prefixes, key) < 0
            || put(&prefixes, ":", 1) < 0) {
            goto done;
        }
        ends[k] = prefixes.size;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != key_count) {
            PyErr_Format(PyExc_ValueError, "row %zd: not a tuple of %zd values", i, key_count);
            goto done;
        }
        if (i > 0 && put(&buffer, PyBytes_AS_STRING(separator), PyBytes_GET_SIZE(separator)) < 0) {
            goto done;
        }
        /* The fallback runs Python code, which could drop the list's hold on the row. */
        Py_INCREF(row);
        Py_ssize_t start = 0;
        int failed = 0;
        for (Py_ssize_t k = 0; k < key_count && !failed; k++) {
            failed = put(&buffer, prefixes.data + start, ends[k] - start) < 0
                     || put_value(&buffer, PyTuple_GET_ITEM(row, k), fallback) < 0;
            start = ends[k];
        }
        Py_DECREF(row);
        if (failed || put(&buffer, "}", 1) < 0) {
            goto done;
        }
    }
    if (buffer.size > 0 && put(&buffer, PyBytes_AS_STRING(end), PyBytes_GET_SIZE(end)) < 0) {
        goto done;
    }
    result = finish(&buffer);
done:
    Py_XDECREF(prefixes.bytes);
    Py_XDECREF(buffer.bytes);
    return result;
}

static PyMethodDef methods[] = {
    {"encode_objects", (PyCFunction)(void (*)(void))encode_objects, METH_FASTCALL,
     encode_objects_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "procmon._row_json",
    .m_doc = "The compiled twin of procmon.row_json's msgspec writer.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__row_json(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return NULL;
    }
    return PyModule_Create(&module);
}
