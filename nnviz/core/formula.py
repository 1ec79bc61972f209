"""Activation formulas typed by the user, e.g. ``"x * sigmoid(x)"``, parsed safely.

The text goes through :func:`ast.parse` and a whitelist: numbers, the variable
``x``, the constants ``pi`` and ``e``, ``+ - * / **``, unary ``-``,
parentheses and the functions exp log sqrt abs tanh sigmoid sin cos maximum
minimum where (the condition of ``where`` may compare with ``< <= > >=``).
Everything else - names, attributes, other calls, keywords, subscripts,
comprehensions, lambdas - is refused with a SpecError giving the column and
the reason.  The checked tree is turned into a tree of ``autograd.numpy``
calls; nothing is ever handed to ``eval``, ``exec`` or ``compile``, and every
number becomes a float64, so no Python big-integer arithmetic (``9**9**9``)
can run.  The derivative comes from autograd, element by element.
"""

from __future__ import annotations

import ast
import functools
import math
from typing import Callable

import autograd
import autograd.numpy as anp
import numpy as np

from .errors import SpecError

__all__ = ["Formula", "compile_formula", "MAX_LENGTH", "MAX_EXPONENT", "FUNCTIONS", "CONSTANTS"]

MAX_LENGTH = 200          # characters; bounds the parser's work and the tree's depth
MAX_EXPONENT = 64         # |a constant exponent|: x**2 yes, 9**9**9 no
MAX_CONSTANT = 1e12       # |a number literal|

Fn = Callable[[np.ndarray], np.ndarray]


def _sigmoid(z):
    return 0.5 * (anp.tanh(0.5 * z) + 1.0)   # never overflows


#: name -> (autograd.numpy function, number of arguments)
FUNCTIONS: dict[str, tuple[Callable, int]] = {
    "exp": (anp.exp, 1), "log": (anp.log, 1), "sqrt": (anp.sqrt, 1), "abs": (anp.abs, 1),
    "tanh": (anp.tanh, 1), "sigmoid": (_sigmoid, 1), "sin": (anp.sin, 1), "cos": (anp.cos, 1),
    "maximum": (anp.maximum, 2), "minimum": (anp.minimum, 2), "where": (anp.where, 3),
}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY = {ast.Add: anp.add, ast.Sub: anp.subtract, ast.Mult: anp.multiply,
           ast.Div: anp.true_divide, ast.Pow: anp.power}
_COMPARE = {ast.Lt: anp.less, ast.LtE: anp.less_equal, ast.Gt: anp.greater,
            ast.GtE: anp.greater_equal}
_ALLOWED = ("numbers, x, pi, e, + - * / **, unary -, parentheses and "
            + ", ".join(FUNCTIONS))


class _Refused(Exception):
    """A construct outside the whitelist, at ``col`` (0-based) of the formula."""

    def __init__(self, col: int, reason: str):
        super().__init__(reason)
        self.col, self.reason = col, reason


class Formula:
    """A checked formula: ``f(z)`` and its element-wise derivative ``df(z)``."""

    def __init__(self, text: str, fn: Fn):
        self.text = text
        self._fn = fn
        self._grad = autograd.elementwise_grad(fn)

    def f(self, z: np.ndarray) -> np.ndarray:
        """f applied element-wise, same shape and dtype as ``z``."""
        return np.asarray(self._fn(z), dtype=z.dtype)

    def df(self, z: np.ndarray) -> np.ndarray:
        """df/dz element-wise (autograd), same shape and dtype as ``z``."""
        return np.asarray(self._grad(z), dtype=z.dtype)

    def autograd_fn(self) -> Fn:
        """The ``autograd.numpy`` function itself, for references that differentiate through it."""
        return self._fn

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"

    def __reduce__(self):
        """Pickled as its text (the compiled closures cannot be): networks with
        formula activations cross process boundaries."""
        return compile_formula, (self.text,)


def compile_formula(text, field: str = "formula") -> Formula:
    """The Formula for ``text``; SpecError naming ``field`` with the column and reason."""
    if not isinstance(text, str):
        raise SpecError(field, f"must be text, got {type(text).__name__}",
                        'write it in double quotes, e.g. "x * sigmoid(x)"')
    text = text.strip()
    if not text:
        raise SpecError(field, "is empty", 'write a formula in x, e.g. "x * sigmoid(x)"')
    if len(text) > MAX_LENGTH:
        raise SpecError(field, f"is {len(text)} characters long, more than {MAX_LENGTH}",
                        "write a shorter formula")
    return _compile(text, field)


@functools.lru_cache(maxsize=256)
def _compile(text: str, field: str) -> Formula:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        col = (exc.offset or 1)
        raise SpecError(field, f"syntax error at column {col}: {exc.msg}",
                        "check the brackets and operators") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SpecError(field, f"cannot be read: {exc}", "write a simpler formula") from None
    try:
        fn, uses_x = _build(tree.body)
    except _Refused as exc:
        raise SpecError(field, f"column {exc.col + 1}: {exc.reason}",
                        f"a formula may use only {_ALLOWED}") from None
    if not uses_x:
        raise SpecError(field, "does not use x", 'an activation is a function of x, e.g. "tanh(x)"')
    return Formula(text, fn)


def _build(node: ast.AST) -> tuple[Fn, bool]:
    """(function of x, whether it depends on x) for a whitelisted node; _Refused otherwise."""
    col = getattr(node, "col_offset", 0)
    if isinstance(node, ast.Constant):
        return _number(node), False
    if isinstance(node, ast.Name):
        if node.id == "x":
            return (lambda x: x), True
        if node.id in CONSTANTS:
            value = np.float64(CONSTANTS[node.id])
            return (lambda x: value), False
        hint = " (a function needs brackets)" if node.id in FUNCTIONS else ""
        raise _Refused(col, f"unknown name {node.id!r}{hint}")
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub):
            raise _Refused(col, f"the operator {_op_name(node.op)} is not allowed")
        inner, uses_x = _build(node.operand)
        return (lambda x: anp.negative(inner(x))), uses_x
    if isinstance(node, ast.BinOp):
        op = _BINARY.get(type(node.op))
        if op is None:
            raise _Refused(col, f"the operator {_op_name(node.op)} is not allowed")
        if isinstance(node.op, ast.Pow):
            _check_exponent(node.right)
        left, lx = _build(node.left)
        right, rx = _build(node.right)
        return (lambda x: op(left(x), right(x))), lx or rx
    if isinstance(node, ast.Call):
        return _call(node)
    raise _Refused(col, f"{_describe(node)} is not allowed")


def _number(node: ast.Constant) -> Fn:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Refused(node.col_offset, f"the constant {value!r} is not a real number")
    if not (abs(value) <= MAX_CONSTANT):    # also catches inf and nan
        raise _Refused(node.col_offset, f"the number {_short(value)} is too large "
                                        f"(at most {MAX_CONSTANT:g})")
    number = np.float64(value)
    return lambda x: number


def _check_exponent(node: ast.AST) -> None:
    """A constant exponent must be a plain number of at most MAX_EXPONENT in size."""
    literal = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
        else node
    if isinstance(literal, ast.Constant):
        value = literal.value
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and not abs(value) <= MAX_EXPONENT:
            raise _Refused(node.col_offset, f"the exponent {_short(value)} is too large "
                                            f"(at most {MAX_EXPONENT})")
        return
    if isinstance(literal, ast.Name) and literal.id in CONSTANTS:
        return
    if not any(isinstance(n, ast.Name) and n.id == "x" for n in ast.walk(node)):
        raise _Refused(node.col_offset, "an exponent must be a plain number "
                                        f"(at most {MAX_EXPONENT}) or contain x")


def _call(node: ast.Call) -> tuple[Fn, bool]:
    col = node.col_offset
    if not isinstance(node.func, ast.Name):
        raise _Refused(col, f"only the functions {', '.join(FUNCTIONS)} can be called, "
                            f"not {_describe(node.func)}")
    name = node.func.id
    if name not in FUNCTIONS:
        raise _Refused(col, f"unknown function {name!r}")
    if node.keywords:
        raise _Refused(col, f"{name}() takes no keyword arguments")
    fn, arity = FUNCTIONS[name]
    if len(node.args) != arity:
        raise _Refused(col, f"{name}() takes {arity} argument{'s' * (arity > 1)}, "
                            f"got {len(node.args)}")
    parts, uses_x = [], False
    for i, arg in enumerate(node.args):
        part, ux = _condition(arg) if name == "where" and i == 0 else _build(arg)
        parts.append(part)
        uses_x = uses_x or ux
    if arity == 1:
        (a,) = parts
        return (lambda x: fn(a(x))), uses_x
    if arity == 2:
        a, b = parts
        return (lambda x: fn(a(x), b(x))), uses_x
    c, a, b = parts
    # where() of two constants would lose the shape of x: broadcast both branches
    return (lambda x: fn(c(x), a(x) + 0.0 * x, b(x) + 0.0 * x)), uses_x


def _condition(node: ast.AST) -> tuple[Fn, bool]:
    """The first argument of where(): one comparison ``a < b`` (or <=, >, >=)."""
    if not isinstance(node, ast.Compare):
        raise _Refused(getattr(node, "col_offset", 0),
                       "the condition of where() must be a comparison such as x > 0")
    if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
        raise _Refused(node.col_offset, "the condition of where() compares two values "
                                        "with one of < <= > >=")
    op = _COMPARE[type(node.ops[0])]
    left, lx = _build(node.left)
    right, rx = _build(node.comparators[0])
    return (lambda x: op(left(x), right(x))), lx or rx


def _op_name(op: ast.AST) -> str:
    symbols = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&",
               ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
               ast.UAdd: "unary +", ast.Not: "not", ast.Invert: "~"}
    return symbols.get(type(op), type(op).__name__)


def _describe(node: ast.AST) -> str:
    names = {ast.Attribute: "attribute access (.)", ast.Subscript: "indexing ([ ])",
             ast.Lambda: "lambda", ast.ListComp: "a comprehension",
             ast.GeneratorExp: "a comprehension", ast.SetComp: "a comprehension",
             ast.DictComp: "a comprehension", ast.Compare: "a comparison outside where()",
             ast.BoolOp: "and/or", ast.IfExp: "if/else (use where())",
             ast.NamedExpr: "assignment (:=)", ast.Starred: "unpacking (*)",
             ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Set: "a set",
             ast.JoinedStr: "a string", ast.Await: "await", ast.Yield: "yield"}
    return names.get(type(node), type(node).__name__)


def _short(value) -> str:
    try:
        text = repr(value)
    except ValueError:
        return "(too long to show)"
    return text if len(text) <= 20 else text[:17] + "..."
