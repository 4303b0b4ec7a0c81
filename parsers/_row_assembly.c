/*
 * parsers._row_assembly: the compiled twin of parsers.row_assembly.assemble_rows_python.
 *
 * It reads whitespace-separated listings (ps aux, ps -ef, ps -o) a line at a time, each split
 * by a shape (parsers.line_shapes.split_columns), as the Python version does, with the same
 * results and the same refusals; the tests hold the two to it.
 * Compiled because a row made in Python costs about 1 µs of interpreter work, most of a ps
 * line's parsing; here the line is scanned once and only the values kept become objects.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The kinds of plan entries: parsers.row_assembly.Source, in the same order. */
enum { LINE_NUMBER = 0, CONSTANT = 1, TEXT = 2, COUNT = 3, LOOKUP = 4, PROGRAM_LOOKUP = 5 };

/* How a line's columns lie: parsers.line_shapes.Span, in the same order. */
enum { SPAN_WORD = 0, SPAN_WORDS = 1, SPAN_TEXT = 2, SPAN_REST = 3 };

#define MAX_COLUMNS 64
/* parsers.line_shapes allows shapes of up to 256 columns. */
#define MAX_FIELDS 256
#define MAX_MORE_WORDS 32
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

/* A shape read: its objects are borrowed from the shape, which the caller holds. */
typedef struct {
    Py_ssize_t count;
    int spans[MAX_FIELDS];
    Py_ssize_t last_start; /* -1, or where the last column begins */
    Py_ssize_t text_at;    /* the SPAN_TEXT column, or count (none) */
    Py_ssize_t more_count;
    PyObject *more_words[MAX_MORE_WORDS];
    long more[MAX_MORE_WORDS];
} Shape;

/* Reads a parsers.line_shapes.Shape (spans, last_start, more_words); -1 on a bad one. */
static int
read_shape(PyObject *object, Shape *shape)
{
    if (!PyTuple_Check(object) || PyTuple_GET_SIZE(object) != 3
        || !PyTuple_Check(PyTuple_GET_ITEM(object, 0))
        || !PyDict_Check(PyTuple_GET_ITEM(object, 2))) {
        PyErr_SetString(PyExc_ValueError, "shape: not a (spans, last_start, more_words)");
        return -1;
    }
    PyObject *spans = PyTuple_GET_ITEM(object, 0);
    shape->count = PyTuple_GET_SIZE(spans);
    shape->last_start = PyLong_AsSsize_t(PyTuple_GET_ITEM(object, 1));
    if (PyErr_Occurred()) {
        return -1;
    }
    if (shape->count < 1 || shape->count > MAX_FIELDS) {
        PyErr_Format(PyExc_ValueError, "shape: not 1 to %d columns", MAX_FIELDS);
        return -1;
    }
    shape->text_at = shape->count;
    for (Py_ssize_t i = 0; i < shape->count; i++) {
        long span = PyLong_AsLong(PyTuple_GET_ITEM(spans, i));
        if (PyErr_Occurred()) {
            return -1;
        }
        /* The rules of parsers.line_shapes.shape: the splitting below relies on them. */
        int last = i == shape->count - 1;
        int after_text = shape->text_at < shape->count;
        if (span < SPAN_WORD || span > SPAN_REST || (span == SPAN_REST && !last)
            || (span == SPAN_TEXT && (last || after_text)) || (span == SPAN_WORDS && after_text)) {
            PyErr_Format(PyExc_ValueError, "shape: column %zd cannot be so", i);
            return -1;
        }
        if (span == SPAN_TEXT) {
            shape->text_at = i;
        }
        shape->spans[i] = (int)span;
    }
    int last_rest = shape->spans[shape->count - 1] == SPAN_REST;
    if (shape->last_start == 0 || (shape->last_start > 0 && !last_rest)
        || (shape->last_start < 0 && last_rest && shape->text_at < shape->count)) {
        PyErr_SetString(PyExc_ValueError, "shape: last_start does not fit the columns");
        return -1;
    }
    PyObject *more_words = PyTuple_GET_ITEM(object, 2);
    PyObject *word;
    PyObject *more;
    Py_ssize_t position = 0;
    shape->more_count = 0;
    while (PyDict_Next(more_words, &position, &word, &more)) {
        if (shape->more_count == MAX_MORE_WORDS || !PyUnicode_Check(word)) {
            PyErr_Format(PyExc_ValueError, "shape: more_words, at most %d str keys",
                         MAX_MORE_WORDS);
            return -1;
        }
        long count = PyLong_AsLong(more);
        if (PyErr_Occurred()) {
            return -1;
        }
        shape->more_words[shape->more_count] = word;
        shape->more[shape->more_count++] = count < 0 ? 0 : count;
    }
    return 0;
}

#define IS_SPACE(i) Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, (i)))

/* How many more words the word [start, end) of line takes: its more_words value, or 0. */
static long
more_words_of(const Shape *shape, PyObject *line, Py_ssize_t start, Py_ssize_t end)
{
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    for (Py_ssize_t w = 0; w < shape->more_count; w++) {
        PyObject *word = shape->more_words[w];
        Py_ssize_t length = PyUnicode_GET_LENGTH(word);
        if (length != end - start) {
            continue;
        }
        int word_kind = PyUnicode_KIND(word);
        const void *word_data = PyUnicode_DATA(word);
        Py_ssize_t i = 0;
        while (i < length
               && PyUnicode_READ(word_kind, word_data, i) == PyUnicode_READ(kind, data, start + i)) {
            i++;
        }
        if (i == length) {
            return shape->more[w];
        }
    }
    return 0;
}

/*
 * Finds the columns of line as parsers.line_shapes.split_columns does: their [start, end)
 * in starts and ends, and in joined whether a SPAN_WORDS column's words are parted otherwise
 * than by one space (its text is then made of them joined). Returns 1, 0 for a blank line,
 * -1 for a line that does not fit.
 */
static int
split_line(PyObject *line, const Shape *shape, Py_ssize_t *starts, Py_ssize_t *ends,
           char *joined)
{
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    Py_ssize_t length = PyUnicode_GET_LENGTH(line);
    Py_ssize_t i = 0;
    while (i < length && IS_SPACE(i)) {
        i++;
    }
    if (i == length) {
        return 0;
    }
    Py_ssize_t end = length;
    Py_ssize_t heads = shape->count;
    if (shape->last_start > 0) {
        Py_ssize_t at = shape->last_start;
        if (length <= at || !IS_SPACE(at - 1)) {
            return -1;
        }
        Py_ssize_t tail_end = length;
        while (tail_end > at && IS_SPACE(tail_end - 1)) {
            tail_end--;
        }
        if (tail_end == at) {
            return -1;
        }
        heads--;
        starts[heads] = at;
        ends[heads] = tail_end;
        end = at;
    }
    Py_ssize_t left = shape->text_at < heads ? shape->text_at : heads;
    i = 0;
    for (Py_ssize_t f = 0; f < left; f++) {
        while (i < end && IS_SPACE(i)) {
            i++;
        }
        if (i == end) {
            return -1;
        }
        starts[f] = i;
        if (shape->spans[f] == SPAN_REST) {
            Py_ssize_t e = end;
            while (IS_SPACE(e - 1)) {
                e--;
            }
            ends[f] = e;
            return 1;
        }
        while (i < end && !IS_SPACE(i)) {
            i++;
        }
        joined[f] = 0;
        if (shape->spans[f] == SPAN_WORDS) {
            for (long more = more_words_of(shape, line, starts[f], i); more > 0; more--) {
                Py_ssize_t j = i;
                while (j < end && IS_SPACE(j)) {
                    j++;
                }
                if (j == end) {
                    break;
                }
                if (j - i != 1 || PyUnicode_READ(kind, data, i) != ' ') {
                    joined[f] = 1;
                }
                while (j < end && !IS_SPACE(j)) {
                    j++;
                }
                i = j;
            }
        }
        ends[f] = i;
    }
    if (shape->text_at >= heads) {
        while (i < end && IS_SPACE(i)) {
            i++;
        }
        return i == end ? 1 : -1;
    }
    Py_ssize_t e = end;
    for (Py_ssize_t f = heads - 1; f >= shape->text_at; f--) {
        while (e > i && IS_SPACE(e - 1)) {
            e--;
        }
        if (e == i) {
            return -1;
        }
        ends[f] = e;
        if (f == shape->text_at) {
            while (IS_SPACE(i)) {
                i++;
            }
            starts[f] = i;
            return 1;
        }
        while (e > i && !IS_SPACE(e - 1)) {
            e--;
        }
        starts[f] = e;
    }
    return 1;
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

/*
 * The words of line in [start, end), a span from a word's start to a word's end, joined
 * by single spaces: a new reference, or NULL. Made at the size and width of character
 * str.join would give (the largest character decides the width).
 */
static PyObject *
joined_words(PyObject *line, Py_ssize_t start, Py_ssize_t end)
{
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    Py_ssize_t length = 0;
    Py_UCS4 largest = ' ';
    int in_gap = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 character = PyUnicode_READ(kind, data, i);
        if (Py_UNICODE_ISSPACE(character)) {
            in_gap = 1;
            continue;
        }
        length += in_gap + 1;
        in_gap = 0;
        if (character > largest) {
            largest = character;
        }
    }
    PyObject *joined = PyUnicode_New(length, largest);
    if (joined == NULL) {
        return NULL;
    }
    int joined_kind = PyUnicode_KIND(joined);
    void *joined_data = PyUnicode_DATA(joined);
    Py_ssize_t j = 0;
    in_gap = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 character = PyUnicode_READ(kind, data, i);
        if (Py_UNICODE_ISSPACE(character)) {
            in_gap = 1;
            continue;
        }
        if (in_gap) {
            PyUnicode_WRITE(joined_kind, joined_data, j++, ' ');
            in_gap = 0;
        }
        PyUnicode_WRITE(joined_kind, joined_data, j++, character);
    }
    return joined;
}

/* The columns of one line: where each lies, and its text once made (kept in texts). */
typedef struct {
    PyObject *line;
    Py_ssize_t starts[MAX_FIELDS];
    Py_ssize_t ends[MAX_FIELDS];
    char joined[MAX_FIELDS];
    PyObject *texts[MAX_FIELDS];
} Fields;

/* The text of field, made once per line: a borrowed reference kept in fields->texts. */
static PyObject *
field_text(Fields *fields, Py_ssize_t field)
{
    if (fields->texts[field] == NULL) {
        fields->texts[field] = fields->joined[field]
            ? joined_words(fields->line, fields->starts[field], fields->ends[field])
            : PyUnicode_Substring(fields->line, fields->starts[field], fields->ends[field]);
    }
    return fields->texts[field];
}

/*
 * The value of column for one line: a new reference; NULL with an error set, or NULL with
 * *refused set when the line does not read (a bad count, a reader's ValueError).
 */
static PyObject *
column_value(const Column *column, Fields *fields, Py_ssize_t line_number, int *refused)
{
    PyObject *key = NULL;
    PyObject *value;
    switch (column->kind) {
    case LINE_NUMBER:
        return PyLong_FromSsize_t(line_number);
    case CONSTANT:
        return Py_NewRef(column->constant);
    case TEXT:
        value = field_text(fields, column->field);
        return value == NULL ? NULL : Py_NewRef(value);
    case COUNT: {
        long long count = count_of(fields->line, fields->starts[column->field],
                                   fields->ends[column->field]);
        if (count < 0) {
            *refused = 1;
            return NULL;
        }
        return PyLong_FromLongLong(count * column->multiplier);
    }
    case LOOKUP:
        key = field_text(fields, column->field);
        value = key == NULL ? NULL : remembered(column->memo, column->reader, key);
        break;
    default: /* PROGRAM_LOOKUP */
        if (fields->joined[column->field]) {
            PyObject *words = field_text(fields, column->field);
            key = words == NULL ? NULL : program_of(words, 0, PyUnicode_GET_LENGTH(words));
        }
        else {
            key = program_of(fields->line, fields->starts[column->field],
                             fields->ends[column->field]);
        }
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
row_of(PyTypeObject *row_type, const Column *columns, Py_ssize_t column_count,
       Fields *fields, Py_ssize_t field_count, Py_ssize_t line_number, int *refused)
{
    for (Py_ssize_t i = 0; i < field_count; i++) {
        fields->texts[i] = NULL;
    }
    PyObject *row = row_type->tp_alloc(row_type, column_count);
    for (Py_ssize_t i = 0; row != NULL && i < column_count; i++) {
        PyObject *value = column_value(&columns[i], fields, line_number, refused);
        if (value == NULL) {
            Py_CLEAR(row);
        }
        else {
            PyTuple_SET_ITEM(row, i, value);
        }
    }
    for (Py_ssize_t i = 0; i < field_count; i++) {
        Py_XDECREF(fields->texts[i]);
    }
    if (row != NULL && PyObject_GC_IsTracked(row)) {
        PyObject_GC_UnTrack(row);
    }
    return row;
}

PyDoc_STRVAR(assemble_rows_doc,
"assemble_rows(lines, first_number, line_shape, plan, row_type)\n--\n\n"
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
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (!PyList_Check(lines) || !PyType_Check(args[4])
        || !PyType_IsSubtype((PyTypeObject *)args[4], &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "assemble_rows: lines a list, row_type a tuple type");
        return NULL;
    }
    Shape shape;
    if (read_shape(args[2], &shape) < 0) {
        return NULL;
    }
    Column columns[MAX_COLUMNS];
    Py_ssize_t column_count = 0;
    if (read_plan(args[3], shape.count, columns, &column_count) < 0) {
        return NULL;
    }
    PyObject *rows = PyList_New(0);
    Fields fields;
    for (Py_ssize_t index = 0; rows != NULL && index < PyList_GET_SIZE(lines); index++) {
        PyObject *line = Py_NewRef(PyList_GET_ITEM(lines, index));
        int refused = 0;
        PyObject *row = NULL;
        if (!PyUnicode_Check(line)) {
            PyErr_Format(PyExc_TypeError, "line %zd is not a str", index);
            Py_CLEAR(rows);
        }
        else {
            memset(fields.joined, 0, (size_t)shape.count);
            int split = split_line(line, &shape, fields.starts, fields.ends, fields.joined);
            if (split == 0) {
                Py_DECREF(line);
                continue;
            }
            if (split < 0) {
                refused = 1;
            }
            else {
                fields.line = line;
                row = row_of((PyTypeObject *)args[4], columns, column_count, &fields,
                             shape.count, first_number + index, &refused);
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
