/*
 * parsers._row_assembly: the compiled twin of parsers.row_assembly.assemble_rows_python.
 *
 * It reads whitespace-separated listings (ps aux, ps -ef) a line at a time, as the Python
 * version does, with the same results and the same refusals; the tests hold the two to it.
 * Compiled because a row made in Python costs about 1 µs of interpreter work, most of a ps
 * line's parsing; here the line is scanned once and only the values kept become objects.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The kinds of plan entries: parsers.row_assembly.Source, in the same order. */
enum { LINE_NUMBER = 0, CONSTANT = 1, TEXT = 2, COUNT = 3, LOOKUP = 4, PROGRAM_LOOKUP = 5 };

#define MAX_COLUMNS 64
#define MAX_FIELDS 32
/* parsers.values.integer reads at most 15 digits: a value that fits a C long long. */
#define MAX_DIGITS 15

/* A plan entry read; its objects are borrowed from the plan, which the caller holds. */
typedef struct {
    int kind;
    Py_ssize_t field;
    PyObject *constant;  /* CONSTANT */
    long long multiplier; /* COUNT */
    PyObject *memo;      /* LOOKUP, PROGRAM_LOOKUP */
    PyObject *reader;    /* LOOKUP, PROGRAM_LOOKUP */
} Column;

/* Reads the plan's entries, (kind, field, argument) each, into columns; -1 on a bad plan. */
static int
read_plan(PyObject *plan, Py_ssize_t field_count, Column *columns, Py_ssize_t *column_count)
{
    if (!PyTuple_Check(plan) || PyTuple_GET_SIZE(plan) > MAX_COLUMNS) {
        PyErr_Format(PyExc_ValueError, "plan: a tuple of at most %d entries", MAX_COLUMNS);
        return -1;
    }
    *column_count = PyTuple_GET_SIZE(plan);
    for (Py_ssize_t i = 0; i < *column_count; i++) {
        PyObject *entry = PyTuple_GET_ITEM(plan, i);
        Column *column = &columns[i];
        if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 3) {
            PyErr_Format(PyExc_ValueError, "plan entry %zd: not a (kind, field, argument)", i);
            return -1;
        }
        column->kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(entry, 0));
        column->field = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 1));
        if (PyErr_Occurred()) {
            return -1;
        }
        if (column->kind < LINE_NUMBER || column->kind > PROGRAM_LOOKUP) {
            PyErr_Format(PyExc_ValueError, "plan entry %zd: unknown kind", i);
            return -1;
        }
        if (column->kind >= TEXT && (column->field < 0 || column->field >= field_count)) {
            PyErr_Format(PyExc_ValueError, "plan entry %zd: no field %zd", i, column->field);
            return -1;
        }
        PyObject *argument = PyTuple_GET_ITEM(entry, 2);
        column->constant = argument;
        if (column->kind == COUNT) {
            column->multiplier = PyLong_AsLongLong(argument);
            if (PyErr_Occurred()) {
                return -1;
            }
            if (column->multiplier < 1 || column->multiplier > 1024) {
                PyErr_Format(PyExc_ValueError, "plan entry %zd: multiplier not in 1..1024", i);
                return -1;
            }
        }
        if (column->kind == LOOKUP || column->kind == PROGRAM_LOOKUP) {
            if (!PyTuple_Check(argument) || PyTuple_GET_SIZE(argument) != 2
                || !PyDict_CheckExact(PyTuple_GET_ITEM(argument, 0))
                || !PyCallable_Check(PyTuple_GET_ITEM(argument, 1))) {
                PyErr_Format(PyExc_ValueError, "plan entry %zd: not a (dict, reader)", i);
                return -1;
            }
            column->memo = PyTuple_GET_ITEM(argument, 0);
            column->reader = PyTuple_GET_ITEM(argument, 1);
        }
    }
    return 0;
}

/*
 * Finds the fields of line as str.split(None, field_count - 1) does, the last one then
 * right-stripped; returns how many were found (0 for a blank line).
 */
static Py_ssize_t
split_line(PyObject *line, Py_ssize_t field_count, Py_ssize_t *starts, Py_ssize_t *ends)
{
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    Py_ssize_t length = PyUnicode_GET_LENGTH(line);
    Py_ssize_t i = 0;
    Py_ssize_t found = 0;
    while (found < field_count - 1) {
        while (i < length && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) {
            i++;
        }
        if (i == length) {
            return found;
        }
        starts[found] = i;
        while (i < length && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) {
            i++;
        }
        ends[found++] = i;
    }
    while (i < length && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) {
        i++;
    }
    if (i == length) {
        return found;
    }
    Py_ssize_t end = length;
    while (Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, end - 1))) {
        end--;
    }
    starts[found] = i;
    ends[found++] = end;
    return found;
}

/* The value of a run of 1 to 15 ASCII digits, or -1 for anything else. */
static long long
count_of(PyObject *line, Py_ssize_t start, Py_ssize_t end)
{
    if (end - start > MAX_DIGITS) {
        return -1;
    }
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    long long value = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 character = PyUnicode_READ(kind, data, i);
        if (character < '0' || character > '9') {
            return -1;
        }
        value = value * 10 + (character - '0');
    }
    return value;
}

/* memo[key], or reader(key) remembered there: a new reference, NULL with an error set. */
static PyObject *
remembered(PyObject *memo, PyObject *reader, PyObject *key)
{
    PyObject *value = PyDict_GetItemWithError(memo, key);
    if (value != NULL) {
        return Py_NewRef(value);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    value = PyObject_CallOneArg(reader, key);
    if (value != NULL && PyDict_SetItem(memo, key, value) < 0) {
        Py_CLEAR(value);
    }
    return value;
}

/* The program of a command line: its first word, or all of it when it begins with "[". */
static PyObject *
program_of(PyObject *line, Py_ssize_t start, Py_ssize_t end)
{
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    if (PyUnicode_READ(kind, data, start) != '[') {
        for (Py_ssize_t i = start; i < end; i++) {
            if (PyUnicode_READ(kind, data, i) == ' ') {
                return PyUnicode_Substring(line, start, i);
            }
        }
    }
    return PyUnicode_Substring(line, start, end);
}

/* The text of field, made once per line: a borrowed reference kept in texts. */
static PyObject *
field_text(PyObject *line, Py_ssize_t field, const Py_ssize_t *starts, const Py_ssize_t *ends,
           PyObject **texts)
{
    if (texts[field] == NULL) {
        texts[field] = PyUnicode_Substring(line, starts[field], ends[field]);
    }
    return texts[field];
}

/*
 * The value of column for one line: a new reference; NULL with an error set, or NULL with
 * *refused set when the line does not read (a bad count, a reader's ValueError).
 */
static PyObject *
column_value(const Column *column, PyObject *line, Py_ssize_t line_number,
             const Py_ssize_t *starts, const Py_ssize_t *ends, PyObject **texts, int *refused)
{
    PyObject *key = NULL;
    PyObject *value;
    switch (column->kind) {
    case LINE_NUMBER:
        return PyLong_FromSsize_t(line_number);
    case CONSTANT:
        return Py_NewRef(column->constant);
    case TEXT:
        value = field_text(line, column->field, starts, ends, texts);
        return value == NULL ? NULL : Py_NewRef(value);
    case COUNT: {
        long long count = count_of(line, starts[column->field], ends[column->field]);
        if (count < 0) {
            *refused = 1;
            return NULL;
        }
        return PyLong_FromLongLong(count * column->multiplier);
    }
    case LOOKUP:
        key = field_text(line, column->field, starts, ends, texts);
        value = key == NULL ? NULL : remembered(column->memo, column->reader, key);
        break;
    default: /* PROGRAM_LOOKUP */
        key = program_of(line, starts[column->field], ends[column->field]);
        value = key == NULL ? NULL : remembered(column->memo, column->reader, key);
        Py_XDECREF(key);
        break;
    }
    if (value == NULL && key != NULL && PyErr_ExceptionMatches(PyExc_ValueError)) {
        PyErr_Clear();
        *refused = 1;
    }
    return value;
}

/*
 * One row of row_type, or NULL: with an error set, or with *refused set.
 *
 * Rows are untracked by the cyclic garbage collector: they are immutable and hold only
 * values made before them, so no cycle can pass through one, and a collection would only
 * walk them again and again (a fifth of a large listing's parsing time).
 */
static PyObject *
row_of(PyTypeObject *row_type, const Column *columns, Py_ssize_t column_count, PyObject *line,
       Py_ssize_t line_number, const Py_ssize_t *starts, const Py_ssize_t *ends,
       int *refused)
{
    PyObject *texts[MAX_FIELDS] = {NULL};
    PyObject *row = row_type->tp_alloc(row_type, column_count);
    for (Py_ssize_t i = 0; row != NULL && i < column_count; i++) {
        PyObject *value = column_value(&columns[i], line, line_number, starts, ends, texts,
                                       refused);
        if (value == NULL) {
            Py_CLEAR(row);
        }
        else {
            PyTuple_SET_ITEM(row, i, value);
        }
    }
    for (Py_ssize_t i = 0; i < MAX_FIELDS; i++) {
        Py_XDECREF(texts[i]);
    }
    if (row != NULL && PyObject_GC_IsTracked(row)) {
        PyObject_GC_UnTrack(row);
    }
    return row;
}

PyDoc_STRVAR(assemble_rows_doc,
"assemble_rows(lines, first_number, field_count, plan, row_type)\n--\n\n"
"Rows of row_type read from lines by plan, or the index of the first line that does not\n"
"read. See parsers.row_assembly.assemble_rows_python, whose results this returns.");

static PyObject *
assemble_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "assemble_rows takes 5 arguments");
        return NULL;
    }
    PyObject *lines = args[0];
    Py_ssize_t first_number = PyLong_AsSsize_t(args[1]);
    Py_ssize_t field_count = PyLong_AsSsize_t(args[2]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (!PyList_Check(lines) || !PyType_Check(args[4])
        || !PyType_IsSubtype((PyTypeObject *)args[4], &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "assemble_rows: lines a list, row_type a tuple type");
        return NULL;
    }
    if (field_count < 1 || field_count > MAX_FIELDS) {
        PyErr_Format(PyExc_ValueError, "field_count not in 1..%d", MAX_FIELDS);
        return NULL;
    }
    Column columns[MAX_COLUMNS];
    Py_ssize_t column_count = 0;
    if (read_plan(args[3], field_count, columns, &column_count) < 0) {
        return NULL;
    }
    PyObject *rows = PyList_New(0);
    Py_ssize_t starts[MAX_FIELDS];
    Py_ssize_t ends[MAX_FIELDS];
    for (Py_ssize_t index = 0; rows != NULL && index < PyList_GET_SIZE(lines); index++) {
        PyObject *line = Py_NewRef(PyList_GET_ITEM(lines, index));
        int refused = 0;
        PyObject *row = NULL;
        if (!PyUnicode_Check(line)) {
            PyErr_Format(PyExc_TypeError, "line %zd is not a str", index);
            Py_CLEAR(rows);
        }
        else {
            Py_ssize_t found = split_line(line, field_count, starts, ends);
            if (found == 0) {
                Py_DECREF(line);
                continue;
            }
            if (found < field_count) {
                refused = 1;
            }
            else {
                row = row_of((PyTypeObject *)args[4], columns, column_count, line,
                             first_number + index, starts, ends, &refused);
            }
        }
        Py_DECREF(line);
        if (refused) {
            Py_DECREF(rows);
            return PyLong_FromSsize_t(index);
        }
        if (row == NULL || PyList_Append(rows, row) < 0) {
            Py_CLEAR(rows);
        }
        Py_XDECREF(row);
    }
    return rows;
}

static PyMethodDef methods[] = {
    {"assemble_rows", (PyCFunction)(void (*)(void))assemble_rows, METH_FASTCALL,
     assemble_rows_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "parsers._row_assembly",
    .m_doc = "The compiled twin of parsers.row_assembly.assemble_rows_python.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__row_assembly(void)
{
    return PyModule_Create(&module);
}
