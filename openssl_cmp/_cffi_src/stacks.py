"""Typed stacks of the CMP and CRMF types (the ``sk_<TYPE>_*`` macros that ``cmp.h`` and
``crmf.h`` define for each ``STACK_OF``) and the generic ``OPENSSL_sk_*`` functions they
expand to, so that C code using them ports line by line.

cffi cannot spell ``STACK_OF(T)``: ``OCMP_STACK_OF_<T>`` names the same C type.  The
declarations are generated from one template (the 25 operations of OpenSSL 3.0's
``SKM_DEFINE_STACK_OF_INTERNAL``); names another area declares already are left out.
"""

# Element types of cmp.h / crmf.h (3.0) with the operations other areas declare already.
_ELEMENTS = {
    "OSSL_CMP_CERTSTATUS": (),
    "OSSL_CMP_ITAV": ("new_null", "num", "value", "push", "free", "pop_free"),  # cmp_msg
    "OSSL_CMP_PKISI": (),
    "OSSL_CMP_CERTREPMESSAGE": (),
    "OSSL_CMP_CERTRESPONSE": (),
    "OSSL_CRMF_MSG": (),
    "OSSL_CRMF_CERTID": (),
}

# Stacks whose C typedef another area makes already.
_TYPEDEF_ELSEWHERE = ("OSSL_CMP_ITAV",)

# Generic functions declared by another area (crl.py).
_GENERIC_ELSEWHERE = ("OPENSSL_sk_new_null", "OPENSSL_sk_push", "OPENSSL_sk_free",
                      "OPENSSL_sk_pop_free")


def stack_functions(t, skip=()):
    """cdef text of the ``sk_<t>_*`` macros (as functions) for the element type ``t``."""
    s = "OCMP_STACK_OF_" + t
    cmp = "int (*)(const %s * const *, const %s * const *)" % (t, t)
    ops = {
        "num": "int sk_%(t)s_num(const %(s)s *);",
        "value": "%(t)s *sk_%(t)s_value(const %(s)s *, int);",
        "new": "%(s)s *sk_%(t)s_new(%(cmp)s);",
        "new_null": "%(s)s *sk_%(t)s_new_null(void);",
        "new_reserve": "%(s)s *sk_%(t)s_new_reserve(%(cmp)s, int);",
        "reserve": "int sk_%(t)s_reserve(%(s)s *, int);",
        "free": "void sk_%(t)s_free(%(s)s *);",
        "zero": "void sk_%(t)s_zero(%(s)s *);",
        "delete": "%(t)s *sk_%(t)s_delete(%(s)s *, int);",
        "delete_ptr": "%(t)s *sk_%(t)s_delete_ptr(%(s)s *, %(t)s *);",
        "push": "int sk_%(t)s_push(%(s)s *, %(t)s *);",
        "unshift": "int sk_%(t)s_unshift(%(s)s *, %(t)s *);",
        "pop": "%(t)s *sk_%(t)s_pop(%(s)s *);",
        "shift": "%(t)s *sk_%(t)s_shift(%(s)s *);",
        "pop_free": "void sk_%(t)s_pop_free(%(s)s *, void (*)(%(t)s *));",
        "insert": "int sk_%(t)s_insert(%(s)s *, %(t)s *, int);",
        "set": "%(t)s *sk_%(t)s_set(%(s)s *, int, %(t)s *);",
        "find": "int sk_%(t)s_find(%(s)s *, %(t)s *);",
        "find_ex": "int sk_%(t)s_find_ex(%(s)s *, %(t)s *);",
        "find_all": "int sk_%(t)s_find_all(%(s)s *, %(t)s *, int *);",
        "sort": "void sk_%(t)s_sort(%(s)s *);",
        "is_sorted": "int sk_%(t)s_is_sorted(const %(s)s *);",
        "dup": "%(s)s *sk_%(t)s_dup(const %(s)s *);",
        "deep_copy": "%(s)s *sk_%(t)s_deep_copy(const %(s)s *, %(t)s *(*)(const %(t)s *), "
                     "void (*)(%(t)s *));",
        "set_cmp_func": "sk_%(t)s_compfunc sk_%(t)s_set_cmp_func(%(s)s *, sk_%(t)s_compfunc);",
    }
    return "".join(text % {"t": t, "s": s, "cmp": cmp} + "\n"
                   for op, text in ops.items() if op not in skip)


def stack_types(t, typedef=True):
    """cdef text of the stack type of ``t`` and its callback typedefs."""
    text = "typedef struct stack_st_%s OCMP_STACK_OF_%s;\n" % (t, t) if typedef else ""
    return text + (
        "typedef int (*sk_%(t)s_compfunc)(const %(t)s * const *, const %(t)s * const *);\n"
        "typedef void (*sk_%(t)s_freefunc)(%(t)s *);\n"
        "typedef %(t)s * (*sk_%(t)s_copyfunc)(const %(t)s *);\n" % {"t": t})


INCLUDES = "".join("typedef STACK_OF(%s) OCMP_STACK_OF_%s;\n" % (t, t)
                   for t in _ELEMENTS if t not in _TYPEDEF_ELSEWHERE)

TYPES = """
typedef ... OSSL_CMP_CERTREPMESSAGE;
typedef ... OSSL_CMP_CERTRESPONSE;
typedef int (*OPENSSL_sk_compfunc)(const void *, const void *);
typedef void (*OPENSSL_sk_freefunc)(void *);
typedef void *(*OPENSSL_sk_copyfunc)(const void *);
""" + "".join(stack_types(t, t not in _TYPEDEF_ELSEWHERE) for t in _ELEMENTS)

_GENERIC = """
int OPENSSL_sk_num(const OPENSSL_STACK *);
void *OPENSSL_sk_value(const OPENSSL_STACK *, int);
void *OPENSSL_sk_set(OPENSSL_STACK *, int, const void *);
OPENSSL_STACK *OPENSSL_sk_new(OPENSSL_sk_compfunc);
OPENSSL_STACK *OPENSSL_sk_new_null(void);
OPENSSL_STACK *OPENSSL_sk_new_reserve(OPENSSL_sk_compfunc, int);
int OPENSSL_sk_reserve(OPENSSL_STACK *, int);
void OPENSSL_sk_free(OPENSSL_STACK *);
void OPENSSL_sk_pop_free(OPENSSL_STACK *, void (*)(void *));
OPENSSL_STACK *OPENSSL_sk_deep_copy(const OPENSSL_STACK *, OPENSSL_sk_copyfunc,
                                    OPENSSL_sk_freefunc);
int OPENSSL_sk_insert(OPENSSL_STACK *, const void *, int);
void *OPENSSL_sk_delete(OPENSSL_STACK *, int);
void *OPENSSL_sk_delete_ptr(OPENSSL_STACK *, const void *);
int OPENSSL_sk_find(OPENSSL_STACK *, const void *);
int OPENSSL_sk_find_ex(OPENSSL_STACK *, const void *);
int OPENSSL_sk_find_all(OPENSSL_STACK *, const void *, int *);
int OPENSSL_sk_push(OPENSSL_STACK *, const void *);
int OPENSSL_sk_unshift(OPENSSL_STACK *, const void *);
void *OPENSSL_sk_shift(OPENSSL_STACK *);
void *OPENSSL_sk_pop(OPENSSL_STACK *);
void OPENSSL_sk_zero(OPENSSL_STACK *);
OPENSSL_sk_compfunc OPENSSL_sk_set_cmp_func(OPENSSL_STACK *, OPENSSL_sk_compfunc);
OPENSSL_STACK *OPENSSL_sk_dup(const OPENSSL_STACK *);
void OPENSSL_sk_sort(OPENSSL_STACK *);
int OPENSSL_sk_is_sorted(const OPENSSL_STACK *);
"""

FUNCTIONS = "".join(line + "\n" for line in _GENERIC.strip().splitlines()
                    if not any(name + "(" in line for name in _GENERIC_ELSEWHERE)) \
    + "".join(stack_functions(t, skip) for t, skip in _ELEMENTS.items())

CUSTOMIZATIONS = ""
