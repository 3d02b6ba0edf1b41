/*
 * layerscope._stack: the common case of FsTree.apply_layer (layerscope/tree/__init__.py,
 * "tree.py" below) in C.
 *
 * place() walks a layer's regular entries (markers already taken out) from `start` and, for
 * each entry at a path that is new to the tree, under a parent that exists, and not one this
 * layer just removed, does what the Python loop does: makes Placed(layer_index, entry), files
 * the path under its parent in `children`, sets nodes[path] and appends to `added`. It stops,
 * having changed nothing for it, at the first entry that needs more (a path already in the
 * tree, the root, a missing parent, a path in `removed`, anything not a plain str) and returns
 * its index; tree.py then applies that one entry with its general code (FsTree._put) and calls
 * back. So tree.py stays the definition of every overlay rule, and this file only has to agree
 * with it on the common case (tests/test_native_stack.py checks that on the test corpus and on
 * random layer sequences with whiteouts, opaque directories and type changes).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Set by configure(): the Placed class and its slot descriptors (layer_index, entry,
 * implicit), in that order. */
static PyTypeObject *placed_type = NULL;
static PyObject *placed_slots[3];
static PyObject *empty_tuple = NULL;
static PyObject *root = NULL;      /* "/" */
static PyObject *path_name = NULL; /* "path" */

/* Keeps `type` and its `count` slot descriptors `found` in *type_out / slots_out (what
 * made_of() fills); -1 with a TypeError when a descriptor cannot set. */
static int keep_class(PyObject *type, PyObject **found, int count, PyTypeObject **type_out,
                      PyObject **slots_out)
{
    for (int i = 0; i < count; i++) {
        if (Py_TYPE(found[i])->tp_descr_set == NULL) {
            PyErr_SetString(PyExc_TypeError, "configure: a slot descriptor has no setter");
            return -1;
        }
    }
    Py_INCREF(type);
    Py_XSETREF(*type_out, (PyTypeObject *)type);
    for (int i = 0; i < count; i++) {
        Py_INCREF(found[i]);
        Py_XSETREF(slots_out[i], found[i]);
    }
    return 0;
}

/* A new `type` object whose slots (`slots`, descriptors) hold `values`. */
static PyObject *made_of(PyTypeObject *type, PyObject **slots, PyObject **values, int count)
{
    PyObject *made = type->tp_new(type, empty_tuple, NULL);
    if (made == NULL) return NULL;
    for (int i = 0; i < count; i++) {
        if (Py_TYPE(slots[i])->tp_descr_set(slots[i], made, values[i]) < 0) {
            Py_DECREF(made);
            return NULL;
        }
    }
    return made;
}

static PyObject *configure(PyObject *self, PyObject *args)
{
    PyObject *type, *layer_index, *entry, *implicit;
    if (!PyArg_ParseTuple(args, "O!OOO:configure", &PyType_Type, &type, &layer_index, &entry,
                          &implicit))
        return NULL;
    PyObject *found[3] = {layer_index, entry, implicit};
    if (keep_class(type, found, 3, &placed_type, placed_slots) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *make_placed(PyObject *layer_index, PyObject *entry)
{
    PyObject *values[3] = {layer_index, entry, Py_False};
    return made_of(placed_type, placed_slots, values, 3);
}

/* The parent directory of the entry placed last and its set of children: tar writers list
 * siblings together, so most entries reuse both instead of slicing their path and looking the
 * parent up twice. Both stay valid for one place() call: it only adds to nodes and children. */
typedef struct {
    PyObject *parent; /* owned, or NULL */
    PyObject *kids;   /* owned, or NULL */
} Last;

static int same_parent(Last *last, PyObject *path, Py_ssize_t slash)
{
    if (last->parent == NULL || PyUnicode_GET_LENGTH(last->parent) != slash) return 0;
    if (PyUnicode_KIND(last->parent) != PyUnicode_KIND(path)) return 0;
    return memcmp(PyUnicode_DATA(last->parent), PyUnicode_DATA(path),
                  (size_t)slash * PyUnicode_KIND(path)) == 0;
}

/* 1: placed; 0: not the common case (nothing changed); -1: error. */
static int place_one(PyObject *layer_index, PyObject *entry, PyObject *nodes,
                     PyObject *children, PyObject *added, PyObject *removed, Last *last)
{
    PyObject *path = PyObject_GetAttr(entry, path_name);
    if (path == NULL) return -1;
    int outcome = 0;
    PyObject *parent = NULL, *placed = NULL;
    if (!PyUnicode_CheckExact(path)) goto done;
    Py_ssize_t length = PyUnicode_GET_LENGTH(path);
    if (length < 2) goto done; /* the root (or not a normalised path) */
    int known = PyDict_Contains(nodes, path);
    if (known != 0) { outcome = known < 0 ? -1 : 0; goto done; }
    if (PyDict_GET_SIZE(removed)) {
        int hidden = PyDict_Contains(removed, path);
        if (hidden != 0) { outcome = hidden < 0 ? -1 : 0; goto done; }
    }
    Py_ssize_t slash = PyUnicode_FindChar(path, '/', 0, length, -1);
    if (slash == -2) { outcome = -1; goto done; }
    if (slash < 0) goto done; /* not absolute: tree.py decides */
    PyObject *kids = NULL; /* borrowed */
    if (slash > 0 && same_parent(last, path, slash)) {
        kids = last->kids; /* the parent is in nodes: it was when it was cached */
    } else {
        if (slash == 0) {
            parent = Py_NewRef(root);
        } else {
            parent = PyUnicode_Substring(path, 0, slash);
            if (parent == NULL) { outcome = -1; goto done; }
            int present = PyDict_Contains(nodes, parent);
            if (present <= 0) { outcome = present; goto done; } /* a missing parent: tree.py */
        }
        kids = PyDict_GetItemWithError(children, parent);
        if (kids == NULL) {
            if (PyErr_Occurred()) { outcome = -1; goto done; }
            PyObject *fresh = PySet_New(NULL);
            if (fresh == NULL) { outcome = -1; goto done; }
            int stored = PyDict_SetItem(children, parent, fresh);
            Py_DECREF(fresh); /* children holds it */
            if (stored < 0) { outcome = -1; goto done; }
            kids = fresh;
        }
        Py_INCREF(kids);
        Py_XSETREF(last->kids, kids);
        Py_XSETREF(last->parent, parent); /* the reference moves to last */
        parent = NULL;
    }
    placed = make_placed(layer_index, entry);
    if (placed == NULL) { outcome = -1; goto done; }
    if (PySet_Add(kids, path) < 0 || PyDict_SetItem(nodes, path, placed) < 0 ||
        PyList_Append(added, placed) < 0) {
        outcome = -1;
        goto done;
    }
    outcome = 1;
done:
    Py_XDECREF(placed);
    Py_XDECREF(parent);
    Py_DECREF(path);
    return outcome;
}

static PyObject *place(PyObject *self, PyObject *args)
{
    PyObject *layer_index, *entries, *nodes, *children, *added, *removed;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "OO!nO!O!O!O!:place", &layer_index, &PyList_Type, &entries,
                          &start, &PyDict_Type, &nodes, &PyDict_Type, &children, &PyList_Type,
                          &added, &PyDict_Type, &removed))
        return NULL;
    if (placed_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "place: configure() was not called");
        return NULL;
    }
    Last last = {NULL, NULL};
    Py_ssize_t i = start < 0 ? 0 : start;
    int outcome = 1;
    for (; i < PyList_GET_SIZE(entries); i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        Py_INCREF(entry);
        outcome = place_one(layer_index, entry, nodes, children, added, removed, &last);
        Py_DECREF(entry);
        if (outcome <= 0) break;
    }
    Py_XDECREF(last.parent);
    Py_XDECREF(last.kids);
    if (outcome < 0) return NULL;
    return PyLong_FromSsize_t(i);
}

/* ---- whiteouts ------------------------------------------------------------------------
 *
 * whiteout() does what tree.py's FsTree._whited_out and _removals do for a layer's whiteouts:
 * for each target (in order) that is in the tree and not the root, it removes everything below
 * it (children.pop of each directory met, depth first, kids in their set's order, as
 * _drop_descendants), then the target itself (as _unlink), and files a Removal(node, cause)
 * for each removed node in `removed` under its entry's path (the target's under the target),
 * descendants first. A layer of thousands of whiteouts spent most of its stacking there. */

static PyTypeObject *removal_type = NULL;
static PyObject *removal_slots[2]; /* before, cause */
static PyObject *entry_name = NULL; /* "entry" */

static PyObject *configure_removal(PyObject *self, PyObject *args)
{
    PyObject *type, *before, *cause;
    if (!PyArg_ParseTuple(args, "O!OO:configure_removal", &PyType_Type, &type, &before, &cause))
        return NULL;
    PyObject *found[2] = {before, cause};
    if (keep_class(type, found, 2, &removal_type, removal_slots) < 0) return NULL;
    Py_RETURN_NONE;
}

/* removed[key or node.entry.path] = Removal(node, cause); 0 or -1. */
static int file_removal(PyObject *removed, PyObject *key, PyObject *node, PyObject *cause)
{
    PyObject *path = NULL;
    if (key == NULL) {
        PyObject *entry = PyObject_GetAttr(node, entry_name);
        if (entry == NULL) return -1;
        path = PyObject_GetAttr(entry, path_name);
        Py_DECREF(entry);
        if (path == NULL) return -1;
        key = path;
    }
    int outcome = -1;
    PyObject *values[2] = {node, cause};
    PyObject *removal = made_of(removal_type, removal_slots, values, 2);
    if (removal == NULL) goto done;
    outcome = PyDict_SetItem(removed, key, removal);
done:
    Py_XDECREF(removal);
    Py_XDECREF(path);
    return outcome;
}

/* nodes.pop(key), raising KeyError as dict.pop does: a new reference, or NULL. */
static PyObject *pop_node(PyObject *nodes, PyObject *key)
{
    PyObject *node = PyDict_GetItemWithError(nodes, key);
    if (node == NULL) {
        if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    Py_INCREF(node);
    if (PyDict_DelItem(nodes, key) < 0) {
        Py_DECREF(node);
        return NULL;
    }
    return node;
}

/* Everything below `top` (not `top`): removed from nodes and children, filed in removed. */
static int drop_below(PyObject *top, PyObject *nodes, PyObject *children, PyObject *removed,
                      PyObject *cause)
{
    PyObject *pending = PyList_New(0);
    if (pending == NULL) return -1;
    int outcome = -1;
    if (PyList_Append(pending, top) < 0) goto done;
    while (PyList_GET_SIZE(pending)) {
        Py_ssize_t last = PyList_GET_SIZE(pending) - 1;
        PyObject *directory = Py_NewRef(PyList_GET_ITEM(pending, last));
        int cut = PyList_SetSlice(pending, last, last + 1, NULL);
        PyObject *kids = cut < 0 ? NULL : PyDict_GetItemWithError(children, directory);
        if (kids == NULL) {
            Py_DECREF(directory);
            if (cut < 0 || PyErr_Occurred()) goto done;
            continue;
        }
        Py_INCREF(kids);
        int gone = PyDict_DelItem(children, directory);
        Py_DECREF(directory);
        if (gone < 0) { Py_DECREF(kids); goto done; }
        /* an empty set is popped and yields nothing, as in tree.py */
        PyObject *each = PyObject_GetIter(kids);
        Py_DECREF(kids);
        if (each == NULL) goto done;
        PyObject *kid;
        while ((kid = PyIter_Next(each)) != NULL) {
            PyObject *node = pop_node(nodes, kid);
            int ok = node != NULL && file_removal(removed, NULL, node, cause) == 0
                     && PyList_Append(pending, kid) == 0;
            Py_XDECREF(node);
            Py_DECREF(kid);
            if (!ok) { Py_DECREF(each); goto done; }
        }
        Py_DECREF(each);
        if (PyErr_Occurred()) goto done;
    }
    outcome = 0;
done:
    Py_DECREF(pending);
    return outcome;
}

/* The target itself, as FsTree._unlink: out of nodes and out of its parent's children. */
static int unlink_target(PyObject *target, PyObject *nodes, PyObject *children,
                         PyObject *removed, PyObject *cause)
{
    PyObject *node = pop_node(nodes, target);
    if (node == NULL) return -1;
    int outcome = -1;
    PyObject *parent = NULL;
    Py_ssize_t length = PyUnicode_GET_LENGTH(target);
    Py_ssize_t slash = PyUnicode_FindChar(target, '/', 0, length, -1);
    if (slash == -2) goto done;
    /* parent_path: target[:target.rfind("/")] or "/" (rfind's -1 drops the last character) */
    Py_ssize_t end = slash >= 0 ? slash : length - 1;
    parent = end > 0 ? PyUnicode_Substring(target, 0, end) : Py_NewRef(root);
    if (parent == NULL) goto done;
    PyObject *siblings = PyDict_GetItemWithError(children, parent);
    if (siblings == NULL) {
        if (PyErr_Occurred()) goto done;
    } else {
        Py_INCREF(siblings);
        int bad = PySet_Discard(siblings, target) < 0
                  || (PySet_GET_SIZE(siblings) == 0 && PyDict_DelItem(children, parent) < 0);
        Py_DECREF(siblings);
        if (bad) goto done;
    }
    outcome = file_removal(removed, target, node, cause);
done:
    Py_XDECREF(parent);
    Py_DECREF(node);
    return outcome;
}

static PyObject *whiteout(PyObject *self, PyObject *args)
{
    PyObject *targets, *nodes, *children, *removed, *cause;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O:whiteout", &PyList_Type, &targets, &PyDict_Type,
                          &nodes, &PyDict_Type, &children, &PyDict_Type, &removed, &cause))
        return NULL;
    if (removal_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "whiteout: configure_removal() was not called");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(targets); i++) {
        PyObject *target = Py_NewRef(PyList_GET_ITEM(targets, i));
        int outcome = 0;
        if (!PyUnicode_CheckExact(target)) {
            PyErr_SetString(PyExc_TypeError, "whiteout: a target is not a str");
            outcome = -1;
        } else if (PyUnicode_Compare(target, root) != 0) {
            int known = PyDict_Contains(nodes, target);
            if (known < 0) outcome = -1;
            else if (known)
                outcome = drop_below(target, nodes, children, removed, cause) < 0
                          || unlink_target(target, nodes, children, removed, cause) < 0 ? -1 : 0;
        } else if (PyErr_Occurred()) {
            outcome = -1;
        }
        Py_DECREF(target);
        if (outcome < 0) return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- the leaves of a layer of plain paths ----------------------------------------------
 *
 * plain_leaves(entries, targets) is the short way of analysis/dive.py's _first_layer (its
 * _leaves and _near) in one pass: when every entry's path is plain (a str that starts with "/",
 * does not end with "/", holds no newline and no "/.wh."), it returns (leaves, near): leaves is
 * path -> size_bytes for every path that is not an ancestor of another (in the order of the
 * entries; a repeated path keeps its first place and its last size, as dict(zip(...)) does);
 * near is None when targets is None, else the entries (in order) whose path is in targets or
 * lies below one of them. Otherwise (and for no entries) None: dive.py decides with its Python
 * code. */

static PyObject *size_name = NULL; /* "size_bytes" */

/* A path dive.py's short way takes as it is; -1 on error. */
static int plain_path(PyObject *path)
{
    if (!PyUnicode_CheckExact(path)) return 0;
    Py_ssize_t length = PyUnicode_GET_LENGTH(path);
    if (length == 0 || PyUnicode_READ_CHAR(path, 0) != '/'
        || PyUnicode_READ_CHAR(path, length - 1) == '/')
        return 0;
    Py_ssize_t newline = PyUnicode_FindChar(path, '\n', 0, length, 1);
    if (newline != -1) return newline == -2 ? -1 : 0;
    static PyObject *marker = NULL; /* "/.wh." */
    if (marker == NULL && (marker = PyUnicode_InternFromString("/.wh.")) == NULL) return -1;
    Py_ssize_t at = PyUnicode_Find(path, marker, 0, length, 1);
    if (at != -1) return at == -2 ? -1 : 0;
    return 1;
}

/* rpartition("/")[0] of a str: a new reference ("" when there is no "/"), or NULL. */
static PyObject *head_of(PyObject *path)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(path);
    Py_ssize_t slash = PyUnicode_FindChar(path, '/', 0, length, -1);
    if (slash == -2) return NULL;
    return PyUnicode_Substring(path, 0, slash < 0 ? 0 : slash);
}

/* Adds `parent` and its own ancestors (down to, not including, "") to `ancestors`. */
static int add_ancestors(PyObject *ancestors, PyObject *parent)
{
    PyObject *current = Py_NewRef(parent);
    int outcome = 0;
    while (PyUnicode_GET_LENGTH(current) > 0) {
        int known = PySet_Contains(ancestors, current);
        if (known != 0) { outcome = known < 0 ? -1 : 0; break; }
        if (PySet_Add(ancestors, current) < 0) { outcome = -1; break; }
        PyObject *up = head_of(current);
        if (up == NULL) { outcome = -1; break; }
        Py_SETREF(current, up);
    }
    Py_DECREF(current);
    return outcome;
}

/* 1 when `directory` or one of its ancestors (up to, not including, "") is in targets (as
 * dive.py's _near walks it), 0 when none is, -1 on error. */
static int below_targets(PyObject *targets, PyObject *directory)
{
    PyObject *current = Py_NewRef(directory);
    int outcome = 0;
    while (PyUnicode_GET_LENGTH(current) > 0) {
        int hit = PySet_Contains(targets, current);
        if (hit != 0) { outcome = hit; break; }
        PyObject *up = head_of(current);
        if (up == NULL) { outcome = -1; break; }
        Py_SETREF(current, up);
    }
    Py_DECREF(current);
    return outcome;
}

static PyObject *plain_leaves(PyObject *self, PyObject *args)
{
    PyObject *entries, *targets;
    if (!PyArg_ParseTuple(args, "OO:plain_leaves", &entries, &targets)) return NULL;
    if (targets != Py_None && !PyAnySet_Check(targets)) {
        PyErr_SetString(PyExc_TypeError, "plain_leaves: targets must be a set or None");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(entries, "plain_leaves: entries must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    if (count == 0) { /* dive.py's short way does not take an empty layer either */
        Py_DECREF(seq);
        Py_RETURN_NONE;
    }
    PyObject *leaves = PyDict_New(), *ancestors = PySet_New(NULL);
    PyObject *near = targets == Py_None ? Py_NewRef(Py_None) : PyList_New(0);
    PyObject *result = NULL, *last = NULL;
    int last_below = 0;
    if (leaves == NULL || ancestors == NULL || near == NULL) goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *entry = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *path = PyObject_GetAttr(entry, path_name);
        if (path == NULL) goto done;
        int plain = plain_path(path);
        if (plain <= 0) {
            Py_DECREF(path);
            if (plain == 0) result = Py_NewRef(Py_None);
            goto done;
        }
        PyObject *size = PyObject_GetAttr(entry, size_name);
        int stored = size == NULL ? -1 : PyDict_SetItem(leaves, path, size);
        Py_XDECREF(size);
        Py_ssize_t slash =
            stored < 0 ? -2 : PyUnicode_FindChar(path, '/', 0, PyUnicode_GET_LENGTH(path), -1);
        int same = slash >= 0 && last != NULL && PyUnicode_GET_LENGTH(last) == slash
                   && PyUnicode_KIND(last) == PyUnicode_KIND(path)
                   && memcmp(PyUnicode_DATA(last), PyUnicode_DATA(path),
                             (size_t)slash * PyUnicode_KIND(path)) == 0;
        if (slash >= 0 && !same) {
            PyObject *parent = PyUnicode_Substring(path, 0, slash);
            if (parent == NULL) slash = -2;
            else {
                Py_XSETREF(last, parent);
                if (add_ancestors(ancestors, parent) < 0) slash = -2;
                else if (near != Py_None && (last_below = below_targets(targets, parent)) < 0)
                    slash = -2;
            }
        }
        int keep = 0;
        if (slash >= 0 && near != Py_None) {
            keep = last_below ? 1 : PySet_Contains(targets, path);
            if (keep > 0 && PyList_Append(near, entry) < 0) keep = -1;
        }
        Py_DECREF(path);
        if (slash < 0 || keep < 0) goto done; /* -2: an error (a plain path has a "/") */
    }
    {
        PyObject *each = PyObject_GetIter(ancestors), *ancestor;
        if (each == NULL) goto done;
        while ((ancestor = PyIter_Next(each)) != NULL) {
            int known = PyDict_Contains(leaves, ancestor);
            int bad = known < 0 || (known && PyDict_DelItem(leaves, ancestor) < 0);
            Py_DECREF(ancestor);
            if (bad) { Py_DECREF(each); goto done; }
        }
        Py_DECREF(each);
        if (PyErr_Occurred()) goto done;
    }
    result = PyTuple_Pack(2, leaves, near);
done:
    Py_XDECREF(last);
    Py_XDECREF(near);
    Py_XDECREF(ancestors);
    Py_XDECREF(leaves);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef methods[] = {
    {"plain_leaves", plain_leaves, METH_VARARGS,
     "plain_leaves(entries, targets) -> (leaves, near) when every path is plain, else None: "
     "the short way of dive.py's first layer."},
    {"configure_removal", configure_removal, METH_VARARGS,
     "configure_removal(Removal, before_slot, cause_slot): the class whiteout() makes."},
    {"whiteout", whiteout, METH_VARARGS,
     "whiteout(targets, nodes, children, removed, cause): remove each target in the tree (and "
     "everything below it), filing Removal(node, cause) per removed node in removed."},
    {"configure", configure, METH_VARARGS,
     "configure(Placed, layer_index_slot, entry_slot, implicit_slot): the class place() makes."},
    {"place", place, METH_VARARGS,
     "place(layer_index, entries, start, nodes, children, added, removed) -> index of the "
     "first entry from start that is not a new path under an existing parent (len: none)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "layerscope._stack",
    "The common case of layerscope's overlay stacking in C (optional; layerscope.tree falls "
    "back to Python).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__stack(void)
{
    empty_tuple = PyTuple_New(0);
    root = PyUnicode_InternFromString("/");
    path_name = PyUnicode_InternFromString("path");
    entry_name = PyUnicode_InternFromString("entry");
    size_name = PyUnicode_InternFromString("size_bytes");
    if (empty_tuple == NULL || root == NULL || path_name == NULL || entry_name == NULL
        || size_name == NULL)
        return NULL;
    return PyModule_Create(&module);
}
