/*
 * streams._copy_rows: the compiled twins of streams.copy_rows.encode_rows_python and
 * first_out_of_range_python.
 *
 * encode_rows writes process rows as tuples of PostgreSQL's binary COPY format, as psycopg's
 * Copy.write_row does, byte for byte (the tests hold it to psycopg), a listing at a time:
 * written row by row, the call and the coroutine of each row cost the worker more than
 * the encoding itself.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef enum { INT8, INT4, TEXT, FLOAT4, FLOAT8, TIMESTAMPTZ } ColumnType;

#define MAX_COLUMNS 64
/* date(2000, 1, 1).toordinal(): PostgreSQL's epoch of binary timestamps. */
#define POSTGRES_EPOCH_ORDINAL 730120

typedef struct {
    char *data;
    Py_ssize_t size;
    Py_ssize_t capacity;
} Buffer;

static int
reserve(Buffer *buffer, Py_ssize_t more)
{
    if (buffer->size + more <= buffer->capacity) {
        return 0;
    }
    Py_ssize_t capacity = buffer->capacity ? buffer->capacity : 8192;
    while (capacity < buffer->size + more) {
        capacity *= 2;
    }
    char *data = PyMem_Realloc(buffer->data, capacity);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

/* Appends the size lowest bytes of value, most significant first (network order). */
static void
put_big_endian(Buffer *buffer, uint64_t value, int size)
{
    unsigned char *out = (unsigned char *)buffer->data + buffer->size;
    for (int i = 0; i < size; i++) {
        out[i] = (unsigned char)(value >> (8 * (size - 1 - i)));
    }
    buffer->size += size;
}

/* Days from 0001-01-01 to the first of January of year. */
static long long
days_before_year(long long year)
{
    long long y = year - 1;
    return y * 365 + y / 4 - y / 100 + y / 400;
}

static const int DAYS_BEFORE_MONTH[] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

/* As date(year, month, day).toordinal(). */
static long long
ordinal(int year, int month, int day)
{
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return days_before_year(year) + DAYS_BEFORE_MONTH[month] + (month > 2 && leap) + day;
}

/* Microseconds from 2000-01-01 UTC to an aware datetime; -1 with an error set on failure. */
static int
timestamp_of(PyObject *value, int64_t *microseconds)
{
    if (!PyDateTime_Check(value)) {
        PyErr_Format(PyExc_TypeError, "timestamptz: expected a datetime, got %R", value);
        return -1;
    }
    PyObject *tzinfo = PyDateTime_DATE_GET_TZINFO(value);
    int64_t offset = 0;
    if (tzinfo == Py_None) {
        PyErr_Format(PyExc_ValueError, "timestamptz: naive datetime %R", value);
        return -1;
    }
    if (tzinfo != PyDateTime_TimeZone_UTC) {
        PyObject *delta = PyObject_CallMethod(value, "utcoffset", NULL);
        if (delta == NULL) {
            return -1;
        }
        if (!PyDelta_Check(delta)) {
            Py_DECREF(delta);
            PyErr_Format(PyExc_ValueError, "timestamptz: no UTC offset for %R", value);
            return -1;
        }
        offset = ((int64_t)PyDateTime_DELTA_GET_DAYS(delta) * 86400
                  + PyDateTime_DELTA_GET_SECONDS(delta)) * 1000000
                 + PyDateTime_DELTA_GET_MICROSECONDS(delta);
        Py_DECREF(delta);
    }
    int64_t days = ordinal(PyDateTime_GET_YEAR(value), PyDateTime_GET_MONTH(value),
                           PyDateTime_GET_DAY(value)) - POSTGRES_EPOCH_ORDINAL;
    int64_t seconds = ((days * 24 + PyDateTime_DATE_GET_HOUR(value)) * 60
                       + PyDateTime_DATE_GET_MINUTE(value)) * 60
                      + PyDateTime_DATE_GET_SECOND(value);
    *microseconds = seconds * 1000000 + PyDateTime_DATE_GET_MICROSECOND(value) - offset;
    return 0;
}

/* Appends one field: its length, then its value; -1 with an error set on failure. */
static int
put_field(Buffer *buffer, ColumnType type, PyObject *value)
{
    if (reserve(buffer, 12) < 0) {
        return -1;
    }
    if (value == Py_None) {
        put_big_endian(buffer, UINT32_MAX, 4);
        return 0;
    }
    switch (type) {
    case INT8: {
        long long number = PyLong_AsLongLong(value);
        if (number == -1 && PyErr_Occurred()) {
            return -1;
        }
        put_big_endian(buffer, 8, 4);
        put_big_endian(buffer, (uint64_t)number, 8);
        return 0;
    }
    case INT4: {
        long long number = PyLong_AsLongLong(value);
        if (number == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (number < INT32_MIN || number > INT32_MAX) {
            PyErr_Format(PyExc_OverflowError, "int4: %lld is out of range", number);
            return -1;
        }
        put_big_endian(buffer, 4, 4);
        put_big_endian(buffer, (uint32_t)(int32_t)number, 4);
        return 0;
    }
    case TEXT: {
        if (!PyUnicode_Check(value)) {
            PyErr_Format(PyExc_TypeError, "text: expected a str, got %R", value);
            return -1;
        }
        Py_ssize_t length;
        const char *text = PyUnicode_AsUTF8AndSize(value, &length);
        if (text == NULL) {
            return -1;
        }
        if (length > INT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "text: longer than a field can be");
            return -1;
        }
        if (reserve(buffer, 4 + length) < 0) {
            return -1;
        }
        put_big_endian(buffer, (uint32_t)length, 4);
        memcpy(buffer->data + buffer->size, text, length);
        buffer->size += length;
        return 0;
    }
    case FLOAT4:
    case FLOAT8: {
        double number = PyFloat_AsDouble(value);
        if (number == -1.0 && PyErr_Occurred()) {
            return -1;
        }
        if (type == FLOAT8) {
            uint64_t bits;
            memcpy(&bits, &number, 8);
            put_big_endian(buffer, 8, 4);
            put_big_endian(buffer, bits, 8);
            return 0;
        }
        float single = (float)number;
        if (isinf(single) && !isinf(number)) {
            PyErr_Format(PyExc_OverflowError, "float4: %R is out of range", value);
            return -1;
        }
        uint32_t bits;
        memcpy(&bits, &single, 4);
        put_big_endian(buffer, 4, 4);
        put_big_endian(buffer, bits, 4);
        return 0;
    }
    default: { /* TIMESTAMPTZ */
        int64_t microseconds;
        if (timestamp_of(value, &microseconds) < 0) {
            return -1;
        }
        put_big_endian(buffer, 8, 4);
        put_big_endian(buffer, (uint64_t)microseconds, 8);
        return 0;
    }
    }
}

static int
read_types(PyObject *names, ColumnType *types, Py_ssize_t *count)
{
    static const char *NAMES[] = {"int8", "int4", "text", "float4", "float8", "timestamptz"};
    if (!PyTuple_Check(names) || PyTuple_GET_SIZE(names) > MAX_COLUMNS) {
        PyErr_Format(PyExc_ValueError, "types: a tuple of at most %d names", MAX_COLUMNS);
        return -1;
    }
    *count = PyTuple_GET_SIZE(names);
    for (Py_ssize_t i = 0; i < *count; i++) {
        const char *name = PyUnicode_Check(PyTuple_GET_ITEM(names, i))
                               ? PyUnicode_AsUTF8(PyTuple_GET_ITEM(names, i))
                               : NULL;
        int found = -1;
        for (int kind = INT8; name != NULL && kind <= TIMESTAMPTZ; kind++) {
            if (strcmp(name, NAMES[kind]) == 0) {
                found = kind;
            }
        }
        if (found < 0) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "types: %R is not one this encoder writes",
                         PyTuple_GET_ITEM(names, i));
            return -1;
        }
        types[i] = (ColumnType)found;
    }
    return 0;
}

PyDoc_STRVAR(encode_rows_doc,
"encode_rows(head, rows, types, truncated, tails)\n--\n\n"
"The binary COPY tuples of head + row[:-1] + tail for each of rows (with its tail, of the\n"
"list tails) whose last field is empty; the indexes of the others are appended to\n"
"truncated. See streams.copy_rows.encode_rows_python.");

static PyObject *
encode_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "encode_rows takes 5 arguments");
        return NULL;
    }
    PyObject *head = args[0];
    PyObject *rows = args[1];
    PyObject *truncated = args[3];
    PyObject *tails = args[4];
    if (!PyTuple_Check(head) || !PyList_Check(rows) || !PyList_Check(truncated) ||
        !PyList_Check(tails)) {
        PyErr_SetString(PyExc_TypeError,
                        "encode_rows: head a tuple, rows, truncated and tails lists");
        return NULL;
    }
    if (PyList_GET_SIZE(tails) != PyList_GET_SIZE(rows)) {
        PyErr_SetString(PyExc_ValueError, "encode_rows: a tail for each row");
        return NULL;
    }
    ColumnType types[MAX_COLUMNS];
    Py_ssize_t column_count;
    if (read_types(args[2], types, &column_count) < 0) {
        return NULL;
    }
    Py_ssize_t head_count = PyTuple_GET_SIZE(head);
    Buffer buffer = {NULL, 0, 0};
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(rows); index++) {
        PyObject *row = PyList_GET_ITEM(rows, index);
        PyObject *tail = PyList_GET_ITEM(tails, index);
        if (!PyTuple_Check(tail)) {
            PyErr_Format(PyExc_ValueError, "tail %zd: not a tuple", index);
            goto error;
        }
        Py_ssize_t tail_count = PyTuple_GET_SIZE(tail);
        Py_ssize_t row_count = column_count - head_count - tail_count;
        if (!PyTuple_Check(row) || row_count < 0 || PyTuple_GET_SIZE(row) != row_count + 1) {
            PyErr_Format(PyExc_ValueError, "row %zd: not a tuple of %zd fields", index,
                         row_count + 1);
            goto error;
        }
        int is_truncated = PyObject_IsTrue(PyTuple_GET_ITEM(row, row_count));
        if (is_truncated < 0) {
            goto error;
        }
        if (is_truncated) {
            PyObject *position = PyLong_FromSsize_t(index);
            if (position == NULL || PyList_Append(truncated, position) < 0) {
                Py_XDECREF(position);
                goto error;
            }
            Py_DECREF(position);
            continue;
        }
        if (reserve(&buffer, 2) < 0) {
            goto error;
        }
        put_big_endian(&buffer, (uint16_t)column_count, 2);
        for (Py_ssize_t column = 0; column < column_count; column++) {
            PyObject *value;
            if (column < head_count) {
                value = PyTuple_GET_ITEM(head, column);
            } else if (column < head_count + row_count) {
                value = PyTuple_GET_ITEM(row, column - head_count);
            } else {
                value = PyTuple_GET_ITEM(tail, column - head_count - row_count);
            }
            if (put_field(&buffer, types[column], value) < 0) {
                goto error;
            }
        }
    }
    PyObject *encoded = PyBytes_FromStringAndSize(buffer.data, buffer.size);
    PyMem_Free(buffer.data);
    return encoded;
error:
    PyMem_Free(buffer.data);
    return NULL;
}

PyDoc_STRVAR(first_out_of_range_doc,
"first_out_of_range(rows, columns)\n--\n\n"
"(row index, field index) of the first value of rows (in row, then column order) that is\n"
"not None and not an int its column's type holds, or None. See\n"
"streams.copy_rows.first_out_of_range_python.");

static PyObject *
first_out_of_range(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_Check(args[0]) || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "first_out_of_range takes a list and a tuple");
        return NULL;
    }
    PyObject *rows = args[0];
    PyObject *columns = args[1];
    Py_ssize_t indexes[MAX_COLUMNS];
    int is_int4[MAX_COLUMNS];
    Py_ssize_t count = PyTuple_GET_SIZE(columns);
    if (count > MAX_COLUMNS) {
        PyErr_SetString(PyExc_ValueError, "first_out_of_range: too many columns");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *column = PyTuple_GET_ITEM(columns, i);
        const char *name;
        if (!PyTuple_Check(column) || PyTuple_GET_SIZE(column) != 2 ||
            (indexes[i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(column, 0))) < 0 ||
            !PyUnicode_Check(PyTuple_GET_ITEM(column, 1)) ||
            (name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(column, 1))) == NULL ||
            (strcmp(name, "int4") != 0 && strcmp(name, "int8") != 0)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "column %zd: not an (index, 'int4' or 'int8') pair", i);
            return NULL;
        }
        is_int4[i] = strcmp(name, "int4") == 0;
    }
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(rows); index++) {
        PyObject *row = PyList_GET_ITEM(rows, index);
        if (!PyTuple_Check(row)) {
            PyErr_Format(PyExc_ValueError, "row %zd: not a tuple", index);
            return NULL;
        }
        for (Py_ssize_t i = 0; i < count; i++) {
            if (indexes[i] >= PyTuple_GET_SIZE(row)) {
                PyErr_Format(PyExc_ValueError, "row %zd: no field %zd", index, indexes[i]);
                return NULL;
            }
            PyObject *value = PyTuple_GET_ITEM(row, indexes[i]);
            if (value == Py_None) {
                continue;
            }
            int overflow = 0;
            long long number = PyLong_Check(value) ? PyLong_AsLongLongAndOverflow(value, &overflow)
                                                   : 0;
            if (number == -1 && PyErr_Occurred()) {
                return NULL;
            }
            int fits = PyLong_Check(value) && !overflow &&
                       (!is_int4[i] || (number >= INT32_MIN && number <= INT32_MAX));
            if (!fits) {
                return Py_BuildValue("(nn)", index, indexes[i]);
            }
        }
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"encode_rows", (PyCFunction)(void (*)(void))encode_rows, METH_FASTCALL, encode_rows_doc},
    {"first_out_of_range", (PyCFunction)(void (*)(void))first_out_of_range, METH_FASTCALL,
     first_out_of_range_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "streams._copy_rows",
    .m_doc = "The compiled twins of streams.copy_rows' encode_rows and first_out_of_range.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__copy_rows(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return NULL;
    }
    return PyModule_Create(&module);
}
