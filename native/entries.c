/*
 * layerscope._entries: builds the objects of a decoded layer index (store/codec.py) in C.
 *
 * A cached layer is stored column by column; decoding it ends with one object per entry
 * whose slots are filled from the columns. In Python that is one object.__new__ and one slot
 * descriptor call per field and entry (1.6 million calls for a 137k-file layer, about 60% of
 * its decode); here it is a loop of pointer stores. The pure-Python build in codec.py stays
 * the definition and the fallback (no compiler, LAYERSCOPE_PURE_PYTHON=1); tests compare them.
 * The entries it makes are not tracked by the cyclic garbage collector (see build()).
 *
 * It also encodes the common columns of a layer index (encode_columns()): writing the cache
 * from a background thread while the main thread analyses, the Python encoder held the GIL
 * for about 0.13 s per 100k entries. The Python encoder stays the definition of the bytes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

/* offsets[i]: where the slot of member descriptor descriptors[i] of `type` is in an object;
 * -1 with an exception when one is not a writable object slot of `type` itself */
static int slot_offsets(PyTypeObject *type, PyObject *descriptors, Py_ssize_t *offsets)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(descriptors); i++) {
        PyObject *d = PyTuple_GET_ITEM(descriptors, i);
        if (Py_TYPE(d) != &PyMemberDescr_Type || PyDescr_TYPE(d) != type) {
            PyErr_SetString(PyExc_TypeError, "descriptors must be the class's own slots");
            return -1;
        }
        PyMemberDef *member = ((PyMemberDescrObject *)d)->d_member;
        if (member->type != T_OBJECT_EX || (member->flags & READONLY) || member->offset <= 0 ||
            (size_t)member->offset + sizeof(PyObject *) > (size_t)type->tp_basicsize) {
            PyErr_SetString(PyExc_TypeError, "descriptors must be writable object slots");
            return -1;
        }
        offsets[i] = member->offset;
    }
    return 0;
}

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
    Py_ssize_t *offsets = PyMem_New(Py_ssize_t, nfields);
    if (offsets == NULL) return PyErr_NoMemory();
    if (slot_offsets(type, descriptors, offsets) < 0) goto fail;
    Py_ssize_t count = -1;
    for (Py_ssize_t i = 0; i < nfields; i++) {
        PyObject *column = PyTuple_GET_ITEM(columns, i);
        if (!PyList_Check(column)) {
            PyErr_SetString(PyExc_TypeError, "columns must be lists");
            goto fail;
        }
        if (count < 0) count = PyList_GET_SIZE(column);
        if (PyList_GET_SIZE(column) != count) {
            PyErr_SetString(PyExc_ValueError, "columns of different lengths");
            goto fail;
        }
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

/* ------------------------------------------------------------------------------ encoding
 * encode_columns(entries, cls, descriptors, styles, unwraps) -> list, one item per column:
 * the compact data of store/codec.py's _encode_column for the column's style (bytes for S, O
 * and Q; (distinct values, index typecode + index bytes) for D, whose JSON table Python
 * writes), or None where this code does not handle the column (other types, a NUL in a
 * string, an int outside int64...): Python then encodes it exactly as without this module.
 * The whole result is None when an entry is not exactly `cls` or has an unset slot.
 * unwraps[i] is None or (members, values): column i holds members, encoded as their values
 * (the kind column: EntryKind members and their `_value_`), matched by identity. */

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} buf_t;

/* room for n more bytes */
static int buf_reserve(buf_t *b, Py_ssize_t n)
{
    if (b->len + n > b->cap) {
        Py_ssize_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) {
            if (cap > PY_SSIZE_T_MAX / 2) {
                PyErr_NoMemory();
                return -1;
            }
            cap *= 2;
        }
        char *data = PyMem_Realloc(b->data, (size_t)cap);
        if (data == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->data = data;
        b->cap = cap;
    }
    return 0;
}

static int buf_put(buf_t *b, const void *p, Py_ssize_t n)
{
    if (buf_reserve(b, n) < 0) return -1;
    if (n > 0) memcpy(b->data + b->len, p, (size_t)n);
    b->len += n;
    return 0;
}

static int buf_put_le(buf_t *b, unsigned long long v, int width)
{
    if (buf_reserve(b, width) < 0) return -1;
    for (int i = 0; i < width; i++) b->data[b->len++] = (char)(unsigned char)(v >> (8 * i));
    return 0;
}

/* One string as UTF-8 (surrogatepass, as codec._strings): 0 done, 1 not handled, -1 error */
static int put_string(buf_t *b, PyObject *v)
{
    if (!PyUnicode_CheckExact(v)) return 1;
    if (PyUnicode_IS_ASCII(v)) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(v);
        const char *p = (const char *)PyUnicode_DATA(v);
        if (memchr(p, 0, (size_t)n) != NULL) return 1;
        return buf_put(b, p, n);
    }
    /* not cached on the str (as PyUnicode_AsUTF8 would): a temporary bytes object */
    PyObject *bytes = PyUnicode_AsEncodedString(v, "utf-8", "surrogatepass");
    if (bytes == NULL) return -1;
    int rc = 1;
    if (memchr(PyBytes_AS_STRING(bytes), 0, (size_t)PyBytes_GET_SIZE(bytes)) == NULL)
        rc = buf_put(b, PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes));
    Py_DECREF(bytes);
    return rc;
}

/* S: the strings joined with NUL; O: u32 length of the present indexes (u32 each), the
 * indexes, then the present strings as S. */
static int enc_strings(buf_t *b, PyObject **vals, Py_ssize_t n, int optional)
{
    Py_ssize_t present = 0;
    if (optional) {
        for (Py_ssize_t i = 0; i < n; i++) present += vals[i] != Py_None;
        if (present > 0xFFFFFFFF / 4 || n > 0xFFFFFFFF) return 1;
        if (buf_put_le(b, (unsigned long long)present * 4, 4) < 0) return -1;
        for (Py_ssize_t i = 0; i < n; i++)
            if (vals[i] != Py_None && buf_put_le(b, (unsigned long long)i, 4) < 0) return -1;
    }
    int first = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (optional && vals[i] == Py_None) continue;
        if (!first && buf_put(b, "", 1) < 0) return -1;
        first = 0;
        int rc = put_string(b, vals[i]);
        if (rc != 0) return rc;
    }
    return 0;
}

/* Q: little-endian int64 */
static int enc_int64(buf_t *b, PyObject **vals, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyLong_CheckExact(vals[i])) return 1;
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(vals[i], &overflow);
        if (overflow) return 1;
        if (v == -1 && PyErr_Occurred()) return -1;
        if (buf_put_le(b, (unsigned long long)v, 8) < 0) return -1;
    }
    return 0;
}

/* D for plain values (exactly int, str, None or tuple, as codec._PLAIN_TYPES: no float or
 * bool, so a dict keyed on the values themselves merges only what Python's does): sets
 * *distinct to the values in first-seen order (the first object of each) and writes the
 * index typecode and the indexes. */
static int enc_dict(buf_t *b, PyObject **vals, Py_ssize_t n, PyObject **distinct)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = vals[i];
        if (!(PyLong_CheckExact(v) || PyUnicode_CheckExact(v) || v == Py_None ||
              PyTuple_CheckExact(v)))
            return 1;
    }
    uint32_t *index = PyMem_New(uint32_t, n > 0 ? n : 1);
    PyObject *positions = PyDict_New();
    PyObject *order = PyList_New(0);
    int rc = -1;
    if (index == NULL || positions == NULL || order == NULL) {
        if (index == NULL) PyErr_NoMemory();
        goto done;
    }
    PyObject *previous = NULL;
    uint32_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = vals[i];
        if (v != previous) { /* the same object: the same key */
            PyObject *known = PyDict_GetItemWithError(positions, v);
            if (known != NULL) {
                at = (uint32_t)PyLong_AsUnsignedLong(known);
            } else {
                if (PyErr_Occurred()) { /* unhashable: Python redoes it and says so */
                    PyErr_Clear();
                    rc = 1;
                    goto done;
                }
                Py_ssize_t k = PyList_GET_SIZE(order);
                if (k >= 0xFFFFFFFF) {
                    rc = 1;
                    goto done;
                }
                PyObject *pos = PyLong_FromSsize_t(k);
                if (pos == NULL) goto done;
                int bad = PyDict_SetItem(positions, v, pos) < 0 || PyList_Append(order, v) < 0;
                Py_DECREF(pos);
                if (bad) goto done;
                at = (uint32_t)k;
            }
            previous = v;
        }
        index[i] = at;
    }
    Py_ssize_t k = PyList_GET_SIZE(order);
    int width = k <= 0x100 ? 1 : k <= 0x10000 ? 2 : 4;
    if (buf_put(b, width == 1 ? "B" : width == 2 ? "H" : "I", 1) < 0) goto done;
    for (Py_ssize_t i = 0; i < n; i++)
        if (buf_put_le(b, index[i], width) < 0) goto done;
    *distinct = order;
    order = NULL;
    rc = 0;
done:
    PyMem_Free(index);
    Py_XDECREF(positions);
    Py_XDECREF(order);
    return rc;
}

static PyObject *encode_column(char style, PyObject **vals, Py_ssize_t n)
{
    buf_t b = {NULL, 0, 0};
    PyObject *distinct = NULL;
    int rc = 1;
    if (style == 'S' || style == 'O') rc = enc_strings(&b, vals, n, style == 'O');
    else if (style == 'Q') rc = enc_int64(&b, vals, n);
    else if (style == 'D') rc = enc_dict(&b, vals, n, &distinct);
    PyObject *out = NULL;
    if (rc == 1) out = Py_NewRef(Py_None);
    else if (rc == 0) {
        out = PyBytes_FromStringAndSize(b.data ? b.data : "", b.len);
        if (out != NULL && distinct != NULL) Py_SETREF(out, PyTuple_Pack(2, distinct, out));
    }
    Py_XDECREF(distinct);
    PyMem_Free(b.data);
    return out;
}

/* The value of `member` in `unwrap` (None or (members, values)), matched by identity; NULL:
 * not one of its members */
static PyObject *unwrapped(PyObject *member, PyObject *unwrap)
{
    if (unwrap == Py_None) return member;
    PyObject *members = PyTuple_GET_ITEM(unwrap, 0);
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(members); j++)
        if (PyTuple_GET_ITEM(members, j) == member) return PyTuple_GET_ITEM(PyTuple_GET_ITEM(unwrap, 1), j);
    return NULL;
}

/* vals[f * n + i] = field f of entry i (unwrapped), new references, in one pass over the
 * entries (each is read once, not once per field); skip[f] = 1 where a member to unwrap is not
 * one of unwraps[f]'s (its values are then None). Returns how many entries it did: fewer than
 * n when entry i is not exactly `type` or has an unset slot. */
static Py_ssize_t gather(PyObject **vals, char *skip, PyObject **items, Py_ssize_t n,
                         PyTypeObject *type, const Py_ssize_t *offsets, Py_ssize_t nfields,
                         PyObject *unwraps)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        if (Py_TYPE(items[i]) != type) return i;
        for (Py_ssize_t f = 0; f < nfields; f++)
            if (*(PyObject **)((char *)items[i] + offsets[f]) == NULL) return i;
        for (Py_ssize_t f = 0; f < nfields; f++) {
            PyObject *v = unwrapped(*(PyObject **)((char *)items[i] + offsets[f]),
                                    PyTuple_GET_ITEM(unwraps, f));
            if (v == NULL) {
                skip[f] = 1;
                v = Py_None;
            }
            vals[f * n + i] = Py_NewRef(v);
        }
    }
    return n;
}

static PyObject *encode_columns(PyObject *self, PyObject *args)
{
    PyObject *entries, *descriptors, *unwraps;
    PyTypeObject *type;
    const char *styles;
    Py_ssize_t nstyles;
    if (!PyArg_ParseTuple(args, "OO!O!y#O!", &entries, &PyType_Type, &type, &PyTuple_Type,
                          &descriptors, &styles, &nstyles, &PyTuple_Type, &unwraps))
        return NULL;
    Py_ssize_t nfields = PyTuple_GET_SIZE(descriptors);
    if (nstyles != nfields || PyTuple_GET_SIZE(unwraps) != nfields || nfields == 0) {
        PyErr_SetString(PyExc_ValueError, "one style and one unwrap per descriptor, at least one");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nfields; i++) {
        PyObject *u = PyTuple_GET_ITEM(unwraps, i);
        if (u != Py_None && !(PyTuple_Check(u) && PyTuple_GET_SIZE(u) == 2 &&
                              PyTuple_Check(PyTuple_GET_ITEM(u, 0)) &&
                              PyTuple_Check(PyTuple_GET_ITEM(u, 1)) &&
                              PyTuple_GET_SIZE(PyTuple_GET_ITEM(u, 0)) ==
                                  PyTuple_GET_SIZE(PyTuple_GET_ITEM(u, 1)))) {
            PyErr_SetString(PyExc_TypeError, "an unwrap is None or (members, values)");
            return NULL;
        }
    }
    Py_ssize_t *offsets = PyMem_New(Py_ssize_t, nfields > 0 ? nfields : 1);
    if (offsets == NULL) return PyErr_NoMemory();
    PyObject *out = NULL, *rows = NULL, **vals = NULL;
    char *skip = NULL;
    Py_ssize_t gathered = 0;
    Py_ssize_t n = 0;
    if (slot_offsets(type, descriptors, offsets) < 0) goto done;
    /* a tuple of our own: Python code a dict runs (a tuple's items' __eq__) cannot change it */
    rows = PySequence_Tuple(entries);
    if (rows == NULL) goto done;
    n = PyTuple_GET_SIZE(rows);
    PyObject **items = &PyTuple_GET_ITEM(rows, 0);
    if (n > PY_SSIZE_T_MAX / (Py_ssize_t)sizeof(PyObject *) / nfields) {
        PyErr_NoMemory();
        goto done;
    }
    vals = PyMem_New(PyObject *, n > 0 ? n * nfields : 1);
    skip = PyMem_Calloc((size_t)nfields, 1);
    if (vals == NULL || skip == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    gathered = gather(vals, skip, items, n, type, offsets, nfields, unwraps);
    if (gathered < n) {
        out = Py_NewRef(Py_None);
        goto done;
    }
    if ((out = PyList_New(nfields)) == NULL) goto done;
    for (Py_ssize_t f = 0; f < nfields; f++) {
        PyObject *column = skip[f] ? Py_NewRef(Py_None) : encode_column(styles[f], vals + f * n, n);
        if (column == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, f, column);
    }
done:
    for (Py_ssize_t f = 0; f < nfields; f++)
        for (Py_ssize_t i = 0; i < gathered; i++) Py_DECREF(vals[f * n + i]);
    PyMem_Free(vals);
    PyMem_Free(skip);
    PyMem_Free(offsets);
    Py_XDECREF(rows);
    return out;
}

static PyMethodDef methods[] = {
    {"build", build, METH_VARARGS,
     "build(cls, descriptors, columns) -> tuple of cls objects, slots filled row by row "
     "(untracked by the cyclic collector: no value may refer back to them)."},
    {"encode_columns", encode_columns, METH_VARARGS,
     "encode_columns(entries, cls, descriptors, styles, unwraps) -> list of each column's "
     "compact data (bytes, or (distinct, index bytes) for D), None where not handled; None "
     "when an entry is not exactly cls or has an unset slot."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "layerscope._entries",
    "Builds decoded layer-index entries in C (optional; store/codec.py falls back to Python).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__entries(void) { return PyModule_Create(&module); }
