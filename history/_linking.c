/*
 * history._linking: the compiled twin of history.linking.link_rows_python.
 *
 * It links the rows of one snapshot to the sightings of the snapshot before, as the Python
 * loop does, value for value (the tests hold the two to each other): the loop runs once for
 * every row the worker stores, and in Python it was a fifth of the worker's time. The
 * uncommon answers (names or start times that differ) are asked of the Python functions
 * that decide them, and a first sighting's key of the Python function that makes it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Where linking reads a row's values: the positions of its fields. */
enum { PID, PROCESS_NAME, START_TIME, START_TIME_PRECISION, CPU_TIME_SECONDS, TRUNCATED, FIELDS };
/* A Sighting's values, in its order. */
enum {
    S_PROCESS_NAME,
    S_START_TIME,
    S_START_TIME_PRECISION,
    S_CPU_TIME_SECONDS,
    S_NAME_TRUNCATED,
    S_PROCESS_KEY,
    SIGHTING_SIZE
};
/* ps and tasklist print CPU time in whole seconds: history.linking._CPU_SLACK_SECONDS. */
#define CPU_SLACK_SECONDS 1.0

static PyObject *process_name_text; /* "process_name", looked for in truncated_fields */

/* A Sighting of the six values, each a new reference stolen; NULL on error. */
static PyObject *
new_sighting(PyTypeObject *type, PyObject *values[SIGHTING_SIZE])
{
    PyObject *sighting = type->tp_alloc(type, SIGHTING_SIZE);
    if (sighting == NULL) {
        for (int i = 0; i < SIGHTING_SIZE; i++) {
            Py_DECREF(values[i]);
        }
        return NULL;
    }
    for (int i = 0; i < SIGHTING_SIZE; i++) {
        PyTuple_SET_ITEM(sighting, i, values[i]);
    }
    return sighting;
}

/* 1 when both agree by asking decide(earlier, row) unless they are equal; -1 on error. */
static int
agree(PyObject *mine, PyObject *theirs, PyObject *decide, PyObject *earlier, PyObject *row)
{
    int equal = PyObject_RichCompareBool(theirs, mine, Py_EQ);
    if (equal != 0) {
        return equal;
    }
    PyObject *answer = PyObject_CallFunctionObjArgs(decide, earlier, row, NULL);
    if (answer == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return truth;
}

/* Whether the row continues earlier (see history.linking.same_process); -1 on error. */
static int
continues(PyObject *earlier, PyObject *row, PyObject *const *fields, PyObject *names_agree,
          PyObject *starts_agree)
{
    PyObject *earlier_cpu = PyTuple_GET_ITEM(earlier, S_CPU_TIME_SECONDS);
    PyObject *cpu = fields[CPU_TIME_SECONDS];
    if (earlier_cpu != Py_None && cpu != Py_None) {
        double before = PyFloat_AsDouble(earlier_cpu), now = PyFloat_AsDouble(cpu);
        if (PyErr_Occurred()) {
            return -1;
        }
        if (!(now >= before - CPU_SLACK_SECONDS)) {
            return 0;
        }
    }
    int names = agree(fields[PROCESS_NAME], PyTuple_GET_ITEM(earlier, S_PROCESS_NAME),
                      names_agree, earlier, row);
    if (names != 1) {
        return names;
    }
    return agree(fields[START_TIME], PyTuple_GET_ITEM(earlier, S_START_TIME), starts_agree,
                 earlier, row);
}

/* The history of one continuing row: (key, interval, CPU percent or None). */
static PyObject *
continued_values(PyObject *key, PyObject *interval, PyObject *earlier_cpu, PyObject *cpu)
{
    if (interval == Py_None || earlier_cpu == Py_None || cpu == Py_None) {
        return PyTuple_Pack(3, key, interval, Py_None);
    }
    double seconds = PyFloat_AsDouble(interval);
    double used = PyFloat_AsDouble(cpu) - PyFloat_AsDouble(earlier_cpu);
    if (PyErr_Occurred()) {
        return NULL;
    }
    /* max(used, 0.0) as Python takes it: a NaN stays. */
    if (used < 0.0) {
        used = 0.0;
    }
    PyObject *percent = PyFloat_FromDouble(100.0 * used / seconds);
    if (percent == NULL) {
        return NULL;
    }
    PyObject *values = PyTuple_Pack(3, key, interval, percent);
    Py_DECREF(percent);
    return values;
}

/* Links one row, appending to values, sightings and new_keys; 0, or -1 on error. */
static int
link_row(PyObject *row, const Py_ssize_t *positions, PyObject *earlier_of, PyObject *interval,
         PyObject *new_key, PyTypeObject *sighting_type, PyObject *names_agree,
         PyObject *starts_agree, PyObject *values, PyObject *sightings, PyObject *new_keys)
{
    PyObject *fields[FIELDS];
    for (int i = 0; i < FIELDS; i++) {
        fields[i] = PyTuple_GET_ITEM(row, positions[i]);
    }
    PyObject *pid = fields[PID];
    PyObject *seen = PyDict_GetItemWithError(sightings, pid);
    if (seen != NULL) {
        /* A later row of a pid already seen (a thread): the first one's key, no interval. */
        PyObject *shared = PyTuple_Pack(3, PyTuple_GET_ITEM(seen, S_PROCESS_KEY), Py_None,
                                        Py_None);
        if (shared == NULL) {
            return -1;
        }
        int failed = PyList_Append(values, shared);
        Py_DECREF(shared);
        return failed;
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    PyObject *earlier = PyDict_GetItemWithError(earlier_of, pid);
    if (earlier == NULL && PyErr_Occurred()) {
        return -1;
    }
    int same = 0;
    if (earlier != NULL) {
        if (!PyTuple_Check(earlier) || PyTuple_GET_SIZE(earlier) != SIGHTING_SIZE) {
            PyErr_SetString(PyExc_TypeError, "link_rows: a sighting is not a Sighting");
            return -1;
        }
        same = continues(earlier, row, fields, names_agree, starts_agree);
        if (same < 0) {
            return -1;
        }
    }
    PyObject *key, *history;
    if (same) {
        key = PyTuple_GET_ITEM(earlier, S_PROCESS_KEY);
        Py_INCREF(key);
        history = continued_values(key, interval, PyTuple_GET_ITEM(earlier, S_CPU_TIME_SECONDS),
                                   fields[CPU_TIME_SECONDS]);
    } else {
        key = PyObject_CallOneArg(new_key, pid);
        if (key == NULL) {
            return -1;
        }
        history = PyList_Append(new_keys, key) ? NULL : PyTuple_Pack(3, key, Py_None, Py_None);
    }
    if (history == NULL || PyList_Append(values, history)) {
        Py_XDECREF(history);
        Py_DECREF(key);
        return -1;
    }
    Py_DECREF(history);
    int truncated = PySequence_Contains(fields[TRUNCATED], process_name_text);
    if (truncated < 0) {
        Py_DECREF(key);
        return -1;
    }
    PyObject *parts[SIGHTING_SIZE] = {
        Py_NewRef(fields[PROCESS_NAME]),
        Py_NewRef(fields[START_TIME]),
        Py_NewRef(fields[START_TIME_PRECISION]),
        Py_NewRef(fields[CPU_TIME_SECONDS]),
        Py_NewRef(truncated ? Py_True : Py_False),
        key,
    };
    PyObject *sighting = new_sighting(sighting_type, parts);
    if (sighting == NULL) {
        return -1;
    }
    int failed = PyDict_SetItem(sightings, pid, sighting);
    Py_DECREF(sighting);
    return failed;
}

PyDoc_STRVAR(link_rows_doc,
             "link_rows(rows, positions, earlier_of, interval, new_key, sighting_type,\n"
             "          names_agree, starts_agree) -> (values, sightings, new_keys)\n\n"
             "history.linking.link_rows_python, compiled; positions are those of the rows'\n"
             "pid, process_name, start_time, start_time_precision, cpu_time_seconds and\n"
             "truncated_fields.");

static PyObject *
link_rows(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "link_rows takes 8 arguments");
        return NULL;
    }
    PyObject *rows = args[0], *position_tuple = args[1], *earlier_of = args[2];
    PyObject *interval = args[3], *new_key = args[4], *sighting_type = args[5];
    PyObject *names_agree = args[6], *starts_agree = args[7];
    if (!PyList_Check(rows) || !PyDict_Check(earlier_of) || !PyType_Check(sighting_type)
        || !PyType_IsSubtype((PyTypeObject *)sighting_type, &PyTuple_Type)
        || !PyTuple_Check(position_tuple) || PyTuple_GET_SIZE(position_tuple) != FIELDS) {
        PyErr_SetString(PyExc_TypeError,
                        "link_rows: a list, 6 positions, a dict, an interval, a callable, a "
                        "tuple type and two callables");
        return NULL;
    }
    Py_ssize_t positions[FIELDS], widest = 0;
    for (int i = 0; i < FIELDS; i++) {
        positions[i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(position_tuple, i));
        if (positions[i] < 0) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_ValueError, "link_rows: a negative position");
            }
            return NULL;
        }
        widest = positions[i] > widest ? positions[i] : widest;
    }
    PyObject *values = PyList_New(0), *sightings = PyDict_New(), *new_keys = PyList_New(0);
    if (values == NULL || sightings == NULL || new_keys == NULL) {
        goto error;
    }
    PyTypeObject *row_type = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        row_type = row_type ? row_type : Py_TYPE(row);
        /* The positions are those of the first row's type: every row must be of it. */
        if (Py_TYPE(row) != row_type || !PyTuple_Check(row) || PyTuple_GET_SIZE(row) <= widest) {
            PyErr_Format(PyExc_TypeError, "link_rows: row %zd is not a row tuple", i);
            goto error;
        }
        Py_INCREF(row);
        int failed = link_row(row, positions, earlier_of, interval, new_key,
                              (PyTypeObject *)sighting_type, names_agree, starts_agree, values,
                              sightings, new_keys);
        Py_DECREF(row);
        if (failed) {
            goto error;
        }
    }
    PyObject *linked = PyTuple_Pack(3, values, sightings, new_keys);
    Py_DECREF(values);
    Py_DECREF(sightings);
    Py_DECREF(new_keys);
    return linked;
error:
    Py_XDECREF(values);
    Py_XDECREF(sightings);
    Py_XDECREF(new_keys);
    return NULL;
}

static PyMethodDef methods[] = {
    {"link_rows", (PyCFunction)(void (*)(void))link_rows, METH_FASTCALL, link_rows_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "history._linking",
    .m_doc = "The compiled twin of history.linking.link_rows_python.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__linking(void)
{
    process_name_text = PyUnicode_InternFromString("process_name");
    if (process_name_text == NULL) {
        return NULL;
    }
    return PyModule_Create(&module);
}
