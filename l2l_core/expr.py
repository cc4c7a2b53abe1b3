"""A safe expression language for user-typed inner losses f(x).

The text is parsed with :func:`ast.parse` (parsing only, nothing is run) and
the tree is walked against a whitelist:

- numbers (int or float literals), the variable ``x`` and the constants
  ``pi`` and ``e``;
- the binary operators ``+ - * / **`` and unary ``+``/``-``, parentheses;
- calls of one-argument functions from :data:`FUNCTIONS` (jax.numpy), with
  exactly one positional argument.

Everything else (attributes, subscripts, other names, keywords, strings,
comprehensions, lambdas, ...) is refused with a ValueError that says what was
found and at which column. The accepted tree is compiled into a closure over
jax.numpy, so the result is jit-, grad- and vmap-able like a preset.

Caps keep the work per formula tiny: at most :data:`MAX_LENGTH` characters,
:data:`MAX_DEPTH` levels of nesting, :data:`MAX_NODES` tree nodes, and every
exponent that does not depend on x must lie within +-:data:`MAX_EXPONENT`
(so ``9**9**9`` is refused at once instead of being worked out).
"""

from __future__ import annotations

import ast
import math
import warnings
from functools import lru_cache
from typing import Callable

import jax
import jax.numpy as jnp

from l2l_core.tasks.problems import InnerProblem

MAX_LENGTH = 200
MAX_DEPTH = 24
MAX_NODES = 120
MAX_EXPONENT = 100.0
#: x range of the curve drawn for a typed formula.
FORMULA_X_RANGE = (-5.0, 5.0)
CACHE_SIZE = 128

FUNCTIONS: dict[str, Callable] = {
    "sin": jnp.sin,
    "cos": jnp.cos,
    "tan": jnp.tan,
    "exp": jnp.exp,
    "log": jnp.log,
    "log2": jnp.log2,
    "log10": jnp.log10,
    "log1p": jnp.log1p,
    "expm1": jnp.expm1,
    "sqrt": jnp.sqrt,
    "abs": jnp.abs,
    "tanh": jnp.tanh,
    "sinh": jnp.sinh,
    "cosh": jnp.cosh,
    "arctan": jnp.arctan,
    "atan": jnp.arctan,
    "arcsin": jnp.arcsin,
    "asin": jnp.arcsin,
    "arccos": jnp.arccos,
    "acos": jnp.arccos,
    "arcsinh": jnp.arcsinh,
    "asinh": jnp.arcsinh,
    "square": jnp.square,
    "sign": jnp.sign,
    "sigmoid": jax.nn.sigmoid,
    "softplus": jax.nn.softplus,
}

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

# Plain-float twins of FUNCTIONS, used only to bound exponents that do not
# depend on x; a missing entry simply means "not a constant we can bound".
_FLOAT_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp,
    "log": math.log, "log2": math.log2, "log10": math.log10, "log1p": math.log1p,
    "expm1": math.expm1, "sqrt": math.sqrt, "abs": abs, "tanh": math.tanh,
    "sinh": math.sinh, "cosh": math.cosh, "arctan": math.atan, "atan": math.atan,
    "arcsin": math.asin, "asin": math.asin, "arccos": math.acos, "acos": math.acos,
    "arcsinh": math.asinh, "asinh": math.asinh, "square": lambda v: v * v,
    "sign": lambda v: float((v > 0) - (v < 0)),
    "sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)),
    "softplus": lambda v: math.log1p(math.exp(-abs(v))) + max(v, 0.0),
}

_BINOPS = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Pow: ("**", lambda a, b: a**b),
}
_UNARY = {ast.UAdd: lambda a: a, ast.USub: lambda a: -a}
_OPERATOR_NAMES = {
    ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<",
    ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^",
    ast.Not: "not", ast.Invert: "~",
}
_NODE_NAMES = {
    ast.Attribute: "attribute access ('.')",
    ast.Subscript: "indexing ('[...]')",
    ast.Lambda: "a lambda",
    ast.NamedExpr: "an assignment (':=')",
    ast.IfExp: "a conditional ('if ... else')",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.List: "a list",
    ast.Tuple: "a tuple (',')",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Starred: "'*' unpacking",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
    ast.Slice: "a slice",
}


def _fail(message: str, node: ast.AST | None = None) -> ValueError:
    col = getattr(node, "col_offset", None)
    where = f" (at column {col + 1})" if col is not None else ""
    return ValueError(f"{message}{where}")


def _check_text(text, variables: tuple[str, ...] = ("x",)) -> str:
    if not isinstance(text, str):
        raise ValueError(f"a formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"formula is {len(text)} characters long; the limit is {MAX_LENGTH}")
    for i, ch in enumerate(text):
        if ch == " ":
            continue
        if ord(ch) < 32 or ord(ch) == 127 or not ch.isascii() or not ch.isprintable():
            raise ValueError(
                f"character {ch!r} at column {i + 1} is not allowed; use plain ASCII, "
                "e.g. log(x**2 + 1 + sin(3*x)) + 1.5"
            )
    if not text.strip():
        if len(variables) > 1:
            raise ValueError(f"the formula is empty; type an expression in {' and '.join(variables)}, "
                             "e.g. x**2 + 3*y**2")
        raise ValueError(f"the formula is empty; type an expression in {variables[0]}, e.g. 0.5*x**2")
    return text.strip()


def _parse(text: str) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "1x": the error says it
            return ast.parse(text, mode="eval")
    except SyntaxError as e:
        col = f" at column {e.offset}" if e.offset else ""
        hint = "; use ** for powers" if "^" in text else ""
        raise ValueError(f"not a valid expression{col}: {e.msg}{hint}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError):
        raise ValueError("the formula is nested too deeply or too large to parse") from None


class _Compiler:
    """Validates a parsed tree and turns it into jax.numpy closures."""

    def __init__(self, variables: tuple[str, ...] = ("x",)):
        self.nodes = 0
        self.variables = variables
        self.used: set[str] = set()

    def _no_underscore(self, name: str, node: ast.AST) -> None:
        """No allowed name holds an underscore: say so plainly (``__import__`` is not a
        misspelt function, and no Python name, attribute or builtin is reachable)."""
        if "_" in name:
            raise _fail(
                f"names with underscores, such as {name!r}, are not allowed: a formula uses only "
                f"{' and '.join(self.variables)}, the constants {', '.join(CONSTANTS)} and the functions "
                f"{', '.join(sorted(FUNCTIONS))}", node
            )

    def build(self, node: ast.AST, depth: int = 0):
        """Returns (closure env -> value, constant float or None when it depends on a
        variable); ``env`` is the tuple of the variables' arrays, in order."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _fail(f"the formula has more than {MAX_NODES} parts; simplify it", node)
        if depth > MAX_DEPTH:
            raise _fail(f"the formula is nested more than {MAX_DEPTH} levels deep", node)

        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise _fail(f"{type(v).__name__} literal {v!r} is not allowed; only numbers", node)
            try:
                v = float(v)
            except OverflowError:
                v = math.inf
            if not math.isfinite(v):
                raise _fail("number too large (beyond the float range)", node)
            return (lambda env, v=v: jnp.asarray(v, env[0].dtype)), v

        if isinstance(node, ast.Name):
            self._no_underscore(node.id, node)
            if node.id in self.variables:
                i = self.variables.index(node.id)
                self.used.add(node.id)
                return (lambda env, i=i: env[i]), None
            if node.id in CONSTANTS:
                v = CONSTANTS[node.id]
                return (lambda env, v=v: jnp.asarray(v, env[0].dtype)), v
            if node.id in FUNCTIONS:
                raise _fail(f"{node.id} is a function; call it like {node.id}(x)", node)
            names = " and ".join(self.variables)
            raise _fail(
                f"unknown name {node.id!r}; the variable{'s are' if len(self.variables) > 1 else ' is'} "
                f"{names}, constants are {', '.join(CONSTANTS)}", node
            )

        if isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                raise _fail(f"operator {_OPERATOR_NAMES.get(type(node.op), '?')!r} is not allowed", node)
            op = _UNARY[type(node.op)]
            f, c = self.build(node.operand, depth + 1)
            return (lambda env: op(f(env))), (None if c is None else op(c))

        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                sym = _OPERATOR_NAMES.get(type(node.op), "?")
                hint = " (for powers write **, e.g. x**2)" if sym == "^" else ""
                where = ast.Constant(0, col_offset=node.left.end_col_offset)
                raise _fail(f"operator {sym!r} is not allowed; use + - * / **{hint}", where)
            sym, op = _BINOPS[type(node.op)]
            fl, cl = self.build(node.left, depth + 1)
            fr, cr = self.build(node.right, depth + 1)
            if sym == "**" and cr is not None:
                if not math.isfinite(cr):
                    raise _fail("the exponent is not a finite number", node.right)
                if abs(cr) > MAX_EXPONENT:
                    raise _fail(
                        f"exponent {cr:.6g} is too large; powers are limited to "
                        f"|exponent| <= {MAX_EXPONENT:g}", node.right
                    )
                if cr == int(cr):
                    # An integral exponent becomes integer_pow: exact for negative
                    # bases and with a clean gradient at 0.
                    k = int(cr)
                    return (lambda env: fl(env) ** k), _fold(op, cl, cr)
            return (lambda env: op(fl(env), fr(env))), _fold(op, cl, cr)

        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise _fail("only calls of plain function names are allowed, e.g. sin(x)", node)
            name = node.func.id
            self._no_underscore(name, node)
            if name not in FUNCTIONS:
                raise _fail(
                    f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}", node
                )
            if node.keywords:
                raise _fail(f"{name}() takes no keyword arguments", node)
            if len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise _fail(f"{name}() takes exactly one argument, got {len(node.args)}", node)
            fn = FUNCTIONS[name]
            f, c = self.build(node.args[0], depth + 1)
            return (lambda env: fn(f(env))), _fold(_FLOAT_FUNCTIONS[name], c)

        what = _NODE_NAMES.get(type(node))
        if what is None:
            what = type(node).__name__
        raise _fail(f"{what} is not allowed in a formula", node)


def _fold(op, *consts):
    """Plain-float value of a constant subtree, or None (depends on x or fails)."""
    if any(c is None for c in consts):
        return None
    try:
        v = float(op(*consts))
    except (OverflowError, ZeroDivisionError, ValueError, TypeError):
        return math.nan
    return v


def _validate(text, variables: tuple[str, ...] = ("x",)) -> tuple[str, Callable]:
    text = _check_text(text, variables)
    tree = _parse(text)
    body, _ = _Compiler(variables).build(tree.body)
    return ast.unparse(tree), body


def formula_variables(text: str) -> tuple[str, ...]:
    """The variables among (x, y) a valid formula uses, in order; ValueError if invalid."""
    c = _Compiler(("x", "y"))
    c.build(_parse(_check_text(text, ("x", "y"))).body)
    return tuple(v for v in ("x", "y") if v in c.used)


def normalize(text: str, variables: tuple[str, ...] = ("x",)) -> str:
    """Canonical spelling of a valid formula in ``variables`` (spacing and
    redundant parentheses removed); ValueError if it is not valid."""
    return _validate(text, variables)[0]


@lru_cache(maxsize=CACHE_SIZE)
def _compiled(normalized: str) -> Callable:
    _, body = _validate(normalized)

    def f(x):
        x = jnp.asarray(x)
        x = x.astype(jnp.result_type(x.dtype, jnp.float32))
        y = jnp.asarray(body((x,)), x.dtype)
        return jnp.broadcast_to(y, x.shape)

    f.__name__ = "formula"
    f.__qualname__ = f"formula[{normalized}]"
    return f


def compile_expression(text: str) -> Callable:
    """Compiles a formula in x into an elementwise, jax-traceable f(x).

    Args:
      text: e.g. ``"log(x**2 + 1 + sin(3*x)) + 1.5"``.

    Returns:
      f(x) over jax.numpy, with the dtype and shape of x (float32 for ints).
      The same formula (up to spacing) gives the same function object, so
      jit caches keyed on it are reused.

    Raises:
      ValueError: the text is outside the grammar; the message says what and
        where (column).
    """
    return _compiled(normalize(text))


@lru_cache(maxsize=CACHE_SIZE)
def _problem(normalized: str) -> InnerProblem:
    f = _compiled(normalized)
    vg = jnp.vectorize(jax.value_and_grad(f))
    return InnerProblem(
        name=normalized,
        title=f"f(x) = {normalized}",
        description=f"A typed formula: f(x) = {normalized}.",
        loss=f,
        value_and_grad=vg,
        x_range=FORMULA_X_RANGE,
        formula=normalized,
    )


def problem_from_formula(text: str) -> InnerProblem:
    """An :class:`InnerProblem` for a typed formula, cached by its normal form.

    ``value_and_grad`` is ``jax.value_and_grad`` of the formula, elementwise
    over any shape (and under vmap). Raises ValueError as compile_expression.
    """
    return _problem(normalize(text))


@lru_cache(maxsize=CACHE_SIZE)
def _compiled_xy(normalized: str) -> Callable:
    _, body = _validate(normalized, ("x", "y"))

    def f(x, y):
        x, y = jnp.asarray(x), jnp.asarray(y)
        dtype = jnp.result_type(x.dtype, y.dtype, jnp.float32)
        x, y = x.astype(dtype), y.astype(dtype)
        out = jnp.asarray(body((x, y)), dtype)
        return jnp.broadcast_to(out, jnp.broadcast_shapes(x.shape, y.shape))

    f.__name__ = "formula_xy"
    f.__qualname__ = f"formula_xy[{normalized}]"
    return f


def compile_expression_xy(text: str) -> Callable:
    """Compiles a formula in x and y (the same grammar) into an elementwise,
    jax-traceable f(x, y); the same formula gives the same function object.

    Raises:
      ValueError: the text is outside the grammar (the message says what and where).
    """
    return _compiled_xy(_validate(text, ("x", "y"))[0])
