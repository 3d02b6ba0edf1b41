/*
 * layerscope._tarwalk: the hot loop of the tar walk (layerscope/layers/walk.py) in C.
 *
 * walk() reads as many *ordinary* tar entries as fit in a buffer and appends them to the
 * walker's entry list exactly as the pure-Python walker would. It stops, without consuming
 * anything, at the first header it is not sure about (PAX and GNU long-name records, sparse
 * files, devices, whiteouts, '..' in a name or link, a kept package-database file, a number
 * that is not plain octal, a bad checksum, an entry whose data runs past the buffer, the end
 * of the archive); the Python walker then handles that one entry with its general code and
 * calls back. So the Python walker stays the definition of every rule, and this file only
 * has to agree with it on the common case (tests/test_native_walker.py checks that it does
 * on every archive of the test corpus and the dive fixtures).
 *
 * File contents are hashed with xxh3-64 from the vendored reference header (the one the
 * `xxhash` PyPI package compiles in). Files of WORKER_BYTES and more are hashed on a worker
 * thread, without the GIL, while this loop parses the next headers and builds entries (the
 * second core works inside one layer too); their hashes are stored before walk() returns, or,
 * with a Pending object (one layer's walk), before Pending.finish() returns.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include "xxhash/xxhash.h"

#define BLOCK 512
#define NFIELDS 12
#define PYC_HEADER_BYTES 16
#ifndef GIL_FREE_BYTES
#define GIL_FREE_BYTES (256 * 1024)
#endif
/* Regular files at least this big are hashed on a worker thread while the walker goes on
 * (measured in benchmarks/README.md, "the walker's worker thread") ... */
#ifndef WORKER_BYTES
#define WORKER_BYTES (64 * 1024)
#endif
/* ... at most this many at once (then the walker waits for them and starts over). */
#define WORKER_JOBS 1024

/* Set by configure() (again when a scan keeps more files): the FileEntry class, its slot
 * descriptors in field order, the EntryKind members, the suffixes of kept files and the root
 * names that are format metadata. */
static PyTypeObject *entry_type = NULL;
static PyObject *slots[NFIELDS];
static PyObject *kind_file, *kind_dir, *kind_symlink, *kind_hardlink, *kind_fifo;
static PyObject *kept_suffixes = NULL;  /* tuple of bytes */
static PyObject *meta_names = NULL;     /* tuple of bytes */
static Py_ssize_t kept_max_bytes = 0;
static PyObject *empty_tuple = NULL;

static Py_ssize_t slot_offset[NFIELDS]; /* where each slot lives in a FileEntry */

static const char *FIELDS[NFIELDS] = {
    "path", "kind", "size_bytes", "mode", "uid", "gid", "mtime",
    "link_target", "content_hash", "xattrs", "device", "body_hash",
};

/* ---- per-file hashes ----------------------------------------------------------------- */

/* Every hash the walker records for a regular file: xxh3 of its bytes and, for a .pyc, of
 * its bytes after the header. Another hash is one more field here, one more line in
 * hash_into() and one more FileEntry field set in make_entry(). */
typedef struct {
    uint64_t xxh3;
    uint64_t body; /* a .pyc's bytes after its 16-byte header (layers/filedata.py: body_hash) */
} FileHashes;

static void hash_into(const unsigned char *data, Py_ssize_t size, int pyc, FileHashes *out)
{
    out->xxh3 = XXH3_64bits(data, (size_t)size);
    out->body = pyc ? XXH3_64bits(data + PYC_HEADER_BYTES, (size_t)(size - PYC_HEADER_BYTES)) : 0;
}

/* pyc: also hash the bytes after the header (the caller checked size >= PYC_HEADER_BYTES). */
static void file_hashes(const unsigned char *data, Py_ssize_t size, int pyc, FileHashes *out)
{
    if (size >= GIL_FREE_BYTES) {
        Py_BEGIN_ALLOW_THREADS
        hash_into(data, size, pyc, out);
        Py_END_ALLOW_THREADS
    } else {
        hash_into(data, size, pyc, out);
    }
}

static PyObject *hex64(uint64_t value)
{
    static const char digits[] = "0123456789abcdef";
    PyObject *text = PyUnicode_New(16, 127);
    if (text == NULL) return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(text);
    for (int i = 15; i >= 0; i--) {
        out[i] = (Py_UCS1)digits[value & 0xF];
        value >>= 4;
    }
    return text;
}

/* ---- header fields ------------------------------------------------------------------- */

/* int(field.strip(b" \0") or b"0", 8) for fields that are plain octal digits; -1 otherwise
 * (the Python walker then decides: base-256, signs, garbage). */
static int64_t plain_octal(const unsigned char *field, int len)
{
    int start = 0, end = len;
    while (start < end && (field[start] == ' ' || field[start] == 0)) start++;
    while (end > start && (field[end - 1] == ' ' || field[end - 1] == 0)) end--;
    int64_t value = 0;
    for (int i = start; i < end; i++) {
        unsigned char c = field[i];
        if (c < '0' || c > '7') return -1;
        value = value * 8 + (c - '0');
    }
    return value;
}

static int checksum_ok(const unsigned char *h)
{
    int64_t stored = plain_octal(h + 148, 8);
    if (stored < 0) return 0;
    /* the sum of the header with its checksum field counted as eight spaces; one plain loop
     * over the block (the compiler vectorises it), the field's own bytes taken back out */
    uint32_t total = 0, field = 0;
    for (int i = 0; i < BLOCK; i++) total += h[i];
    for (int i = 148; i < 156; i++) field += h[i];
    int64_t unsigned_sum = (int64_t)total - field + 8 * ' ';
    if (unsigned_sum == stored) return 1;
    int64_t signed_sum = 8 * ' '; /* old tars summed signed chars */
    for (int i = 0; i < BLOCK; i++)
        if (i < 148 || i >= 156) signed_sum += (signed char)h[i];
    return signed_sum == stored;
}

static Py_ssize_t cstrlen(const unsigned char *field, Py_ssize_t len)
{
    const unsigned char *nul = memchr(field, 0, (size_t)len);
    return nul ? (Py_ssize_t)(nul - field) : len;
}

static int contains(const char *s, Py_ssize_t n, const char *needle)
{
    size_t k = strlen(needle);
    if ((size_t)n < k) return 0;
    for (Py_ssize_t i = 0; i + (Py_ssize_t)k <= n; i++)
        if (memcmp(s + i, needle, k) == 0) return 1;
    return 0;
}

/* Normalise a member name as tree.normalize_member_path does, into out (which gets a leading
 * '/'). Returns the length, or -1 when Python must decide: a '..' component (an escape or a
 * climb that normpath resolves), or a name that normalises to the root. */
static Py_ssize_t normalize(const char *name, Py_ssize_t n, char *out)
{
    if (n <= 0 || n > BLOCK) return -1; /* (never: names come from one header) */
    int general = name[0] == '.' || name[0] == '/' || contains(name, n, "//")
        || contains(name, n, "/.");
    Py_ssize_t len = 0;
    if (!general) {
        while (n > 0 && name[n - 1] == '/') n--;
        out[0] = '/';
        memcpy(out + 1, name, (size_t)n);
        len = n + 1;
    } else {
        Py_ssize_t i = 0;
        while (i < n) {
            while (i < n && name[i] == '/') i++;
            Py_ssize_t start = i;
            while (i < n && name[i] != '/') i++;
            Py_ssize_t part = i - start;
            if (part == 0 || (part == 1 && name[start] == '.')) continue;
            if (part == 2 && name[start] == '.' && name[start + 1] == '.') return -1;
            out[len++] = '/';
            memcpy(out + len, name + start, (size_t)part);
            len += part;
        }
    }
    return len > 1 ? len : -1;
}

static int ends_with_any(const char *s, Py_ssize_t n, PyObject *suffixes)
{
    Py_ssize_t count = PyTuple_GET_SIZE(suffixes);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *suffix = PyTuple_GET_ITEM(suffixes, i);
        Py_ssize_t k = PyBytes_GET_SIZE(suffix);
        if (k <= n && memcmp(s + n - k, PyBytes_AS_STRING(suffix), (size_t)k) == 0) return 1;
    }
    return 0;
}

static int is_meta_name(const char *path, Py_ssize_t n)
{
    /* path is "/" + base with no other slash: is base one of the format-metadata names? */
    if (memchr(path + 1, '/', (size_t)(n - 1)) != NULL) return 0;
    Py_ssize_t count = PyTuple_GET_SIZE(meta_names);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *m = PyTuple_GET_ITEM(meta_names, i);
        if (PyBytes_GET_SIZE(m) == n - 1 && memcmp(path + 1, PyBytes_AS_STRING(m), (size_t)(n - 1)) == 0)
            return 1;
    }
    return 0;
}

static PyObject *decode(const char *s, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return PyUnicode_DecodeUTF8(s, n, "surrogateescape");
    PyObject *text = PyUnicode_New(n, 127); /* ASCII, the usual case: a copy */
    if (text != NULL) memcpy(PyUnicode_1BYTE_DATA(text), s, (size_t)n);
    return text;
}

/* Replace one slot of an entry this file made (its __init__ only assigns the fields; the
 * dataclass is frozen, which only its __setattr__ enforces). Steals value. */
static void put_slot(PyObject *entry, int field, PyObject *value)
{
    PyObject **at = (PyObject **)((char *)entry + slot_offset[field]);
    PyObject *old = *at;
    *at = value;
    Py_XDECREF(old);
}

/* A FileEntry with its slots stored directly. Steals nothing; a new reference or NULL. */
static PyObject *make_entry(PyObject *values[NFIELDS])
{
    PyObject *entry = entry_type->tp_alloc(entry_type, 0);
    if (entry == NULL) return NULL;
    for (int i = 0; i < NFIELDS; i++) {
        Py_INCREF(values[i]);
        put_slot(entry, i, values[i]);
    }
    return entry;
}

/* ---- the worker thread --------------------------------------------------------------- */

/* Big files are hashed on a worker thread (no GIL, pure C) while the walker parses the next
 * headers and builds entries; their entries get their hashes when the worker is done. Without
 * a Pending object walk() waits for that before it returns; with one (a whole layer's walk:
 * layers/walk.py), the jobs of a window may run on while the walker maps and walks the next
 * one: walk() keeps the window's buffer until they are done (waiting for them at the end of
 * the next window with jobs), and Pending.finish() stores the rest before the layer's entries
 * are used (and before the Python walker looks up a hard link's target). One worker per
 * layer: layers walked on two threads each have their own. */
typedef struct {
    const unsigned char *data;
    Py_ssize_t size;
    int pyc;
    int done;        /* under lock */
    PyObject *entry; /* owned until its hashes are stored */
    FileHashes hashes;
} Job;

typedef struct {
    Job *jobs;
    Py_ssize_t cap;
    /* under lock: jobs [0, published) were handed in; the worker takes them from `taken` on,
     * the walker (waiting in hasher_drain) from `limit` down; `finished` are hashed */
    Py_ssize_t published, taken, limit, finished;
    Py_ssize_t stored;  /* jobs [0, stored) have their hashes in their entries (walker only) */
    Py_ssize_t current; /* jobs handed in by this walk() call since the last full drain */
    int started, closing;
    int holding;             /* a window's buffer kept for its jobs ... */
    Py_buffer held;          /* ... this one ... */
    Py_ssize_t held_jobs;    /* ... until jobs [0, held_jobs) are done */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the worker waits for jobs */
    pthread_cond_t idle; /* the walker waits for the worker */
} Hasher;

/* Hash a job taken under the lock (released meanwhile; held again on return). */
static void run_job(Hasher *h, Job *job)
{
    pthread_mutex_unlock(&h->lock);
    hash_into(job->data, job->size, job->pyc, &job->hashes);
    pthread_mutex_lock(&h->lock);
    job->done = 1;
    h->finished++;
}

static void *hasher_main(void *arg)
{
    Hasher *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (h->taken == h->limit && !h->closing) pthread_cond_wait(&h->wake, &h->lock);
        if (h->taken == h->limit) break;
        run_job(h, &h->jobs[h->taken++]);
        pthread_cond_broadcast(&h->idle);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

/* Store the hashes of jobs [stored, upto) (all done) in their entries. -1: a Python error
 * (every job is released all the same). */
static int hasher_store(Hasher *h, Py_ssize_t upto)
{
    int status = 0;
    for (Py_ssize_t i = h->stored; i < upto; i++) {
        Job *job = &h->jobs[i];
        if (status == 0) {
            PyObject *hex = hex64(job->hashes.xxh3);
            PyObject *body = job->pyc && hex != NULL ? hex64(job->hashes.body) : NULL;
            if (hex == NULL || (job->pyc && body == NULL)) {
                Py_XDECREF(hex);
                status = -1;
            } else {
                put_slot(job->entry, 8, hex);
                if (job->pyc) put_slot(job->entry, 11, body);
            }
        }
        Py_DECREF(job->entry);
    }
    if (upto > h->stored) h->stored = upto;
    return status;
}

/* Jobs [0, upto) done (the walker hashes the ones the worker has not taken, from the front)
 * and stored. */
static int hasher_settle(Hasher *h, Py_ssize_t upto)
{
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&h->lock);
    while (h->taken < upto && h->taken < h->limit) run_job(h, &h->jobs[h->taken++]);
    for (Py_ssize_t i = h->stored; i < upto; i++)
        while (!h->jobs[i].done) pthread_cond_wait(&h->idle, &h->lock);
    pthread_mutex_unlock(&h->lock);
    Py_END_ALLOW_THREADS
    return hasher_store(h, upto);
}

static void hasher_release_held(Hasher *h)
{
    if (h->holding) {
        h->holding = 0;
        PyBuffer_Release(&h->held);
    }
}

/* Hash the jobs the worker has not taken yet here, from the last one back (the worker goes on
 * from the first), wait for the one it is on, store every job's hashes in its entry and let go
 * of the kept buffer. */
static int hasher_drain(Hasher *h)
{
    if (!h->started) return 0;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&h->lock);
    while (h->taken < h->limit) run_job(h, &h->jobs[--h->limit]);
    while (h->finished < h->published) pthread_cond_wait(&h->idle, &h->lock);
    pthread_mutex_unlock(&h->lock);
    Py_END_ALLOW_THREADS
    int status = hasher_store(h, h->published);
    pthread_mutex_lock(&h->lock);
    h->published = h->taken = h->limit = h->finished = 0;
    pthread_mutex_unlock(&h->lock);
    h->stored = h->current = 0;
    hasher_release_held(h);
    return status;
}

/* Hand a file's bytes to the worker (started on first use); 0: not taken (hash it here). */
static int hasher_take(Hasher *h, const unsigned char *data, Py_ssize_t size, int pyc,
                       PyObject *entry)
{
    if (!h->started) {
        h->cap = WORKER_JOBS;
        h->jobs = PyMem_RawMalloc((size_t)h->cap * sizeof(Job));
        if (h->jobs == NULL) return 0;
        h->published = h->taken = h->limit = h->finished = h->stored = 0;
        h->closing = 0;
        pthread_mutex_init(&h->lock, NULL);
        pthread_cond_init(&h->wake, NULL);
        pthread_cond_init(&h->idle, NULL);
        if (pthread_create(&h->thread, NULL, hasher_main, h) != 0) {
            pthread_mutex_destroy(&h->lock);
            pthread_cond_destroy(&h->wake);
            pthread_cond_destroy(&h->idle);
            PyMem_RawFree(h->jobs);
            h->jobs = NULL;
            return 0;
        }
        h->started = 1;
    }
    if (h->published == h->cap && hasher_drain(h) < 0) return -1;
    Job *job = &h->jobs[h->published];
    job->data = data;
    job->size = size;
    job->pyc = pyc;
    job->done = 0;
    job->entry = entry;
    Py_INCREF(entry);
    h->current++;
    pthread_mutex_lock(&h->lock);
    h->limit = ++h->published;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    return 1;
}

/* Every job done and stored, the kept buffer let go, the worker gone. */
static int hasher_finish(Hasher *h)
{
    if (!h->started) return 0;
    int status = hasher_drain(h);
    pthread_mutex_lock(&h->lock);
    h->closing = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    Py_BEGIN_ALLOW_THREADS
    pthread_join(h->thread, NULL);
    Py_END_ALLOW_THREADS
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->wake);
    pthread_cond_destroy(&h->idle);
    PyMem_RawFree(h->jobs);
    h->started = 0;
    return status;
}

/* End of a walk() call whose buffer is `view`: with jobs of this call still running, keep the
 * buffer (after settling the jobs of the one kept before); else let it go. */
static int hasher_end_call(Hasher *h, Py_buffer *view)
{
    int status = 0;
    if (h->started && h->current > 0) {
        if (h->holding) {
            status = hasher_settle(h, h->held_jobs);
            hasher_release_held(h);
        }
        h->held = *view; /* the buffer is the hasher's now */
        h->held_jobs = h->published;
        h->holding = 1;
    } else {
        PyBuffer_Release(view);
    }
    h->current = 0;
    return status;
}

/* Pending: a layer's hasher across walk() calls (layers/walk.py). */
typedef struct {
    PyObject_HEAD
    Hasher hasher;
} Pending;

static PyObject *pending_finish(PyObject *self, PyObject *unused)
{
    if (hasher_finish(&((Pending *)self)->hasher) < 0) return NULL;
    Py_RETURN_NONE;
}

static void pending_dealloc(PyObject *self)
{
    PyObject *type, *value, *trace;
    PyErr_Fetch(&type, &value, &trace);
    if (hasher_finish(&((Pending *)self)->hasher) < 0) PyErr_Clear();
    PyErr_Restore(type, value, trace);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *pending_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    Pending *self = (Pending *)type->tp_alloc(type, 0); /* zeroed: not started, holding nothing */
    return (PyObject *)self;
}

static PyMethodDef pending_methods[] = {
    {"finish", pending_finish, METH_NOARGS,
     "Wait for every big file's hash, store it in its entry, stop the worker thread."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PendingType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "layerscope._tarwalk.Pending",
    .tp_basicsize = sizeof(Pending),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The hash worker of one layer's walk, shared by its walk() calls.",
    .tp_new = pending_new,
    .tp_dealloc = pending_dealloc,
    .tp_methods = pending_methods,
};

/* ---- the populater thread ----------------------------------------------------------- */

/* A window mapped from a file (walk(..., populate=1)) comes without its page-table entries:
 * mapping them costs about as much as hashing the bytes. A populater thread maps them ahead
 * of the walker (MADV_POPULATE_READ, Linux 5.14+; elsewhere, or on an older kernel, it stops at
 * once and the walker's reads fault the pages in as before). It needs no GIL, so it starts
 * at once; walk() joins it before it returns. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#define POPULATE_MIN_BYTES (1 << 20) /* smaller windows: not worth a thread */
#define POPULATE_STEP (1 << 20)

typedef struct {
    const unsigned char *start;
    Py_ssize_t len;
    int started;
    int stop; /* set (atomically) once the walker is past the window: the rest is not needed */
    pthread_t thread;
} Populater;

static void *populate_main(void *arg)
{
#ifdef __linux__
    Populater *p = arg;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t at = (uintptr_t)p->start & ~(page - 1), end = (uintptr_t)p->start + (uintptr_t)p->len;
    while (at < end && !__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
        size_t step = end - at < POPULATE_STEP ? end - at : POPULATE_STEP;
        if (madvise((void *)at, step, MADV_POPULATE_READ) != 0) break;
        at += step;
    }
#else
    (void)arg;
#endif
    return NULL;
}

static void populater_start(Populater *p, const unsigned char *start, Py_ssize_t len)
{
    p->started = 0;
    if (len < POPULATE_MIN_BYTES) return;
    p->start = start;
    p->len = len;
    p->stop = 0;
    p->started = pthread_create(&p->thread, NULL, populate_main, p) == 0;
}

static void populater_join(Populater *p)
{
    if (!p->started) return;
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
    Py_BEGIN_ALLOW_THREADS
    pthread_join(p->thread, NULL);
    Py_END_ALLOW_THREADS
    p->started = 0;
}

/* ---- the walk ------------------------------------------------------------------------ */

typedef struct {
    const unsigned char *buf;
    Py_ssize_t len;
    PyObject *entries;  /* list of FileEntry */
    PyObject *index_of; /* dict path -> position in entries */
    Hasher *hasher; /* the Pending object's, or the call's own */
    /* the last mode, uid, gid and mtime as ints: the entries of a layer mostly share them, and
     * sharing one int object is invisible (ints are immutable) and saves an allocation each */
    int64_t last[4];
    PyObject *last_int[4];
} Walk;

/* The int value of field `which` (0 mode, 1 uid, 2 gid, 3 mtime): a new reference. */
static PyObject *shared_int(Walk *w, int which, int64_t value)
{
    if (w->last_int[which] != NULL && w->last[which] == value) {
        Py_INCREF(w->last_int[which]);
        return w->last_int[which];
    }
    PyObject *made = PyLong_FromLongLong(value);
    if (made == NULL) return NULL;
    Py_INCREF(made);
    Py_XSETREF(w->last_int[which], made);
    w->last[which] = value;
    return made;
}

/* One entry at pos. Returns the bytes it used (> 0), 0 to hand it to Python, -1 on error. */
static Py_ssize_t walk_one(Walk *w, Py_ssize_t pos, int64_t *total)
{
    const unsigned char *h = w->buf + pos;
    if (w->len - pos < BLOCK || h[0] == 0 || !checksum_ok(h)) return 0;
    unsigned char type = h[156];
    PyObject *kind;
    switch (type) {
    case '0': case 0: case '7': kind = kind_file; break;
    case '5': kind = kind_dir; break;
    case '2': kind = kind_symlink; break;
    case '1': kind = kind_hardlink; break;
    case '6': kind = kind_fifo; break;
    default: return 0;
    }
    int64_t size = plain_octal(h + 124, 12);
    int64_t mode = plain_octal(h + 100, 8);
    int64_t uid = plain_octal(h + 108, 8);
    int64_t gid = plain_octal(h + 116, 8);
    int64_t mtime = plain_octal(h + 136, 12);
    if (size < 0 || mode < 0 || uid < 0 || gid < 0 || mtime < 0) return 0;
    int64_t padded = (size + BLOCK - 1) & ~(int64_t)(BLOCK - 1);
    if (padded > w->len - pos - BLOCK) return 0;

    /* name, with the ustar prefix */
    char name[BLOCK];
    Py_ssize_t name_len = cstrlen(h, 100), n = 0;
    if (memcmp(h + 257, "ustar\0", 6) == 0 && h[345]) {
        Py_ssize_t prefix_len = cstrlen(h + 345, 155);
        memcpy(name, h + 345, (size_t)prefix_len);
        name[prefix_len] = '/';
        n = prefix_len + 1;
    }
    memcpy(name + n, h, (size_t)name_len);
    n += name_len;
    char path[BLOCK + 1];
    Py_ssize_t path_len = normalize(name, n, path);
    if (path_len < 0) return 0;
    if (kind == kind_file && name[n - 1] == '/' && size == 0) kind = kind_dir;
    if (contains(path, path_len, ".wh.") || is_meta_name(path, path_len)) return 0;

    const char *link = (const char *)h + 157;
    Py_ssize_t link_len = cstrlen(h + 157, 100);
    char link_norm[BLOCK + 1];
    Py_ssize_t link_norm_len = 0;
    if (kind == kind_symlink) {
        if (contains(link, link_len, "..")) return 0;
    } else if (kind == kind_hardlink) {
        Py_ssize_t skip = 0;
        while (skip < link_len && link[skip] == '/') skip++;
        if (skip == link_len) return 0;
        link_norm_len = normalize(link + skip, link_len - skip, link_norm);
        if (link_norm_len < 0) return 0;
    }
    FileHashes hashes = {0, 0};
    int is_file = kind == kind_file;
    int pyc = is_file && size >= PYC_HEADER_BYTES && path_len >= 4
              && memcmp(path + path_len - 4, ".pyc", 4) == 0;
    int later = is_file && size >= WORKER_BYTES; /* for the worker thread */
    if (is_file) {
        if (size <= kept_max_bytes && ends_with_any(path, path_len, kept_suffixes)) return 0;
        if (!later) file_hashes(h + BLOCK, (Py_ssize_t)size, pyc, &hashes);
    }

    /* committed: build the entry */
    PyObject *values[NFIELDS] = {NULL};
    PyObject *entry = NULL;
    Py_ssize_t used = -1;
    values[0] = decode(path, path_len);
    values[1] = kind;
    Py_INCREF(kind);
    values[2] = PyLong_FromLongLong(is_file ? size : 0);
    values[3] = shared_int(w, 0, mode & 07777);
    values[4] = shared_int(w, 1, uid);
    values[5] = shared_int(w, 2, gid);
    values[6] = shared_int(w, 3, mtime);
    values[7] = Py_None;
    values[8] = Py_None;
    Py_INCREF(Py_None);
    Py_INCREF(Py_None);
    values[9] = empty_tuple;
    Py_INCREF(empty_tuple);
    values[10] = Py_None;
    Py_INCREF(Py_None);
    values[11] = Py_None;
    Py_INCREF(Py_None);
    for (int i = 0; i < 7; i++)
        if (values[i] == NULL) goto done;
    if (is_file && !later) {
        Py_SETREF(values[8], hex64(hashes.xxh3));
        if (values[8] == NULL) goto done;
        if (pyc) {
            Py_SETREF(values[11], hex64(hashes.body));
            if (values[11] == NULL) goto done;
        }
    } else if (kind == kind_symlink) {
        Py_SETREF(values[7], decode(link, link_len));
        if (values[7] == NULL) goto done;
    } else if (kind == kind_hardlink) {
        Py_SETREF(values[7], decode(link_norm, link_norm_len));
        if (values[7] == NULL) goto done;
        if (hasher_drain(w->hasher) < 0) goto done; /* the target may be waiting for its hash */
        PyObject *at = PyDict_GetItemWithError(w->index_of, values[7]);
        if (at != NULL) {
            PyObject *target = PyList_GetItem(w->entries, PyLong_AsSsize_t(at));
            if (target == NULL) goto done;
            PyObject *hash = PyObject_GetAttrString(target, "content_hash");
            if (hash == NULL) goto done;
            Py_SETREF(values[8], hash);
            PyObject *body = PyObject_GetAttrString(target, "body_hash");
            if (body == NULL) goto done;
            Py_SETREF(values[11], body);
        } else if (PyErr_Occurred()) {
            goto done;
        }
    }
    entry = make_entry(values);
    if (entry == NULL) goto done;
    /* an entry holds strs, ints, None, an empty tuple and an enum member: it can be in no
     * reference cycle, so the cyclic collector need never look at the 100k of a big layer */
    if (PyType_IS_GC(entry_type)) PyObject_GC_UnTrack(entry);
    if (later) {
        int took = hasher_take(w->hasher, h + BLOCK, (Py_ssize_t)size, pyc, entry);
        if (took < 0) goto done;
        if (!took) { /* no thread: hash it here */
            file_hashes(h + BLOCK, (Py_ssize_t)size, pyc, &hashes);
            PyObject *hex = hex64(hashes.xxh3);
            if (hex == NULL) goto done;
            put_slot(entry, 8, hex);
            if (pyc) {
                if ((hex = hex64(hashes.body)) == NULL) goto done;
                put_slot(entry, 11, hex);
            }
        }
    }
    {
        Py_ssize_t count = PyList_GET_SIZE(w->entries);
        PyObject *next = PyLong_FromSsize_t(count);
        if (next == NULL) goto done;
        PyObject *at = PyDict_SetDefault(w->index_of, values[0], next);
        Py_DECREF(next);
        if (at == NULL) goto done;
        Py_ssize_t where = PyLong_AsSsize_t(at);
        if (where == count) {
            if (PyList_Append(w->entries, entry) < 0) goto done;
        } else {
            Py_INCREF(entry);
            if (PyList_SetItem(w->entries, where, entry) < 0) goto done;
        }
    }
    if (is_file) *total += size;
    used = BLOCK + (Py_ssize_t)padded;
done:
    Py_XDECREF(entry);
    for (int i = 0; i < NFIELDS; i++) Py_XDECREF(values[i]);
    return used;
}

static PyObject *walk(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos;
    Walk w;
    if (entry_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "layerscope._tarwalk.configure() was not called");
        return NULL;
    }
    int populate = 0;
    PyObject *pending = Py_None;
    Populater populater = {NULL, 0, 0, 0};
    Hasher own;
    if (!PyArg_ParseTuple(args, "y*nO!O!|pO", &view, &pos, &PyList_Type, &w.entries,
                          &PyDict_Type, &w.index_of, &populate, &pending))
        return NULL;
    if (pending != Py_None && !PyObject_TypeCheck(pending, &PendingType)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_TypeError, "pending must be a layerscope._tarwalk.Pending or None");
        return NULL;
    }
    if (pos < 0 || pos > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "position outside the buffer");
        return NULL;
    }
    memset(&own, 0, sizeof own);
    w.hasher = pending == Py_None ? &own : &((Pending *)pending)->hasher;
    w.hasher->current = 0;
    w.buf = view.buf;
    w.len = view.len;
    for (int i = 0; i < 4; i++) w.last_int[i] = NULL;
    int64_t total = 0;
    Py_ssize_t count = 0;
    if (populate) populater_start(&populater, w.buf + pos, w.len - pos);
    Py_ssize_t used;
    while ((used = walk_one(&w, pos, &total)) > 0) {
        pos += used;
        count++;
    }
    populater_join(&populater);
    int finished;
    if (w.hasher == &own) {
        /* the worker is done with the buffer before it is released (also after an error) */
        finished = hasher_finish(&own);
        PyBuffer_Release(&view);
    } else {
        /* the Pending object keeps the buffer while its jobs run (also after an error: the
         * caller's Pending.finish() waits for them) */
        finished = hasher_end_call(w.hasher, &view);
    }
    for (int i = 0; i < 4; i++) Py_XDECREF(w.last_int[i]);
    if (used < 0 || finished < 0) return NULL;
    return Py_BuildValue("nLn", pos, (long long)total, count);
}

static PyObject *configure(PyObject *self, PyObject *args)
{
    PyObject *type, *kinds, *suffixes, *names;
    Py_ssize_t max_bytes;
    if (!PyArg_ParseTuple(args, "O!O!O!O!n", &PyType_Type, &type, &PyTuple_Type, &kinds,
                          &PyTuple_Type, &suffixes, &PyTuple_Type, &names, &max_bytes))
        return NULL;
    if (PyTuple_GET_SIZE(kinds) != 5) {
        PyErr_SetString(PyExc_ValueError, "kinds: (FILE, DIR, SYMLINK, HARDLINK, FIFO)");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(suffixes); i++)
        if (!PyBytes_Check(PyTuple_GET_ITEM(suffixes, i))) {
            PyErr_SetString(PyExc_TypeError, "suffixes must be bytes");
            return NULL;
        }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++)
        if (!PyBytes_Check(PyTuple_GET_ITEM(names, i))) {
            PyErr_SetString(PyExc_TypeError, "names must be bytes");
            return NULL;
        }
    PyObject *found[NFIELDS];
    for (int i = 0; i < NFIELDS; i++) {
        found[i] = PyObject_GetAttrString(type, FIELDS[i]);
        if (found[i] == NULL || Py_TYPE(found[i]) != &PyMemberDescr_Type) {
            for (int j = 0; j <= i; j++) Py_XDECREF(found[j]);
            PyErr_Format(PyExc_TypeError, "%s is not a slot of the entry class", FIELDS[i]);
            return NULL;
        }
    }
    for (int i = 0; i < NFIELDS; i++) {
        PyMemberDef *member = ((PyMemberDescrObject *)found[i])->d_member;
        if (member->type != T_OBJECT_EX || (member->flags & READONLY)) {
            for (int j = 0; j < NFIELDS; j++) Py_DECREF(found[j]);
            PyErr_Format(PyExc_TypeError, "%s is not a writable object slot", FIELDS[i]);
            return NULL;
        }
        slot_offset[i] = member->offset;
    }
    for (int i = 0; i < NFIELDS; i++) Py_XSETREF(slots[i], found[i]);
    Py_INCREF(type);
    Py_XSETREF(entry_type, (PyTypeObject *)type);
    PyObject **targets[5] = {&kind_file, &kind_dir, &kind_symlink, &kind_hardlink, &kind_fifo};
    for (int i = 0; i < 5; i++) {
        PyObject *k = PyTuple_GET_ITEM(kinds, i);
        Py_INCREF(k);
        Py_XSETREF(*targets[i], k);
    }
    Py_INCREF(suffixes);
    Py_XSETREF(kept_suffixes, suffixes);
    Py_INCREF(names);
    Py_XSETREF(meta_names, names);
    kept_max_bytes = max_bytes;
    Py_RETURN_NONE;
}

static PyObject *xxh3_hex(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    FileHashes hashes;
    file_hashes(view.buf, view.len, 0, &hashes);
    PyBuffer_Release(&view);
    return hex64(hashes.xxh3);
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(FileEntry, (FILE, DIR, SYMLINK, HARDLINK, FIFO), kept_suffixes, meta_names, "
     "kept_max_bytes): tell the walker the classes it builds."},
    {"walk", walk, METH_VARARGS,
     "walk(buffer, pos, entries, index_of, populate=False, pending=None) -> (pos, file_bytes, "
     "count): append the ordinary entries from pos on; stop at the first one the Python walker "
     "must handle. populate: the buffer is a file mapped without its page-table entries; map "
     "them ahead. pending: a Pending shared by the calls of one layer's walk (its big files' "
     "hashes may then arrive after the call: Pending.finish() waits for them)."},
    {"xxh3_hex", xxh3_hex, METH_O, "xxh3-64 hex digest of a buffer, as the walker records it."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "layerscope._tarwalk",
    "The compiled hot loop of layerscope's tar walker (optional; layers/ falls back to Python).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__tarwalk(void)
{
    empty_tuple = PyTuple_New(0);
    if (empty_tuple == NULL) return NULL;
    if (PyType_Ready(&PendingType) < 0) return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL) return NULL;
    Py_INCREF(&PendingType);
    if (PyModule_AddObject(mod, "Pending", (PyObject *)&PendingType) < 0) {
        Py_DECREF(&PendingType);
        goto fail;
    }
    /* FIELDS: the FileEntry fields this walker sets, in order; layers/native.py uses the compiled
     * walker only when FileEntry has exactly these (a new field means this file must learn it) */
    PyObject *names = PyTuple_New(NFIELDS);
    if (names == NULL) goto fail;
    for (int i = 0; i < NFIELDS; i++) {
        PyObject *name = PyUnicode_FromString(FIELDS[i]);
        if (name == NULL) {
            Py_DECREF(names);
            goto fail;
        }
        PyTuple_SET_ITEM(names, i, name);
    }
    if (PyModule_AddObject(mod, "FIELDS", names) < 0) {
        Py_DECREF(names);
        goto fail;
    }
    /* for the tests: files from this size on are hashed on the worker, this many at once */
    if (PyModule_AddIntConstant(mod, "WORKER_BYTES", WORKER_BYTES) < 0
        || PyModule_AddIntConstant(mod, "WORKER_JOBS", WORKER_JOBS) < 0)
        goto fail;
    return mod;
fail:
    Py_DECREF(mod);
    return NULL;
}
