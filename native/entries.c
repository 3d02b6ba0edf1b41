/*
 * layerscope._entries: builds the objects of a decoded layer index (store/codec.py) in C.
 *
 * A cached layer is stored column by column; decoding it ends with one object per entry
 * whose slots are filled from the columns. In Python that is one object.__new__ and one slot
 * descriptor call per field and entry (1.6 million calls for a 137k-file layer, about 60% of
 * its decode); here it is a loop of pointer stores. The pure-Python build in codec.py stays
 * the definition and the fallback (no compiler, LAYERSCOPE_PURE_PYTHON=1); tests compare them.
 * The entries it makes are not tracked by the cyclic garbage collector (see build()).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

/* build(cls, descriptors, columns) -> tuple: cls objects whose slots (the member descriptors
 * in `descriptors`, one per column) hold the columns' values, row by row. Every column is a
 * list of the same length; cls must be a plain slotted class (what object.__new__ makes).
 * The objects are not tracked by the cyclic collector: no value may refer back to them. */
static PyObject *build(PyObject *self, PyObject *args)
{
    PyTypeObject *type;
    PyObject *descriptors, *columns;
    if (!PyArg_ParseTuple(args, "O!O!O!", &PyType_Type, &type, &PyTuple_Type, &descriptors,
                          &PyTuple_Type, &columns))
        return NULL;
    Py_ssize_t nfields = PyTuple_GET_SIZE(descriptors);
    if (PyTuple_GET_SIZE(columns) != nfields || nfields == 0) {
        PyErr_SetString(PyExc_ValueError, "one column per descriptor, at least one");
        return NULL;
    }
    if (type->tp_new != PyBaseObject_Type.tp_new || type->tp_itemsize != 0) {
        PyErr_SetString(PyExc_TypeError, "the class must be a plain slotted class");
        return NULL;
    }
    Py_ssize_t count = -1;
    Py_ssize_t *offsets = PyMem_New(Py_ssize_t, nfields);
    if (offsets == NULL) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < nfields; i++) {
        PyObject *d = PyTuple_GET_ITEM(descriptors, i);
        PyObject *column = PyTuple_GET_ITEM(columns, i);
        if (Py_TYPE(d) != &PyMemberDescr_Type || PyDescr_TYPE(d) != type) {
            PyErr_SetString(PyExc_TypeError, "descriptors must be the class's own slots");
            goto fail;
        }
        PyMemberDef *member = ((PyMemberDescrObject *)d)->d_member;
        if (member->type != T_OBJECT_EX || (member->flags & READONLY) || member->offset <= 0 ||
            (size_t)member->offset + sizeof(PyObject *) > (size_t)type->tp_basicsize) {
            PyErr_SetString(PyExc_TypeError, "descriptors must be writable object slots");
            goto fail;
        }
        if (!PyList_Check(column)) {
            PyErr_SetString(PyExc_TypeError, "columns must be lists");
            goto fail;
        }
        if (count < 0) count = PyList_GET_SIZE(column);
        if (PyList_GET_SIZE(column) != count) {
            PyErr_SetString(PyExc_ValueError, "columns of different lengths");
            goto fail;
        }
        offsets[i] = member->offset;
    }
    PyObject *out = PyTuple_New(count);
    if (out == NULL) goto fail;
    for (Py_ssize_t row = 0; row < count; row++) {
        PyObject *obj = type->tp_alloc(type, 0); /* zeroed slots */
        if (obj == NULL) {
            Py_DECREF(out);
            goto fail;
        }
        for (Py_ssize_t i = 0; i < nfields; i++) {
            /* a column (a list we hold through the args tuple) is not changed meanwhile: no
             * Python code runs in this loop */
            PyObject *value = PyList_GET_ITEM(PyTuple_GET_ITEM(columns, i), row);
            Py_INCREF(value);
            *(PyObject **)((char *)obj + offsets[i]) = value;
        }
        /* Not tracked by the collector: the values are strings, numbers, None, enum members
         * and tuples of those (what the decoder makes), which can never lead back to the
         * entry, so the entry is never part of a cycle. Every collection then skips it: a
         * 137k-file layer decoded into tracked objects cost a 0.1 s young collection right
         * after the decode, and each later full one walked them all again. */
        if (PyType_IS_GC(type)) PyObject_GC_UnTrack(obj);
        PyTuple_SET_ITEM(out, row, obj);
    }
    PyMem_Free(offsets);
    return out;
fail:
    PyMem_Free(offsets);
    return NULL;
}

static PyMethodDef methods[] = {
    {"build", build, METH_VARARGS,
     "build(cls, descriptors, columns) -> tuple of cls objects, slots filled row by row "
     "(untracked by the cyclic collector: no value may refer back to them)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "layerscope._entries",
    "Builds decoded layer-index entries in C (optional; store/codec.py falls back to Python).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__entries(void) { return PyModule_Create(&module); }
